"""Sends racing for the last credit: no overdraft, no double charge (both databases).

Each racer has its own session and connection, as concurrent bot turns, operator
replies and worker passes do; the last test races separate processes.
"""
import asyncio
import datetime as dt
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from desk.billing import conversations as billing
from desk.billing import ledger, policy
from desk.models import BilledConversation, CreditEntry
from tests.billing.helpers import PNID_A, at, brand, fill_tier, user_wrote

ROOT = Path(__file__).resolve().parents[2]
NL_RATE = Decimal("0.0891")  # Netherlands, user-initiated


async def _setup(sessions, users, now, credits_usd: Decimal) -> int:
    async with sessions() as s, s.begin():
        b = await brand(s)
        await fill_tier(s, b["brand_id"], 1000, now.replace(day=1, hour=0))
        for u in users:
            await user_wrote(s, u, now - dt.timedelta(hours=1))
        await ledger.buy_credits(s, b["brand_id"], 1, by="admin")
        # Leave exactly `credits_usd` in the account.
        await ledger.adjust(s, b["brand_id"], credits_usd - Decimal("2.00"), by="test", note="set up the race")
        return b["brand_id"]


async def _race(sessions, users, now):
    async def one(wa_id):
        async with sessions() as s, s.begin():
            try:
                await billing.authorize_send(s, phone_number_id=PNID_A, wa_id=wa_id, is_template=False,
                                             sender="bot", now=now)
                return "sent"
            except billing.SendRefused as exc:
                assert exc.code == "no_credit"
                return "refused"
    return await asyncio.gather(*(one(u) for u in users))


async def test_concurrent_sends_race_for_the_last_credit_and_only_one_wins(sessions):
    now = at("2026-11-20T10:00:00Z")
    users = [f"3161234{i:04d}" for i in range(12)]   # Dutch numbers
    brand_id = await _setup(sessions, users, now, NL_RATE)  # exactly one conversation's worth
    results = await _race(sessions, users, now)
    assert results.count("sent") == 1 and results.count("refused") == 11
    async with sessions() as s:
        assert await ledger.balance(s, brand_id) == 0
        paid = (await s.execute(select(func.count(BilledConversation.id)).where(
            BilledConversation.free_tier.is_(False)))).scalar_one()
        assert paid == 1


async def test_many_racers_spend_the_balance_down_to_what_fits_and_never_below_zero(sessions):
    now = at("2026-11-20T10:00:00Z")
    users = [f"3161235{i:04d}" for i in range(20)]
    start = NL_RATE * 7 + Decimal("0.05")  # room for 7 conversations and change
    brand_id = await _setup(sessions, users, now, start)
    results = await _race(sessions, users, now)
    assert results.count("sent") == 7
    async with sessions() as s:
        balance = await ledger.balance(s, brand_id)
        assert balance == Decimal("0.05")
        charges = (await s.execute(select(func.sum(CreditEntry.amount_micros)).where(
            CreditEntry.kind == "conversation"))).scalar_one()
        assert charges == -policy.to_micros(NL_RATE * 7)


async def test_concurrent_replies_to_one_user_open_one_conversation(sessions):
    now = at("2026-11-20T10:00:00Z")
    user = "31612340000"
    brand_id = await _setup(sessions, [user], now, Decimal("1.00"))
    results = await _race(sessions, [user] * 8, now)
    assert results == ["sent"] * 8
    async with sessions() as s:
        assert (await s.execute(select(func.count(BilledConversation.id)).where(
            BilledConversation.wa_id == user))).scalar_one() == 1
        assert await ledger.balance(s, brand_id) == Decimal("1.00") - NL_RATE


RACER = """
import asyncio, datetime as dt, json, sys, time
from desk.db import create_engine, session_factory
from desk.billing import conversations as billing

async def main(url, wa_id, start_at, now):
    engine = create_engine(url)
    sessions = session_factory(engine)
    time.sleep(max(0.0, start_at - time.time()))
    try:
        async with sessions() as s, s.begin():
            await billing.authorize_send(s, phone_number_id=sys.argv[5], wa_id=wa_id, is_template=False,
                                         sender="bot", now=dt.datetime.fromisoformat(now))
        print(json.dumps("sent"))
    except billing.SendRefused:
        print(json.dumps("refused"))
    finally:
        await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]))
"""


async def test_processes_racing_for_the_last_credit_do_not_overdraw(sessions, database_url):
    now = at("2026-11-20T10:00:00Z")
    users = [f"3161236{i:04d}" for i in range(6)]
    brand_id = await _setup(sessions, users, now, NL_RATE * 2)
    start_at = time.time() + 4.0  # every process imports first, then they all go at once
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", RACER, database_url, u, str(start_at), now.isoformat(), PNID_A,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE) for u in users]
    outputs = [await p.communicate() for p in procs]
    assert all(p.returncode == 0 for p in procs), [err.decode()[-800:] for _, err in outputs]
    results = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]
    assert results.count("sent") == 2 and results.count("refused") == 4
    async with sessions() as s:
        assert await ledger.balance(s, brand_id) == 0
