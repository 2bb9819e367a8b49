"""scikit-learn conventions for JourneyFeaturizer and PersonaModel.

The featurizer takes an event log, not a numeric matrix, so the
``check_estimator`` checks that feed random numeric arrays cannot apply; they
are listed below as expected failures (with the reason) and the checks that
matter for an event-log transformer are re-run here on event logs: fit returns
self, idempotent fits, pickling, invariance to row order and to subsets,
parameters left untouched, NotFitted before fit.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import check_estimator

import journeymine as jm
from journeymine.personas import JourneyFeaturizer, PersonaModel

NUMERIC_INPUT = "needs a numeric matrix; the input of JourneyFeaturizer is an event log"
# Checks that pass random numeric arrays (or sparse/complex/NaN matrices) as X.
NUMERIC_CHECKS = [
    "check_fit_score_takes_y", "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
    "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_complex_data",
    "check_dtype_object", "check_estimators_empty_data_messages", "check_pipeline_consistency",
    "check_estimators_nan_inf", "check_estimator_sparse_tag", "check_estimator_sparse_array",
    "check_estimator_sparse_matrix", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_transformer_data_not_an_array",
    "check_transformer_general", "check_transformer_preserve_dtypes",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
    "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in",
    "check_fit2d_predict1d",
]


@pytest.fixture(scope="module")
def log():
    return jm.datasets.make_journeys(120, random_state=3)


def test_check_estimator_non_numeric_subset_passes():
    results = check_estimator(
        JourneyFeaturizer(), on_fail=None, on_skip=None,
        expected_failed_checks=dict.fromkeys(NUMERIC_CHECKS, NUMERIC_INPUT),
    )
    statuses = {}
    for r in results:
        statuses.setdefault(r["check_name"], set()).add(r["status"])
    failed = [name for name, s in statuses.items() if "failed" in s]
    assert failed == []
    passed = {name for name, s in statuses.items() if s == {"passed"}}
    for name in ("check_no_attributes_set_in_init", "check_get_params_invariance",
                 "check_set_params", "check_parameters_default_constructible",
                 "check_estimators_unfitted"):
        assert name in passed


def test_clone_pipeline_and_grid_search(log):
    pipe = Pipeline([("features", JourneyFeaturizer(n_transitions=5)),
                     ("noop", "passthrough")])
    out = pipe.fit_transform(log)
    assert out.shape[0] == log.n_customers
    cloned = clone(JourneyFeaturizer(n_transitions=7))
    assert cloned.get_params()["n_transitions"] == 7 and not hasattr(cloned, "touchpoints_")

    class Scored(PersonaModel):
        def score(self, X, y=None):  # higher is better: minus the chosen BIC
            return -float(self.k_scores_.loc[self.k_scores_["chosen"], "score"].iloc[0])

    events = log.to_pandas().drop(columns="event_index")  # GridSearchCV slices rows
    every = np.arange(len(events))
    grid = GridSearchCV(Scored(n_bootstrap=0, random_state=0, n_init=1),
                        {"n_personas": [2, 3]}, cv=[(every, every)])
    grid.fit(events)
    assert grid.best_params_["n_personas"] in (2, 3)
    assert grid.best_estimator_.n_personas_ == grid.best_params_["n_personas"]


def test_fit_returns_self_idempotent_and_pickles(log):
    f = JourneyFeaturizer(n_transitions=5)
    params = f.get_params()
    assert f.fit(log) is f
    first = f.transform(log)
    second = f.fit(log).transform(log)
    pd.testing.assert_frame_equal(first, second)
    assert f.get_params() == params
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(f)).transform(log), first)
    assert list(f.get_feature_names_out()) == list(first.columns)


def test_row_order_and_subset_invariance(log):
    df = log.to_pandas().drop(columns="event_index")
    f = JourneyFeaturizer(n_transitions=5).fit(log)
    full = f.transform(df)
    shuffled = f.transform(df.sample(frac=1.0, random_state=0))
    pd.testing.assert_frame_equal(full, shuffled)
    some = sorted(df["customer_id"].unique())[:30]
    sub = df[df["customer_id"].isin(some)]
    part = f.transform(sub)
    cols = [c for c in full.columns if c != "recency_days"]  # recency is up to the log's end
    pd.testing.assert_frame_equal(part[cols], full.loc[some, cols])


def test_not_fitted_errors(log):
    with pytest.raises(NotFittedError):
        JourneyFeaturizer().transform(log)
    with pytest.raises(NotFittedError):
        PersonaModel().predict(log)
