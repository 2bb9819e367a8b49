"""What matters: one ranked table of barriers and opportunities (:func:`insights`).

Every finding is a row with the customers it affects, an effect with a 95%
interval, the loss it causes, the counts behind it, a q-value and one plain
sentence (English or Indonesian). The statistics are computed per *case*, the
unit of the chosen grain (a session, an episode or a customer's whole
history), on NumPy arrays over the sorted event table (the log is already in
customer and time order, so a case is a run of rows).

The cases are built in :mod:`~journeymine.discovery._insight_cases`, each
kind of finding is tested in :mod:`~journeymine.discovery._insight_detectors`
and worded in :mod:`~journeymine.discovery._insight_text`; this module checks
the parameters, corrects the p-values together, ranks the findings and
returns them as :class:`Insights`.

Methods
-------
Outcome and leakage
    A case converts when it holds a conversion event. For a converted case
    only the events *before* its first conversion are used to explain the
    outcome (events at and after it cannot cause it): presence of a
    touchpoint, loops, channel switches and the case's length all come from
    that prefix. Conversion touchpoints are never tested as causes.
Drop-off points
    Per touchpoint, the non-converting cases whose last event is there
    (``exits``) out of its visits before the outcome (the web-analytics exit
    rate: a page seen five times a session is not blamed five times less
    often for being the last). The baseline is the pooled exit rate of all
    touchpoints; one-sided binomial test of excess exits. Effect: exit rate
    minus baseline (Wilson interval of the exit rate minus the baseline).
    Loss: excess exits times the conversion rate of the visitors who went on.
Loops
    Each return to a touchpoint already seen in the case closes a cycle: the
    steps since its previous visit (``A ↺`` self-loop, ``A ⇄ B`` ping-pong,
    longer simple cycles such as ``cart → shipping → add_to_cart → cart`` up
    to ``max_loop_length`` steps), rotations counted as one cycle. Looping
    cases are compared with the other cases that visited every touchpoint of
    the loop without going round it; cycles entered at the same touchpoint
    that share another are one loop (``cart ⇄ shipping``, ``cart ⇄
    add_to_cart`` and ``cart → shipping → add_to_cart → cart`` are one
    checkout loop). The comparison is within strata of length, landing
    touchpoint and whether the case reached the purchase path (see *Events*):
    browsing sessions that bounce between product pages are compared with
    other browsing sessions, checkout loops with other checkouts.
Slow steps
    Waits between consecutive events of one case (at the session grain:
    inside sessions only, never the days between visits; at the customer
    and episode grains a move back to an earlier stage is a return, not a
    wait, and is left out). A wait is compared with waits of the same
    kind: its *reference* is the largest of the typical wait (the median of
    all waits), the median wait of the other steps out of the same
    touchpoint and that of the other steps into the same touchpoint (each
    side when it has at least ``min_cases`` waits). A delivery that takes
    4.5 days after a first order against 1.8 days after a repeat order is
    slow; a review written hours after a delivery, as after every other
    step into the review, is not, however long against the minutes between
    page views. An edge is slow when its median wait is at least
    ``slow_factor`` times its reference; sign test of waits above the
    reference, distribution-free interval of the median. Loss: customers ×
    (median − reference), in hours.
Events with lift
    Presence of a touchpoint before the outcome against conversion, compared
    within strata of journey length (length before the outcome, in bins:
    longer journeys hold more of everything and convert more) by the
    Mantel-Haenszel pooled risk difference (Sato's variance, the CMH test).
    Each touchpoint is compared with the cases that reached its *entry*
    (the touchpoint most often just before its first visit; all cases when
    it usually opens the case): a pop-up on the cart page against the other
    cart visitors. A touchpoint that precedes the conversion in at least
    ``funnel_share`` of one purchase route's conversions (a route: the
    conversion touchpoint with the step just before it, such as payment then
    order_complete, or a store visit then a store purchase) is a step of the
    purchase path by construction and is not tested.
Incidents
    Per touchpoint, the daily share of cases (by start day) holding it; a
    binomial scan finds the window of 3 days to half the span whose share
    departs most from the rest (Bonferroni over the windows). The window is
    an incident when the share changes at least ``incident_ratio``-fold and
    conversion inside it differs from outside (two-proportion test; the
    finding's p-value is the larger of the two). Overlapping windows are
    merged into one finding led by the strongest touchpoint.
Channel switches
    Consecutive events on different channels (``from → to`` at
    ``source → target``) before the outcome; cases making the switch are
    compared with the other cases that visited ``source``, within length
    strata.
Negative emotions
    With ``texts``: the touchpoints of
    :meth:`~journeymine.JourneyEmotions.pain_points` (their own
    Benjamini-Hochberg family).

Guards: every comparison needs at least ``min_cases`` cases on each side (and
each edge that many cases); p-values of all tests above are corrected
together by Benjamini-Hochberg and a finding is kept when ``q ≤ alpha``.

Ranking
-------
``score = customers × sqrt(|effect| × relative effect) × (1 − q)``: customers
affected times the geometric mean of the absolute and the relative size of
the effect, times the confidence. The absolute effect is a difference of
proportions (conversion, exit rate, negative share; for waits the excess
share of the wait); the relative effect puts it on a scale from 0 to 1, the
share of the outcome the finding explains: ``|p1 − p0| / max(p1, p0)`` for
conversion rates (loops, events, switches, incidents), ``(rate − baseline) /
rate`` for exit rates and negative-text shares, ``(median − reference) /
median`` for waits. The absolute size alone favours common, mild
associations (a page reload that costs two points); the relative alone
favours rare, strong ones; their geometric mean ranks a checkout loop that
halves conversion for 500 customers above both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from journeymine._util._html import html_table
from journeymine._util._json import envelope, records
from journeymine._util._params import check_choice
from journeymine._util._stats import benjamini_hochberg
from journeymine.discovery._discover import resolve_conversion
from journeymine.discovery._insight_cases import _build_cases, _pre_presence
from journeymine.discovery._insight_detectors import (
    _dropoffs,
    _emotion_rows,
    _events,
    _incidents,
    _loops,
    _path_steps,
    _slow_steps,
    _switches,
)
from journeymine.discovery._insight_text import _sentence
from journeymine.eventlog._eventlog import EventLog, StagesLike, require_event_log
from journeymine.exceptions import InvalidParameterError

__all__ = ["COLUMNS", "KINDS", "Insights", "insights"]

#: The kinds of finding, in the order they are computed.
KINDS = ("drop-off", "loop", "slow step", "event", "incident", "channel switch",
         "negative emotion")
#: Columns of :attr:`Insights.table`.
COLUMNS = ("rank", "type", "kind", "where", "customers", "cases", "effect", "effect_low",
           "effect_high", "effect_measure", "relative_effect", "loss", "unit", "evidence",
           "p_value", "q_value", "score", "sentence", "start", "end")
LANGS = ("en", "id")
#: Version of the format written by :meth:`Insights.to_dict`.
FORMAT_VERSION = 1


@dataclasses.dataclass(frozen=True, repr=False)
class Insights:
    """The ranked barriers and opportunities of a log (see :func:`insights`).

    Attributes
    ----------
    table : DataFrame
        One row per finding, best first, with the columns of :data:`COLUMNS`:
        ``rank``; ``type`` (``barrier`` or ``opportunity``); ``kind`` (one of
        :data:`KINDS`); ``where`` (touchpoint, edge, loop, channel switch or
        time window); ``customers`` affected (distinct) and ``cases`` (units of
        the grain); ``effect`` with its 95% interval ``effect_low`` /
        ``effect_high`` and what it measures (``effect_measure``);
        ``relative_effect`` (0 to 1, the ranking scale); ``loss`` in ``unit``
        (conversions, hours or negative texts; negative for an opportunity:
        conversions gained); ``evidence`` (the counts); ``p_value``,
        ``q_value``; ``score``; ``sentence``; ``start`` / ``end`` (incidents).
        Renderers (CLI summary, HTML report) read this table.
    grain : str
        What a case is: ``session``, ``episode`` or ``customer``.
    lang : str
        Language of the sentences.
    summary : dict
        Cases, customers, conversion rate, tests run and findings kept.
    """

    table: pd.DataFrame
    grain: str
    lang: str
    summary: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """The findings (a copy of :attr:`table`)."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the ``journeymine.insights`` envelope: grain, lang, summary, findings."""
        return envelope("journeymine.insights", FORMAT_VERSION, {
            "grain": self.grain, "lang": self.lang, "summary": dict(self.summary),
            "findings": records(self.table, list(COLUMNS))})

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        t = self.table
        top = f"; top: {t['kind'].iloc[0]} at {t['where'].iloc[0]}" if len(t) else ""
        barriers = int((t["type"] == "barrier").sum()) if len(t) else 0
        return (f"Insights({len(t)} findings per {self.grain}: {barriers} barriers, "
                f"{len(t) - barriers} opportunities{top})")

    def _repr_html_(self) -> str:
        rows = ((r.rank, r.type, r.kind, r.where, f"{r.customers:,}",
                 f"{r.effect:+.3g} ({r.effect_low:+.3g}, {r.effect_high:+.3g})",
                 f"{r.loss:,.0f} {r.unit}", f"{r.q_value:.2g}", r.sentence)
                for r in self.table.head(20).itertuples())
        return html_table(repr(self), ("#", "type", "kind", "where", "customers",
                                       "effect (95%)", "loss", "q", "sentence"), rows)


def insights(
    log: EventLog,
    texts=None,
    *,
    grain: str = "session",
    gap: str | pd.Timedelta | None = None,
    session: str | bool | None = None,
    episode_gap: str | pd.Timedelta | None = "30D",
    lang: str = "en",
    stages: StagesLike = None,
    conversion: str | Iterable[str] | None = None,
    min_cases: int = 30,
    alpha: float = 0.05,
    slow_factor: float = 2.0,
    funnel_share: float = 0.8,
    event_share: float = 0.2,
    incident_ratio: float = 1.5,
    max_loop_length: int = 6,
) -> Insights:
    """One ranked table of barriers and opportunities: what matters first.

    Drop-off points, loops, slow steps, touchpoints whose presence goes with
    lower or higher conversion, incident windows, channel switches after
    which conversion drops and, with ``texts``, touchpoints customers are
    negative about; each with customers affected, an effect with a 95%
    interval, the loss, the evidence, a q-value and a sentence. The methods
    and guards are described in :mod:`journeymine.discovery._insights`.

    Parameters
    ----------
    log : EventLog
        The events.
    texts : JourneyEmotions, DataFrame or path, optional
        The output of :func:`~journeymine.emotions`, or texts already tagged
        (``emotion`` and ``sentiment`` columns, see :func:`~journeymine.read_texts`).
    grain : {"session", "episode", "customer"}, default "session"
        The unit counted (see :func:`~journeymine.sessionize` and
        :func:`~journeymine.episodes`): sessions (visits), episodes (a
        customer's history cut after each conversion and at ``episode_gap``)
        or each customer's whole history.
    gap : str or Timedelta, optional
        Session grain: the inactivity that starts a new session; by default
        :func:`~journeymine.suggest_gap`'s (30 min without a clear valley).
    session : str or False, optional
        Session grain: the session column (detected by name by default).
    episode_gap : str or Timedelta or None, default "30D"
        Episode grain: the inactivity that starts a new episode.
    lang : {"en", "id"}, default "en"
        Language of the sentences.
    stages : StageMap, dict or path, optional
        Touchpoint to stage map (see :meth:`EventLog.stage_map`).
    conversion : str or list of str, optional
        Converting touchpoints or stages (see :func:`~journeymine.discovery.resolve_conversion`).
    min_cases : int, default 30
        Fewest cases on each side of a comparison (and per edge, touchpoint
        or loop) for it to be tested.
    alpha : float, default 0.05
        False discovery rate: findings with a larger q-value are dropped.
    slow_factor : float, default 2
        An edge is a slow step when its median wait is at least this many
        times its reference: the largest of the typical wait and the median
        waits of the other steps out of its source and into its target.
    funnel_share : float, default 0.8
        A touchpoint that precedes the conversion in at least this share of
        one purchase route's conversions (a route: the conversion touchpoint
        and the step before it) is a purchase-path step and is not tested
        as an event.
    event_share : float, default 0.2
        Touchpoints in more of the cases are navigation, not tested as events.
    incident_ratio : float, default 1.5
        Fewest-fold change of a touchpoint's share inside a window for an incident.
    max_loop_length : int, default 6
        Longest cycle (in steps) counted as a loop.

    Returns
    -------
    Insights

    Raises
    ------
    JourneymineError
        ``log`` is not an EventLog.
    InvalidParameterError
        A parameter outside its range or choices.

    Examples
    --------
    >>> import textwrap, pandas as pd, journeymine as jm
    >>> rows = []
    >>> for i in range(200):
    ...     helped = i % 5 == 0
    ...     path = ["home", "product", "help" if helped else "reviews", "cart"]
    ...     path += ["checkout"] if (i % 20 == 0 if helped else i % 4 != 1) else []
    ...     rows += [(f"c{i}", tp, pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=i * 60 + j))
    ...              for j, tp in enumerate(path)]
    >>> log = jm.EventLog.from_pandas(pd.DataFrame(rows, columns=["customer_id", "touchpoint",
    ...                                                           "ts"]))
    >>> found = jm.insights(log, conversion="checkout", gap="30min")
    >>> row = found.table.query("kind == 'event' and where == 'help'").iloc[0]
    >>> row["type"], bool(row["effect_high"] < 0)
    ('barrier', True)
    >>> print(textwrap.fill(row["sentence"], 90))
    Sessions with help converted 25% against 75% for sessions of similar length that reached
    product without it.
    """
    require_event_log(log, "insights()")
    from journeymine.discovery._grains import check_grain

    grain = check_grain(grain)
    check_choice("lang", lang, LANGS)
    if not isinstance(min_cases, int | np.integer) or isinstance(min_cases, bool) or min_cases < 1:
        raise InvalidParameterError(f"min_cases={min_cases!r} must be a positive integer.",
                                    expected="an int of at least 1 (30 by default).",
                                    fix="Pass e.g. min_cases=30.")
    defaults = {"alpha": 0.05, "funnel_share": 0.8, "event_share": 0.2}
    for name, value, low, high in (("alpha", alpha, 0, 1), ("funnel_share", funnel_share, 0, 1),
                                   ("event_share", event_share, 0, 1)):
        if not isinstance(value, int | float) or not low < value <= high:
            raise InvalidParameterError(f"{name}={value!r} is out of range.",
                                        expected=f"a number in ({low}, {high}].",
                                        fix=f"Pass e.g. {name}={defaults[name]}.")
    for name, value in (("slow_factor", slow_factor), ("incident_ratio", incident_ratio)):
        if not isinstance(value, int | float) or not value > 1:
            raise InvalidParameterError(f"{name}={value!r} must be a number above 1.",
                                        expected="a fold change such as 1.5 or 3.",
                                        fix=f"Pass e.g. {name}=3.")
    if not isinstance(max_loop_length, int) or max_loop_length < 1:
        raise InvalidParameterError(f"max_loop_length={max_loop_length!r} must be a positive "
                                    "integer.", expected="an int of at least 1.",
                                    fix="Pass e.g. max_loop_length=6.")
    stage_map = log.stage_map(stages)
    conv = resolve_conversion(log, stage_map, conversion)
    rank = {tp: stage_map.order.index(s) for tp, s in stage_map.mapping.items()}
    rules = {"session": {"gap": gap, "session": session}, "episode": {"episode_gap": episode_gap},
             "customer": {}}[grain]
    cs = _build_cases(log, grain, conv, rank, min_cases, **rules)
    presence = _pre_presence(cs)
    path = _path_steps(cs, presence, funnel_share, min_cases)
    path_reached = np.zeros(cs.n_cases, dtype=np.int64)
    path_reached[presence[0][path[presence[1]]]] = 1
    parts = [
        _dropoffs(cs, presence, min_cases),
        _loops(cs, presence, path_reached, min_cases, max_loop_length),
        _slow_steps(cs, grain, min_cases, slow_factor),
        _events(cs, presence, path, min_cases, event_share),
        _incidents(cs, presence, min_cases, incident_ratio),
        _switches(cs, presence, min_cases),
    ]
    tested = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(
        not p.empty for p in parts) else pd.DataFrame(columns=["p_value"])
    tested["q_value"] = benjamini_hochberg(tested["p_value"].to_numpy(dtype=float))
    n_tests = len(tested)
    if texts is not None:
        emo = _emotion_rows(log, texts)
        if not emo.empty:
            tested = pd.concat([tested, emo], ignore_index=True)
    table = _finish(tested, alpha, grain, lang)
    summary = {
        "cases": cs.n_cases, "customers": int(cs.customer.max()) + 1 if cs.n_cases else 0,
        "conversion_rate": float(cs.converted.mean()) if cs.n_cases else float("nan"),
        "conversion": list(conv), "tests": n_tests, "findings": len(table),
        "min_cases": min_cases, "alpha": alpha,
    }
    return Insights(table, grain, lang, summary)


def _finish(df: pd.DataFrame, alpha: float, grain: str, lang: str) -> pd.DataFrame:
    """Keep the findings with ``q ≤ alpha``, score and rank them, add the sentences."""
    if df.empty or "kind" not in df:
        return pd.DataFrame(columns=list(COLUMNS))
    df = df[(df["q_value"] <= alpha) & (df["relative_effect"] > 0)].copy()
    conversion_based = df["unit"] == "conversions"
    df["type"] = np.where(conversion_based & (df["effect"] > 0) & (df["kind"] != "drop-off"),
                          "opportunity", "barrier")
    size = np.sqrt(df["effect"].abs().clip(upper=1) * df["relative_effect"].clip(0, 1))
    df["score"] = df["customers"] * size * (1 - df["q_value"])
    df = df.sort_values(["score", "kind", "where"], ascending=[False, True, True],
                        kind="stable").reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    df["sentence"] = [_sentence(row, grain, lang) for _, row in df.iterrows()]
    for col in ("start", "end"):
        if col not in df:
            df[col] = pd.NaT
    df["customers"] = df["customers"].astype(int)
    df["cases"] = df["cases"].astype(int)
    return df[list(COLUMNS)]
