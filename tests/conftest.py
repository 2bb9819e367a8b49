"""Shared fixtures: a tiny hand-checkable event log."""

from __future__ import annotations

import pandas as pd
import pytest


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
