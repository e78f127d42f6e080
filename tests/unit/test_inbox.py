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
    assert len(new) == 1 and await count(sessions) == 2


async def test_concurrent_deliveries_of_one_message_record_it_once(sessions):
    async def deliver():
        async with sessions() as s, s.begin():
            return await inbox.record(s, [row("wamid.race")])

    results = await asyncio.gather(*[deliver() for _ in range(8)], return_exceptions=True)
    assert not [r for r in results if isinstance(r, Exception)]
    assert sum(len(r) for r in results) == 1
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
