"""The console in headless Chromium against a simulated WhatsApp user.

    simulator ──signed webhooks──▶ webhook.receive ▶ InboxProcessor ▶ stand-in bot (hands off)
        ▲                                                   │
        └── desk worker (outbox: text, media upload) ◀── console ◀── Chromium

The WhatsApp side is the Cloud API simulator; webhooks go through the channel's
own intake (signature, durable inbox, processor), and the console runs with the
desk worker that `python -m desk serve` attaches, pointed at the simulator. The
Rasa agent is replaced by a stand-in that hands the chat over when the user asks
for a person (the full agent runs in tests/e2e): the same desk call the handoff
action makes.

A user asks for a person; an operator signs in, sees the chat arrive live, picks
it, replies (the simulator receives it; the ticks follow its status webhooks),
sees the user's answer appear live, sends a photo (uploaded to the number, sent as
an image message, shown inline), and closes the chat. Script-looking names and
messages from WhatsApp stay text.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select

from cloudapi import signature
from cloudapi.graph import GraphClient
from connectors.whatsapp import webhook
from connectors.whatsapp.processor import InboxProcessor
from desk.attachments import MediaStore
from desk.models import Chat, ChatState, OperatorStatus, Sender
from desk.services import outbox, routing
from simulator import SimConfig, create_app as create_simulator
from tests.console.conftest import SUPPORT_NUMBER
from tests.console.test_browser import (CHROMIUM, XSS, shot, wait_until, browser, database_url, free_port,  # noqa: F401
                                        png, sign_in)

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")

SECRET, TOKEN, WABA = "browser-secret", "browser-token", "200000000000001"
KERRY = "447700900123"


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


class WhatsApp:
    """The simulator's control API, as a test (or a person at /) uses it."""

    def __init__(self, base: str, http):
        self.base, self.http = base, http

    async def say(self, wa_id: str, text: str, name: str = "Kerry Fisher") -> None:
        async with self.http.post(f"{self.base}/_sim/users/{wa_id}/messages",
                                  json={"type": "text", "text": text, "profile_name": name}) as resp:
            assert resp.status == 200, await resp.text()

    async def thread(self, wa_id: str) -> list[dict]:
        async with self.http.get(f"{self.base}/_sim/users/{wa_id}/messages") as resp:
            return (await resp.json())["messages"]

    async def received(self, wa_id: str, predicate, timeout: float = 15.0) -> dict:
        """The first outbound message to `wa_id` matching `predicate`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while True:
            for m in await self.thread(wa_id):
                if m["direction"] == "outbound" and predicate(m):
                    return m
            if time.monotonic() > deadline:
                raise AssertionError(f"the simulated user {wa_id} never received it: {await self.thread(wa_id)}")
            await asyncio.sleep(0.1)

    async def media(self, media_id: str) -> bytes:
        async with self.http.get(f"{self.base}/_sim/media/{media_id}") as resp:
            assert resp.status == 200
            return await resp.read()


@pytest.fixture
async def stack(desk, console_settings, monkeypatch):
    """Simulator, channel intake, console with its worker; yields (console URL, WhatsApp)."""
    import aiohttp

    from desk.web.app import create_app
    from desk.web.context import SESSIONS
    from desk.worker import attach

    await desk.set_status("carol", OperatorStatus.away)  # someone is around: handed-over chats wait
    runners = []
    holder = {}

    async def receive(request: web.Request) -> web.Response:
        status, body = await webhook.receive(await request.read(), request.headers.get(signature.HEADER),
                                             app_secret=SECRET, max_body_bytes=4 * 1024 * 1024,
                                             processor=holder["processor"])
        return web.json_response(body, status=status)

    channel_app = web.Application()
    channel_app.router.add_post("/webhooks/whatsapp/webhook", receive)
    runner, channel_url = await _serve(channel_app)
    runners.append(runner)
    runner, sim_url = await _serve(create_simulator(SimConfig(
        webhook_url=f"{channel_url}/webhooks/whatsapp/webhook", app_secret=SECRET, access_token=TOKEN,
        phone_number_id=SUPPORT_NUMBER, display_phone_number="15550100", waba_id=WABA, status_delay_ms=30,
        webhook_retry_base_ms=50, webhook_retry_max_ms=200)))
    runners.append(runner)

    # The stand-in for Rasa and the action server: answer, and hand over on request.
    async def bot(item, chat_id: int, opens_chat: bool, retry: bool = False) -> None:
        async with desk.sessions() as session, session.begin():
            chat = await session.get(Chat, chat_id)
            if "person" in (item.text or "").lower():
                await routing.hand_off(session, chat_id)
                await outbox.send_system_text(session, chat, "I'm handing you to a colleague from Support.",
                                              sender=Sender.bot)
            else:
                await outbox.send_system_text(session, chat, "Hi! I'm the Acme assistant. How can I help?",
                                              sender=Sender.bot)

    graph = GraphClient(f"{sim_url}/v21.0", backoff=0.01)
    processor = InboxProcessor(desk.sessions, graph, TOKEN, bot, media_store=MediaStore(console_settings.media_dir))
    holder["processor"] = processor
    await processor.start()

    # The console as `python -m desk serve` runs it: with the worker, configured from the environment.
    monkeypatch.setenv("WHATSAPP_GRAPH_API_URL", f"{sim_url}/v21.0")
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("DESK_MEDIA_DIR", str(console_settings.media_dir))
    console_app = create_app(console_settings, cookie_secure=False)
    attach(console_app, SESSIONS)
    runner, console_url = await _serve(console_app)
    runners.append(runner)
    http = aiohttp.ClientSession()
    try:
        yield console_url, WhatsApp(sim_url, http)
    finally:
        await http.close()
        await processor.stop()
        await graph.close()
        for r in reversed(runners):
            await r.cleanup()


async def test_an_operator_answers_a_whatsapp_user_from_the_console(stack, browser, desk):
    expect = playwright_api.expect
    base, wa = stack
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, base, "alice@acme.test")
    await expect(page.locator("#chat-list")).to_contain_text("Nobody is waiting")
    await page.evaluate("window.__noReload = 1")

    # A WhatsApp user talks to the bot, then asks for a person: the chat arrives live.
    await wa.say(KERRY, "Hi! My parcel hasn't arrived yet")
    await wa.received(KERRY, lambda m: "Acme assistant" in m["content"]["body"])
    await wa.say(KERRY, "Can I talk to a person please?")
    item = page.locator(".chat-item", has_text="Kerry Fisher")
    await expect(item).to_be_visible()
    await expect(page.locator('[data-count="waiting"]')).to_have_text("1")
    await item.click()
    await expect(page.locator("#contact-name")).to_have_text("Kerry Fisher")
    await expect(page.locator(".conv-head .sub")).to_contain_text("+44 7700 900123")
    await expect(page.locator(".msg.bot .bubble").last).to_contain_text("handing you to a colleague")
    await expect(page.locator("#composer-reason")).to_have_text("Pick this chat to answer it.")

    await page.click("#pick")
    await expect(page.locator("#reply")).to_be_enabled()
    await page.fill("#reply", "Hello Kerry, Alice from Support here. Let me check that for you.")
    await page.keyboard.press("Enter")
    sent = await wa.received(KERRY, lambda m: m["type"] == "text" and "Alice from Support" in m["content"]["body"])
    assert sent["request"]["biz_opaque_callback_data"].startswith("outbox:")
    # The simulator's status webhooks (sent, delivered, read) move the ticks.
    reply = page.locator(".msg.operator", has_text="Alice from Support")
    await expect(reply.locator('.ticks[data-status="read"]')).to_be_visible()

    # The user answers: it shows up without a reload.
    await wa.say(KERRY, "Thanks! It's order #A-20931.")
    await expect(page.locator(".msg.user .bubble").last).to_contain_text("order #A-20931")

    # A photo: checked, uploaded to the number, sent as an image message, shown inline.
    photo = png()
    await page.set_input_files("#attach-input", files=[{"name": "label.png", "mimeType": "image/png", "buffer": photo}])
    await expect(page.locator(".modal")).to_contain_text("label.png")
    await page.fill("#attach-caption", "The shipping label we have on file")
    await page.click(".modal .btn.primary")
    image = await wa.received(KERRY, lambda m: m["type"] == "image")
    assert image["request"]["image"]["caption"] == "The shipping label we have on file"
    assert await wa.media(image["request"]["image"]["id"]) == photo
    mine = page.locator(".msg.operator", has=page.locator("img.media"))
    await expect(mine.locator(".bubble")).to_contain_text("The shipping label we have on file")
    await wait_until(page, "[...document.querySelectorAll('.msg.operator img.media')].some((i) => i.naturalWidth > 0)")
    await expect(mine.locator('.ticks[data-status="read"]')).to_be_visible()

    # Script-looking text from WhatsApp stays text: in the transcript...
    await wa.say(KERRY, XSS)
    await expect(page.locator(".msg.user .bubble").last).to_have_text(XSS)
    # ...and as a name in the waiting list.
    await wa.say("15550001111", "I want a person", name=XSS)
    evil = page.locator(".chat-item .name", has_text="onerror")
    await page.click('.nav-item[data-list="waiting"]')
    await expect(evil).to_have_text(XSS)
    await page.click('.nav-item[data-list="mine"]')
    await page.locator(".chat-item", has_text="Kerry Fisher").click()
    await expect(page.locator("#contact-name")).to_have_text("Kerry Fisher")
    await expect(page.locator(".msg.operator img.media")).to_be_visible()
    await expect(page.locator("#side-pane")).to_contain_text("24h window")
    await wait_until(page, "document.querySelector('.msg.operator img.media')?.naturalWidth > 0")
    await expect(page.locator('[data-count="waiting"]')).to_have_text("1")  # the second user, live
    await page.evaluate("document.getElementById('toasts').replaceChildren()")
    await shot(page, "console-whatsapp-reply")

    await page.click("#close-chat")
    await page.fill(".modal input", "parcel located")
    await page.click(".modal .btn.danger")
    await expect(page.locator("#composer-reason")).to_contain_text("A closed chat cannot be answered.")
    async with desk.sessions() as session:
        chats = await session.execute(select(Chat).where(Chat.state == ChatState.closed))
        assert [(c.closed_by, c.close_reason) for c in chats.scalars()] == [("alice@acme.test", "parcel located")]

    assert await page.evaluate("window.__noReload") == 1
    assert await page.evaluate("typeof window.__xss") == "undefined"
    assert errors == []
    await context.close()
