"""A persona generator independent of :mod:`journeymine.datasets` (a test helper).

Each customer lives through one or more visits ("sessions"). A visit opens at
an entry touchpoint, then wanders over a touchpoint graph until it stops;
every event is made on a channel and separated from the previous one by a
wait. Personas differ in exactly the ingredients a scenario names, so a
persona model can be checked on one signal at a time:

``"channel"``
    only the channel mix of the events;
``"pace"``
    only the waits (within and between visits);
``"entry"``
    only where visits open;
``"moves"``
    only the touchpoint graph (how they move);
``"mixed"``
    all of the above with heavy overlap, unequal sizes, noise touchpoints
    and long multi-visit histories, plus order values.

Every scenario has the same noise: per-customer variation in pace and in the
number of visits, and rare "noise" touchpoints sprinkled into journeys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["SCENARIOS", "make_log"]

SCENARIOS = ("channel", "pace", "entry", "moves", "mixed")

#: Touchpoints a visit can reach, roughly in funnel order.
PAGES = ("search_ad", "social_post", "email_open", "landing_page", "product_view",
         "compare_page", "read_reviews", "add_to_cart", "checkout", "support_chat",
         "order_tracking", "repeat_order", "rate_product")
#: Rare touchpoints that mean nothing about the persona.
NOISE = ("popup_survey", "newsletter_signup", "store_locator", "app_crash")
CHANNELS = ("web", "app", "email", "social", "store")
ENTRIES = (0, 1, 2, 3, 4)  # search_ad, social_post, email_open, landing_page, product_view
STOP = len(PAGES)  # the column of the transition matrix that ends a visit


def _graph(rng: np.random.Generator, concentration: float) -> np.ndarray:
    """A random funnel-shaped transition matrix (rows: from, columns: to + stop)."""
    t = len(PAGES)
    out = np.zeros((t, t + 1))
    for i in range(t):
        # Mostly forward, a little back, and a stop chance that grows down the funnel.
        ahead = np.exp(-0.5 * np.abs(np.arange(t) - i - 1.5)) + 0.05
        ahead[i] *= 0.5
        weights = np.append(ahead, 0.3 + 0.08 * i)
        out[i] = rng.dirichlet(concentration * weights / weights.sum())
    return out


def _blend(shared: np.ndarray, own: np.ndarray, overlap: float) -> np.ndarray:
    return overlap * shared + (1 - overlap) * own


def _personas(scenario: str, k: int, rng: np.random.Generator) -> list[dict]:
    """Parameters of each persona: only the scenario's ingredients differ."""
    base = {
        "entry": np.array([0.3, 0.25, 0.15, 0.2, 0.1]),
        "graph": _graph(rng, 40.0),
        "channels": np.array([0.4, 0.25, 0.1, 0.15, 0.1]),
        "gap_seconds": 90.0, "visit_gap_days": 4.0, "visits": 2.0,
        "value": (4.0, 0.6),
    }
    differs = {"channel": {"channels"}, "pace": {"pace"}, "entry": {"entry"},
               "moves": {"graph"},
               "mixed": {"entry", "graph", "channels", "pace", "value"}}[scenario]
    overlap = 0.45 if scenario == "mixed" else 0.0
    out = []
    for j in range(k):
        p = dict(base)
        if "entry" in differs:
            own = np.full(len(ENTRIES), 0.1)
            own[j % len(ENTRIES)] = 0.6
            p["entry"] = _blend(base["entry"], own / own.sum(), overlap)
        if "graph" in differs:
            p["graph"] = _blend(base["graph"], _graph(rng, 6.0), overlap)
        if "channels" in differs:
            own = np.full(len(CHANNELS), 0.12)
            own[j % len(CHANNELS)] = 0.52
            p["channels"] = _blend(base["channels"], own / own.sum(), overlap)
        if "pace" in differs:
            factor = 3.0 ** (j - (k - 1) / 2)  # each persona 3x slower than the previous
            p["gap_seconds"] = base["gap_seconds"] * factor
            p["visit_gap_days"] = base["visit_gap_days"] * factor ** 0.5
        if "value" in differs:
            p["value"] = (3.2 + 0.5 * j, 0.6)
        if scenario == "mixed":
            p["visits"] = (1.5, 4.0, 2.5, 6.0, 3.0, 2.0)[j % 6]
        out.append(p)
    return out


def _visit(p: dict, rng: np.random.Generator, noise: float) -> list[int]:
    """Touchpoint codes of one visit (noise touchpoints coded from ``len(PAGES)``)."""
    at = int(rng.choice(ENTRIES, p=p["entry"]))
    path = [at]
    while len(path) < 25:
        nxt = int(rng.choice(STOP + 1, p=p["graph"][at]))
        if nxt == STOP:
            break
        if rng.random() < noise:
            path.append(STOP + int(rng.integers(len(NOISE))))
        path.append(nxt)
        at = nxt
    return path


def make_log(scenario: str, n: int = 3000, *, k: int = 4,
             random_state: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Events and true persona labels for one scenario.

    Parameters
    ----------
    scenario : {"channel", "pace", "entry", "moves", "mixed"}
    n : int
        Customers.
    k : int
        Personas.
    random_state : int

    Returns
    -------
    events : pandas.DataFrame
        ``customer_id``, ``touchpoint``, ``timestamp``, ``channel``, ``revenue``.
    labels : pandas.Series
        True persona (0 .. k-1) per ``customer_id``.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; one of {SCENARIOS}")
    rng = np.random.default_rng([random_state, SCENARIOS.index(scenario)])
    personas = _personas(scenario, k, rng)
    sizes = (np.array([0.45, 0.27, 0.17, 0.11, 0.08, 0.05])[:k] if scenario == "mixed"
             else np.linspace(1.3, 0.7, k))
    truth = rng.choice(k, size=n, p=sizes / sizes.sum())
    noise = 0.06 if scenario == "mixed" else 0.03
    names = np.array(PAGES + NOISE)
    start = np.datetime64("2025-01-01T00:00:00", "s")
    cols: dict[str, list] = {"customer_id": [], "touchpoint": [], "timestamp": [],
                             "channel": [], "revenue": []}
    for i, j in enumerate(truth):
        p = personas[j]
        pace = rng.lognormal(0.0, 0.35)  # this customer's own tempo
        t = float(rng.uniform(0, 60 * 86400))
        for v in range(1 + rng.poisson(p["visits"] - 1)):
            if v:
                t += rng.lognormal(np.log(p["visit_gap_days"] * 86400 * pace), 0.7)
            path = _visit(p, rng, noise)
            waits = rng.lognormal(np.log(p["gap_seconds"] * pace), 0.6, size=len(path))
            stamps = t + np.concatenate(([0.0], np.cumsum(waits[1:])))
            t = float(stamps[-1])
            for code, ts in zip(path, stamps, strict=True):
                cols["customer_id"].append(f"u{i:06d}")
                cols["touchpoint"].append(names[code])
                cols["timestamp"].append(start + np.timedelta64(int(ts), "s"))
                cols["channel"].append(CHANNELS[rng.choice(len(CHANNELS), p=p["channels"])])
                paid = names[code] in ("checkout", "repeat_order")
                cols["revenue"].append(float(np.round(rng.lognormal(*p["value"]), 2))
                                       if paid else np.nan)
    events = pd.DataFrame(cols)
    labels = pd.Series(truth, index=pd.Index([f"u{i:06d}" for i in range(n)],
                                             name="customer_id"), name="persona")
    return events, labels
