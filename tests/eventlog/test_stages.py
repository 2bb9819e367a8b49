"""Stages: Indonesian aliases, StageMap from YAML/dict, unmapped, keyword guesses."""

from __future__ import annotations

import pandas as pd
import pytest

from journeymine import STAGES, EventLog, StageMap
from journeymine.eventlog import normalize_stage
from journeymine.exceptions import ReadError, StageError


@pytest.mark.parametrize(
    ("alias", "stage"),
    [
        ("kesadaran", "awareness"),
        ("pertimbangan", "consideration"),
        ("keputusan", "purchase"),
        ("pembelian", "purchase"),
        ("retensi", "retention"),
        ("pasca-pembelian", "retention"),
        ("Pasca Pembelian", "retention"),
        ("advokasi", "advocacy"),
        ("loyalitas", "advocacy"),
        ("KESADARAN", "awareness"),
        (" decision ", "purchase"),
        ("post_purchase", "retention"),
    ],
)
def test_indonesian_and_english_aliases(alias, stage):
    assert normalize_stage(alias) == stage
    assert StageMap({"tp": alias})["tp"] == stage


def test_stage_order_and_rank():
    assert STAGES == ("awareness", "consideration", "purchase", "retention", "advocacy")
    stages = StageMap({"ig": "kesadaran", "pay": "pembelian", "review": "advokasi"})
    assert [stages.rank(t) for t in ("ig", "pay", "review")] == [0, 2, 4]
    assert stages.rank("pertimbangan") == 1


def test_bad_stage_name():
    with pytest.raises(StageError, match="Unknown stage 'pembayaran'") as err:
        StageMap({"checkout": "pembayaran"})
    assert "kesadaran" in str(err.value)  # says which names are accepted
    with pytest.raises(StageError, match="Unknown stage"):
        normalize_stage("stage 6")


def test_custom_order():
    stages = StageMap({"a": "Discover", "b": "Buy"}, order=["discover", "buy"])
    assert stages["b"] == "buy" and stages.rank("a") == 0
    with pytest.raises(StageError, match="Unknown stage 'awareness'"):
        StageMap({"a": "awareness"}, order=["discover", "buy"])
    with pytest.raises(StageError, match="repeats a stage"):
        StageMap({}, order=["a", "A"])


def test_unmapped_lists_sorted_distinct():
    stages = StageMap({"ig_ad": "kesadaran"})
    assert stages.unmapped(["zzz", "ig_ad", "aaa", "zzz"]) == ["aaa", "zzz"]
    assert stages.unmapped(["ig_ad"]) == []


def test_from_yaml_touchpoint_to_stage(tmp_path):
    path = tmp_path / "stages.yaml"
    path.write_text("iklan_instagram: kesadaran\ncheckout: pembelian\nulasan: advokasi\n",
                    encoding="utf-8")
    stages = StageMap.from_yaml(path)
    assert stages.mapping == {"iklan_instagram": "awareness", "checkout": "purchase",
                              "ulasan": "advocacy"}


def test_from_yaml_stage_to_touchpoints(tmp_path):
    path = tmp_path / "stages.yaml"
    path.write_text(
        "kesadaran: [iklan_instagram, tiktok_ad]\n"
        "pertimbangan:\n  - halaman_produk\n"
        "pembelian: [checkout]\n",
        encoding="utf-8",
    )
    stages = StageMap.from_yaml(str(path))
    assert stages.mapping == {"iklan_instagram": "awareness", "tiktok_ad": "awareness",
                              "halaman_produk": "consideration", "checkout": "purchase"}
    assert stages.unmapped(["checkout", "cs_chat"]) == ["cs_chat"]


def test_from_yaml_with_order(tmp_path):
    path = tmp_path / "stages.yaml"
    path.write_text("order: [lihat, beli]\nstages:\n  lihat: [ad]\n  beli: [pay]\n",
                    encoding="utf-8")
    stages = StageMap.from_yaml(path)
    assert stages.order == ("lihat", "beli") and stages["pay"] == "beli"


def test_from_yaml_errors(tmp_path):
    with pytest.raises(ReadError, match=r"missing\.yaml"):
        StageMap.from_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [b\n", encoding="utf-8")
    with pytest.raises(ReadError, match=r"bad\.yaml"):
        StageMap.from_yaml(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(StageError, match="must be a mapping, got list"):
        StageMap.from_yaml(listy)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("checkout: bayar\n", encoding="utf-8")
    with pytest.raises(StageError, match="Unknown stage 'bayar'"):
        StageMap.from_yaml(unknown)


@pytest.mark.parametrize(
    ("touchpoint", "stage"),
    [
        ("iklan_instagram", "awareness"),
        ("tiktok_video", "awareness"),
        ("google_search", "consideration"),
        ("halaman_produk", "consideration"),
        ("checkout", "purchase"),
        ("bayar_qris", "purchase"),
        ("pengiriman_kirim", "retention"),
        ("customer_service_chat", "retention"),
        ("ulasan_produk", "advocacy"),
        ("write_review", "advocacy"),
    ],
)
def test_keyword_guesses(touchpoint, stage):
    assert StageMap().with_guesses([touchpoint])[touchpoint] == stage


def test_guesses_never_override_and_leave_unknowns_unmapped():
    stages = StageMap({"checkout": "advokasi"}).with_guesses(["checkout", "qwerty"])
    assert stages["checkout"] == "advocacy"
    assert stages.unmapped(["checkout", "qwerty"]) == ["qwerty"]
    custom = StageMap({}, order=["a", "b"]).with_guesses(["checkout"])
    assert custom.unmapped(["checkout"]) == ["checkout"]  # no guesses for custom taxonomies


def test_event_log_stage_map_sources(small_df):
    log = EventLog.from_pandas(small_df)
    guessed = log.stage_map()
    assert guessed["iklan_instagram"] == "awareness" and guessed["checkout"] == "purchase"
    given = log.stage_map({"product_page": "pertimbangan"})
    assert given["product_page"] == "consideration"
    with_col = EventLog.from_pandas(small_df.assign(stage=["retensi"] * 6))
    assert with_col.stage_map()["checkout"] == "retention"  # the column wins over guesses


def test_event_log_accepts_stage_yaml(small_df, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("advokasi: [product_page]\n", encoding="utf-8")
    log = EventLog.from_pandas(small_df, stages=path)
    assert log.stages["product_page"] == "advocacy"
    assert log.stage_map()["product_page"] == "advocacy"


def test_from_frame_majority_wins():
    # "a" is awareness twice (in two languages) and purchase once
    frame = pd.DataFrame({"tp": ["a", "a", "a", "b"],
                          "st": ["pembelian", "kesadaran", "awareness", "retensi"]})
    stages = StageMap.from_frame(frame, "tp", "st")
    assert stages.mapping == {"a": "awareness", "b": "retention"}


def test_to_dict_is_json_safe():
    import json

    d = StageMap({"b": "pembelian", "a": "kesadaran"}).to_dict()
    assert json.loads(json.dumps(d)) == {"order": list(STAGES),
                                         "mapping": {"a": "awareness", "b": "purchase"}}
