"""The one table of chat slang and abbreviations, mapped to the standard words.

Both text normalisers read this table: :func:`~journeymine.sentiment._data.normalize_text`
(before the emotion model tokenises Indonesian and code-mixed text; multi-word
keys such as ``"fast respon"`` match there only) and
:func:`~journeymine.sentiment._phrases.normalize_slang` (key phrases, token by
token). Keys are lower case; an Indonesian abbreviation expands to Indonesian
(``tks`` is *terima kasih*), an English one to English (``thx`` is *thanks*).
Letters repeated three or more times are collapsed before the lookup, so no
key needs an elongated spelling. Changing the table changes the model's input:
bump :data:`~journeymine.sentiment._data.NORMALIZER_VERSION` with it.
"""

from __future__ import annotations

__all__ = ["SLANG"]

#: Chat abbreviations and spelling variants, mapped to the standard word(s).
SLANG: dict[str, str] = {
    # negation
    "gak": "tidak", "ga": "tidak", "gk": "tidak", "g": "tidak", "nggak": "tidak",
    "ngga": "tidak", "enggak": "tidak", "engga": "tidak", "ndak": "tidak", "tdk": "tidak",
    "kagak": "tidak", "gaada": "tidak ada", "gada": "tidak ada", "gabisa": "tidak bisa",
    "gatau": "tidak tahu", "blm": "belum", "blum": "belum", "belom": "belum", "bkn": "bukan",
    # intensifiers and judgements
    "bgt": "banget", "bngt": "banget", "bgtt": "banget", "bangett": "banget", "sgt": "sangat",
    "bener": "benar", "bnr": "benar", "bgs": "bagus", "bgus": "bagus", "mantab": "mantap",
    "mantul": "mantap betul", "cpt": "cepat", "cepet": "cepat", "lmbt": "lambat",
    "kzl": "kesal", "kesel": "kesal", "bete": "kesal", "bngs": "bangsat",
    "rekomen": "rekomendasi", "ori": "original", "respon": "respons",
    "fast respon": "cepat respons", "slow respon": "lambat respons",
    "mager": "malas gerak", "gercep": "gerak cepat",
    # time and aspect
    "udh": "sudah", "udah": "sudah", "sdh": "sudah", "dah": "sudah", "tlh": "telah",
    "lg": "lagi", "lgi": "lagi", "skrg": "sekarang", "skg": "sekarang", "kmrn": "kemarin",
    "bsk": "besok", "msh": "masih", "masi": "masih", "br": "baru",
    # function words
    "yg": "yang", "dgn": "dengan", "dg": "dengan", "krn": "karena", "karna": "karena",
    "krna": "karena", "tp": "tapi", "tpi": "tapi", "jg": "juga", "jga": "juga", "sm": "sama",
    "utk": "untuk", "untk": "untuk", "dr": "dari", "dri": "dari", "klo": "kalau",
    "kalo": "kalau", "kl": "kalau", "aja": "saja", "aj": "saja", "doang": "saja",
    "trs": "terus", "trus": "terus", "bs": "bisa", "bsa": "bisa", "sy": "saya", "ak": "aku",
    "gw": "saya", "gue": "saya", "gua": "saya", "km": "kamu", "org": "orang",
    "dll": "dan lain-lain", "dsb": "dan sebagainya", "tsb": "tersebut", "spt": "seperti",
    "kyk": "kayak", "gmn": "bagaimana", "gimana": "bagaimana", "bgmn": "bagaimana",
    "knp": "kenapa", "napa": "kenapa", "emg": "memang", "emang": "memang", "mmg": "memang",
    "bbrp": "beberapa", "pd": "pada", "tau": "tahu", "tdi": "tadi", "td": "tadi",
    "sampe": "sampai", "nyampe": "sampai", "nyampai": "sampai", "smp": "sampai",
    "pengen": "ingin", "pgn": "ingin", "mo": "mau", "hrs": "harus", "lbh": "lebih",
    "cm": "cuma", "jd": "jadi", "jdi": "jadi", "pdhl": "padahal", "pdhal": "padahal",
    "dipake": "dipakai", "pake": "pakai", "bnyk": "banyak", "byk": "banyak", "dlm": "dalam",
    "ttg": "tentang", "brg": "barang", "dapet": "dapat",
    # thanks
    "makasih": "terima kasih", "makasi": "terima kasih", "mksh": "terima kasih",
    "trims": "terima kasih", "tks": "terima kasih", "thx": "thanks",
    # English chat
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "bc": "because",
    "cuz": "because", "coz": "because", "dont": "don't", "cant": "can't", "wont": "won't",
    "didnt": "didn't", "doesnt": "doesn't", "isnt": "isn't", "im": "i'm", "ive": "i've",
}
