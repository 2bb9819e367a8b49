"""Channel gaps on a three-customer log counted by hand, and the planted app -> web gap."""

import numpy as np
import pandas as pd

import journeymine as jm
from journeymine.discovery._channels import GAP_COLUMNS


# By hand. Switches (seconds): A social->web 600 (converts later); B social->app 1200,
# app->chat 3600, chat->app 1800 (B's last event: it ends at that switch, unconverted);
# C search->web 300 (converts later), web->chat 3600 after C's purchase, so it counts as
# a switch but not as an open journey. Steps that stay on a channel: only web
# (A 1200 and 1800, C 1800): median 1800, so web->chat waits 3600 - 1800 = 1800 s more.
# Overall conversion 2/3; lost conversions = journeys x (2/3 - conversion after):
# app->chat, chat->app, social->app 2/3 each (ties by name), web->chat 0 (no open
# journey), search->web and social->web 1 x (2/3 - 1) = -1/3.
def test_gaps_by_hand(channel_switchers):
    g = channel_switchers.channel_gaps
    assert list(g.columns) == list(GAP_COLUMNS)
    assert list(zip(g.from_channel, g.to_channel, strict=True)) == [
        ("app", "chat"), ("chat", "app"), ("social", "app"), ("web", "chat"),
        ("search", "web"), ("social", "web")]
    by = g.set_index(["from_channel", "to_channel"])
    assert by["switches"].tolist() == [1] * 6
    assert by["journeys"].tolist() == [1, 1, 1, 0, 1, 1]
    assert by["converted_after"].tolist() == [0, 0, 0, 0, 1, 1]
    assert by["ended_at_switch"].tolist() == [0, 1, 0, 0, 0, 0]
    assert by["median_seconds"].tolist() == [3600, 1800, 1200, 3600, 300, 600]
    np.testing.assert_allclose(by["lost_conversions"], [2 / 3, 2 / 3, 2 / 3, 0, -1 / 3, -1 / 3])
    web_chat = by.loc[("web", "chat")]
    assert (web_chat["within_median_seconds"], web_chat["extra_seconds"]) == (1800, 1800)
    assert np.isnan(web_chat["conversion_after"])
    assert by.loc[("chat", "app"), "ended_share"] == 1.0
    assert np.isnan(by.loc[("social", "web"), "within_median_seconds"])
    low, high = by.loc[("search", "web"), ["conversion_low", "conversion_high"]]
    assert low < 1.0 == high  # Wilson interval of 1/1


def test_gaps_agree_with_the_switches(channel_switchers):
    """The gaps are the switches summed over touchpoints, per channel pair."""
    switches = channel_switchers.channel_switches
    per_pair = switches.groupby(["from_channel", "to_channel"])["count"].sum()
    gaps = channel_switchers.channel_gaps.set_index(["from_channel", "to_channel"])["switches"]
    assert per_pair.sort_index().equals(gaps.sort_index())


def test_planted_app_to_web_gap_is_the_worst():
    """make_journeys sends app users to the website, where most leave (SWITCH_EXIT = 0.7)."""
    log, truth = jm.datasets.make_journeys(3000, random_state=0, return_truth=True)
    g = jm.discover(log).channel_gaps
    top = g.iloc[0]
    assert (top["from_channel"], top["to_channel"]) == truth.channel_switch
    assert top["ended_share"] > 0.5 > g["ended_share"].iloc[1:].max()
    assert top["conversion_high"] < jm.discover(log).summary["conversion_rate"]


def test_no_channel_column_gives_an_empty_table():
    df = pd.DataFrame({"customer_id": ["a", "a"], "touchpoint": ["ad", "buy"],
                       "ts": ["2024-01-01", "2024-01-02"]})
    g = jm.discover(jm.EventLog.from_pandas(df)).channel_gaps
    assert g.empty and list(g.columns) == list(GAP_COLUMNS)
