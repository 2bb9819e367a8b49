"""Journey stages and the :class:`StageMap` from touchpoints to stages."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path

from journeymine.exceptions import ReadError, StageError

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

# Keyword guesses used by :meth:`StageMap.guess` for touchpoints with no mapping.
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("advocacy", r"review|ulasan|rating|referr|refer|share|nps|testimon|rekomend|ugc|advoca"),
    ("retention", r"deliver|kirim|ship|support|complain|komplain|return|refund|loyal|"
                  r"member|newsletter|repeat|repurchase|reorder|cs_|customer_service|retur"),
    ("purchase", r"checkout|payment|bayar|pay|purchase|order|beli|transaksi|cart|keranjang"),
    ("consideration", r"search|cari|browse|product|produk|compare|banding|detail|page|"
                      r"site|web|app|chat|whatsapp|store|toko|visit|wishlist|catalog"),
    ("awareness", r"\bad\b|_ad\b|\bads\b|iklan|impression|tiktok|instagram|influencer|"
                  r"banner|tv|radio|billboard|social|post|video|email_open|promo"),
)


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

        Guesses use English and Indonesian keywords (``iklan`` -> awareness,
        ``checkout``/``bayar`` -> purchase, ``ulasan``/``review`` -> advocacy...)
        and only apply to the default taxonomy. Touchpoints no keyword matches
        stay unmapped.
        """
        if self.order != STAGES:
            return self
        guessed = dict(self.mapping)
        for tp in self.unmapped(touchpoints):
            low = tp.lower()
            stage = next((s for s, pat in _KEYWORDS if re.search(pat, low)), None)
            if stage:
                guessed[tp] = stage
        return StageMap(guessed, self.order)

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
        # Count canonical stages, so "kesadaran" and "awareness" are one vote.
        pairs[stage] = pairs[stage].map(normalize_stage)
        top = pairs.groupby(touchpoint)[stage].agg(lambda s: s.value_counts().index[0])
        return cls(top.to_dict())

    def to_dict(self) -> dict:
        """JSON-safe ``{"order": [...], "mapping": {...}}``."""
        return {"order": list(self.order), "mapping": dict(sorted(self.mapping.items()))}
