"""How long the manager's report takes on a year of a busy brand's chats.

Seeds 100,000 chats over 365 days (a fifth handed to a person, with operators,
departments, reasons, response times; 5,000 leads) into a fresh SQLite file and,
if PostgreSQL answers at BENCH_POSTGRES_URL (default the local `test` database), a
fresh schema there; then times `desk.services.reports.brand_report` over 30 days,
a quarter and the whole year, and once more with the date index dropped (the
baseline: what a report costs without `ix_chats_opened_at`). Medians of 5 runs.

    PYTHONPATH=. .venv/bin/python bench/bench_reports.py [--chats 100000]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from desk.db import create_engine, migrate, session_factory  # noqa: E402
from desk.models import (Brand, Chat, ChatState, Contact, Department, Lead, Operator, PhoneNumber,  # noqa: E402
                         WhatsAppBusinessAccount)
from desk.services import reports  # noqa: E402

UTC = dt.timezone.utc
YEAR_END = dt.datetime(2026, 6, 30, tzinfo=UTC)   # a fixed year: the figures do not depend on today
REASONS = ["asked", "human_only", "misunderstood", "lead", "takeover"]
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def seed(url: str, chats: int) -> int:
    migrate(url)
    engine = create_engine(url)
    rnd = random.Random(13)
    try:
        async with engine.begin() as conn:
            async def new(stmt) -> int:
                return (await conn.execute(stmt)).inserted_primary_key[0]
            brand = await new(insert(Brand).values(name="Bench"))
            depts = [await new(insert(Department).values(brand_id=brand, name=n)) for n in ("Support", "Sales", "Billing")]
            await conn.execute(insert(WhatsAppBusinessAccount).values(id="299", brand_id=brand, name="Bench WABA"))
            await conn.execute(insert(PhoneNumber), [
                {"id": f"10000000000000{i}", "waba_id": "299", "display_phone_number": f"+1 555 010{i}",
                 "department_id": depts[i % 3]} for i in range(3)])
            ops = [await new(insert(Operator).values(brand_id=brand, email=f"op{i}@bench.test", name=f"Operator {i}",
                                                     password_hash="x", role="operator")) for i in range(12)]
            contacts = 20_000
            for start in range(0, contacts, 5000):
                await conn.execute(insert(Contact), [{"wa_id": f"4477{n:08d}", "profile_name": f"User {n}"}
                                                     for n in range(start, min(start + 5000, contacts))])
            first_contact = (await conn.execute(text("SELECT min(id) FROM contacts"))).scalar_one()
            rows, leads = [], []
            for n in range(chats):
                opened = YEAR_END - dt.timedelta(seconds=rnd.randrange(365 * 86400))
                row = {"phone_number_id": f"10000000000000{n % 3}", "contact_id": first_contact + n % contacts,
                       "opened_at": opened, "last_activity_at": opened, "state": ChatState.closed.value,
                       "closed_at": opened + dt.timedelta(minutes=rnd.randint(1, 30)), "closed_by": "bot",
                       "handed_off_at": None, "first_response_at": None, "handoff_reason": None,
                       "department_id": None, "operator_id": None, "was_unattended": False}
                if rnd.random() < 0.2:
                    handed = opened + dt.timedelta(minutes=rnd.randint(1, 5))
                    row.update(handed_off_at=handed, handoff_reason=rnd.choice(REASONS),
                               department_id=rnd.choice(depts), operator_id=rnd.choice(ops),
                               first_response_at=handed + dt.timedelta(seconds=rnd.expovariate(1 / 120)),
                               closed_at=handed + dt.timedelta(seconds=rnd.expovariate(1 / 1800)),
                               closed_by="operator@bench.test", was_unattended=rnd.random() < 0.1)
                rows.append(row)
                if n % 20 == 0:
                    leads.append({"contact_id": row["contact_id"], "phone_number_id": row["phone_number_id"],
                                  "name": "Lead", "consent": True, "created_at": opened,
                                  "crm_state": rnd.choice(["pending", "pushed"])})
                if len(rows) == 10_000:
                    await conn.execute(insert(Chat), rows)
                    rows = []
            if rows:
                await conn.execute(insert(Chat), rows)
            await conn.execute(insert(Lead), leads)
        return brand
    finally:
        await engine.dispose()


async def time_reports(url: str, brand: int, label: str, runs: int = 5) -> dict[str, float]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    out = {}
    try:
        for name, days in (("30 days", 30), ("90 days", 90), ("365 days", 365)):
            rng = reports.Range.parse((YEAR_END.date() - dt.timedelta(days=days)).isoformat(),
                                      (YEAR_END.date() - dt.timedelta(days=1)).isoformat(), "Asia/Tokyo",
                                      today=YEAR_END.date())
            took = []
            for _ in range(runs):
                t0 = time.perf_counter()
                async with sessions() as s:
                    report = await reports.brand_report(s, brand, rng)
                took.append(time.perf_counter() - t0)
            out[name] = statistics.median(took)
            print(f"  {label:<22} {name:>9}: median {out[name] * 1000:8.1f} ms over {runs} runs "
                  f"({report['totals']['chats']:,} chats in range)")
    finally:
        await engine.dispose()
    return out


async def drop_index(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP INDEX ix_chats_opened_at"))
    finally:
        await engine.dispose()


async def bench(url: str, name: str, chats: int) -> None:
    t0 = time.perf_counter()
    brand = await seed(url, chats)
    print(f"{name}: seeded {chats:,} chats in {time.perf_counter() - t0:.1f} s")
    indexed = await time_reports(url, brand, "with ix_chats_opened_at")
    await drop_index(url)
    bare = await time_reports(url, brand, "baseline: no date index")
    for k in indexed:
        print(f"  {k}: {bare[k] / indexed[k]:.2f}x faster with the index")


async def postgres_url() -> str | None:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(PG_URL)
    try:
        conn = await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username, database=u.database)
    except (OSError, asyncpg.PostgresError):
        return None
    schema = f"bench_reports_{os.getpid()}"
    await conn.execute(f"DROP DATABASE IF EXISTS {schema}")
    await conn.execute(f"CREATE DATABASE {schema}")
    await conn.close()
    return str(u.set(database=schema))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await bench(f"sqlite+aiosqlite:///{tmp}/reports.db", "SQLite", args.chats)
    pg = await postgres_url()
    if pg is None:
        print("PostgreSQL: not reachable, skipped")
    else:
        await bench(pg, "PostgreSQL", args.chats)


if __name__ == "__main__":
    asyncio.run(main())
