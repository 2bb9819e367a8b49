"""The hand-written DuckDB SQL of discover() equals the portable Ibis queries on the same logs."""

import subprocess
import sys

import pandas as pd
import pytest

import journeymine as jm
from journeymine.discovery._duckdb_queries import QUERIES
from journeymine.discovery._engine import DuckDBJourneys, IbisJourneys, connect
from tests.discovery.test_positional import RANK, _messy_log


def _cases(log, grain):
    """The log of one run of rows per journey and the grain's journeys, as discover cuts them."""
    if grain == "customer":
        return log, None
    journeys = jm.sessionize(log, gap="1h") if grain == "session" else jm.episodes(
        log, conversion=["checkout", "payment"], censor="2D")
    return journeys.log, journeys


def _frame(table) -> pd.DataFrame:
    df = table.to_pandas()
    return df.sort_values(list(df.columns)).reset_index(drop=True)


CASES = [("messy", "customer", ["checkout"]), ("messy", "customer", []),
         ("generated", "customer", ["payment", "store_purchase"]),
         ("generated", "session", ["payment"]), ("generated", "episode", ["checkout"])]


@pytest.mark.parametrize(("name", "grain", "conversion"), CASES)
def test_every_query_matches_its_ibis_twin(name, grain, conversion):
    log = _messy_log() if name == "messy" else jm.datasets.make_journeys(400, random_state=5)
    cases, journeys = _cases(log, grain)
    sql = DuckDBJourneys(cases, RANK, conversion, journeys=journeys)
    portable = IbisJourneys(cases, RANK, conversion, connect(), journeys=journeys)
    sql.build_journeys()
    names = [q for q in QUERIES if q != "returns" or grain != "customer"]
    for query in names:
        ours, theirs = sql.prepare(query)(), portable.prepare(query)()
        assert ours.schema.names == theirs.schema.names, query
        pd.testing.assert_frame_equal(_frame(ours), _frame(theirs), check_dtype=False,
                                      obj=query)


def test_hand_checked_gaps_on_the_messy_log():
    """c1 (converts at 11:00) switches instagram -> tiktok -> web before it; c3 never converts."""
    sql = DuckDBJourneys(_messy_log(), RANK, ["checkout"])
    gaps = sql.prepare("gaps")().to_pandas().set_index(["from_channel", "to_channel"])
    # c1: instagram -> tiktok -> web at 10:00, then web -> app after converting: not open.
    assert gaps.loc[("instagram", "tiktok"), ["switches", "journeys", "converted_after"]].tolist() \
        == [1, 1, 1]
    assert gaps.loc[("web", "app"), ["switches", "journeys"]].tolist() == [1, 0]
    # c3 goes web -> whatsapp twice (one journey), and its last event is the second whatsapp.
    assert gaps.loc[("web", "whatsapp"), ["switches", "journeys", "ended_at_switch"]].tolist() \
        == [2, 1, 0]
    assert gaps.loc[("whatsapp", "web"), ["switches", "journeys", "ended_at_switch"]].tolist() \
        == [1, 1, 0]


def test_discover_on_duckdb_does_not_import_ibis():
    code = ("import sys, journeymine as jm; "
            "jm.discover(jm.datasets.make_journeys(200, random_state=0), grain='session'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'ibis'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_variants_split_in_batches_keep_every_path(monkeypatch):
    from journeymine.discovery import _discover

    monkeypatch.setattr(_discover, "_SPLIT_BATCH", 2)
    variants = pd.Series(["ad > buy", "ad > web", "ad > web > buy", "buy", "web > web"])
    paths = _discover._split_paths(variants)
    assert paths.shape == (5,)
    assert list(paths) == [tuple(v.split(" > ")) for v in variants]
