"""Key phrases: what customers say, per touchpoint or stage, in their own words.

A small, dependency-free extractor for short Indonesian, English and
code-mixed texts. Texts are tokenised with chat slang normalised by the one
slang table of :mod:`._slang` (``bgt`` -> ``banget``, ``gak`` -> ``tidak``,
``udh`` -> ``sudah``...), emoji and numbers left out, and the ``-nya`` clitic
removed from long words. Candidate phrases
are unigrams and bigrams without stopwords. A phrase is *distinctive* for a
group when it is used there more than in the other groups, measured by the
log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn
2008, "Fightin' Words", section 3.5): with ``y`` the number of texts of the
group that use the phrase, ``n`` the group's total, ``y'``/``n'`` the same
for the other groups, and a prior ``a`` equal to the phrase's count in the
whole corpus (``a0`` the corpus total),

    delta = log((y + a) / (n + a0 - y - a)) - log((y' + a) / (n' + a0 - y' - a))
    z = delta / sqrt(1 / (y + a) + 1 / (y' + a))

Phrases are ranked by ``z``. Counting texts rather than tokens keeps one long,
repetitive text from dominating.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable

import pandas as pd

from journeymine.sentiment._slang import SLANG

__all__ = ["STOPWORDS", "clauses", "distinctive_phrases", "normalize_slang", "tokenize"]

_ID_STOPWORDS = """
adalah agak agar akan aku amat anda apa apakah apalagi atas atau ayo bagai bagaimana
bahkan bahwa baik banyak begini begitu belakang beliau berapa berikut bersama biar bila
boleh dalam dan dapat dari daripada dengan di dia dialah dini diri dong dulu harus hal
hampir hanya hingga ia ialah ini itu jadi jika juga jua justru kah kak kakak kalau kali
kalian kami kamu kan karena kayak ke kemudian kenapa kepada ketika kita kok lah lain lalu
lebih maka mana masa masih melainkan memang mereka meski min mimin minta mu nah namun
nanti nih nya oleh pada padahal para pasti per pun punya saat saja sambil sama sana saya
se sebab sebagai sebelum sedang sehingga sejak seluruh semua sendiri seperti serta
sesudah setelah si sih siapa situ sore supaya tadi tapi telah tentang terhadap tersebut
terus tetapi toh tuh untuk walau wah ya yaitu yakni yang aja deh dll lho loh sebagainya
hehe wkwk wkwkwk haha hahaha huhu hadeh huft ok oke okay kata katanya jujur sejauh
tolong
"""
_EN_STOPWORDS = """
a about above after again all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i i'm i've if in into is it
it's its itself just me more most my myself of off on once only or other our ours out
over own same she should so some such than that the their theirs them then there these
they this those through to too under until up us was we were what when where which while
who whom why will with would you your yours yourself hi hello hey please thanks thank
got get gets still really one now even lol overall honestly
"""
#: Words never used in a phrase (Indonesian and English function words, chat fillers).
STOPWORDS: frozenset[str] = frozenset((_ID_STOPWORDS + _EN_STOPWORDS).split())

# Negations, intensifiers and modals carry meaning inside a phrase ("tidak
# bisa", "lama banget", "not working") but say nothing alone.
_NEGATION_WORDS = "tidak belum bukan jangan not no never don't can't won't didn't doesn't isn't"
_WEAK_WORDS = """
banget sangat sekali kurang terlalu cukup paling lagi sudah bisa ada pernah mau
very so too much more
"""
_NEGATIONS = frozenset(_NEGATION_WORDS.split())
_WEAK = _NEGATIONS | frozenset(_WEAK_WORDS.split())

_URL = re.compile(r"https?://\S+|www\.\S+|\S+@\S+")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# Punctuation and emoji end a clause: no phrase spans them.
_CLAUSE = re.compile(r"[^\w\s'-]+|_+")
_REPEAT = re.compile(r"(.)\1{2,}|([aiu])\2$")  # "lamaaa", "lamaa" -> "lama"


def normalize_slang(token: str) -> list[str]:
    """The standard word(s) for a lower-case chat token.

    Examples
    --------
    >>> normalize_slang("bgt"), normalize_slang("gabisa"), normalize_slang("mantap")
    (['banget'], ['tidak', 'bisa'], ['mantap'])
    """
    return SLANG.get(token, token).split()


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` with slang normalised, for phrase extraction.

    Emoji, punctuation, URLs and numbers are left out; letters repeated three
    or more times are collapsed (``lamaaa`` -> ``lama``); the Indonesian
    ``-nya`` clitic is removed from words longer than six letters
    (``pengirimannya`` -> ``pengiriman``); a final doubled ``a``/``i``/``u``
    is an elongation too (``lamaa`` -> ``lama``).

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str

    Examples
    --------
    >>> tokenize("Pengirimannya lamaaa bgt, gak sampe2 😡 https://x.id")
    ['pengiriman', 'lama', 'banget', 'tidak', 'sampai']
    """
    return [t for clause in clauses(text) for t in clause]


def clauses(text: str) -> list[list[str]]:
    """:func:`tokenize` per clause (punctuation and emoji split clauses).

    Examples
    --------
    >>> clauses("gak bisa login, kecewa 😡 kapok")
    [['tidak', 'bisa', 'login'], ['kecewa'], ['kapok']]
    """
    out = []
    for part in _CLAUSE.split(_URL.sub(" . ", str(text).lower())):
        tokens: list[str] = []
        for raw in _TOKEN.findall(part):
            word = _REPEAT.sub(lambda m: m.group(1) or m.group(2), raw)
            if word[0].isdigit():  # a number ends the phrase: "udah 5 hari"
                if tokens:
                    out.append(tokens)
                tokens = []
                continue
            word = re.sub(r"\d+$", "", word)  # "sampe2" -> "sampe"
            if word not in SLANG and len(word) > 6 and word.endswith("nya"):
                word = word[:-3]
            tokens.extend(normalize_slang(word))
        if tokens:
            out.append(tokens)
    return out


def content_words(text: str) -> frozenset[str]:
    """The distinct non-stopword tokens of ``text`` (for near-duplicate checks)."""
    return frozenset(t for t in tokenize(text) if t not in STOPWORDS)


def _bigram_ok(a: str, b: str) -> bool:
    if a in STOPWORDS or b in STOPWORDS or a == b:
        return False
    # two weak words only as a negation of a modal ("tidak bisa", "belum ada")
    return not (a in _WEAK and b in _WEAK) or (a in _NEGATIONS and b not in _NEGATIONS)


def _candidates(text: str) -> set[str]:
    """The unigram and bigram phrases a text offers (each once)."""
    out: set[str] = set()
    for tokens in clauses(text):
        out.update(t for t in tokens if t not in STOPWORDS and t not in _WEAK and len(t) > 2)
        out.update(f"{a} {b}" for a, b in itertools.pairwise(tokens) if _bigram_ok(a, b))
    return out


def _content(phrase: str) -> set[str]:
    return {w for w in phrase.split() if w not in _WEAK}


def distinctive_phrases(
    texts: Iterable[str],
    groups: Iterable,
    *,
    n: int = 8,
    min_count: int = 2,
) -> pd.DataFrame:
    """The phrases most distinctive of each group, by log-odds with a Dirichlet prior.

    Parameters
    ----------
    texts : iterable of str
        The texts.
    groups : iterable
        The group of each text (e.g. its touchpoint); nulls are ignored.
    n : int, default 8
        Phrases per group.
    min_count : int, default 2
        A phrase must appear in at least this many texts of the group.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``rank`` (1 = most distinctive), ``phrase``, ``texts``
        (texts of the group using it), ``share`` (of the group's texts) and
        ``z`` (the prior-smoothed log-odds z-score against the other groups).
        Within a group, a phrase sharing a content word with a better-ranked
        one is skipped, so the list is not ten variants of one complaint.

    Examples
    --------
    >>> texts = ["pengiriman lama bgt", "pengirimannya lamaaa banget, kecewa",
    ...          "kulit jadi lembab", "kulitku lembab bgt"]
    >>> top = distinctive_phrases(texts, ["delivery", "delivery", "review", "review"], n=1)
    >>> top[["group", "phrase", "texts"]].values.tolist()
    [['delivery', 'lama banget', 2], ['review', 'lembab', 2]]
    """
    frame = pd.DataFrame({"text": list(texts), "group": list(groups)}).dropna()
    columns = ["group", "rank", "phrase", "texts", "share", "z"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    per_group: dict = {}
    sizes: Counter = Counter()
    for text, group in zip(frame["text"], frame["group"], strict=True):
        per_group.setdefault(group, Counter()).update(_candidates(text))
        sizes[group] += 1
    corpus: Counter = Counter()
    for counts in per_group.values():
        corpus.update(counts)
    a0 = sum(corpus.values())
    rows = []
    for group, counts in per_group.items():
        n_i = sum(counts.values())
        n_j = a0 - n_i
        scored = []
        for phrase, y_i in counts.items():
            if y_i < min_count:
                continue
            a = corpus[phrase]
            y_j = a - y_i
            delta = (math.log((y_i + a) / (n_i + a0 - y_i - a))
                     - math.log((y_j + a) / (n_j + a0 - y_j - a)))
            z = delta / math.sqrt(1.0 / (y_i + a) + 1.0 / (y_j + a))
            scored.append((-z, -y_i, -phrase.count(" "), phrase))
        kept: list[tuple[str, int, float]] = []
        used: set[str] = set()
        for neg_z, _, _, phrase in sorted(scored):
            if len(kept) == n:
                break
            if _content(phrase) & used:
                continue
            used |= _content(phrase)
            kept.append((phrase, counts[phrase], -neg_z))
        rows += [(group, rank, phrase, y, y / sizes[group], z)
                 for rank, (phrase, y, z) in enumerate(kept, start=1)]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["group", "rank"], kind="stable").reset_index(drop=True)
