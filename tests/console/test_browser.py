"""The console in a real browser (Debian's chromium, headless) against the app on a free port.

Sign in, see the waiting chat, pick it, reply (an outbox row appears), see a new user
message arrive live without a reload, close the chat; a script-looking name and
message stay text. Saves the screenshots in docs/screenshots/console-*.png.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import socket
import struct
import zlib
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select

from desk.attachments import MediaStore
from desk.models import CannedResponse, Chat, ChatState, Message, OperatorStatus, OutboxMessage, Sender, Tag, utcnow
from desk.services import conversations, leads, numbers, routing
from tests.console.conftest import PASSWORD, SALES_NUMBER

playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
XSS = "<img src=x onerror=window.__xss=1>"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")


@pytest.fixture
def database_url(sqlite_url):
    """The browser test runs on SQLite only (the API tests cover PostgreSQL)."""
    return sqlite_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def png(width: int = 240, height: int = 150) -> bytes:
    """A small gradient PNG, made here (no binary fixtures)."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (
        40 + x * 150 // width, 110 + y * 100 // height, 200 - x * 60 // width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


async def seed_conversations(desk, media_dir: Path) -> dict:
    """Kerry (a rich chat with the bot, a photo and a lead), a second waiting chat, and the XSS chat."""
    await desk.set_status("carol", OperatorStatus.away)  # someone is around: handed-over chats wait
    now = utcnow().replace(microsecond=0)
    photo = MediaStore(media_dir).save(png(), "image/png")
    wamids = iter(range(1000, 2000))

    async with desk.sessions() as session, session.begin():
        async def user(wa_id, name, text, at, number="100000000000001", **media):
            chat, _ = await conversations.record_inbound(
                session, phone_number_id=number, wa_id=wa_id, profile_name=name, wamid=f"wamid.b{next(wamids)}",
                type="image" if media else "text", body=text, payload={}, wa_timestamp=at, **media)
            return chat

        async def bot(chat, text, at, status="read"):
            msg = await conversations.record_outbound(session, chat_id=chat.id, sender=Sender.bot, type="text",
                                                      body=text, payload={"type": "text"})
            msg.wa_timestamp, msg.status, msg.status_at, msg.wamid = at, status, at, f"wamid.o{next(wamids)}"

        t = now - dt.timedelta(minutes=6)
        kerry = await user("447700900123", "Kerry Fisher", "Hi! My parcel hasn't arrived yet", t)
        await bot(kerry, "Hi Kerry! I'm the Acme assistant. Orders usually arrive within 2–4 working days. "
                         "Could you tell me your order number?", t + dt.timedelta(seconds=3))
        await user("447700900123", "Kerry Fisher", "It's #A-20931. Here's the label:", t + dt.timedelta(seconds=40))
        await user("447700900123", "Kerry Fisher", None, t + dt.timedelta(seconds=41), media=photo,
                   media_filename="label.png")
        await bot(kerry, "Thanks! I'm handing you to a colleague from Support who can check the courier.",
                  t + dt.timedelta(seconds=44), status="delivered")
        await leads.save_lead(session, wa_id="447700900123", phone_number_id="100000000000001", name="Kerry Fisher",
                              email="kerry@fisher.example", company="Fisher & Co", interest="Bulk orders for Q3",
                              consent=True, chat_id=kerry.id)
        await routing.hand_off(session, kerry.id)

        haru = await user("819012345678", "Haruto Sato", "Do you ship to Osaka?", now - dt.timedelta(minutes=2))
        await routing.hand_off(session, haru.id)
        evil = await user("15550001111", XSS, XSS, now - dt.timedelta(minutes=1))
        await routing.hand_off(session, evil.id)
        sales = await user("447700900555", "Priya Raman", "I'd like a quote for 40 seats",
                           now - dt.timedelta(minutes=12), number=SALES_NUMBER)
        await routing.hand_off(session, sales.id)

        session.add_all([
            CannedResponse(brand_id=desk.brand_id, shortcut="hello", title="Greeting",
                           text="Hello! Thanks for waiting, I'm looking into it now."),
            CannedResponse(brand_id=desk.brand_id, shortcut="courier", title="Courier check",
                           text="I've asked the courier for an update and will get back to you within the hour."),
            Tag(brand_id=desk.brand_id, name="delivery"), Tag(brand_id=desk.brand_id, name="vip"),
        ])
        await numbers.mark_disconnected(session, SALES_NUMBER,
                                        "Graph API error 190: Error validating access token: the user has not "
                                        "authorized application (partner access removed)")
        return {"kerry": kerry.id, "haru": haru.id, "evil": evil.id}


@pytest.fixture
async def served(desk, console_settings):
    from desk.web.app import create_app

    chats = await seed_conversations(desk, console_settings.media_dir)
    runner = web.AppRunner(create_app(console_settings, cookie_secure=False), shutdown_timeout=1)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}", chats
    finally:
        await runner.cleanup()


@pytest.fixture
async def browser():
    # Importing Rasa's Sanic (via the channel's Graph client) installs uvloop's loop policy,
    # which has no child watcher for the loop pytest already runs: start Playwright's driver
    # with the standard policy's watcher, then put the policy back.
    policy = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    try:
        manager = playwright_api.async_playwright()
        p = await manager.__aenter__()
    finally:
        asyncio.set_event_loop_policy(policy)
    try:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            await b.close()
    finally:
        await manager.__aexit__(None, None, None)


async def sign_in(page, base: str, email: str) -> None:
    await page.goto(base + "/")
    assert page.url.endswith("/login")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#submit")
    await page.wait_for_url(base + "/#/inbox/*")


async def test_operator_day_in_the_console(served, browser, desk):
    expect = playwright_api.expect
    base, chats = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # uncaught exceptions in the page

    await sign_in(page, base, "alice@acme.test")
    # The waiting chats of Alice's department, not Sales'.
    kerry_item = page.locator(f'.chat-item[data-chat-id="{chats["kerry"]}"]')
    await expect(kerry_item).to_be_visible()
    await expect(kerry_item).to_contain_text("Kerry Fisher")
    await expect(page.locator(".chat-item")).to_have_count(3)
    await expect(page.locator("#chat-list")).not_to_contain_text("Priya")
    await expect(page.locator('[data-count="waiting"]')).to_have_text("3")
    await page.evaluate("window.__noReload = 1")

    await kerry_item.click()
    await expect(page.locator("#contact-name")).to_have_text("Kerry Fisher")
    await expect(page.locator("#composer-reason")).to_have_text("Pick this chat to answer it.")
    await expect(page.locator(".bubble img.media")).to_be_visible()
    await expect(page.locator("#lead-panel")).to_contain_text("kerry@fisher.example")
    await page.wait_for_function("document.querySelector('.bubble img.media').naturalWidth > 0")
    await page.screenshot(path=str(SHOTS / "console-inbox.png"))

    await page.click("#pick")
    await expect(page.locator("#reply")).to_be_enabled()
    await page.wait_for_url(f"**/#/inbox/mine/{chats['kerry']}")
    # A canned response through "/".
    await page.fill("#reply", "")
    await page.type("#reply", "/cou")
    await expect(page.locator(".popup .opt.sel")).to_contain_text("/courier")
    await page.keyboard.press("Enter")
    await expect(page.locator("#reply")).to_have_value(
        "I've asked the courier for an update and will get back to you within the hour.")
    await page.fill("#reply", "Hi Kerry, Alice from Support here. Let me check #A-20931 with the courier.")
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg.operator .bubble").last).to_contain_text("Let me check #A-20931")
    await expect(page.locator("#reply")).to_have_value("")
    async with desk.sessions() as session:
        rows = (await session.execute(select(OutboxMessage).join(Message, Message.id == OutboxMessage.message_id)
                                      .where(Message.chat_id == chats["kerry"]))).scalars().all()
    assert [r.request["text"]["body"] for r in rows] == [
        "Hi Kerry, Alice from Support here. Let me check #A-20931 with the courier."]

    # The user writes again (as the channel would, from another process): it shows up live.
    await desk.say("447700900123", "Great, thank you! I'm home all day.")
    await expect(page.locator(".msg.user .bubble").last).to_contain_text("I'm home all day", timeout=3000)
    assert await page.evaluate("window.__noReload") == 1

    # A file breaking the product rules is refused before any upload.
    uploads: list[str] = []
    page.on("request", lambda req: uploads.append(req.url) if "/attachments" in req.url else None)
    await page.set_input_files("#attach-input", files=[{"name": "invoice.docx", "mimeType": "application/msword",
                                                        "buffer": b"not allowed"}])
    await expect(page.locator(".toast.error")).to_contain_text("'.docx' files cannot be sent on WhatsApp here")
    assert uploads == []
    # Tag it.
    await page.click(".tag-add")
    await page.fill(".tag-input", "delivery")
    await page.keyboard.press("Enter")
    await expect(page.locator(".tagbar .tag")).to_contain_text("delivery")
    await page.evaluate("document.getElementById('toasts').replaceChildren()")
    await page.screenshot(path=str(SHOTS / "console-chat.png"))

    await page.click("#close-chat")
    await page.fill(".modal input", "parcel located")
    await page.click(".modal .btn.danger")
    await expect(page.locator("#composer-reason")).to_contain_text("A closed chat cannot be answered.")
    await expect(page.locator("#reply")).to_be_disabled()
    async with desk.sessions() as session:
        chat = await session.get(Chat, chats["kerry"])
        assert chat.state == ChatState.closed and chat.closed_by == "alice@acme.test"

    # Script-looking names and messages stay text.
    await page.goto(f"{base}/#/inbox/waiting/{chats['evil']}")
    await expect(page.locator("#contact-name")).to_have_text(XSS)
    await expect(page.locator(".msg.user .bubble").last).to_have_text(XSS)
    await expect(page.locator(f'.chat-item[data-chat-id="{chats["evil"]}"] .name')).to_have_text(XSS)
    assert await page.evaluate("typeof window.__xss") == "undefined"
    assert await page.locator("#messages img").count() == 0

    # The admin pages.
    await page.click("#signout")
    await page.wait_for_url("**/login")
    await sign_in(page, base, "ada@acme.test")
    await page.goto(f"{base}/#/admin/numbers")
    await expect(page.locator(".admin-pane h1")).to_have_text("WhatsApp numbers")
    await expect(page.locator(".admin-pane")).to_contain_text("partner access removed")
    await page.screenshot(path=str(SHOTS / "console-admin.png"))
    await page.goto(f"{base}/#/admin/timeouts")
    await page.fill("#unattended", "5")
    await page.click("#save-timeouts")
    await expect(page.locator(".admin-pane .form-error")).to_contain_text("15 minutes to 1 month")
    assert await page.evaluate("typeof window.__xss") == "undefined"
    assert errors == []
    await context.close()
