"""Text templates for the demo: reviews, chats and NPS comments.

Every sentence here was written for journeymine (none is copied from a real
review). They imitate how Indonesian customers write on marketplaces and in
WhatsApp: mostly Indonesian with slang and abbreviations, emoji, some English
and a lot of code-mixing. Each template is ``(text, language, emotion)``;
``{p}`` is replaced by a product and ``{n}`` by a number of days.
:func:`render_texts` picks templates whose polarity follows the planted truth
of the journeys and varies them (slang spellings, openers, closers, emoji).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["TEMPLATES", "render_texts", "vary"]

T = tuple[str, str, str]  # (text, language, emotion)

TEMPLATES: dict[str, dict[str, list[T]]] = {
    # ---------------------------------------------------------------- reviews
    "review_product": {
        "positive": [
            ("{p}nya bagus banget, kulitku jadi lebih lembab", "id", "joy"),
            ("mantul kak, {p} ori dan cocok di kulit aku", "id", "joy"),
            ("udah pemakaian kedua, jerawat mulai kempes, seneng banget", "id", "joy"),
            ("teksturnya ringan, cepat meresap, gak lengket sama sekali", "id", "joy"),
            ("suka banget sama {p} ini, bakal repeat order terus", "mixed", "love"),
            ("gak nyangka hasilnya secepat ini, bekas jerawat memudar", "id", "surprise"),
            ("wanginya lembut, gak bikin pusing, love banget", "mixed", "love"),
            ("harga terjangkau tapi kualitas juara", "id", "joy"),
            ("sunscreennya gak whitecast, cocok buat kulit sawo matang", "id", "joy"),
            ("sudah langganan di sini, selalu ori dan exp masih lama", "id", "joy"),
            ("kulit kusamku jadi glowing, terima kasih seller", "id", "joy"),
            ("sesuai deskripsi, barang ori, segel aman", "id", "joy"),
            ("ini holy grail aku sih, udah habis 3 botol", "mixed", "love"),
            ("dikasih bonus sample, baik banget sellernya", "id", "surprise"),
            ("baru seminggu pakai sudah kelihatan bedanya, kaget sendiri", "id", "surprise"),
            ("cocok buat kulit sensitif, gak perih sama sekali", "id", "joy"),
            ("Works great on my oily skin, no breakouts so far", "en", "joy"),
            ("Absolutely love this {p}, my skin feels so soft", "en", "love"),
            ("Didn't expect such visible results in a week, impressed!", "en", "surprise"),
            ("Lightweight texture, absorbs quickly, will buy again", "en", "joy"),
            ("overall worth it sih, skin barrier aku jadi lebih sehat", "mixed", "joy"),
            ("teksturnya lightweight, cocok buat daily use", "mixed", "joy"),
            ("seriously ini game changer buat kulit berjerawat aku", "mixed", "surprise"),
            ("texture-nya enak, gak sticky, recommended banget", "mixed", "joy"),
            ("best purchase bulan ini, glowing parah", "mixed", "love"),
            ("aku kira bakal breakout ternyata aman banget, surprised", "mixed", "surprise"),
            ("udah beli yang kelima kalinya, gak pernah mengecewakan", "id", "love"),
            ("pori-pori keliatan lebih kecil, makeup jadi nempel", "id", "joy"),
        ],
        "neutral": [
            ("barang sudah diterima, belum dicoba", "id", "neutral"),
            ("sesuai pesanan, nanti review lagi setelah pemakaian", "id", "neutral"),
            ("lumayan, standar lah", "id", "neutral"),
            ("so far so good, liat hasilnya nanti", "mixed", "neutral"),
            ("barangnya sudah sampai, packing standar", "id", "neutral"),
            ("produk sesuai foto", "id", "neutral"),
            ("biasa aja sih, belum kelihatan hasilnya", "id", "neutral"),
            ("Arrived as described, will update after use", "en", "neutral"),
            ("harga sesuai kualitas", "id", "neutral"),
            ("ok, sesuai", "id", "neutral"),
        ],
        "negative": [
            ("bikin breakout parah, muka jadi bruntusan", "id", "sadness"),
            ("kulitku malah merah-merah dan perih setelah pakai ini", "id", "fear"),
            ("teksturnya lengket banget, gak nyaman dipakai siang", "id", "disgust"),
            ("wanginya menyengat, bikin pusing", "id", "disgust"),
            ("gak ngefek sama sekali sudah sebulan pakai", "id", "sadness"),
            ("whitecast parah, muka jadi abu-abu", "mixed", "disgust"),
            ("This {p} broke me out, really disappointed", "en", "sadness"),
            ("harganya mahal tapi hasilnya biasa aja", "id", "sadness"),
            ("teksturnya beda sama yang dulu, curiga formulanya diganti", "id", "fear"),
            ("kemasan penyok dan tutupnya longgar", "id", "anger"),
        ],
    },
    "review_packaging": {
        "positive": [
            ("packagingnya cute banget, love it 😍", "mixed", "love"),
            ("packing super aman, bubble wrap tebal, thank you kak!", "mixed", "joy"),
            ("kemasannya aesthetic banget, sampai sayang buat dibuka", "id", "love"),
            ("dapat pouch gratis, lucu banget 🥰", "id", "surprise"),
            ("dikasih kartu ucapan tulisan tangan, terharu 😭💕", "id", "love"),
            ("packingnya rapi, ada bubble wrap sama kardus tebal", "id", "joy"),
            ("unboxing experience-nya premium banget, kayak beli di mall", "mixed", "surprise"),
            ("The packaging is so pretty, perfect as a gift", "en", "love"),
        ],
    },
    "review_delivery_slow": {
        "negative": [
            ("pengirimannya lama banget, seminggu baru sampai", "id", "anger"),
            ("barang bagus tapi nunggunya kelamaan, bintang 3 dulu", "id", "sadness"),
            ("kecewa sama pengirimannya, dijanjiin 2 hari ternyata {n} hari", "id", "sadness"),
            ("Shipping took forever, almost {n} days for a small parcel", "en", "anger"),
            ("the product is fine but delivery was sooo slow", "en", "sadness"),
            ("gudangnya lelet, next time mending beli di toko aja", "mixed", "anger"),
            ("pengiriman lambat banget, gak sesuai estimasi", "id", "anger"),
            ("lama banget prosesnya, keburu butuh malah gak datang", "id", "sadness"),
            ("{n} hari baru nyampe, padahal sekota 😑", "id", "anger"),
            ("produknya oke, cuma pengirimannya lama banget, kurang sat set", "mixed", "sadness"),
        ],
    },
    "review_store": {
        "positive": [
            ("BA di toko ramah banget, dijelasin step skincare sampai paham", "mixed", "joy"),
            ("staff tokonya helpful, kasih tester dulu sebelum beli", "mixed", "joy"),
            ("mbak BA-nya sabar banget jawab pertanyaanku 🙏", "id", "joy"),
            ("tiap bulan belanja di toko, pelayanannya selalu oke", "id", "joy"),
            ("tokonya bersih, tester lengkap, betah lama-lama", "id", "joy"),
            ("Lovely store, the staff helped me find the right moisturizer", "en", "joy"),
        ],
    },
    "loyalty": {
        "positive": [
            ("poin membernya lumayan, bisa ditukar voucher", "id", "joy"),
            ("dapat voucher ulang tahun dari member, seneng banget", "id", "joy"),
            ("tukar poin dapat full size, surprise banget", "mixed", "surprise"),
            ("member card bikin hemat, cashbacknya kerasa", "mixed", "joy"),
            ("love the member perks, the birthday gift was so sweet", "en", "love"),
            ("suka banget sama program loyaltinya, tiap belanja dapat poin", "id", "love"),
        ],
    },
    "advocacy": {
        "positive": [
            ("sudah aku racunin ke teman-teman kantor semua", "id", "love"),
            ("adikku ikutan beli gara-gara lihat hasil di aku", "id", "joy"),
            ("recommended seller! pasti order lagi", "mixed", "joy"),
            ("ibuku juga cocok pakai ini, satu keluarga jadi pelanggan", "id", "love"),
            ("sharing kode referral ke grup arisan, pada suka semua", "mixed", "joy"),
            ("worth every rupiah, pasti rekomendasiin ke bestie", "mixed", "love"),
            ("Would definitely recommend to friends with sensitive skin", "en", "joy"),
        ],
    },
    # ---------------------------------------------------------------- chats
    "chat_question": {
        "neutral": [
            ("kak ready stok gak?", "id", "neutral"),
            ("ori kan kak?", "id", "neutral"),
            ("bisa COD gak min?", "id", "neutral"),
            ("{p} ini cocok buat kulit berminyak gak kak?", "id", "neutral"),
            ("kak bedanya yang 30ml sama 50ml apa ya?", "id", "neutral"),
            ("min exp-nya sampai kapan?", "id", "neutral"),
            ("ongkir ke Surabaya berapa kak?", "id", "neutral"),
            ("kak bisa kirim hari ini?", "id", "neutral"),
            ("boleh dipakai bareng retinol gak kak?", "id", "neutral"),
            ("ada promo bundling gak min?", "mixed", "neutral"),
            ("kak aman buat bumil?", "id", "neutral"),
            ("sudah BPOM belum kak?", "id", "neutral"),
            ("kalau kulit sensitif pakai yang mana kak?", "id", "neutral"),
            ("Hi, is this {p} suitable for acne-prone skin?", "en", "neutral"),
            ("do you ship to Medan?", "en", "neutral"),
            ("kak cara pakainya pagi atau malam?", "id", "neutral"),
            ("min bisa gift wrap?", "mixed", "neutral"),
            ("kak bisa pakai voucher member gak?", "id", "neutral"),
            ("is the 50ml still available?", "en", "neutral"),
            ("kak ini halal gak?", "id", "neutral"),
            ("kak {p} yang travel size ada?", "mixed", "neutral"),
            ("min pengiriman dari Jakarta ya?", "id", "neutral"),
        ],
        "positive": [
            ("oke kak siap, terima kasih infonya ya 🙏", "id", "joy"),
            ("wah ada promo ya kak, asik langsung checkout", "mixed", "joy"),
            ("mantap min, fast respon", "mixed", "joy"),
            ("thank you kak, penjelasannya jelas banget", "mixed", "joy"),
            ("adminnya ramah banget, jadi makin yakin beli", "id", "joy"),
            ("kak terima kasih sudah direkomendasiin, cocok di kulitku", "id", "joy"),
            ("Thanks for the quick reply, ordering now!", "en", "joy"),
            ("wah ternyata masih ada stok, kirain habis 😆", "id", "surprise"),
        ],
        "negative": [
            ("min kok lama banget balesnya, jadi males beli", "id", "anger"),
            ("kak ini dibaca doang ya chat aku? 🙄", "id", "anger"),
            ("dari tadi nanya stok gak ada yang jawab", "id", "anger"),
            ("ongkirnya mahal banget, gak jadi deh", "id", "sadness"),
            ("pas flash sale stoknya langsung habis, kecewa", "mixed", "sadness"),
            ("hello? I asked two hours ago 😤", "en", "anger"),
        ],
    },
    "channel_switch": {
        "negative": [
            ("link promo dari app malah kebuka di web, harus login ulang, ribet", "mixed",
             "anger"),
            ("voucher di app gak bisa dipakai di website, gimana sih", "mixed", "anger"),
            ("keranjang aku di app hilang pas pindah ke web, bete", "mixed", "sadness"),
            ("checkout di web error terus, akhirnya gak jadi", "mixed", "anger"),
            ("the website keeps logging me out when I open it from the app", "en", "anger"),
            ("promo code from the app doesn't work on the site 😤", "en", "anger"),
            ("halamannya loading lama banget di hp", "id", "anger"),
            ("kok harganya beda di app sama di web? bingung", "mixed", "fear"),
        ],
    },
    "waiting_delivery": {
        "negative": [
            ("min pesanan aku kok belum dikirim-kirim, sudah {n} hari", "id", "anger"),
            ("sudah {n} hari belum dikirim juga, gimana sih", "id", "anger"),
            ("resi gak update dari kemarin, kapan sampainya?", "id", "fear"),
            ("kak tolong dicek dong, paket aku nyangkut di gudang ya?", "id", "fear"),
            ("lama banget packingnya, padahal sudah bayar dari hari senin", "id", "anger"),
            ("khawatir paketnya hilang, sudah {n} hari gak ada kabar", "id", "fear"),
            ("sudah bayar tapi statusnya 'dikemas' terus, kesel", "id", "anger"),
            ("order dari minggu lalu baru diproses sekarang, parah", "id", "anger"),
            ("Hi, my order still hasn't shipped after {n} days?", "en", "anger"),
            ("butuh buat kado besok, tolong dipercepat kak 😭", "id", "fear"),
        ],
    },
    "support": {
        "negative": [
            ("barang datang pecah, botolnya bocor semua", "id", "anger"),
            ("min saya chat dari kemarin gak dibalas-balas", "id", "anger"),
            ("salah kirim varian, saya pesan yang oily malah dikirim dry", "mixed", "anger"),
            ("sudah komplain 3x tetap gak ada solusi", "id", "anger"),
            ("CS-nya jutek, ditanya malah jawabnya muter-muter", "id", "anger"),
            ("refund katanya 3 hari kerja, sudah seminggu belum masuk", "id", "anger"),
            ("kecewa berat, pelayanan komplainnya buruk", "id", "sadness"),
            ("barang kurang satu, pas ditanya malah disuruh nunggu", "id", "anger"),
            ("segel kebuka, jadi ragu ini ori apa bukan", "id", "fear"),
            ("kok baunya beda ya sama yang biasa, takut palsu", "id", "fear"),
            ("produknya sudah expired pas datang, jijik mau pakai", "id", "disgust"),
            ("isinya kayak bekas dipakai, gak higienis", "id", "disgust"),
            ("terus aja dilempar ke admin lain, capek ngejelasin ulang", "id", "anger"),
            ("The support team never replied to my complaint", "en", "anger"),
            ("Received a damaged bottle and nobody helped me", "en", "sadness"),
            ("worst customer service ever, not buying again", "en", "anger"),
            ("admin cuma balas 'mohon ditunggu kak' doang, solusinya mana", "id", "anger"),
            ("nomor resi yang dikasih gak valid, takut ketipu", "id", "fear"),
            ("sudah nunggu lama, pas datang salah barang. nangis", "id", "sadness"),
            ("retur ribet banget, harus video unboxing segala", "mixed", "anger"),
            ("komplain soal bocor malah disalahin kurir, sedih", "id", "sadness"),
            ("minta tukar barang ditolak, padahal jelas-jelas cacat", "id", "anger"),
            ("ada serpihan kaca di dalam kemasan, serem banget", "id", "fear"),
            ("teksturnya menggumpal dan bau tengik, ewh", "mixed", "disgust"),
            ("paket aku katanya sudah diterima padahal belum ada apa-apa", "id", "anger"),
        ],
        "neutral": [
            ("min mau tanya status pesanan aku", "id", "neutral"),
            ("kak mau ganti alamat pengiriman bisa?", "id", "neutral"),
            ("tolong kirim nomor resinya ya kak", "id", "neutral"),
            ("kak aku mau tukar varian, prosedurnya gimana?", "id", "neutral"),
            ("How do I return an item?", "en", "neutral"),
        ],
        "positive": [
            ("terima kasih kak sudah dibantu, responnya cepat", "id", "joy"),
            ("thanks min, paketnya sudah sampai dengan selamat", "mixed", "joy"),
            ("alhamdulillah refundnya sudah masuk, terima kasih min", "id", "joy"),
            ("wah langsung dikirim pengganti, gak nyangka secepat ini", "id", "surprise"),
        ],
    },
    # ---------------------------------------------------------------- NPS comments
    "nps": {
        "positive": [
            ("pelayanan oke, produk ori, pengiriman aman", "id", "joy"),
            ("produk bagus, harga masuk akal, adminnya ramah", "id", "joy"),
            ("sudah percaya sama toko ini dari dulu", "id", "joy"),
            ("seneng belanja di sini, gak pernah kecewa", "id", "joy"),
            ("great products and friendly staff", "en", "joy"),
            ("promonya sering, produknya ori, top lah", "id", "joy"),
            ("repeat order terus, gak pernah zonk", "mixed", "joy"),
            ("cepat, aman, ori. apalagi yang dicari", "id", "joy"),
            ("Love the app, checkout is so smooth", "en", "love"),
            ("sejauh ini puas banget sama semua produknya", "id", "joy"),
        ],
        "neutral": [
            ("cukup oke, masih bisa ditingkatkan", "id", "neutral"),
            ("lumayan lah, harga agak mahal", "id", "neutral"),
            ("standar, gak ada yang spesial", "id", "neutral"),
            ("It's fine, nothing special", "en", "neutral"),
        ],
        "negative": [
            ("pengiriman terlalu lama, harus dibenahi", "id", "anger"),
            ("CS lambat dan gak solutif", "id", "anger"),
            ("produk oke tapi layanan setelah beli parah", "id", "sadness"),
            ("gak akan beli lagi sebelum pengirimannya diperbaiki", "id", "anger"),
            ("nunggu paket seminggu lebih, gak worth it", "mixed", "sadness"),
            ("komplain gak ditanggapi, kapok", "id", "anger"),
            ("Delivery is way too slow compared to other shops", "en", "anger"),
            ("aplikasinya sering error pas bayar", "id", "anger"),
            ("takut beli lagi, kemarin dapat barang rusak", "id", "fear"),
            ("mending beli di marketplace sebelah, lebih cepat sampai", "id", "anger"),
            ("kecewa, ekspektasi tinggi tapi pelayanan mengecewakan", "id", "sadness"),
            ("service after sales-nya zonk banget", "mixed", "anger"),
        ],
    },
}

PRODUCTS = ("serum", "toner", "sunscreen", "moisturizer", "facial wash", "essence",
            "sheet mask", "clay mask", "eye cream", "cleansing balm", "exfoliating toner",
            "night cream")

# Slang spellings: (standard word, variants). Applied to Indonesian and mixed texts.
_SLANG: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("banget", ("banget", "bgt", "bngt", "bangettt", "bgtt")),
    ("sudah", ("sudah", "udh", "udah", "dah")),
    ("gak", ("gak", "ga", "nggak", "gk", "engga")),
    ("cepat", ("cepat", "cepet", "cpt")),
    ("yang", ("yang", "yg")),
    ("terima kasih", ("terima kasih", "makasih", "makasi", "trims", "thx")),
    ("sampai", ("sampai", "sampe", "nyampe")),
    ("pakai", ("pakai", "pake")),
    ("lama", ("lama", "lamaa", "lama")),
    ("kalau", ("kalau", "kalo", "klo")),
    ("dapat", ("dapat", "dapet", "dpt")),
    ("lihat", ("lihat", "liat")),
    ("tidak", ("tidak", "gak", "tdk")),
    ("datang", ("datang", "dateng")),
    ("kelihatan", ("kelihatan", "keliatan")),
    ("teman", ("teman", "temen")),
    ("malam", ("malam", "malem")),
    ("hilang", ("hilang", "ilang")),
)

_OPENERS = {
    "chat": ("", "", "kak ", "min ", "halo kak, ", "permisi kak, ", "ka ", "gan "),
    "review": ("", "", "", "overall ", "jujur ", "review jujur: "),
    "nps": ("", "", ""),
}
_CLOSERS = {
    "positive": ("", "", " 😍", " 🥰", " ❤️", "!!", " 👍", " ✨", " makasih kak",
                 " sukses terus ya"),
    "neutral": ("", "", "", " 🙏", " ya kak", " kak", "?"),
    "negative": ("", "", " 😡", " 😭", " 😤", "!!", " 🙄", " kecewa", " hadeh", " huft"),
}


def vary(text: str, language: str, polarity: str, kind: str, rng: np.random.Generator) -> str:
    """Return a variant of ``text``: slang spellings, an opener, a closer, emoji, case.

    Examples
    --------
    >>> import numpy as np
    >>> out = vary("sudah sampai, bagus banget", "id", "positive", "review",
    ...            np.random.default_rng(1))
    >>> isinstance(out, str) and len(out) > 0
    True
    """
    out = text
    if language != "en":
        for word, variants in _SLANG:
            if word in out and rng.random() < 0.75:
                out = out.replace(word, variants[rng.integers(len(variants))])
    openers = _OPENERS.get(kind, ("",))
    opener = openers[rng.integers(len(openers))]
    low = f" {out.lower()}"
    if language == "en" or any(w in low for w in (" kak", " ka ", " min ", " min?", " gan ")):
        opener = ""  # do not greet twice
    closer = _CLOSERS[polarity][rng.integers(len(_CLOSERS[polarity]))]
    if language == "en" and closer.strip().isalpha():
        closer = ""
    out = f"{opener}{out}{closer}".strip()
    if rng.random() < 0.15:
        out = out.lower()
    elif rng.random() < 0.2 and out:
        out = out[0].upper() + out[1:]
    return out


def _pick(topic: str, polarity: str, rng: np.random.Generator) -> T:
    pool = TEMPLATES[topic][polarity]
    return pool[rng.integers(len(pool))]


def _polarity(probs: dict[str, float], rng: np.random.Generator) -> str:
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=float)
    return keys[rng.choice(len(keys), p=p / p.sum())]


_RATING = {"positive": ((4, 5), (0.25, 0.75)), "neutral": ((3, 4), (0.6, 0.4)),
           "negative": ((1, 2, 3), (0.4, 0.35, 0.25))}


def render_texts(
    events: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write the texts and NPS answers of the customers in ``events``.

    Polarity follows the planted truth of :func:`~journeymine.datasets.make_journeys`:
    customer-support chats are mostly complaints, customers whose first
    delivery was slow complain about it ("lama banget"), customers sent from
    the app to the website complain about the switch, and packaging, stores
    and the loyalty programme delight.

    Parameters
    ----------
    events : pandas.DataFrame
        Events as built by the generator (customer_id, touchpoint, timestamp,
        channel, stage, revenue), sorted by customer and time.
    rng : numpy.random.Generator

    Returns
    -------
    texts, nps : pandas.DataFrame
    """
    ev = events.reset_index(drop=True)
    cust = ev["customer_id"].to_numpy()
    tp = ev["touchpoint"].to_numpy()
    ts = ev["timestamp"]
    ch = ev["channel"].to_numpy()
    same_next = np.r_[cust[1:] == cust[:-1], False]
    same_prev = np.r_[False, cust[1:] == cust[:-1]]
    next_tp = np.r_[tp[1:], None]
    prev_ch = np.r_[None, ch[:-1]]
    gap_next = (ts.shift(-1) - ts).dt.total_seconds().to_numpy() / 86400.0

    # Per-customer experience: slowest first delivery and whether support was needed.
    slow_days: dict[str, float] = {}
    pay_to_del = same_next & (tp == "payment") & (next_tp == "delivery")
    for c, d in zip(cust[pay_to_del], gap_next[pay_to_del], strict=True):
        slow_days[c] = max(slow_days.get(c, 0.0), d)
    had_support = set(cust[tp == "customer_support"])
    loyal = set(cust[tp == "loyalty_program"])

    rows: list[dict] = []

    def add(i: int, when, touchpoint: str, channel: str, topic: str, polarity: str,
            kind: str, rating=np.nan, days: float = 0.0) -> None:
        text, lang, emotion = _pick(topic, polarity, rng)
        text = text.replace("{p}", PRODUCTS[rng.integers(len(PRODUCTS))])
        text = text.replace("{n}", str(max(2, round(days))))
        rows.append({
            "customer_id": cust[i], "timestamp": when, "touchpoint": touchpoint,
            "channel": channel, "text": vary(text, lang, polarity, kind, rng),
            "rating": rating, "language": lang, "kind": kind,
            "emotion": emotion, "sentiment": polarity,
        })

    def stars(polarity: str) -> float:
        values, probs = _RATING[polarity]
        return float(values[rng.choice(len(values), p=probs)])

    for i in range(len(ev)):
        c, t = cust[i], tp[i]
        slow = slow_days.get(c, 0.0)
        if t == "review":
            if slow > 4.0 and rng.random() < min(0.7, 0.09 * slow):
                pol, topic = "negative", "review_delivery_slow"
            elif c in had_support and rng.random() < 0.6:
                pol, topic = "negative", "review_product"
            else:
                pol = _polarity({"positive": 0.72, "neutral": 0.16, "negative": 0.12}, rng)
                topic = "review_product"
                if pol == "positive":
                    w = np.array(_topic_weights(c in loyal, ch[i] == "store"))
                    topic = _POSITIVE_TOPICS[rng.choice(len(w), p=w / w.sum())]
            add(i, ts[i], "review", ch[i], topic, pol, "review", stars(pol), slow)
        elif t == "customer_support":
            if slow > 4.0 and rng.random() < 0.4:
                add(i, ts[i], t, "chat", "waiting_delivery", "negative", "chat", days=slow)
            else:
                pol = _polarity({"negative": 0.82, "neutral": 0.12, "positive": 0.06}, rng)
                add(i, ts[i], t, "chat", "support", pol, "chat")
        elif t == "whatsapp_chat" and rng.random() < 0.6:
            pol = _polarity({"neutral": 0.66, "positive": 0.16, "negative": 0.18}, rng)
            add(i, ts[i], t, "chat", "chat_question", pol, "chat")
        elif (t == "website_product_page" and same_prev[i] and prev_ch[i] == "app"
              and rng.random() < 0.3):
            add(i, ts[i] + pd.Timedelta(seconds=int(rng.integers(20, 300))), t, "chat",
                "channel_switch", "negative", "chat")
        elif t == "loyalty_program" and rng.random() < 0.12:
            add(i, ts[i] + pd.Timedelta(minutes=int(rng.integers(1, 30))), t, "app",
                "loyalty", "positive", "review", stars("positive"))
        if pay_to_del[i] and gap_next[i] > 3.5 and rng.random() < 0.35:
            wait = float(rng.uniform(2.5, gap_next[i] - 0.2))
            add(i, ts[i] + pd.Timedelta(seconds=round(wait * 86400)), "delivery", "chat",
                "waiting_delivery", "negative", "chat", days=wait)

    # NPS: surveyed one to two days after the first delivery or store purchase.
    nps_rows: list[dict] = []
    first_done = (tp == "delivery") | (tp == "store_purchase")
    seen: set[str] = set()
    for i in np.flatnonzero(first_done):
        c = cust[i]
        if c in seen:
            continue
        seen.add(c)
        if rng.random() >= 0.45:
            continue
        slow = slow_days.get(c, 0.0) if tp[i] == "delivery" else 0.0
        if c in had_support or slow > 6.0:
            probs = {"negative": 0.75, "neutral": 0.15, "positive": 0.1}
        elif slow > 4.5:
            probs = {"negative": 0.35, "neutral": 0.35, "positive": 0.3}
        else:
            probs = {"negative": 0.08, "neutral": 0.27, "positive": 0.65}
        pol = _polarity(probs, rng)
        score = int({"negative": rng.integers(0, 7), "neutral": rng.integers(7, 9),
                     "positive": rng.integers(9, 11)}[pol])
        when = ts[i] + pd.Timedelta(seconds=int(rng.integers(86400, 2 * 86400)))
        comment = ""
        if rng.random() < 0.7:
            topic = "loyalty" if (pol == "positive" and c in loyal
                                  and rng.random() < 0.4) else "nps"
            add(i, when, tp[i], "chat", topic, pol, "nps",
                days=slow if slow else 0.0)
            comment = rows[-1]["text"]
        nps_rows.append({"customer_id": c, "timestamp": when, "touchpoint": tp[i],
                         "score": score, "comment": comment})

    texts = pd.DataFrame(rows, columns=[
        "customer_id", "timestamp", "touchpoint", "channel", "text", "rating", "language",
        "kind", "emotion", "sentiment"])
    texts = texts.sort_values(["customer_id", "timestamp"], kind="stable")
    nps = pd.DataFrame(nps_rows,
                       columns=["customer_id", "timestamp", "touchpoint", "score", "comment"])
    return texts.reset_index(drop=True), nps.sort_values(
        ["customer_id", "timestamp"], kind="stable").reset_index(drop=True)


_POSITIVE_TOPICS = ("review_product", "review_packaging", "advocacy", "loyalty", "review_store")


def _topic_weights(loyal: bool, store: bool) -> list[float]:
    """Topic probabilities of a positive review (product, packaging, advocacy,
    loyalty, store)."""
    if store:
        return [0.3, 0.0, 0.1, 0.2 if loyal else 0.0, 0.4 if loyal else 0.6]
    return [0.55, 0.25, 0.12, 0.08 if loyal else 0.0, 0.0 if loyal else 0.08]
