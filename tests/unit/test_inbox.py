"""The durable inbox on a real database (SQLite and PostgreSQL)."""
import asyncio
import datetime as dt

from sqlalchemy import func, select, update

from desk.models import EventState, WebhookEvent, utcnow
from desk.services import inbox


def row(key: str, wa_id: str = "1555", kind: str = "message") -> dict:
    return dict(dedupe_key=key, kind=kind, phone_number_id="111", wa_id=wa_id, payload={"k": key})


async def count(sessions) -> int:
    async with sessions() as s:
        return (await s.execute(select(func.count(WebhookEvent.id)))).scalar_one()


async def test_same_key_recorded_once_sequentially(sessions):
    for _ in range(3):
        async with sessions() as s, s.begin():
            await inbox.record(s, [row("wamid.1")])
    assert await count(sessions) == 1


async def test_mixed_body_records_only_the_new_item(sessions):
    async with sessions() as s, s.begin():
        await inbox.record(s, [row("wamid.1")])
    async with sessions() as s, s.begin():
        new = await inbox.record(s, [row("wamid.1"), row("wamid.2")])
    assert new == 1 and await count(sessions) == 2


async def test_concurrent_deliveries_of_one_message_record_it_once(sessions):
    async def deliver():
        async with sessions() as s, s.begin():
            return await inbox.record(s, [row("wamid.race")])

    results = await asyncio.gather(*[deliver() for _ in range(8)], return_exceptions=True)
    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(results) == 1
    assert await count(sessions) == 1


async def test_one_users_events_are_claimed_in_order_one_at_a_time(sessions):
    async with sessions() as s, s.begin():
        await inbox.record(s, [row("a"), row("b"), row("other", wa_id="1666")])
    async with sessions() as s, s.begin():
        first = await inbox.claim_next(s, "111", "1555")
    async with sessions() as s, s.begin():
        blocked = await inbox.claim_next(s, "111", "1555")
        other = await inbox.claim_next(s, "111", "1666")
    assert first.dedupe_key == "a" and blocked is None and other.dedupe_key == "other"
    async with sessions() as s, s.begin():
        await inbox.finish(s, first.id, EventState.done)
    async with sessions() as s, s.begin():
        second = await inbox.claim_next(s, "111", "1555")
    assert second.dedupe_key == "b"


async def test_an_expired_lease_is_claimed_again_after_a_crash(sessions):
    async with sessions() as s, s.begin():
        await inbox.record(s, [row("a")])
    async with sessions() as s, s.begin():
        claimed = await inbox.claim_next(s, "111", "1555")
    # The process died: nobody finishes the row. Once the lease runs out it is work again.
    async with sessions() as s, s.begin():
        await s.execute(update(WebhookEvent).values(locked_until=utcnow() - dt.timedelta(seconds=1)))
    async with sessions() as s:
        assert await inbox.lanes_with_work(s) == [("111", "1555", "message")]
    async with sessions() as s, s.begin():
        again = await inbox.claim_next(s, "111", "1555")
    assert again.id == claimed.id and again.attempts == 2


async def test_racing_claims_hand_a_row_to_one_worker(sessions):
    async with sessions() as s, s.begin():
        await inbox.record(s, [row("a")])

    async def claim():
        async with sessions() as s, s.begin():
            return await inbox.claim_next(s, "111", "1555")

    results = await asyncio.gather(*[claim() for _ in range(6)], return_exceptions=True)
    won = [r for r in results if isinstance(r, WebhookEvent)]
    assert len(won) == 1


async def test_failures_are_retried_then_given_up(sessions):
    async with sessions() as s, s.begin():
        await inbox.record(s, [row("a")])
    for attempt in range(1, inbox.MAX_ATTEMPTS + 1):
        async with sessions() as s, s.begin():
            event = await inbox.claim_next(s, "111", "1555")
            assert event is not None and event.attempts == attempt
        async with sessions() as s, s.begin():
            await inbox.finish(s, event.id, EventState.failed, "boom")
        async with sessions() as s, s.begin():
            assert await inbox.claim_next(s, "111", "1555") is None  # backing off
            await s.execute(update(WebhookEvent).values(locked_until=None))
    async with sessions() as s:
        final = await s.get(WebhookEvent, event.id)
        assert final.state == EventState.failed and final.last_error == "boom"
        assert await inbox.lanes_with_work(s) == []


async def test_statuses_do_not_wait_behind_a_users_message_in_flight(sessions):
    async with sessions() as s, s.begin():
        await inbox.record(s, [row("m1"), row("wamid.out:delivered", kind="status")])
    async with sessions() as s, s.begin():
        assert (await inbox.claim_next(s, "111", "1555")).dedupe_key == "m1"
    async with sessions() as s, s.begin():
        status = await inbox.claim_next(s, "111", "1555", "status")
    assert status.dedupe_key == "wamid.out:delivered"


async def test_the_group_writer_records_concurrent_webhooks_once_in_few_transactions(sessions):
    from sqlalchemy import event

    engine = sessions.kw["bind"]
    writer = inbox.GroupWriter(engine)
    commits = []

    def on_commit(conn):
        commits.append(1)

    event.listen(engine.sync_engine, "commit", on_commit)
    await writer.start()
    try:
        # 60 callers at once, a third of them redeliveries of another caller's message.
        await asyncio.gather(*[writer.record([row(f"wamid.g{i % 40}", wa_id=f"1{i % 7}")])
                               for i in range(60)])
        await writer.record([])
    finally:
        await writer.stop()
        event.remove(engine.sync_engine, "commit", on_commit)
    assert await count(sessions) == 40
    assert 1 <= len(commits) < 60  # grouped: far fewer commits than callers


async def test_a_bad_row_fails_only_its_own_caller(sessions):
    writer = inbox.GroupWriter(sessions.kw["bind"])
    await writer.start()
    try:
        good = [writer.record([row(f"wamid.ok{i}")]) for i in range(5)]
        bad = writer.record([dict(row("wamid.bad"), kind=None)])  # NOT NULL column
        results = await asyncio.gather(*good, bad, return_exceptions=True)
        assert await count(sessions) == 5
        await writer.record([row("wamid.after")])  # the writer goes on after the error
    finally:
        await writer.stop()
    assert results[:5] == [None] * 5
    assert isinstance(results[5], Exception)
    assert await count(sessions) == 6


async def test_a_writer_engine_never_fails_read_then_write_transactions_on_sqlite(tmp_path):
    """A deferred SQLite transaction that reads, then writes, fails at once with
    "database is locked" when another writer committed in between (the Python driver
    begins before the first write only, but a savepoint begins at once, as in the
    batches of statuses); a writer engine's transactions do not."""
    from desk.db import create_engine, migrate, session_factory

    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    migrate(url)

    async def read_then_write(sessions, n: int) -> None:
        async with sessions() as s, s.begin(), s.begin_nested():
            await s.execute(select(func.count(WebhookEvent.id)))
            await asyncio.sleep(0.01)
            s.add(WebhookEvent(**row(f"wamid.rw{n}")))
            await s.flush()

    async def run(writer: bool) -> list:
        engine = create_engine(url, writer=writer)
        try:
            return await asyncio.gather(*[read_then_write(session_factory(engine), n + 100 * writer)
                                          for n in range(12)], return_exceptions=True)
        finally:
            await engine.dispose()

    deferred = await run(writer=False)
    assert any("database is locked" in str(r) for r in deferred)  # the failure this prevents
    assert [r for r in await run(writer=True) if isinstance(r, Exception)] == []


async def test_number_credentials_are_cached_for_a_few_seconds_and_forgotten_on_request(sessions):
    from desk.models import NumberState, PhoneNumber
    from desk.services import numbers

    async with sessions() as s, s.begin():
        await numbers.ensure_number(s, phone_number_id="111", waba_id="W1")
    now = [0.0]
    cache = numbers.CredentialsCache(ttl_seconds=5, clock=lambda: now[0])
    async with sessions() as s:
        assert (await cache.get(s, "111", "t")).state == NumberState.connected
        assert await cache.get(s, "999", "t") is None
    async with sessions() as s, s.begin():
        await s.execute(update(PhoneNumber).values(state=NumberState.disconnected))
    async with sessions() as s:
        assert (await cache.get(s, "111", "t")).state == NumberState.connected  # within the ttl
        now[0] = 5.0
        assert (await cache.get(s, "111", "t")).state == NumberState.disconnected  # ttl over
    async with sessions() as s, s.begin():
        await s.execute(update(PhoneNumber).values(state=NumberState.connected))
    cache.forget("111")
    async with sessions() as s:
        assert (await cache.get(s, "111", "t")).state == NumberState.connected  # forgotten: read again
