"""Engine, sessions and migrations.

One async engine per process (created on server start, disposed on stop). SQLite
is the embedded default; PostgreSQL (asyncpg) is the scale-out. Alembic runs the
migrations with the matching synchronous driver.
"""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def private_sqlite_file(path: str | Path) -> None:
    """Create (or restrict) a SQLite file as 0600: it holds customers' chats and
    contacts. SQLite gives its -wal and -shm files the database file's mode."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


def _prepare_sqlite(url: str) -> None:
    db_path = make_url(url).database
    if db_path and db_path != ":memory:" and not db_path.startswith("file:"):
        private_sqlite_file(db_path)


def create_engine(url: str) -> AsyncEngine:
    if is_sqlite(url):
        _prepare_sqlite(url)
        # Several processes share the file: WAL lets readers run beside the one writer,
        # and busy_timeout makes a writer wait instead of failing with "locked".
        # SQLAlchemy's NullPool for aiosqlite files: a connection (and thread) per
        # session. bench/ shows pooling would save much of a turn's time, but a pooled
        # aiosqlite connection cancelled mid-query hangs engine.dispose() and keeps the
        # process alive; pooling waits for graceful task shutdown everywhere.
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> sessionmaker:
    return sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def sync_url(url: str) -> str:
    """The synchronous twin of an async URL, for Alembic."""
    u = make_url(url)
    driver = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg2"}[u.get_backend_name()]
    return str(u.set(drivername=driver))


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (idempotent)."""
    from alembic import command
    from alembic.config import Config

    if is_sqlite(url):
        _prepare_sqlite(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    command.upgrade(cfg, revision)
