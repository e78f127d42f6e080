"""Whole conversations with the lead form: the trained model (models/tsunagi.tar.gz)
in process, the real action server (python -m rasa_sdk) as a subprocess, and a
migrated SQLite desk database. Checks what the test stories cannot: that the
actions' events really drive the form (rejections, interruptions, resumption).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

from desk.db import create_engine, migrate, session_factory
from desk.services.leads import leads_of
from nlp.quality import MODEL, quiet_rasa
from tests.bot.conftest import ROOT, WHATSAPP


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def desk_url(tmp_path_factory):
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('desk') / 'desk.db'}"
    migrate(url)
    return url


@pytest.fixture(scope="module")
def agent(desk_url):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test trains first)")
    port = _free_port()
    token = "bot-test-token"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DESK_DATABASE_URL": desk_url, "ACTION_ENDPOINT_TOKEN": token}
    server = subprocess.Popen([sys.executable, "-m", "actions.server", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the action server did not start")
                time.sleep(0.3)
        quiet_rasa()
        from rasa.core.agent import Agent
        from rasa.utils.endpoints import EndpointConfig

        yield Agent.load(str(MODEL), action_endpoint=EndpointConfig(f"http://127.0.0.1:{port}/webhook",
                                                                                token=token))
    finally:
        server.terminate()  # the SDK's Sanic server may ignore SIGTERM: then kill it
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


class Chat:
    """One WhatsApp user talking to the bot."""

    def __init__(self, agent, wa_id: str):
        self.agent, self.wa_id = agent, wa_id
        self.sender = f"{WHATSAPP['phone_number_id']}_{wa_id}"

    async def say(self, text: str) -> list[str]:
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        out = CollectingOutputChannel()
        meta = {"whatsapp": {**WHATSAPP, "wa_id": self.wa_id}}
        await self.agent.handle_message(UserMessage(text, out, self.sender, metadata=meta))
        return [m.get("text") or "" for m in out.messages]

    async def active_loop(self) -> str | None:
        return (await self.agent.tracker_store.retrieve(self.sender)).active_loop_name


def new_user() -> str:
    return "4477009" + str(uuid.uuid4().int)[:5]


async def stored(desk_url, wa_id):
    engine = create_engine(desk_url)
    try:
        async with session_factory(engine)() as session:
            return await leads_of(session, wa_id)
    finally:
        await engine.dispose()


async def test_a_lead_with_an_faq_a_typo_and_a_correction_is_stored(agent, desk_url):
    chat = Chat(agent, new_user())
    [ask] = await chat.say("I'd like a quote for my company")
    assert "Shall I use the name *Kerry Fisher*?" in ask
    assert await chat.say("/affirm") == ["What email address can our sales team reach you at?"]
    faq, again = await chat.say("how much does delivery cost?")
    assert "£3.95" in faq and again == "What email address can our sales team reach you at?"
    invalid, again = await chat.say("kerry at acme")
    assert "doesn't look like an email address" in invalid and "email address" in again
    assert "Which company" in (await chat.say("kerry@acme.co.uk"))[0]
    assert "What are you interested in?" in (await chat.say("Acme Ltd"))[0]
    noted, again = await chat.say("actually my email is kerry.fisher@acme.com")
    assert "kerry.fisher@acme.com" in noted and "What are you interested in?" in again
    [summary] = await chat.say("Corporate gifts")
    assert "*Email:* kerry.fisher@acme.com" in summary and "*Company:* Acme Ltd" in summary
    [thanks] = await chat.say("yes")
    assert thanks.startswith("Thank you, Kerry Fisher!")
    assert await chat.active_loop() is None
    [lead] = await stored(desk_url, chat.wa_id)
    assert (lead.name, lead.email, lead.company, lead.interest, lead.consent) == (
        "Kerry Fisher", "kerry.fisher@acme.com", "Acme Ltd", "Corporate gifts", True)
    assert lead.phone == f"+{chat.wa_id}"


async def test_stopping_the_form_stores_nothing_and_the_bot_answers_again(agent, desk_url):
    chat = Chat(agent, new_user())
    await chat.say("can someone from sales contact me")
    assert await chat.say("no") == ["No problem. What name should we use?"]
    await chat.say("Tom Baker")
    [stopped] = await chat.say("never mind")
    assert "I've stopped — nothing was saved" in stopped
    assert await chat.active_loop() is None
    [answer] = await chat.say("do you take paypal?")
    assert "PayPal" in answer
    assert await stored(desk_url, chat.wa_id) == []


async def test_declining_consent_stores_nothing(agent, desk_url):
    chat = Chat(agent, new_user())
    for text in ("I want to become a reseller", "Maria Lopez", "maria@lopez.example", "none",
                 "reselling your candles in my shop"):
        await chat.say(text)
    [declined] = await chat.say("no")
    assert "I haven't stored your details" in declined
    assert await stored(desk_url, chat.wa_id) == []
