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

- Volume tiers: `pmp_cards/volume_tiers-<effective date>.csv` (market, category,
  messages_from, messages_to, rate_usd). Utility and authentication only, per
  business portfolio (a brand here), per market and category, per calendar month,
  counting charged messages; marginal bands: the n-th charged message of the month
  costs the rate of the band that holds n. A market or category without a table
  pays the card's list price. The table in force is the newest effective on or
  before the message's date. (Meta's Brazil table is known only by its thresholds,
  without rates, so it is left out: Brazil pays list price, Meta's status `pricing`
  settles any difference.)

Wired into the send path by desk.billing.per_message for a WABA whose pricing model
is "pmp" (the others keep the conversation model of desk.billing.policy).

Each price's `reason` is English (logs, ledger notes); `reason_key` and
`reason_params` say it in the console's catalogs (desk/i18n, keys `price.reason.*`).
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


TIERED_CATEGORIES = ("utility", "authentication")


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


@dataclass(frozen=True)
class Band:
    first: int               # the band holds the month's first..last charged message (1-based)
    last: int | None         # None: no upper end
    usd: Decimal
    discount: str            # as Meta writes it: "0%", "-5%" ...


@dataclass(frozen=True)
class TierTable:
    effective_from: dt.date
    bands: dict[tuple[str, str], tuple[Band, ...]]  # (market, category) -> bands in order

    def band(self, market: str, category: str, nth: int) -> Band | None:
        """The band of the month's `nth` charged message (1-based), None without a table."""
        for band in self.bands.get((market, category), ()):
            if band.first <= nth and (band.last is None or nth <= band.last):
                return band
        return None


def load_tiers(path: Path) -> TierTable:
    """A volume tier table; its bands must follow each other without gap or overlap,
    the last one open-ended."""
    effective = dt.date.fromisoformat(path.stem.removeprefix("volume_tiers-"))
    rows: dict[tuple[str, str], list[Band]] = {}
    with path.open(encoding="utf-8-sig") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            where = f"{path.name} line {line}"
            market, category = (row.get("market") or "").strip(), (row.get("category") or "").strip().lower()
            if not market or category not in TIERED_CATEGORIES:
                raise PricingError(f"{where}: a market and a category of {', '.join(TIERED_CATEGORIES)} are needed")
            if (row.get("effective_from") or str(effective)) != str(effective):
                raise PricingError(f"{where}: effective_from {row['effective_from']} is not the file's date")
            try:
                first = int(row["messages_from"])
                last = int(row["messages_to"]) if (row.get("messages_to") or "").strip() else None
            except (KeyError, TypeError, ValueError):
                raise PricingError(f"{where}: messages_from / messages_to must be whole numbers") from None
            usd = _decimal(row.get("rate_usd"))
            if usd is None:
                raise PricingError(f"{where}: no rate_usd")
            rows.setdefault((market, category), []).append(
                Band(max(first, 1), last, usd, (row.get("discount_vs_list") or "").strip()))
    for (market, category), bands in rows.items():
        bands.sort(key=lambda b: b.first)
        expected = 1
        for band in bands:
            if band.first != expected or (band.last is not None and band.last < band.first):
                raise PricingError(f"{path.name}: the {market} {category} bands leave a gap or overlap "
                                   f"at message {expected}")
            expected = band.last + 1 if band.last is not None else None
            if expected is None and band is not bands[-1]:
                raise PricingError(f"{path.name}: the {market} {category} bands go on after an open-ended one")
        if bands[-1].last is not None:
            raise PricingError(f"{path.name}: the {market} {category} table has no open-ended last band")
    return TierTable(effective, {k: tuple(v) for k, v in rows.items()})


@functools.lru_cache(maxsize=4)
def tier_tables(directory: Path = CARDS_DIR) -> tuple[TierTable, ...]:
    return tuple(sorted((load_tiers(p) for p in directory.glob("volume_tiers-????-??-??.csv")),
                        key=lambda t: t.effective_from))


def tiers_for(day: dt.date, directory: Path = CARDS_DIR) -> TierTable | None:
    usable = [t for t in tier_tables(directory) if t.effective_from <= day]
    return usable[-1] if usable else None


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
    reason: str              # why, for people (English: logs, ledger notes)
    reason_key: str = ""     # the same in the console's catalogs (desk/i18n: price.reason.*)
    reason_params: tuple[tuple[str, str], ...] = ()
    band: Band | None = None  # the volume tier band used, if any

    def reason_json(self) -> dict:
        return {"reason": self.reason, "reason_key": self.reason_key or None,
                "reason_params": dict(self.reason_params)}

    @property
    def free(self) -> bool:
        return self.usd == 0


def entry_point_window(opened_at: dt.datetime) -> dt.timedelta:
    return (ENTRY_POINT_WINDOW_SINCE_2026_09_28 if opened_at.date() >= ENTRY_POINT_LONGER_FROM
            else ENTRY_POINT_WINDOW_UNTIL_2026_09_28)


def price(*, wa_id: str, at: dt.datetime, template_category: str | None, in_service_window: bool,
          entry_point_opened_at: dt.datetime | None = None, service_sent_this_month: int = 0,
          is_reaction: bool = False, charged_this_month: int = 0, directory: Path = CARDS_DIR) -> Price:
    """What one outbound message costs, known before it is sent.

    `template_category`: MARKETING | UTILITY | AUTHENTICATION | AUTHENTICATION_INTERNATIONAL
    for a template, None for a service (free-form) message. `service_sent_this_month`:
    the number's delivered service messages so far this calendar month.
    `charged_this_month`: the portfolio's (brand's) charged messages of the user's
    market and the template's category so far this calendar month (volume tiers).
    """
    market = market_of(wa_id)
    day = at.date()
    category = (template_category or "service").lower()
    if category not in CATEGORIES:
        raise PricingError(f"unknown template category {template_category!r}")
    if day < PMP_STARTED:
        raise PricingError(f"per-message pricing started on {PMP_STARTED}; {day} is billed by conversation")

    def free(kind: str, why: str, key: str, **params) -> Price:
        return Price(Decimal("0"), category, kind, market, None, why, f"price.reason.{key}",
                     tuple((k, str(v)) for k, v in params.items()))

    free_service = FREE_SERVICE_PER_NUMBER_PER_MONTH
    if is_reaction:
        return free("free_customer_service", "reactions are free", "reaction")
    if entry_point_opened_at is not None and at < entry_point_opened_at + entry_point_window(entry_point_opened_at):
        return free("free_entry_point", "inside a free entry point window (click-to-WhatsApp ad or Page button)",
                    "entry_point")
    if category == "service":
        if not in_service_window:
            raise PricingError("outside the customer-service window only a template may be sent")
        if day < SERVICE_CHARGED_FROM:
            return free("free_customer_service", "service messages are free until 2026-09-30", "service_free_until",
                        date=SERVICE_CHARGED_FROM - dt.timedelta(days=1))
        if service_sent_this_month < free_service:
            return free("free_customer_service", f"one of the number's {free_service} free service messages "
                        "this month", "service_free_quota", free=free_service)
        card = card_for(day, directory)
        return Price(card.rate(market, "service"), category, "regular", market, card.effective_from,
                     f"service message beyond the month's {free_service} free ones", "price.reason.service_beyond",
                     (("free", str(free_service)),))
    if category == "utility" and in_service_window and day < UTILITY_IN_WINDOW_CHARGED_FROM:
        return free("free_customer_service", "utility templates inside the window are free until 2026-09-30",
                    "utility_free_until", date=UTILITY_IN_WINDOW_CHARGED_FROM - dt.timedelta(days=1))
    card = card_for(day, directory)
    list_rate = card.rate(market, category)
    tiers = tiers_for(day, directory) if category in TIERED_CATEGORIES else None
    nth = charged_this_month + 1
    band = tiers.band(market, category, nth) if tiers is not None else None
    if band is not None and band.usd != list_rate:
        return Price(band.usd, category, "regular", market, card.effective_from,
                     f"{category.replace('_', ' ')} template, {market} volume tier {band.discount} "
                     f"(message {nth} of the month)", "price.reason.template_tier",
                     (("category", category), ("market", market), ("discount", band.discount), ("nth", str(nth))),
                     band)
    return Price(list_rate, category, "regular", market, card.effective_from,
                 f"{category.replace('_', ' ')} template, {market} rate", "price.reason.template",
                 (("category", category), ("market", market)), band)
