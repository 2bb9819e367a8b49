"""Clustering back ends of :class:`~journeymine.PersonaModel`: one small class per method.

Each back end turns a log (and its feature table) into the data it clusters,
fits one model with a given number of personas, chooses the number of
personas (:meth:`select`: a table of scores per k, the models, the chosen k
and a note on how sure the choice is) and assigns customers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from journeymine.eventlog._eventlog import EventLog
from journeymine.personas._markov import (
    OTHER,
    MarkovMixture,
    SequenceData,
    channel_is_sticky,
    paired_z,
    sequence_data,
    tempo_is_clustered,
    tune_weights,
    visits_track_exposure,
)

#: Feature columns on a count or duration scale: log1p before scaling.
_HEAVY = ("n_events", "n_touchpoints", "duration_seconds", "seconds_to_conversion",
          "n_self_loops", "n_repeats", "recency_days", "frequency", "monetary",
          "n_channel_switches", "n_texts")
#: Above this many customers k-means uses MiniBatchKMeans.
MINIBATCH_ABOVE = 50_000
#: Silhouette is computed on at most this many customers.
SILHOUETTE_SAMPLE = 4000
#: Share of the fit sample held out to score component weights and each k.
HELDOUT_SHARE = 0.3
#: Bootstrap refits per k for the stability of the k choice.
K_BOOTSTRAP = 3
#: A k whose bootstrap refits agree less than this (mean adjusted Rand index) is not
#: chosen. The refits start from the fitted solution, so this asks whether the
#: solution survives a resample, not whether a random start finds it again (random
#: starts disagree under heavy overlap at every k > 2, which made k collapse to 2).
MIN_STABILITY = 0.75
#: The chosen k is the smallest that reaches this share of the best held-out
#: likelihood gain over the smallest k tried (an elbow on held-out likelihood).
#: Swept 0.7-0.9 on the 8 recovery generators x 3 seeds (README): 0.8 leaves six
#: generators identical and moves the session ones from 0.52 / 0.60 to 0.59 / 0.57
#: (six / three personas); 0.9 over-splits the bundled generator.
HELDOUT_GAIN = 0.8
#: A k is only chosen over the smallest k tried when its held-out gain per customer is
#: at least this many standard errors (paired over the held-out customers): on
#: personas that one k already separates, more personas gain a few hundredths of a
#: nat, and 70 % of such a gain is noise.
MIN_GAIN_Z = 2.0
#: Component weights are tuned with this many personas (or the nearest k tried).
TUNE_K = 4


class MarkovBackend:
    """Mixture of Markov chains with entry, channel, pace, duration, length and value.

    Component weights are tuned on held-out likelihood when
    ``component_weights`` is ``"heldout"``, else 1 each, updated by
    ``component_weights`` when it is a dict; k is chosen by BIC, held-out
    likelihood and bootstrap stability (see :meth:`select`). The view of
    the pace (every wait, or the customer's tempo and the waits relative to
    it) is chosen in :meth:`select` by
    :func:`~journeymine.personas._markov.tempo_is_clustered` and used for
    every fit and assignment after it.
    """

    criterion = "-heldout_loglik"

    def __init__(self, components: Sequence[str], n_init: int, max_iter: int,
                 component_weights: Mapping[str, float] | str | None = "heldout"):
        self.components = tuple(dict.fromkeys(("entry", "transitions", *components)))
        self.n_init = n_init
        self.max_iter = max_iter
        self.tune = component_weights == "heldout"
        given = {} if self.tune or component_weights is None else dict(component_weights)
        self.component_weights_ = {c: float(given.get(c, 1.0)) for c in self.components}
        self.centred_pace_ = False
        self.channel_chain_ = False
        self.visit_rate_ = False

    def learn(self, log: EventLog, features: pd.DataFrame) -> None:
        self.states_ = [*log.activities, OTHER]
        self.channels_ = (sorted(log.table.column("channel").drop_null().unique().to_pylist())
                          if log.has_channel else [])

    def data(self, log: EventLog, features: pd.DataFrame, as_of=None) -> SequenceData:
        """The counts and summaries of ``log``, observed up to ``as_of`` (its end by default)."""
        return sequence_data(log, self.states_, self.components, self.channels_, as_of)

    @staticmethod
    def take(data: SequenceData, rows: np.ndarray) -> SequenceData:
        return data.take(rows)

    def fit(self, data: SequenceData, k: int, seed: np.random.SeedSequence, n_init=None):
        return MarkovMixture(k, component_weights=self.component_weights_,
                             n_init=n_init or self.n_init, max_iter=self.max_iter,
                             seed=seed).fit(self._view(data))

    def _view(self, data: SequenceData) -> SequenceData:
        """``data`` with the pace and channel views chosen in :meth:`select`."""
        # The exposure view first: it drops the waits between visits from the plain
        # wait histogram, which the pace view then keeps or replaces.
        return data.exposure_view(self.visit_rate_).pace_view(self.centred_pace_).channel_view(
            self.channel_chain_)

    def select(self, data: SequenceData, ks: list[int],
               seed: np.random.SeedSequence) -> tuple[pd.DataFrame, dict, int, str]:
        """Tune the component weights, then score every k and choose one.

        On a random split of ``data`` (:data:`HELDOUT_SHARE` held out), with
        ``component_weights="heldout"``, the component weights are tuned with
        :func:`tune_weights` at :data:`TUNE_K` personas (or the k asked
        for). Then per k: BIC and ICL of the fit on all of ``data`` (shown,
        not used: they score the plain likelihood, which the tempered fit
        does not maximise, and keep k at 2 wherever one component's
        customer-to-customer variation outweighs the personas), the held-out
        log-likelihood per customer of a fit on the rest, and the stability:
        the mean adjusted Rand index between the fit and :data:`K_BOOTSTRAP`
        refits on bootstrap resamples started from it. Among the ks whose
        stability is at least :data:`MIN_STABILITY` and whose held-out gain
        over the smallest k tried is at least :data:`MIN_GAIN_Z` standard
        errors (``gain_z``; the smallest k if there is none), the chosen k
        is the smallest that reaches :data:`HELDOUT_GAIN` of the best of
        their held-out log-likelihood gains over the smallest k tried:
        held-out likelihood guards against too few and too many personas,
        stability against splits that do not survive a resample.

        Returns
        -------
        table : DataFrame
            ``k``, ``criterion``, ``score`` (minus the held-out
            log-likelihood), ``bic``, ``icl``, ``heldout_loglik``,
            ``gain_z``, ``stability``.
        models : dict of int to MarkovMixture
        best : int
        note : str
            How confident the choice is, in words.
        """
        seeds = seed.spawn(4)
        self.centred_pace_ = not tempo_is_clustered(data, seeds[3])
        self.channel_chain_ = channel_is_sticky(data)
        self.visit_rate_ = visits_track_exposure(data)
        data = self._view(data)
        rng = np.random.default_rng(seeds[0])
        n = len(data)
        order = rng.permutation(n)
        # Tiny samples: score on the training customers themselves.
        cut = round(n * (1 - HELDOUT_SHARE)) if n >= 20 else n
        train = data.take(np.sort(order[:cut]))
        test = data.take(np.sort(order[cut:])) if cut < n else train
        tune_k = min(ks, key=lambda k: (abs(k - TUNE_K), k))
        if self.tune and tune_k > 1 and len(train) > 2 * tune_k:
            self.component_weights_, self.weight_trials_ = tune_weights(
                train, test, tune_k, self.components, seeds[1],
                n_init=min(self.n_init, 2), max_iter=self.max_iter)
        rows, models, per = [], {}, {}
        for k, child in zip(ks, seeds[2].spawn(len(ks)), strict=True):
            fit_seed, half_seed, boot_seed = child.spawn(3)
            model = models[k] = self.fit(data, k, fit_seed)
            half = self._refit(model, train, half_seed)
            per[k] = half.score_samples(test)
            heldout = float(per[k].mean())
            rows.append({"k": k, "criterion": self.criterion, "score": -heldout,
                         "bic": model.bic(data), "icl": model.icl(data),
                         "heldout_loglik": heldout, "gain_z": paired_z(per[k], per[ks[0]]),
                         "stability": self._stability(model, data, boot_seed)})
        table = pd.DataFrame(rows)
        ok = table[(table["stability"] >= MIN_STABILITY)
                   & ((table["k"] == ks[0]) | (table["gain_z"] >= MIN_GAIN_Z))]
        if len(ok):
            low, high = table["heldout_loglik"].iloc[0], ok["heldout_loglik"].max()
            enough = ok[ok["heldout_loglik"] >= low + HELDOUT_GAIN * (high - low)]
            best = int(enough["k"].iloc[0])
        else:
            best = int(table["k"].min())
        return table, models, best, _k_note(table, best)

    def _refit(self, model: MarkovMixture, data: SequenceData,
               seed: np.random.SeedSequence) -> MarkovMixture:
        """A fit on ``data`` started from ``model``'s assignments (one EM run)."""
        return MarkovMixture(model.n_components, component_weights=self.component_weights_,
                             max_iter=self.max_iter, seed=seed).fit(
            data, resp=model.predict_proba(data))

    def _stability(self, model: MarkovMixture, data: SequenceData,
                   seed: np.random.SeedSequence) -> float:
        """Mean adjusted Rand index of ``model`` and refits on bootstrap resamples."""
        from sklearn.metrics import adjusted_rand_score

        if model.n_components == 1:
            return 1.0
        labels = model.predict(data)
        rng = np.random.default_rng(seed)
        agree = [adjusted_rand_score(labels, self._refit(
            model, data.take(rng.integers(0, len(data), len(data))), child).predict(data))
            for child in seed.spawn(K_BOOTSTRAP)]
        return float(np.mean(agree))

    def predict(self, model: MarkovMixture, data: SequenceData) -> np.ndarray:
        return model.predict(self._view(data))


def _k_note(table: pd.DataFrame, best: int) -> str:
    """One sentence on how sure the k choice is (what the persona cards show)."""
    if len(table) == 1:
        return f"{best} personas (fixed by n_personas)."
    row = table.set_index("k").loc[best]
    k_bic = int(table.loc[table["bic"].idxmin(), "k"])
    k_ho = int(table.loc[table["heldout_loglik"].idxmax(), "k"])
    k_icl = int(table.loc[table["icl"].idxmin(), "k"])
    agree = len({best, k_bic, k_ho, k_icl})
    if row["stability"] >= 0.9 and agree <= 2:
        level = "high"
    elif row["stability"] >= MIN_STABILITY:
        level = "moderate"
    else:
        level = "low"
    return (f"k = {best} of {int(table['k'].min())}-{int(table['k'].max())}, {level} "
            f"confidence: refits agree {row['stability']:.2f} (adjusted Rand); best "
            f"held-out likelihood at k = {k_ho}, lowest BIC at k = {k_bic}, ICL at "
            f"k = {k_icl}.")


class FeatureBackend:
    """Shared part of the feature-table back ends: log1p, median imputation, scaling."""

    criterion = ""

    def select(self, data: np.ndarray, ks: list[int],
               seed: np.random.SeedSequence) -> tuple[pd.DataFrame, dict, int, str]:
        """Fit every k and keep the best by :attr:`criterion` (lower is better)."""
        scores, models = [], {}
        for k, child in zip(ks, seed.spawn(len(ks)), strict=True):
            models[k] = self.fit(data, k, child)
            scores.append({"k": k, "criterion": self.criterion,
                           "score": self.score(models[k], data)})
        table = pd.DataFrame(scores)
        best = int(table.loc[table["score"].idxmin(), "k"])
        note = (f"{best} personas (fixed by n_personas)." if len(ks) == 1 else
                f"k = {best} of {min(ks)}-{max(ks)} by {self.criterion.lstrip('-')}.")
        return table, models, best, note

    def __init__(self, n_init: int, max_iter: int):
        self.n_init = n_init
        self.max_iter = max_iter

    def learn(self, log: EventLog, features: pd.DataFrame) -> None:
        from sklearn.preprocessing import StandardScaler

        keep = [c for c in features.columns if not c.startswith(("count__", "stage_count__"))]
        self.columns_ = keep
        z = self._raw(features)
        self.medians_ = np.nanmedian(z, axis=0)
        self.medians_ = np.where(np.isnan(self.medians_), 0.0, self.medians_)
        self.scaler_ = StandardScaler().fit(self._impute(z))

    def _raw(self, features: pd.DataFrame) -> np.ndarray:
        df = features.reindex(columns=self.columns_).astype(float)
        heavy = [c for c in df.columns if c in _HEAVY]
        df[heavy] = np.log1p(df[heavy].clip(lower=0))
        return df.to_numpy()

    def _impute(self, z: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(z), self.medians_[None, :], z)

    def data(self, log: EventLog, features: pd.DataFrame, as_of=None) -> np.ndarray:
        """The scaled feature table (``as_of`` is already in ``features``: recency)."""
        return self.scaler_.transform(self._impute(self._raw(features)))

    @staticmethod
    def take(data: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return data[rows]

    @staticmethod
    def predict(model, data: np.ndarray) -> np.ndarray:
        return model.predict(data)

    @staticmethod
    def _seed(seed: np.random.SeedSequence) -> int:
        return int(seed.generate_state(1)[0])


class KMeansBackend(FeatureBackend):
    """k-means on the scaled feature table (MiniBatchKMeans for big data); k by silhouette."""

    criterion = "-silhouette"

    def fit(self, data: np.ndarray, k: int, seed: np.random.SeedSequence, n_init=None):
        from sklearn.cluster import KMeans, MiniBatchKMeans

        cls = MiniBatchKMeans if len(data) > MINIBATCH_ABOVE else KMeans
        return cls(k, n_init=n_init or self.n_init, max_iter=self.max_iter,
                   random_state=self._seed(seed)).fit(data)

    def score(self, model, data: np.ndarray) -> float:
        from sklearn.metrics import silhouette_score

        labels = model.predict(data)
        if len(np.unique(labels)) < 2:
            return np.inf
        return -float(silhouette_score(data, labels, sample_size=min(len(data),
                                                                       SILHOUETTE_SAMPLE),
                                       random_state=0))


class GaussianMixtureBackend(FeatureBackend):
    """Gaussian mixture (diagonal covariances) on the scaled feature table; k by BIC."""

    criterion = "bic"

    def fit(self, data: np.ndarray, k: int, seed: np.random.SeedSequence, n_init=None):
        from sklearn.mixture import GaussianMixture

        return GaussianMixture(k, covariance_type="diag", n_init=n_init or self.n_init,
                               max_iter=self.max_iter, reg_covar=1e-4,
                               random_state=self._seed(seed)).fit(data)

    @staticmethod
    def score(model, data: np.ndarray) -> float:
        return float(model.bic(data))


METHODS = {"markov": MarkovBackend, "kmeans": KMeansBackend, "gmm": GaussianMixtureBackend}
