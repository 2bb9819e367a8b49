"""Keyword stage guesses on real-world event names, the guesses table and the
capped warning, and the conversion default on logs with revenue."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

import journeymine as jm
from journeymine import EventLog, StageMap
from journeymine.discovery import resolve_conversion
from journeymine.eventlog._stages import guess_stage, is_checkout_step, touchpoint_tokens

# (event name as real logs spell it, expected stage or None for unmapped)
NAMES: list[tuple[str, str | None]] = [
    # purchase: the cart, the checkout and its steps, payment, orders (en + id)
    ("add_to_cart", "purchase"), ("Add To Cart", "purchase"), ("addToCart", "purchase"),
    ("AddToCart", "purchase"), ("checkout_start", "purchase"), ("order_complete", "purchase"),
    ("purchase", "purchase"), ("PURCHASE", "purchase"), ("buy_elect", "purchase"),
    ("buy_grocery", "purchase"), ("beli_pulsa", "purchase"), ("bayar", "purchase"),
    ("transaksi_sukses", "purchase"), ("payment_success", "purchase"),
    ("beli_sekarang", "purchase"), ("bayar_sekarang", "purchase"),
    ("pembayaran_berhasil", "purchase"), ("tambah_ke_keranjang", "purchase"),
    ("cek_ongkir", "purchase"), ("shipping_details", "purchase"),
    # consideration
    ("view_item", "consideration"), ("product_view_123", "consideration"),
    ("ProductView", "consideration"), ("search", "consideration"),
    ("cari_produk", "consideration"), ("catalog", "consideration"),
    ("compare", "consideration"), ("lihat_produk", "consideration"),
    ("lihat_ulasan", "consideration"), ("read_reviews", "consideration"),
    ("chat_penjual", "consideration"), ("Store Visit", "consideration"),
    ("google_search", "consideration"),
    # awareness
    ("ad_click", "awareness"), ("campaign_email_open", "awareness"),
    ("promo_banner", "awareness"), ("iklan_ig", "awareness"), ("iklan_tiktok", "awareness"),
    ("search_ad", "awareness"), ("emailOpen", "awareness"), ("newsletterSignup", "awareness"),
    ("free_shipping_banner", "awareness"), ("tiktok_video", "awareness"),
    # retention
    ("coupon_redeem", "retention"), ("loyalty_points", "retention"),
    ("Loyalty Points Earned", "retention"), ("repurchase", "retention"),
    ("repeat_order", "retention"), ("support_chat", "retention"),
    ("refund_request", "retention"), ("order_refund", "retention"), ("keluhan", "retention"),
    ("komplain_pesanan", "retention"), ("lacak_pesanan", "retention"),
    ("klaim_garansi", "retention"), ("tukar_poin", "retention"),
    ("paket_dikirim", "retention"), ("refund_failed", "retention"),
    # advocacy
    ("review_submitted", "advocacy"), ("ulasan", "advocacy"), ("beri_ulasan", "advocacy"),
    ("share", "advocacy"), ("social_share", "advocacy"), ("referral", "advocacy"),
    ("rekomendasi_teman", "advocacy"), ("testimoni", "advocacy"),
    ("bagikan_produk", "advocacy"), ("invite_friend", "advocacy"),
    # generic: happen in every stage, left to the user
    ("page_view", None), ("page_viewed", None), ("login", None), ("error_500", None),
    ("home", None), ("app_open", None), ("sign_up", None),
    # GA4 recommended and automatic events
    ("first_visit", None), ("session_start", None), ("user_engagement", None),
    ("view_item_list", "consideration"), ("select_item", "consideration"),
    ("view_search_results", "consideration"), ("add_to_wishlist", "consideration"),
    ("view_promotion", "awareness"), ("select_promotion", "awareness"),
    ("view_cart", "purchase"), ("begin_checkout", "purchase"),
    ("add_shipping_info", "purchase"), ("add_payment_info", "purchase"),
    ("refund", "retention"),
    # Shopify-like
    ("checkout_started", "purchase"), ("checkout_completed", "purchase"),
    ("product_added_to_cart", "purchase"), ("collection_viewed", "consideration"),
    ("search_submitted", "consideration"), ("payment_info_submitted", "purchase"),
    ("orders/create", "purchase"), ("order_fulfilled", "retention"),
    ("refunds/create", "retention"),
]

# Substrings that used to match, and failure names that must never be purchases.
FALSE_POSITIVES: list[tuple[str, str | None]] = [
    ("adidas", None), ("adapter", None), ("download", None), ("leaderboard", None),
    ("headline", None), ("payday", None),
    ("payment_error", None), ("checkout_failed", None), ("pembayaran_gagal", None),
    ("order_cancelled", None), ("orders/cancelled", None), ("pesanan_dibatalkan", None),
    ("batal_pesan", None), ("payment_declined", None), ("cart_abandon", None),
]


def test_the_table_is_large_and_covers_every_stage():
    assert len(NAMES) + len(FALSE_POSITIVES) >= 60
    assert {s for _, s in NAMES} == {*jm.STAGES, None}


@pytest.mark.parametrize(("name", "stage"), NAMES + FALSE_POSITIVES)
def test_real_world_names(name, stage):
    guessed = StageMap().with_guesses([name])
    assert guessed.get(name) == stage


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("addToCart", ("add", "to", "cart")),
        ("Add To Cart", ("add", "to", "cart")),
        ("product_view_123", ("product", "view")),
        ("checkout-start", ("checkout", "start")),
        ("HTTPError500", ("http", "error")),
        ("orders/create", ("orders", "create")),
    ],
)
def test_tokens(name, tokens):
    assert touchpoint_tokens(name) == tokens


def test_failure_words_veto_only_purchase():
    vetoed = guess_stage("payment_error")
    assert vetoed.stage is None and vetoed.keyword == "payment"
    assert vetoed.rule == "purchase word 'payment' vetoed by 'error'"
    # another stage's word still decides, and the rule says what was vetoed
    kept = guess_stage("order_refund_failed")
    assert kept.stage == "retention"
    assert "vetoed by 'fail'" not in kept.rule  # retention outranks purchase: no veto needed
    search = guess_stage("checkout_search_error")
    assert search.stage == "consideration"
    assert search.rule == "consideration (purchase word 'checkout' vetoed by 'error')"


def test_checkout_steps():
    for step in ("add_to_cart", "begin_checkout", "checkout_start", "add_payment_info",
                 "add_shipping_info", "shipping_details"):
        assert is_checkout_step(step), step
    for done in ("purchase", "payment", "order_complete", "checkout_completed",
                 "transaksi_sukses", "bayar", "buy_grocery"):
        assert not is_checkout_step(done), done


def test_explicit_mapping_wins_over_keywords():
    stages = StageMap({"adidas": "kesadaran", "payment_error": "pembelian"})
    guessed = stages.with_guesses(["adidas", "payment_error", "buy_x"])
    assert guessed["adidas"] == "awareness" and guessed["payment_error"] == "purchase"
    assert guessed.guesses["touchpoint"].tolist() == ["buy_x"]


def test_guesses_table():
    stages = StageMap({"checkout": "pembelian"}).with_guesses(
        ["checkout", "buy_grocery", "iklan_ig", "payment_error", "adidas", "page_view"])
    g = stages.guesses
    assert list(g.columns) == ["touchpoint", "stage", "keyword", "rule"]
    assert g.to_dict("records") == [
        {"touchpoint": "buy_grocery", "stage": "purchase", "keyword": "buy",
         "rule": "purchase"},
        {"touchpoint": "iklan_ig", "stage": "awareness", "keyword": "iklan",
         "rule": "advertising"},
        {"touchpoint": "payment_error", "stage": None, "keyword": "payment",
         "rule": "purchase word 'payment' vetoed by 'error'"},
    ]
    assert stages.unmapped(["adidas", "page_view", "payment_error"]) == [
        "adidas", "page_view", "payment_error"]
    assert StageMap().guesses.empty
    # a second pass neither repeats nor loses the first pass's guesses
    again = stages.with_guesses(["payment_error", "ulasan"])
    assert again.guesses["touchpoint"].tolist() == [
        "buy_grocery", "iklan_ig", "payment_error", "ulasan"]
    assert again == StageMap({**stages.mapping, "ulasan": "advocacy"})  # guesses not compared


def test_warning_is_capped(caplog):
    names = [f"buy_item_{i:02d}" for i in range(40)]
    names += [f"thing{i:05d}" for i in range(10_000)]
    df = pd.DataFrame({"customer_id": [str(i % 50) for i in range(len(names))],
                       "touchpoint": names,
                       "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(range(len(names)),
                                                                          unit="s")})
    log = EventLog.from_pandas(df)
    with caplog.at_level(logging.WARNING, logger="journeymine.eventlog._eventlog"):
        stages = log.stage_map()
    (record,) = [r for r in caplog.records if "without a stage" in r.getMessage()]
    message = record.getMessage()
    assert message.startswith("Touchpoints without a stage: thing00000, thing00001, ")
    assert "thing00009 … and 9,990 more." in message and "thing00010" not in message
    assert "Stages guessed from names for 40 touchpoints" in message
    assert "buy_item_09 -> purchase … and 30 more." in message
    assert message.count(", ") <= 2 * 10 and len(message) < 1_000
    assert len(stages.guesses) == 40 and len(stages.unmapped(log.activities)) == 10_000


def test_warning_marks_vetoed_names(caplog):
    df = pd.DataFrame({"customer_id": ["a", "a"], "touchpoint": ["view_item", "payment_error"],
                       "ts": ["2024-01-01", "2024-01-02"]})
    with caplog.at_level(logging.WARNING, logger="journeymine.eventlog._eventlog"):
        EventLog.from_pandas(df).stage_map()
    assert "payment_error (failure word)" in caplog.text


def test_no_warning_when_everything_is_mapped(caplog):
    df = pd.DataFrame({"customer_id": ["a"], "touchpoint": ["x"], "ts": ["2024-01-01"]})
    with caplog.at_level(logging.WARNING, logger="journeymine.eventlog._eventlog"):
        EventLog.from_pandas(df, stages={"x": "kesadaran"}).stage_map()
    assert not caplog.records


# --------------------------------------------------------------------------- conversion
def _log(rows: list[tuple[str, str, float | None]]) -> EventLog:
    """A log from (customer, touchpoint, revenue) rows, one minute apart.

    Without any revenue value the log has no revenue column.
    """
    df = pd.DataFrame(rows, columns=["customer_id", "touchpoint", "revenue"])
    if df["revenue"].isna().all():
        df = df.drop(columns="revenue")
    df["ts"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(range(len(df)), unit="min")
    return EventLog.from_pandas(df)


def test_revenue_finds_conversion_under_real_names():
    log = _log([
        ("a", "iklan_ig", None), ("a", "view_item", None), ("a", "add_to_cart", None),
        ("a", "buy_grocery", 52_000.0),
        ("b", "view_item", None), ("b", "payment_error", 10_000.0),
        ("c", "promo_banner", None), ("c", "beli_pulsa", 25_000.0),
        ("d", "search", None),
    ])
    pm = jm.discover(log)
    assert pm.conversion == ("beli_pulsa", "buy_grocery")
    assert pm.summary["conversion_rate"] == pytest.approx(2 / 4)
    reason = pm.summary["conversion_reason"]
    assert reason.startswith("revenue > 0 at the purchase-stage touchpoints beli_pulsa, buy")
    assert "never a conversion (failure words): payment_error" in reason


def test_revenue_on_names_no_rule_knows():
    log = _log([("a", "view_item", None), ("a", "txn_ok", 9.5), ("b", "view_item", None)])
    conv = resolve_conversion(log, log.stage_map())
    assert conv == ("txn_ok",)
    assert conv.reason.startswith("revenue > 0 (no purchase-stage touchpoint carries revenue)")


def test_revenue_prefers_purchase_stage_and_says_what_it_left_out():
    log = _log([("a", "payment", 10.0), ("a", "repurchase", 12.0),
                ("b", "begin_checkout", 10.0), ("b", "purchase", 10.0),
                ("c", "payment", None)])
    conv = resolve_conversion(log, log.stage_map())
    assert conv == ("payment", "purchase")  # repurchase is retention, begin_checkout a step
    assert "with revenue but not purchase-stage: repurchase (retention)" in conv.reason
    assert "checkout steps left out: begin_checkout" in conv.reason
    assert "revenue on only some of their events (all of them count): payment 50%" in conv.reason


def test_failure_names_never_convert_even_when_mapped_to_purchase():
    log = _log([("a", "checkout", None), ("a", "payment_error", None),
                ("b", "checkout", None), ("b", "payment", None)])
    stages = {"checkout": "pembelian", "payment_error": "pembelian", "payment": "pembelian"}
    conv = resolve_conversion(log, log.stage_map(stages))
    assert conv == ("payment",)
    assert conv.reason == ("purchase-stage touchpoints (no revenue column) payment; "
                           "checkout steps left out: checkout; "
                           "never a conversion (failure words): payment_error")
    # asked for explicitly, it is what the user says
    assert resolve_conversion(log, log.stage_map(stages), "payment_error") == ("payment_error",)


def test_no_revenue_falls_back_to_the_purchase_stage():
    log = _log([("a", "checkout", None), ("b", "ad_click", None)])
    pm = jm.discover(log)
    assert pm.conversion == ("checkout",) and pm.summary["converted"] == 1
    assert pm.summary["conversion_reason"] == (
        "purchase-stage touchpoints (no revenue column) checkout")


def test_conversion_pickles_with_its_reason():
    import pickle

    log = _log([("a", "buy_x", 3.0)])
    conv = resolve_conversion(log, log.stage_map())
    back = pickle.loads(pickle.dumps(conv))
    assert back == ("buy_x",) and back.reason == conv.reason
