"""Journey stages and the :class:`StageMap` from touchpoints to stages."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from journeymine.exceptions import ReadError, StageError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["STAGES", "StageMap", "normalize_stage"]

#: The default journey taxonomy, in order.
STAGES: tuple[str, ...] = ("awareness", "consideration", "purchase", "retention", "advocacy")

# English synonyms and the words Indonesian marketing teams use.
_ALIASES: dict[str, str] = {
    "awareness": "awareness", "aware": "awareness", "discovery": "awareness",
    "kesadaran": "awareness", "pengenalan": "awareness",
    "consideration": "consideration", "evaluation": "consideration",
    "research": "consideration", "interest": "consideration",
    "pertimbangan": "consideration", "ketertarikan": "consideration",
    "purchase": "purchase", "decision": "purchase", "conversion": "purchase",
    "buy": "purchase", "keputusan": "purchase", "pembelian": "purchase",
    "keputusan pembelian": "purchase",
    "retention": "retention", "post-purchase": "retention", "postpurchase": "retention",
    "service": "retention", "loyalty": "retention", "retensi": "retention",
    "pasca-pembelian": "retention", "pasca pembelian": "retention",
    "paska pembelian": "retention", "layanan": "retention",
    "advocacy": "advocacy", "referral": "advocacy", "advokasi": "advocacy",
    "loyalitas": "advocacy", "rekomendasi": "advocacy",
}

# --------------------------------------------------------------------------- keyword guesses
# Names are split into lowercase word tokens (snake_case, kebab-case, camelCase,
# spaces, digits dropped) and rules match whole tokens, so "adidas" is no ad and
# "payment_error" is no purchase. English plurals and past forms match their
# stem ("orders", "viewed", "shared"). The first rule that matches wins; the
# order is the precedence:
#
# * reading reviews is consideration ("read_reviews", "lihat_ulasan"), writing
#   one is advocacy ("review_submitted", "ulasan_produk");
# * post-purchase words beat purchase words ("order_refund", "repeat_order");
# * the cart and the checkout are purchase, as in the demo shop's map:
#   "add_to_cart", "begin_checkout", "add_payment_info" and shipping details
#   are steps of the purchase (the stage is reached, the purchase is not
#   complete; the conversion default leaves steps out when a completed
#   purchase such as "purchase" or "payment" is in the log);
# * paid reach ("search_ad", "view_promotion") is awareness before any
#   consideration word; channel names alone ("tiktok_video") come last.
#
# A failure word (error, fail, gagal, cancel, batal, declined, ...) vetoes the
# purchase rules only: "payment_error" and "order_cancelled" stay unmapped,
# "refund_failed" is still retention. Names made only of generic words
# ("page_view", "session_start", "login") are left unmapped: they happen in
# every stage.

_READ = frozenset({"view", "read", "baca", "lihat", "see", "browse", "open"})
_REVIEW = frozenset({"review", "ulasan", "rating", "testimoni", "testimonial"})
_FAILURE = frozenset({
    "error", "err", "fail", "failure", "gagal", "galat", "cancel", "cancelled",
    "canceled", "cancellation", "batal", "dibatalkan", "pembatalan", "decline",
    "reject", "ditolak", "tolak", "abandon", "timeout", "expire", "kadaluarsa",
    "kedaluwarsa", "invalid", "void", "denied", "unpaid", "not", "tidak", "belum",
})
#: Words of a checkout step (the purchase is not complete yet).
_STEP = frozenset({
    "checkout", "begin", "start", "started", "initiate", "info", "information",
    "detail", "address", "method", "option", "select", "choose", "add", "pending",
    "shipping", "ongkir", "alamat", "pilih", "metode", "mulai", "cart", "keranjang",
})
#: Words that say a step finished.
_DONE = frozenset({
    "complete", "completed", "success", "successful", "sukses", "berhasil", "done",
    "selesai", "placed", "confirm", "confirmed", "paid", "lunas", "thank", "purchase",
    "buy", "bought", "beli", "dibeli", "membeli", "pembelian",
})
_GENERIC = frozenset({
    "page", "pageview", "screen", "screenview", "view", "home", "homepage", "landing",
    "beranda", "halaman", "visit", "first", "session", "start", "open", "app", "login",
    "logout", "signin", "signup", "sign", "in", "out", "up", "register", "daftar",
    "masuk", "user", "engagement", "scroll", "click", "tap",
})

# (rule, stage, words, context): a rule matches when the name has one of
# ``words`` and, if ``context`` is not empty, one of ``context`` too.
_RULES: tuple[tuple[str, str, frozenset[str], frozenset[str]], ...] = (
    ("reading reviews", "consideration", _REVIEW, _READ),
    ("email opened", "awareness", frozenset({"email"}), frozenset({"open", "buka"})),
    ("advocacy", "advocacy", frozenset({
        "review", "ulasan", "rating", "share", "bagikan", "referral", "refer", "referer",
        "rekomendasi", "recommend", "testimoni", "testimonial", "nps", "ugc", "advocacy",
        "advokasi", "invite", "ajak", "ambassador",
    }), frozenset()),
    ("retention", "retention", frozenset({
        "repurchase", "reorder", "repeat", "loyalty", "loyalitas", "point", "poin",
        "member", "membership", "coupon", "kupon", "redeem", "support", "help", "helpdesk",
        "cs", "service", "layanan", "refund", "return", "retur", "pengembalian", "keluhan",
        "komplain", "complaint", "complain", "garansi", "warranty", "klaim", "delivery",
        "deliver", "shipped", "shipment", "kirim", "dikirim", "pengiriman", "tracking",
        "track", "lacak", "fulfil", "fulfill", "fulfillment", "survey", "survei", "renew",
        "renewal", "subscription", "langganan", "ticket",
    }), frozenset()),
    ("shipping details", "purchase", frozenset({"shipping", "alamat"}), frozenset({
        "info", "information", "detail", "address", "method", "option", "cost", "select",
        "choose", "add", "pilih",
    })),
    ("purchase", "purchase", frozenset({
        "checkout", "purchase", "buy", "bought", "order", "pay", "payment", "paid", "bayar",
        "pembayaran", "dibayar", "beli", "dibeli", "membeli", "pembelian", "transaksi",
        "transaction", "pesan", "pesanan", "pemesanan", "lunas", "booking", "ongkir", "cart",
        "keranjang",
    }), frozenset()),
    ("advertising", "awareness", frozenset({
        "ad", "ads", "advert", "advertisement", "iklan", "campaign", "kampanye", "promo",
        "promotion", "promosi", "banner", "impression", "newsletter", "sponsored",
    }), frozenset()),
    ("consideration", "consideration", frozenset({
        "view", "search", "cari", "pencarian", "mencari", "catalog", "catalogue", "katalog",
        "compare", "comparison", "banding", "bandingkan", "perbandingan", "lihat", "product",
        "produk", "item", "wishlist", "favorite", "favourite", "favorit", "detail", "browse",
        "category", "kategori", "collection", "koleksi", "price", "pricing", "harga", "pdp",
        "plp", "listing", "chat", "whatsapp", "store", "toko",
    }), frozenset()),
    ("media channel", "awareness", frozenset({
        "tiktok", "instagram", "ig", "facebook", "fb", "youtube", "influencer", "tv",
        "radio", "billboard", "video", "social", "sosmed", "blog", "article", "artikel",
        "podcast", "sem",
    }), frozenset()),
)


class Guess(NamedTuple):
    """One keyword guess: which rule put ``touchpoint`` in ``stage``.

    ``stage`` is None when the name's only stage word was a purchase word that
    a failure word vetoed (``payment_error``): the touchpoint stays unmapped.
    """

    touchpoint: str
    stage: str | None
    keyword: str
    rule: str


def touchpoint_tokens(name: str) -> tuple[str, ...]:
    """Split a touchpoint name into lowercase word tokens, digits dropped.

    Examples
    --------
    >>> touchpoint_tokens("addToCart"), touchpoint_tokens("product_view_123")
    (('add', 'to', 'cart'), ('product', 'view'))
    >>> touchpoint_tokens("Add To Cart-v2")
    ('add', 'to', 'cart', 'v')
    """
    text = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", str(name))
    return tuple(t for t in re.split(r"[\W_\d]+", text.lower()) if t)


def _forms(token: str) -> frozenset[str]:
    """``token`` and its English stems: plural, past and -ing forms."""
    forms = {token}
    if len(token) > 3:
        if token.endswith("ies"):
            forms.add(token[:-3] + "y")
        if token.endswith("es"):
            forms.add(token[:-2])
        if token.endswith("s") and not token.endswith("ss"):
            forms.add(token[:-1])
        for suffix in ("ed", "ing"):
            if token.endswith(suffix):
                stem = token[: -len(suffix)]
                forms.update((stem, stem + "e"))
                if len(stem) > 2 and stem[-1] == stem[-2]:
                    forms.add(stem[:-1])  # cancelled -> cancel
    return frozenset(forms)


def _first(tokens: list[frozenset[str]], words: frozenset[str]) -> str | None:
    """The first word of ``words`` the tokens hold, in name order."""
    for forms in tokens:
        hit = forms & words
        if hit:
            return min(hit)
    return None


def guess_stage(touchpoint: str) -> Guess | None:
    """Guess the stage of a touchpoint from the words of its name.

    Parameters
    ----------
    touchpoint : str
        An event name such as ``buy_grocery``, ``addToCart`` or ``iklan_ig``.

    Returns
    -------
    Guess or None
        The stage, the keyword and the rule that decided; None when no rule
        matches or the name is generic (``page_view``, ``login``). A Guess
        with ``stage=None`` records a vetoed purchase word.

    Examples
    --------
    >>> guess_stage("buy_grocery").stage, guess_stage("viewItem").stage
    ('purchase', 'consideration')
    >>> guess_stage("payment_error").rule
    "purchase word 'payment' vetoed by 'error'"
    >>> guess_stage("adidas") is None
    True
    """
    tokens = [_forms(t) for t in touchpoint_tokens(touchpoint)]
    if all(forms & _GENERIC for forms in tokens):
        return None
    veto = _first(tokens, _FAILURE)
    vetoed = None
    for rule, stage, words, context in _RULES:
        hit = _first(tokens, words)
        if hit is None or (context and _first(tokens, context) is None):
            continue
        if context:
            hit = f"{hit}+{_first(tokens, context)}"
        if stage == "purchase" and veto:
            vetoed = vetoed or hit
            continue
        if vetoed:
            rule = f"{rule} (purchase word {vetoed!r} vetoed by {veto!r})"
        return Guess(touchpoint, stage, hit, rule)
    if vetoed:
        return Guess(touchpoint, None, vetoed, f"purchase word {vetoed!r} vetoed by {veto!r}")
    return None


def is_failure(touchpoint: str) -> bool:
    """Whether the name has a failure word (error, fail, gagal, cancel, batal, ...)."""
    return _first([_forms(t) for t in touchpoint_tokens(touchpoint)], _FAILURE) is not None


def is_checkout_step(touchpoint: str) -> bool:
    """Whether the name is a step before the purchase completes.

    ``add_to_cart``, ``begin_checkout``, ``checkout_start``,
    ``add_payment_info`` and ``shipping_details`` are steps; ``checkout_complete``, ``payment``,
    ``order_placed`` and ``purchase`` are not.
    """
    tokens = [_forms(t) for t in touchpoint_tokens(touchpoint)]
    return _first(tokens, _STEP) is not None and _first(tokens, _DONE) is None


def _count(n: int) -> str:
    """``"1 touchpoint"``, ``"1,234 touchpoints"``."""
    return f"{n:,} touchpoint" + ("" if n == 1 else "s")


def format_names(names: list[str], limit: int = 10) -> str:
    """``names`` joined by commas, at most ``limit`` of them, then "… and N more"."""
    shown = ", ".join(names[:limit])
    return shown + (f" … and {len(names) - limit:,} more" if len(names) > limit else "")


def normalize_stage(name: str, order: Iterable[str] = STAGES) -> str:
    """Return the canonical stage name for ``name``.

    Accepts the English stage names, common synonyms and the Indonesian
    names (kesadaran, pertimbangan, keputusan/pembelian, retensi,
    pasca-pembelian, advokasi/loyalitas), in any case.

    Parameters
    ----------
    name : str
        A stage name as a user typed it.
    order : iterable of str, default STAGES
        The stage taxonomy; custom stage names in it are accepted as they are.

    Returns
    -------
    str

    Raises
    ------
    StageError
        ``name`` is not a known stage.

    Examples
    --------
    >>> normalize_stage("Kesadaran")
    'awareness'
    >>> normalize_stage("pasca-pembelian")
    'retention'
    """
    order = tuple(order)
    key = re.sub(r"[\s_]+", " ", str(name).strip().lower())
    if key in order:
        return key
    alias = _ALIASES.get(key) or _ALIASES.get(key.replace(" ", "-"))
    if alias in order:
        return alias
    raise StageError(
        f"Unknown stage {name!r}.",
        expected=f"one of {list(order)} or an Indonesian alias such as "
        "kesadaran, pertimbangan, pembelian, retensi, advokasi.",
        fix="Use one of those names, or pass order=[...] to define your own stages.",
    )


@dataclasses.dataclass(frozen=True)
class StageMap:
    """Maps touchpoints (activities) to journey stages.

    Parameters
    ----------
    mapping : mapping of str to str
        ``{touchpoint: stage}``. Stage names may be English or Indonesian.
    order : sequence of str, default STAGES
        The stages in journey order. The default is awareness, consideration,
        purchase, retention, advocacy.
    guessed : sequence of Guess, default ()
        How :meth:`with_guesses` placed touchpoints (see :attr:`guesses`);
        not compared and not shown in the repr.

    Examples
    --------
    >>> import journeymine as jm
    >>> stages = jm.StageMap({"ig_ad": "kesadaran", "checkout": "pembelian"})
    >>> stages["ig_ad"], stages.rank("checkout")
    ('awareness', 2)
    >>> stages.unmapped(["ig_ad", "review"])
    ['review']
    """

    mapping: Mapping[str, str] = dataclasses.field(default_factory=dict)
    order: tuple[str, ...] = STAGES
    guessed: tuple[Guess, ...] = dataclasses.field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        order = tuple(str(s).strip().lower() for s in self.order)
        if len(set(order)) != len(order) or not order:
            raise StageError(
                f"Stage order {list(self.order)} is empty or repeats a stage.",
                expected="a non-empty list of distinct stage names.",
                fix="Pass order=['awareness', 'consideration', ...].",
            )
        mapping = {str(k): normalize_stage(v, order) for k, v in dict(self.mapping).items()}
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "mapping", mapping)
        object.__setattr__(self, "guessed", tuple(self.guessed))

    def __getitem__(self, touchpoint: str) -> str:
        return self.mapping[touchpoint]

    def __contains__(self, touchpoint: object) -> bool:
        return touchpoint in self.mapping

    def __len__(self) -> int:
        return len(self.mapping)

    def get(self, touchpoint: str, default: str | None = None) -> str | None:
        """The stage of ``touchpoint``, or ``default`` when it is unmapped."""
        return self.mapping.get(touchpoint, default)

    def rank(self, touchpoint_or_stage: str) -> int:
        """Position (0-based) of a touchpoint's stage, or of a stage, in :attr:`order`."""
        stage = self.mapping.get(touchpoint_or_stage)
        if stage is None:
            stage = normalize_stage(touchpoint_or_stage, self.order)
        return self.order.index(stage)

    def unmapped(self, touchpoints: Iterable[str]) -> list[str]:
        """The touchpoints (sorted, distinct) that have no stage."""
        return sorted({t for t in touchpoints if t not in self.mapping})

    def with_guesses(self, touchpoints: Iterable[str]) -> StageMap:
        """Return a map that also guesses the stage of unmapped touchpoints by keyword.

        Names are split into words (snake_case, kebab-case, camelCase, spaces;
        digits dropped) and English and Indonesian keywords are matched as
        whole words: ``iklan``/``ad``/``promo`` -> awareness,
        ``view``/``cari``/``produk`` -> consideration, ``cart``/``checkout``/
        ``buy``/``bayar`` -> purchase, ``refund``/``keluhan``/``points`` -> retention,
        ``review``/``ulasan``/``referral`` -> advocacy. A failure word (error,
        fail, gagal, cancel, batal...) vetoes a purchase guess, and generic
        names (``page_view``, ``login``) are not guessed. Guesses only apply
        to the default taxonomy, never override a mapping, and are recorded
        in :attr:`guesses`.

        Parameters
        ----------
        touchpoints : iterable of str
            The touchpoints to place (mapped ones are left as they are).

        Returns
        -------
        StageMap

        Examples
        --------
        >>> stages = StageMap({"checkout": "pembelian"}).with_guesses(
        ...     ["checkout", "buy_grocery", "viewItem", "payment_error", "adidas"])
        >>> stages.guesses[["touchpoint", "stage", "keyword"]]
              touchpoint          stage  keyword
        0    buy_grocery       purchase      buy
        1  payment_error           None  payment
        2       viewItem  consideration     view
        >>> stages.unmapped(["adidas", "payment_error"])
        ['adidas', 'payment_error']
        """
        if self.order != STAGES:
            return self
        guessed = dict(self.mapping)
        found = []
        examined = {g.touchpoint for g in self.guessed}
        for tp in self.unmapped(touchpoints):
            guess = None if tp in examined else guess_stage(tp)
            if guess is None:
                continue
            found.append(guess)
            if guess.stage is not None:
                guessed[tp] = guess.stage
        return StageMap(guessed, self.order, self.guessed + tuple(found))

    @property
    def guesses(self) -> pd.DataFrame:
        """The keyword guesses: ``touchpoint``, ``stage``, ``keyword``, ``rule``.

        One row per touchpoint :meth:`with_guesses` examined and a rule
        matched, sorted by touchpoint; ``stage`` is None where a failure word
        vetoed the only (purchase) match, so the touchpoint stays unmapped.
        """
        import pandas as pd

        rows = sorted(self.guessed, key=lambda g: g.touchpoint)
        return pd.DataFrame(rows, columns=list(Guess._fields), dtype=object)

    def report(self, touchpoints: Iterable[str], limit: int = 10) -> str:
        """One line on the unmapped and the guessed ``touchpoints``, or ``""``.

        Each list shows at most ``limit`` names, then "… and N more".

        Examples
        --------
        >>> StageMap().with_guesses(["buy_x", "qwerty"]).report(["buy_x", "qwerty"])
        'Touchpoints without a stage: qwerty. \
Stages guessed from names for 1 touchpoint (StageMap.guesses): buy_x -> purchase.'
        """
        names = set(touchpoints)
        guessed = [g for g in sorted(self.guessed, key=lambda g: g.touchpoint)
                   if g.touchpoint in names]
        shown = [f"{g.touchpoint} -> {g.stage}" for g in guessed if g.stage is not None]
        missing = self.unmapped(names)
        parts = []
        if missing:
            vetoed = {g.touchpoint for g in guessed if g.stage is None}
            labels = [f"{t} (failure word)" if t in vetoed else t for t in missing]
            parts.append(f"Touchpoints without a stage: {format_names(labels, limit)}.")
        if shown:
            parts.append(f"Stages guessed from names for {_count(len(shown))} "
                         f"(StageMap.guesses): {format_names(shown, limit)}.")
        return " ".join(parts)

    @classmethod
    def from_yaml(cls, path: str | PathLike[str]) -> StageMap:
        """Read a map from a YAML (or JSON) file.

        The file holds either ``{touchpoint: stage}`` or
        ``{stage: [touchpoint, ...]}`` (stages as keys, the way a journey map
        is drawn), optionally under a ``stages:`` key with an ``order:`` list.

        Examples
        --------
        A file containing::

            kesadaran: [instagram_ad, tiktok_ad]
            pembelian: [checkout]

        maps both ads to awareness and checkout to purchase.
        """
        import yaml

        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ReadError(
                f"Could not read the stage file {str(path)!r}: {exc}",
                expected="a YAML or JSON file mapping touchpoints to stages.",
                fix="Check the path and the file's syntax.",
            ) from exc
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping) -> StageMap:
        """Build a map from ``{touchpoint: stage}`` or ``{stage: [touchpoints]}``."""
        if not isinstance(data, Mapping):
            raise StageError(
                f"A stage map must be a mapping, got {type(data).__name__}.",
                expected="{touchpoint: stage} or {stage: [touchpoint, ...]}.",
                fix="Write the file as key: value pairs.",
            )
        order = tuple(data.get("order", STAGES))
        body = data.get("stages", data)
        body = {k: v for k, v in body.items() if k != "order"}
        mapping: dict[str, str] = {}
        for key, value in body.items():
            if isinstance(value, (list, tuple)):
                for tp in value:
                    mapping[str(tp)] = str(key)
            else:
                mapping[str(key)] = str(value)
        return cls(mapping, order)

    @classmethod
    def from_frame(cls, frame, touchpoint: str, stage: str) -> StageMap:
        """Build a map from two columns of a DataFrame (the most common stage wins)."""
        pairs = frame[[touchpoint, stage]].dropna().astype(str)
        # Count canonical stages, so "kesadaran" and "awareness" are one vote
        # (each distinct spelling normalised once, not once per row).
        canonical = {name: normalize_stage(name) for name in pairs[stage].unique()}
        pairs[stage] = pairs[stage].map(canonical)
        top = pairs.groupby(touchpoint)[stage].agg(lambda s: s.value_counts().index[0])
        return cls(top.to_dict())

    def to_dict(self) -> dict:
        """JSON-safe ``{"order": [...], "mapping": {...}}``."""
        return {"order": list(self.order), "mapping": dict(sorted(self.mapping.items()))}
