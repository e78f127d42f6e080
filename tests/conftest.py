"""Shared fixtures: real databases (a fresh SQLite file, or a fresh PostgreSQL
database on the local server), migrated with the project's Alembic migrations."""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

PG_ADMIN_DSN = os.environ.get("TSUNAGI_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
# CI machines run PostgreSQL: there a missing server is a failure, not a skip.
REQUIRE_SERVICES = os.environ.get("CI", "").lower() == "true" or os.environ.get("TSUNAGI_REQUIRE_SERVICES") == "1"


def _postgres_admin():
    import psycopg2

    try:
        conn = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        if REQUIRE_SERVICES:
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}")
    conn.autocommit = True
    return conn


@pytest.fixture
def postgres_url():
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    admin = _postgres_admin()
    name = f"tsunagi_test_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')  # name is generated above, not input
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    """Each test using this runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
async def sessions(database_url):
    """A session factory on a freshly migrated database."""
    from desk.db import create_engine, migrate, session_factory

    migrate(database_url)
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def mid_month_clock():
    """The desk's clock from a fixed day in the middle of a month (tests/clock.py): free
    tiers, billing periods and report ranges are per calendar month, and "now + 1 day"
    must not cross a month's end because the suite happens to run on the 30th."""
    from tests.clock import MID_MONTH, clock_from

    with clock_from(MID_MONTH):
        yield
