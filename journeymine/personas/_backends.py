"""Clustering back ends of :class:`~journeymine.PersonaModel`: one small class per method.

Each back end turns a log (and its feature table) into the data it clusters,
fits one model with a given number of personas, scores it with its
k-selection criterion and assigns customers. Lower scores are better.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from journeymine.eventlog._eventlog import EventLog
from journeymine.personas._markov import OTHER, MarkovMixture, SequenceData, sequence_data

#: Feature columns on a count or duration scale: log1p before scaling.
_HEAVY = ("n_events", "n_touchpoints", "duration_seconds", "seconds_to_conversion",
          "n_self_loops", "n_repeats", "recency_days", "frequency", "monetary",
          "n_channel_switches", "n_texts")
#: Above this many customers k-means uses MiniBatchKMeans.
MINIBATCH_ABOVE = 50_000
#: Silhouette is computed on at most this many customers.
SILHOUETTE_SAMPLE = 4000


class MarkovBackend:
    """Mixture of Markov chains; k by BIC."""

    criterion = "bic"

    def __init__(self, components: Sequence[str], n_init: int, max_iter: int):
        self.components = tuple(components)
        self.n_init = n_init
        self.max_iter = max_iter

    def learn(self, log: EventLog, features: pd.DataFrame) -> None:
        self.states_ = [*log.activities, OTHER]
        self.channels_ = (sorted(log.table.column("channel").drop_null().unique().to_pylist())
                          if log.has_channel else [])

    def data(self, log: EventLog, features: pd.DataFrame) -> SequenceData:
        return sequence_data(log, self.states_, self.components, self.channels_)

    @staticmethod
    def take(data: SequenceData, rows: np.ndarray) -> SequenceData:
        return data.take(rows)

    def fit(self, data: SequenceData, k: int, seed: np.random.SeedSequence, n_init=None):
        return MarkovMixture(k, n_init=n_init or self.n_init, max_iter=self.max_iter,
                             seed=seed).fit(data)

    @staticmethod
    def score(model: MarkovMixture, data: SequenceData) -> float:
        return model.bic(data)

    @staticmethod
    def predict(model: MarkovMixture, data: SequenceData) -> np.ndarray:
        return model.predict(data)


class FeatureBackend:
    """Shared part of the feature-table back ends: log1p, median imputation, scaling."""

    criterion = ""

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

    def data(self, log: EventLog, features: pd.DataFrame) -> np.ndarray:
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
