"""The source document's pricing rules as plain functions: purchases, months, windows,
rates, markets (no database)."""
import datetime as dt
from decimal import Decimal

import pytest

from desk.billing import markets, policy, rates
from desk.models import ConversationCategory
from tests.billing.helpers import at

UI, BI = ConversationCategory.user_initiated, ConversationCategory.business_initiated


@pytest.mark.parametrize("credits,value,fee,total", [
    (2, "4.00", "0.12", "4.12"),     # the source document's example
    (1, "2.00", "0.06", "2.06"),
    (7, "14.00", "0.42", "14.42"),
    (333, "666.00", "19.98", "685.98"),
    (100_000, "200000.00", "6000.00", "206000.00"),
])
def test_purchase_price_is_two_dollars_a_credit_plus_three_percent(credits, value, fee, total):
    got = policy.purchase_price(credits)
    assert got == (Decimal(value), Decimal(fee), Decimal(total))
    assert all(isinstance(x, Decimal) for x in got)


@pytest.mark.parametrize("bad", [0, -1, 100_001, 1.5, "2", True, None])
def test_purchase_of_a_bad_number_of_credits_is_refused(bad):
    with pytest.raises(ValueError, match="credits"):
        policy.purchase_price(bad)


@pytest.mark.parametrize("instant,month", [
    ("2026-10-31T23:59:59.999999Z", "2026-10"),
    ("2026-11-01T00:00:00Z", "2026-11"),
    ("2026-11-01T08:59:59+09:00", "2026-10"),   # Tokyo's November 1st morning is still October in UTC
    ("2026-10-31T20:00:00-05:00", "2026-11"),
    ("2026-12-31T23:59:59Z", "2026-12"),
    ("2027-01-01T00:00:00Z", "2027-01"),
])
def test_the_free_tier_month_is_counted_in_utc(instant, month):
    assert policy.month_of(at(instant)) == month


def test_month_bounds_and_bad_months():
    assert policy.month_bounds("2026-12") == (at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))
    assert policy.month_bounds("2028-02")[1] - policy.month_bounds("2028-02")[0] == dt.timedelta(days=29)
    for bad in ("2026-13", "2026/11", "11-2026", "", None):
        with pytest.raises(ValueError, match="YYYY-MM"):
            policy.month_bounds(bad)
    with pytest.raises(ValueError, match="naive"):
        policy.month_of(dt.datetime(2026, 11, 1))


def test_the_window_closes_at_exactly_24_hours():
    wrote = at("2026-11-10T12:00:00Z")
    assert policy.window_open(wrote, wrote + dt.timedelta(hours=24) - dt.timedelta(microseconds=1))
    assert not policy.window_open(wrote, wrote + dt.timedelta(hours=24))
    assert not policy.window_open(None, wrote)
    assert policy.category_for(True) == UI and policy.category_for(False) == BI


def test_money_is_exact_micro_dollars():
    assert policy.to_micros(Decimal("0.0147")) == 14_700
    assert policy.from_micros(14_700) == Decimal("0.014700")
    assert sum(policy.to_micros(Decimal("0.1")) for _ in range(10)) == policy.to_micros(Decimal("1"))
    with pytest.raises(ValueError, match="6 decimal places"):
        policy.to_micros(Decimal("0.0000001"))
    assert policy.usd(Decimal("4.12")) == "4.12" and policy.usd(Decimal("0.0147")) == "0.0147"
    assert policy.usd(Decimal("10")) == "10.00"


def test_the_rates_are_the_source_documents_table():
    card = rates.default_card()
    assert len(card.markets) == 32
    assert card.rate("Germany", BI) == Decimal("0.1365") and card.rate("Germany", UI) == Decimal("0.0819")
    assert card.rate("India", UI) == Decimal("0.0040") and card.rate("Netherlands", BI) == Decimal("0.1485")
    assert card.rate("Other", BI) == Decimal("0.0483")
    assert card.get("Rest of Asia Pacific").market_ja == "アジア太平洋残余"
    with pytest.raises(rates.RatesError, match="no rate for market"):
        card.rate("Atlantis", UI)


def test_the_shipped_rates_match_the_shared_file():
    from pathlib import Path
    shared = Path("/work/shared/data/whatsapp_conversation_rates.csv")
    if not shared.exists():
        pytest.skip("the shared rates file is not on this machine")
    assert rates.load(shared).rates == rates.default_card().rates


@pytest.mark.parametrize("text,error", [
    ("market,market_ja,business_initiated_usd\nOther,x,0.1\n", "expected the columns"),
    ("market,market_ja,business_initiated_usd,user_initiated_usd\nOther,x,abc,0.1\n", "line 2: 'abc' is not an amount"),
    ("market,market_ja,business_initiated_usd,user_initiated_usd\nOther,x,-0.1,0.1\n", "not an amount of USD"),
    ("market,market_ja,business_initiated_usd,user_initiated_usd\nOther,x,0.1,0.1\nOther,y,0.2,0.2\n", "appears twice"),
    ("market,market_ja,business_initiated_usd,user_initiated_usd\nSpain,x,0.1,0.1\n", "no 'Other' market"),
    ("market,market_ja,business_initiated_usd,user_initiated_usd\nOther,x,0.00000001,0.1\n", "6 decimal places"),
])
def test_a_malformed_rates_file_is_refused_with_the_reason(tmp_path, text, error):
    path = tmp_path / "rates.csv"
    path.write_text(text)
    with pytest.raises(rates.RatesError, match=error):
        rates.load(path)
    with pytest.raises(rates.RatesError, match="cannot read"):
        rates.load(tmp_path / "missing.csv")


@pytest.mark.parametrize("wa_id,market", [
    ("12125550100", "North America"),        # New York
    ("14165550100", "North America"),        # Toronto
    ("17875550100", "Rest of Latin America"),  # +1 787: Puerto Rico, not the US
    ("18765550100", "Rest of Latin America"),  # Jamaica
    ("447700900001", "United Kingdom"),      # a drama number: the country code decides
    ("+4915112345678", "Germany"),
    ("5511987654321", "Brazil"),
    ("919876543210", "India"),
    ("41791234567", "Rest of Western Europe"),  # Switzerland
    ("85291234567", "Rest of Asia Pacific"),    # Hong Kong
    ("254712345678", "Rest of Africa"),         # Kenya
    ("48512345678", "Rest of Central & Eastern Europe"),  # Poland
    ("97455123456", "Rest of Middle East"),     # Qatar
    ("971501234567", "United Arab Emirates"),
    ("6591234567", "Rest of Asia Pacific"),     # Singapore
    ("3545512345", "Other"),                    # Iceland is in no group
    ("88212345678", "Other"),                   # international networks
])
def test_a_users_market_comes_from_their_number(wa_id, market):
    assert markets.market_for(wa_id) == market


@pytest.mark.parametrize("bad", ["", "abc", "12", "1234567890123456", "+44 7700 900001", None])
def test_a_bad_whatsapp_id_has_no_market(bad):
    with pytest.raises(markets.MarketError):
        markets.market_for(bad)


def test_every_mapped_market_has_a_rate():
    card = rates.default_card()
    assert set(markets.MARKET_OF_REGION.values()) <= set(card.markets)
