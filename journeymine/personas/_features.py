"""Per-customer journey features: :class:`JourneyFeaturizer` and its Ibis queries.

The queries are Ibis expressions over the event table (DuckDB by default),
run on chunks of customers (:data:`~journeymine.personas._common.CHUNK_CUSTOMERS`
at a time): one aggregation per customer for the journey as a whole, and
grouped counts per customer and touchpoint (stage, channel, transition) that
are scattered into the feature table. No per-event data leaves the database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow.compute as pc
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from journeymine.discovery._discover import resolve_conversion
from journeymine.discovery._engine import journey_steps
from journeymine.eventlog._eventlog import EventLog, StagesLike
from journeymine.eventlog._schema import (
    ACTIVITY,
    CHANNEL,
    CUSTOMER,
    EVENT_INDEX,
    REVENUE,
    TIMESTAMP,
)
from journeymine.exceptions import InvalidParameterError
from journeymine.personas._common import (
    TEXT_LABELS,
    as_log,
    check_texts,
    customer_bounds,
    log_chunks,
)

__all__ = ["JourneyFeaturizer"]

#: Feature groups of :class:`JourneyFeaturizer`, in output order.
GROUPS = ("journey", "touchpoints", "stages", "channels", "transitions", "emotions")

_DAY = 86400.0


def n_where(cond: ir.BooleanValue) -> ir.IntegerScalar:
    """How many rows satisfy ``cond`` (null counts as false, so the result is never null)."""
    return cond.fill_null(False).cast("int64").sum()


# --------------------------------------------------------------------------- queries
def journey_features(st: ir.Table, n_stages: int, as_of, has_revenue: bool) -> dict[str, ir.Value]:
    """Per-customer aggregations of the journey as a whole.

    Computed on :func:`~journeymine.discovery._queries.steps`.

    Length, distinct touchpoints, duration, conversion, time to the first
    conversion, furthest stage, loops and, with revenue, recency, frequency
    and monetary value (recency up to ``as_of``).
    """
    first_ts, last_ts = st[TIMESTAMP].min(), st[TIMESTAMP].max()
    conv_ts = st[TIMESTAMP].min(where=st.is_conversion)
    out: dict[str, ir.Value] = {
        "n_events": st.count(),
        "n_touchpoints": st[ACTIVITY].nunique(),
        "duration_seconds": last_ts.epoch_seconds() - first_ts.epoch_seconds(),
        "converted": st.is_conversion.max().cast("float64"),
        "seconds_to_conversion": conv_ts.epoch_seconds() - first_ts.epoch_seconds(),
        "furthest_stage": st.stage_rank.max(),
        "n_self_loops": n_where(st.next_activity == st[ACTIVITY]),
        "n_repeats": st.count() - st[ACTIVITY].nunique(),
    }
    if n_stages == 0:
        out.pop("furthest_stage")
    if has_revenue:
        paid = st[REVENUE].fill_null(0) > 0
        last_paid = st[TIMESTAMP].max(where=paid)
        out.update(
            recency_days=(ibis.literal(as_of).epoch_seconds() - last_paid.epoch_seconds()) / _DAY,
            frequency=n_where(paid),
            monetary=st[REVENUE].sum(where=paid).fill_null(0),
        )
    return out


def counts_per_customer(st: ir.Table, *keys: str) -> ir.Table:
    """Events per customer and value of ``keys``: one row per pair that occurs (long form).

    One grouped count instead of one filtered sum per value: the counts of
    a customer-by-touchpoint (or channel, stage, transition) matrix, most
    of whose cells are zero.
    """
    return st.group_by([CUSTOMER, *keys]).aggregate(n=st.count())


def scatter_counts(counts: pd.DataFrame, customers: pd.Index, codes: np.ndarray, width: int,
                   prefix: str) -> pd.DataFrame:
    """The long-form ``counts`` as a dense ``(customers, width)`` table.

    ``codes`` gives each row's column (-1: not a feature, dropped); columns
    are named ``prefix + i``.
    """
    out = np.zeros((len(customers), width), dtype=np.int64)
    keep = codes >= 0
    rows = customers.get_indexer(counts[CUSTOMER].to_numpy()[keep])
    out[rows, codes[keep]] = counts["n"].to_numpy()[keep]
    return pd.DataFrame(out, index=customers, columns=[f"{prefix}{i}" for i in range(width)])


def channel_features(st: ir.Table) -> dict[str, ir.Value]:
    """Switches between consecutive channels, first and last channel."""
    switch = st.next_channel.notnull() & (st.next_channel != st[CHANNEL])
    return {"n_channel_switches": n_where(switch),
            "first_channel": st[CHANNEL].argmin(st[EVENT_INDEX]),
            "last_channel": st[CHANNEL].argmax(st[EVENT_INDEX])}


def pair_counts(st: ir.Table) -> ir.Table:
    """How often each touchpoint directly follows another: ``source``, ``target``, ``count``."""
    tr = st.filter(st.next_activity.notnull())
    return tr.group_by(source=tr[ACTIVITY], target=tr.next_activity).aggregate(count=tr.count())


def top_bigrams(counts: pd.DataFrame, n: int) -> list[tuple[str, str]]:
    """The ``n`` most frequent pairs of :func:`pair_counts` rows (summed; ties by name)."""
    total = counts.groupby(["source", "target"], as_index=False)["count"].sum()
    top = total.sort_values(["count", "source", "target"], ascending=[False, True, True],
                            kind="mergesort").head(n)
    return list(zip(top["source"], top["target"], strict=True))


def text_features(texts: ir.Table, labels: Mapping[str, Sequence[str]]) -> ir.Table:
    """Per customer: number of tagged texts and the share of each sentiment/emotion label."""
    aggs: dict[str, ir.Value] = {"n_texts": texts.count()}
    for col, values in labels.items():
        for i, v in enumerate(values):
            aggs[f"{col}{i}"] = (texts[col] == v).cast("float64").mean()
    return texts.group_by(texts[CUSTOMER]).aggregate(**aggs)


# --------------------------------------------------------------------------- estimator
class JourneyFeaturizer(TransformerMixin, BaseEstimator):
    """Turn an event log into one row of journey features per customer.

    ``fit`` learns the vocabulary (touchpoints, channels, stages, the most
    frequent transitions and, with texts, the emotion labels); ``transform``
    computes the features in DuckDB through Ibis and returns a DataFrame
    indexed by ``customer_id`` (sorted), one column per feature:

    * journey: ``n_events``, ``n_touchpoints`` (distinct), ``duration_seconds``,
      ``converted`` (0/1), ``seconds_to_conversion`` (NaN if never converted),
      ``furthest_stage`` (0 = first stage; NaN if no event has a stage),
      ``n_self_loops`` (A → A), ``n_repeats`` (events at a touchpoint already
      visited), and with revenue ``recency_days`` (from the last paid event to
      the last event of the transformed log; NaN if none), ``frequency`` (paid
      events), ``monetary`` (total revenue);
    * ``count__<touchpoint>``, ``share__<touchpoint>`` (of the customer's events);
    * ``stage_count__<stage>``, ``stage_share__<stage>``;
    * with channels: ``channel_share__<channel>``, ``n_channel_switches``,
      ``first_channel__<channel>``, ``last_channel__<channel>`` (0/1);
    * ``transition__<a>><b>``: share of the customer's transitions that go
      from ``a`` to ``b``, for the ``n_transitions`` most frequent pairs;
    * with ``texts``: ``n_texts``, ``sentiment__<label>``, ``emotion__<label>``
      (share of the customer's texts; 0 without texts).

    Parameters
    ----------
    stages : StageMap, dict or path, optional
        Touchpoint to stage map (see :meth:`EventLog.stage_map`).
    conversion : str or list of str, optional
        Touchpoints or stages that count as converting (see
        :func:`~journeymine.resolve_conversion`).
    n_transitions : int, default 30
        How many of the most frequent transitions become features (0 for none).
    groups : sequence of str, optional
        Feature groups to compute, from ``"journey"``, ``"touchpoints"``,
        ``"stages"``, ``"channels"``, ``"transitions"``, ``"emotions"``;
        all by default.

    Attributes
    ----------
    touchpoints_ : list of str
    channels_ : list of str
    stages_ : list of str
    transitions_ : list of (str, str)
    text_labels_ : dict of str to list of str
        Sentiment/emotion labels seen in the texts at fit time (empty without texts).
    conversion_ : tuple of str
    has_revenue_ : bool
    feature_names_in_ : not set
        The input is an event log, not a numeric matrix.

    Notes
    -----
    The input is an :class:`~journeymine.EventLog` or a pandas DataFrame of
    events (validated with :meth:`EventLog.from_pandas`), not a numeric array:
    scikit-learn's ``check_estimator`` checks that feed random numeric
    matrices do not apply. ``tests/test_personas_sklearn.py`` runs the
    checks with those listed as expected failures, and checks ``clone``,
    ``Pipeline`` and ``GridSearchCV`` directly.

    Examples
    --------
    >>> import pandas as pd, journeymine as jm
    >>> from journeymine.personas import JourneyFeaturizer
    >>> df = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "touchpoint": ["instagram_ad", "product_page", "checkout", "instagram_ad"],
    ...     "ts": ["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-01 11:00",
    ...            "2024-01-02 09:00"],
    ... })
    >>> X = JourneyFeaturizer().fit_transform(jm.EventLog.from_pandas(df))
    >>> list(X.index)
    ['a', 'b']
    >>> X[["n_events", "converted", "share__instagram_ad"]].round(3).values.tolist()
    [[3.0, 1.0, 0.333], [1.0, 0.0, 1.0]]
    """

    def __init__(self, stages: StagesLike = None, conversion: str | Collection[str] | None = None,
                 n_transitions: int = 30, groups: Sequence[str] | None = None):
        self.stages = stages
        self.conversion = conversion
        self.n_transitions = n_transitions
        self.groups = groups

    # ------------------------------------------------------------------ helpers
    def _groups(self) -> tuple[str, ...]:
        groups = GROUPS if self.groups is None else tuple(self.groups)
        unknown = [g for g in groups if g not in GROUPS]
        if unknown or not groups:
            raise InvalidParameterError(
                f"Unknown or no feature groups: {unknown or list(groups)}.",
                expected=f"a non-empty subset of {list(GROUPS)}.",
                fix="Pass groups=None for all of them.",
            )
        return groups

    def _steps(self, log: EventLog, stage_map, conversion):
        rank = {tp: stage_map.order.index(s) for tp, s in stage_map.mapping.items()}
        return journey_steps(log, rank, conversion)

    # ------------------------------------------------------------------ sklearn API
    def fit(self, X, y=None, *, texts: pd.DataFrame | None = None) -> JourneyFeaturizer:
        """Learn the vocabulary of ``X``.

        Parameters
        ----------
        X : EventLog or pandas.DataFrame of events
        y : ignored
        texts : DataFrame, optional
            Tagged texts with ``customer_id`` and ``sentiment`` and/or ``emotion``.

        Returns
        -------
        self
        """
        if isinstance(self.n_transitions, bool) or not isinstance(
                self.n_transitions, (int, np.integer)) or self.n_transitions < 0:
            raise InvalidParameterError(
                f"n_transitions must be a non-negative integer, got {self.n_transitions!r}.",
                expected="an int >= 0, e.g. 30.", fix="Pass n_transitions=30.",
            )
        groups = self._groups()
        log = as_log(X, what="JourneyFeaturizer.fit")
        texts = check_texts(texts)
        stage_map = log.stage_map(self.stages)
        self.stage_map_ = stage_map
        self.conversion_ = resolve_conversion(log, stage_map, self.conversion)
        self.touchpoints_ = log.activities
        self.stages_ = list(stage_map.order)
        self.channels_ = (
            sorted(log.table.column(CHANNEL).drop_null().unique().to_pylist())
            if log.has_channel else []
        )
        self.has_revenue_ = REVENUE in log.table.column_names
        self.transitions_: list[tuple[str, str]] = []
        if "transitions" in groups and self.n_transitions:
            _, bounds = customer_bounds(log)
            counts = pd.concat([
                pair_counts(self._steps(chunk, stage_map, self.conversion_)).execute()
                for _, chunk in log_chunks(log, bounds)])
            self.transitions_ = top_bigrams(counts, int(self.n_transitions))
        self.text_labels_: dict[str, list[str]] = {}
        if texts is not None and "emotions" in groups:
            self.text_labels_ = {
                c: sorted(texts[c].dropna().unique().tolist()) for c in TEXT_LABELS
                if c in texts.columns
            }
        self.groups_ = groups
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def fit_transform(self, X, y=None, *, texts: pd.DataFrame | None = None) -> pd.DataFrame:
        """:meth:`fit` then :meth:`transform` (``texts`` goes to both)."""
        return self.fit(X, y, texts=texts).transform(X, texts=texts)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns, in order.

        Examples
        --------
        >>> import journeymine as jm
        >>> from journeymine.personas import JourneyFeaturizer
        >>> log = jm.datasets.make_journeys(50, random_state=0)
        >>> names = JourneyFeaturizer(n_transitions=2).fit(log).get_feature_names_out()
        >>> [str(n) for n in names[:3]]
        ['n_events', 'n_touchpoints', 'duration_seconds']
        """
        check_is_fitted(self, "touchpoints_")
        return np.asarray(list(self._layout()), dtype=object)

    def _layout(self) -> dict[str, tuple[str, str]]:
        """``{feature name: (query column, kind)}`` in output order."""
        g = self.groups_
        out: dict[str, tuple[str, str]] = {}
        if "journey" in g:
            names = ["n_events", "n_touchpoints", "duration_seconds", "converted",
                     "seconds_to_conversion", "furthest_stage", "n_self_loops", "n_repeats"]
            if self.has_revenue_:
                names += ["recency_days", "frequency", "monetary"]
            out.update({n: (n, "value") for n in names})
        if "touchpoints" in g:
            tps = list(enumerate(self.touchpoints_))
            out.update({f"count__{t}": (f"tp{i}", "value") for i, t in tps})
            out.update({f"share__{t}": (f"tp{i}", "share") for i, t in tps})
        if "stages" in g:
            out.update({f"stage_count__{s}": (f"sg{i}", "value")
                        for i, s in enumerate(self.stages_)})
            out.update({f"stage_share__{s}": (f"sg{i}", "share")
                        for i, s in enumerate(self.stages_)})
        if "channels" in g and self.channels_:
            out.update({f"channel_share__{c}": (f"ch{i}", "share")
                        for i, c in enumerate(self.channels_)})
            out["n_channel_switches"] = ("n_channel_switches", "value")
            for end in ("first", "last"):
                out.update({f"{end}_channel__{c}": (f"{end}_channel", c) for c in self.channels_})
        if "transitions" in g:
            out.update({f"transition__{a}>{b}": (f"bg{i}", "transition")
                        for i, (a, b) in enumerate(self.transitions_)})
        if "emotions" in g and self.text_labels_:
            out["n_texts"] = ("n_texts", "value")
            for col, values in self.text_labels_.items():
                out.update({f"{col}__{v}": (f"{col}{i}", "value") for i, v in enumerate(values)})
        return out

    def transform(self, X, *, texts: pd.DataFrame | None = None, as_of=None) -> pd.DataFrame:
        """Compute the features of every customer of ``X``.

        Parameters
        ----------
        X : EventLog or pandas.DataFrame of events
        texts : DataFrame, optional
            Tagged texts (see :meth:`fit`); ignored when fit saw none.
        as_of : datetime, optional
            The time ``recency_days`` is measured to: by default the last
            event of ``X`` (pass the last event of the whole log when ``X``
            is one part of it).

        Returns
        -------
        pandas.DataFrame
            Index ``customer_id`` (sorted), float columns
            :meth:`get_feature_names_out`.
        """
        check_is_fitted(self, "touchpoints_")
        log = as_log(X, what="JourneyFeaturizer.transform")
        texts = check_texts(texts)
        tt = None
        if "emotions" in self.groups_ and self.text_labels_ and texts is not None:
            labels = {c: v for c, v in self.text_labels_.items() if c in texts.columns}
            tt = text_features(ibis.memtable(texts[[CUSTOMER, *labels]]), labels)
        if as_of is None:
            as_of = pc.max(log.table.column(TIMESTAMP)).as_py()
        customers, bounds = customer_bounds(log)
        names = self.get_feature_names_out()
        # One chunk of customers at a time into one preallocated array: memory is the
        # output plus one chunk's steps, not the steps of the whole log.
        out = np.empty((len(customers), len(names)))
        for rows, chunk in log_chunks(log, bounds):
            raw = self._raw(chunk, as_of, tt, customers[rows])
            out[rows] = self._assemble(raw).to_numpy(dtype=float)
        return pd.DataFrame(out, index=customers, columns=list(names))

    def _raw(self, log: EventLog, as_of, tt: ir.Table | None,
             customers: pd.Index) -> pd.DataFrame:
        """The query columns of one chunk of ``customers`` (its customers, sorted)."""
        g = self.groups_
        st = self._steps(log, self.stage_map_, self.conversion_)
        aggs: dict[str, ir.Value] = {"_n": st.count()}
        has_channel = "channels" in g and self.channels_ and log.has_channel
        if "journey" in g:
            has_rev = self.has_revenue_ and REVENUE in log.table.column_names
            aggs.update(journey_features(st, len(self.stages_), as_of, has_rev))
        if has_channel:
            aggs.update(channel_features(st))
        expr = st.group_by(st[CUSTOMER]).aggregate(**aggs)
        if tt is not None:
            expr = expr.left_join(tt, CUSTOMER).select(expr, *[c for c in tt.columns
                                                               if c != CUSTOMER])
        parts = [expr.execute().set_index(CUSTOMER).reindex(customers)]

        def counts(prefix: str, width: int, keys: list[str], code) -> None:
            df = counts_per_customer(st, *keys).execute()
            parts.append(scatter_counts(df, customers, code(df), width, prefix))

        def lookup(values: Sequence, *cols: str):
            index = pd.Index(values) if len(cols) == 1 else pd.MultiIndex.from_tuples(values)
            return lambda df: index.get_indexer(
                df[cols[0]] if len(cols) == 1 else pd.MultiIndex.from_frame(df[list(cols)]))

        if "touchpoints" in g:
            counts("tp", len(self.touchpoints_), [ACTIVITY], lookup(self.touchpoints_, ACTIVITY))
        if "stages" in g:
            counts("sg", len(self.stages_), ["stage_rank"],
                   lookup(range(len(self.stages_)), "stage_rank"))
        if has_channel:
            counts("ch", len(self.channels_), [CHANNEL], lookup(self.channels_, CHANNEL))
        if "transitions" in g and self.transitions_:
            counts("bg", len(self.transitions_), [ACTIVITY, "next_activity"],
                   lookup(self.transitions_, ACTIVITY, "next_activity"))
        return pd.concat(parts, axis=1)

    def _assemble(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Turn the query columns into the named, ordered feature table (vectorised)."""
        n = raw["_n"].astype(float)
        transitions = (n - 1).clip(lower=1)
        cols: dict[str, pd.Series | float] = {}
        for name, (col, kind) in self._layout().items():
            if col not in raw:
                cols[name] = 0.0 if kind != "value" or col.startswith(TEXT_LABELS) or \
                    col == "n_texts" else np.nan
                continue
            values = raw[col]
            if kind == "share":
                cols[name] = values.astype(float) / n
            elif kind == "transition":
                cols[name] = values.astype(float) / transitions
            elif kind == "value":
                cols[name] = values.astype(float)
            else:  # one-hot of a categorical column
                cols[name] = (values == kind).astype(float)
        out = pd.DataFrame(cols, index=raw.index)
        for c in ("n_texts", *[c for c in out.columns if c.startswith(("sentiment__",
                                                                        "emotion__"))]):
            if c in out:
                out[c] = out[c].fillna(0.0)
        out.index.name = CUSTOMER
        out.columns.name = None
        return out
