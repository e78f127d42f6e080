"""Meta's per-message pricing (desk.billing.pmp): the rules by the message's date and
the rate card in force, from data files (a price change is a new file)."""
import datetime as dt
import shutil
from decimal import Decimal

import pytest

from desk.billing import pmp

UTC = dt.timezone.utc
OCT = dt.datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
AUG = dt.datetime(2026, 8, 15, 12, 0, tzinfo=UTC)
UK, US, JP = "447700900001", "12125550100", "819012345678"


def test_markets_come_from_the_number_or_the_bsuid():
    assert (pmp.market_of(UK), pmp.market_of(US), pmp.market_of("US.13491208655302741918")) == (
        "United Kingdom", "North America", "North America")
    assert pmp.market_of("17875550100") != "North America"         # +1 787: Puerto Rico
    assert pmp.market_of("not a number") == "Other"


def test_templates_cost_the_markets_rate_of_the_card_in_force():
    p = pmp.price(wa_id=UK, at=OCT, template_category="MARKETING", in_service_window=False)
    assert (p.usd, p.type, p.market, p.card) == (Decimal("0.0635"), "regular", "United Kingdom", dt.date(2026, 10, 1))
    assert pmp.price(wa_id=US, at=OCT, template_category="AUTHENTICATION", in_service_window=False).usd == Decimal("0.0034")


def test_utility_inside_the_window_is_charged_from_october_2026():
    inside = pmp.price(wa_id=UK, at=OCT, template_category="UTILITY", in_service_window=True)
    assert (inside.usd, inside.type) == (Decimal("0.022"), "regular")


def test_service_messages_are_free_for_the_first_thousand_of_the_month_then_charged():
    first = pmp.price(wa_id=UK, at=OCT, template_category=None, in_service_window=True, service_sent_this_month=999)
    beyond = pmp.price(wa_id=UK, at=OCT, template_category=None, in_service_window=True, service_sent_this_month=1000)
    assert (first.usd, first.type) == (Decimal("0"), "free_customer_service")
    assert (beyond.usd, beyond.type, beyond.category) == (Decimal("0.022"), "regular", "service")
    with pytest.raises(pmp.PricingError, match="only a template"):
        pmp.price(wa_id=UK, at=OCT, template_category=None, in_service_window=False)


def test_before_october_service_and_utility_in_the_window_are_free_and_no_card_means_a_clear_error():
    assert pmp.price(wa_id=UK, at=AUG, template_category=None, in_service_window=True,
                     service_sent_this_month=5000).free
    with pytest.raises(pmp.PricingError, match="no rate card in force on 2026-08-15"):
        pmp.price(wa_id=UK, at=AUG, template_category="MARKETING", in_service_window=False)
    with pytest.raises(pmp.PricingError, match="billed by conversation"):
        pmp.price(wa_id=UK, at=dt.datetime(2025, 6, 1, tzinfo=UTC), template_category=None, in_service_window=True)


def test_the_free_entry_point_window_grew_from_72_hours_to_7_days_on_2026_09_28():
    ad_old = dt.datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    ad_new = dt.datetime(2026, 10, 10, 12, 0, tzinfo=UTC)
    assert pmp.price(wa_id=UK, at=ad_old + dt.timedelta(hours=71), template_category="MARKETING",
                     in_service_window=True, entry_point_opened_at=ad_old).type == "free_entry_point"
    assert pmp.price(wa_id=UK, at=ad_new + dt.timedelta(days=6), template_category="MARKETING",
                     in_service_window=True, entry_point_opened_at=ad_new).type == "free_entry_point"
    assert pmp.price(wa_id=UK, at=ad_new + dt.timedelta(days=7, minutes=1), template_category="MARKETING",
                     in_service_window=True, entry_point_opened_at=ad_new).type == "regular"
    assert pmp.price(wa_id=UK, at=OCT, template_category=None, in_service_window=True, is_reaction=True).free


def test_a_new_card_is_a_new_file_picked_by_the_messages_date(tmp_path):
    cards = tmp_path / "cards"
    cards.mkdir()
    shutil.copy(pmp.CARDS_DIR / "2026-10-01.csv", cards / "2026-10-01.csv")
    text = (cards / "2026-10-01.csv").read_text().replace("2026-10-01", "2027-01-01").replace(
        "United Kingdom,0.0635", "United Kingdom,0.0700")
    (cards / "2027-01-01.csv").write_text(text)
    pmp.cards.cache_clear()
    try:
        assert pmp.price(wa_id=UK, at=OCT, template_category="MARKETING", in_service_window=False,
                         directory=cards).usd == Decimal("0.0635")
        january = dt.datetime(2027, 1, 2, tzinfo=UTC)
        p = pmp.price(wa_id=UK, at=january, template_category="MARKETING", in_service_window=False, directory=cards)
        assert (p.usd, p.card) == (Decimal("0.0700"), dt.date(2027, 1, 1))
    finally:
        pmp.cards.cache_clear()


def test_a_card_whose_rows_disagree_with_its_date_is_refused(tmp_path):
    bad = tmp_path / "2027-04-01.csv"
    bad.write_text((pmp.CARDS_DIR / "2026-10-01.csv").read_text())
    with pytest.raises(pmp.PricingError, match="is not the file's date"):
        pmp.load_card(bad)


# --- volume tiers (utility and authentication, per portfolio, market, category, month) ----------

KE = "254712345678"   # Kenya: Rest of Africa, the one market with a full tier table


@pytest.mark.parametrize("already, usd, discount", [
    (0, "0.004", None), (99_999, "0.004", None),               # messages 1 .. 100,000: list
    (100_000, "0.0038", "-5%"), (999_999, "0.0038", "-5%"),      # 100,001 .. 1,000,000
    (1_000_000, "0.0036", "-10%"), (4_499_999, "0.0036", "-10%"),
    (4_500_000, "0.0034", "-15%"), (39_999_999, "0.0034", "-15%"),
    (40_000_000, "0.0032", "-20%"), (79_999_999, "0.0032", "-20%"),
    (80_000_000, "0.0030", "-25%"), (500_000_000, "0.0030", "-25%"),
])
def test_utility_pays_the_band_that_holds_the_months_next_charged_message(already, usd, discount):
    p = pmp.price(wa_id=KE, at=OCT, template_category="UTILITY", in_service_window=False,
                  charged_this_month=already)
    assert p.market == "Rest of Africa" and p.usd == Decimal(usd)
    assert (p.band.discount if p.band and p.band.usd != Decimal("0.004") else None) == discount
    assert p.reason_key == ("price.reason.template_tier" if discount else "price.reason.template")
    if discount:
        assert dict(p.reason_params)["nth"] == str(already + 1) and discount in p.reason


def test_markets_and_categories_without_a_table_pay_list_price():
    many = 50_000_000
    assert pmp.price(wa_id=KE, at=OCT, template_category="MARKETING", in_service_window=False,
                     charged_this_month=many).usd == Decimal("0.0225")            # marketing: never tiered
    assert pmp.price(wa_id=KE, at=OCT, template_category="AUTHENTICATION", in_service_window=False,
                     charged_this_month=many).usd == Decimal("0.004")              # no authentication table
    assert pmp.price(wa_id=UK, at=OCT, template_category="UTILITY", in_service_window=False,
                     charged_this_month=many).usd == Decimal("0.022")              # no United Kingdom table
    assert pmp.price(wa_id="5511987654321", at=OCT, template_category="UTILITY", in_service_window=False,
                     charged_this_month=many).usd == Decimal("0.0068")             # Brazil: thresholds only


def test_the_tier_table_in_force_is_picked_by_the_messages_date(tmp_path):
    shutil.copy(pmp.CARDS_DIR / "2026-10-01.csv", tmp_path / "2026-10-01.csv")
    text = (pmp.CARDS_DIR / "volume_tiers-2026-10-01.csv").read_text().replace("2026-10-01", "2027-01-01")
    (tmp_path / "volume_tiers-2027-01-01.csv").write_text(text)
    pmp.cards.cache_clear(), pmp.tier_tables.cache_clear()
    try:
        args = dict(wa_id=KE, template_category="UTILITY", in_service_window=False, charged_this_month=200_000,
                    directory=tmp_path)
        assert pmp.price(at=OCT, **args).usd == Decimal("0.004")      # no table yet in October
        assert pmp.price(at=dt.datetime(2027, 1, 5, tzinfo=UTC), **args).usd == Decimal("0.0038")
    finally:
        pmp.cards.cache_clear(), pmp.tier_tables.cache_clear()


def test_a_tier_table_with_a_gap_or_no_open_end_is_refused(tmp_path):
    good = (pmp.CARDS_DIR / "volume_tiers-2026-10-01.csv").read_text()
    gap = tmp_path / "volume_tiers-2026-10-01.csv"
    gap.write_text(good.replace("100001,1000000", "100002,1000000"))
    with pytest.raises(pmp.PricingError, match="gap or overlap at message 100001"):
        pmp.load_tiers(gap)
    gap.write_text(good.replace("80000001,,", "80000001,90000000,"))
    with pytest.raises(pmp.PricingError, match="no open-ended last band"):
        pmp.load_tiers(gap)
    gap.write_text(good.replace("Rest of Africa,utility,0,", "Rest of Africa,marketing,0,"))
    with pytest.raises(pmp.PricingError, match="a market and a category"):
        pmp.load_tiers(gap)


def test_every_reason_has_catalog_keys_in_english_and_japanese_with_the_same_words():
    import json
    import re

    cats = {loc: json.loads((pmp.CARDS_DIR.parents[1] / "i18n" / f"{loc}.json").read_text(encoding="utf-8"))
            for loc in ("en", "ja")}
    ad = OCT - dt.timedelta(hours=1)
    prices = [
        pmp.price(wa_id=UK, at=OCT, template_category=None, in_service_window=True, is_reaction=True),
        pmp.price(wa_id=UK, at=OCT, template_category="MARKETING", in_service_window=True, entry_point_opened_at=ad),
        pmp.price(wa_id=UK, at=AUG, template_category=None, in_service_window=True),
        pmp.price(wa_id=UK, at=OCT, template_category=None, in_service_window=True),
        pmp.price(wa_id=UK, at=OCT, template_category=None, in_service_window=True, service_sent_this_month=5000),
        pmp.price(wa_id=UK, at=AUG, template_category="UTILITY", in_service_window=True),
        pmp.price(wa_id=UK, at=OCT, template_category="MARKETING", in_service_window=False),
        pmp.price(wa_id=KE, at=OCT, template_category="UTILITY", in_service_window=False, charged_this_month=10**6),
    ]
    assert len({p.reason_key for p in prices}) == len(prices)
    for p in prices:
        params = dict(p.reason_params)
        for loc, cat in cats.items():
            assert p.reason_key in cat, f"{loc}: {p.reason_key}"
            assert set(re.findall(r"\{(\w+)\}", cat[p.reason_key])) == set(params), (loc, p.reason_key)
        if "category" in params:
            assert all(f"price.category.{params['category']}" in cat for cat in cats.values())
    assert re.search(r"[\u3040-\u30ff]", cats["ja"]["price.reason.template_tier"])
