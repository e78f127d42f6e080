"""Prepaid credits: an append-only ledger per brand; balances are its sum.

Every change of a brand's balance is one `credit_ledger` row (the database refuses
UPDATE and DELETE on it): a purchase (+2.00 USD per credit; the 3% fee is recorded
beside it, paid on top, not credited), a conversation's charge (−rate), a
reconciliation with Meta's figures, a refund or an admin's adjustment.

Charges of one brand are serialized by `lock_brand()`: an UPDATE of the brand's
`billing_accounts` row, the first statement of the critical section. On PostgreSQL
the UPDATE takes the row's lock until commit (as SELECT ... FOR UPDATE would); on
SQLite any write takes the database's single write lock until commit, and because
the UPDATE comes before the balance is read, the read sees every earlier commit
(WAL gives a writer the newest snapshot). Two sends racing for the last credit
therefore run one after the other and the second sees the first's charge.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from desk.billing import policy
from desk.models import BillingAccount, Brand, CreditEntry, utcnow

log = logging.getLogger(__name__)

KINDS = ("purchase", "conversation", "message", "reconciliation", "refund", "adjustment")


class LedgerError(ValueError):
    """A refused ledger operation; the message says why."""


@dataclass(frozen=True)
class Purchase:
    entry_id: int
    credits: int
    value: Decimal   # what the balance grows by
    fee: Decimal     # the 3% fee, paid on top
    total: Decimal   # what the buyer pays
    balance: Decimal


@dataclass(frozen=True)
class AccountStatus:
    brand_id: int
    balance: Decimal
    credits: Decimal            # the balance in credits (USD 2.00 each)
    low_balance_threshold: Decimal
    low_balance: bool
    warning: str | None


async def ensure_account(session: AsyncSession, brand_id: int) -> None:
    """The brand's account row (created once, race-free on both databases)."""
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert(BillingAccount).values(
        brand_id=brand_id, low_balance_micros=policy.to_micros(policy.DEFAULT_LOW_BALANCE_USD),
        lock_version=0, created_at=utcnow()).on_conflict_do_nothing(index_elements=["brand_id"]))


async def lock_brand(session: AsyncSession, brand_id: int) -> None:
    """Hold the brand's billing lock until the caller's transaction ends."""
    await ensure_account(session, brand_id)
    done = await session.execute(update(BillingAccount).where(BillingAccount.brand_id == brand_id)
                                 .values(lock_version=BillingAccount.lock_version + 1)
                                 .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise LedgerError(f"no billing account for brand {brand_id}")


async def balance_micros(session: AsyncSession, brand_id: int) -> int:
    total = (await session.execute(select(func.coalesce(func.sum(CreditEntry.amount_micros), 0))
                                   .where(CreditEntry.brand_id == brand_id))).scalar_one()
    return int(total)


async def balance(session: AsyncSession, brand_id: int) -> Decimal:
    """The brand's balance in USD (the ledger's sum)."""
    return policy.from_micros(await balance_micros(session, brand_id))


async def append(session: AsyncSession, brand_id: int, kind: str, amount_micros: int, *,
                 credits: int | None = None, fee_micros: int = 0, conversation_id: int | None = None,
                 message_charge_id: int | None = None, note: str | None = None, by: str | None = None,
                 at: dt.datetime | None = None) -> CreditEntry:
    """Add one ledger row (the caller holds the brand's lock when balances matter)."""
    if kind not in KINDS:
        raise LedgerError(f"unknown ledger entry kind {kind!r}")
    entry = CreditEntry(brand_id=brand_id, kind=kind, amount_micros=int(amount_micros), credits=credits,
                        fee_micros=int(fee_micros), conversation_id=conversation_id,
                        message_charge_id=message_charge_id, note=note,
                        created_by=by, created_at=at or utcnow())
    session.add(entry)
    await session.flush()
    return entry


async def _brand(session: AsyncSession, brand_id: int) -> Brand:
    brand = await session.get(Brand, brand_id)
    if brand is None:
        raise LedgerError(f"no brand {brand_id}")
    return brand


async def buy_credits(session: AsyncSession, brand_id: int, credits: int, *, by: str,
                      note: str | None = None, at: dt.datetime | None = None) -> Purchase:
    """An admin buys `credits` credits for a brand: USD 2.00 each plus a 3% fee.

    Payment itself happens outside the desk (the source document's "Pay" step);
    this records that it was paid.
    """
    try:
        value, fee, total = policy.purchase_price(credits)
    except ValueError as exc:
        raise LedgerError(str(exc)) from None
    if not (by or "").strip():
        raise LedgerError("say who bought the credits")
    await _brand(session, brand_id)
    await lock_brand(session, brand_id)
    entry = await append(session, brand_id, "purchase", policy.to_micros(value), credits=credits,
                         fee_micros=policy.to_micros(fee), note=note, by=by.strip(), at=at)
    new_balance = await balance(session, brand_id)
    log.info("billing: brand %s bought %s credits (USD %s + fee %s = %s); balance USD %s",
             brand_id, credits, value, fee, total, new_balance)
    return Purchase(entry.id, credits, value, fee, total, new_balance)


async def adjust(session: AsyncSession, brand_id: int, amount: Decimal, *, by: str, note: str) -> CreditEntry:
    """An admin's correction (positive or negative USD), with a reason."""
    if not (note or "").strip():
        raise LedgerError("an adjustment needs a note saying why")
    try:
        micros = policy.to_micros(Decimal(amount))
    except (ArithmeticError, ValueError):
        raise LedgerError(f"not an amount of USD: {amount!r}") from None
    if micros == 0:
        raise LedgerError("an adjustment of 0 changes nothing")
    await _brand(session, brand_id)
    await lock_brand(session, brand_id)
    return await append(session, brand_id, "adjustment", micros, note=note.strip(), by=by)


async def set_low_balance_threshold(session: AsyncSession, brand_id: int, amount: Decimal) -> None:
    try:
        micros = policy.to_micros(Decimal(amount))
    except (ArithmeticError, ValueError):
        raise LedgerError(f"not an amount of USD: {amount!r}") from None
    if micros < 0:
        raise LedgerError("the low-balance threshold cannot be negative")
    await _brand(session, brand_id)
    await ensure_account(session, brand_id)
    await session.execute(update(BillingAccount).where(BillingAccount.brand_id == brand_id)
                          .values(low_balance_micros=micros).execution_options(synchronize_session=False))


async def status(session: AsyncSession, brand_id: int) -> AccountStatus:
    """Balance, available credits and the low-balance warning admins see."""
    await _brand(session, brand_id)
    threshold = (await session.execute(select(BillingAccount.low_balance_micros).where(
        BillingAccount.brand_id == brand_id))).scalar_one_or_none()
    if threshold is None:
        threshold = policy.to_micros(policy.DEFAULT_LOW_BALANCE_USD)
    micros = await balance_micros(session, brand_id)
    bal = policy.from_micros(micros)
    low = micros < threshold
    warning = None
    if micros <= 0:
        warning = (f"no credit left (USD {policy.usd(bal)}): once the month's free conversations are used, "
                   "nothing that opens a paid conversation is sent. Buy credits.")
    elif low:
        warning = (f"low balance: USD {policy.usd(bal)} is below the warning level of USD "
                   f"{policy.usd(policy.from_micros(threshold))}. Buy credits before it runs out.")
    return AccountStatus(brand_id, bal, (bal / policy.CREDIT_PRICE_USD).quantize(Decimal("0.0001")),
                         policy.from_micros(threshold), low, warning)


async def entries(session: AsyncSession, brand_id: int, *, since: dt.datetime | None = None,
                  until: dt.datetime | None = None, limit: int | None = None) -> list[CreditEntry]:
    query = select(CreditEntry).where(CreditEntry.brand_id == brand_id)
    if since is not None:
        query = query.where(CreditEntry.created_at >= since)
    if until is not None:
        query = query.where(CreditEntry.created_at < until)
    query = query.order_by(CreditEntry.id)
    if limit:
        query = query.limit(limit)
    return list((await session.execute(query)).scalars())
