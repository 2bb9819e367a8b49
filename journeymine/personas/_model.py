"""The :class:`PersonaModel`: clustering with automatic k, stability and persona cards."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Collection, Mapping, Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted

from journeymine._util._json import envelope
from journeymine._util._write import write_bundle
from journeymine.eventlog._eventlog import StagesLike
from journeymine.exceptions import InvalidParameterError
from journeymine.personas._backends import METHODS
from journeymine.personas._common import (
    as_log,
    check_random_state,
    check_texts,
    customer_bounds,
    log_chunks,
    take_customers,
)
from journeymine.personas._features import JourneyFeaturizer
from journeymine.personas._markov import COMPONENTS

__all__ = ["PersonaModel"]

logger = logging.getLogger(__name__)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _as_of(value):
    """``value`` as a naive UTC datetime (how the log's timestamps are read), or an error."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        ts = pd.NaT
    if ts is pd.NaT:
        raise InvalidParameterError(
            f"as_of must be a date and time, got {value!r}.",
            expected="a datetime, pandas Timestamp or ISO string, e.g. '2025-06-30'.",
            fix="Pass the end of the observation window, or as_of=None for the last event.")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()


def _n_components(model) -> int:
    """Number of clusters of a fitted back-end model (Markov mixture, GMM or k-means)."""
    return int(model.n_clusters if hasattr(model, "n_clusters") else model.n_components)


class PersonaModel(ClusterMixin, BaseEstimator):
    """Group customers into personas by how their journeys unfold.

    Parameters
    ----------
    n_personas : int or "auto", default "auto"
        Number of personas (at most one per distinct journey: with fewer
        distinct journeys the model warns and uses fewer); ``"auto"`` picks
        it in ``k_range``: for ``"markov"`` by held-out likelihood and
        bootstrap stability together (among the ks whose bootstrap refits,
        started from the fit, agree with it, adjusted Rand >= 0.75, the
        smallest that reaches 80 % of the best held-out likelihood gain over
        the smallest k, counting only gains of at least two standard errors;
        BIC and ICL are shown); for ``"gmm"`` by BIC (lowest)
        and for ``"kmeans"`` by the mean silhouette (highest, on at most
        4,000 customers). :attr:`k_note_` says how confident the choice is.
    method : {"markov", "gmm", "kmeans"}, default "markov"
        ``"markov"``: a mixture of first-order Markov chains over touchpoint
        sequences fitted by EM (Cadez et al. 2003), extended with the
        ``components`` below in one likelihood; it keeps the order of the
        journey. ``"gmm"``: a diagonal Gaussian mixture and ``"kmeans"``:
        k-means (MiniBatchKMeans above 50,000 customers), both on the scaled
        :class:`JourneyFeaturizer` table. The default was chosen by recovery
        of planted personas (adjusted Rand index) on three generators built
        differently: :func:`~journeymine.datasets.make_journeys`, a
        visit-graph generator whose personas differ only in channel, only in
        pace, only in entry, only in moves, or in all with heavy overlap,
        and a session-mission generator with three or six hand-written
        personas of unequal size over months of visits
        (``benchmarks/bench_personas.py --generators``; the table is in the
        README).
    k_range : (int, int), default (2, 8)
        Smallest and largest number of personas tried by ``"auto"`` (inclusive).
    random_state : int >= 0, numpy Generator, numpy RandomState or None
        Seeds sampling, EM restarts and the bootstrap: the same seed gives
        the same personas. Anything else raises :class:`InvalidParameterError`.
    components : sequence of str, default all of them
        For ``"markov"``: the parts of each persona's model, from
        ``"entry"`` (the touchpoint that opens each visit), ``"transitions"``
        (including "the journey ends"), ``"channel"`` (channel of each
        event; when customers keep one channel within a visit, the channel
        as a chain: each event's channel after the previous one's or after
        the visit opens, so a long visit in one channel counts about once),
        ``"pace"`` (a histogram of every log-wait between events when the
        customers' tempi form groups, else the tempo, the mean log-wait within
        visits, once per customer with the waits relative to it),
        ``"duration"`` (mean log time between visits), ``"length"`` (log
        visits, or where visit counts grow with how long customers were
        observed the visit rate from each customer's first event to the
        log's end, and log events per visit) and ``"revenue"`` (mean log paid amount, when the log
        has revenue). Entry and transitions are always modelled.
    component_weights : "heldout", dict or None, default "heldout"
        For ``"markov"``: the weight of each component in the assignment of
        customers (a tempered likelihood). ``"heldout"``: chosen per log,
        one component at a time from {0, 0.5, 1, 2}, by the held-out
        likelihood of a fit on the rest of the fit sample, a weight moving
        from 1 only on a gain of at least two paired standard errors
        (:func:`~journeymine.personas._markov.tune_weights`; the weights
        that tempo or visit counts varying from customer to customer would
        otherwise turn into personas go down); a dict fixes them (1 for a
        component not given); ``None``: 1 each (the plain likelihood).
    n_init : int, default 4
        Restarts per fit (the best is kept).
    max_iter : int, default 300
    sample_size : int, default 20000
        Fit, choose k, score stability and compute the card statistics
        (traits, paths, funnel, pace) on a random sample of at most this
        many customers (drawn with ``random_state``), then assign everyone,
        :data:`~journeymine.personas._common.CHUNK_CUSTOMERS` customers at a
        time; card sizes and shares count everyone. Time beyond the sample
        grows with the log and memory stays bounded on millions (1M
        customers / 10M events in ``benchmarks/bench_personas.py --scale``).
    n_bootstrap : int, default 10
        Bootstrap refits for the stability score of each persona (0 to skip).
    stages, conversion
        Passed to :class:`JourneyFeaturizer` (stage map; what counts as converting).
    n_quotes : int, default 3
        Quotes per persona when texts are given.

    Attributes
    ----------
    n_personas_ : int
        The number of personas used.
    k_scores_ : pandas.DataFrame
        Per k tried: ``k``, ``criterion``, ``score`` (lower is better),
        ``chosen``; for ``"markov"`` also ``bic``, ``icl``, ``heldout_loglik``
        (per held-out customer, higher is better; ``score`` is minus it),
        ``gain_z`` (its gain over the smallest k in standard errors) and
        ``stability`` (mean adjusted Rand index of bootstrap refits started
        from the fit).
    k_note_ : str
        How the number of personas was chosen and how confident that is
        (also on every card as ``k_note``).
    labels_ : pandas.Series
        Persona id (0 = largest) per customer, indexed by ``customer_id``.
    personas_ : list of Persona
        One card per persona, ordered by id.
    stability_ : pandas.Series
        Mean bootstrap Jaccard similarity per persona (NaN when ``n_bootstrap=0``).
    featurizer_ : JourneyFeaturizer
    features_ : pandas.DataFrame
        The features the cards describe: of the fit sample (every customer
        when there are at most ``sample_size``; card sizes count everyone).
    model_ : object
        The fitted clustering model.

    Examples
    --------
    >>> import journeymine as jm
    >>> from journeymine.personas import PersonaModel
    >>> log = jm.datasets.make_journeys(300, random_state=0)
    >>> model = PersonaModel(n_personas=3, random_state=0, n_bootstrap=0).fit(log)
    >>> model.labels_.value_counts().sort_index().index.tolist()
    [0, 1, 2]
    >>> len(model.personas_), model.personas_[0].size >= model.personas_[1].size
    (3, True)
    """

    def __init__(self, n_personas: int | str = "auto", *, method: str = "markov",
                 k_range: tuple[int, int] = (2, 8), random_state=None,
                 components: Sequence[str] = COMPONENTS,
                 component_weights: Mapping[str, float] | str | None = "heldout",
                 n_init: int = 4,
                 max_iter: int = 300, sample_size: int = 20_000, n_bootstrap: int = 10,
                 stages: StagesLike = None, conversion: str | Collection[str] | None = None,
                 n_quotes: int = 3):
        self.n_personas = n_personas
        self.method = method
        self.k_range = k_range
        self.random_state = random_state
        self.components = components
        self.component_weights = component_weights
        self.n_init = n_init
        self.max_iter = max_iter
        self.sample_size = sample_size
        self.n_bootstrap = n_bootstrap
        self.stages = stages
        self.conversion = conversion
        self.n_quotes = n_quotes

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> list[int]:
        def bad(name, expected, fix):
            return InvalidParameterError(
                f"{name}={getattr(self, name)!r} is invalid.", expected=expected, fix=fix)

        if self.method not in METHODS:
            raise bad("method", f"one of {sorted(METHODS)}.", "Pass method='markov'.")
        kr = self.k_range
        if not (isinstance(kr, (tuple, list)) and len(kr) == 2 and all(map(_is_int, kr))
                and 1 <= kr[0] <= kr[1]):
            raise bad("k_range", "(low, high) integers with 1 <= low <= high.",
                      "Pass k_range=(2, 8).")
        if self.n_personas == "auto":
            ks = list(range(int(kr[0]), int(kr[1]) + 1))
        elif _is_int(self.n_personas) and self.n_personas >= 1:
            ks = [int(self.n_personas)]
        else:
            raise bad("n_personas", "'auto' or an integer >= 1.", "Pass n_personas='auto'.")
        unknown = [c for c in self.components if c not in COMPONENTS]
        if isinstance(self.components, str) or unknown:
            raise bad("components", f"a list drawn from {list(COMPONENTS)}.",
                      "Leave components at its default (all of them).")
        cw = self.component_weights
        if not (cw is None or cw == "heldout" or (
                isinstance(cw, Mapping) and set(cw) <= set(COMPONENTS)
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
                        for v in cw.values()))):
            raise bad("component_weights",
                      f"None, 'heldout' or a dict from {list(COMPONENTS)} to weights >= 0.",
                      "Pass component_weights=None for the defaults.")
        for name, low in (("n_init", 1), ("max_iter", 1), ("sample_size", 10),
                          ("n_bootstrap", 0), ("n_quotes", 0)):
            if not _is_int(getattr(self, name)) or getattr(self, name) < low:
                raise bad(name, f"an integer >= {low}.", f"Pass the default {name}.")
        return ks

    def _backend(self):
        cls = METHODS[self.method]
        if self.method == "markov":
            return cls(self.components, self.n_init, self.max_iter, self.component_weights)
        return cls(self.n_init, self.max_iter)

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None, *, texts: pd.DataFrame | None = None) -> PersonaModel:
        """Find the personas of the customers in ``X``.

        Parameters
        ----------
        X : EventLog or pandas.DataFrame of events
        y : ignored
        texts : DataFrame, optional
            Tagged texts (``customer_id`` plus ``sentiment``/``emotion``, and
            ``text`` for quotes, ``activity``/``touchpoint`` for pain points).

        Returns
        -------
        self
        """
        from journeymine.personas._cards import build_personas

        ks = self._check_params()
        log = as_log(X, what="PersonaModel.fit")
        texts = check_texts(texts)
        seeds = check_random_state(self.random_state).spawn(4)
        self.featurizer_ = JourneyFeaturizer(stages=self.stages, conversion=self.conversion)
        self.featurizer_.fit(log, texts=texts)
        backend = self._backend_ = self._backend()
        customers, bounds = customer_bounds(log)
        n = len(customers)
        if self.n_personas != "auto" and n < ks[0]:
            raise InvalidParameterError(
                f"The log has {n} customers, fewer than the n_personas={ks[0]} asked for.",
                expected="at least as many customers as personas.",
                fix="Pass a smaller n_personas (or n_personas='auto'), or a larger log.",
            )
        rng = np.random.default_rng(seeds[0])
        rows = (np.sort(rng.choice(n, self.sample_size, replace=False))
                if n > self.sample_size else np.arange(n))
        # Features (card statistics), counts and the fit come from the sample only;
        # everyone is assigned chunk by chunk: bounded memory on millions.
        # Recency is measured to the last event of the whole log, in the sample and
        # in every chunk alike.
        sampled, last = len(rows) < n, log.time_range()[1]
        card_log = take_customers(log, bounds, rows, log.source) if sampled else log
        features = self.featurizer_.transform(card_log, texts=texts, as_of=last)
        backend.learn(log, features)
        fit_data = backend.data(card_log, features, last)
        chunks = [fit_data]
        if sampled:
            chunks = [self._data(chunk, texts, last) for _, chunk in log_chunks(log, bounds)]
        ks = self._feasible(ks, len(features.drop_duplicates()), len(rows))
        table, models, best, self.k_note_ = backend.select(fit_data, ks, seeds[1])
        table["chosen"] = table["k"] == best
        for row in table.itertuples():
            logger.info("k=%d %s=%.6g", row.k, row.criterion, row.score)
        self.model_, raw = self._without_empty(backend, models[best], fit_data, chunks, seeds[3])
        del chunks
        if len(np.unique(raw)) < best:
            self.k_note_ += (f" Only {len(np.unique(raw))} of the {best} personas got "
                             "customers, so fewer are used.")
        best = len(np.unique(raw))
        self.k_scores_ = table
        self.n_personas_ = best
        # Persona ids by size (0 = largest), ties by the model's own order.
        sizes = np.bincount(raw, minlength=best)
        order = np.lexsort((np.arange(best), -sizes))
        self._relabel = np.empty(best, dtype=int)
        self._relabel[order] = np.arange(best)
        self.labels_ = pd.Series(self._relabel[raw], index=customers, name="persona")
        self.stability_ = self._stability(backend, fit_data, self._relabel[raw[rows]], seeds[2])
        self.features_ = features
        self.personas_ = build_personas(self, card_log, texts)
        return self

    def _feasible(self, ks: list[int], n_distinct: int, n_rows: int) -> list[int]:
        """The ks that the fit sample can support: at most one persona per distinct journey.

        Customers with identical features cannot be told apart, so asking for
        more personas than there are distinct journeys would leave personas
        empty. Warns when fewer personas than asked for are possible.
        """
        feasible = [k for k in ks if k <= min(n_distinct, n_rows)]
        if feasible:
            return feasible
        k = min(n_distinct, n_rows)
        asked = (f"n_personas={ks[0]}" if self.n_personas != "auto"
                 else f"at least {ks[0]} personas (k_range={tuple(self.k_range)})")
        warnings.warn(
            f"Only {n_distinct:,} distinct journey(s) among {n_rows:,} customers, so "
            f"{k} persona(s) instead of {asked}: customers with identical journeys "
            "cannot be split.", UserWarning, stacklevel=3,
        )
        return [k]

    def _without_empty(self, backend, model, fit_data, chunks: list,
                       seed) -> tuple[object, np.ndarray]:
        """Refit with fewer personas until every persona has customers; the model and labels.

        ``chunks`` hold the data of every customer, in order. A mixture
        component can end up with no customer (e.g. when journeys barely
        differ); such a persona would have no card. Warns when it happens.
        """
        def assign(model) -> np.ndarray:
            return np.concatenate([backend.predict(model, part) for part in chunks])

        raw = assign(model)
        k = model_k = _n_components(model)
        while (used := len(np.unique(raw))) < k:
            k = used
            model = backend.fit(fit_data, k, seed)
            raw = assign(model)
        if k < model_k:
            warnings.warn(
                f"{model_k - k} of {model_k} personas got no customer (the journeys do not "
                f"support that many distinct groups); using {k} persona(s).",
                UserWarning, stacklevel=3,
            )
        return model, raw

    def _stability(self, backend, data, labels: np.ndarray, seed) -> pd.Series:
        """Mean best-match Jaccard of each persona over bootstrap refits (Hennig 2007)."""
        k = self.n_personas_
        if self.n_bootstrap == 0:
            return pd.Series(np.nan, index=range(k), name="stability")
        rng = np.random.default_rng(seed)
        member = labels[:, None] == np.arange(k)[None, :]  # (n, k)
        total = np.zeros(k)
        for child in seed.spawn(self.n_bootstrap):
            rows = rng.integers(0, len(labels), len(labels))
            model = backend.fit(backend.take(data, rows), k, child, n_init=1)
            other = backend.predict(model, data)
            theirs = other[:, None] == np.arange(k)[None, :]
            inter = member.T.astype(float) @ theirs
            union = member.sum(0)[:, None] + theirs.sum(0)[None, :] - inter
            total += (inter / np.maximum(union, 1)).max(axis=1)
        return pd.Series(total / self.n_bootstrap, index=range(k), name="stability")

    def predict(self, X, *, as_of=None) -> pd.Series:
        """Assign the customers of ``X`` to the fitted personas.

        Parameters
        ----------
        X : EventLog or pandas.DataFrame of events
        as_of : datetime, optional
            The end of the observation window: the visit rate (``"length"``)
            counts each customer's visits from their first event to it, and
            ``recency_days`` is measured to it. By default the last event of
            ``X``, as :meth:`fit` uses the last event of the log it is given
            (not the fit log's end: a later export has a later end). Pass
            the end of the whole log when ``X`` is a part of it (some
            customers, an earlier cut), so that customers are observed over
            the same window as at fit time; chunks of ``X`` always use the
            end of all of ``X``.

        Returns
        -------
        pandas.Series
            Persona id per ``customer_id`` (sorted).
        """
        check_is_fitted(self, "model_")
        log = as_log(X, what="PersonaModel.predict")
        customers, bounds = customer_bounds(log)
        last = log.time_range()[1] if as_of is None else _as_of(as_of)
        raw = np.concatenate([self._backend_.predict(self.model_, self._data(chunk, None, last))
                              for _, chunk in log_chunks(log, bounds)])
        return pd.Series(self._relabel[raw], index=customers, name="persona")

    def _data(self, chunk, texts: pd.DataFrame | None, as_of):
        """What the back end assigns for ``chunk``, part of a log whose last event is ``as_of``."""
        # The sequence model needs no feature table: skip the featurizer for it.
        features = None if self.method == "markov" else self.featurizer_.transform(
            chunk, texts=texts, as_of=as_of)
        return self._backend_.data(chunk, features, as_of)

    def fit_predict(self, X, y=None, *, texts: pd.DataFrame | None = None) -> pd.Series:
        """:meth:`fit` and return :attr:`labels_`."""
        return self.fit(X, texts=texts).labels_

    # ------------------------------------------------------------------ output
    def to_html(self, *, title: str = "Personas") -> str:
        """The self-contained HTML persona report (every card) as a string."""
        from journeymine.reporting._persona_report import render_persona_report

        check_is_fitted(self, "personas_")
        return render_persona_report(self, title=title)

    def to_dict(self) -> dict:
        """JSON-safe dict: method, chosen k with the scores, and every persona card."""
        check_is_fitted(self, "personas_")
        return envelope("journeymine.personas", 1, {
            "method": self.method, "n_personas": self.n_personas_,
            "random_state": self.random_state,
            "k_scores": self.k_scores_.to_dict(orient="records"),
            "personas": [p.to_dict() for p in self.personas_],
        })

    def save(self, out_dir: str | PathLike[str], *, title: str = "Personas") -> list[Path]:
        """Write ``personas.html``, ``personas.json`` and ``assignments.csv`` into ``out_dir``.

        All or nothing (see :meth:`ProcessMap.save <journeymine.ProcessMap.save>`).
        ``assignments.csv`` has one row per customer: ``persona`` and ``persona_name``.

        Returns
        -------
        list of Path
            The files written.
        """
        check_is_fitted(self, "personas_")
        names = pd.Series({p.id: p.name for p in self.personas_})
        table = self.labels_.to_frame("persona").assign(persona_name=self.labels_.map(names))
        html_text, payload = self.to_html(title=title), self.to_dict()
        return write_bundle(out_dir, {
            "personas.html": lambda p: p.write_text(html_text, encoding="utf-8"),
            "personas.json": lambda p: p.write_text(
                json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8"),
            "assignments.csv": table.to_csv,
        })

    def to_frame(self) -> pd.DataFrame:
        """One row per persona: id, names, size, share, conversion, stability."""
        check_is_fitted(self, "personas_")
        return pd.DataFrame([p.summary for p in self.personas_]).set_index("id")
