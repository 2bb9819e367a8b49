"""Survey scores: the kind of survey, the checks on its scores, and the statistics per group.

Three kinds of survey answer are understood:

* ``"nps"``: likelihood to recommend, whole numbers 0-10. Promoters answer
  9-10, passives 7-8, detractors 0-6; the Net Promoter Score is
  ``100 · (promoters - detractors) / answers``, from -100 to +100. Its 95%
  interval is the adjusted Wald interval (Rocks 2016, *The American
  Statistician* 70(4)): add 3/4 of a promoter, 3/4 of a detractor and 3/2 of
  a passive, then ``p̃₊ - p̃₋ ± z · sqrt((p̃₊ + p̃₋ - (p̃₊ - p̃₋)²) / (n + 3))``,
  the variance of a difference of two proportions of one multinomial sample;
  clipped to [-100, 100]. It keeps its coverage for small groups, where the
  plain Wald interval is too narrow (checked by simulation in the tests).
* ``"csat"``: satisfaction, whole numbers on a scale (1-5 by default). CSAT
  is the share of answers at or above ``threshold`` (the top two boxes by
  default: 4-5 of 1-5) with a Wilson interval.
* ``"rating"``: any number on a scale (1-5 by default), e.g. mean stars;
  the CSAT share is reported too.

Every kind also gets the mean score with a Student-t interval. A *low*
score is a detractor's (NPS) or one below ``threshold`` (CSAT, rating).
Groups with fewer than ``min_answers`` answers keep their counts, with the
metrics left NaN (too few answers to say anything).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from journeymine._util._params import check_choice, check_number
from journeymine._util._stats import Z95, t_interval, wilson_interval
from journeymine.eventlog._schema import CUSTOMER
from journeymine.exceptions import InvalidParameterError, ScoreError

__all__ = ["KINDS", "Scale", "aggregate", "nps_interval", "resolve_scale"]

#: Survey kinds :func:`journeymine.satisfaction` understands.
KINDS = ("auto", "nps", "csat", "rating")
#: NPS categories, best first.
NPS_CATEGORIES = ("promoter", "passive", "detractor")
#: The default scale of CSAT and rating answers.
DEFAULT_SCALE = (1.0, 5.0)


@dataclasses.dataclass(frozen=True)
class Scale:
    """The survey kind, its score range and what counts as satisfied."""

    kind: str
    low: float
    high: float
    threshold: float | None  # satisfied at or above (CSAT and rating); None for NPS
    reason: str  # how the kind was chosen

    @property
    def metric(self) -> str:
        """The headline column: ``"nps"``, ``"csat"`` or ``"mean_score"``."""
        return {"nps": "nps", "csat": "csat", "rating": "mean_score"}[self.kind]

    def category(self, scores: pd.Series) -> pd.Series:
        """Promoter/passive/detractor (NPS) or satisfied/unsatisfied per score."""
        if self.kind == "nps":
            return pd.Series(np.select([scores >= 9, scores >= 7], NPS_CATEGORIES[:2],
                                       NPS_CATEGORIES[2]), index=scores.index, dtype=object)
        return pd.Series(np.where(scores >= self.threshold, "satisfied", "unsatisfied"),
                         index=scores.index, dtype=object)

    def is_low(self, scores: pd.Series) -> pd.Series:
        """Detractors (NPS), or scores below the threshold (CSAT, rating)."""
        return scores <= 6 if self.kind == "nps" else scores < self.threshold


def _whole(scores: pd.Series) -> pd.Series:
    return np.floor(scores) == scores


def _auto_kind(scores: pd.Series) -> tuple[str, str]:
    low, high = float(scores.min()), float(scores.max())
    whole = bool(_whole(scores).all())
    if whole and low >= 0 and high <= 10 and (low == 0 or high > 5):
        return "nps", f"whole scores from {low:g} to {high:g}: NPS (0-10)"
    if whole and low >= 1 and high <= 5:
        return "csat", f"whole scores from {low:g} to {high:g}: CSAT (1-5)"
    if low >= 1 and high <= 5:
        return "rating", f"scores from {low:g} to {high:g}, not all whole: rating (1-5)"
    raise ScoreError(
        f"Cannot tell the survey kind from scores ranging from {low:g} to {high:g}"
        + ("" if whole else ", not all whole numbers") + ".",
        expected="NPS answers (whole numbers 0-10), CSAT answers (whole numbers 1-5) or "
        "ratings from 1 to 5.",
        fix="Pass kind='nps', 'csat' or 'rating', with scale=(low, high) for another range.",
    )


def resolve_scale(scores: pd.Series, kind: str, scale, threshold) -> Scale:
    """Check ``kind``, ``scale`` and ``threshold`` against the scores; the resolved :class:`Scale`.

    Raises :class:`ScoreError` for scores outside the scale (or not whole for
    NPS and CSAT), :class:`InvalidParameterError` for bad parameters.
    """
    kind = check_choice("kind", kind, KINDS)
    if kind == "auto":
        kind, reason = _auto_kind(scores)
    else:
        reason = f"kind={kind!r}"
    if kind == "nps":
        if scale is not None and tuple(scale) != (0, 10):
            raise InvalidParameterError(
                f"scale={scale!r} does not apply to NPS answers, whose scale is 0-10.",
                expected="scale=None with kind='nps'.",
                fix="Leave scale out, or pass kind='rating' for another 0-10 question.")
        if threshold is not None:
            raise InvalidParameterError(
                f"threshold={threshold!r} does not apply to NPS: promoters are 9-10 and "
                "detractors 0-6 by definition.", expected="threshold=None with kind='nps'.",
                fix="Leave threshold out, or pass kind='csat' or 'rating'.")
        low, high, cut = 0.0, 10.0, None
    else:
        low, high = _check_scale(scale)
        cut = high - 1 if threshold is None else check_number("threshold", threshold, low=low,
                                                              high=high)
    _check_scores(scores, kind, low, high)
    return Scale(kind, low, high, cut, reason)


def _check_scale(scale) -> tuple[float, float]:
    if scale is None:
        return DEFAULT_SCALE
    try:
        low, high = (float(v) for v in scale)
        ok = not isinstance(scale, str) and math.isfinite(low) and math.isfinite(high) \
            and low < high
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidParameterError(
            f"scale={scale!r} is not a (lowest, highest) pair of numbers.",
            expected="two finite numbers, lowest first, e.g. scale=(1, 5) or (1, 7).",
            fix="Pass scale=(1, 5), or leave the default.")
    return low, high


def _check_scores(scores: pd.Series, kind: str, low: float, high: float) -> None:
    label = {"nps": "NPS", "csat": "CSAT", "rating": "rating"}[kind]
    outside = scores[(scores < low) | (scores > high)]
    if len(outside):
        examples = ", ".join(f"{v:g}" for v in sorted(outside.unique())[:5])
        raise ScoreError(
            f"{len(outside):,} of {len(scores):,} {label} scores are outside {low:g}-{high:g} "
            f"(e.g. {examples}).",
            expected=f"{label} scores from {low:g} to {high:g}.",
            fix="Fix or drop those answers" + (
                ", or pass scale=(low, high) for a different scale." if kind != "nps" else
                "; NPS is asked on 0-10 (use kind='rating', scale=... for another question)."))
    if kind in ("nps", "csat"):
        broken = scores[~_whole(scores)]
        if len(broken):
            examples = ", ".join(f"{v:g}" for v in sorted(broken.unique())[:5])
            raise ScoreError(
                f"{len(broken):,} {label} scores are not whole numbers (e.g. {examples}).",
                expected=f"{label} answers are whole numbers from {low:g} to {high:g}.",
                fix="Round them if they were averaged, or pass kind='rating' for averages.")


def nps_interval(promoters, detractors, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Adjusted Wald 95% interval of the NPS (in points, -100..100), vectorised.

    Examples
    --------
    3 promoters, 2 passives and 5 detractors (NPS -20): with 3 pseudo-answers
    ``p̃₊ = 3.75/13``, ``p̃₋ = 5.75/13``, so the interval is
    ``-15.4 ± 1.96 · sqrt((9.5/13 - 0.154²)/13) · 100``:

    >>> low, high = nps_interval(3, 5, 10)
    >>> round(float(low), 1), round(float(high), 1)
    (-61.1, 30.3)
    """
    p, d, n = (np.asarray(a, dtype=float) for a in (promoters, detractors, n))
    size = n + 3
    pp, pd_ = (p + 0.75) / size, (d + 0.75) / size
    center = pp - pd_
    half = z * np.sqrt(np.maximum(pp + pd_ - center**2, 0) / size)
    return 100 * np.clip(center - half, -1, 1), 100 * np.clip(center + half, -1, 1)


def aggregate(frame: pd.DataFrame, key: pd.Series, scale: Scale, min_answers: int) -> pd.DataFrame:
    """Satisfaction statistics per group of ``key`` (one row per group, sorted by group).

    ``frame`` has ``customer_id``, ``score`` and ``category``. Columns:
    ``group``, ``n_answers``, ``n_customers``, ``mean_score`` (with
    ``_low``/``_high``), then for NPS ``promoters``, ``passives``,
    ``detractors``, ``share_promoters``, ``share_detractors``, ``nps`` (with
    ``nps_low``/``nps_high``), else ``satisfied``, ``csat`` (with
    ``csat_low``/``csat_high``). Metrics are NaN where ``n_answers`` is below
    ``min_answers``.
    """
    cats = NPS_CATEGORIES if scale.kind == "nps" else ("satisfied",)
    data = pd.DataFrame({"group": key.to_numpy(), "score": frame["score"].to_numpy(),
                         CUSTOMER: frame[CUSTOMER].to_numpy(),
                         **{c: (frame["category"] == c).to_numpy() for c in cats}})
    agg = data.groupby("group", sort=True).agg(
        n_answers=("score", "count"), n_customers=(CUSTOMER, "nunique"),
        mean=("score", "mean"), std=("score", "std"), **{c: (c, "sum") for c in cats})
    n = agg["n_answers"]
    out = agg[["n_answers", "n_customers"]].copy()
    low, high = t_interval(agg["mean"], agg["std"], n)
    out["mean_score"], out["mean_score_low"], out["mean_score_high"] = agg["mean"], low, high
    metrics = ["mean_score", "mean_score_low", "mean_score_high"]
    if scale.kind == "nps":
        promoters, detractors = agg["promoter"], agg["detractor"]
        out["promoters"], out["passives"], out["detractors"] = (
            promoters, agg["passive"], detractors)
        out["share_promoters"], out["share_detractors"] = promoters / n, detractors / n
        out["nps"] = 100 * (promoters - detractors) / n
        out["nps_low"], out["nps_high"] = nps_interval(promoters, detractors, n)
        metrics += ["share_promoters", "share_detractors", "nps", "nps_low", "nps_high"]
    else:
        satisfied = agg["satisfied"]
        out["satisfied"], out["csat"] = satisfied, satisfied / n
        out["csat_low"], out["csat_high"] = wilson_interval(satisfied, n)
        metrics += ["csat", "csat_low", "csat_high"]
    out.loc[n < min_answers, metrics] = np.nan
    return out.reset_index()
