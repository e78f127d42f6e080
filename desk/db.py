"""Engine, sessions and migrations.

One async engine per process (created on server start, disposed on stop). SQLite
is the embedded default; PostgreSQL (asyncpg) is the scale-out. Alembic runs the
migrations with the matching synchronous driver.
"""
from __future__ import annotations

import functools
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
    if not path.exists():
        # Never open (and close) a database file that may be in use: closing any
        # descriptor of it drops every POSIX lock this process's SQLite connections
        # hold on it, and another writer can then corrupt it (sqlite.org/howtocorrupt).
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
    os.chmod(path, 0o600)


def _prepare_sqlite(url: str) -> None:
    db_path = make_url(url).database
    if db_path and db_path != ":memory:" and not db_path.startswith("file:"):
        private_sqlite_file(db_path)


@functools.lru_cache(maxsize=1)  # one adapter (its classes made once) for every engine
def _aiosqlite_adapter():
    """aiosqlite as SQLAlchemy's adapter sees it, with two changes.

    Daemon worker threads: aiosqlite >= 0.20 runs each connection on a thread of its
    own that is not a daemon (SQLAlchemy 1.4 still sets `daemon` on the connection
    object, which no longer is the thread): a pooled connection left open would keep
    the process alive at exit. Its thread is made a daemon before it starts.

    One hand-off per statement: SQLAlchemy's adapter makes four trips to the
    connection's thread for each statement (cursor, execute, fetchall, close), each a
    queue put, a thread wake-up and a loop wake-up. Here the four run in one trip.
    """
    import sqlite3
    import types

    import aiosqlite
    from sqlalchemy.dialects.sqlite.aiosqlite import (AsyncAdapt_aiosqlite_connection,
                                                      AsyncAdapt_aiosqlite_cursor, AsyncAdapt_aiosqlite_dbapi)

    def connect(*args, **kwargs):
        conn = aiosqlite.connect(*args, **kwargs)
        conn._thread.daemon = True
        return conn

    def run_statement(conn: sqlite3.Connection, operation: str, parameters):
        """On the connection's thread: the statement and its rows, in one go."""
        cursor = conn.cursor()
        try:
            if parameters is None:
                cursor.execute(operation)
            else:
                cursor.execute(operation, parameters)
            if cursor.description:
                return cursor.description, cursor.fetchall(), -1, -1
            return None, [], cursor.lastrowid, cursor.rowcount
        finally:
            cursor.close()

    class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
        __slots__ = ()

        def execute(self, operation, parameters=None):
            try:
                aio = self._connection
                self.description, self._rows, self.lastrowid, self.rowcount = self.await_(
                    aio._execute(lambda: run_statement(aio._conn, operation, parameters)))
            except Exception as error:  # noqa: BLE001 - as SQLAlchemy's adapter maps it
                self._adapt_connection._handle_exception(error)

    class OneTripConnection(AsyncAdapt_aiosqlite_connection):
        __slots__ = ()

        def cursor(self, server_side=False):
            return super().cursor(server_side) if server_side else OneTripCursor(self)

    class Dbapi(AsyncAdapt_aiosqlite_dbapi):
        def connect(self, *arg, **kw):
            adapted = super().connect(*arg, **kw)
            return OneTripConnection(self, adapted._connection)

    shim = types.ModuleType("aiosqlite")
    shim.__dict__.update(aiosqlite.__dict__)
    shim.connect = connect
    return Dbapi(shim, sqlite3)


def create_engine(url: str, *, writer: bool = False, pooled: bool = False) -> AsyncEngine:
    """`writer`: every transaction will write (the channel's inbox and turns). On
    SQLite they then start with BEGIN IMMEDIATE, taking the write lock (or waiting
    for it, up to busy_timeout) at the start: a transaction that reads first and
    writes later fails at once with "database is locked" when another writer
    committed in between, whatever the timeout.

    `pooled` (SQLite): keep connections open. Without a pool each session opens a
    connection, and with it a thread, and sets its PRAGMAs: about 4 ms, against
    under 1 ms with a pool (bench/, docs/benchmarks.md). For long-lived processes
    that stop gracefully (dispose the engine before their loop ends)."""
    if is_sqlite(url):
        _prepare_sqlite(url)
        # Several processes share the file: WAL lets readers run beside the one writer,
        # and busy_timeout makes a writer wait instead of failing with "locked".
        if pooled:
            from sqlalchemy.pool import AsyncAdaptedQueuePool

            engine = create_async_engine(url, connect_args={"timeout": 30}, module=_aiosqlite_adapter(),
                                         poolclass=AsyncAdaptedQueuePool, pool_size=5, max_overflow=10)
        else:  # SQLAlchemy's default for aiosqlite files: a connection per session
            engine = create_async_engine(url, connect_args={"timeout": 30}, module=_aiosqlite_adapter())

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
            if writer:  # SQLAlchemy's recipe: the driver stops emitting BEGIN; we do
                dbapi_conn.isolation_level = None

        if writer:
            @event.listens_for(engine.sync_engine, "begin")
            def _begin_immediate(conn):  # pragma: no cover - trivial
                conn.exec_driver_sql("BEGIN IMMEDIATE")

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
