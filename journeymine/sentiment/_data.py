"""Training data for the emotion model, label sets, and light text preparation.

Loaders for the labelled corpora used to train the default emotion model (they
live outside the package, default ``../shared/data``; never bundled):

* IndoNLU **EmoT** -- Indonesian tweets, 5 emotions (CSV ``label,tweet``).
* IndoNLU **SmSA** -- Indonesian reviews and comments, 3 sentiments
  (TSV ``text<TAB>label``, no header, read with quoting off).
* **GoEmotions** regrouped by Ekman emotions and by sentiment groups
  (TSVs ``text<TAB>ids<TAB>id``, multi-label, ids index ``*_labels.txt``).

Every loader returns one frame with the same columns (see :data:`FRAME_COLUMNS`):
``emotion`` and ``sentiment`` hold *candidate sets* -- tuples of the labels the
text was annotated with (one label for a single-label row, several for a
multi-label GoEmotions row, empty when the dataset says nothing about that task).
Which labels a dataset can express at all is in :data:`EMOTION_SUPPORT` and
:data:`SENTIMENT_SUPPORT`; the training loss never pushes a label down on a
dataset that cannot express it (see :mod:`journeymine.sentiment._loss`).

The module also holds the two small pieces of text handling shared by the
model and the TF-IDF baseline: :func:`detect_language` (lexicon-based
``'id'``/``'en'``/``'mixed'``) and :func:`normalize_text` (slang and elongation
normalisation for Indonesian, applied before tokenising; the slang table is
:data:`journeymine.sentiment._slang.SLANG`, shared with the key phrases).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from journeymine.exceptions import InvalidParameterError, JourneymineError, ReadError
from journeymine.sentiment._slang import SLANG

__all__ = [
    "DATASETS",
    "EMOTIONS",
    "EMOTION_SUPPORT",
    "FRAME_COLUMNS",
    "NORMALIZER_VERSION",
    "SENTIMENTS",
    "SENTIMENT_SUPPORT",
    "default_data_dir",
    "detect_language",
    "load_dataset",
    "load_emot",
    "load_goemotions",
    "load_smsa",
    "normalize_text",
    "read_eval_csv",
    "stratified_subsample",
    "texts_sha",
]

EMOTIONS: tuple[str, ...] = (
    "joy",
    "love",
    "surprise",
    "anger",
    "disgust",
    "fear",
    "sadness",
    "neutral",
)
"""Emotion labels of the tagger, in column order."""

SENTIMENTS: tuple[str, ...] = ("positive", "neutral", "negative")
"""Sentiment labels of the tagger, in column order."""

DATASETS: tuple[str, ...] = ("emot", "smsa", "goemotions")
"""Names accepted by :func:`load_dataset`."""

FRAME_COLUMNS: tuple[str, ...] = (
    "dataset",
    "split",
    "text",
    "emotion",
    "sentiment",
    "source_label",
)
"""Columns of every loader's frame."""

#: Emotion labels each dataset can express (its label mask for the emotion head).
#: SmSA has no emotion annotation; its sentiment gives weak candidate sets
#: (see :data:`SENTIMENT_TO_EMOTIONS`), so it can express all eight.
EMOTION_SUPPORT: dict[str, tuple[str, ...]] = {
    "emot": ("joy", "love", "anger", "fear", "sadness"),
    "goemotions": ("joy", "surprise", "anger", "disgust", "fear", "sadness", "neutral"),
    "smsa": EMOTIONS,
    # the generated review/chat set (journeymine.sentiment._domain): seven labels;
    # disgust is in its mask, so its rows push disgust down
    "domain": EMOTIONS,
}

#: Sentiment labels each dataset can express (its label mask for the sentiment head).
SENTIMENT_SUPPORT: dict[str, tuple[str, ...]] = {
    "emot": ("positive", "negative"),
    "goemotions": SENTIMENTS,
    "smsa": SENTIMENTS,
    "domain": SENTIMENTS,
}

#: EmoT label -> tagger label.
EMOT_MAP = {"anger": "anger", "fear": "fear", "happy": "joy", "love": "love", "sadness": "sadness"}

#: Sentiment implied by an emotion (used for EmoT, which has no sentiment labels).
EMOTION_TO_SENTIMENT = {
    "joy": "positive",
    "love": "positive",
    "anger": "negative",
    "disgust": "negative",
    "fear": "negative",
    "sadness": "negative",
    "neutral": "neutral",
}

#: Weak emotion candidate set implied by a SmSA sentiment label: a positive
#: review expresses joy or love, never anger; a neutral one no emotion.
#: *surprise* is left out on purpose: a label that is a candidate of every
#: positive *and* every negative row would satisfy the loss for all of them,
#: and the model would learn to call every Indonesian review a surprise.
SENTIMENT_TO_EMOTIONS = {
    "positive": ("joy", "love"),
    "neutral": ("neutral",),
    "negative": ("anger", "disgust", "fear", "sadness"),
}

_GROUP_MAP = {
    "positive": "positive",
    "negative": "negative",
    "neutral": "neutral",
}  # ambiguous: none


def default_data_dir() -> Path:
    """Return the training-data directory: ``$JOURNEYMINE_DATA`` or ``../shared/data``.

    The relative default is resolved against the repository root (two levels
    above this package), which is where development and CI keep it.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> default_data_dir().name
    'data'
    """
    env = os.environ.get("JOURNEYMINE_DATA")
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[2]
    return (repo.parent / "shared" / "data").resolve()


def _check_split(split: str) -> str:
    if split not in ("train", "valid"):
        raise InvalidParameterError(
            f"Unknown split {split!r}.",
            expected="'train' or 'valid'.",
            fix="Pass split='train' or split='valid'.",
        )
    return split


def _need(path: Path) -> Path:
    if not path.is_file():
        raise ReadError(
            f"Training data file {str(path)!r} does not exist.",
            expected="the IndoNLU/GoEmotions layout described in shared/data/README.md.",
            fix="Pass data_dir=... pointing at the folder that holds indonlu/ and goemotions/.",
        )
    return path


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    return df.reset_index(drop=True)


def _unquote(field: str) -> str:
    """Undo CSV quoting of one field that may have lost its closing quote."""
    field = field.strip()
    if field.startswith('"'):
        field = field[1:]
        if (field.endswith('"') and not field.endswith('""')) or field.endswith('"""'):
            field = field[:-1]
        field = field.replace('""', '"')
    return field.strip()


def load_emot(split: str = "train", data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load IndoNLU EmoT (Indonesian tweets, 5 emotions).

    The file is read one record per line: every line starts with a label, and a
    few rows are malformed (``;`` instead of ``,`` after the label, or an opening
    quote that is never closed), which a standard CSV reader would merge into the
    previous row. ``happy`` becomes ``joy``; the sentiment implied by the
    emotion (joy/love positive, anger/fear/sadness negative) is filled in.

    Parameters
    ----------
    split : {'train', 'valid'}
    data_dir : path-like, optional
        Folder holding ``indonlu/``; default :func:`default_data_dir`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FRAME_COLUMNS`.

    Examples
    --------
    >>> df = load_emot("valid")  # doctest: +SKIP
    >>> df.emotion.str[0].value_counts().to_dict()  # doctest: +SKIP
    {'anger': 110, 'joy': 102, 'sadness': 99, 'fear': 65, 'love': 64}
    """
    _check_split(split)
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    path = _need(root / "indonlu" / "emot" / f"{split}.csv")
    rows = []
    pattern = re.compile(r"^\s*(" + "|".join(EMOT_MAP) + r")\s*[,;]\s*(.*)$", re.DOTALL)
    lines = path.read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines, start=1):
        if lineno == 1 and line.strip().lower().startswith("label"):
            continue
        m = pattern.match(line)
        if m is None:
            if line.strip() and rows:  # continuation of a multi-line quoted tweet
                rows[-1]["text"] = _unquote(rows[-1]["_raw"] + "\n" + line)
                rows[-1]["_raw"] += "\n" + line
            continue
        label, raw = m.group(1), m.group(2)
        text = _unquote(raw)
        if not text:
            continue
        emotion = EMOT_MAP[label]
        rows.append(
            {
                "dataset": "emot",
                "split": split,
                "text": text,
                "emotion": (emotion,),
                "sentiment": (EMOTION_TO_SENTIMENT[emotion],),
                "source_label": label,
                "_raw": raw,
            }
        )
    for row in rows:
        del row["_raw"]
    return _frame(rows)


def load_smsa(split: str = "train", data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load IndoNLU SmSA (Indonesian reviews and comments, 3 sentiments).

    ``emotion`` holds the weak candidate set implied by the sentiment
    (:data:`SENTIMENT_TO_EMOTIONS`). Lines without exactly one tab-separated
    known label are skipped.

    Parameters
    ----------
    split : {'train', 'valid'}
    data_dir : path-like, optional
        Folder holding ``indonlu/``; default :func:`default_data_dir`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FRAME_COLUMNS`.

    Examples
    --------
    >>> load_smsa("valid").shape  # doctest: +SKIP
    (1260, 6)
    """
    _check_split(split)
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    path = _need(root / "indonlu" / "smsa" / f"{split}.tsv")
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text, sep, label = line.rpartition("\t")
        label = label.strip().lower()
        if not sep or label not in SENTIMENTS or not text.strip():
            continue
        rows.append(
            {
                "dataset": "smsa",
                "split": split,
                "text": text.strip(),
                "emotion": SENTIMENT_TO_EMOTIONS[label],
                "sentiment": (label,),
                "source_label": label,
            }
        )
    return _frame(rows)


def _read_goemotions(path: Path, labels: list[str]) -> pd.DataFrame:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        text, ids, rid = parts
        try:
            idx = sorted({int(i) for i in re.split(r"[,;]", ids) if i.strip()})
        except ValueError:
            continue
        if not idx or any(i < 0 or i >= len(labels) for i in idx):
            continue
        rows.append((rid, text.strip(), tuple(labels[i] for i in idx)))
    return pd.DataFrame(rows, columns=["id", "text", "labels"])


def load_goemotions(
    split: str = "train", data_dir: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Load GoEmotions with Ekman emotions and sentiment groups (English Reddit).

    The Ekman and group files are joined on the comment id. Multi-label rows
    keep all their labels as a candidate set; ``ambiguous`` (realisation,
    surprise, curiosity, confusion) is not a sentiment, so it is dropped from
    the sentiment set (a row that is *only* ambiguous has no sentiment label).
    The split ``'valid'`` reads ``*_dev.tsv``.

    Parameters
    ----------
    split : {'train', 'valid'}
    data_dir : path-like, optional
        Folder holding ``goemotions/``; default :func:`default_data_dir`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FRAME_COLUMNS`; ``source_label`` is the comma-joined
        Ekman labels.

    Examples
    --------
    >>> df = load_goemotions("valid")  # doctest: +SKIP
    >>> (df.emotion.str.len() == 1).sum()  # single-label rows  # doctest: +SKIP
    4944
    """
    _check_split(split)
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    name = "train" if split == "train" else "dev"
    gdir = root / "goemotions"
    ek_labels = _need(gdir / "ekman_labels.txt").read_text(encoding="utf-8").split()
    gr_labels = _need(gdir / "group_labels.txt").read_text(encoding="utf-8").split()
    ekman = _read_goemotions(_need(gdir / f"ekman_{name}.tsv"), ek_labels)
    group = _read_goemotions(_need(gdir / f"group_{name}.tsv"), gr_labels)
    group = group.drop_duplicates("id").set_index("id")["labels"]
    unknown = set(ek_labels) - set(EMOTIONS)
    if unknown:
        raise JourneymineError(
            f"GoEmotions Ekman labels {sorted(unknown)} are not tagger emotions.",
            expected="labels among " + ", ".join(EMOTIONS) + ".",
            fix="Point data_dir at the GoEmotions Ekman regrouping (ekman_labels.txt of "
            "monologg/GoEmotions-pytorch).",
        )
    rows = []
    for rid, text, labels in ekman.itertuples(index=False):
        if not text:
            continue
        groups = group.get(rid, ())
        sentiment = tuple(_GROUP_MAP[g] for g in groups if g in _GROUP_MAP)
        rows.append(
            {
                "dataset": "goemotions",
                "split": split,
                "text": text,
                "emotion": labels,
                "sentiment": sentiment,
                "source_label": ",".join(labels),
            }
        )
    return _frame(rows)


_LOADERS = {"emot": load_emot, "smsa": load_smsa, "goemotions": load_goemotions}


def load_dataset(
    name: str, split: str = "train", data_dir: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
    """Load one training corpus by name (``'emot'``, ``'smsa'`` or ``'goemotions'``).

    Parameters
    ----------
    name : {'emot', 'smsa', 'goemotions'}
    split : {'train', 'valid'}
    data_dir : path-like, optional

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FRAME_COLUMNS`.

    Examples
    --------
    >>> load_dataset("nope")
    Traceback (most recent call last):
    ...
    journeymine.exceptions.InvalidParameterError: Unknown dataset 'nope'. Expected: one of ...
    """
    if name not in _LOADERS:
        raise InvalidParameterError(
            f"Unknown dataset {name!r}.",
            expected="one of " + ", ".join(DATASETS) + ".",
            fix="Pass name='emot', 'smsa' or 'goemotions'.",
        )
    return _LOADERS[name](split, data_dir)


def stratified_subsample(df: pd.DataFrame, n: int, random_state: int = 0) -> pd.DataFrame:
    """Draw ``n`` rows stratified by ``source_label`` (seeded; all rows if ``n >= len``).

    Parameters
    ----------
    df : pandas.DataFrame
        A loader's frame.
    n : int
        Rows to keep.
    random_state : int, default 0

    Returns
    -------
    pandas.DataFrame
        The rows, in their original order.

    Examples
    --------
    >>> df = pd.DataFrame({"source_label": list("aaaabbbbbbbb"), "text": list("abcdefghijkl")})
    >>> stratified_subsample(df, 6).source_label.value_counts().to_dict()
    {'b': 4, 'a': 2}
    """
    if n >= len(df):
        return df.copy()
    rng = np.random.default_rng(random_state)
    counts = df["source_label"].value_counts()
    quota = (counts / counts.sum() * n).round().astype(int).clip(lower=1)
    keep = []
    for label, k in quota.items():
        idx = np.flatnonzero(df["source_label"].to_numpy() == label)
        keep.append(rng.choice(idx, size=min(k, len(idx)), replace=False))
    chosen = np.sort(np.concatenate(keep))
    return df.iloc[chosen].copy()


def texts_sha(texts: list[str], *parts: object) -> str:
    """Return a sha256 that identifies a list of texts plus settings (cache keys).

    Examples
    --------
    >>> texts_sha(["a", "b"], 128) == texts_sha(["a", "b"], 128)
    True
    >>> texts_sha(["a", "b"]) == texts_sha(["ab"])
    False
    """
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8") + b"\x00")
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\x00")
    return digest.hexdigest()


# --------------------------------------------------------------- language + slang

_ID_WORDS = frozenset(
    """
    yang dan di ke dari ini itu tidak nggak gak ga gk ngga enggak engga ndak tdk ya yg sudah
    udah udh dah sdh belum blm saya aku gue gua gw kamu kak kakak min admin mas mbak dengan
    dgn untuk utk karena krn karna tapi tp tpi juga jg aja saja sama sm banget bgt bngt lagi
    lg bisa bsa ada adalah akan atau kalau kalo klo jadi jd jdi sangat sekali buat dong deh
    sih nih kok lho loh kan mau pengen ingin harus hrs masih lebih lbh kurang cuma cm hanya
    pas baru lama cepat cepet bagus bgs jelek enak mantap mantul murah mahal pengiriman
    barang brg paket kurir ongkir toko produk kecewa puas senang sedih marah takut kesal
    kesel banyak byk semua sampai sampe nyampe dapat dapet terima kasih makasih mksh gimana
    bagaimana kenapa knp apa siapa kapan mana sini situ begitu gitu gini kayak kaya emang
    memang bukan bkn pernah lagi trus terus sekarang skrg nya punya biar supaya agar tolong
    mohon maaf terimakasih wkwk wkwkwk anjir banget udah belom kapok rekomen
    """.split()  # noqa: SIM905
)

_EN_WORDS = frozenset(
    """
    a about account after again all also always am amazing an and angry annoyed annoying app
    are arrive arrived as at awesome awful bad be because been before being best broken but
    by came can't cancel cancelled chart cheap checkout come confirm confirmed could courier
    customer cute damaged damn delivery did didn't disappointed disappointing disgusting do
    does don't error even ever every excellent expensive fast for free from get gift gifts
    good got great gross had happy has hate hated have he help her here him his horrible how
    i i'm in is isn't it it's item items its just lag lagging late like lol love loved
    loving made make many me more most much my need never nice no not of ok okay omg on only
    or order ordered our pack package packaging packed packing paid pay payment perfect
    please price product quality really recommend recommended refund repeat return rude sad
    said say scam seller service she shipped shipping shop should size slow so some sorry
    still super sure terrible than thank thanks that that's the their them then there these
    they this those thx to too top tracking upset very want was wasn't we website well were
    what when where which who why will with won't worst worth would wow wrong wtf yeah yes
    you you're your
    """.split()  # noqa: SIM905
)

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_ID_AFFIX = re.compile(
    r"^(?:me[mn]g?|ber|ter|di|ke|pe[mn]g?)[a-z]{3,}|[a-z]{3,}(?:nya|kan|lah|kah)$"
)


def detect_language(text: str) -> str:
    """Guess whether a short text is Indonesian, English or code-mixed.

    Counts Indonesian and English function words and slang (a small lexicon),
    plus Indonesian affixes (``-nya``, ``me-``, ``ber-``...) as weak evidence.
    A text with both and the minority language at least a quarter of the
    evidence is ``'mixed'``; one with no evidence at all is ``'en'``.

    Parameters
    ----------
    text : str

    Returns
    -------
    {'id', 'en', 'mixed'}

    Examples
    --------
    >>> detect_language("pengiriman lama bgt, kecewa")
    'id'
    >>> detect_language("Love the packaging, thank you!")
    'en'
    >>> detect_language("packagingnya cute banget, love it")
    'mixed'
    """
    words = _WORD.findall(text.lower())
    id_score = en_score = 0.0
    for w in words:
        in_id, in_en = w in _ID_WORDS, w in _EN_WORDS
        if in_id and not in_en:
            id_score += 1
        elif in_en and not in_id:
            en_score += 1
        elif not in_id and not in_en and _ID_AFFIX.match(w):
            id_score += 0.5
    total = id_score + en_score
    if total == 0:
        return "en"
    minority = min(id_score, en_score)
    if minority >= 1 and minority / total >= 0.25:
        return "mixed"
    return "id" if id_score > en_score else "en"


NORMALIZER_VERSION = 2
"""Bumped whenever :func:`normalize_text` changes (part of embedding cache keys)."""

_SLANG_RE = re.compile(
    r"(?<![\w])(" + "|".join(sorted(map(re.escape, SLANG), key=len, reverse=True)) + r")(?![\w])",
    re.IGNORECASE,
)
_LAUGH = re.compile(r"\b(?:wk){2,}w?\b|\b(?:ha){3,}\b")
_REDUP = re.compile(r"\b([a-z]{2,})2\b")
_ELONG = re.compile(r"([a-z])\1{2,}")


def normalize_text(text: str, language: str | None = None) -> str:
    """Lightly normalise informal Indonesian before tokenising.

    Elongations are shortened (``"kecewaaa"`` -> ``"kecewa"``) in every text.
    For Indonesian or code-mixed text (``language`` from :func:`detect_language`
    when not given) common slang and abbreviations are spelled out
    (``bgt`` -> ``banget``, ``gak`` -> ``tidak``, ``udh`` -> ``sudah``...),
    ``wkwk`` becomes ``haha`` and reduplication with ``2`` is written out
    (``hati2`` -> ``hati-hati``). English text is otherwise left alone (``bs``
    is not *bisa* there). Case is kept outside the replaced words.

    Parameters
    ----------
    text : str
    language : {'id', 'en', 'mixed'}, optional

    Returns
    -------
    str

    Examples
    --------
    >>> normalize_text("pengiriman lama bgt, gak sesuai, kecewaaa")
    'pengiriman lama banget, tidak sesuai, kecewa'
    >>> normalize_text("admin fast respon, mantul")
    'admin cepat respons, mantap betul'
    >>> normalize_text("this is sooo bs")
    'this is so bs'
    """
    out = _ELONG.sub(r"\1", text) if _ELONG.search(text.lower()) else text
    if language is None:
        language = detect_language(out)
    if language == "en":
        return out

    def repl(m: re.Match[str]) -> str:
        return SLANG[m.group(1).lower()]

    out = _SLANG_RE.sub(repl, out)
    out = _LAUGH.sub("haha", out)
    out = _REDUP.sub(r"\1-\1", out)
    return out


def read_eval_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a hand-labelled evaluation CSV (``text,language,emotion,sentiment``).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import io
    >>> read_eval_csv(io.StringIO("text,language,emotion,sentiment\\nmantap,id,joy,positive\\n"))
    ... # doctest: +NORMALIZE_WHITESPACE
         text language emotion sentiment
    0  mantap       id     joy  positive
    """
    return pd.read_csv(path, quoting=csv.QUOTE_MINIMAL, keep_default_na=False, comment=None)
