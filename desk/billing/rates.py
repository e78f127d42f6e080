"""Per-conversation rates by market (USD), from the source document's table.

`whatsapp_conversation_rates.csv` (beside this module; a copy of the shared
`data/whatsapp_conversation_rates.csv`) has the columns `market, market_ja,
business_initiated_usd, user_initiated_usd`. Amounts are read as exact decimals;
a malformed file is refused when loaded, with the line that is wrong.
"""
from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from desk.models import ConversationCategory

RATES_FILE = Path(__file__).with_name("whatsapp_conversation_rates.csv")
COLUMNS = ("market", "market_ja", "business_initiated_usd", "user_initiated_usd")
FALLBACK_MARKET = "Other"


class RatesError(ValueError):
    """The rates file cannot be used."""


@dataclass(frozen=True)
class MarketRate:
    market: str
    market_ja: str
    business_initiated: Decimal
    user_initiated: Decimal

    def for_category(self, category: ConversationCategory) -> Decimal:
        category = ConversationCategory(category)
        return (self.business_initiated if category == ConversationCategory.business_initiated
                else self.user_initiated)


class RateCard:
    def __init__(self, rates: dict[str, MarketRate]):
        if FALLBACK_MARKET not in rates:
            raise RatesError(f"the rates have no '{FALLBACK_MARKET}' market for numbers of other countries")
        self.rates = rates

    @property
    def markets(self) -> list[str]:
        return list(self.rates)

    def get(self, market: str) -> MarketRate:
        try:
            return self.rates[market]
        except KeyError:
            raise RatesError(f"no rate for market {market!r}") from None

    def rate(self, market: str, category: ConversationCategory) -> Decimal:
        return self.get(market).for_category(category)


def _amount(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise RatesError(f"{where}: {text!r} is not an amount") from None
    if not value.is_finite() or value < 0:
        raise RatesError(f"{where}: {text!r} is not an amount of USD")
    if value != value.quantize(Decimal("0.000001")):
        raise RatesError(f"{where}: {text!r} has more than 6 decimal places")
    return value


def load(path: Path | str = RATES_FILE) -> RateCard:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RatesError(f"cannot read the rates file {path}: {exc.strerror}") from None
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise RatesError(f"{path.name}: expected the columns {', '.join(COLUMNS)}, "
                         f"found {', '.join(reader.fieldnames or ())}")
    rates: dict[str, MarketRate] = {}
    for line, row in enumerate(reader, start=2):
        where = f"{path.name} line {line}"
        market = (row["market"] or "").strip()
        if not market:
            raise RatesError(f"{where}: no market name")
        if market in rates:
            raise RatesError(f"{where}: market {market!r} appears twice")
        rates[market] = MarketRate(market, (row["market_ja"] or "").strip(),
                                   _amount(row["business_initiated_usd"] or "", where),
                                   _amount(row["user_initiated_usd"] or "", where))
    return RateCard(rates)


@functools.lru_cache(maxsize=1)
def default_card() -> RateCard:
    return load(RATES_FILE)
