"""Synthetic omnichannel customer journeys with planted ground truth.

:func:`make_journeys` simulates customers of an Indonesian skincare shop that
sells through social ads, a website, an app, marketplaces (Shopee/Tokopedia
style), WhatsApp and physical stores. Every persona is a first-order Markov
chain over touchpoints; all customers are simulated together, one step at a
time, in numpy arrays, so a million events take seconds.
"""

from __future__ import annotations

import dataclasses
import html
from typing import TYPE_CHECKING, Literal, overload

import numpy as np
import pandas as pd

from journeymine.eventlog._stages import STAGES
from journeymine.exceptions import InvalidParameterError

if TYPE_CHECKING:
    from journeymine.eventlog._eventlog import EventLog

__all__ = [
    "CHANNELS",
    "PERSONAS",
    "TOUCHPOINTS",
    "InvalidParameterError",
    "JourneyTruth",
    "make_journeys",
]


# --------------------------------------------------------------------------- catalogue
#: Touchpoints of the simulated shop: ``(touchpoint, stage, channel)``. A channel of
#: ``None`` means "the channel the customer is shopping on" (web, app or
#: marketplace): a cart, a checkout or a delivery happens where the customer shops.
TOUCHPOINTS: tuple[tuple[str, str, str | None], ...] = (
    ("instagram_ad", "awareness", "social"),
    ("tiktok_ad", "awareness", "social"),
    ("influencer_post", "awareness", "social"),
    ("google_search", "awareness", "search"),
    ("website_product_page", "consideration", "web"),
    ("app_product_page", "consideration", "app"),
    ("marketplace_listing", "consideration", "marketplace"),
    ("whatsapp_chat", "consideration", "chat"),
    ("read_reviews", "consideration", "web"),
    ("store_visit", "consideration", "store"),
    ("add_to_cart", "purchase", None),
    ("checkout", "purchase", None),
    ("payment", "purchase", None),
    ("store_purchase", "purchase", "store"),
    ("delivery", "retention", None),
    ("customer_support", "retention", "chat"),
    ("loyalty_program", "retention", "app"),
    ("repurchase", "retention", None),
    ("review", "advocacy", None),
    ("referral", "advocacy", "social"),
)

#: Channels, in a fixed order (``store`` is the offline channel).
CHANNELS: tuple[str, ...] = ("social", "search", "web", "app", "marketplace", "chat", "store")

_TP = tuple(t for t, _, _ in TOUCHPOINTS)
_IX = {t: i for i, t in enumerate(_TP)}
_NT = len(_TP)
_END = _NT  # the absorbing END state is the last column of a transition matrix
_CH = {c: i for i, c in enumerate(CHANNELS)}
_FIXED_CH = np.array([_CH[c] if c else -1 for _, _, c in TOUCHPOINTS])
_STAGE_RANK = np.array([STAGES.index(s) for _, s, _ in TOUCHPOINTS])
_SHOP_CHANNELS = np.array([_CH["web"], _CH["app"], _CH["marketplace"]])

_MIN, _HOUR, _DAY = 60.0, 3600.0, 86400.0

#: Planted truth shared by every call of :func:`make_journeys`.
BOTTLENECK = ("payment", "delivery")
NEGATIVE_TOUCHPOINT = "customer_support"
DROPOFF_TOUCHPOINT = "website_product_page"
CHANNEL_SWITCH = ("app", "web")
CONVERSION_TOUCHPOINTS = ("payment", "store_purchase")
#: Probability that a customer sent from the app to the website leaves right there.
SWITCH_EXIT = 0.7
#: Median days of the planted slow fulfilment (payment -> delivery) and of a normal one.
SLOW_DELIVERY_DAYS, NORMAL_DELIVERY_DAYS = 4.5, 1.8

# --------------------------------------------------------------------------- personas
# Unnormalised transition weights per persona: {from: {to: weight}}; "END" ends the
# journey; "start" is the distribution of the first touchpoint.
_SHARED_POST = {
    "checkout": {"payment": 0.82, "END": 0.18},
    "payment": {"delivery": 0.98, "END": 0.02},
    "repurchase": {"delivery": 0.96, "END": 0.04},
    "customer_support": {"END": 0.72, "review": 0.2, "repurchase": 0.08},
    "referral": {"END": 0.8, "repurchase": 0.2},
}

PERSONAS: dict[str, dict] = {
    "social_impulse": {
        "retarget": "tiktok_ad",
        "label": "Social impulse buyers",
        "share": 0.32,
        "pace": 0.5,
        "shop": "marketplace",
        "revenue_idr": 120_000,
        "summary": "TikTok/Instagram ad -> marketplace listing -> quick checkout; "
        "young, promo-driven, decide in minutes.",
        "edges": {
            "start": {"tiktok_ad": 0.45, "instagram_ad": 0.22, "influencer_post": 0.2,
                      "marketplace_listing": 0.13},
            "tiktok_ad": {"marketplace_listing": 0.58, "tiktok_ad": 0.1,
                          "influencer_post": 0.04, "END": 0.28},
            "instagram_ad": {"marketplace_listing": 0.45, "website_product_page": 0.08,
                             "instagram_ad": 0.07, "END": 0.4},
            "influencer_post": {"marketplace_listing": 0.5, "tiktok_ad": 0.08,
                                "read_reviews": 0.05, "END": 0.37},
            "google_search": {"marketplace_listing": 0.5, "website_product_page": 0.3,
                              "END": 0.2},
            "marketplace_listing": {"add_to_cart": 0.52, "marketplace_listing": 0.14,
                                    "read_reviews": 0.08, "whatsapp_chat": 0.03,
                                    "END": 0.23},
            "read_reviews": {"marketplace_listing": 0.45, "add_to_cart": 0.2, "END": 0.35},
            "whatsapp_chat": {"marketplace_listing": 0.35, "checkout": 0.3, "END": 0.35},
            "website_product_page": {"add_to_cart": 0.3, "marketplace_listing": 0.2,
                                     "END": 0.5},
            "app_product_page": {"add_to_cart": 0.35, "END": 0.65},
            "store_visit": {"store_purchase": 0.5, "END": 0.5},
            "add_to_cart": {"checkout": 0.8, "marketplace_listing": 0.04, "END": 0.16},
            "store_purchase": {"review": 0.2, "END": 0.8},
            "delivery": {"review": 0.42, "customer_support": 0.12, "loyalty_program": 0.02,
                         "END": 0.44},
            "loyalty_program": {"repurchase": 0.3, "END": 0.7},
            "review": {"referral": 0.1, "repurchase": 0.14, "tiktok_ad": 0.08, "END": 0.68},
        },
    },
    "careful_researcher": {
        "retarget": "google_search",
        "label": "Careful researchers",
        "share": 0.26,
        "pace": 1.8,
        "shop": "web",
        "revenue_idr": 260_000,
        "summary": "Google search -> website product pages -> reviews -> WhatsApp "
        "questions -> checkout days later; compare ingredients, ask if it is original.",
        "edges": {
            "start": {"google_search": 0.5, "instagram_ad": 0.18, "influencer_post": 0.14,
                      "website_product_page": 0.18},
            "google_search": {"website_product_page": 0.6, "read_reviews": 0.2,
                              "marketplace_listing": 0.08, "END": 0.12},
            "instagram_ad": {"website_product_page": 0.5, "google_search": 0.2, "END": 0.3},
            "influencer_post": {"google_search": 0.35, "read_reviews": 0.25,
                                "website_product_page": 0.15, "END": 0.25},
            "tiktok_ad": {"google_search": 0.4, "END": 0.6},
            "website_product_page": {"website_product_page": 0.22, "read_reviews": 0.22,
                                     "whatsapp_chat": 0.22, "google_search": 0.05,
                                     "add_to_cart": 0.11, "END": 0.18},
            "read_reviews": {"website_product_page": 0.32, "whatsapp_chat": 0.28,
                             "read_reviews": 0.08, "google_search": 0.04, "END": 0.28},
            "whatsapp_chat": {"website_product_page": 0.28, "checkout": 0.36,
                              "whatsapp_chat": 0.12, "END": 0.24},
            "marketplace_listing": {"read_reviews": 0.4, "website_product_page": 0.3,
                                    "END": 0.3},
            "app_product_page": {"website_product_page": 0.3, "END": 0.7},
            "store_visit": {"store_purchase": 0.4, "END": 0.6},
            "add_to_cart": {"checkout": 0.72, "END": 0.28},
            "store_purchase": {"review": 0.3, "END": 0.7},
            "delivery": {"review": 0.5, "customer_support": 0.15, "loyalty_program": 0.03,
                         "END": 0.32},
            "loyalty_program": {"repurchase": 0.3, "END": 0.7},
            "review": {"referral": 0.16, "repurchase": 0.14, "google_search": 0.06,
                       "END": 0.64},
        },
    },
    "app_bargain_hunter": {
        "retarget": "instagram_ad",
        "label": "App bargain hunters",
        "share": 0.22,
        "pace": 1.0,
        "shop": "app",
        "revenue_idr": 95_000,
        "summary": "Shop in the app for flash sales and vouchers, fill the cart and wait "
        "for a promo; often abandon the cart.",
        "edges": {
            "start": {"app_product_page": 0.58, "instagram_ad": 0.17, "tiktok_ad": 0.15,
                      "influencer_post": 0.1},
            "instagram_ad": {"app_product_page": 0.55, "END": 0.45},
            "tiktok_ad": {"app_product_page": 0.5, "marketplace_listing": 0.1, "END": 0.4},
            "influencer_post": {"app_product_page": 0.5, "END": 0.5},
            "google_search": {"app_product_page": 0.5, "website_product_page": 0.2,
                              "END": 0.3},
            "app_product_page": {"app_product_page": 0.24, "add_to_cart": 0.3,
                                 "website_product_page": 0.16, "read_reviews": 0.04,
                                 "END": 0.26},
            "website_product_page": {"add_to_cart": 0.3, "app_product_page": 0.2,
                                     "website_product_page": 0.1, "END": 0.4},
            "read_reviews": {"app_product_page": 0.6, "END": 0.4},
            "marketplace_listing": {"add_to_cart": 0.3, "app_product_page": 0.2,
                                    "END": 0.5},
            "whatsapp_chat": {"app_product_page": 0.4, "checkout": 0.2, "END": 0.4},
            "store_visit": {"store_purchase": 0.4, "END": 0.6},
            "add_to_cart": {"checkout": 0.4, "app_product_page": 0.2, "add_to_cart": 0.05,
                            "END": 0.35},
            "checkout": {"payment": 0.75, "END": 0.25},
            "store_purchase": {"loyalty_program": 0.3, "END": 0.7},
            "delivery": {"review": 0.34, "customer_support": 0.14,
                         "loyalty_program": 0.14, "END": 0.38},
            "loyalty_program": {"app_product_page": 0.35, "repurchase": 0.2, "END": 0.45},
            "review": {"app_product_page": 0.16, "referral": 0.08, "repurchase": 0.08,
                       "END": 0.68},
        },
    },
    "offline_loyalist": {
        "retarget": "instagram_ad",
        "label": "Offline loyalists",
        "share": 0.20,
        "pace": 1.2,
        "shop": "app",
        "revenue_idr": 310_000,
        "summary": "Visit the store, buy from the beauty advisor, collect member points "
        "and come back every few weeks.",
        "edges": {
            "start": {"store_visit": 0.55, "instagram_ad": 0.22, "google_search": 0.23},
            "instagram_ad": {"store_visit": 0.55, "website_product_page": 0.05, "END": 0.4},
            "google_search": {"store_visit": 0.6, "website_product_page": 0.15, "END": 0.25},
            "tiktok_ad": {"store_visit": 0.4, "END": 0.6},
            "influencer_post": {"store_visit": 0.4, "END": 0.6},
            "store_visit": {"store_purchase": 0.66, "store_visit": 0.08,
                            "whatsapp_chat": 0.05, "END": 0.21},
            "whatsapp_chat": {"store_visit": 0.6, "END": 0.4},
            "website_product_page": {"store_visit": 0.5, "END": 0.5},
            "app_product_page": {"store_visit": 0.3, "add_to_cart": 0.3, "END": 0.4},
            "marketplace_listing": {"store_visit": 0.3, "END": 0.7},
            "read_reviews": {"store_visit": 0.5, "END": 0.5},
            "add_to_cart": {"checkout": 0.8, "END": 0.2},
            "store_purchase": {"loyalty_program": 0.62, "review": 0.1, "END": 0.28},
            "loyalty_program": {"store_visit": 0.45, "repurchase": 0.1, "referral": 0.08,
                                "END": 0.37},
            "delivery": {"review": 0.3, "customer_support": 0.1, "loyalty_program": 0.25,
                         "END": 0.35},
            "review": {"referral": 0.2, "store_visit": 0.2, "END": 0.6},
            "referral": {"store_visit": 0.3, "END": 0.7},
        },
    },
    "beauty_enthusiast": {
        "retarget": "influencer_post",
        "label": "Beauty enthusiasts",
        "share": 0.14,
        "pace": 1.0,
        "shop": "app",
        "revenue_idr": 420_000,
        "summary": "Follow skinfluencers, read every review, buy full routines in the "
        "app and review and recommend what they love.",
        "edges": {
            "start": {"influencer_post": 0.6, "instagram_ad": 0.2, "tiktok_ad": 0.2},
            "influencer_post": {"read_reviews": 0.4, "app_product_page": 0.3,
                                "influencer_post": 0.1, "END": 0.2},
            "instagram_ad": {"app_product_page": 0.5, "END": 0.5},
            "tiktok_ad": {"influencer_post": 0.4, "app_product_page": 0.2, "END": 0.4},
            "google_search": {"read_reviews": 0.6, "END": 0.4},
            "read_reviews": {"app_product_page": 0.5, "read_reviews": 0.15, "END": 0.35},
            "app_product_page": {"add_to_cart": 0.45, "app_product_page": 0.2,
                                 "read_reviews": 0.1, "END": 0.25},
            "website_product_page": {"app_product_page": 0.4, "END": 0.6},
            "marketplace_listing": {"add_to_cart": 0.4, "END": 0.6},
            "whatsapp_chat": {"checkout": 0.4, "END": 0.6},
            "store_visit": {"store_purchase": 0.5, "END": 0.5},
            "add_to_cart": {"checkout": 0.75, "END": 0.25},
            "store_purchase": {"review": 0.5, "END": 0.5},
            "delivery": {"review": 0.6, "customer_support": 0.1, "loyalty_program": 0.1,
                         "END": 0.2},
            "loyalty_program": {"repurchase": 0.4, "END": 0.6},
            "review": {"referral": 0.35, "repurchase": 0.15, "influencer_post": 0.1,
                       "END": 0.4},
        },
    },
    "gift_buyer": {
        "retarget": "instagram_ad",
        "label": "Gift buyers",
        "share": 0.12,
        "pace": 0.8,
        "shop": "marketplace",
        "revenue_idr": 350_000,
        "summary": "Buy a gift set once (birthdays, Lebaran, Valentine) on a marketplace, "
        "ask about gift wrapping, rarely come back.",
        "edges": {
            "start": {"google_search": 0.5, "instagram_ad": 0.3, "marketplace_listing": 0.2},
            "google_search": {"marketplace_listing": 0.7, "END": 0.3},
            "instagram_ad": {"marketplace_listing": 0.5, "END": 0.5},
            "tiktok_ad": {"marketplace_listing": 0.5, "END": 0.5},
            "influencer_post": {"marketplace_listing": 0.5, "END": 0.5},
            "marketplace_listing": {"whatsapp_chat": 0.25, "add_to_cart": 0.35,
                                    "marketplace_listing": 0.1, "END": 0.3},
            "whatsapp_chat": {"checkout": 0.5, "END": 0.5},
            "website_product_page": {"add_to_cart": 0.3, "END": 0.7},
            "app_product_page": {"add_to_cart": 0.3, "END": 0.7},
            "read_reviews": {"marketplace_listing": 0.5, "END": 0.5},
            "store_visit": {"store_purchase": 0.6, "END": 0.4},
            "add_to_cart": {"checkout": 0.8, "END": 0.2},
            "store_purchase": {"END": 1.0},
            "delivery": {"review": 0.3, "customer_support": 0.12, "END": 0.58},
            "loyalty_program": {"END": 1.0},
            "review": {"END": 0.9, "referral": 0.1},
        },
    },
}
_PERSONA_IDS = tuple(PERSONAS)
#: Multiplier of the END weight per stage of the current touchpoint.
_END_SCALE = np.array([0.3, 0.12, 0.9, 0.3, 0.3])
#: Multiplier of the weights of browsing edges (awareness/consideration to the same).
_BROWSE_BOOST = 3.5
#: Weight of the edge from a product page back to an ad (retargeting).
_RETARGET = 0.08


# --------------------------------------------------------------------------- time gaps
def _gap_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-edge gap parameters: within-session median and sigma, break probability,
    and whether the persona's pace applies.

    A gap is lognormal around the within-session median, except with the break
    probability, when the customer comes back in a later session (lognormal,
    median two days).
    """
    med = np.full((_NT, _NT), 3 * _MIN)
    sig = np.full((_NT, _NT), 0.9)
    brk = np.zeros((_NT, _NT))
    paced = np.ones((_NT, _NT), dtype=bool)
    rank = _STAGE_RANK
    backward = rank[None, :] < rank[:, None]
    brk[backward] = 0.85  # going back in the funnel: usually another day
    brk[~backward] = 0.08
    brk[np.eye(_NT, dtype=bool)] = 0.2
    awareness = rank == 0
    med[awareness, :] = 45.0  # click through an ad
    i = _IX

    def edge(a, b, m, s=0.9, p=0.0, pace=True):
        for x in np.atleast_1d(a):
            for y in np.atleast_1d(b):
                med[i[x], i[y]], sig[i[x], i[y]], brk[i[x], i[y]] = m, s, p
                paced[i[x], i[y]] = pace

    ads = ["instagram_ad", "tiktok_ad", "influencer_post", "google_search"]
    edge(ads, "store_visit", 1.5 * _DAY, 0.9)  # see an ad, visit the store another day
    edge("whatsapp_chat", list(_TP), 35 * _MIN, 1.1, 0.08)  # waiting for the admin
    edge("whatsapp_chat", "whatsapp_chat", 20 * _MIN, 1.0, 0.1)
    edge("add_to_cart", "checkout", 4 * _MIN, 1.0, 0.25)
    edge("add_to_cart", "add_to_cart", 2 * _MIN, 0.8, 0.3)
    edge("checkout", "payment", 6 * _MIN, 1.2, 0.02)  # virtual-account transfer
    edge("store_visit", "store_purchase", 15 * _MIN, 0.6)
    edge("store_visit", "store_visit", 3 * _DAY, 0.6)
    edge("store_purchase", "loyalty_program", 2 * _MIN, 0.5)
    edge("store_purchase", "review", 6 * _HOUR, 1.0)
    # Fulfilment: the planted bottleneck (first orders wait for a slow warehouse).
    edge("payment", "delivery", SLOW_DELIVERY_DAYS * _DAY, 0.35, pace=False)
    edge("repurchase", "delivery", NORMAL_DELIVERY_DAYS * _DAY, 0.35, pace=False)
    edge("delivery", "review", 5 * _HOUR, 1.2, 0.05)
    edge("delivery", "customer_support", 3 * _HOUR, 1.0)
    edge("delivery", "loyalty_program", 1 * _DAY, 1.0)
    edge("customer_support", "review", 1 * _DAY, 1.0)
    edge("customer_support", "repurchase", 10 * _DAY, 0.6)
    edge("loyalty_program", "repurchase", 4 * _DAY, 0.8)
    edge("loyalty_program", ["store_visit", "app_product_page"], 24 * _DAY, 0.5, 0.0)
    edge("review", "referral", 1 * _DAY, 1.0)
    edge(["review", "referral"], "repurchase", 32 * _DAY, 0.5)
    edge("review", ["tiktok_ad", "google_search", "app_product_page", "influencer_post",
                    "store_visit"], 20 * _DAY, 0.6)
    edge("referral", "store_visit", 20 * _DAY, 0.6)
    return med, sig, brk, paced


_BREAK_MEDIAN, _BREAK_SIGMA = 2 * _DAY, 1.0


# --------------------------------------------------------------------------- truth
@dataclasses.dataclass(frozen=True)
class JourneyTruth:
    """What :func:`make_journeys` planted in the journeys.

    Attributes
    ----------
    personas : pandas.Series
        Persona id of every customer, indexed by ``customer_id``.
    persona_names : tuple of str
        The persona ids in the order they were defined.
    bottleneck : tuple of (str, str)
        The edge (from touchpoint, to touchpoint) with the largest
        ``customers × median time`` among forward edges.
    negative_touchpoint : str
        The touchpoint customers complain about and leave after.
    dropoff_touchpoint : str
        Where customers switching channel (:attr:`channel_switch`) abandon.
    channel_switch : tuple of (str, str)
        ``(from_channel, to_channel)`` of the switch that loses customers.
    conversion_touchpoints : tuple of str
        A customer converted when the journey has one of these touchpoints.
    persona_labels : dict
        Human-readable name of every persona id.
    """

    personas: pd.Series
    persona_names: tuple[str, ...]
    bottleneck: tuple[str, str] = BOTTLENECK
    negative_touchpoint: str = NEGATIVE_TOUCHPOINT
    dropoff_touchpoint: str = DROPOFF_TOUCHPOINT
    channel_switch: tuple[str, str] = CHANNEL_SWITCH
    conversion_touchpoints: tuple[str, ...] = CONVERSION_TOUCHPOINTS
    persona_labels: dict = dataclasses.field(default_factory=dict, repr=False)

    def describe(self) -> str:
        """A plain-language summary of the planted truth.

        Examples
        --------
        >>> from journeymine.datasets import make_journeys
        >>> _, truth = make_journeys(200, random_state=0, return_truth=True)
        >>> print(truth.describe().splitlines()[0])
        Planted ground truth for 200 customers:
        """
        shares = self.personas.value_counts(normalize=True)
        lines = [f"Planted ground truth for {len(self.personas):,} customers:", "Personas:"]
        for name in self.persona_names:
            label = self.persona_labels.get(name, name)
            lines.append(f"  - {name} ({label}): {shares.get(name, 0.0):.0%}")
        lines += [
            f"Bottleneck: {self.bottleneck[0]} -> {self.bottleneck[1]} "
            "(slow fulfilment: the largest customers x median time of any forward edge)",
            f"Negative touchpoint: {self.negative_touchpoint} "
            "(complaints, customers leave after it)",
            f"Channel-switch drop-off: {self.channel_switch[0]} -> {self.channel_switch[1]} "
            f"at {self.dropoff_touchpoint} (customers sent from the app to the website "
            "abandon there)",
            f"Conversion: any of {', '.join(self.conversion_touchpoints)}",
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-safe summary (persona shares instead of every customer)."""
        return {
            "n_customers": len(self.personas),
            "persona_names": list(self.persona_names),
            "persona_shares": {
                k: round(float(v), 4)
                for k, v in self.personas.value_counts(normalize=True).items()
            },
            "bottleneck": list(self.bottleneck),
            "negative_touchpoint": self.negative_touchpoint,
            "dropoff_touchpoint": self.dropoff_touchpoint,
            "channel_switch": list(self.channel_switch),
            "conversion_touchpoints": list(self.conversion_touchpoints),
        }

    def __repr__(self) -> str:
        return (
            f"JourneyTruth({len(self.personas):,} customers, {len(self.persona_names)} "
            f"personas, bottleneck={self.bottleneck[0]}->{self.bottleneck[1]}, "
            f"negative={self.negative_touchpoint}, dropoff={self.dropoff_touchpoint} "
            f"({self.channel_switch[0]}->{self.channel_switch[1]}))"
        )

    def _repr_html_(self) -> str:
        body = html.escape(self.describe()).replace("\n", "<br>")
        return f"<div class='jm-truth'>{body}</div>"


# --------------------------------------------------------------------------- simulation
def _validate(n_customers, n_personas, overlap, start) -> pd.Timestamp:
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)) \
            or n_customers < 1:
        raise InvalidParameterError(
            f"n_customers must be a positive integer, got {n_customers!r}.",
            expected="an int >= 1, e.g. 2000.",
            fix="Pass n_customers=2000 (about 8 events per customer).",
        )
    if isinstance(n_personas, bool) or not isinstance(n_personas, (int, np.integer)) \
            or not 2 <= n_personas <= len(PERSONAS):
        raise InvalidParameterError(
            f"n_personas must be an integer from 2 to {len(PERSONAS)}, got {n_personas!r}.",
            expected=f"2..{len(PERSONAS)}; the personas are {', '.join(_PERSONA_IDS)}.",
            fix="Pass n_personas=4 (the default).",
        )
    if not isinstance(overlap, (int, float, np.floating)) or not 0.0 <= overlap <= 1.0:
        raise InvalidParameterError(
            f"overlap must be a number from 0 to 1, got {overlap!r}.",
            expected="0 (personas follow only their own chain) to 1 (all identical).",
            fix="Pass overlap=0.15 (the default).",
        )
    try:
        ts = pd.Timestamp(start)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"start {start!r} is not a date.",
            expected="a date string such as '2025-01-01' or a pandas.Timestamp.",
            fix="Pass start='2025-01-01'.",
        ) from exc
    if pd.isna(ts):
        raise InvalidParameterError(
            "start is NaT.", expected="a date such as '2025-01-01'.", fix="Pass a real date."
        )
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _chains(persona_ids: tuple[str, ...], overlap: float) -> tuple[np.ndarray, np.ndarray]:
    """Start probabilities (k, T) and transition matrices (k, T, T+1), mixed by overlap."""
    k = len(persona_ids)
    start = np.zeros((k, _NT))
    trans = np.zeros((k, _NT, _NT + 1))
    for p, pid in enumerate(persona_ids):
        edges = {**_SHARED_POST, **PERSONAS[pid]["edges"]}
        for tp, w in edges.pop("start").items():
            start[p, _IX[tp]] = w
        for src in _TP:
            row = edges.get(src, {"END": 1.0})
            for dst, w in row.items():
                trans[p, _IX[src], _END if dst == "END" else _IX[dst]] = w
        # Retargeting: people who browsed see the persona's favourite ad again later.
        browsing = (_STAGE_RANK == 1) & (trans[p, :, :_NT].sum(axis=1) > 0)
        trans[p, browsing, _IX[PERSONAS[pid]["retarget"]]] += _RETARGET
    # Customers keep browsing: scale the chance to stop by the source's stage.
    end_scale = _END_SCALE[_STAGE_RANK]
    end_scale[_IX[NEGATIVE_TOUCHPOINT]] = 1.0  # complaining customers do leave
    trans[:, :, _END] *= end_scale[None, :]
    # ... and browse around before deciding (more sessions, more product pages).
    browse = (_STAGE_RANK[:, None] <= 1) & (_STAGE_RANK[None, :] <= 1)
    trans[:, :, :_NT][:, browse] *= _BROWSE_BOOST
    start /= start.sum(axis=1, keepdims=True)
    trans /= trans.sum(axis=2, keepdims=True)
    shares = np.array([PERSONAS[p]["share"] for p in persona_ids])
    shares /= shares.sum()
    start = (1 - overlap) * start + overlap * np.einsum("k,kt->t", shares, start)
    trans = (1 - overlap) * trans + overlap * np.einsum("k,kij->ij", shares, trans)
    return start, trans


def _sample(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling: one category per row of the cumulative matrix ``cum``."""
    return np.minimum((u[:, None] > cum).sum(axis=1), cum.shape[1] - 1)


def _simulate(
    n: int, rng: np.random.Generator, persona_ids: tuple[str, ...], overlap: float,
    max_events: int = 40, window_days: float = 120.0,
) -> dict[str, np.ndarray]:
    """Simulate all customers together; returns flat event arrays."""
    start_p, trans = _chains(persona_ids, overlap)
    start_cum, trans_cum = start_p.cumsum(axis=1), trans.cumsum(axis=2)
    med, sig, brk, paced = _gap_tables()
    shares = np.array([PERSONAS[p]["share"] for p in persona_ids])
    persona = _sample(np.cumsum(shares / shares.sum())[None, :].repeat(n, 0), rng.random(n))
    pace = np.array([PERSONAS[p]["pace"] for p in persona_ids])[persona]
    shop = np.array([_CH[PERSONAS[p]["shop"]] for p in persona_ids])[persona]

    # First touch: a day in the window, an hour following Indonesian (UTC+7) habits.
    hours = np.array([1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 5, 6, 7, 6, 5, 5, 5, 5, 6, 8, 10, 11, 9,
                      4], dtype=float)
    hour_wib = _sample(np.cumsum(hours / hours.sum())[None, :].repeat(n, 0), rng.random(n))
    t = (rng.integers(0, int(window_days), n) * _DAY + ((hour_wib - 7) % 24) * _HOUR
         + rng.random(n) * _HOUR)
    tp = _sample(start_cum[persona], rng.random(n))

    alive = np.arange(n)
    prev_ch = np.full(n, -1)
    out_c, out_tp, out_t, out_ch = [], [], [], []
    for step in range(max_events):
        ch = np.where(_FIXED_CH[tp] >= 0, _FIXED_CH[tp], shop[alive])
        out_c.append(alive)
        out_tp.append(tp)
        out_t.append(t)
        out_ch.append(ch)
        if step == max_events - 1:
            break
        is_shop = np.isin(ch, _SHOP_CHANNELS)
        shop[alive[is_shop]] = ch[is_shop]
        nxt = _sample(trans_cum[persona[alive], tp], rng.random(alive.size))
        # The planted channel-switch leak: sent from the app to the website, many leave.
        switched = ((tp == _IX[DROPOFF_TOUCHPOINT]) & (prev_ch[alive] == _CH[CHANNEL_SWITCH[0]])
                    & (ch == _CH[CHANNEL_SWITCH[1]]))
        leave = switched & (rng.random(alive.size) < SWITCH_EXIT)
        nxt[leave] = _END
        prev_ch[alive] = ch
        keep = nxt != _END
        alive, tp, t, nxt = alive[keep], tp[keep], t[keep], nxt[keep]
        if alive.size == 0:
            break
        z, u, zb = rng.standard_normal(alive.size), rng.random(alive.size), \
            rng.standard_normal(alive.size)
        p_pace = np.where(paced[tp, nxt], pace[alive], 1.0)
        within = med[tp, nxt] * p_pace * np.exp(sig[tp, nxt] * z)
        between = _BREAK_MEDIAN * p_pace * np.exp(_BREAK_SIGMA * zb)
        gap = np.where(u < brk[tp, nxt], np.maximum(between, within), within)
        t = t + np.maximum(gap, 5.0)
        tp = nxt

    customer = np.concatenate(out_c)
    order = np.lexsort((np.concatenate(out_t), customer))
    return {
        "customer": customer[order],
        "touchpoint": np.concatenate(out_tp)[order],
        "seconds": np.floor(np.concatenate(out_t)[order]),
        "channel": np.concatenate(out_ch)[order],
        "persona": persona,
    }


def _journeys_frame(
    n_customers: int, random_state, start, n_personas: int, overlap: float,
) -> tuple[pd.DataFrame, JourneyTruth]:
    """The raw event DataFrame and the truth (no EventLog validation)."""
    t0 = _validate(n_customers, n_personas, overlap, start)
    rng = np.random.default_rng(random_state)
    persona_ids = _PERSONA_IDS[:n_personas]
    sim = _simulate(int(n_customers), rng, persona_ids, float(overlap))
    width = max(6, len(str(n_customers)))
    ids = np.array([f"C{i:0{width}d}" for i in range(1, n_customers + 1)], dtype=object)
    tps = np.array(_TP, dtype=object)
    stages = np.array([s for _, s, _ in TOUCHPOINTS], dtype=object)
    channels = np.array(CHANNELS, dtype=object)

    tp = sim["touchpoint"]
    is_sale = np.isin(tp, [_IX["payment"], _IX["store_purchase"], _IX["repurchase"]])
    base = np.array([PERSONAS[p]["revenue_idr"] for p in persona_ids])[
        sim["persona"][sim["customer"]]]
    amount = np.round(base * np.exp(0.45 * rng.standard_normal(tp.size)), -3)
    revenue = np.where(is_sale, np.maximum(amount, 25_000.0), np.nan)
    timestamp = t0 + pd.to_timedelta(sim["seconds"], unit="s")
    df = pd.DataFrame({
        "customer_id": ids[sim["customer"]],
        "touchpoint": tps[tp],
        "timestamp": timestamp,
        "channel": channels[sim["channel"]],
        "stage": stages[tp],
        "revenue": revenue,
    })
    truth = JourneyTruth(
        personas=pd.Series(np.array(persona_ids, dtype=object)[sim["persona"]],
                           index=pd.Index(ids, name="customer_id"), name="persona"),
        persona_names=persona_ids,
        persona_labels={p: PERSONAS[p]["label"] for p in persona_ids},
    )
    return df, truth


@overload
def make_journeys(
    n_customers: int = ..., *, random_state: int | np.random.Generator | None = ...,
    return_truth: Literal[False] = ..., start: str | pd.Timestamp = ..., n_personas: int = ...,
    overlap: float = ...,
) -> EventLog: ...


@overload
def make_journeys(
    n_customers: int = ..., *, random_state: int | np.random.Generator | None = ...,
    return_truth: Literal[True], start: str | pd.Timestamp = ..., n_personas: int = ...,
    overlap: float = ...,
) -> tuple[EventLog, JourneyTruth]: ...


def make_journeys(
    n_customers: int = 2000,
    *,
    random_state: int | np.random.Generator | None = None,
    return_truth: bool = False,
    start: str | pd.Timestamp = "2025-01-01",
    n_personas: int = 4,
    overlap: float = 0.15,
) -> EventLog | tuple[EventLog, JourneyTruth]:
    """Generate omnichannel customer journeys of a skincare shop with known truth.

    Each customer belongs to a persona; each persona is a first-order Markov
    chain over 20 touchpoints (plus an end state) with its own transitions,
    channels and pace. Time gaps are lognormal per edge: seconds to minutes
    within a session, days between sessions, one to a few days for a
    delivery, weeks before a repurchase. Journeys have 1 to 40 events; some
    customers see a single ad, some loop between a product page and WhatsApp.

    Planted ground truth (see :class:`JourneyTruth`):

    * bottleneck ``payment -> delivery``: first orders wait for a slow
      warehouse (median about 4.5 days; a repeat order takes about 1.8), the
      largest ``customers × median time`` of all forward edges;
    * negative touchpoint ``customer_support``: most customers leave after it;
    * channel-switch drop-off: customers sent from the ``app`` to the ``web``
      site land on ``website_product_page`` and most leave there, so it is
      one of the three touchpoints where most non-converting journeys end;
    * conversion is a ``payment`` or a ``store_purchase``.

    Parameters
    ----------
    n_customers : int, default 2000
        Number of customers (about 8 events each on average).
    random_state : int, numpy Generator or None
        Seed; the same seed gives the same events.
    return_truth : bool, default False
        Also return the :class:`JourneyTruth`.
    start : str or pandas.Timestamp, default "2025-01-01"
        First day of the 120-day window in which journeys start (UTC).
    n_personas : int, default 4
        2 to 6. The first four are social impulse buyers, careful
        researchers, app bargain hunters and offline loyalists; 5 adds beauty
        enthusiasts, 6 gift buyers.
    overlap : float, default 0.15
        Weight of the population-average chain mixed into each persona's chain
        (0 = personas are as distinct as designed, 1 = all identical).

    Returns
    -------
    EventLog or (EventLog, JourneyTruth)
        Columns ``customer_id`` (``"C000123"``), ``touchpoint`` (the activity),
        ``timestamp`` (UTC), ``channel``, ``stage`` and ``revenue`` (IDR, only
        on payment, store_purchase and repurchase events). The persona is
        only in the truth.

    Raises
    ------
    InvalidParameterError
        A parameter is out of range.

    Examples
    --------
    >>> from journeymine.datasets import make_journeys
    >>> log, truth = make_journeys(500, random_state=0, return_truth=True)
    >>> log.n_customers
    500
    >>> truth.bottleneck
    ('payment', 'delivery')
    >>> sorted(truth.personas.unique())
    ['app_bargain_hunter', 'careful_researcher', 'offline_loyalist', 'social_impulse']
    """
    from journeymine.eventlog._eventlog import EventLog

    df, truth = _journeys_frame(n_customers, random_state, start, n_personas, overlap)
    log = EventLog.from_pandas(
        df, customer="customer_id", activity="touchpoint", timestamp="timestamp",
        channel="channel", stage="stage", revenue="revenue", source="make_journeys",
    )
    return (log, truth) if return_truth else log
