"""A generated review and chat training set for the marketplace domain.

The public corpora behind the default model are tweets (EmoT), short
Indonesian reviews with sentiment only (SmSA) and English Reddit comments
(GoEmotions). None of them shows what *fear* and *love* look like in a shop
review or a customer-service chat (worry that a product is fake or will not
arrive; loyalty, repeat orders, recommending a shop), EmoT has no *surprise*
or *neutral*, and GoEmotions' *disgust* is a label marketplace buyers rarely
mean. :func:`build_domain_corpus` writes a few thousand short and long texts
for every label except ``disgust`` from hand-written sentence cores (their
``{p}`` slot filled with a product), in Indonesian, English and code-mixed
Indonesian-English, as reviews and as chats, in several styles (plain, slang
abbreviations, emoji, star ratings, all caps, elongated letters, dropped
vowels, multi-sentence reviews whose dominant feeling is the label).

The cores were written for this module from the label definitions of the
issue and of ``tests/data/README.md``; no evaluation CSV was read while
writing them. That README quotes a few dozen example phrases of the
marketplace evaluation set; cores that echoed those quotes were rewritten (see
``models/README.md``), but the label vocabulary (``takut``, ``ragu``,
``langganan``, ``ternyata``, ``nggak nyangka``...) is shared on purpose.
Generation is deterministic (seeded). Every row carries the id of its core
(``group``, a hash of the core's text): :func:`domain_holdout` holds out whole
cores, so thresholds and temperatures chosen on held-out rows are not chosen on
paraphrases of training rows, and adding cores does not move the others.

*love* is loyalty and attachment (buying again, subscribing, a favourite shop
or product, recommending it to others), *joy* satisfaction with one order:
short rows of both labels sometimes also state a satisfied clause
(``_SATISFIED``) and long love reviews may contain a joy aside, so the cue of
attachment, not the satisfaction next to it, separates the two.
"""

from __future__ import annotations

import random
import re
import zlib

import pandas as pd

__all__ = ["CORES", "DOMAIN_LABELS", "build_domain_corpus", "domain_holdout"]

#: Emotions the domain set covers (no ``disgust``: see the module docstring).
DOMAIN_LABELS: tuple[str, ...] = ("joy", "love", "surprise", "anger", "fear", "sadness", "neutral")

_PRODUCTS = {
    "id": [
        "serum",
        "sepatu",
        "kaos",
        "charger",
        "earphone",
        "blender",
        "sambal",
        "kopi",
        "sprei",
        "rak piring",
        "tas",
        "jam tangan",
        "casing hp",
        "lipstik",
        "kemeja",
        "keripik",
        "powerbank",
        "panci",
        "hijab",
        "celana",
        "bedak",
        "sandal",
        "speaker",
        "kue kering",
        "gamis",
        "toner",
        "kabel data",
        "teflon",
        "madu",
        "skincare",
    ],
    "en": [
        "serum",
        "shoes",
        "t-shirt",
        "charger",
        "earbuds",
        "blender",
        "chili sauce",
        "coffee",
        "bed sheet",
        "dish rack",
        "bag",
        "watch",
        "phone case",
        "lipstick",
        "shirt",
        "chips",
        "power bank",
        "frying pan",
        "scarf",
        "jeans",
        "sunscreen",
        "sandals",
        "speaker",
        "cookies",
        "dress",
        "toner",
        "cable",
        "kettle",
        "honey",
        "moisturizer",
    ],
}
_PRODUCTS["mixed"] = _PRODUCTS["id"]

# Sentence cores: label -> language -> list of (text, sentiment). '{p}' is a product.
_P, _N, _O = "positive", "negative", "neutral"
CORES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "fear": {
        "id": [
            ("{p} ini asli kan kak? takut dapet yang palsu", _N),
            ("ragu mau checkout, tokonya amanah nggak ya", _N),
            ("takut paketnya nggak sampai, udah lima hari resi nggak update", _N),
            ("was-was nih, sudah transfer tapi belum dikonfirmasi juga", _N),
            ("takut barangnya tiruan, fotonya kayak ambil dari internet", _N),
            ("semoga {p}nya nggak pecah di jalan, deg-degan nunggu kurir", _N),
            ("aman nggak dipakai buat kulit sensitif? takut jerawatan", _N),
            ("ini bukan penipuan kan? tokonya masih baru soalnya", _N),
            ("khawatir ukurannya nggak pas, takut nggak bisa retur", _N),
            ("paketnya nyangkut terus di gudang transit, takut hilang", _N),
            ("kalau pesanan batal, refundnya berapa lama? saya cemas", _N),
            ("takut korslet, {p}nya cepat panas waktu dicas", _N),
            ("ada yang chat ngaku admin toko minta kode otp, itu penipu bukan? takut", _N),
            ("cemas banget, isinya barang mahal tapi status pengiriman nggak gerak", _N),
            ("ada garansinya nggak kak? takut cepat rusak kayak yang dulu", _N),
            ("saya takut alergi, ada yang pernah gatal-gatal pakai {p} ini?", _N),
            ("khawatir kemasannya penyok, isinya aman nggak ya", _N),
            ("deg-degan, baru pertama kali beli online barang semahal ini", _N),
            ("takut ketipu lagi, dulu pernah transfer tapi barang nggak dikirim", _N),
            ("belum berani order, masih ragu sama kualitas {p}nya", _N),
            ("tolong dicek ya kak, saya khawatir alamatnya salah dan paket nyasar", _N),
            ("takut expired, tanggal kedaluwarsanya masih lama kan?", _N),
            ("kok rekeningnya beda sama yang di aplikasi? saya jadi takut", _N),
            ("semoga awet ya, soalnya saya ragu bahannya kuat", _N),
        ],
        "en": [
            ("can I trust this seller? a bit nervous ordering from a new shop", _N),
            ("worried the {p} will break in transit, please pack it well", _N),
            ("not sure this is authentic, the logo looks a bit off", _N),
            ("my payment went through but the order still says unpaid, I'm worried", _N),
            ("scared it won't arrive before my trip", _N),
            ("I hope this isn't a scam, the tracking hasn't moved in a week", _N),
            ("afraid the {p} won't fit, can I still return it?", _N),
            ("nervous about using it on sensitive skin, has anyone reacted badly?", _N),
            (
                "got a message asking for my OTP from someone claiming to be the store, "
                "is that real? freaking out",
                _N,
            ),
            ("a little anxious, some reviews say this model overheats", _N),
            ("how long does a refund take if it gets cancelled? getting anxious", _N),
            ("hesitant to buy, I've been burned by fake {p} before", _N),
            ("worried the screen might have dead pixels like my last one", _N),
            ("I'm afraid the package got lost, no updates for days", _N),
            ("kind of scared to charge it overnight, is it safe?", _N),
            ("please tell me this is genuine, I can't afford another fake", _N),
            ("doubtful about the expiry date, the listing doesn't show it", _N),
            ("uneasy about this, the bank account name doesn't match the shop", _N),
        ],
        "mixed": [
            ("kak ini authentic nggak? takut fake", _N),
            ("worried banget paketnya belum sampai, tracking nggak update", _N),
            ("ragu sih, seller legit nggak ya? reviewnya dikit", _N),
            ("takut overheat, is it safe buat dicas semalaman?", _N),
            ("agak cemas nih, payment udah tapi status masih pending", _N),
            ("takut kena scam, ini official store kan?", _N),
            ("nervous banget nunggu {p}nya, semoga nggak rusak", _N),
            ("aku takut breakout, safe nggak buat sensitive skin?", _N),
        ],
    },
    "love": {
        "id": [
            ("udah langganan di toko ini dari tahun lalu, nggak pernah mengecewakan", _P),
            ("sudah {n} kali beli di sini, pokoknya {p} andalan aku", _P),
            ("{p} ini bikin ketagihan, suka banget", _P),
            ("toko favorit aku, selalu belanja di sini", _P),
            ("rekomen banget buat kalian, aku udah beli berkali-kali", _P),
            ("cinta banget sama {p} ini, nggak mau pindah ke merek lain", _P),
            ("bakal order lagi terus, udah jadi toko langganan keluarga", _P),
            ("ini ketiga kalinya beli, tetap jatuh cinta", _P),
            ("wajib punya! sampai aku beliin buat adik dan teman kantor", _P),
            ("seller kesayangan, sukses terus ya kak, aku pasti balik lagi", _P),
            ("sudah jadi pelanggan setia, {p} di sini paling cocok", _P),
            ("kalau {p}nya habis pasti beli di sini lagi, nggak mau di tempat lain", _P),
            ("sayang banget sama toko ini, adminnya ramah, barangnya selalu oke", _P),
            ("aku rekomendasikan ke semua teman, toko terbaik pokoknya", _P),
            ("langganan tiap bulan, {p} favorit sekeluarga", _P),
            ("nggak bisa lepas dari {p} ini, stok terus di rumah", _P),
            ("udah order belasan kali dan bakal terus, sayang sama seller ini", _P),
            ("setia di toko ini, mau coba varian lain juga", _P),
            ("udah ke-{n} kalinya checkout {p} yang sama, nggak pernah bosen", _P),
            ("{p} di sini udah jadi belanjaan bulanan aku, tiap gajian pasti order", _P),
            ("toko andalan kalau cari {p}, nggak pernah lirik toko lain", _P),
            ("aku sampai racunin satu grup arisan buat belanja di sini", _P),
            ("ibu aku jadi ikutan langganan gara-gara aku kasih coba", _P),
            ("udah follow tokonya biar nggak ketinggalan kalau ada stok baru", _P),
            ("tiap ada promo pasti borong di sini, seller paling juara buat aku", _P),
            ("nggak ada duanya, {p} ini selalu ada di keranjang aku", _P),
            ("balik lagi ke sini setelah coba toko lain, memang paling cocok", _P),
            ("kalau teman nanya beli {p} di mana, selalu aku kasih link toko ini", _P),
            ("setahun terakhir belanja {p} cuma di sini, udah percaya banget", _P),
            ("stok di rumah nggak boleh kosong, ini produk wajib aku", _P),
            ("pakai {p} merek ini dari jaman kuliah, sampai sekarang belum ganti", _P),
            ("keluarga besar udah pakai semua, kami pelanggan tetap", _P),
            ("beli lagi dan lagi, nggak bakal ke lain hati", _P),
            ("order rutin tiap dua minggu, makin sayang sama toko ini", _P),
            ("checkout lagi buat stok, ini {p} kesayangan sekeluarga", _P),
            ("udah aku beliin juga buat mertua dan ipar, semuanya ketagihan", _P),
            ("pertama coba iseng, sekarang udah belasan kali order", _P),
            ("aku tim setia {p} ini, pernah coba yang lain terus balik lagi", _P),
            ("kalau {p} ini berhenti dijual aku bakal bingung, udah cocok banget", _P),
            ("ini toko pertama yang aku buka tiap mau belanja", _P),
            ("udah masuk daftar toko favorit, tinggal klik beli lagi", _P),
            ("jadi pelanggan sejak order pertama, kualitasnya konsisten dari dulu", _P),
        ],
        "en": [
            ("my go-to shop for {p}, ordered here five times already", _P),
            ("absolutely love this {p}, buying another colour", _P),
            ("this is the only {p} I use now, never switching", _P),
            ("highly recommend this seller to everyone, loyal customer here", _P),
            ("obsessed with it, already on my third one", _P),
            ("favourite store on the app, I always come back", _P),
            ("I adore this {p}, bought one for my mom too", _P),
            ("will keep buying from this shop forever", _P),
            ("this is my fourth order, still in love with it", _P),
            ("can't live without this {p} now, stocking up again", _P),
            ("best seller ever, I tell all my friends to order here", _P),
            ("subscribed and reordering every month, love this shop", _P),
            ("third time ordering the same {p}, still my favourite", _P),
            ("been buying from this seller for two years, wouldn't go anywhere else", _P),
            ("my whole family uses this {p} now, we keep reordering", _P),
            ("followed the shop so I never miss a restock", _P),
            ("recommended it to my sister and she ordered two", _P),
            ("this brand has my heart, I own four of their products", _P),
            ("back again for another one, this shop never lets me down", _P),
            ("on a monthly subscription for this {p}, I'd be lost without it", _P),
            ("every time I run out I come straight back here", _P),
            ("told everyone at work about this shop, now they all order here", _P),
            ("the only seller I trust for {p}, been a regular for years", _P),
            ("I keep a spare at home because I never want to run out of it", _P),
            ("tried other brands and always end up coming back to this one", _P),
            ("loyal to this store since my first order and not changing", _P),
            ("ordered one for me, then for my parents, then for my best friend", _P),
            ("hi, I'm a regular here, can you set aside my usual {p}?", _P),
            ("I've lost count of how many times I've ordered this", _P),
            ("reordering for the fourth time, my family won't use anything else", _P),
            ("whenever a friend needs a {p} I send them to this shop", _P),
            ("we've been customers for years and keep ordering again", _P),
            ("bought it again, honestly I'm attached to this {p} at this point", _P),
            ("this shop has earned a customer for life", _P),
            ("gave three of these to friends because I love mine so much", _P),
            ("another order from your biggest fan, keep it up", _P),
            ("signed up for the monthly refill, this {p} is a staple at home", _P),
            ("added the shop to my favourites, ordering again next payday", _P),
            ("my mom got hooked after trying mine, so now we buy two", _P),
        ],
        "mixed": [
            ("fav seller aku nih, always repeat order", _P),
            ("suka banget, definitely bakal beli lagi", _P),
            ("love banget sama {p}nya, udah restock tiga kali", _P),
            ("seller terpercaya, langganan since 2021", _P),
            ("satu-satunya {p} yang aku pakai, nggak mau ganti", _P),
            ("always order di sini, never disappoint", _P),
            ("in love sama {p} ini, mau beli buat kado juga", _P),
            ("best shop pokoknya, loyal customer dari dulu", _P),
            ("udah repeat berkali-kali, this is my go-to {p}", _P),
            ("langganan terus sama seller ini, never let me down", _P),
            ("aku udah follow tokonya, tiap restock langsung checkout", _P),
            ("ini udah order kesekian, still the best buat aku", _P),
            ("udah aku share ke bestie dan dia ikutan order", _P),
            ("my fav {p} ever, stok di rumah selalu ada", _P),
            ("selalu balik ke toko ini, trusted banget dari dulu", _P),
            ("literally nggak bisa pindah ke brand lain, udah cocok banget", _P),
            ("subscribe tiap bulan, worth it dan bikin nagih", _P),
            ("recommend ke semua orang rumah, sekarang semua pakai {p} ini", _P),
            ("udah jadi toko langganan, adminnya sampai hafal alamat aku wkwk", _P),
        ],
    },
    "joy": {
        "id": [
            ("barang sampai dengan baik, puas", _P),
            ("mantap, pengiriman cepat dan packing rapi", _P),
            ("senang, {p}nya bagus", _P),
            ("terima kasih kak, barangnya oke", _P),
            ("kualitas oke, harga terjangkau, puas deh", _P),
            ("alhamdulillah sampai dengan selamat dan berfungsi dengan baik", _P),
            ("bagus, rapi, terima kasih", _P),
            ("{p}nya enak, anak-anak senang", _P),
            ("puas belanja di sini, pelayanannya ramah", _P),
            ("barang bagus, respon penjual cepat", _P),
            ("oke banget buat harga segini", _P),
            ("{p} sudah dicoba, hasilnya memuaskan", _P),
            ("mantap jiwa, kualitasnya oke", _P),
            ("lega dan senang, barang datang tepat waktu", _P),
            ("bagus kak, bahannya adem, makasih", _P),
            ("berfungsi normal, pengemasan aman, puas", _P),
            ("pertama kali beli di sini, barangnya sama kayak di foto, puas", _P),
            ("baru sekali order, sejauh ini oke", _P),
            ("buat harga segini lumayan banget, senang", _P),
            ("anakku senang sama warnanya, terima kasih kak", _P),
            ("dicoba di kulit cocok, nggak perih, senang deh", _P),
            ("jahitannya rapi, nyaman dipakai, mantap", _P),
            ("packingnya tebal, barang aman sampai, makasih seller", _P),
            ("kado buat suami sudah sampai, dia senang", _P),
            ("bahannya adem dan enak dipakai, oke", _P),
            ("respon cepat, barang dikirim hari itu juga, mantap", _P),
        ],
        "en": [
            ("does what it says, pleased", _P),
            ("arrived quickly and well packed, thanks", _P),
            ("great quality for the price, pleased", _P),
            ("good product, satisfied", _P),
            ("nice {p}, does the job", _P),
            ("fast delivery and the {p} looks great", _P),
            ("glad I ordered it, nice finish", _P),
            ("very happy with this purchase", _P),
            ("seller was helpful and the item is good", _P),
            ("the {p} is lovely, thank you", _P),
            ("pleased with the fit and the colour", _P),
            ("first order from this shop, everything arrived fine", _P),
            ("does its job well for the price, happy", _P),
            ("nice quality and the size is right", _P),
            ("my son is happy with it, thanks", _P),
            ("solid packaging, nothing was damaged, good", _P),
            ("used it once so far and it works well, satisfied", _P),
            ("good deal, came two days early", _P),
            ("came exactly as pictured, happy with it", _P),
            ("good value, it works fine", _P),
            ("bought it as a gift and she liked it, thanks", _P),
            ("ordered once to try, decent and on time", _P),
        ],
        "mixed": [
            ("barangnya good, seller fast response, thanks", _P),
            ("happy banget, packing rapi", _P),
            ("value for money lah, puas", _P),
            ("quality oke, pengiriman fast, mantap", _P),
            ("{p}nya works well, puas", _P),
            ("nice banget, sesuai ekspektasi", _P),
            ("first time order di sini, overall oke", _P),
            ("seller responsive, barang aman, good job", _P),
            ("so far so good, {p}nya berfungsi normal", _P),
            ("nice, warnanya sama kayak foto, thanks kak", _P),
            ("pengiriman cepet, item aman, happy", _P),
        ],
    },
    "surprise": {
        "id": [
            ("nggak nyangka {p}nya sebagus ini, padahal harganya murah", _P),
            ("wah ternyata ukurannya lebih besar dari perkiraan", _P),
            ("kaget, pesan kemarin hari ini udah sampai", _P),
            ("loh ternyata dapat bonus, nggak nyangka", _P),
            ("serius harga segini kualitasnya begini? takjub", _P),
            ("nggak disangka wanginya tahan seharian", _P),
            ("wow, ternyata ada kartu ucapan tulisan tangan", _P),
            ("loh kok yang datang warnanya beda?", _N),
            ("kaget pas buka paket, isinya cuma setengah", _N),
            ("lho ternyata ini versi lama, baru tahu", _N),
            ("hah? kok paketnya diantar ke kota lain", _N),
            ("ternyata ukurannya kecil banget, nggak nyangka", _N),
            ("astaga, kok tiba-tiba pesanan saya dibatalkan sistem?", _N),
            ("loh kok tagihannya dua kali?", _N),
            ("eh ternyata isinya kurang satu", _N),
        ],
        "en": [
            ("wow, did not expect it to be this good for the price", _P),
            ("whoa, it arrived the very next day!", _P),
            ("pleasantly surprised by the quality", _P),
            ("wasn't expecting a free gift, what a nice surprise", _P),
            ("I can't believe how big the {p} actually is", _P),
            ("didn't think the {p} would be this sturdy, amazed", _P),
            ("the box was empty, I can't believe it", _N),
            ("huh, this is not the colour in the photo", _N),
            ("surprised to find a different model inside", _N),
            ("did not expect it to be so tiny, shocked", _N),
            ("what? my order got cancelled out of nowhere", _N),
            ("wait, I was charged twice??", _N),
        ],
        "mixed": [
            ("nggak expect bakal secepat ini sampainya", _P),
            ("shock banget ternyata ada free gift", _P),
            ("wow ternyata quality nya premium", _P),
            ("wait kok beda sama fotonya??", _N),
            ("lho kok size nya jauh lebih kecil, unexpected banget", _N),
            ("eh seriously? warnanya beda total", _N),
        ],
    },
    "sadness": {
        "id": [
            ("kecewa, hasilnya biasa saja", _N),
            ("sayang banget, warnanya pudar setelah sekali dicuci", _N),
            ("nyesel beli, akhirnya nggak kepakai", _N),
            ("sedih, udah nunggu lama ternyata stoknya habis", _N),
            ("yah, ukurannya kekecilan, nggak bisa dipakai", _N),
            ("kurang puas, rasanya hambar", _N),
            ("hiks, kado buat ibu malah datang rusak", _N),
            ("agak kecewa, {p}nya cepat rusak", _N),
            ("sedih banget, padahal sudah nabung buat beli {p} ini", _N),
            ("harapannya tinggi tapi hasilnya biasa aja, kecewa", _N),
            ("nyesal nggak baca ulasan dulu, nggak cocok di kulit", _N),
            ("sayang sekali, jahitannya lepas baru dipakai dua kali", _N),
            ("kecewa, jauh dari foto", _N),
            ("yah nggak kebagian promo, telat checkout", _N),
        ],
        "en": [
            ("disappointed, not what I hoped for", _N),
            ("sadly it stopped working after a week", _N),
            ("such a letdown, the fabric feels cheap", _N),
            ("bummed they ran out of my size", _N),
            ("I regret buying this {p}", _N),
            ("a shame, the colour faded after one wash", _N),
            ("not as good as the photos, a bit sad", _N),
            ("I really wanted to like it, but it doesn't suit me", _N),
            ("unfortunately the {p} arrived damaged and it was a gift", _N),
            ("expected more, kind of disappointing", _N),
        ],
        "mixed": [
            ("kecewa sih, not worth it", _N),
            ("sad banget, barangnya cacat", _N),
            ("nyesel, expectation vs reality banget", _N),
            ("sayang banget quality nya turun, not like before", _N),
            ("a bit disappointed, rasanya nggak seenak dulu", _N),
        ],
    },
    "anger": {
        "id": [
            ("penipu! barang nggak dikirim, chat nggak dibalas", _N),
            ("seller lepas tangan, barang rusak nggak mau ganti", _N),
            ("kurirnya lempar paket, seenaknya banget", _N),
            ("parah, komplain tiga kali nggak ada yang balas", _N),
            ("tolong refund sekarang, saya sudah menunggu dua minggu", _N),
            ("jangan beli di sini, penjualnya kasar", _N),
            ("admin lambat banget responnya, bikin emosi", _N),
            ("kesal, barang salah kirim dan seller malah menyalahkan saya", _N),
            ("toko seenaknya, pesanan dibatalkan sepihak", _N),
            ("kurir seenaknya tandai terkirim padahal belum sampai", _N),
            ("pelayanan mengecewakan, seller bohong soal stok", _N),
            ("dasar toko tipu-tipu, uang saya nggak dikembalikan", _N),
            ("sudah bayar mahal malah dikasih barang rusak, seller harus ganti", _N),
            ("marah banget, customer service cuma balas template", _N),
        ],
        "en": [
            ("scam seller, never sent my order", _N),
            ("terrible service, the seller ignored every message", _N),
            ("the courier threw my package, unacceptable", _N),
            ("I want my money back now", _N),
            ("rude staff, never buying here again", _N),
            ("fix this immediately, this is ridiculous", _N),
            ("the seller lied about the stock and cancelled my order", _N),
            ("furious, customer service keeps sending the same copy-paste reply", _N),
            ("they sent the wrong item and blamed me for it", _N),
            ("worst shop ever, they refuse to refund a broken {p}", _N),
        ],
        "mixed": [
            ("seller nggak responsible, worst service ever", _N),
            ("kesal banget, admin ghosting terus", _N),
            ("scam! barang nggak dikirim", _N),
            ("refund sekarang juga, this is unacceptable", _N),
            ("seller nya rude banget, never again", _N),
        ],
    },
    "neutral": {
        "id": [
            ("warna navy masih ada?", _O),
            ("bisa bayar pakai transfer bank?", _O),
            ("kapan restock warna hitam?", _O),
            ("bahan kaosnya katun ya?", _O),
            ("pesanan atas nama Rina sudah dikirim?", _O),
            ("panjang 70 cm, lebar 50 cm", _O),
            ("paket dititip di pos satpam", _O),
            ("berapa lama pengiriman ke Surabaya?", _O),
            ("bisa kirim hari ini?", _O),
            ("berat 1 kg, warna abu-abu", _O),
            ("nomor resinya berapa?", _O),
            ("{p} ini ada varian lain?", _O),
            ("bisa ganti alamat pengiriman?", _O),
            ("isi paket: {p} satu, kartu garansi, buku manual", _O),
            ("saya pesan dua, warna biru dan merah", _O),
            ("resi sudah saya cek di aplikasi", _O),
            ("pakai kurir apa?", _O),
            ("tolong kirim lewat ekspedisi reguler saja", _O),
        ],
        "en": [
            ("do you have this in navy?", _O),
            ("do you ship to Bandung?", _O),
            ("what's the material?", _O),
            ("the parcel is with my neighbour", _O),
            ("dimensions are 30 x 20 cm, colour grey", _O),
            ("can I change the address on my order?", _O),
            ("when will this be restocked?", _O),
            ("does the {p} come with a box?", _O),
            ("I ordered two, one black and one white", _O),
            ("which courier do you use?", _O),
            ("please send the tracking number", _O),
        ],
        "mixed": [
            ("size chart nya ada?", _O),
            ("stoknya masih banyak? mau order 2", _O),
            ("free ongkir nggak?", _O),
            ("ini include charger atau nggak?", _O),
            ("kalau order sekarang bisa same day?", _O),
        ],
    },
}

_CHAT_PREFIX = {
    "id": ["kak", "min", "gan", "halo kak", "permisi kak", "sis", "pagi kak"],
    "en": ["hi", "hello", "hi seller", "hey there"],
    "mixed": ["kak", "hi kak", "min", "halo seller"],
}
_EMOJI = {
    "joy": ["😊", "👍", "😁", "🙏", "👌"],
    "love": ["❤️", "😍", "🥰", "💕", "😘"],
    "surprise": ["😮", "😱", "🤯", "😲", "‼️"],
    "anger": ["😡", "🤬", "😤", "👎"],
    "fear": ["😟", "😰", "😥", "🙏"],
    "sadness": ["😢", "😭", "😞", "💔"],
    "neutral": ["🙏", ""],
}
_STARS = {"joy": 5, "love": 5, "anger": 1, "sadness": 2, "fear": 3, "neutral": 4}
# Sentences of context for long reviews (no feeling of their own).
_CONTEXT = {
    "id": [
        "beli {p} ini buat hadiah ulang tahun",
        "order tanggal 5, sampai tanggal 9",
        "pengiriman pakai kurir reguler",
        "aku pesan yang warna hitam ukuran M",
        "dipakai sudah sekitar dua minggu",
        "paket dibungkus kardus dan bubble wrap",
        "ini pembelian lewat flash sale",
        "barang dikirim dari Jakarta",
    ],
    "en": [
        "bought this {p} as a birthday present",
        "ordered on Monday, it came on Friday",
        "shipped with the standard courier",
        "I picked the black one in size M",
        "I've been using it for about two weeks",
        "it came in a box with bubble wrap",
        "got it during the flash sale",
        "the parcel was sent from Jakarta",
    ],
}
_CONTEXT["mixed"] = _CONTEXT["id"] + _CONTEXT["en"]
# Minor feelings that may appear in a long review without being its label.
_ASIDE = {
    "id": {
        "fear": "awalnya takut nggak sampai tepat waktu",
        "sadness": "pengirimannya agak lama sih, sedikit kecewa",
        "joy": "packingnya rapi, itu yang bikin senang",
        "anger": "kurirnya sempat bikin kesal",
        "surprise": "awalnya kaget paketnya kecil",
    },
    "en": {
        "fear": "at first I was afraid it would arrive late",
        "sadness": "delivery was slow, which was a little disappointing",
        "joy": "the packaging was neat, I liked that",
        "anger": "the courier was annoying",
        "surprise": "the box was smaller than I thought at first",
    },
}
_ASIDE["mixed"] = _ASIDE["id"]
_ASIDES_FOR = {
    "joy": ("fear", "sadness", "surprise"),
    "love": ("fear", "sadness", "anger", "joy"),
    "surprise": ("joy", "sadness"),
    "anger": ("sadness", "fear"),
    "fear": ("surprise", "joy"),
    "sadness": ("joy", "surprise"),
    "neutral": (),
}
# Satisfaction with one order (joy on its own). Love and joy rows both state it
# sometimes, so that the attachment, not the satisfied clause, tells them apart.
_SATISFIED = {
    "id": [
        "barangnya sesuai pesanan",
        "pengiriman cepat",
        "packing rapi seperti biasa",
        "kualitasnya bagus",
        "harganya bersahabat",
        "adminnya ramah",
        "barang sampai dengan aman",
        "nggak ada cacat sama sekali",
    ],
    "en": [
        "arrived fast",
        "well packed as always",
        "the quality is great",
        "fair price",
        "the seller replies quickly",
        "no defects at all",
    ],
}
_SATISFIED["mixed"] = _SATISFIED["id"] + ["fast response", "quality oke", "packing aman"]
#: Share of short love and joy rows that also state a satisfied clause.
_SATISFIED_SHARE = {"love": 0.4, "joy": 0.25}
_SLANG_OUT = {
    "banget": "bgt",
    "nggak": "gk",
    "tidak": "gak",
    "yang": "yg",
    "sudah": "udh",
    "udah": "udh",
    "belum": "blm",
    "dengan": "dgn",
    "tapi": "tp",
    "karena": "krn",
    "sama": "sm",
    "bisa": "bs",
    "terus": "trs",
    "saya": "sy",
    "aku": "aq",
    "kakak": "kk",
    "gimana": "gmn",
    "sampai": "nyampe",
    "terima kasih": "makasih",
    "juga": "jg",
}
_WORD = re.compile(r"[A-Za-z]+")


def _slangify(text: str, rng: random.Random) -> str:
    for word, short in _SLANG_OUT.items():
        if rng.random() < 0.8:
            text = re.sub(rf"\b{word}\b", short, text)
    return text


def _elongate(text: str, rng: random.Random) -> str:
    words = [m for m in _WORD.finditer(text) if len(m.group()) > 3]
    if not words:
        return text
    m = rng.choice(words)
    w = m.group()
    return text[: m.start()] + w + w[-1] * rng.randint(2, 4) + text[m.end() :]


def _typo(text: str, rng: random.Random) -> str:
    words = [m for m in _WORD.finditer(text) if len(m.group()) > 4]
    if not words:
        return text
    m = rng.choice(words)
    w = m.group()
    stripped = w[0] + re.sub(r"[aeiou]", "", w[1:-1]) + w[-1]
    return text[: m.start()] + stripped + text[m.end() :]


def _fill(core: str, lang: str, rng: random.Random, product: str | None = None) -> str:
    return core.format(p=product or rng.choice(_PRODUCTS[lang]), n=rng.randint(2, 9))


def _with_satisfaction(text: str, lang: str, rng: random.Random) -> str:
    """``text`` with a satisfied clause before or after it."""
    clause = rng.choice(_SATISFIED[lang])
    return f"{clause}, {text}" if rng.random() < 0.5 else f"{text}. {clause}"


def _style(text: str, label: str, lang: str, domain: str, rng: random.Random) -> tuple[str, str]:
    """Apply one salient style (and sometimes a second light trait)."""
    styles = ["casual", "emoji", "short", "formal", "caps", "repeat", "typo"]
    if lang != "en":
        styles += ["slang", "slang"]
    if domain == "review" and label in _STARS:
        styles.append("rating")
    style = rng.choice(styles)
    if style == "slang":
        text = _slangify(text, rng)
    elif style == "emoji":
        text = f"{text} {rng.choice(_EMOJI[label]) * rng.randint(1, 3)}".strip()
    elif style == "short":
        head = text.split(",")[0].rstrip("?!.")
        text = head if len(head.split()) >= 3 else text
    elif style == "formal":
        text = text[0].upper() + text[1:]
        if text[-1] not in ".?!":
            text += "."
    elif style == "caps":
        text = text.upper() + ("!!" if label in ("anger", "surprise") else "")
    elif style == "repeat":
        text = _elongate(text, rng)
    elif style == "typo":
        text = _typo(text, rng)
    elif style == "rating":
        stars = _STARS[label]
        forms = [f"{'⭐' * stars} {text}", f"{text}. {stars}/5"]
        forms.append(f"{stars} stars, {text}" if lang == "en" else f"bintang {stars}, {text}")
        text = rng.choice(forms)
    if style != "caps" and rng.random() < 0.5:
        text = text.lower()
    return text, style


def _long(label: str, lang: str, core: str, rng: random.Random, cores: list[str]) -> str:
    """A multi-sentence review: context, maybe an aside, the label's feeling two or three times."""
    product = rng.choice(_PRODUCTS[lang])
    context = rng.sample(_CONTEXT[lang], 3)
    parts = [_fill(context[0], lang, rng, product), _fill(context[1], lang, rng, product)]
    asides = _ASIDES_FOR[label]
    if asides and rng.random() < 0.6:
        parts.append(_ASIDE[lang][rng.choice(asides)])
    parts.append(_fill(core, lang, rng, product))
    parts.append(_fill(context[2], lang, rng, product))
    more = rng.sample(cores, min(len(cores), rng.randint(1, 2)))
    parts += [_fill(c, lang, rng, product) for c in more]
    return ". ".join(p[0].upper() + p[1:] for p in parts) + "."


def build_domain_corpus(
    per_label: int = 420, seed: int = 7, long_share: float = 0.15
) -> pd.DataFrame:
    """Generate the marketplace review and chat training set.

    Parameters
    ----------
    per_label : int, default 420
        Rows generated per emotion (duplicates after lower-casing are dropped,
        so a label may end with slightly fewer).
    seed : int, default 7
    long_share : float, default 0.15
        Share of multi-sentence reviews (> ~200 characters).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`journeymine.sentiment._data.FRAME_COLUMNS`
        (``dataset='domain'``, ``split='train'``, ``emotion`` and ``sentiment``
        as one-label tuples, ``source_label`` the emotion) plus ``language``,
        ``domain`` (``'review'``/``'chat'``), ``style`` and ``group`` (id of
        the sentence core: a hash of its label, language and text).

    Examples
    --------
    >>> df = build_domain_corpus(per_label=20)
    >>> sorted(df.source_label.unique()) == sorted(DOMAIN_LABELS)
    True
    """
    rng = random.Random(seed)
    rows, seen = [], set()
    # a core's id hashes its text, so adding cores leaves the holdout of the others as is
    groups = {
        (label, lang, k): zlib.crc32(f"{label}|{lang}|{core}".encode())
        for label in DOMAIN_LABELS
        for lang in CORES[label]
        for k, (core, _) in enumerate(CORES[label][lang])
    }
    for label in DOMAIN_LABELS:
        pool = [(lang, k) for lang in CORES[label] for k in range(len(CORES[label][lang]))]
        made, tries = 0, 0
        while made < per_label and tries < per_label * 20:
            tries += 1
            lang, k = rng.choice(pool)
            core, sentiment = CORES[label][lang][k]
            chat_share = 0.6 if label in ("neutral", "fear") else 0.3
            domain = "chat" if rng.random() < chat_share else "review"
            is_long = domain == "review" and label != "neutral" and rng.random() < long_share
            if is_long:
                same = [c for c, s in CORES[label][lang] if s == sentiment]
                text, style = _long(label, lang, core, rng, same), "long"
            else:
                text = _fill(core, lang, rng)
                if rng.random() < _SATISFIED_SHARE.get(label, 0.0):
                    text = _with_satisfaction(text, lang, rng)
                text, style = _style(text, label, lang, domain, rng)
                if domain == "chat" and rng.random() < 0.6:
                    text = f"{rng.choice(_CHAT_PREFIX[lang])} {text}"
            key = " ".join(text.lower().split())
            if key in seen:
                continue
            seen.add(key)
            made += 1
            rows.append(
                {
                    "dataset": "domain",
                    "split": "train",
                    "text": text,
                    "emotion": (label,),
                    "sentiment": (sentiment,),
                    "source_label": label,
                    "language": lang,
                    "domain": domain,
                    "style": style,
                    "group": groups[label, lang, k],
                }
            )
    return pd.DataFrame(rows)


def domain_holdout(frame: pd.DataFrame, share: float = 0.2) -> pd.Series:
    """Boolean mask of rows whose sentence core is held out (about ``share`` of cores).

    Parameters
    ----------
    frame : pandas.DataFrame
        A :func:`build_domain_corpus` frame.
    share : float, default 0.2

    Returns
    -------
    pandas.Series
        True for held-out rows (deterministic: a hash of the core index).
    """
    cut = int(share * 1000)
    return frame["group"].map(lambda g: zlib.crc32(f"core{g}".encode()) % 1000 < cut)
