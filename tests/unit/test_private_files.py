"""The embedded default's files hold customers' chats, contacts and media: owner only."""
import os
import stat

from sqlalchemy import text

from desk.attachments import MediaStore
from desk.db import create_engine, migrate


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_the_sqlite_database_and_its_wal_are_created_0600(tmp_path):
    db = tmp_path / "var" / "desk.db"
    old = os.umask(0o022)  # the usual umask, which would give 0644
    try:
        migrate(f"sqlite+aiosqlite:///{db}")
        engine = create_engine(f"sqlite+aiosqlite:///{db}")
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            await conn.execute(text("INSERT INTO probe VALUES (1)"))
            assert mode(db) == 0o600
            assert mode(f"{db}-wal") == 0o600
        await engine.dispose()
    finally:
        os.umask(old)


def test_an_existing_world_readable_database_is_restricted(tmp_path):
    db = tmp_path / "desk.db"
    db.write_bytes(b"")
    os.chmod(db, 0o644)
    migrate(f"sqlite+aiosqlite:///{db}")
    assert mode(db) == 0o600


def test_stored_media_is_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        stored = MediaStore(tmp_path / "media").save(b"\x89PNG\r\n\x1a\nx", "image/png")
    finally:
        os.umask(old)
    assert mode(stored.path) == 0o600 and mode(stored.path.parent) == 0o700


async def test_a_second_engine_on_a_file_in_use_keeps_the_first_ones_locks(tmp_path):
    """Opening and closing a descriptor of a database file drops every POSIX lock the
    process holds on it (sqlite.org/howtocorrupt). In WAL mode an open connection
    holds a shared lock on the file; without it, another process closing its last
    connection believes it is the last one, checkpoints and removes the WAL under
    us: "database disk image is malformed". A new engine must not drop the lock."""
    import subprocess
    import sys

    db = tmp_path / "desk.db"
    url = f"sqlite+aiosqlite:///{db}"
    migrate(url)
    # Can another process take a write lock on SQLite's shared-lock bytes of the file?
    probe = ("import fcntl, sys\nf = open(sys.argv[1], 'rb+')\ntry:\n"
             "    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 510, 0x40000002, 0); print('free')\n"
             "except OSError:\n    print('held')")

    def shared_lock() -> str:
        return subprocess.run([sys.executable, "-c", probe, str(db)], capture_output=True, text=True,
                              timeout=60).stdout.strip()

    first = create_engine(url, writer=True, pooled=True)
    try:
        async with first.connect() as conn:
            await conn.execute(text("SELECT count(*) FROM sqlite_master"))
            assert shared_lock() == "held"
            second = create_engine(url, writer=True, pooled=True)  # e.g. the intake's own engine
            after = shared_lock()
            await second.dispose()
        assert after == "held"
    finally:
        await first.dispose()
