"""Engine settings: jm.set_config / get_config / config_context and what DuckDB receives."""

from __future__ import annotations

import pytest

import journeymine as jm
from journeymine._util._duckdb import connect
from journeymine.exceptions import InvalidParameterError


@pytest.fixture(autouse=True)
def _restore():
    before = jm.get_config()
    yield
    jm.set_config(**before)


def _duckdb_settings() -> tuple[str, str]:
    con = connect()
    try:
        return con.execute("SELECT current_setting('memory_limit'), "
                           "current_setting('temp_directory')").fetchone()
    finally:
        con.close()


def test_settings_reach_every_new_connection(tmp_path):
    jm.set_config(memory_limit="512MiB", temp_directory=tmp_path / "spill")
    assert jm.get_config() == {"memory_limit": "512MiB", "temp_directory": str(tmp_path / "spill")}
    limit, folder = _duckdb_settings()
    assert limit == "512.0 MiB" and folder == str(tmp_path / "spill")


def test_left_out_settings_keep_their_value_and_none_restores_the_default(tmp_path):
    default_limit = _duckdb_settings()[0]
    jm.set_config(memory_limit="1GB", temp_directory=tmp_path)
    jm.set_config(memory_limit=None)
    assert jm.get_config() == {"memory_limit": None, "temp_directory": str(tmp_path)}
    assert _duckdb_settings()[0] == default_limit


def test_config_context_restores_the_settings_even_after_an_error(tmp_path):
    jm.set_config(memory_limit="2GB")
    with pytest.raises(ZeroDivisionError), jm.config_context(memory_limit="1GB",
                                                              temp_directory=tmp_path):
        assert _duckdb_settings()[0] == "953.6 MiB"  # 10^9 bytes
        1 / 0  # noqa: B018
    assert jm.get_config() == {"memory_limit": "2GB", "temp_directory": None}


@pytest.mark.parametrize("bad", ["2", "2 G", "lots", "50%", 2_000_000_000, -1.0, True])
def test_a_memory_limit_needs_a_unit(bad):
    with pytest.raises(InvalidParameterError, match=r"memory_limit=.* is not an amount"):
        jm.set_config(memory_limit=bad)
    assert jm.get_config()["memory_limit"] is None


def test_the_temp_directory_must_be_a_directory_path(tmp_path):
    file = tmp_path / "a_file"
    file.write_text("x")
    with pytest.raises(InvalidParameterError, match=r"is a file, not a directory"):
        jm.set_config(temp_directory=file)
    with pytest.raises(InvalidParameterError, match=r"must be a path, got int"):
        jm.set_config(temp_directory=7)
    assert jm.get_config()["temp_directory"] is None


def test_a_settings_error_changes_nothing(tmp_path):
    with pytest.raises(InvalidParameterError):
        jm.set_config(temp_directory=tmp_path, memory_limit="x")
    assert jm.get_config() == {"memory_limit": None, "temp_directory": None}


def test_discover_under_a_small_memory_limit_gives_the_same_map(tmp_path):
    log = jm.datasets.make_journeys(3000, random_state=0)
    free = jm.discover(log)
    with jm.config_context(memory_limit="64MB", temp_directory=tmp_path / "spill"):
        limited = jm.discover(log)
    assert limited.edges.equals(free.edges)
    assert limited.variants["variant"].tolist() == free.variants["variant"].tolist()
    assert limited.summary == free.summary
