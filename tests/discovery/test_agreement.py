"""Agreement with pm4py, the reference implementation, and ground truth from the generator."""

import pytest

import journeymine as jm


@pytest.fixture(scope="module")
def generated():
    return jm.datasets.make_journeys(800, random_state=7, return_truth=True)


@pytest.fixture(scope="module")
def pm4py_frame(generated):
    pm4py = pytest.importorskip("pm4py")
    log, _ = generated
    df = log.to_pandas()
    return pm4py, pm4py.format_dataframe(df, case_id="customer_id", activity_key="activity",
                                         timestamp_key="timestamp")


def test_dfg_start_end_match_pm4py(generated, pm4py_frame):
    pm4py, frame = pm4py_frame
    pm = jm.discover(generated[0])
    dfg, start, end = pm4py.discover_dfg(frame)
    ours = {(r.source, r.target): r.count for r in pm.edges.itertuples()}
    assert ours == dict(dfg)
    assert pm.start == dict(start)
    assert pm.end == dict(end)


def test_durations_match_pm4py(generated, pm4py_frame):
    pm4py, frame = pm4py_frame
    pm = jm.discover(generated[0])
    perf, _, _ = pm4py.discover_performance_dfg(frame)
    for r in pm.edges.itertuples():
        ref = perf[(r.source, r.target)]
        assert r.median_seconds == pytest.approx(ref["median"], abs=1.0)
        assert r.mean_seconds == pytest.approx(ref["mean"], abs=1.0)


def test_variants_match_pm4py(generated, pm4py_frame):
    pm4py, frame = pm4py_frame
    pm = jm.discover(generated[0])
    ref = pm4py.get_variants(frame)
    ours = dict(zip(pm.variants["path"], pm.variants["customers"], strict=True))
    assert ours == {tuple(k): v for k, v in ref.items()}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_bottleneck_and_dropoff_are_found(seed):
    log, truth = jm.datasets.make_journeys(3000, random_state=seed, return_truth=True)
    pm = jm.discover(log, conversion=list(truth.conversion_touchpoints))
    top = tuple(pm.bottlenecks[["source", "target"]].iloc[0])
    assert top == tuple(truth.bottleneck)
    assert truth.dropoff_touchpoint in pm.dropoffs["touchpoint"].head(3).tolist()


def test_default_conversion_is_paid_purchase(generated):
    log, truth = generated
    assert set(jm.discover(log).conversion) == set(truth.conversion_touchpoints)
