"""A third persona generator, built unlike both others (a test helper).

:func:`journeymine.datasets.make_journeys` walks one Markov chain per persona
and :mod:`tests.personas._independent` walks a touchpoint graph per visit.
Here nothing is a Markov chain: a customer's history is months of sessions
arriving as a Poisson process, and every session carries out one *mission*
(browse, promo, buy, service, review, a store visit) by following that
mission's fixed template, skipping and repeating steps at random. The
channel is chosen once per session, not per event. Touchpoint names are the
messy Indonesian/English mix of a real export ("Buka Aplikasi",
"lihat_produk", "Checkout"). Personas are written by hand as marketers
would describe them and differ in several ingredients at once (mission mix,
how often they come back, channel, pace, basket value), then blended with
the population average (``overlap``) so they overlap; sizes are unequal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PERSONAS", "make_sessions"]

#: Template of each mission: (touchpoint, probability the step happens, mean repeats).
MISSIONS: dict[str, list[tuple[str, float, float]]] = {
    "browse": [("Buka Aplikasi", 0.9, 0.0), ("cari_produk", 0.7, 0.5),
               ("lihat_produk", 1.0, 1.5), ("bandingkan", 0.4, 0.3), ("wishlist", 0.3, 0.0)],
    "promo": [("notif_promo", 0.8, 0.0), ("lihat_promo", 1.0, 0.8),
              ("lihat_produk", 0.8, 0.6), ("keranjang", 0.35, 0.0)],
    "buy": [("Buka Aplikasi", 0.7, 0.0), ("lihat_produk", 0.8, 0.4), ("keranjang", 1.0, 0.2),
            ("Checkout", 0.95, 0.0), ("bayar", 0.9, 0.1), ("pesanan_selesai", 0.9, 0.0)],
    "service": [("cek_pesanan", 0.9, 0.4), ("chat_cs", 0.8, 1.0),
                ("ajukan_retur", 0.3, 0.0), ("rating_cs", 0.4, 0.0)],
    "review": [("cek_pesanan", 0.6, 0.0), ("tulis_ulasan", 1.0, 0.0),
               ("bagikan_ke_teman", 0.3, 0.0)],
    "store": [("kunjungan_toko", 1.0, 0.0), ("tanya_pramuniaga", 0.5, 0.3),
              ("bayar_kasir", 0.7, 0.0), ("poin_loyalitas", 0.5, 0.0)],
}
MISSION_NAMES = tuple(MISSIONS)
CHANNELS = ("app", "web", "whatsapp", "toko")
PAID = {"pesanan_selesai", "bayar_kasir"}

#: Hand-written personas: mission mix (order of MISSIONS), channel mix (order of
#: CHANNELS; store missions always happen in "toko"), sessions per 90 days, median
#: seconds between events of a session, median basket value.
PERSONAS: list[dict] = [
    {"name": "window shopper", "missions": [0.6, 0.25, 0.1, 0.03, 0.02, 0.0],
     "channels": [0.7, 0.25, 0.05, 0.0], "rate": 4.0, "wait": 40.0, "value": 120_000},
    {"name": "promo hunter", "missions": [0.15, 0.55, 0.25, 0.03, 0.02, 0.0],
     "channels": [0.6, 0.1, 0.3, 0.0], "rate": 7.0, "wait": 15.0, "value": 60_000},
    {"name": "loyal repeat buyer", "missions": [0.1, 0.05, 0.55, 0.1, 0.2, 0.0],
     "channels": [0.85, 0.1, 0.05, 0.0], "rate": 10.0, "wait": 20.0, "value": 250_000},
    {"name": "store shopper", "missions": [0.1, 0.05, 0.1, 0.05, 0.0, 0.7],
     "channels": [0.3, 0.4, 0.3, 0.0], "rate": 2.5, "wait": 60.0, "value": 180_000},
    {"name": "careful researcher", "missions": [0.55, 0.05, 0.3, 0.05, 0.05, 0.0],
     "channels": [0.2, 0.75, 0.05, 0.0], "rate": 3.0, "wait": 150.0, "value": 600_000},
    {"name": "service seeker", "missions": [0.1, 0.05, 0.3, 0.5, 0.05, 0.0],
     "channels": [0.3, 0.2, 0.5, 0.0], "rate": 4.0, "wait": 45.0, "value": 150_000},
]
#: Relative sizes (the first persona is the largest).
SIZES = np.array([0.3, 0.22, 0.16, 0.13, 0.11, 0.08])


def _session(mission: str, p: dict, rng: np.random.Generator) -> list[str]:
    steps: list[str] = []
    for name, prob, repeats in MISSIONS[mission]:
        if rng.random() < prob:
            steps += [name] * (1 + rng.poisson(repeats))
    return steps or [MISSIONS[mission][0][0]]


def make_sessions(n: int = 2000, *, k: int = 6, overlap: float = 0.3, days: float = 180,
                  random_state: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Events and true persona labels.

    Parameters
    ----------
    n : int
        Customers.
    k : int, 2..6
        Personas: the first ``k`` of :data:`PERSONAS` (sizes renormalised).
    overlap : float in [0, 1)
        Each persona's mission and channel mixes, rate, pace and value move
        this share of the way towards the population average.
    days : float
        Length of the export window; sessions outside it are not logged.
    random_state : int

    Returns
    -------
    events : pandas.DataFrame
        ``customer_id``, ``touchpoint``, ``timestamp``, ``channel``, ``revenue``.
    labels : pandas.Series
        True persona (0 .. k-1) per ``customer_id``.
    """
    if not 2 <= k <= len(PERSONAS):
        raise ValueError(f"k must be in 2..{len(PERSONAS)}, got {k}")
    rng = np.random.default_rng([random_state, 7])
    sizes = SIZES[:k] / SIZES[:k].sum()
    chosen = PERSONAS[:k]
    avg = {key: np.average([np.asarray(p[key], float) for p in chosen], axis=0, weights=sizes)
           for key in ("missions", "channels")}
    for key in ("rate", "wait", "value"):  # geometric mean for scale parameters
        avg[key] = float(np.exp(np.average([np.log(p[key]) for p in chosen], weights=sizes)))
    personas = []
    for p in chosen:
        q = {key: (1 - overlap) * np.asarray(p[key], float) + overlap * avg[key]
             for key in ("missions", "channels")}
        for key in ("rate", "wait", "value"):
            q[key] = float(np.exp((1 - overlap) * np.log(p[key]) + overlap * np.log(avg[key])))
        personas.append(q)
    truth = rng.choice(k, size=n, p=sizes)
    rows: dict[str, list] = {"customer_id": [], "touchpoint": [], "seconds": [], "channel": []}
    ids = [f"C-{int(x):07d}" for x in rng.choice(10**7, size=n, replace=False)]
    for cid, j in zip(ids, truth, strict=True):
        p = personas[j]
        mission_cdf, channel_cdf = np.cumsum(p["missions"]), np.cumsum(p["channels"])
        rate = p["rate"] * rng.lognormal(0.0, 0.5) / (90 * 86400)  # this customer's habit
        t = rng.uniform(-30, days) * 86400
        while t < days * 86400:
            mission = MISSION_NAMES[min(np.searchsorted(mission_cdf, rng.random()), 5)]
            channel = "toko" if mission == "store" else \
                CHANNELS[min(np.searchsorted(channel_cdf, rng.random()), 3)]
            steps = _session(mission, p, rng)
            waits = rng.lognormal(np.log(p["wait"]), 0.8, size=len(steps))
            stamps = t + np.concatenate(([0.0], np.cumsum(waits[1:])))
            keep = (stamps >= 0) & (stamps < days * 86400)  # the window cuts both ends
            rows["customer_id"] += [cid] * int(keep.sum())
            rows["touchpoint"] += [tp for tp, ok in zip(steps, keep, strict=True) if ok]
            rows["seconds"] += stamps[keep].tolist()
            rows["channel"] += [channel] * int(keep.sum())
            t = float(stamps[-1]) + rng.exponential(1 / rate)
    events = pd.DataFrame(rows)
    value = np.array([personas[j]["value"] for j in truth])[
        pd.Index(ids).get_indexer(events["customer_id"])]
    paid = events["touchpoint"].isin(PAID).to_numpy()
    events["revenue"] = np.where(paid, np.round(rng.lognormal(np.log(value), 0.5), -2), np.nan)
    events.insert(2, "timestamp", pd.Timestamp("2025-03-01")
                  + pd.to_timedelta(events.pop("seconds").astype("int64"), unit="s"))
    labels = pd.Series(truth, index=pd.Index(ids, name="customer_id"), name="persona")
    return events, labels[labels.index.isin(events["customer_id"])]
