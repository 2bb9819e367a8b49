"""The shared utilities (journeymine._util): DuckDB connections, n_jobs, JSON, writers."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeymine as jm
from journeymine._util._arrays import (
    distinct_sorted,
    regroup,
    segment_median_without,
    segment_rank,
)
from journeymine._util._duckdb import connect, resolve_n_jobs
from journeymine._util._html import html_table
from journeymine._util._json import envelope
from journeymine._util._write import write_bundle, write_text
from journeymine.exceptions import InvalidParameterError, OutputError


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_n_jobs_rejects_what_is_not_a_thread_count(bad):
    with pytest.raises(InvalidParameterError, match="n_jobs"):
        resolve_n_jobs(bad)


def test_connect_sets_threads_and_time_zone():
    con = connect("Asia/Makassar", n_jobs=1)
    assert con.execute("SELECT current_setting('threads'), current_setting('TimeZone')"
                       ).fetchone() == (1, "Asia/Makassar")
    with pytest.raises(InvalidParameterError, match="Unknown time zone"):
        connect("Asia/Atlantis")
    with pytest.raises(InvalidParameterError, match="tz must be a time zone name"):
        connect(7)


def test_discover_gives_the_same_map_on_one_thread():
    log = jm.datasets.make_journeys(300, random_state=1)
    one, every = jm.discover(log, n_jobs=1), jm.discover(log)
    assert one.edges.equals(every.edges) and one.variants.equals(every.variants)
    with pytest.raises(InvalidParameterError):
        jm.discover(log, n_jobs=0)


def test_every_json_envelope_has_a_name_and_version(tmp_path):
    pm = jm.discover(jm.datasets.make_journeys(40, random_state=0))
    model = jm.PersonaModel(2, n_bootstrap=0, random_state=0).fit(
        jm.datasets.make_journeys(200, random_state=0))
    for data in (pm.to_dict(), model.to_dict(), envelope("x", 1, {})):
        assert set(data["format"]) == {"name", "version"}
        assert data["format"]["name"].startswith(("journeymine.", "x"))
    json.dumps(model.to_dict())  # JSON-safe


def test_write_text_leaves_no_temporary_file(tmp_path):
    write_text(tmp_path / "a.txt", "one")
    write_text(tmp_path / "a.txt", "two")
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "two"


def test_write_bundle_is_all_or_nothing(tmp_path):
    def fail(path):
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_bundle(tmp_path / "out", {"a.txt": lambda p: p.write_text("x"), "b.txt": fail})
    assert not (tmp_path / "out").exists()
    with pytest.raises(RuntimeError):  # the parent folders it created go too
        write_bundle(tmp_path / "new" / "out", {"b.txt": fail})
    assert not (tmp_path / "new").exists()
    (tmp_path / "file").write_text("keep")
    with pytest.raises(OutputError, match="is a file"):
        write_bundle(tmp_path / "file", {"a.txt": lambda p: p.write_text("x")})
    assert (tmp_path / "file").read_text() == "keep"


def test_distribution_functions_match_scipy_stats_without_importing_it():
    """binom_sf, median_rank_bounds, t_interval and binomial_scan agree with scipy.stats,
    and computing them (in a fresh interpreter) never imports scipy.stats."""
    import subprocess
    import sys

    import numpy as np
    from scipy import stats

    from journeymine._util import _stats as s

    rng = np.random.default_rng(0)
    k, n, p = rng.integers(-3, 600, 3000), rng.integers(0, 500, 3000), rng.random(3000)
    np.testing.assert_allclose(s.binom_sf(k, n, p), stats.binom.sf(k, n, p), atol=1e-12)
    sizes = np.concatenate([np.arange(300), rng.integers(0, 100_000, 300)])
    lo, hi = s.median_rank_bounds(sizes)
    expected = np.clip(stats.binom.ppf(0.025, sizes, 0.5).astype(np.int64) - 1, 0,
                       np.maximum(sizes - 1, 0))
    np.testing.assert_array_equal(lo, expected)
    np.testing.assert_array_equal(hi, np.clip(sizes - 1 - expected, 0, np.maximum(sizes - 1, 0)))
    counts = rng.integers(2, 400, 200)
    low, high = s.t_interval(np.zeros(200), np.ones(200), counts)
    np.testing.assert_allclose(high, stats.t.ppf(0.975, counts - 1) / np.sqrt(counts))
    np.testing.assert_allclose(low, -high)
    x = np.full((1, 60), 5)
    x[0, 20:30] = 12
    scan = s.binomial_scan(x, np.full(60, 100), np.arange(3, 31))
    assert 0 < scan["p_value"][0] < 1
    code = ("import sys, numpy as np; from journeymine._util import _stats as s; "
            "s.binom_sf(3, 10, 0.5); s.median_rank_bounds([10]); s.t_interval(1.0, 1.0, 5); "
            "s.binomial_scan(np.ones((1, 10)), np.full(10, 5), [3]); "
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_html_table_escapes_caption_headers_and_cells():
    page = html_table("<b>2 rows</b>", ["name", 'say "hi"'], [("a&b", 1), ("<script>", None)])
    assert page == (
        "<div><p>&lt;b&gt;2 rows&lt;/b&gt;</p><table><thead><tr><th>name</th>"
        "<th>say &quot;hi&quot;</th></tr></thead><tbody>"
        "<tr><td>a&amp;b</td><td>1</td></tr>"
        "<tr><td>&lt;script&gt;</td><td>None</td></tr></tbody></table></div>")
    assert html_table("empty", [], []).endswith("<tr></tr></thead><tbody></tbody></table></div>")


def test_distinct_sorted_is_numpy_unique():
    assert distinct_sorted(np.array([7, -1, 7, 0, -1, 7])).tolist() == [-1, 0, 7]
    assert distinct_sorted(np.array([], dtype=np.int64)).tolist() == []
    keys = np.random.default_rng(0).integers(-50, 50, 1_000)
    assert np.array_equal(distinct_sorted(keys), np.unique(keys))



@pytest.mark.parametrize("high", [3, 70_000])  # radix-sortable keys, and keys beyond 16 bits
def test_regroup_of_the_value_order_is_lexsort(high):
    rng = np.random.default_rng(1)
    keys, values = rng.integers(0, high, 5_000), rng.integers(0, 40, 5_000).astype(float)
    order = regroup(keys, np.argsort(values, kind="stable"))
    assert np.array_equal(order, np.lexsort((values, keys)))
    assert regroup(keys[:0], np.arange(0)).tolist() == []


def test_segment_rank_counts_by_hand_and_on_empty_segments():
    values = np.array([1.0, 2.0, 2.0, 5.0, 0.0, 9.0])
    lo, hi = np.array([0, 0, 4, 3, 2]), np.array([4, 4, 6, 3, 3])
    x = np.array([2.0, 0.5, 9.0, 7.0, 3.0])
    # [1,2,2,5] <= 2: 3; <= 0.5: 0; [0,9] <= 9: 2; empty: 0; [2] <= 3: 1
    assert segment_rank(values, lo, hi, x).tolist() == [3, 0, 2, 0, 1]


def test_segment_median_without_by_hand():
    values = np.array([1.0, 2.0, 4.0, 8.0, 9.0, 3.0, 3.0])
    lo, hi = np.array([0, 0, 5]), np.array([5, 5, 7])
    out = np.array([8.0, 9.0, 3.0, 3.0])
    # [1,2,4,8,9] without [8,9] -> 2; without nothing -> 4; [3,3] without [3,3] -> empty
    median, n = segment_median_without(values, lo, hi, out, np.array([0, 0, 2]),
                                       np.array([2, 0, 4]))
    assert n.tolist() == [3, 5, 0]
    assert median[:2].tolist() == [2.0, 4.0] and np.isnan(median[2])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 6), min_size=0, max_size=12), min_size=1, max_size=5),
       st.data())
def test_segment_median_without_is_the_median_of_what_is_left(groups, data):
    """Against filtering each segment and taking np.median (ties and empty sides included)."""
    segments = [np.sort(np.array(g, dtype=float)) for g in groups]
    removed = []
    for s in segments:
        shuffled = data.draw(st.permutations(s.tolist()))
        removed.append(np.sort(np.array(shuffled[:data.draw(st.integers(0, len(s)))], float)))
    sizes, out_sizes = [len(s) for s in segments], [len(r) for r in removed]
    lo = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
    out_lo = np.cumsum([0, *out_sizes[:-1]]).astype(np.int64)
    values = np.concatenate(segments) if sum(sizes) else np.empty(0)
    out = np.concatenate(removed) if sum(out_sizes) else np.empty(0)
    median, n = segment_median_without(values, lo, lo + sizes, out, out_lo, out_lo + out_sizes)
    for k, (s, r) in enumerate(zip(segments, removed, strict=True)):
        left = s.tolist()
        for v in r.tolist():
            left.remove(v)
        assert n[k] == len(left)
        assert (np.isnan(median[k]) if not left else median[k] == np.median(left))


def test_lean_memory_switches_arrow_pool_and_huge_pages_only_while_it_runs(monkeypatch):
    import pyarrow as pa

    from journeymine._util import _memory

    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    seen = {}

    @_memory.lean_memory
    def inside():
        seen["pool"] = pa.default_memory_pool().backend_name
        seen["huge"] = _memory._set_madvise_hugepage(False)
        raise ValueError("fails inside")

    mimalloc = pa.mimalloc_memory_pool()
    previous = pa.default_memory_pool()
    pa.set_memory_pool(mimalloc)
    huge = _memory._set_madvise_hugepage(True)
    try:
        with pytest.raises(ValueError, match="fails inside"):
            inside()
        assert seen == {"pool": _memory._lean_pool().backend_name, "huge": False}
        assert seen["pool"] != "mimalloc"
        assert pa.default_memory_pool().backend_name == "mimalloc"  # restored after an error
        assert _memory._set_madvise_hugepage(huge) is True
        pa.set_memory_pool(pa.system_memory_pool())  # a pool the user picked is kept
        with pytest.raises(ValueError):
            inside()
        assert seen["pool"] == "system"
    finally:
        pa.set_memory_pool(previous)
        _memory._set_madvise_hugepage(huge)
