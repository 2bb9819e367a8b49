"""Satisfaction along the journey: :func:`satisfaction` for NPS, CSAT and rating answers.

Survey answers (customer, timestamp, score, optionally the surveyed
touchpoint and a comment) are read like texts
(:func:`~journeymine.eventlog._answers.read_answers`) and linked to the
journey like texts (:mod:`journeymine.eventlog._linking`): to their
touchpoint, else to the customer's last event at or before the answer within
``window``; answers that cannot be linked are counted by reason. Scores are
checked against the survey kind and summarised per touchpoint, stage,
channel and persona (:mod:`._scores`: NPS with the adjusted Wald interval,
CSAT with Wilson, the mean with Student-t). The outcome link
(:mod:`._outcome`) asks whether customers who gave a low score at a stage
repurchase (or come back) less often afterwards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

from journeymine._util._html import html_table
from journeymine._util._json import envelope, records
from journeymine._util._optional import import_optional
from journeymine._util._params import check_choice, check_number, parse_duration
from journeymine.discovery._discover import resolve_conversion
from journeymine.discovery._grains import DurationLike
from journeymine.eventlog._answers import read_answers
from journeymine.eventlog._eventlog import EventLog, StagesLike, require_event_log
from journeymine.eventlog._linking import UNLINKED_REASONS, link_texts, persona_of
from journeymine.eventlog._schema import CUSTOMER, REVENUE, TIMESTAMP
from journeymine.eventlog._stages import StageMap
from journeymine.exceptions import InvalidParameterError, UnknownCustomerError
from journeymine.measurement._outcome import OUTCOME_COLUMNS, follow_up, outcome_link
from journeymine.measurement._scores import Scale, aggregate, resolve_scale
from journeymine.reporting._format import score

__all__ = ["Satisfaction", "satisfaction"]

#: What :func:`satisfaction` can group by.
DIMENSIONS = ("touchpoint", "stage", "channel", "persona")
#: Group label for linked answers without a stage, channel or persona.
NO_GROUP = "(none)"
#: ``outcome=`` value for "any later event" (its absence is churn).
ANY_EVENT = "any"
FORMAT_VERSION = 1


# --------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, repr=False)
class Satisfaction:
    """NPS, CSAT or mean rating per touchpoint, stage, channel and persona.

    Returned by :func:`satisfaction`.

    Attributes
    ----------
    table : pandas.DataFrame
        Tidy: one row per ``dimension`` (``"all"`` first, then the grouping
        dimensions in the order asked) and ``group``, with ``n_answers``,
        ``n_customers``, ``mean_score`` (``_low``/``_high``: 95% Student-t),
        and for NPS ``promoters``, ``passives``, ``detractors``,
        ``share_promoters``, ``share_detractors``, ``nps`` (points, -100 to
        100; ``nps_low``/``nps_high``: 95% adjusted Wald), or for CSAT and
        ratings ``satisfied``, ``csat`` (share at or above the threshold;
        ``csat_low``/``csat_high``: 95% Wilson). Metrics are NaN in groups
        with fewer than ``min_answers`` answers. The ``"all"`` row counts
        every valid answer, linked or not; the other rows the linked ones.
        Stages are in journey order, other groups by answers.
    answers : pandas.DataFrame
        One row per answer: ``customer_id``, ``timestamp``, ``score``,
        ``category`` (promoter/passive/detractor, or satisfied/unsatisfied),
        ``low_score``, ``touchpoint``, ``stage``, ``channel``, ``persona``
        (with personas), ``link`` (``"touchpoint"``/``"nearest_event"``, null
        when unlinked), ``unlinked_reason``, ``event_timestamp``, then
        ``outcome`` and ``censored`` (with an outcome link) and the answer's
        other columns (``comment``...).
    outcome : pandas.DataFrame or None
        The outcome link per stage and ``"all"``: ``n_low_score``,
        ``n_rest``, ``outcome_low_score``, ``outcome_rest`` (answers followed
        by the outcome), ``rate_low_score``, ``rate_rest``, ``difference``
        (risk difference, low minus rest) with ``difference_low``/``_high``
        (95% Newcombe), ``p_value``, ``q_value`` (Benjamini-Hochberg over the
        stages). None with ``outcome=False``.
    unlinked : pandas.DataFrame
        ``reason``, ``answers``, ``share`` (of all answers), ``meaning``.
    kind : str
        ``"nps"``, ``"csat"`` or ``"rating"``.
    scale : tuple of float
        The lowest and highest score.
    threshold : float or None
        Satisfied at or above this score (CSAT and ratings).
    dimensions : tuple of str
    stages : StageMap
    summary : dict
        ``answers``, ``linked``, ``unlinked``, ``linked_share``,
        ``customers``, ``unknown_customers`` (answers whose customer is not in
        the log), ``kind``, ``kind_reason``, ``metric`` (the headline
        column) with its overall value and interval (``value``, ``low``,
        ``high``), ``min_answers``, ``window``, ``outcome`` (touchpoints,
        ``"any"`` or ``None``), ``outcome_rule``, ``horizon_seconds`` and
        ``censored`` (answers left out of the outcome link).
    """

    table: pd.DataFrame
    answers: pd.DataFrame
    outcome: pd.DataFrame | None
    unlinked: pd.DataFrame
    kind: str
    scale: tuple[float, float]
    threshold: float | None
    dimensions: tuple[str, ...]
    stages: StageMap
    summary: dict[str, Any]

    @property
    def metric(self) -> str:
        """The headline column: ``"nps"``, ``"csat"`` (share) or ``"mean_score"``."""
        return self.summary["metric"]

    @property
    def label(self) -> str:
        """The headline metric's name: ``"NPS"``, ``"CSAT"`` or ``"mean rating"``."""
        return _LABELS[self.metric]

    def by(self, dimension: str = "stage") -> pd.DataFrame:
        """The rows of :attr:`table` for one dimension, with the group named after it.

        Parameters
        ----------
        dimension : {"touchpoint", "stage", "channel", "persona", "all"}

        Examples
        --------
        >>> import journeymine as jm
        >>> demo = jm.datasets.load_demo()
        >>> s = jm.satisfaction(demo.log, demo.nps)
        >>> s.by("stage")["stage"].tolist()
        ['purchase', 'retention']
        """
        dims = ("all", *self.dimensions)
        if dimension not in dims:
            raise InvalidParameterError(
                f"dimension={dimension!r} is not one this result was grouped by.",
                expected=f"one of {', '.join(map(repr, dims))}.",
                fix="Call jm.satisfaction(..., by=[...]) with it, or pick one of those.")
        rows = self.table[self.table["dimension"] == dimension]
        return rows.drop(columns="dimension").rename(columns={"group": dimension}).reset_index(
            drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the ``journeymine.satisfaction`` envelope."""
        return envelope("journeymine.satisfaction", FORMAT_VERSION, {
            "kind": self.kind, "scale": list(self.scale), "threshold": self.threshold,
            "dimensions": list(self.dimensions), "summary": dict(self.summary),
            "table": records(self.table, list(self.table.columns)),
            "outcome": None if self.outcome is None
            else records(self.outcome, list(OUTCOME_COLUMNS)),
            "unlinked": records(self.unlinked, list(self.unlinked.columns)),
        })

    def headline(self) -> str:
        """The overall metric with its interval, e.g. ``"NPS +12 [+5, +19]"``."""
        s = self.summary
        if s["value"] is None or not np.isfinite(s["value"]):
            return f"{_LABELS[self.metric]} n/a (fewer than {s['min_answers']} answers)"
        m = self.metric
        return (f"{_LABELS[m]} {score(m, s['value'])} [{score(m, s['low'])}, "
                f"{score(m, s['high'])}]")

    def __repr__(self) -> str:
        s = self.summary
        kind = "rating" if self.kind == "rating" else self.kind.upper()
        return (f"Satisfaction({s['answers']:,} {kind} answers, {s['linked']:,} linked, "
                f"{self.headline()})")

    def _repr_html_(self) -> str:
        dims = self.dimensions
        per = self.by("stage" if "stage" in dims else (dims[0] if dims else "all"))
        key = per.columns[0]
        low, high = f"{self.metric}_low", f"{self.metric}_high"
        rows = ((r[key], f"{int(r['n_answers']):,}", score(self.metric, r[self.metric]),
                 f"{score(self.metric, r[low])} to {score(self.metric, r[high])}")
                for _, r in per.iterrows())
        return html_table(repr(self), (key, "answers", self.metric, "95% CI"), rows)

    def plot(self, ax=None, by: str = "stage"):
        """The headline metric per group with its 95% interval (horizontal bars).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure by default.
        by : str, default "stage"
            A dimension of :attr:`dimensions`.

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        OptionalDependencyError
            matplotlib is not installed.
        """
        plt = import_optional("matplotlib.pyplot", "Satisfaction.plot()")
        per = self.by(by)
        per = per[per[self.metric].notna()].iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.45 * len(per) + 1.5))
        value = per[self.metric].to_numpy(dtype=float)
        err = np.vstack([value - per[f"{self.metric}_low"].to_numpy(dtype=float),
                         per[f"{self.metric}_high"].to_numpy(dtype=float) - value])
        y = np.arange(len(per))
        ax.barh(y, value, xerr=err, capsize=3)
        ax.set_yticks(y, [str(g) for g in per[by]])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"{_LABELS[self.metric]} (95% CI)")
        ax.set_title(f"{_LABELS[self.metric]} by {by}")
        return ax


#: How the headline metrics are named.
_LABELS = {"nps": "NPS", "csat": "CSAT", "mean_score": "mean rating"}


# --------------------------------------------------------------------------- entry point
def satisfaction(
    log: EventLog,
    answers: pd.DataFrame | str | PathLike[str],
    *,
    kind: str = "auto",
    by: str | Iterable[str] = ("touchpoint", "stage", "channel"),
    window: DurationLike | None = "7D",
    personas: pd.Series | Mapping | Any | None = None,
    stages: StagesLike = None,
    scale: Sequence[float] | None = None,
    threshold: float | None = None,
    min_answers: int = 10,
    outcome: str | Iterable[str] | bool | None = None,
    horizon: DurationLike | None = None,
) -> Satisfaction:
    """NPS, CSAT or mean rating per touchpoint, stage, channel and persona, linked to the journey.

    Each answer is linked to the journey like a text (see
    :func:`journeymine.emotions`): to its ``touchpoint`` when it has one
    (which must occur in the log), otherwise to its customer's last event at
    or before the answer, if at most ``window`` older. Unlinked answers are
    kept and counted by reason (:attr:`Satisfaction.unlinked`).

    Parameters
    ----------
    log : EventLog
        The journeys.
    answers : DataFrame or path
        Survey answers: customer, timestamp, score, optional touchpoint,
        channel and comment, with columns named as
        :func:`~journeymine.eventlog._answers.read_answers` detects them
        (``score``/``nps``/``csat``/``rating``..., ``komentar``...). Never
        modified.
    kind : {"auto", "nps", "csat", "rating"}, default "auto"
        ``"nps"``: whole numbers 0-10, NPS = % promoters (9-10) - %
        detractors (0-6). ``"csat"``: whole numbers on ``scale``, CSAT = share
        at or above ``threshold``. ``"rating"``: any number on ``scale``,
        headline the mean. ``"auto"`` decides from the scores: whole numbers
        0-10 with a 0 or one above 5 are NPS, whole numbers 1-5 CSAT,
        others within 1-5 ratings (pass the kind to be sure).
    by : str or list of str, default ("touchpoint", "stage", "channel")
        Dimensions of :attr:`Satisfaction.table`; ``"persona"`` is added
        when ``personas`` are given.
    window : str, Timedelta or None, default "7D"
        How old the linked event may be, for answers without a touchpoint
        (``None``: any age).
    personas : Series, dict or PersonaModel, optional
        ``customer_id -> persona``, or a fitted
        :class:`~journeymine.PersonaModel` (its ``labels_``, named by its
        persona cards).
    stages : StageMap, dict or path, optional
        Touchpoint to stage map; by default :meth:`EventLog.stage_map`.
    scale : (float, float), optional
        Lowest and highest score of CSAT and rating answers (default 1-5).
    threshold : float, optional
        CSAT and ratings: satisfied at or above this score (default the top
        two boxes: ``scale[1] - 1``).
    min_answers : int, default 10
        Groups with fewer answers (and outcome comparisons with fewer on
        either side) get counts but no metrics.
    outcome : str, list of str, "any" or False, optional
        What counts as a good outcome after an answer: events at these
        touchpoints or stages. By default a later purchase: an event at a
        conversion touchpoint (:func:`~journeymine.discovery.resolve_conversion`)
        or with revenue > 0. ``"any"``: any later event (its absence is
        churn). ``False``: no outcome link.
    horizon : str or Timedelta, optional
        Only outcomes within this of the answer count, and answers less than
        ``horizon`` before the end of the log are left out (censored). By
        default every later event counts.

    Returns
    -------
    Satisfaction

    Raises
    ------
    ScoreError
        Scores that are not numbers, outside the scale of the kind (NPS
        0-10, CSAT 1-5 by default), or not whole for NPS and CSAT.
    ColumnNotFoundError
        No customer, timestamp or score column in ``answers``.
    UnknownCustomerError
        No answer is by a customer of the log.
    UnknownTouchpointError
        ``outcome`` names neither a touchpoint nor a stage of the log.
    InvalidParameterError
        A bad ``kind``, ``by``, ``window``, ``horizon``, ``scale``,
        ``threshold``, ``min_answers`` or ``personas``.

    Notes
    -----
    Outcome link: for each stage, the share of low scorers (NPS detractors;
    CSAT and ratings below ``threshold``) followed by the outcome against
    the share of the others; the effect is the risk difference with
    Newcombe's hybrid score interval. Only events strictly after the answer
    count, and only answers of customers in the log. An association, not a
    cause: customers who complain may differ in other ways.

    Examples
    --------
    Three customers: a and b answer about delivery, c about checkout.

    >>> import pandas as pd, journeymine as jm
    >>> log = jm.EventLog.from_pandas(pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b", "c", "a"],
    ...     "touchpoint": ["checkout", "delivery", "checkout", "delivery", "checkout",
    ...                    "checkout"],
    ...     "timestamp": pd.to_datetime(["2024-05-01", "2024-05-03", "2024-05-01",
    ...                                  "2024-05-04", "2024-05-02", "2024-06-01"])}))
    >>> answers = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c"], "nps": [10, 3, 8],
    ...     "timestamp": ["2024-05-04", "2024-05-05", "2024-05-02 12:00"]})
    >>> s = jm.satisfaction(log, answers, min_answers=1)
    >>> s
    Satisfaction(3 NPS answers, 3 linked, NPS +0 [-61, +61])
    >>> s.by("stage")[["stage", "n_answers", "nps"]].values.tolist()
    [['purchase', 1, 0.0], ['retention', 2, 0.0]]
    >>> s.answers["outcome"].tolist()  # a bought again on June 1st
    [True, False, False]
    """
    require_event_log(log, "satisfaction()")
    dims = _check_by(by, personas is not None)
    span = None if window is None else parse_duration(window, "window")
    follow = None if horizon is None else parse_duration(horizon, "horizon")
    min_answers = check_number("min_answers", min_answers, low=1, integer=True)
    stage_map = log.stage_map(stages)
    target, rule = _outcome_touchpoints(log, stage_map, outcome)

    frame = read_answers(answers).reset_index(drop=True)
    scale_ = resolve_scale(frame["score"], kind, scale, threshold)
    links = link_texts(log, frame, span)
    after = follow_up(log, frame, None if target == ANY_EVENT else target,
                      target is not None and outcome is None and REVENUE in log.table.column_names,
                      follow)
    if not after["known"].any():
        _raise_unknown(frame)

    linked = links["link"].notna()
    channel = links["event_channel"]
    if "channel" in frame.columns:
        channel = channel.fillna(frame["channel"].where(linked))
    touchpoint = links["linked_touchpoint"]
    if "touchpoint" in frame.columns:
        touchpoint = touchpoint.where(linked, frame["touchpoint"])
    per = pd.DataFrame({
        CUSTOMER: frame[CUSTOMER], TIMESTAMP: frame[TIMESTAMP], "score": frame["score"],
        "category": scale_.category(frame["score"]), "low_score": scale_.is_low(frame["score"]),
        "touchpoint": touchpoint.astype(object),
        "stage": links["linked_touchpoint"].map(stage_map.mapping).astype(object),
        "channel": channel.astype(object),
        "link": links["link"].astype(object),
        "unlinked_reason": links["unlinked_reason"].astype(object),
        "event_timestamp": pd.to_datetime(links["event_timestamp"]).dt.tz_localize("UTC"),
    })
    if personas is not None:
        per.insert(per.columns.get_loc("link"), "persona",
                   persona_of(personas, per[CUSTOMER].astype(str)).where(linked))
    link_table = None
    if target is not None:
        per["outcome"], per["censored"] = after["outcome"], after["censored"]
        used = linked & after["known"] & ~after["censored"]
        link_table = outcome_link(per.loc[used, "stage"], per.loc[used, "low_score"],
                                  per.loc[used, "outcome"], tuple(stage_map.order), min_answers)
    extras = frame[[c for c in frame.columns if c not in per.columns]]
    per = pd.concat([per, extras], axis=1)

    table = _table(per, linked, dims, scale_, stage_map, min_answers)
    summary = _summary(per, linked, after, table, scale_, min_answers, span, target, rule,
                       follow)
    return Satisfaction(table, per, link_table, _unlinked(per), scale_.kind,
                        (scale_.low, scale_.high), scale_.threshold, dims, stage_map, summary)


# --------------------------------------------------------------------------- helpers
def _check_by(by: str | Iterable[str], has_personas: bool) -> tuple[str, ...]:
    names = [by] if isinstance(by, str) else list(by)
    out: list[str] = []
    for name in names:
        name = check_choice("by", name, DIMENSIONS)
        if name == "persona" and not has_personas:
            raise InvalidParameterError(
                "by='persona' needs personas, and none were given.",
                expected="personas=<Series customer_id -> persona> or a fitted PersonaModel.",
                fix="Pass personas=..., or leave 'persona' out of by.")
        if name not in out:
            out.append(name)
    if has_personas and "persona" not in out:
        out.append("persona")
    return tuple(out)


def _outcome_touchpoints(log: EventLog, stage_map: StageMap, outcome
                         ) -> tuple[tuple[str, ...] | str | None, str | None]:
    """The outcome touchpoints (or ``"any"``, or None for no link) and the rule in words."""
    if outcome is False:
        return None, None
    if outcome is True or outcome is None:
        conv = resolve_conversion(log, stage_map, None)
        revenue = ", or any event with revenue > 0" if REVENUE in log.table.column_names else ""
        return tuple(conv), (f"a later purchase (an event at {', '.join(conv) or 'no touchpoint'}"
                             f"{revenue})")
    if outcome == ANY_EVENT and ANY_EVENT not in log.activities:
        return ANY_EVENT, "any later event (no later event: churn)"
    conv = resolve_conversion(log, stage_map, outcome)
    return tuple(conv), f"a later event at {', '.join(conv)}"


def _raise_unknown(frame: pd.DataFrame) -> None:
    examples = ", ".join(map(repr, frame[CUSTOMER].dropna().astype(str).unique()[:3]))
    raise UnknownCustomerError(
        f"None of the {len(frame):,} answers is by a customer of the event log "
        f"(e.g. {examples}).",
        expected="answers whose customer ids are those of the log.",
        fix="Check that both use the same id (not e-mail in one and member id in the other); "
            "name the answers' id column with jm.read_answers(..., customer=<column>).")


def _table(per: pd.DataFrame, linked: pd.Series, dims: tuple[str, ...], scale: Scale,
           stage_map: StageMap, min_answers: int) -> pd.DataFrame:
    """The tidy table: ``"all"`` over every answer, then each dimension over the linked ones."""
    frames = [aggregate(per, pd.Series("all", index=per.index), scale, min_answers).assign(
        dimension="all")]
    rank = {s: i for i, s in enumerate(stage_map.order)}
    for dim in dims:
        rows = per[linked]
        out = aggregate(rows, rows[dim].fillna(NO_GROUP).astype(str), scale, min_answers)
        if dim == "stage":
            out = out.sort_values("group", key=lambda s: s.map(rank).fillna(len(rank)),
                                  kind="stable")
        else:
            out = out.sort_values(["n_answers", "group"], ascending=[False, True], kind="stable")
        frames.append(out.assign(dimension=dim))
    table = pd.concat(frames, ignore_index=True)
    return table[["dimension", *[c for c in table.columns if c != "dimension"]]]


def _unlinked(per: pd.DataFrame) -> pd.DataFrame:
    counts = per["unlinked_reason"].value_counts()
    out = pd.DataFrame({"reason": list(UNLINKED_REASONS),
                        "answers": [int(counts.get(r, 0)) for r in UNLINKED_REASONS],
                        "meaning": list(UNLINKED_REASONS.values())})
    out = out[out["answers"] > 0].reset_index(drop=True)
    out.insert(2, "share", out["answers"] / max(len(per), 1))
    return out


def _summary(per: pd.DataFrame, linked: pd.Series, after: pd.DataFrame, table: pd.DataFrame,
             scale: Scale, min_answers: int, window: pd.Timedelta | None, target, rule,
             horizon: pd.Timedelta | None) -> dict[str, Any]:
    overall = table.iloc[0]
    metric = scale.metric
    return {
        "answers": len(per), "linked": int(linked.sum()), "unlinked": int((~linked).sum()),
        "linked_share": float(linked.mean()), "customers": int(per[CUSTOMER].nunique()),
        "unknown_customers": int((~after["known"]).sum()),
        "kind": scale.kind, "kind_reason": scale.reason, "metric": metric,
        "value": float(overall[metric]), "low": float(overall[f"{metric}_low"]),
        "high": float(overall[f"{metric}_high"]), "min_answers": min_answers,
        "window_seconds": None if window is None else window.total_seconds(),
        "outcome": list(target) if isinstance(target, tuple) else target,
        "outcome_rule": rule,
        "horizon_seconds": None if horizon is None else horizon.total_seconds(),
        "censored": int(after["censored"].sum()) if target is not None else 0,
    }
