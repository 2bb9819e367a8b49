"""Shared fixtures: tiny hand-checkable event logs."""

from __future__ import annotations

import pandas as pd
import pytest

import journeymine as jm


@pytest.fixture
def small_df() -> pd.DataFrame:
    """Three customers, six events; c3 has a single event."""
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c1", "c2", "c2", "c3"],
            "touchpoint": ["iklan_instagram", "product_page", "checkout",
                           "iklan_instagram", "checkout", "product_page"],
            "ts": ["2024-05-01 10:00", "2024-05-01 10:05", "2024-05-01 10:30",
                   "2024-05-02 09:00", "2024-05-02 09:40", "2024-05-03 12:00"],
        }
    )


@pytest.fixture(scope="session")
def channel_switchers() -> jm.ProcessMap:
    """Three customers who switch channels, discovered with ``conversion="checkout"``.

    A: ad (social) -> page (web) -> page (web) -> checkout (web, pays)      converts
    B: ad (social) -> page (app) -> whatsapp (chat) -> page (app)             never pays
    C: search (search) -> page (web) -> checkout (web, pays) -> support (chat)

    The gaps are worked out by hand in ``tests/discovery/test_channel_gaps.py``.
    """
    rows = [
        ("A", "ig_ad", "10:00", "social"), ("A", "product_page", "10:10", "web"),
        ("A", "product_page", "10:30", "web"), ("A", "checkout", "11:00", "web"),
        ("B", "ig_ad", "09:00", "social"), ("B", "product_page", "09:20", "app"),
        ("B", "whatsapp_chat", "10:20", "chat"), ("B", "product_page", "10:50", "app"),
        ("C", "search", "08:00", "search"), ("C", "product_page", "08:05", "web"),
        ("C", "checkout", "08:35", "web"), ("C", "support_chat", "09:35", "chat"),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "touchpoint", "ts", "channel"])
    df["ts"] = "2024-03-01 " + df["ts"]
    return jm.discover(jm.EventLog.from_pandas(df), conversion="checkout")
