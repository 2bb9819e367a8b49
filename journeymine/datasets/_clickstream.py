"""A realistic e-commerce clickstream with planted ground truth.

:func:`make_clickstream` simulates what a web/app analytics export of a shop
looks like after six months: many visits per customer, a heavy tail of
customers with dozens of visits, long-tailed page and event names, page
reloads, a checkout loop, an incident window, events with a negative and a
positive lift on conversion, a slow step inside the session, repurchases,
churn and journeys cut by the export window. Every effect is recorded in a
:class:`ClickstreamTruth`, so session/episode grains, time-aware bottlenecks,
incident detection and insight rankings can be tested against it.

Everything is vectorised: all sessions advance together, one step at a time,
in numpy arrays (about 60 steps), then sessions are laid out in time per
customer with cumulative sums.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Literal, overload

import numpy as np
import pandas as pd

from journeymine._util._params import check_number
from journeymine.exceptions import InvalidParameterError

__all__ = ["ClickstreamTruth", "make_clickstream"]

_MIN, _HOUR, _DAY = 60.0, 3600.0, 86400.0

# --------------------------------------------------------------------------- catalogue
#: Core (in-session) events; the order is the state index of the chain.
CORE_EVENTS: tuple[str, ...] = (
    "home",                   # 0
    "search",                 # 1
    "category",               # 2
    "product_view",           # 3
    "add_to_cart",            # 4
    "cart",                   # 5
    "shipping_details",       # 6
    "payment",                # 7
    "order_complete",         # 8  (the purchase; revenue > 0)
    "login",                  # 9
    "error_page",             # 10
    "payment_error",          # 11
    "customer_service_chat",  # 12
    "review",                 # 13
    "newsletter_open",        # 14
    "promo_click",            # 15
    "shipping_cost_popup",    # 16
    "free_shipping_banner",   # 17
    "Store Visit",            # 18  (the loyalty system exports Title Case)
    "Loyalty Points Earned",  # 19
)
_S = {e: i for i, e in enumerate(CORE_EVENTS)}
_NS = len(CORE_EVENTS)
_END = _NS
HOME, SEARCH, CATEGORY, PRODUCT, ADD, CART, SHIP, PAY, ORDER = range(9)
LOGIN, ERROR, PAY_ERR, CHAT, REVIEW, NEWS, PROMO, POPUP, BANNER, STORE, POINTS = range(9, 20)

#: Conversion event (the only one with revenue).
CONVERSION_EVENT = "order_complete"
LOOP_EDGES: tuple[tuple[str, str], ...] = (
    ("cart", "shipping_details"), ("shipping_details", "cart"),
    ("shipping_details", "add_to_cart"), ("add_to_cart", "cart"),
    ("cart", "add_to_cart"),
)
BOTTLENECK: tuple[str, str] = ("shipping_details", "payment")
INCIDENT_EVENT = "payment_error"
NEGATIVE_EVENT, POSITIVE_EVENT = "shipping_cost_popup", "free_shipping_banner"
#: Sessionisation gap: within-session gaps are <= 25 min, gaps between visits >= 1 h.
SESSION_GAP = pd.Timedelta(minutes=30)
_MAX_WITHIN, _MIN_BETWEEN = 25 * _MIN, 1 * _HOUR
_BOTTLENECK_WAIT, _OTHER_WAIT_MAX = pd.Timedelta(minutes=4), pd.Timedelta(seconds=45)

#: Unnormalised in-session transitions {from: {to: weight}}; "END" leaves the site.
_EDGES: dict[str, dict[str, float]] = {
    "home": {"search": 22, "category": 20, "product_view": 25, "login": 4, "promo_click": 4,
             "error_page": 0.5, "END": 24.5},
    "search": {"product_view": 50, "search": 12, "category": 8, "error_page": 0.5, "END": 29.5},
    "category": {"product_view": 55, "category": 10, "search": 7, "END": 28},
    "product_view": {"product_view": 46, "add_to_cart": 18, "search": 6, "category": 6,
                     "home": 3, "review": 1, "customer_service_chat": 0.6, "error_page": 0.4,
                     "END": 23},
    "add_to_cart": {"cart": 66, "product_view": 20, "END": 14},
    "cart": {"shipping_details": 60, "product_view": 10, "login": 4, "END": 26},
    "login": {"shipping_details": 35, "product_view": 25, "home": 20, "END": 20},
    "shipping_details": {"payment": 68, "cart": 6, "END": 26},
    "payment": {"order_complete": 86, "payment_error": 3, "customer_service_chat": 2, "END": 9},
    "order_complete": {"END": 85, "review": 3, "product_view": 7, "home": 5},
    "error_page": {"home": 45, "error_page": 10, "END": 45},
    "payment_error": {"payment": 35, "customer_service_chat": 15, "END": 50},
    "customer_service_chat": {"customer_service_chat": 30, "product_view": 20, "payment": 10,
                              "END": 40},
    "review": {"END": 60, "product_view": 30, "home": 10},
    "newsletter_open": {"promo_click": 45, "home": 10, "product_view": 10, "END": 35},
    "promo_click": {"product_view": 55, "category": 20, "END": 25},
    "shipping_cost_popup": {"product_view": 40, "home": 10, "search": 12, "category": 12,
                            "END": 26},
    "free_shipping_banner": {"product_view": 40, "home": 10, "search": 12, "category": 12,
                             "END": 26},
    "Store Visit": {"order_complete": 55, "END": 45},
    "Loyalty Points Earned": {"END": 100},
}
#: The funnel's forward edges; a session's conversion propensity scales them.
_FORWARD = {PRODUCT: ADD, ADD: CART, CART: SHIP, SHIP: PAY, PAY: ORDER}
#: Where visits start, per channel.
CHANNELS: tuple[str, ...] = ("web", "app", "email", "whatsapp", "store")
_WEB, _APP, _EMAIL, _WA, _STORE = range(5)
_START = {
    _WEB: {"home": 35, "search": 15, "category": 10, "product_view": 30, "promo_click": 5,
           "review": 2, "cart": 3},
    _APP: {"home": 45, "search": 15, "category": 8, "product_view": 22, "login": 6, "cart": 4},
    _EMAIL: {"newsletter_open": 100},
    _WA: {"customer_service_chat": 100},
    _STORE: {"Store Visit": 100},
}
#: Median seconds before the next event, by the event the customer is on.
_DWELL = {"home": 12, "search": 18, "category": 15, "product_view": 35, "add_to_cart": 6,
          "cart": 20, "shipping_details": 25, "payment": 10, "order_complete": 15, "login": 14,
          "error_page": 5, "payment_error": 8, "customer_service_chat": 45, "review": 30,
          "newsletter_open": 20, "promo_click": 8, "shipping_cost_popup": 6,
          "free_shipping_banner": 10, "Store Visit": 40, "Loyalty Points Earned": 10}
_PAGES = {"home": "/", "search": "/search", "category": "/c/", "product_view": "/p/",
          "add_to_cart": "/p/", "cart": "/cart", "shipping_details": "/checkout/shipping",
          "payment": "/checkout/payment", "order_complete": "/checkout/complete",
          "login": "/account/login", "error_page": "/error", "payment_error":
          "/checkout/payment", "customer_service_chat": "/help/chat", "review": "/account/reviews",
          "newsletter_open": "email://newsletter", "promo_click": "/promo",
          "shipping_cost_popup": "/", "free_shipping_banner": "/",
          "Store Visit": "store://pos", "Loyalty Points Earned": "store://loyalty"}
_CATEGORIES = ("serum", "moisturizer", "sunscreen", "cleanser", "toner", "mask", "lip", "eye",
               "body", "hair", "fragrance", "sets", "men", "travel", "tools", "sale")

_OBJECTS = ("size guide", "wishlist", "store locator", "gift card", "faq", "returns policy",
            "product video", "coupon", "compare", "newsletter signup", "referral", "chatbot",
            "delivery slot", "address book", "order history", "track order", "voucher",
            "bundle", "recently viewed", "product qa", "review photo", "share", "notify me",
            "back in stock", "currency switch", "language switch", "cookie banner",
            "app banner", "push optin", "ingredient list", "skin quiz", "sample request",
            "gift wrap", "payment method", "installments", "live stream", "flash sale",
            "countdown", "birthday reward", "account settings")
_ACTIONS = ("open", "click", "view", "close", "submit", "scroll")


def _style(words: str, k: int) -> str:
    parts = words.split()
    if k < 4:
        return "_".join(parts)
    if k == 4:
        return " ".join(p.capitalize() for p in parts)
    if k == 5:
        return parts[0] + "".join(p.capitalize() for p in parts[1:])
    return f"{' '.join(parts[:-1]).capitalize()} - {parts[-1]}"


def _rare_catalogue() -> tuple[str, ...]:
    """~240 rare event names in mixed styles (fixed: the same for every seed)."""
    rng = np.random.default_rng(20240101)
    names = [f"{o} {a}" for o in _OBJECTS for a in _ACTIONS]
    styles = rng.integers(0, 7, len(names))
    out = [_style(n, int(k)) for n, k in zip(names, styles, strict=True)]
    return tuple(out[i] for i in rng.permutation(len(out)))


RARE_EVENTS: tuple[str, ...] = _rare_catalogue()


def _matrices() -> tuple[np.ndarray, dict[int, np.ndarray]]:
    trans = np.zeros((_NS, _NS + 1))
    for src, row in _EDGES.items():
        for dst, w in row.items():
            trans[_S[src], _END if dst == "END" else _S[dst]] = w
    trans /= trans.sum(axis=1, keepdims=True)
    starts = {}
    for ch, row in _START.items():
        p = np.zeros(_NS)
        for e, w in row.items():
            p[_S[e]] = w
        starts[ch] = np.cumsum(p / p.sum())
    return np.cumsum(trans, axis=1), starts


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise inverse-CDF sampling from cumulative probabilities ``cum`` (n, k)."""
    return np.minimum((u[:, None] > cum).sum(axis=1), cum.shape[1] - 1)


# --------------------------------------------------------------------------- truth
@dataclasses.dataclass(frozen=True)
class ClickstreamTruth:
    """What :func:`make_clickstream` planted in the clickstream.

    Planted parameters are what the generator was told; ``*_realised``
    fields and the two tables are measured on the returned events.

    Attributes
    ----------
    session_gap : pandas.Timedelta
        Sessionisation threshold that recovers ``session_id`` exactly: every
        within-session gap is at most 25 minutes, every gap between visits at
        least one hour (the valley of the log-gap histogram).
    sessions : pandas.DataFrame
        One row per session in the window: ``session_id``, ``customer_id``,
        ``start``, ``end``, ``n_events``, ``channel``, ``converted``,
        ``checkout`` (reached ``payment``), ``looped`` (planted loop happened),
        ``exposure`` (``"shipping_cost_popup"``, ``"free_shipping_banner"`` or
        ``None``), ``incident`` (visit planned inside the incident window),
        ``cut`` (``"start"``/``"end"`` when the window cuts it, else ``None``).
    customers : pandas.DataFrame
        One row per customer (index ``customer_id``): ``n_sessions``,
        ``n_purchases``, ``started_before`` (visits before ``start``),
        ``continues_after`` (visits after the end), ``cut_at_start`` /
        ``cut_at_end`` (a visit is cut mid-session), ``repurchaser``
        (``n_purchases >= 2``), ``churned`` (no visit in the last
        ``churn_days`` of the window and none after it), ``intent``.
    conversion_event : str
        ``"order_complete"``.
    loop_edges : tuple of (str, str)
        The checkout loop cart ⇄ shipping_details ⇄ add_to_cart.
    loop_share : float
        Planted share of sessions that loop when they reach the cart.
    loop_conversion : float
        Multiplier of a looping session's conversion propensity.
    incident_event : str
        ``"payment_error"``.
    incident_start, incident_end : pandas.Timestamp
        The incident window (visits starting in ``[start, end)``).
    incident_error_rate : float
        Planted chance of a payment error at each payment step in the window
        (3 % outside).
    incident_conversion_drop : float
        Realised: ``1 - conv_in / conv_out`` of checkout sessions (those
        reaching ``payment``) inside vs outside the window.
    negative_lift_event, positive_lift_event : str
        ``"shipping_cost_popup"`` and ``"free_shipping_banner"`` (shown right
        after the landing page to a random share of online visits).
    negative_lift, positive_lift : float
        Planted multipliers of the exposed sessions' conversion propensity.
    lift_realised : dict
        Realised conversion rate of sessions with the popup, the banner and
        neither (among online sessions with at least two events).
    bottleneck : tuple of (str, str)
        ``("shipping_details", "payment")``.
    bottleneck_median_wait : pandas.Timedelta
        Planted median wait on the bottleneck edge; every other in-session
        edge has a median of at most ``other_median_wait_max``.
    other_median_wait_max : pandas.Timedelta
        Largest planted median dwell of any other event (45 s).
    core_events, rare_events : tuple of str
        The core event names and the long tail (Zipf frequencies).
    n_duplicates, n_missing_channel : int
        Noise rows: exact duplicate rows added, channels blanked.
    window : tuple of pandas.Timestamp
        ``(start, end)`` of the export.
    """

    session_gap: pd.Timedelta
    sessions: pd.DataFrame = dataclasses.field(repr=False)
    customers: pd.DataFrame = dataclasses.field(repr=False)
    window: tuple[pd.Timestamp, pd.Timestamp]
    conversion_event: str = CONVERSION_EVENT
    loop_edges: tuple[tuple[str, str], ...] = LOOP_EDGES
    loop_share: float = 0.15
    loop_conversion: float = 0.4
    incident_event: str = INCIDENT_EVENT
    incident_start: pd.Timestamp | None = None
    incident_end: pd.Timestamp | None = None
    incident_error_rate: float = 0.0
    incident_conversion_drop: float = float("nan")
    negative_lift_event: str = NEGATIVE_EVENT
    negative_lift: float = 0.4
    positive_lift_event: str = POSITIVE_EVENT
    positive_lift: float = 3.0
    lift_realised: dict = dataclasses.field(default_factory=dict)
    bottleneck: tuple[str, str] = BOTTLENECK
    bottleneck_median_wait: pd.Timedelta = _BOTTLENECK_WAIT
    other_median_wait_max: pd.Timedelta = _OTHER_WAIT_MAX
    core_events: tuple[str, ...] = dataclasses.field(default=CORE_EVENTS, repr=False)
    rare_events: tuple[str, ...] = dataclasses.field(default=RARE_EVENTS, repr=False)
    n_duplicates: int = 0
    n_missing_channel: int = 0

    @property
    def session_ids(self) -> pd.Series:
        """``session_id`` → ``customer_id`` of every session."""
        return self.sessions.set_index("session_id")["customer_id"]

    def describe(self) -> str:
        """A plain-language summary of the planted truth.

        Examples
        --------
        >>> from journeymine.datasets import make_clickstream
        >>> _, truth = make_clickstream(300, return_truth=True)
        >>> print(truth.describe().splitlines()[0])
        Planted ground truth for 300 customers, ... sessions:
        """
        s, c = self.sessions, self.customers
        lines = [
            f"Planted ground truth for {len(c):,} customers, {len(s):,} sessions:",
            f"Session gap: {self.session_gap} (within <= 25 min, between >= 1 h)",
            f"Checkout loop: {' | '.join(f'{a}->{b}' for a, b in self.loop_edges)} "
            f"({self.loop_share:.0%} of cart sessions, conversion x{self.loop_conversion})",
            f"Bottleneck: {self.bottleneck[0]} -> {self.bottleneck[1]} "
            f"(median {self.bottleneck_median_wait}, every other step <= "
            f"{self.other_median_wait_max})",
            f"Negative lift: {self.negative_lift_event} (x{self.negative_lift}); "
            f"positive lift: {self.positive_lift_event} (x{self.positive_lift})",
        ]
        if self.incident_start is not None:
            lines.append(
                f"Incident: {self.incident_event} from {self.incident_start:%Y-%m-%d} to "
                f"{self.incident_end:%Y-%m-%d} (error rate {self.incident_error_rate:.0%}, "
                f"checkout conversion -{self.incident_conversion_drop:.0%})")
        lines.append(
            f"Customers: {c['repurchaser'].mean():.0%} repurchase, {c['churned'].mean():.0%} "
            f"churn, {c['started_before'].mean():.0%} started before the window, "
            f"{c['cut_at_end'].sum()} cut mid-session at the end")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-safe summary (counts instead of the session and customer tables)."""
        def ts(x):
            return None if x is None else x.isoformat()

        return {
            "n_customers": len(self.customers), "n_sessions": len(self.sessions),
            "window": [ts(self.window[0]), ts(self.window[1])],
            "session_gap_seconds": self.session_gap.total_seconds(),
            "conversion_event": self.conversion_event,
            "loop_edges": [list(e) for e in self.loop_edges],
            "loop_share": self.loop_share, "loop_conversion": self.loop_conversion,
            "incident": {"event": self.incident_event, "start": ts(self.incident_start),
                         "end": ts(self.incident_end), "error_rate": self.incident_error_rate,
                         "conversion_drop": round(float(self.incident_conversion_drop), 4)},
            "negative_lift": {"event": self.negative_lift_event, "effect": self.negative_lift},
            "positive_lift": {"event": self.positive_lift_event, "effect": self.positive_lift},
            "lift_realised": {k: round(float(v), 4) for k, v in self.lift_realised.items()},
            "bottleneck": list(self.bottleneck),
            "bottleneck_median_wait_seconds": self.bottleneck_median_wait.total_seconds(),
            "other_median_wait_max_seconds": self.other_median_wait_max.total_seconds(),
            "n_repurchasers": int(self.customers["repurchaser"].sum()),
            "n_churned": int(self.customers["churned"].sum()),
            "n_started_before": int(self.customers["started_before"].sum()),
            "n_cut_at_end": int(self.customers["cut_at_end"].sum()),
            "n_rare_events": len(self.rare_events),
            "n_duplicates": self.n_duplicates, "n_missing_channel": self.n_missing_channel,
        }

    def __repr__(self) -> str:
        return (f"ClickstreamTruth({len(self.customers):,} customers, {len(self.sessions):,} "
                f"sessions, bottleneck={self.bottleneck[0]}->{self.bottleneck[1]}, "
                f"incident={self.incident_event}, negative={self.negative_lift_event}, "
                f"positive={self.positive_lift_event})")

    def _repr_html_(self) -> str:
        body = html.escape(self.describe()).replace("\n", "<br>")
        return f"<div class='jm-truth'>{body}</div>"


# --------------------------------------------------------------------------- validation
def _timestamp(name, value) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{name} {value!r} is not a date.", expected="a date such as '2024-01-01'.",
            fix=f"Pass {name}='2024-01-01'.") from exc
    if pd.isna(ts):
        raise InvalidParameterError(f"{name} is NaT.", expected="a real date.",
                                    fix=f"Pass {name}='2024-01-01'.")
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


# --------------------------------------------------------------------------- simulation
#: Events per customer at the defaults (measured; used by ``n_events``).
EVENTS_PER_CUSTOMER = 13.0


def _lay_out(rng, n, p):
    """Sessions per customer and their planned start (seconds from ``start``)."""
    ks = np.minimum(rng.zipf(p["session_tail"], n), p["max_sessions"])
    cust = np.repeat(np.arange(n), ks)
    first = np.r_[0, np.cumsum(ks)[:-1]]
    k_in = np.arange(cust.size) - first[cust]  # visit number within the customer
    # Heavy users come back more often: the customer's typical gap shrinks with visits.
    typical = np.clip(p["gap_days"] * _DAY * ks ** -0.45 * np.exp(0.5 * rng.standard_normal(n)),
                      0.5 * _DAY, 60 * _DAY)
    gap = typical[cust] * np.exp(0.9 * rng.standard_normal(cust.size))
    same_day = rng.random(cust.size) < 0.08
    gap = np.where(same_day, 3 * _HOUR * np.exp(0.7 * rng.standard_normal(cust.size)), gap)
    gap = np.maximum(gap, _MIN_BETWEEN * 1.05)
    gap[first] = 0.0  # gap before the first visit
    anchor = first + (rng.random(n) * ks).astype(np.int64)
    anchor_t = rng.random(n) * p["days"] * _DAY
    # Planted window cuts: the anchor visit straddles the start or the end of the window.
    u = rng.random(n)
    cut_start = u < p["cut_start"]
    cut_end = (u >= p["cut_start"]) & (u < p["cut_start"] + p["cut_end"])
    anchor_t[cut_start], anchor_t[cut_end] = 0.0, p["days"] * _DAY
    return dict(ks=ks, cust=cust, first=first, k_in=k_in, gap=gap, anchor=anchor,
                anchor_t=anchor_t, cut_start=cut_start, cut_end=cut_end)


def _planned_times(lay):
    cum = np.cumsum(lay["gap"])
    rel = cum - cum[lay["anchor"]][lay["cust"]]
    return lay["anchor_t"][lay["cust"]] + rel


def _simulate_sessions(rng, lay, planned, p):
    """Run the in-session chain for every session; returns flat event arrays."""
    n_sess = lay["cust"].size
    cum, starts = _matrices()
    n = lay["ks"].size
    # Channel of the visit: the customer's home channel most of the time.
    home_ch = _pick(np.cumsum([0.6, 0.34, 0.0, 0.0, 0.06])[None, :].repeat(n, 0),
                    rng.random(n))
    other = _pick(np.cumsum([0.45, 0.27, 0.17, 0.08, 0.03])[None, :].repeat(n_sess, 0),
                  rng.random(n_sess))
    ch = np.where(rng.random(n_sess) < 0.7, home_ch[lay["cust"]], other)
    online = ch != _STORE
    state = np.zeros(n_sess, dtype=np.int64)
    u0 = rng.random(n_sess)
    for c, sc in starts.items():
        m = ch == c
        state[m] = np.minimum(np.searchsorted(sc, u0[m], side="right"), _NS - 1)
    # Conversion propensity: customer intent x exposure x loop.
    intent = np.exp(0.6 * rng.standard_normal(n))
    ue = rng.random(n_sess)
    exposure = np.where(online & (ue < p["popup_share"]), POPUP,
                        np.where(online & (ue >= 1 - p["banner_share"]), BANNER, -1))
    looper = online & (rng.random(n_sess) < p["loop_share"])
    loops_left = np.where(looper, 3 + rng.poisson(3.0, n_sess), 0)
    m = intent[lay["cust"]] * np.where(exposure == POPUP, p["popup_effect"],
                                       np.where(exposure == BANNER, p["banner_effect"], 1.0))
    loop_f = np.where(looper, p["loop_conversion"], 1.0)
    # The propensity acts mostly where the funnel leaks most (product page -> cart).
    f_w = np.zeros(_NS)
    f_w[[PRODUCT, ADD, CART, SHIP]] = 0.4, 0.2, 0.2, 0.2
    l_w = np.zeros(_NS)  # a looping visit pays at the end of the checkout
    l_w[[SHIP, PAY]] = 0.5, 0.5
    incident = online & (planned >= p["inc_lo"]) & (planned < p["inc_hi"])
    err = np.where(incident, p["incident_error_rate"], 0.0)

    fwd_to = np.full(_NS, -1)
    for a, b in _FORWARD.items():
        fwd_to[a] = b
    dwell = np.array([_DWELL[e] for e in CORE_EVENTS], dtype=float)
    loop_cum = np.zeros((_NS, 3))  # targets: add_to_cart, cart, shipping_details
    loop_cum[ADD] = [0.0, 1.0, 1.0]
    loop_cum[CART] = [0.3, 0.3, 1.0]
    loop_cum[SHIP] = [0.35, 1.0, 1.0]
    loop_targets = np.array([ADD, CART, SHIP])
    in_loop_state = np.zeros(_NS + 1, dtype=bool)
    in_loop_state[[ADD, CART, SHIP]] = True

    alive = np.arange(n_sess)
    out_s, out_e, out_gap = [], [], []
    looped = np.zeros(n_sess, dtype=bool)
    for step in range(p["max_steps"]):
        a = alive
        nxt = _pick(cum[state], rng.random(a.size))
        # Funnel propensity on the forward edges (f < 1: some forward moves end the visit;
        # f > 1: some exits become forward moves).
        fw = fwd_to[state]
        has_fw = fw >= 0
        fa = m[a] ** f_w[state] * loop_f[a] ** l_w[state]
        u = rng.random(a.size)
        down = has_fw & (nxt == fw) & (fa < 1) & (u > fa)
        nxt[down] = _END
        p_fw = cum[state, np.maximum(fw, 0)] - np.where(fw > 0, cum[state, np.maximum(fw, 1) - 1],
                                                        0.0)
        p_end = 1.0 - cum[state, _END - 1]
        up_p = np.where(p_end > 0, np.minimum(1.0, p_fw * (fa - 1) / np.maximum(p_end, 1e-12)), 0)
        up = has_fw & (nxt == _END) & (fa > 1) & (u < up_p)
        nxt[up] = fw[up]
        # The incident: payment fails much more often.
        bad = (state == PAY) & (rng.random(a.size) < err[a])
        nxt[bad] = PAY_ERR
        # The checkout loop: cart <-> shipping_details <-> add_to_cart, several times.
        lp = (loops_left[a] > 0) & in_loop_state[state]
        if lp.any():
            idx = np.flatnonzero(lp)
            nxt[idx] = loop_targets[_pick(loop_cum[state[idx]], rng.random(idx.size))]
            loops_left[a[idx]] -= 1
            looped[a[idx]] = True
        # Store visits: a purchase earns points, then the visit ends.
        st = ch[a] == _STORE
        nxt[st & (state == ORDER)] = np.where(rng.random(int((st & (state == ORDER)).sum()))
                                              < 0.6, POINTS, _END)
        # Site-wide modal/banner right after the landing page.
        if step == 0:
            ex = exposure[a] >= 0
            nxt[ex] = exposure[a][ex]
        # Wait before the next event: seconds, except the planted slow step.
        med = dwell[state]
        med = np.where((state == SHIP) & (nxt == PAY), p["bottleneck_wait"], med)
        sig = np.where((state == SHIP) & (nxt == PAY), 0.55, 0.9)
        g = med * np.exp(sig * rng.standard_normal(a.size))
        g = np.clip(np.rint(g), 1, _MAX_WITHIN)
        out_s.append(a)
        out_e.append(state)
        out_gap.append(np.where(nxt == _END, 0.0, g))
        keep = nxt != _END
        if step == p["max_steps"] - 1 or not keep.any():
            break
        alive, state = a[keep], nxt[keep]
    sess = np.concatenate(out_s)
    order = np.argsort(sess, kind="stable")
    return dict(sess=sess[order], event=np.concatenate(out_e)[order],
                gap=np.concatenate(out_gap)[order], channel=ch, exposure=exposure,
                looped=looped, incident=incident, intent=intent)


def _validate(n_customers, n_events, p):
    if n_events is not None:
        check_number("n_events", n_events, low=1, high=10**9, integer=True)
        n_customers = max(1, round(n_events / EVENTS_PER_CUSTOMER))
    check_number("n_customers", n_customers, low=1, high=10**8, integer=True)
    check_number("days", p["days"], low=1, high=3650)
    check_number("session_tail", p["session_tail"], low=1.05, high=10.0)
    check_number("max_sessions", p["max_sessions"], low=1, high=10_000, integer=True)
    check_number("gap_days", p["gap_days"], low=0.1, high=365.0)
    for name in ("loop_share", "popup_share", "banner_share", "incident_error_rate",
                 "cut_start", "cut_end", "rare_rate", "reload_rate", "id_in_event",
                 "duplicate_rate", "missing_channel_rate"):
        check_number(name, p[name], low=0.0, high=1.0)
    if p["popup_share"] + p["banner_share"] > 1 or p["cut_start"] + p["cut_end"] > 1:
        raise InvalidParameterError(
            "popup_share + banner_share and cut_start + cut_end must each be at most 1.",
            expected="shares of the same sessions/customers that add up to <= 1.",
            fix="Lower one of the two shares.")
    for name in ("loop_conversion", "popup_effect", "banner_effect"):
        check_number(name, p[name], low=0.0, high=20.0)
    check_number("bottleneck_wait", p["bottleneck_wait"], low=1.0, high=_MAX_WITHIN)
    check_number("incident_days", p["incident_days"], low=0.0, high=p["days"])
    return int(n_customers)


def _customer_ids(rng, n):
    width = max(6, len(str(3 * n)))
    nums = rng.choice(max(10 ** width, 3 * n), size=n, replace=False)
    ids = np.array([f"u_{x:0{width}d}" for x in nums.tolist()], dtype=object)
    loyalty = rng.random(n) < 0.06  # customers first seen by the loyalty system
    ids[loyalty] = np.array([f"LOY-{x:08d}" for x in nums[loyalty].tolist()], dtype=object)
    return ids


@overload
def make_clickstream(
    n_customers: int = ..., *, start: str | pd.Timestamp = ..., days: float = ...,
    random_state: int | np.random.Generator | None = ..., return_truth: Literal[False] = ...,
    **kwargs,
) -> pd.DataFrame: ...


@overload
def make_clickstream(
    n_customers: int = ..., *, start: str | pd.Timestamp = ..., days: float = ...,
    random_state: int | np.random.Generator | None = ..., return_truth: Literal[True],
    **kwargs,
) -> tuple[pd.DataFrame, ClickstreamTruth]: ...


def make_clickstream(
    n_customers: int = 2000,
    *,
    start: str | pd.Timestamp = "2024-01-01",
    days: float = 180,
    random_state: int | np.random.Generator | None = 0,
    return_truth: bool = False,
    n_events: int | None = None,
    session_tail: float = 2.0,
    max_sessions: int = 100,
    gap_days: float = 20.0,
    loop_share: float = 0.15,
    loop_conversion: float = 0.4,
    incident_start: str | pd.Timestamp | None = None,
    incident_days: float = 21,
    incident_error_rate: float = 0.7,
    popup_share: float = 0.15,
    popup_effect: float = 0.4,
    banner_share: float = 0.15,
    banner_effect: float = 3.0,
    bottleneck_wait: float = 240.0,
    cut_start: float = 0.03,
    cut_end: float = 0.01,
    rare_rate: float = 0.04,
    reload_rate: float = 0.03,
    id_in_event: float = 0.2,
    duplicate_rate: float = 0.001,
    missing_channel_rate: float = 0.002,
    page: bool = True,
    max_steps: int = 80,
) -> pd.DataFrame | tuple[pd.DataFrame, ClickstreamTruth]:
    """Generate a realistic e-commerce clickstream export with planted ground truth.

    Customers visit a skincare shop on the web, in the app, from newsletters,
    from WhatsApp and in stores, many times over months. Within a visit an
    absorbing Markov chain walks over 20 core events (home, search, category,
    product views, cart, checkout, ...); a long tail of ~240 rare events
    (Zipf) and page reloads are sprinkled in. The rows come back in time
    order, as an export would, not grouped by customer.

    Planted (see :class:`ClickstreamTruth`; defaults in brackets):

    * **visits**: sessions per customer are Zipf(``session_tail``) [2.0]
      (≈ 60 % one visit, a few percent 30+), gaps between visits lognormal
      around days to weeks (at least one hour), gaps within a visit seconds
      to minutes (at most 25 minutes), so ``log(gap)`` is bimodal with an
      empty valley from 25 to 60 minutes; ``session_gap`` is 30 minutes;
    * **checkout loop**: ``loop_share`` [15 %] of visits that reach the cart
      bounce cart ⇄ shipping_details ⇄ add_to_cart 3+Poisson(3) moves, with
      their conversion propensity × ``loop_conversion`` [0.4];
    * **incident**: for ``incident_days`` [21] from ``incident_start``
      [``start`` + 75 days], each payment step fails (``payment_error``) with
      probability ``incident_error_rate`` [0.7] instead of 3 %; checkout
      conversion drops by 50–70 % and online purchases per day roughly halve;
    * **lift**: ``popup_share`` [15 %] of online visits see
      ``shipping_cost_popup`` after the landing page (conversion propensity ×
      ``popup_effect`` [0.4]), ``banner_share`` [15 %] see
      ``free_shipping_banner`` (× ``banner_effect`` [3.0]); exposure is
      random, so the effect does not depend on journey length;
    * **bottleneck**: ``shipping_details → payment`` waits a median of
      ``bottleneck_wait`` [240] seconds; every other in-visit wait has a
      median of 5–45 seconds (the days between visits are not in a session);
    * **repurchase and churn**: customer intent is lognormal, so some buy
      again and again; customers stop visiting after their last session;
    * **window cuts**: timelines are placed so that visits before ``start``
      and after the end are dropped; ``cut_start`` [3 %] / ``cut_end`` [1 %]
      of customers have a visit cut mid-session at the start / the end;
    * **noise**: ``id_in_event`` [20 %] of product views are logged as
      ``product_view_<id>``, ``reload_rate`` [3 %] reloads, ``rare_rate``
      [4 %] rare events, ``duplicate_rate`` [0.1 %] exact duplicate rows,
      ``missing_channel_rate`` [0.2 %] missing channels.

    Parameters
    ----------
    n_customers : int, default 2000
        Customers (about 13 events each at the defaults).
    start : str or pandas.Timestamp, default "2024-01-01"
        First instant of the export window (naive local time).
    days : float, default 180
        Length of the window.
    random_state : int, numpy Generator or None, default 0
        Seed; the same seed gives the same rows.
    return_truth : bool, default False
        Also return the :class:`ClickstreamTruth`.
    n_events : int, optional
        Approximate number of events wanted; overrides ``n_customers``
        (``n_events / 13`` customers). Use it to scale, e.g. ``1_000_000``.
    session_tail, max_sessions, gap_days : float, int, float
        Zipf exponent of visits per customer (smaller = heavier tail), the
        cap on visits, and the typical gap in days of a one-visit customer
        (it shrinks as ``visits ** -0.45``).
    loop_share, loop_conversion : float
        The checkout loop (see above).
    incident_start, incident_days, incident_error_rate : date, float, float
        The incident window; ``incident_days=0`` disables it.
    popup_share, popup_effect, banner_share, banner_effect : float
        Exposure shares and conversion multipliers of the negative-lift
        popup and the positive-lift banner (1.0 = no effect).
    bottleneck_wait : float, default 240
        Median seconds of the bottleneck step (at most 1500).
    cut_start, cut_end : float
        Shares of customers with a visit cut by the window start / end.
    rare_rate, reload_rate, id_in_event, duplicate_rate, missing_channel_rate : float
        Noise (see above).
    page : bool, default True
        Add a ``page`` column (``/p/123``, ``/cart``, ``/checkout/shipping`` ...).
    max_steps : int, default 80
        Cap on core events per visit.

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, ClickstreamTruth)
        Rows sorted by ``timestamp`` with columns ``customer_id``
        (``u_004213`` or ``LOY-00004213``), ``session_id`` (``ga_...``),
        ``event``, ``timestamp`` (naive ``datetime64``), ``channel`` (web,
        app, email, whatsapp, store; a few missing), ``revenue`` (> 0 on
        ``order_complete``, NaN elsewhere) and ``page``.

    Raises
    ------
    InvalidParameterError
        A parameter is out of range.

    Examples
    --------
    >>> from journeymine.datasets import make_clickstream
    >>> df, truth = make_clickstream(500, random_state=1, return_truth=True)
    >>> list(df.columns)
    ['customer_id', 'session_id', 'event', 'timestamp', 'channel', 'revenue', 'page']
    >>> bool(df["timestamp"].is_monotonic_increasing)
    True
    >>> truth.bottleneck, truth.incident_event, truth.session_gap
    (('shipping_details', 'payment'), 'payment_error', Timedelta('0 days 00:30:00'))
    """
    t0 = _timestamp("start", start)
    p = dict(
        days=days, session_tail=session_tail, max_sessions=max_sessions, gap_days=gap_days,
        loop_share=loop_share, loop_conversion=loop_conversion, incident_days=incident_days,
        incident_error_rate=incident_error_rate, popup_share=popup_share,
        popup_effect=popup_effect, banner_share=banner_share, banner_effect=banner_effect,
        bottleneck_wait=bottleneck_wait, cut_start=cut_start, cut_end=cut_end,
        rare_rate=rare_rate, reload_rate=reload_rate, id_in_event=id_in_event,
        duplicate_rate=duplicate_rate, missing_channel_rate=missing_channel_rate,
    )
    n = _validate(n_customers, n_events, p)
    check_number("max_steps", max_steps, low=2, high=10_000, integer=True)
    p["max_steps"] = int(max_steps)
    inc_t0 = (t0 + pd.Timedelta(days=75) if incident_start is None
              else _timestamp("incident_start", incident_start))
    has_incident = incident_days > 0 and incident_error_rate > 0
    p["inc_lo"] = (inc_t0 - t0).total_seconds()
    p["inc_hi"] = p["inc_lo"] + incident_days * _DAY if has_incident else p["inc_lo"]
    rng = np.random.default_rng(random_state)
    df, truth = _build(rng, n, t0, p, page)
    if not has_incident:
        truth = dataclasses.replace(truth, incident_start=None, incident_end=None,
                                    incident_error_rate=0.0)
    return (df, truth) if return_truth else df


def _build(rng, n, t0, p, with_page):
    lay = _lay_out(rng, n, p)
    planned = _planned_times(lay)
    sim = _simulate_sessions(rng, lay, planned, p)
    sess, ev, gap = sim["sess"], sim["event"], sim["gap"]
    n_sess = lay["cust"].size

    # ---- extras after a core event: a reload (same page) and/or a rare event
    reload = rng.random(ev.size) < p["reload_rate"]
    reload &= ~np.isin(ev, [ORDER, PAY_ERR, POPUP, BANNER, STORE, POINTS])
    rare = rng.random(ev.size) < p["rare_rate"]
    room = np.where(gap > 0, gap, 60.0)  # the last event of a visit has no next gap
    rare &= room >= 4
    reload &= room >= 2 + rare
    n_extra = 1 + reload + rare
    idx = np.repeat(np.arange(ev.size), n_extra)
    first_of = np.cumsum(n_extra) - n_extra
    j = np.arange(idx.size) - first_of[idx]  # 0 = the core event, 1.. = its extras
    is_reload = (j == 1) & reload[idx]
    is_rare = (j == n_extra[idx] - 1) & (j > 0) & rare[idx]
    rel_off = np.zeros(idx.size)
    rel_off[is_reload] = 1 + np.floor(rng.random(int(is_reload.sum())) * 2)
    base = np.where(reload[idx], 3.0, 1.0)
    half = np.maximum(0.0, 0.5 * (room[idx] - base - 1))
    rel_off[is_rare] = (base + np.floor(rng.random(idx.size) * half))[is_rare]
    rel_off = np.minimum(rel_off, np.maximum(room[idx] - 1, 0))
    # Offset of every core event from the start of its visit.
    core_gap_before = np.r_[0.0, gap[:-1]]
    new_sess = np.r_[True, sess[1:] != sess[:-1]]
    core_gap_before[new_sess] = 0.0
    core_off = np.cumsum(core_gap_before)
    sess_first = np.flatnonzero(new_sess)
    core_off -= np.repeat(core_off[sess_first], np.diff(np.r_[sess_first, sess.size]))
    e_sess = sess[idx]
    e_off = core_off[idx] + rel_off
    rare_pop = 1.0 / np.arange(1, len(RARE_EVENTS) + 1) ** 1.1
    rare_id = np.searchsorted(np.cumsum(rare_pop / rare_pop.sum()), rng.random(idx.size))
    rare_id = np.minimum(rare_id, len(RARE_EVENTS) - 1)
    e_code = np.where(is_rare, _NS + rare_id, ev[idx])  # codes >= _NS are rare events

    # ---- visits in time: consecutive visits never overlap (>= 1 h apart)
    dur = np.zeros(n_sess)
    np.maximum.at(dur, e_sess, e_off)
    nxt_gap = np.r_[lay["gap"][1:], 0.0]
    last_of_cust = np.r_[lay["first"][1:] - 1, n_sess - 1]
    nxt_gap[last_of_cust] = 0.0
    step = np.maximum(nxt_gap, np.where(nxt_gap > 0, dur + _MIN_BETWEEN, 0.0))
    cum = np.r_[0.0, np.cumsum(step)[:-1]]
    anchor = lay["anchor"]
    anchor_t = lay["anchor_t"].copy()
    frac = 0.2 + 0.6 * rng.random(n)
    anchor_t[lay["cut_start"]] = -np.floor(frac * dur[anchor])[lay["cut_start"]]
    anchor_t[lay["cut_end"]] = (p["days"] * _DAY - 1 - np.floor(frac * dur[anchor]))[
        lay["cut_end"]]
    cust = lay["cust"]
    s_start = np.floor(anchor_t[cust] + cum - cum[anchor][cust])
    e_t = s_start[e_sess] + e_off
    horizon = p["days"] * _DAY
    inside = (e_t >= 0) & (e_t < horizon)

    # ---- per-session and per-customer facts (before dropping what the window cuts)
    e_cust = cust[e_sess]
    before = np.zeros(n, dtype=bool)
    after = np.zeros(n, dtype=bool)
    before[e_cust[e_t < 0]] = True
    after[e_cust[e_t >= horizon]] = True
    s_in = np.zeros(n_sess, dtype=np.int64)
    np.add.at(s_in, e_sess, inside)
    s_n = np.bincount(e_sess, minlength=n_sess)
    s_cut = np.where((s_in > 0) & (s_in < s_n), np.where(s_start < 0, 1, 2), 0)

    # ---- rows
    e_sess, e_code, e_t, e_cust = e_sess[inside], e_code[inside], e_t[inside], e_cust[inside]
    order = np.lexsort((np.arange(e_t.size), e_t))
    e_sess, e_code, e_t, e_cust = e_sess[order], e_code[order], e_t[order], e_cust[order]
    names = np.array(CORE_EVENTS + RARE_EVENTS, dtype=object)
    event = names[e_code]
    is_prod = e_code == PRODUCT
    n_products = 4000
    prod_pop = 1.0 / np.arange(1, n_products + 1) ** 0.9
    prod = rng.permutation(n_products)[np.minimum(np.searchsorted(
        np.cumsum(prod_pop / prod_pop.sum()), rng.random(e_code.size)), n_products - 1)] + 100
    with_id = is_prod & (rng.random(e_code.size) < p["id_in_event"])
    if with_id.any():
        event[with_id] = np.array([f"product_view_{x}" for x in prod[with_id].tolist()],
                                  dtype=object)
    is_order = e_code == ORDER
    revenue = np.full(e_code.size, np.nan)
    store_row = sim["channel"][e_sess] == _STORE
    amount = np.where(store_row, 55.0, 42.0) * np.exp(0.6 * rng.standard_normal(e_code.size))
    revenue[is_order] = np.maximum(np.round(amount[is_order], 2), 1.0)
    channel = np.array(CHANNELS, dtype=object)[sim["channel"][e_sess]]

    # ---- ids
    cids = _customer_ids(rng, n)
    snums = 1_700_000_000 + np.cumsum(rng.integers(1, 400, n_sess))
    snums = snums[rng.permutation(n_sess)]
    sids = np.array([f"ga_{x}" for x in snums.tolist()], dtype=object)
    ts = np.datetime64(t0.to_datetime64(), "s") + e_t.astype("timedelta64[s]")
    data = {
        "customer_id": cids[e_cust], "session_id": sids[e_sess], "event": event,
        "timestamp": ts.astype("datetime64[ns]"), "channel": channel, "revenue": revenue,
    }
    if with_page:
        pages = np.array([_PAGES.get(e, "/") for e in CORE_EVENTS]
                         + ["/" for _ in RARE_EVENTS], dtype=object)
        page = pages[e_code]
        pp = is_prod | (e_code == ADD)
        page[pp] = np.array([f"/p/{x}" for x in prod[pp].tolist()], dtype=object)
        cat = e_code == CATEGORY
        cats = np.array([f"/c/{c}" for c in _CATEGORIES], dtype=object)
        page[cat] = cats[rng.integers(0, len(cats), int(cat.sum()))]
        data["page"] = page

    # ---- noise: exact duplicates, missing channels
    n_rows = e_code.size
    dup = np.flatnonzero(rng.random(n_rows) < p["duplicate_rate"])
    miss = rng.random(n_rows) < p["missing_channel_rate"]
    data["channel"] = np.where(miss, None, data["channel"])
    if dup.size:
        pos = np.sort(np.r_[np.arange(n_rows), dup], kind="stable")
        data = {k: v[pos] for k, v in data.items()}
    df = pd.DataFrame(data)
    df["revenue"] = df["revenue"].astype("float64")

    # ---- truth tables
    t_start = pd.Timestamp(t0)
    s_rows = np.flatnonzero(s_in > 0)
    conv = np.zeros(n_sess, dtype=bool)
    conv[e_sess[is_order]] = True
    checkout = np.zeros(n_sess, dtype=bool)
    checkout[e_sess[e_code == PAY]] = True
    t_first = np.full(n_sess, np.inf)
    t_last = np.full(n_sess, -np.inf)
    np.minimum.at(t_first, e_sess, e_t)
    np.maximum.at(t_last, e_sess, e_t)
    exp_names = np.array([None, NEGATIVE_EVENT, POSITIVE_EVENT], dtype=object)
    exp_code = np.where(sim["exposure"] == POPUP, 1, np.where(sim["exposure"] == BANNER, 2, 0))
    sr = s_rows
    sessions = pd.DataFrame({
        "session_id": sids[sr], "customer_id": cids[cust[sr]],
        "start": t_start + pd.to_timedelta(t_first[sr], unit="s"),
        "end": t_start + pd.to_timedelta(t_last[sr], unit="s"),
        "n_events": s_in[sr], "channel": np.array(CHANNELS, dtype=object)[sim["channel"][sr]],
        "converted": conv[sr], "checkout": checkout[sr], "looped": sim["looped"][sr],
        "exposure": exp_names[exp_code[sr]], "incident": sim["incident"][sr],
        "cut": np.array([None, "start", "end"], dtype=object)[s_cut[sr]],
    }).sort_values("start", kind="stable").reset_index(drop=True)
    n_sessions_in = np.bincount(cust[sr], minlength=n)
    n_purch = np.bincount(cust[sr], weights=conv[sr], minlength=n).astype(np.int64)
    last_t = np.full(n, -np.inf)
    np.maximum.at(last_t, cust[sr], t_last[sr])
    churn_days = 45
    cut_start_c = np.zeros(n, dtype=bool)
    cut_end_c = np.zeros(n, dtype=bool)
    cut_start_c[cust[sr][s_cut[sr] == 1]] = True
    cut_end_c[cust[sr][s_cut[sr] == 2]] = True
    customers = pd.DataFrame({
        "n_sessions": n_sessions_in, "n_purchases": n_purch,
        "started_before": before, "continues_after": after,
        "cut_at_start": cut_start_c, "cut_at_end": cut_end_c,
        "repurchaser": n_purch >= 2,
        "churned": ~after & (last_t < horizon - churn_days * _DAY),
        "intent": np.round(sim["intent"], 4),
    }, index=pd.Index(cids, name="customer_id"))

    ck = sessions[sessions["checkout"]]
    c_in = ck.loc[ck["incident"], "converted"].mean()
    c_out = ck.loc[~ck["incident"], "converted"].mean()
    drop = float(1 - c_in / c_out) if ck["incident"].any() and c_out > 0 else float("nan")
    online2 = sessions[(sessions["channel"] != "store") & (sessions["n_events"] >= 2)]
    by_exp = online2.groupby(online2["exposure"].fillna("none"))["converted"].mean()
    lift = {k: float(by_exp.get(k, np.nan)) for k in (NEGATIVE_EVENT, POSITIVE_EVENT, "none")}
    truth = ClickstreamTruth(
        session_gap=SESSION_GAP, sessions=sessions, customers=customers,
        window=(t_start, t_start + pd.Timedelta(seconds=horizon)),
        loop_share=float(p["loop_share"]), loop_conversion=float(p["loop_conversion"]),
        incident_start=t_start + pd.Timedelta(seconds=p["inc_lo"]),
        incident_end=t_start + pd.Timedelta(seconds=p["inc_hi"]),
        incident_error_rate=float(p["incident_error_rate"]), incident_conversion_drop=drop,
        negative_lift=float(p["popup_effect"]), positive_lift=float(p["banner_effect"]),
        lift_realised=lift,
        bottleneck_median_wait=pd.Timedelta(seconds=float(p["bottleneck_wait"])),
        other_median_wait_max=pd.Timedelta(seconds=max(_DWELL.values())),
        n_duplicates=int(dup.size), n_missing_channel=int(miss.sum()),
    )
    return df, truth
