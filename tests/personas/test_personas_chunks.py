"""Chunked computation of features, counts and assignments gives the unchunked results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journeymine as jm
from journeymine.personas import JourneyFeaturizer, PersonaModel, _common
from journeymine.personas._common import customer_bounds, subset_log, take_customers


@pytest.fixture(scope="module")
def log():
    return jm.datasets.make_journeys(400, random_state=3)


def test_customer_bounds_cover_each_customers_run(log):
    customers, bounds = customer_bounds(log)
    assert list(customers) == sorted(set(log.table.column("customer_id").to_pylist()))
    ids = log.table.column("customer_id").to_numpy(zero_copy_only=False)
    for i in (0, 57, len(customers) - 1):
        run = ids[bounds[i]:bounds[i + 1]]
        assert len(run) and set(run) == {customers[i]}
    assert bounds[-1] == log.n_events


def test_take_customers_matches_subset_by_id(log):
    customers, bounds = customer_bounds(log)
    rows = np.array([0, 5, 6, 200, len(customers) - 1])
    taken = take_customers(log, bounds, rows, "sample")
    by_id = subset_log(log, customers[rows], "sample")
    assert taken.table.equals(by_id.table)


def test_features_do_not_depend_on_the_chunk_size(log, monkeypatch):
    whole = JourneyFeaturizer().fit_transform(log)
    monkeypatch.setattr(_common, "CHUNK_CUSTOMERS", 37)
    assert len(list(_common.log_chunks(log, customer_bounds(log)[1]))) == 11
    chunked = JourneyFeaturizer().fit_transform(log)
    pd.testing.assert_frame_equal(chunked, whole)


@pytest.mark.parametrize("method", ["markov", "kmeans"])
def test_sampled_fit_assigns_everyone_in_chunks_as_predict_does(log, monkeypatch, method):
    def fit():
        return PersonaModel(3, method=method, random_state=0, sample_size=150,
                            n_bootstrap=0).fit(log)

    whole = fit()
    monkeypatch.setattr(_common, "CHUNK_CUSTOMERS", 37)
    chunked = fit()
    pd.testing.assert_series_equal(chunked.labels_, whole.labels_)
    pd.testing.assert_series_equal(chunked.predict(log), whole.labels_)
    assert len(whole.labels_) == 400 and len(whole.features_) == 150
    assert sum(p.size for p in whole.personas_) == 400
