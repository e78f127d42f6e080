"""`python -m desk admin` end to end, as a script would run it (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
TOKEN = "EAAGm0PX4ZCpsBAsecret-token-that-must-not-leak"
PASSWORD = "a long enough passphrase"


@pytest.fixture
def db(database_url):
    from desk.db import migrate

    migrate(database_url)
    return database_url


def _env(url: str, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DESK_TEST_TOKEN", "NEW_TOKEN")}
    env.update(DESK_DATABASE_URL=url, SQLALCHEMY_SILENCE_UBER_WARNING="1", **extra)
    return env


def cli(url: str, *args: str, input: str | None = None, **env) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "desk", "admin", *args], cwd=ROOT, env=_env(url, **env),
                          input=input, capture_output=True, text=True, timeout=60,
                          stdin=None if input is not None else subprocess.DEVNULL)


def ok(url: str, *args: str, **kw) -> str:
    result = cli(url, *args, **kw)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def as_json(url: str, *args: str) -> list | dict:
    return json.loads(ok(url, *args, "--json"))


def refused(url: str, *args: str, status: int = 1, **kw) -> str:
    """The command fails with `status` and one line on stderr; returns that line."""
    result = cli(url, *args, **kw)
    assert result.returncode == status, (args, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def sql(url: str, statement: str, **params):
    from desk.db import sync_url

    engine = create_sync_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def setup_brand(url: str) -> None:
    ok(url, "brand", "create", "Acme")
    ok(url, "waba", "add", "--brand", "Acme", "--id", "200000000000001", "--name", "Acme main")
    ok(url, "department", "add", "--brand", "Acme", "Support")
    ok(url, "department", "add", "--brand", "Acme", "Sales", "--name-in", "ja=営業")


def test_set_up_a_brand_end_to_end(db):
    setup_brand(db)
    args = ["number", "add", "--waba", "200000000000001", "--id", "100000000000001",
            "--display", "+1 555 000 1111", "--department", "Support", "--token-env", "DESK_TEST_TOKEN"]
    out = ok(db, *args, DESK_TEST_TOKEN=TOKEN)
    assert TOKEN not in " ".join(args) and TOKEN not in out
    ok(db, "number", "add", "--waba", "200000000000001", "--id", "100000000000002",
       "--display", "+442071838750", "--department", "Sales")  # no token: the default one
    ok(db, "operator", "add", "--brand", "Acme", "--email", "Aiko@Example.com", "--name", "Aiko Tanaka",
       "--role", "admin", "--departments", "Support,営業", "--max-chats", "7", "--password-stdin",
       input=PASSWORD + "\n")  # a department by its name in any language

    assert as_json(db, "brand", "list")[0]["name"] == "Acme"
    assert as_json(db, "waba", "list", "--brand", "Acme") == [
        {"id": "200000000000001", "name": "Acme main", "brand": "Acme"}]
    assert [(d["name"], d["names"]) for d in as_json(db, "department", "list")] == [("Sales", "ja=営業"),
                                                                                   ("Support", "")]
    listed = as_json(db, "number", "list", "--brand", "Acme")
    assert [(n["id"], n["display"], n["department"], n["state"], n["token"]) for n in listed] == [
        ("100000000000001", "+15550001111", "Support", "connected", "own"),
        ("100000000000002", "+442071838750", "Sales", "connected", "default")]
    human = ok(db, "number", "list")
    assert TOKEN not in human and TOKEN not in json.dumps(listed)
    assert sql(db, "SELECT access_token FROM phone_numbers WHERE id = '100000000000001'") == [(TOKEN,)]

    [op] = as_json(db, "operator", "list", "--brand", "Acme")
    assert {k: op[k] for k in ("email", "name", "role", "status", "active", "max_chats", "departments")} == {
        "email": "aiko@example.com", "name": "Aiko Tanaka", "role": "admin", "status": "offline",
        "active": True, "max_chats": 7, "departments": ["Sales", "Support"]}
    assert PASSWORD not in json.dumps(op)
    ok(db, "operator", "set-status", "aiko@example.com", "online")
    assert as_json(db, "operator", "list")[0]["status"] == "online"

    async def sign_in(password):
        from desk.db import create_engine, session_factory
        from desk.services.operators import authenticate

        engine = create_engine(db)
        try:
            async with session_factory(engine)() as s:
                return await authenticate(s, "AIKO@example.com", password) is not None
        finally:
            await engine.dispose()

    assert asyncio.run(sign_in(PASSWORD)) and not asyncio.run(sign_in("wrong password!"))
    ok(db, "operator", "passwd", "aiko@example.com", "--password-stdin", input="another passphrase\n")
    assert asyncio.run(sign_in("another passphrase")) and not asyncio.run(sign_in(PASSWORD))

    ok(db, "canned", "add", "--brand", "Acme", "--shortcut", "/Hours", "--title", "Opening hours",
       "--text", "We are open 9-17 JST.")
    assert as_json(db, "canned", "list") == [{"id": 1, "brand": "Acme", "shortcut": "hours", "language": "en",
                                              "title": "Opening hours", "text": "We are open 9-17 JST."}]
    ok(db, "tag", "add", "--brand", "Acme", "VIP")
    assert as_json(db, "tag", "list", "--brand", "Acme") == [{"id": 1, "name": "VIP", "brand": "Acme"}]


def test_the_token_never_appears_in_the_process_arguments(db):
    """While the command waits for the token on stdin, `ps` shows only the option name."""
    setup_brand(db)
    proc = subprocess.Popen(
        [PYTHON, "-m", "desk", "admin", "number", "add", "--waba", "200000000000001", "--id", "100000000000001",
         "--display", "+15550001111", "--department", "Support", "--token-stdin"],
        cwd=ROOT, env=_env(db), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        ps = subprocess.run(["ps", "-o", "args=", "-p", str(proc.pid)], capture_output=True, text=True).stdout
        out, err = proc.communicate(TOKEN + "\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "--token-stdin" in cmdline and TOKEN not in cmdline and TOKEN not in ps
    assert TOKEN not in out + err
    assert sql(db, "SELECT access_token FROM phone_numbers") == [(TOKEN,)]
    # and there is no option that takes the token itself
    line = refused(db, "number", "add", "--waba", "200000000000001", "--id", "100000000000009",
                   "--display", "+15550001119", "--department", "Support", "--token", "x", status=2)
    assert "unrecognized arguments: --token x" in line


def test_a_disconnected_number_is_shown_and_reconnected_with_a_new_token(db):
    setup_brand(db)
    ok(db, "number", "add", "--waba", "200000000000001", "--id", "100000000000001", "--display", "+15550001111",
       "--department", "Support", "--token-env", "DESK_TEST_TOKEN", DESK_TEST_TOKEN=TOKEN)
    sql(db, "UPDATE phone_numbers SET state = 'disconnected', state_reason = :r",
        r="Graph API error 190: Error validating access token")
    [n] = as_json(db, "number", "list")
    assert (n["state"], n["reason"]) == ("disconnected", "Graph API error 190: Error validating access token")
    assert "disconnected" in ok(db, "number", "list")
    assert "MISSING_VAR_X is not set" in refused(db, "number", "reconnect", "100000000000001",
                                               "--token-env", "MISSING_VAR_X")
    out = ok(db, "number", "reconnect", "100000000000001", "--token-stdin", input="new-token-2\n")
    assert "new token stored" in out and "new-token-2" not in out
    [n] = as_json(db, "number", "list")
    assert (n["state"], n["reason"]) == ("connected", None)
    assert sql(db, "SELECT access_token FROM phone_numbers") == [("new-token-2",)]
    assert "no number" in refused(db, "number", "reconnect", "999")


def test_timeouts_outside_the_allowed_range_are_refused_with_the_reason(db):
    setup_brand(db)
    for option, value, reason in [
        ("--unattended-close-minutes", "14", "15 minutes to 1 month (15–44640 minutes), not 14"),
        ("--unattended-close-minutes", "44641", "not 44641"),
        ("--idle-close-minutes", "0", "at most 24 hours (1–1440 minutes), not 0"),
        ("--idle-close-minutes", "1441", "not 1441"),
    ]:
        line = refused(db, "settings", "set", "--brand", "Acme", option, value)
        assert reason in line, line
    assert "not a whole number" in refused(db, "settings", "set", "--brand", "Acme",
                                           "--idle-close-minutes", "ten", status=2)
    before = as_json(db, "settings", "show", "--brand", "Acme")
    assert before["unattended_close_minutes"] == 1440 and before["bot_enabled"] is True
    ok(db, "settings", "set", "--brand", "Acme", "--unattended-close-minutes", "44640",
       "--idle-close-minutes", "1440", "--bot-enabled", "no")
    after = as_json(db, "settings", "show", "--brand", "Acme")
    assert (after["unattended_close_minutes"], after["idle_close_minutes"], after["bot_enabled"]) == (
        44640, 1440, False)
    ok(db, "settings", "set", "--brand", "Acme", "--unattended-close-minutes", "15", "--idle-close-minutes", "1")
    assert as_json(db, "settings", "show", "--brand", "Acme")["unattended_close_minutes"] == 15
    assert "nothing to set" in refused(db, "settings", "set", "--brand", "Acme")


def test_mistakes_get_a_one_line_reason_and_a_non_zero_status(db):
    setup_brand(db)
    assert "already exists" in refused(db, "brand", "create", "Acme")
    assert "no brand 'Nope'" in refused(db, "department", "list", "--brand", "Nope")
    assert "already exists" in refused(db, "department", "add", "--brand", "Acme", "Support")
    assert "already registered" in refused(db, "waba", "add", "--brand", "Acme", "--id", "200000000000001",
                                           "--name", "again")
    assert "numeric" in refused(db, "waba", "add", "--brand", "Acme", "--id", "abc", "--name", "x")
    assert "international form" in refused(db, "number", "add", "--waba", "200000000000001", "--id", "1",
                                           "--display", "555-1234", "--department", "Support")
    assert "no department 'Billing'" in refused(db, "number", "add", "--waba", "200000000000001", "--id", "1",
                                                "--display", "+15550001111", "--department", "Billing")
    assert "DESK_TEST_TOKEN is not set" in refused(db, "number", "add", "--waba", "200000000000001", "--id", "1",
                                                   "--display", "+15550001111", "--department", "Support",
                                                   "--token-env", "DESK_TEST_TOKEN")
    base = ["operator", "add", "--brand", "Acme", "--email", "ken@example.com", "--name", "Ken"]
    assert "at least 10 characters" in refused(db, *base, "--password-stdin", input="short\n")
    assert "no department named 'Billing'" in refused(db, *base, "--departments", "Billing", "--password-stdin",
                                                      input=PASSWORD + "\n")
    assert "--password-stdin" in refused(db, *base)  # no terminal, no password option
    assert "invalid choice" in refused(db, *base, "--role", "root", status=2)
    assert "at least 1" in refused(db, *base, "--max-chats", "0", "--password-stdin", input=PASSWORD + "\n")
    ok(db, *base, "--password-stdin", input=PASSWORD + "\n")
    assert "already exists" in refused(db, *base, "--password-stdin", input=PASSWORD + "\n")
    assert "no operator" in refused(db, "operator", "set-status", "nobody@example.com", "online")
    assert as_json(db, "operator", "list", "--brand", "Acme")[0]["email"] == "ken@example.com"


def test_an_unmigrated_database_gets_a_clear_error(sqlite_url):
    line = refused(sqlite_url, "brand", "list")
    assert "python -m desk migrate" in line


def test_every_admin_command_has_a_help_page():
    """`--help` of every area and action renders (argparse formats help texts with %)."""
    import argparse

    from desk.cli.admin import build_parser

    def walk(parser, path):
        assert "usage:" in parser.format_help(), path
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, path + [name])
        yield path

    paths = list(walk(build_parser(), ["admin"]))
    assert ["admin", "credits"] in paths and ["admin", "credits", "buy"] in paths and len(paths) > 40
    help_page = cli("sqlite+aiosqlite:///unused.db", "credits", "--help")
    assert help_page.returncode == 0 and "record a purchase of credits (USD 2" in help_page.stdout, help_page.stderr
