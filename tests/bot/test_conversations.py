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

    def __init__(self, agent, wa_id: str, **whatsapp):
        self.agent, self.wa_id, self.whatsapp = agent, wa_id, whatsapp
        self.sender = f"{WHATSAPP['phone_number_id']}_{wa_id}"

    async def say(self, text: str) -> list[str]:
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        out = CollectingOutputChannel()
        meta = {"whatsapp": {**WHATSAPP, "wa_id": self.wa_id, **self.whatsapp}}
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


# -- Japanese -------------------------------------------------------------------------
# The channel says which language to start in (metadata.whatsapp.language: the chat's,
# else the brand's default); actions/session.py sets the slot once per session.

async def test_a_japanese_customer_is_answered_in_japanese_and_leaves_a_lead(agent, desk_url):
    wa_id = "8190" + str(uuid.uuid4().int)[:8]
    chat = Chat(agent, wa_id, language="ja", profile_name="田中 太郎")
    [hello] = await chat.say("/greet")
    assert hello.startswith("田中様、こんにちは！Kumo Goodsのバーチャルアシスタントです。")
    [ask] = await chat.say("/sales_inquiry")
    assert "お名前は *田中 太郎* 様でよろしいですか？" in ask
    assert await chat.say("/affirm") == ["営業担当からご連絡するメールアドレスを教えてください。"]
    invalid, again = await chat.say("/inform")  # not an email: the Japanese re-prompt, then the question
    assert invalid.startswith("メールアドレスの形式ではないようです。") and again.startswith("営業担当から")
    assert (await chat.say("tanaka＠example.jp"))[0].startswith("会社名を教えてください。")
    assert (await chat.say("（株）クモ"))[0].startswith("どのようなご用件でしょうか？")
    [summary] = await chat.say("名入れマグカップ200個")
    assert summary.startswith("以下の内容で承ります。")
    assert "*会社名:* (株)クモ" in summary and f"*電話番号:* +{wa_id}" in summary
    [thanks] = await chat.say("/affirm")
    assert thanks.startswith("田中 太郎様、ありがとうございます！")
    [lead] = await stored(desk_url, wa_id)
    assert (lead.name, lead.email, lead.company, lead.phone) == ("田中 太郎", "tanaka@example.jp", "(株)クモ",
                                                                 f"+{wa_id}")


async def test_a_change_of_language_in_the_middle_of_the_form_keeps_the_form(agent, desk_url):
    chat = Chat(agent, new_user())   # no language from the channel: English
    [ask] = await chat.say("I'd like a quote for my company")
    assert "Shall I use the name *Kerry Fisher*?" in ask
    assert await chat.say("/affirm") == ["What email address can our sales team reach you at?"]
    switched, again = await chat.say('/switch_language{"language":"ja"}')
    assert switched == "かしこまりました。日本語で対応いたします。"
    assert again == "営業担当からご連絡するメールアドレスを教えてください。"
    assert await chat.active_loop() == "lead_form"
    [company] = await chat.say("kerry@acme.co.uk")
    assert company.startswith("会社名を教えてください。")
    switched, again = await chat.say('/switch_language{"language":"en"}')
    assert (switched, again) == ("Sure, I'll write in English.", "Which company are you with? (Type *none* if it's just for you.)")
    [interest] = await chat.say("none")
    assert interest.startswith("What are you interested in?")
    await chat.say("/stop")
    assert await chat.active_loop() is None
