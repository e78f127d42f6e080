"""The bot idle rules run in the action server process, from the desk database."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from sqlalchemy import select

from desk.models import Chat, Message, OutboxMessage, Sender, WhatsAppBusinessAccount, utcnow
from desk.services import settings
from tests.conftest import ROOT
from tests.desk import seed
from tests.e2e.conftest import free_port


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


async def _step_and_outbox(sessions, chat_id):
    async with sessions() as s:
        chat = await s.get(Chat, chat_id)
        bodies = (await s.execute(select(Message.body).join(OutboxMessage, OutboxMessage.message_id == Message.id)
                                  .where(Message.chat_id == chat_id, Message.sender == Sender.bot))).scalars().all()
        return chat.bot_idle_step, list(bodies)


async def test_the_action_server_nudges_an_idle_user_and_a_restart_goes_on(sessions, database_url):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        await settings.update(s, brand_id, bot_idle_rules=[
            {"after_minutes": 10, "action": "nudge", "text": "Are you still there?"},
            {"after_minutes": 60, "action": "close", "text": "Closing this chat."}])
        chat = await seed.chat_from(s, "441", "hi", at=utcnow() - dt.timedelta(minutes=11))

    port = free_port()
    env = {**os.environ, "DESK_DATABASE_URL": database_url, "BOT_IDLE_INTERVAL_SECONDS": "0.3",
           "PYTHONPATH": str(ROOT), "ACTION_ENDPOINT_TOKEN": "t"}

    def start():
        return subprocess.Popen([sys.executable, "-m", "actions.server", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    server = start()
    try:
        deadline = time.monotonic() + 60
        step, bodies = 0, []
        while time.monotonic() < deadline and step == 0:
            time.sleep(0.3)
            step, bodies = await _step_and_outbox(sessions, chat.id)
        assert _healthy(port), "the action server does not answer /health"
        assert (step, bodies) == (1, ["Are you still there?"])
    finally:
        server.terminate()
        server.wait(timeout=30)

    # A restarted server does not repeat the step (the state is in the database).
    server = start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _healthy(port):
            time.sleep(0.3)
        time.sleep(1.5)  # several rounds at 0.3 s
        assert await _step_and_outbox(sessions, chat.id) == (step, bodies)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _call(port: int, query: str, action: str = "action_submit_lead") -> int:
    body = json.dumps({"next_action": action, "sender_id": "x", "version": "3.6.2",
                       "tracker": {"sender_id": "x", "slots": {}, "latest_message": {}, "events": []},
                       "domain": {}}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/webhook{query}", data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_action_server_answers_only_calls_with_rasas_token(database_url):
    port = free_port()
    env = {**os.environ, "DESK_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT),
           "ACTION_ENDPOINT_TOKEN": "s3cret-トークン"}
    server = subprocess.Popen([sys.executable, "-m", "actions.server", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _healthy(port):
            time.sleep(0.3)
        assert _healthy(port)  # /health stays open (the launcher's readiness check)
        assert _call(port, "") == 401
        assert _call(port, "?token=wrong") == 401
        assert _call(port, "?token=" + urllib.parse.quote("s3cret-トークン"), "no_such_action") == 404
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_action_server_does_not_start_without_a_token(database_url):
    env = {k: v for k, v in os.environ.items() if k != "ACTION_ENDPOINT_TOKEN"}
    env.update(DESK_DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "actions.server", "--port", str(free_port())], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "ACTION_ENDPOINT_TOKEN is not set" in done.stderr
