"""The console and the admin command line refuse the same canned responses and tags
with the same reason: both go through desk.services.canned and desk.services.tags.

Each case is tried both ways on one database (SQLite and PostgreSQL): `POST
/api/admin/canned|tags` as Acme's admin, and `python -m desk admin canned|tag add
--brand Acme ...` as a script runs it. The console's `error` is the CLI's one line
after `desk admin: error: `.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.console.conftest import signed_in

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
CLI_ERROR = "desk admin: error: "

# (console body, CLI arguments after `canned add --brand Acme`, the reason both give)
BAD_CANNED = [
    ({"shortcut": "two words", "title": "T", "text": "x"}, ["--shortcut", "two words", "--title", "T", "--text", "x"],
     "a shortcut has 1 to 40 characters: lower-case letters, digits, - and _, starting with a letter or a digit"),
    ({"shortcut": "-dash", "title": "T", "text": "x"}, ["--shortcut=-dash", "--title", "T", "--text", "x"],
     "a shortcut has 1 to 40 characters: lower-case letters, digits, - and _, starting with a letter or a digit"),
    ({"shortcut": "a" * 41, "title": "T", "text": "x"}, ["--shortcut", "a" * 41, "--title", "T", "--text", "x"],
     "a shortcut has 1 to 40 characters: lower-case letters, digits, - and _, starting with a letter or a digit"),
    ({"shortcut": "ok", "title": " ", "text": "x"}, ["--shortcut", "ok", "--title", " ", "--text", "x"],
     "a title has 1 to 200 characters"),
    ({"shortcut": "ok", "title": "T", "text": "x" * 4097}, ["--shortcut", "ok", "--title", "T", "--text", "x" * 4097],
     "the text has 1 to 4096 characters (WhatsApp's limit)"),
    ({"shortcut": "ok", "title": "T", "text": "Hi {nmae}"}, ["--shortcut", "ok", "--title", "T", "--text", "Hi {nmae}"],
     "unknown variable {nmae} in the text: a canned response may use {name} (the customer's WhatsApp name), "
     "{operator} (yours) and {brand}"),
    ({"shortcut": "/Hours", "title": "T", "text": "x"}, ["--shortcut", "/Hours", "--title", "T", "--text", "x"],
     "the shortcut /hours is already used"),  # `hours` exists (below): upper case and the slash are dropped
]
BAD_TAGS = [
    ({"name": "t" * 61}, ["t" * 61], "a tag has 1 to 60 characters"),
    ({"name": "   "}, ["   "], "a tag has 1 to 60 characters"),
    ({"name": "VIP  customer"}, ["VIP  customer"], "the tag 'VIP customer' already exists"),  # spaces collapsed
]


def _cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DESK_DATABASE_URL=url, SQLALCHEMY_SILENCE_UBER_WARNING="1")
    return subprocess.run([PYTHON, "-m", "desk", "admin", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


async def cli(url: str, *args: str) -> subprocess.CompletedProcess:
    """In a thread: the console's test server shares this event loop."""
    return await asyncio.to_thread(_cli, url, *args)


async def cli_refusal(url: str, *args: str) -> str:
    result = await cli(url, *args)
    assert result.returncode == 1, (args, result.stdout, result.stderr)
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(CLI_ERROR), line
    return line[len(CLI_ERROR):]


async def console_refusal(console, path: str, data: dict) -> str:
    resp = await console.post(path, data)
    assert resp.status == 422, (path, data, resp.status, await resp.text())
    return (await resp.json())["error"]


async def test_bad_canned_responses_are_refused_alike(make_console, desk, database_url):
    admin = await signed_in(make_console, "ada")
    assert (await cli(database_url, "canned", "add", "--brand", "Acme", "--shortcut", "hours", "--title",
                      "Opening hours", "--text", "9-17")).returncode == 0
    for data, args, reason in BAD_CANNED:
        by_console = await console_refusal(admin, "/api/admin/canned", data)
        by_cli = await cli_refusal(database_url, "canned", "add", "--brand", "Acme", *args)
        assert by_console == by_cli == reason, (data, by_console, by_cli)
    # and the same shortcut taken from the other side: a console's shortcut refused by the CLI
    assert (await admin.post("/api/admin/canned", {"shortcut": "/Bye", "title": "Bye", "text": "Goodbye!"})).status == 201
    assert await cli_refusal(database_url, "canned", "add", "--brand", "Acme", "--shortcut", "BYE", "--title", "T",
                             "--text", "x") == "the shortcut /bye is already used"
    listed = json.loads((await cli(database_url, "canned", "list", "--brand", "Acme", "--json")).stdout)
    assert [c["shortcut"] for c in listed] == ["bye", "hours"]  # nothing refused was written


async def test_bad_tags_are_refused_alike(make_console, desk, database_url):
    admin = await signed_in(make_console, "ada")
    assert (await cli(database_url, "tag", "add", "--brand", "Acme", "VIP customer")).returncode == 0
    for data, args, reason in BAD_TAGS:
        by_console = await console_refusal(admin, "/api/admin/tags", data)
        by_cli = await cli_refusal(database_url, "tag", "add", "--brand", "Acme", *args)
        assert by_console == by_cli == reason, (data, by_console, by_cli)
    # a new tag typed on a chat by an admin follows the same rule
    chat_id = await desk.seed_chat("447700900123")
    assert await console_refusal(admin, f"/api/chats/{chat_id}/tags", {"name": "t" * 61}) == BAD_TAGS[0][2]
    listed = json.loads((await cli(database_url, "tag", "list", "--brand", "Acme", "--json")).stdout)
    assert [t["name"] for t in listed] == ["VIP customer"]
