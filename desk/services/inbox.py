"""The durable webhook inbox: record before acknowledging, process after.

Each webhook item becomes one `WebhookEvent` row whose `dedupe_key` (the wamid,
or wamid:status) is unique, so a redelivered or concurrently delivered item is
recorded once. Rows are claimed with a short lease (`locked_until`) that the
processor renews while it works on the row (`renew`): a row whose process died is
claimed again within seconds, and a slow turn is not taken over while it runs.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import EventState, WebhookEvent, utcnow

LEASE = dt.timedelta(seconds=30)  # renewed every LEASE / 3 while the row is worked on
MAX_ATTEMPTS = 5
RETRY_BACKOFF = dt.timedelta(seconds=2)


async def record(session: AsyncSession, items: Iterable[dict]) -> list[int]:
    """Insert items (dicts of WebhookEvent columns); returns the ids of new rows.

    Duplicates are skipped one by one in a savepoint, so a body with one old and
    one new item records the new one.
    """
    new_ids = []
    for item in items:
        exists = (await session.execute(select(WebhookEvent.id).where(
            WebhookEvent.dedupe_key == item["dedupe_key"]))).scalar_one_or_none()
        if exists is not None:
            continue
        try:
            async with session.begin_nested():
                row = WebhookEvent(**item)
                session.add(row)
            new_ids.append(row.id)
        except IntegrityError:  # a concurrent delivery won the race
            continue
    return new_ids


async def claim_next(session: AsyncSession, phone_number_id: str, wa_id: str,
                     kind: str = "message", lease: dt.timedelta = LEASE) -> WebhookEvent | None:
    """Claim the oldest unfinished event of one user's lane, if it may run now.

    A lane is one user's messages, or one user's statuses: within a lane events
    are handled strictly in arrival order (while the oldest is in flight, or
    waiting out its retry backoff, nothing behind it runs); statuses never wait
    behind a bot turn, and other users are not held up.
    """
    now = utcnow()
    head = (await session.execute(select(WebhookEvent).where(
        WebhookEvent.phone_number_id == phone_number_id, WebhookEvent.wa_id == wa_id,
        WebhookEvent.kind == kind,
        WebhookEvent.state.in_([EventState.pending, EventState.processing]),
    ).order_by(WebhookEvent.id).limit(1))).scalar_one_or_none()
    if head is None or not (head.locked_until is None or head.locked_until <= now):
        return None
    # Conditional update: two workers may read the same row; only one wins it.
    won = await session.execute(update(WebhookEvent).where(
        WebhookEvent.id == head.id, _claimable(now)).values(
        state=EventState.processing, locked_until=now + lease,
        attempts=WebhookEvent.attempts + 1).execution_options(synchronize_session=False))
    if won.rowcount != 1:
        return None
    await session.refresh(head)
    return head


def _claimable(now: dt.datetime):
    # `locked_until` is the lease of a processing row and the retry time of a pending one.
    return and_(WebhookEvent.state.in_([EventState.pending, EventState.processing]),
                or_(WebhookEvent.locked_until.is_(None), WebhookEvent.locked_until <= now))


async def renew(session: AsyncSession, event_id: int, lease: dt.timedelta = LEASE) -> bool:
    """Extend the lease of a row still being processed; False if it is no longer ours."""
    done = await session.execute(update(WebhookEvent).where(
        WebhookEvent.id == event_id, WebhookEvent.state == EventState.processing)
        .values(locked_until=utcnow() + lease).execution_options(synchronize_session=False))
    return done.rowcount == 1


async def finish(session: AsyncSession, event_id: int, state: EventState, error: str | None = None) -> None:
    row = await session.get(WebhookEvent, event_id)
    if row is None:
        return
    retry_at = None
    if state == EventState.failed and row.attempts < MAX_ATTEMPTS:
        state = EventState.pending  # try again after a backoff (2, 4, 8, 16 s)
        retry_at = utcnow() + RETRY_BACKOFF * 2 ** (row.attempts - 1)
    row.state, row.last_error, row.locked_until = state, error, retry_at


async def retry_later(session: AsyncSession, event_id: int, delay: dt.timedelta, error: str | None = None) -> None:
    """Put a row back to wait `delay` outside the attempts budget: the caller bounds
    the wait itself (a bot turn waiting for its action server)."""
    row = await session.get(WebhookEvent, event_id)
    if row is not None:
        row.state, row.last_error, row.locked_until = EventState.pending, error, utcnow() + delay


async def lanes_with_work(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(phone_number_id, wa_id, kind) lanes with unfinished events: the restart backlog."""
    now = utcnow()
    rows = await session.execute(
        select(WebhookEvent.phone_number_id, WebhookEvent.wa_id, WebhookEvent.kind)
        .where(_claimable(now))
        .group_by(WebhookEvent.phone_number_id, WebhookEvent.wa_id, WebhookEvent.kind))
    return [tuple(r) for r in rows]
