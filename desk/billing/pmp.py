"""Meta's per-message pricing (PMP), the second pricing model beside the source
document's conversations (desk.billing.policy): the price of one message before it
is sent, from rate cards that are data files.

- Rate cards: `pmp_cards/<effective date>.csv` (market, marketing, utility,
  authentication, authentication-international, service, USD per delivered
  message). The card in force on a message's date is the newest one effective on
  or before it: a price change is a new file, never a code change.
- Markets: `pmp_cards/market_countries.csv` maps ISO countries to Meta's markets
  (any other country is "Other"); a user's country comes from their number or
  BSUID (desk.billing.markets.region_of).
- The rules, as Meta states them (../shared/data/pmp/README.md), by the message's date:
  inbound messages and reactions are free; inside a free entry point window (a
  click-to-WhatsApp ad or Page button: 72 hours, up to 7 days since 2026-09-28)
  everything is free; service (non-template) messages are free until 2026-09-30 and
  from 2026-10-01 charged at the market's service rate beyond the number's first
  1,000 delivered service messages of the calendar month; utility templates inside
  an open customer-service window are free from 2025-07-01 to 2026-09-30 and
  charged from 2026-10-01; marketing and authentication templates always cost the
  market's rate.

Wired into the send path by desk.billing.per_message for a WABA whose pricing model
is "pmp" (the others keep the conversation model of desk.billing.policy). Volume
tiers (utility and authentication, per portfolio) are not applied: list prices are
the ceiling, and Meta's status `pricing` settles the difference.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

CARDS_DIR = Path(__file__).with_name("pmp_cards")
MARKETS_FILE = CARDS_DIR / "market_countries.csv"
FALLBACK_MARKET = "Other"
CATEGORIES = ("marketing", "utility", "authentication", "authentication_international", "service")

SERVICE_CHARGED_FROM = dt.date(2026, 10, 1)
UTILITY_IN_WINDOW_CHARGED_FROM = dt.date(2026, 10, 1)
PMP_STARTED = dt.date(2025, 7, 1)
FREE_SERVICE_PER_NUMBER_PER_MONTH = 1000
ENTRY_POINT_WINDOW_UNTIL_2026_09_28 = dt.timedelta(hours=72)
ENTRY_POINT_WINDOW_SINCE_2026_09_28 = dt.timedelta(days=7)
ENTRY_POINT_LONGER_FROM = dt.date(2026, 9, 28)


class PricingError(ValueError):
    """No price can be given (no card for the date, an unknown category or market)."""


@dataclass(frozen=True)
class Card:
    effective_from: dt.date
    rates: dict[str, dict[str, Decimal | None]]  # market -> category -> USD (None: not published)

    def rate(self, market: str, category: str) -> Decimal:
        row = self.rates.get(market) or self.rates[FALLBACK_MARKET]
        value = row.get(category)
        if value is None and category == "authentication_international":
            value = row.get("authentication")  # not published for the market: the domestic rate applies
        if value is None:
            raise PricingError(f"the {self.effective_from} card has no {category} rate for {market}")
        return value


def _decimal(text: str | None) -> Decimal | None:
    text = (text or "").strip()
    return Decimal(text) if text else None


def load_card(path: Path) -> Card:
    effective = dt.date.fromisoformat(path.stem)
    rates: dict[str, dict[str, Decimal | None]] = {}
    with path.open(encoding="utf-8-sig") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            market = (row.get("market") or "").strip()
            if not market or market in rates:
                raise PricingError(f"{path.name} line {line}: no market, or {market!r} twice")
            if (row.get("effective_from") or path.stem) != path.stem:
                raise PricingError(f"{path.name} line {line}: effective_from {row['effective_from']} "
                                   f"is not the file's date")
            rates[market] = {c: _decimal(row.get(f"{c}_usd")) for c in CATEGORIES}
    if FALLBACK_MARKET not in rates:
        raise PricingError(f"{path.name}: no '{FALLBACK_MARKET}' market")
    return Card(effective, rates)


@functools.lru_cache(maxsize=4)
def cards(directory: Path = CARDS_DIR) -> tuple[Card, ...]:
    found = sorted((load_card(p) for p in directory.glob("????-??-??.csv")), key=lambda c: c.effective_from)
    if not found:
        raise PricingError(f"no rate card in {directory}")
    return tuple(found)


def card_for(day: dt.date, directory: Path = CARDS_DIR) -> Card:
    """The card in force on `day`: the newest effective on or before it."""
    usable = [c for c in cards(directory) if c.effective_from <= day]
    if not usable:
        raise PricingError(f"no rate card in force on {day} (the first is {cards(directory)[0].effective_from})")
    return usable[-1]


@functools.lru_cache(maxsize=1)
def _market_of_country() -> dict[str, str]:
    with MARKETS_FILE.open(encoding="utf-8-sig") as f:
        return {row["country_iso2"].strip(): row["market"].strip() for row in csv.DictReader(f)}


def market_of(wa_id: str) -> str:
    """The PMP market of a user (phone or BSUID); "Other" when their country has none."""
    from desk.billing.markets import MarketError, region_of

    try:
        region = region_of(wa_id)
    except MarketError:
        return FALLBACK_MARKET
    return _market_of_country().get(region or "", FALLBACK_MARKET)


@dataclass(frozen=True)
class Price:
    usd: Decimal
    category: str            # Meta's pricing category of the message
    type: str                # regular | free_customer_service | free_entry_point (as in status webhooks)
    market: str
    card: dt.date | None     # the card's effective date, when one was used
    reason: str              # why, for people

    @property
    def free(self) -> bool:
        return self.usd == 0


def entry_point_window(opened_at: dt.datetime) -> dt.timedelta:
    return (ENTRY_POINT_WINDOW_SINCE_2026_09_28 if opened_at.date() >= ENTRY_POINT_LONGER_FROM
            else ENTRY_POINT_WINDOW_UNTIL_2026_09_28)


def price(*, wa_id: str, at: dt.datetime, template_category: str | None, in_service_window: bool,
          entry_point_opened_at: dt.datetime | None = None, service_sent_this_month: int = 0,
          is_reaction: bool = False, directory: Path = CARDS_DIR) -> Price:
    """What one outbound message costs, known before it is sent.

    `template_category`: MARKETING | UTILITY | AUTHENTICATION | AUTHENTICATION_INTERNATIONAL
    for a template, None for a service (free-form) message. `service_sent_this_month`:
    the number's delivered service messages so far this calendar month.
    """
    market = market_of(wa_id)
    day = at.date()
    category = (template_category or "service").lower()
    if category not in CATEGORIES:
        raise PricingError(f"unknown template category {template_category!r}")
    if day < PMP_STARTED:
        raise PricingError(f"per-message pricing started on {PMP_STARTED}; {day} is billed by conversation")

    def free(kind: str, why: str) -> Price:
        return Price(Decimal("0"), category, kind, market, None, why)

    if is_reaction:
        return free("free_customer_service", "reactions are free")
    if entry_point_opened_at is not None and at < entry_point_opened_at + entry_point_window(entry_point_opened_at):
        return free("free_entry_point", "inside a free entry point window (click-to-WhatsApp ad or Page button)")
    if category == "service":
        if not in_service_window:
            raise PricingError("outside the customer-service window only a template may be sent")
        if day < SERVICE_CHARGED_FROM:
            return free("free_customer_service", "service messages are free until 2026-09-30")
        if service_sent_this_month < FREE_SERVICE_PER_NUMBER_PER_MONTH:
            return free("free_customer_service", f"one of the number's {FREE_SERVICE_PER_NUMBER_PER_MONTH} free "
                                                 "service messages this month")
        card = card_for(day, directory)
        return Price(card.rate(market, "service"), category, "regular", market, card.effective_from,
                     f"service message beyond the month's {FREE_SERVICE_PER_NUMBER_PER_MONTH} free ones")
    if category == "utility" and in_service_window and day < UTILITY_IN_WINDOW_CHARGED_FROM:
        return free("free_customer_service", "utility templates inside the window are free until 2026-09-30")
    card = card_for(day, directory)
    return Price(card.rate(market, category), category, "regular", market, card.effective_from,
                 f"{category.replace('_', ' ')} template, {market} rate")
