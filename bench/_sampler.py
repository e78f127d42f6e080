"""A small wall-clock stack sampler (py-spy is not installed here), for the benches.

    python bench/_sampler.py [--sample OUT_PREFIX] [--patch NAME] -- /path/to/rasa run ...

runs the given Python script (the `rasa` console script) in this interpreter while
a daemon thread samples every Python thread's stack every few milliseconds.
`--patch` applies a what-if experiment (see PATCHES) before the script starts: it
is the bench's, not the product's, and only for comparing figures. The
bench steers it through the file `OUT_PREFIX.cmd`: `reset` clears the samples,
`dump LABEL` writes them to `OUT_PREFIX.LABEL.txt` as collapsed stacks
(`thread;frame;...;leaf count`, root first), then the file is removed.

Overhead is a few percent (one stack walk per thread per sample); the figures are
shares of samples, not absolute times.
"""
from __future__ import annotations

import collections
import linecache
import os
import runpy
import sys
import threading
import time

INTERVAL = float(os.environ.get("BENCH_SAMPLE_INTERVAL", "0.004"))


def _label(code) -> str:
    path = code.co_filename
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        root = os.getcwd() + os.sep
        if path.startswith(root):
            path = path[len(root):]
    mod = path.removesuffix(".py").replace("/", ".")
    return f"{mod}:{getattr(code, 'co_qualname', code.co_name)}"


def _aiosqlite_call(frame) -> str:
    """What an aiosqlite worker thread is doing: waiting for work, or inside which
    sqlite3 call (C code, GIL released: running SQL or waiting on SQLite's lock)."""
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    if not line.startswith("result = function()"):
        return "aiosqlite:idle"
    function = frame.f_locals.get("function")
    inner = getattr(function, "func", function)
    return f"sqlite3:{getattr(inner, '__name__', type(inner).__name__)}"


class Sampler:
    def __init__(self, prefix: str):
        self.prefix = prefix
        self.samples: collections.Counter = collections.Counter()
        self.lock = threading.Lock()
        self.me = None

    def run(self) -> None:
        self.me = threading.get_ident()
        cmd_path = self.prefix + ".cmd"
        next_cmd_check = 0.0
        while True:
            time.sleep(INTERVAL)
            names = {t.ident: t.name for t in threading.enumerate()}
            frames = sys._current_frames()
            with self.lock:
                for ident, frame in frames.items():
                    if ident == self.me:
                        continue
                    stack = []
                    f = frame
                    while f is not None and len(stack) < 200:
                        stack.append(_label(f.f_code))
                        f = f.f_back
                    stack.reverse()
                    if frame.f_code.co_name == "_connection_worker_thread":
                        stack.append(_aiosqlite_call(frame))
                    # The two event loops (Sanic's intake, the channel's turn thread) by name.
                    thread = {"MainThread": "main", "whatsapp-turns": "turns"}.get(names.get(ident), "thread")
                    self.samples[(thread, tuple(stack))] += 1
            del frames
            now = time.monotonic()
            if now >= next_cmd_check:
                next_cmd_check = now + 0.1
                self._command(cmd_path)

    def _command(self, cmd_path: str) -> None:
        try:
            with open(cmd_path) as f:
                cmd = f.read().strip()
        except OSError:
            return
        if cmd == "reset":
            with self.lock:
                self.samples.clear()
        elif cmd.startswith("dump "):
            self.dump(cmd.split(None, 1)[1])
        try:
            os.remove(cmd_path)
        except OSError:
            pass

    def dump(self, label: str) -> None:
        with self.lock:
            items = list(self.samples.items())
        with open(f"{self.prefix}.{label}.txt", "w") as out:
            for (thread, stack), n in items:
                out.write(";".join((thread,) + stack) + f" {n}\n")


def patch_sqlite_pool() -> None:
    """What if the desk's SQLite engine kept its connections (a queue pool) instead
    of SQLAlchemy 1.4's default NullPool for aiosqlite files, which opens a new
    connection, and so starts a new thread, for every session?"""
    import desk.db as db
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import AsyncAdaptedQueuePool

    original = db.create_engine

    def create_engine(url: str):
        if not db.is_sqlite(url):
            return original(url)
        engine = create_async_engine(url, connect_args={"timeout": 30},
                                     poolclass=AsyncAdaptedQueuePool, pool_size=8, max_overflow=8)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine

    db.create_engine = create_engine


def patch_serial_writes() -> None:
    """What if, on SQLite, the Rasa process ran one desk write transaction at a
    time (an asyncio lock around `session.begin()`), instead of letting concurrent
    transactions wait for SQLite's write lock in its busy handler (which sleeps in
    steps of up to 100 ms)? Reads outside `begin()` are not affected."""
    import asyncio

    import desk.db as db
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import sessionmaker

    lock: list[asyncio.Lock] = []

    class Locked:
        def __init__(self, inner):
            self.inner = inner

        async def __aenter__(self):
            if not lock:
                lock.append(asyncio.Lock())
            await lock[0].acquire()
            try:
                return await self.inner.__aenter__()
            except BaseException:
                lock[0].release()
                raise

        async def __aexit__(self, *exc):
            try:
                return await self.inner.__aexit__(*exc)
            finally:
                lock[0].release()

    class SerialSession(AsyncSession):
        def begin(self):
            return Locked(super().begin())

    original = db.session_factory

    def session_factory(engine):
        if engine.url.get_backend_name() != "sqlite":
            return original(engine)
        return sessionmaker(engine, class_=SerialSession, expire_on_commit=False)

    db.session_factory = session_factory


PATCHES = {"sqlite-pool": patch_sqlite_pool, "serial-writes": patch_serial_writes}


def main() -> None:
    args = sys.argv[1:]
    if "--" not in args:
        raise SystemExit(__doc__)
    split = args.index("--")
    opts, target = args[:split], args[split + 1:]
    prefix, patches = None, []
    while opts:
        flag, value = opts.pop(0), opts.pop(0)
        if flag == "--sample":
            prefix = value
        elif flag == "--patch":
            patches.append(value)
        else:
            raise SystemExit(__doc__)
    for name in patches:
        PATCHES[name]()
    sampler = None
    if prefix:
        sampler = Sampler(prefix)
        threading.Thread(target=sampler.run, name="bench-sampler", daemon=True).start()
    sys.argv = target
    sys.path[0] = os.path.dirname(os.path.abspath(target[0]))
    try:
        runpy.run_path(target[0], run_name="__main__")
    finally:
        if sampler:
            sampler.dump("final")


if __name__ == "__main__":
    main()
