"""The console in a real browser (Debian's chromium, headless) against the app on a free port.

Sign in, see the waiting chat, pick it, reply (an outbox row appears), see a new user
message arrive live without a reload, close the chat; a script-looking name and
message stay text. `make screenshots` runs it saving docs/screenshots/console-*.png.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import struct
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select

from desk.attachments import MediaStore
from desk.models import (CannedResponse, Chat, ChatState, Message, Operator, OperatorStatus, OutboxMessage, Sender, Tag,
                         utcnow)
from desk.services import conversations, leads, numbers, routing
from tests.clock import clock_from
from tests.console.conftest import PASSWORD, SALES_NUMBER, free_port, sign_in  # noqa: F401 - used by the browser tests

playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Screenshots are made by `make screenshots`, not by every test run (a run leaves the tree clean).
MAKE_SHOTS = os.environ.get("TSUNAGI_SCREENSHOTS") == "1"
XSS = "<img src=x onerror=window.__xss=1>"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")


# The start of a month before noon (the day this test once failed: 2026-12-01): the
# credits page's months and the free tier must come from the desk's clock, not today's.
CLOCK_START = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock_from(CLOCK_START):
        yield


@pytest.fixture
def database_url(sqlite_url):
    """The browser test runs on SQLite only (the API tests cover PostgreSQL)."""
    return sqlite_url


async def shot(page, name: str) -> None:
    """Save docs/screenshots/<name>.png when screenshots are asked for."""
    if MAKE_SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"{name}.png"))


async def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """Poll a page expression from outside (wait_for_function polls with eval, which the
    console's CSP rightly forbids once the first check is false)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await page.evaluate(expression):
        if loop.time() > deadline:
            raise AssertionError(f"still false after {timeout:.0f}s: {expression}")
        await asyncio.sleep(0.1)


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
        # A lead whose follow-up was refused, with a script-looking reason (shown as text).
        evil_lead = await leads.save_lead(session, wa_id="15550001111", phone_number_id="100000000000001", name=XSS,
                                          email=None, company=None, interest=XSS, consent=True, chat_id=evil.id)
        evil_lead.follow_up_state, evil_lead.follow_up_reason = "refused", f"no credit left {XSS}"
        evil_lead.followed_up_at = now
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
async def served(desk, console_settings, serve_console):
    chats = await seed_conversations(desk, console_settings.media_dir)
    return await serve_console(), chats


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


async def test_operator_day_in_the_console(served, browser, desk):
    expect = playwright_api.expect
    base, chats = served
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
    # Grouped by department, counted in the list's own word.
    await expect(page.locator(".group-head")).to_have_count(1)
    await expect(page.locator(".group-head .dept")).to_have_text("Support")
    await expect(page.locator(".group-head .group-count")).to_have_text("3 waiting")
    await page.evaluate("window.__noReload = 1")

    await kerry_item.click()
    await expect(page.locator("#contact-name")).to_have_text("Kerry Fisher")
    await expect(page.locator("#composer-reason")).to_have_text("Pick this chat to answer it.")
    await expect(page.locator(".bubble img.media")).to_be_visible()
    await expect(page.locator("#lead-panel")).to_contain_text("kerry@fisher.example")
    # Captured just now: the follow-up is due in LEAD_FOLLOW_UP_AFTER_HOURS (24 by default).
    follow_up = page.locator("#lead-panel dt", has_text="Follow-up").locator("xpath=following-sibling::dd[1]")
    await expect(follow_up).to_have_text(re.compile(r"^due tomorrow \d{1,2}:\d\d( [AP]M)?$"))
    await wait_until(page, "document.querySelector('.bubble img.media')?.naturalWidth > 0")
    await shot(page, "console-inbox")

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
    await shot(page, "console-chat")

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
    evil_follow_up = page.locator("#lead-panel dt", has_text="Follow-up").locator("xpath=following-sibling::dd[1]")
    await expect(evil_follow_up).to_have_text(f"not sent: no credit left {XSS}")
    assert await page.locator("#lead-panel img").count() == 0

    # Nobody joined Haruto's chat in time: the unattended list says so in its group header.
    async with desk.sessions() as session, session.begin():
        (await session.get(Chat, chats["haru"])).state = ChatState.unattended
    await page.goto(f"{base}/#/inbox/unattended/{chats['haru']}")
    await page.reload()  # the state was changed behind the console's back: no live event
    await expect(page.locator("#contact-name")).to_have_text("Haruto Sato")
    await expect(page.locator('[data-count="unattended"]')).to_have_text("1")
    await expect(page.locator(".group-head .group-count")).to_have_text("1 unattended")
    await page.evaluate("document.getElementById('toasts').replaceChildren()")
    await shot(page, "console-unattended")

    # The admin pages.
    await page.click("#signout")
    await page.wait_for_url("**/login")
    await sign_in(page, base, "ada@acme.test")
    await page.goto(f"{base}/#/admin/numbers")
    await expect(page.locator(".admin-pane h1")).to_have_text("WhatsApp numbers")
    sales_row = page.locator(f'tr[data-number="{SALES_NUMBER}"]')
    await expect(sales_row).to_contain_text("partner access removed")
    await expect(sales_row.locator(".state-pill")).to_have_text("disconnected")
    await page.evaluate("document.getElementById('toasts').replaceChildren()")
    await shot(page, "console-admin")
    # Reconnect it with a new token (never shown again).
    await sales_row.locator("button", has_text="Reconnect").click()
    await page.fill("#f-access_token", "a-new-token-from-meta")
    await page.click(".modal .btn.primary")
    await expect(sales_row.locator(".state-pill")).to_have_text("connected")
    await expect(page.locator(".admin-pane")).not_to_contain_text("a-new-token-from-meta")
    # Add a WABA and a number on it.
    await page.click("#add-waba")
    await page.fill("#f-id", "200000000000002")
    await page.fill("#f-name", "Acme Japan")
    await page.click(".modal .btn.primary")
    await expect(page.locator(".admin-pane")).to_contain_text("Acme Japan")
    await page.click("#add-number")
    await page.select_option("#f-waba_id", "200000000000002")
    await page.fill("#f-id", "100000000000003")
    await page.fill("#f-display", "12345")
    await page.click(".modal .btn.primary")
    await expect(page.locator(".modal .form-error")).to_contain_text("international form")  # stays open, says why
    await page.fill("#f-display", "+81 3 1234 5678")
    await page.select_option("#f-department_id", label="Sales")
    await page.click(".modal .btn.primary")
    await expect(page.locator('tr[data-number="100000000000003"]')).to_contain_text("+81 3-1234-5678")  # one format (desk.phone_display)

    # A new operator, created with a password and a department.
    await page.goto(f"{base}/#/admin/team")
    await page.click("#add-operator")
    await page.fill("#f-email", "dan@acme.test")
    await page.fill("#f-name", "Dan Sales")
    await page.locator("#f-department_ids label", has_text="Sales").locator("input").check()
    await page.fill("#f-password", "a long enough passphrase")
    await page.evaluate("document.getElementById('toasts').replaceChildren()")
    await shot(page, "console-admin-team")
    await page.click(".modal .btn.primary")
    dan = page.locator('tr[data-operator="dan@acme.test"]')
    await expect(dan).to_contain_text("Sales")
    await dan.locator("button", has_text="Deactivate").click()
    await page.click(".modal .btn.danger")
    await expect(dan).to_contain_text("deactivated")

    # A department with its name for Japanese customers (the bot's buttons, handoff texts).
    await page.click("#add-department")
    await page.fill("#f-name", "Billing")
    await page.fill("#f-name_ja", "請求")
    await page.click(".modal .btn.primary")
    await expect(page.locator("td", has_text="Billing")).to_contain_text("請求")

    await page.goto(f"{base}/#/admin/timeouts")
    await expect(page.locator("#unattended-unit")).to_have_value("days")  # 1440 minutes: shown as 1 day
    await page.select_option("#unattended-unit", "minutes")
    await page.fill("#unattended", "5")
    await page.click("#save-timeouts")
    await expect(page.locator(".admin-pane .form-error")).to_contain_text("15 minutes to 1 month")
    # Bot idle rules: a nudge after 5 minutes, then close after 10 more.
    await page.click("#add-rule")
    rules = page.locator("tr.rule")
    await expect(rules).to_have_count(3)
    await rules.nth(1).locator("button", has_text="Remove").click()
    await rules.nth(1).locator("select").select_option("close")
    await rules.nth(0).locator("select").select_option("close")
    await page.click("#save-rules")
    await expect(page.locator(".admin-pane .form-error").last).to_contain_text("only the last bot idle rule may close")
    await rules.nth(0).locator("select").select_option("nudge")
    await rules.nth(0).locator("input").fill("5")
    await rules.nth(1).locator("textarea").first.fill("Closing this chat for now. Write again any time!")  # English: the default
    await page.click("#save-rules")
    await expect(page.locator(".admin-pane .form-ok")).to_have_text("Saved.")
    async with desk.sessions() as session:
        from desk.services import settings as brand_settings
        saved = await brand_settings.get(session, desk.brand_id)
        assert [(r.after_minutes, r.action) for r in saved.bot_idle_rules] == [(5, "nudge"), (10, "close")]
        assert saved.bot_idle_rules[1].text["en"] == "Closing this chat for now. Write again any time!"
    await page.fill("#unattended", "1440")
    await page.click("#save-timeouts")
    await expect(page.locator(".admin-pane .form-ok").first).to_have_text("Saved.")
    await page.evaluate("document.getElementById('toasts').replaceChildren(); "
                        "document.getElementById('admin-pane').scrollTop = 0")
    await page.set_viewport_size({"width": 1440, "height": 1080})
    await shot(page, "console-admin-timeouts")
    assert await page.evaluate("typeof window.__xss") == "undefined"
    assert errors == []
    await context.close()


async def test_templates_outside_the_window_and_the_credits_page(desk, serve_console, browser):
    """An operator answers a chat whose 24-hour window has closed with an approved
    template; an admin buys credits and reads the month's usage."""
    from desk.billing import templates
    from desk.models import BilledConversation, ConversationCategory, WhatsAppBusinessAccount

    expect = playwright_api.expect
    chat_id = await desk.seed_chat("447700900123", texts=("Where is my parcel?", "I want a person"),
                                   user_wrote_at=utcnow() - dt.timedelta(hours=30))
    async with desk.sessions() as session, session.begin():
        await routing.pick(session, chat_id, await session.get(Operator, desk.operators["alice"]))
        await templates.register(session, waba_id="200000000000001", name="order_update", language="en",
                                 category="UTILITY", status="APPROVED", components=templates.components_from(
                                     "Hi {{1}}, your order {{2}} has shipped. Reply here with any question.",
                                     footer="Acme support"))
        waba = await session.get(WhatsAppBusinessAccount, "200000000000001")
        # Earlier months' conversations, as the billing module records them (for the usage chart).
        today = utcnow()
        for months_ago, free, paid in ((3, 40, 0), (2, 75, 0), (1, 120, 6), (0, 18, 0)):
            year, month = today.year, today.month - months_ago
            while month < 1:
                year, month = year - 1, month + 12
            at = today.replace(year=year, month=month, day=1, hour=12)
            for i in range(free + paid):
                session.add(BilledConversation(
                    brand_id=waba.brand_id, waba_id=waba.id, phone_number_id="100000000000001", wa_id=f"4477009{i:05d}",
                    market="United Kingdom", category=ConversationCategory.user_initiated, opened_at=at,
                    expires_at=at + dt.timedelta(hours=24), month=f"{year:04d}-{month:02d}", state="open",
                    billable=True, free_tier=i < free, rate_micros=38800, cost_micros=0 if i < free else 38800,
                    opened_by="operator"))

    base = await serve_console()
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, base, "alice@acme.test")
    await page.goto(f"{base}/#/inbox/mine/{chat_id}")
    await expect(page.locator("#composer-reason")).to_contain_text("only approved templates can be sent")
    await expect(page.locator("#reply")).to_be_hidden()
    await expect(page.locator("#template-select")).to_contain_text("order_update (en)")
    await page.fill('.tpl-params input[data-part="body"][data-n="1"]', "Kerry")
    await page.fill('.tpl-params input[data-part="body"][data-n="2"]', "#A-20931")
    await expect(page.locator(".tpl-preview")).to_contain_text("Hi Kerry, your order #A-20931 has shipped.")
    await shot(page, "console-template")
    await page.click("#send-template")
    await expect(page.locator(".msg.operator .bubble").last).to_contain_text("your order #A-20931 has shipped")
    async with desk.sessions() as session:
        row = (await session.execute(select(OutboxMessage))).scalars().one()
        assert row.request["type"] == "template" and row.request["template"]["name"] == "order_update"

    await page.click("#signout")
    await page.wait_for_url("**/login")
    await sign_in(page, base, "ada@acme.test")
    await page.goto(f"{base}/#/admin/credits")
    await expect(page.locator("#balance")).to_have_text("USD 0.00")
    await expect(page.locator("#credit-warning")).to_contain_text("No credit left")
    await expect(page.locator(".chart .col")).to_have_count(6)
    await page.click("#buy")
    await page.fill("#buy-credits", "2")
    await expect(page.locator("#buy-total")).to_have_text("2 credits: USD 4.00 + 3% fee 0.12 = USD 4.12")
    await page.click(".modal .btn.primary")
    await expect(page.locator("#balance")).to_have_text("USD 4.00")
    await expect(page.locator(".admin-pane table.grid")).to_contain_text("Purchase")
    # The low-balance warning level: USD 4.00 is below the default USD 10, not below USD 3;
    # a bad value is refused and says why.
    await expect(page.locator("#credit-warning")).to_contain_text("below the warning level of USD 10.00")
    await page.fill("#warning-usd", "3")
    await page.click("#save-warning")
    await expect(page.locator("#credit-warning")).to_be_hidden()
    await expect(page.locator("#warning-usd")).to_have_value("3.00")
    await page.fill("#warning-usd", "2.555")
    await page.click("#save-warning")
    await expect(page.locator("#warning-result")).to_contain_text("at most 2 decimals")
    await page.fill("#warning-usd", "5")
    await page.click("#save-warning")
    await expect(page.locator("#credit-warning")).to_contain_text(
        "Low balance: USD 4.00 is below the warning level of USD 5.00")
    await expect(page.locator("#warning-usd")).to_have_value("5.00")
    # The monthly report downloads as CSV for the month picked.
    month = utcnow().strftime("%Y-%m")
    await expect(page.locator("#report-month")).to_have_value(month)
    async with page.expect_download() as download_info:
        await page.click("#download-report")
    download = await download_info.value
    assert download.suggested_filename == f"tsunagi-billing-acme-{month}.csv"
    csv_text = Path(await download.path()).read_text()
    assert csv_text.startswith("section,market,category,conversations,free,paid,amount_usd\n")
    # This month: the 18 seeded conversations and the template just sent, all free; 2 credits bought.
    assert "\nconversations,United Kingdom,user_initiated,18,18,0,0" in csv_text
    assert "\nconversations_total,,,19,19,0,0" in csv_text and "\ncredits_bought,,,,,,2\n" in csv_text
    await page.evaluate("document.getElementById('toasts').replaceChildren()")
    await page.set_viewport_size({"width": 1440, "height": 1200})  # the whole page, ledger included
    await shot(page, "console-admin-credits")
    await page.set_viewport_size({"width": 1440, "height": 900})
    await page.goto(f"{base}/#/admin/templates")
    await expect(page.locator('tr[data-template="order_update"]')).to_contain_text("approved")
    await shot(page, "console-admin-templates")
    assert errors == []
    await context.close()
