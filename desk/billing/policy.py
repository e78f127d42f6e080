"""The pricing rules of the source document, in one replaceable place.

- A conversation is a 24-hour window between a business number and a user; every
  message inside an open window costs nothing more.
- It is *user-initiated* when the business answers inside the user's 24-hour
  customer-service window, *business-initiated* when the business opens it (outside
  that window, which only an approved template may do).
- Each WABA (all its numbers together) gets its first 1,000 conversations of every
  calendar month free; unused ones do not carry over.
- After that, prepaid credits: one credit is USD 2.00, each purchase adds a 3% fee
  (2 credits: 4.00 + 0.12 = 4.12); each conversation is deducted at its market rate
  (`rates.py`).

The free-tier month is counted in **UTC**: Meta's webhooks, conversation expiry
timestamps and the Cloud API all speak UTC epoch seconds, the desk stores UTC, and a
WABA's numbers may sit in several time zones, so one zone that does not depend on
the server's locale or on daylight saving is the only count that every process
(and Meta's own monthly statement) agrees on. A conversation counts in the month in
which it opened.

Meta's pricing has moved on since the source document (service conversations free
since 2024-11, per-message pricing since 2025-07); changing these rules means
changing this module and `rates.py`.
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from desk.models import ConversationCategory

WINDOW = dt.timedelta(hours=24)            # a conversation's length, and the customer-service window
FREE_TIER_PER_MONTH = 1000                 # per WABA, per calendar month (UTC)
FREE_TIER_TZ = dt.timezone.utc
CREDIT_PRICE_USD = Decimal("2.00")
PURCHASE_FEE_RATE = Decimal("0.03")
MAX_CREDITS_PER_PURCHASE = 100_000
DEFAULT_LOW_BALANCE_USD = Decimal("10.00")  # admins are warned below this balance

MICROS = Decimal(1_000_000)
CENT = Decimal("0.01")


def to_micros(usd: Decimal) -> int:
    """USD as integer micro-dollars; refuses amounts finer than a micro-dollar."""
    value = Decimal(usd) * MICROS
    if value != value.to_integral_value():
        raise ValueError(f"USD {usd} has more than 6 decimal places")
    return int(value)


def from_micros(micros: int) -> Decimal:
    return (Decimal(int(micros)) / MICROS).quantize(Decimal("0.000001"))


def usd(amount: Decimal) -> str:
    """For people: at least cents, more digits only when the amount has them (0.0147)."""
    amount = Decimal(amount).normalize()
    places = max(2, -amount.as_tuple().exponent) if amount.as_tuple().exponent < 0 else 2
    return f"{amount:.{places}f}"


def month_of(at: dt.datetime) -> str:
    """The free-tier month ("YYYY-MM") of an instant."""
    if at.tzinfo is None:
        raise ValueError("a naive datetime has no month: give a timezone-aware one")
    return at.astimezone(FREE_TIER_TZ).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a month "YYYY-MM" in the free-tier time zone."""
    try:
        start = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=FREE_TIER_TZ)
    except (TypeError, ValueError):
        raise ValueError(f"not a month of the form YYYY-MM: {month!r}") from None
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def window_open(last_user_message_at: dt.datetime | None, now: dt.datetime) -> bool:
    """The user's customer-service window: open for 24 hours after they last wrote."""
    return last_user_message_at is not None and now - last_user_message_at < WINDOW


def category_for(window_is_open: bool) -> ConversationCategory:
    """Inside the customer-service window a reply opens a user-initiated conversation;
    outside it the business opens a business-initiated one (with a template)."""
    return ConversationCategory.user_initiated if window_is_open else ConversationCategory.business_initiated


def purchase_price(credits: int) -> tuple[Decimal, Decimal, Decimal]:
    """(value credited, fee, total paid) in USD for buying `credits` credits."""
    if isinstance(credits, bool) or not isinstance(credits, int):
        raise ValueError(f"credits must be a whole number, not {credits!r}")
    if not 1 <= credits <= MAX_CREDITS_PER_PURCHASE:
        raise ValueError(f"buy between 1 and {MAX_CREDITS_PER_PURCHASE:,} credits at a time, not {credits}")
    value = CREDIT_PRICE_USD * credits
    fee = (value * PURCHASE_FEE_RATE).quantize(CENT, rounding=ROUND_HALF_UP)
    return value, fee, value + fee


# Meta's names for a conversation's category (status webhooks' `conversation.origin.type`
# and `pricing.category`): the 2022 names, and the later per-category ones.
META_CATEGORY = {
    "user_initiated": ConversationCategory.user_initiated,
    "service": ConversationCategory.user_initiated,
    "business_initiated": ConversationCategory.business_initiated,
    "marketing": ConversationCategory.business_initiated,
    "utility": ConversationCategory.business_initiated,
    "authentication": ConversationCategory.business_initiated,
    "authentication_international": ConversationCategory.business_initiated,
}
FREE_META_CATEGORIES = {"referral_conversion"}  # free entry point conversations
