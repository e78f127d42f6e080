"""The durable webhook inbox: record before acknowledging, process after.

Each webhook item becomes one `WebhookEvent` row whose `dedupe_key` (the wamid,
or wamid:status) is unique, so a redelivered or concurrently delivered item is
recorded once. Rows are claimed with a short lease (`locked_until`) that the
processor renews while it works on the row (`renew`): a row whose process died is
claimed again within seconds, and a slow turn is not taken over while it runs.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from desk.models import EventState, WebhookEvent, utcnow

log = logging.getLogger(__name__)

# Renewed every LEASE / 3 while the row is worked on: a row of a process that died is
# taken over within LEASE (kill -9 of the Rasa server: bench/bench_burst.py --kill rasa).
LEASE = dt.timedelta(seconds=10)
MAX_ATTEMPTS = 5
RETRY_BACKOFF = dt.timedelta(seconds=2)


async def record(conn: AsyncConnection | AsyncSession, items: list[dict]) -> int:
    """Insert items (dicts of WebhookEvent columns) in one statement, skipping keys
    already recorded (ON CONFLICT DO NOTHING: a duplicate, even a concurrent one, costs
    nothing and never fails the statement); returns how many rows it inserted.
    The one way rows enter the inbox: the intake's group commit and the processor."""
    if not items:
        return 0
    dialect = conn.bind.dialect.name if isinstance(conn, AsyncSession) else conn.dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect]
    new = 0
    # One multi-row VALUES per chunk: SQLite allows 32,766 bound parameters (3.32+).
    for start in range(0, len(items), _ROWS_PER_STATEMENT):
        chunk = [dict(item) for item in items[start:start + _ROWS_PER_STATEMENT]]
        result = await conn.execute(insert(WebhookEvent).values(chunk)
                                    .on_conflict_do_nothing(index_elements=["dedupe_key"]))
        new += result.rowcount
    return new


_ROWS_PER_STATEMENT = 2000


class GroupWriter:
    """Records the rows of many concurrent webhooks in one transaction (group commit).

    Each caller's rows wait in a queue; one task takes everything queued, writes it
    in one transaction on its own long-lived connection and wakes the callers. While
    a commit is in flight, the next batch gathers: no timer, no added latency at low
    load, one commit (and one fsync) for many webhooks at high load. A batch that
    fails is retried row set by row set, so one caller's bad rows fail only that caller.
    """

    def __init__(self, engine: AsyncEngine, max_batch: int = 500):
        self.engine = engine
        self.max_batch = max_batch
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    async def record(self, items: list[dict]) -> None:
        """Returns once `items` are committed; raises what the database raised."""
        if self._task is None or self._task.done():
            raise RuntimeError("inbox writer not running")
        done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((items, done))
        await asyncio.shield(done)  # a caller that gives up must not cancel the batch

    async def stop(self) -> None:
        """Write what is queued, then close the connection (no query is cancelled)."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task

    async def _run(self) -> None:
        conn: AsyncConnection | None = None
        stopping = False
        try:
            while not stopping:
                batch = [await self._queue.get()]
                while not self._queue.empty() and len(batch) < self.max_batch:
                    batch.append(self._queue.get_nowait())
                if None in batch:
                    stopping = True
                    batch = [b for b in batch if b is not None]
                if not batch:
                    continue
                if conn is None:
                    conn = await self._connect()
                    if conn is None:
                        for _, done in batch:
                            done.set_exception(RuntimeError("the inbox database is unavailable"))
                        continue
                conn = await self._write(conn, batch)
        finally:
            if conn is not None:
                await conn.close()

    async def _connect(self) -> AsyncConnection | None:
        try:
            return await self.engine.connect()
        except Exception:  # noqa: BLE001 - logged; the callers get a 500 and Meta retries
            log.exception("inbox: cannot connect to the database")
            return None

    async def _write(self, conn: AsyncConnection, batch: list) -> AsyncConnection | None:
        try:
            async with conn.begin():
                await record(conn, [row for items, _ in batch for row in items])
        except Exception as exc:  # noqa: BLE001
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return await self._reset(conn)
            conn = await self._reset(conn)
            for one in batch:  # find who failed: each caller's rows alone
                if conn is None:
                    conn = await self._connect()
                if conn is None:
                    one[1].set_exception(exc)
                    continue
                conn = await self._write(conn, [one])
            return conn
        for _, done in batch:
            if not done.done():
                done.set_result(None)
        return conn

    async def _reset(self, conn: AsyncConnection) -> None:
        """After an error, drop the connection: the next write opens a fresh one."""
        try:
            await conn.close()
        except Exception:  # noqa: BLE001
            pass
        return None


async def claim_next(session: AsyncSession, phone_number_id: str, wa_id: str,
                     kind: str = "message", lease: dt.timedelta = LEASE) -> WebhookEvent | None:
    """Claim the oldest unfinished event of one user's lane, if it may run now.
    The event's `more_behind` says whether the lane had another unfinished row at the
    claim; a row recorded later comes with its own kick (the intake kicks after commit).

    A lane is one user's messages, or one user's statuses: within a lane events
    are handled strictly in arrival order (while the oldest is in flight, or
    waiting out its retry backoff, nothing behind it runs); statuses never wait
    behind a bot turn, and other users are not held up.
    """
    now = utcnow()
    # Two rows: the head, and whether anything waits behind it (`more_behind`), so the
    # processor need not come back for an empty claim after the lane's last event.
    rows = list((await session.execute(select(WebhookEvent).where(
        WebhookEvent.phone_number_id == phone_number_id, WebhookEvent.wa_id == wa_id,
        WebhookEvent.kind == kind,
        WebhookEvent.state.in_([EventState.pending, EventState.processing]),
    ).order_by(WebhookEvent.id).limit(2))).scalars())
    head = rows[0] if rows else None
    if head is None or not (head.locked_until is None or head.locked_until <= now):
        return None
    head.more_behind = len(rows) > 1  # not a column: this claim's view of the lane
    # Conditional update: two workers may read the same row; only one wins it.
    won = await session.execute(update(WebhookEvent).where(
        WebhookEvent.id == head.id, _claimable(now)).values(
        state=EventState.processing, locked_until=now + lease,
        attempts=WebhookEvent.attempts + 1).execution_options(synchronize_session=False))
    if won.rowcount != 1:
        return None
    # What the update wrote, without reading the row again (and without marking it dirty).
    set_committed_value(head, "state", EventState.processing)
    set_committed_value(head, "locked_until", now + lease)
    set_committed_value(head, "attempts", (head.attempts or 0) + 1)
    return head


async def claim_batch(session: AsyncSession, phone_number_id: str, wa_id: str, kind: str,
                      limit: int = 200) -> list[WebhookEvent]:
    """The lane's due events, for a caller that finishes them in this same transaction
    (`finish_batch`); rows another process holds are skipped (PostgreSQL: SKIP
    LOCKED; SQLite has one writer at a time anyway)."""
    now = utcnow()
    return list((await session.execute(select(WebhookEvent).where(
        WebhookEvent.phone_number_id == phone_number_id, WebhookEvent.wa_id == wa_id,
        WebhookEvent.kind == kind, _claimable(now)).order_by(WebhookEvent.id).limit(limit)
        .with_for_update(skip_locked=True))).scalars())


async def finish_batch(session: AsyncSession, outcomes: list[tuple[int, EventState]]) -> None:
    """Finish events claimed by `claim_batch` in this transaction: one statement per
    outcome state, not one per row."""
    by_state: dict[EventState, list[int]] = {}
    for event_id, state in outcomes:
        by_state.setdefault(state, []).append(event_id)
    for state, ids in by_state.items():
        await session.execute(update(WebhookEvent).where(WebhookEvent.id.in_(ids)).values(
            state=state, last_error=None, locked_until=None, attempts=WebhookEvent.attempts + 1)
            .execution_options(synchronize_session=False))


def _claimable(now: dt.datetime):
    # `locked_until` is the lease of a processing row and the retry time of a pending one.
    return and_(WebhookEvent.state.in_([EventState.pending, EventState.processing]),
                or_(WebhookEvent.locked_until.is_(None), WebhookEvent.locked_until <= now))


async def ignore_lane(session: AsyncSession, phone_number_id: str, wa_id: str, kind: str) -> int:
    """Finish a lane's due rows as `ignored` (its number is not ours); how many."""
    done = await session.execute(update(WebhookEvent).where(
        WebhookEvent.phone_number_id == phone_number_id, WebhookEvent.wa_id == wa_id,
        WebhookEvent.kind == kind, _claimable(utcnow())).values(
        state=EventState.ignored, locked_until=None, attempts=WebhookEvent.attempts + 1)
        .execution_options(synchronize_session=False))
    return done.rowcount


async def renew(session: AsyncSession, event_id: int, lease: dt.timedelta = LEASE) -> bool:
    """Extend the lease of a row still being processed; False if it is no longer ours."""
    done = await session.execute(update(WebhookEvent).where(
        WebhookEvent.id == event_id, WebhookEvent.state == EventState.processing)
        .values(locked_until=utcnow() + lease).execution_options(synchronize_session=False))
    return done.rowcount == 1


async def finish(session: AsyncSession, event_id: int, state: EventState, error: str | None = None,
                 attempts: int | None = None) -> None:
    """Record an event's outcome; `attempts` (the claimed row's, if the caller has it)
    saves reading the row again."""
    if attempts is None:
        attempts = (await session.execute(select(WebhookEvent.attempts).where(
            WebhookEvent.id == event_id))).scalar_one_or_none()
        if attempts is None:
            return
    retry_at = None
    if state == EventState.failed and attempts < MAX_ATTEMPTS:
        state = EventState.pending  # try again after a backoff (2, 4, 8, 16 s)
        retry_at = utcnow() + RETRY_BACKOFF * 2 ** (attempts - 1)
    await session.execute(update(WebhookEvent).where(WebhookEvent.id == event_id).values(
        state=state, last_error=error, locked_until=retry_at).execution_options(synchronize_session=False))


async def retry_later(session: AsyncSession, event_id: int, delay: dt.timedelta, error: str | None = None) -> None:
    """Put a row back to wait `delay` outside the attempts budget: the caller bounds
    the wait itself (a bot turn waiting for its action server)."""
    await session.execute(update(WebhookEvent).where(WebhookEvent.id == event_id).values(
        state=EventState.pending, last_error=error, locked_until=utcnow() + delay)
        .execution_options(synchronize_session=False))


async def lanes_with_work(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(phone_number_id, wa_id, kind) lanes with unfinished events: the restart backlog."""
    now = utcnow()
    rows = await session.execute(
        select(WebhookEvent.phone_number_id, WebhookEvent.wa_id, WebhookEvent.kind)
        .where(_claimable(now))
        .group_by(WebhookEvent.phone_number_id, WebhookEvent.wa_id, WebhookEvent.kind))
    return [tuple(r) for r in rows]
