"""Console rough edges (issue 11) in a real browser (Debian's chromium, headless): the empty
chat pane says what to do; WhatsApp formatting in the transcript and the list preview (and
markup stays text); the buttons the bot offered; a lone "/" is not sent; canned-response
variables; a failed send in plain words with Retry and Send template; internal notes;
timeouts in hours and days; the Credits page without a stray "null"."""
from __future__ import annotations

import datetime as dt

import pytest
from aiohttp import web
from sqlalchemy import select

from cloudapi.outbound import buttons_message
from desk.models import (CannedResponse, ChatNote, JobState, Message, Operator, OperatorStatus, OutboxMessage, Sender,
                         utcnow)
from desk.services import conversations, outbox, routing
from tests.console.conftest import SUPPORT_NUMBER
from tests.console.test_browser import (CHROMIUM, XSS, browser, fixed_clock, free_port, playwright_api,  # noqa: F401
                                        shot, sign_in, wait_until)

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="chromium not installed")
KERRY = "447700900123"


@pytest.fixture
def database_url(sqlite_url):
    return sqlite_url


async def seed(desk) -> dict:
    from desk.billing import templates

    await desk.set_status("carol", OperatorStatus.away)  # someone is around: the other chat waits
    now = utcnow().replace(microsecond=0)
    wamids = iter(range(7000, 8000))
    async with desk.sessions() as s, s.begin():
        async def user(wa_id, name, text, at):
            chat, _ = await conversations.record_inbound(
                s, phone_number_id=SUPPORT_NUMBER, wa_id=wa_id, profile_name=name, wamid=f"wamid.e{next(wamids)}",
                type="text", body=text, payload={}, wa_timestamp=at)
            return chat

        kerry = await user(KERRY, "Kerry Fisher", "I want a person", now - dt.timedelta(minutes=5))
        ask = buttons_message(KERRY, "Which *department* would you like?", [
            {"title": "Support", "payload": "/support"}, {"title": "Sales", "payload": "/sales"}])
        offer = await conversations.record_outbound(s, chat_id=kerry.id, sender=Sender.bot, type="interactive",
                                                    body="Which *department* would you like?", payload=ask)
        offer.wa_timestamp, offer.status = now - dt.timedelta(minutes=4, seconds=50), "read"
        offer.wamid = "wamid.offer"
        await conversations.record_inbound(  # Kerry reacts to the bot's question (shown on it, not a bubble)
            s, phone_number_id=SUPPORT_NUMBER, wa_id=KERRY, profile_name="Kerry Fisher", wamid="wamid.react",
            type="reaction", body="👍", payload={"reaction": {"message_id": "wamid.offer", "emoji": "👍"}},
            wa_timestamp=now - dt.timedelta(minutes=4, seconds=40))
        await user(KERRY, "Kerry Fisher", f"Support please, it's _urgent_ {XSS} ```code *x*```",
                   now - dt.timedelta(minutes=4))
        await conversations.record_inbound(  # a reply to the bot's question, and a forwarded message
            s, phone_number_id=SUPPORT_NUMBER, wa_id=KERRY, profile_name="Kerry Fisher", wamid="wamid.replying",
            type="text", body="this one", payload={"text": {"body": "this one"}, "context": {"id": "wamid.offer"}},
            wa_timestamp=now - dt.timedelta(minutes=4, seconds=30))
        await conversations.record_inbound(
            s, phone_number_id=SUPPORT_NUMBER, wa_id=KERRY, profile_name="Kerry Fisher", wamid="wamid.fwd",
            type="text", body="look at this offer", payload={"context": {"forwarded": True}},
            wa_timestamp=now - dt.timedelta(minutes=4, seconds=20))
        await routing.hand_off(s, kerry.id)
        await routing.pick(s, kerry.id, await s.get(Operator, desk.operators["alice"]))
        haru = await user("819012345678", "Haruto Sato", "Is the shop open on *Sunday*?", now - dt.timedelta(minutes=2))
        await routing.hand_off(s, haru.id)
        s.add(CannedResponse(brand_id=desk.brand_id, shortcut="hi", title="Greeting",
                             text="Hi {name}, {operator} from {brand} here."))
        await templates.register(session=s, waba_id="200000000000001", name="follow_up", language="en",
                                 category="UTILITY", status="APPROVED",
                                 components=templates.components_from("Hi {{1}}, we have news about your order."))
        return {"kerry": kerry.id, "haru": haru.id}


async def send_and_fail(desk, chat_id: int, text: str, error) -> int:
    """An operator reply that Meta refuses (the outbox worker's attempt)."""
    from tests.console.test_edges import FakeGraph

    await outbox.run_once(desk.sessions, FakeGraph(), "token")  # what is queued before it goes out first
    async with desk.sessions() as s, s.begin():
        msg = await outbox.send_operator_text(s, chat_id, await s.get(Operator, desk.operators["alice"]), text)
    assert await outbox.run_once(desk.sessions, FakeGraph(error), "token") == 1
    return msg.id


@pytest.fixture
async def served(desk, console_settings):
    from desk.web.app import create_app

    ids = await seed(desk)
    runner = web.AppRunner(create_app(console_settings, cookie_secure=False), shutdown_timeout=1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", ids
    finally:
        await runner.cleanup()


async def outbox_bodies(desk, chat_id: int) -> list:
    async with desk.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).join(Message, Message.id == OutboxMessage.message_id)
                                .where(Message.chat_id == chat_id).order_by(OutboxMessage.id))).scalars().all()
        return [(r.request.get("text", {}).get("body") or r.request.get("type"), r.state) for r in rows]


async def test_console_rough_edges(served, browser, desk):
    from cloudapi.graph import GraphError

    expect = playwright_api.expect
    base, ids = served
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, base, "alice@acme.test")

    # Item 10: the empty chat pane says what to do.
    await page.goto(f"{base}/#/inbox/waiting")
    await expect(page.locator("#conv-empty")).to_contain_text("Pick a chat from the queue on the left")
    # Item 3: formatting in the list preview.
    haru = page.locator(f'.chat-item[data-chat-id="{ids["haru"]}"] .preview')
    await expect(haru.locator("b")).to_have_text("Sunday")
    await expect(haru).to_contain_text("Is the shop open on Sunday?")

    await page.goto(f"{base}/#/inbox/mine/{ids['kerry']}")
    await expect(page.locator("#contact-name")).to_have_text("Kerry Fisher")
    # Item 4: the buttons the bot offered, under its message; item 3: its formatting.
    bot = page.locator(".msg.bot").first
    await expect(bot.locator(".offered .offer")).to_have_text(["Support", "Sales"])
    await expect(bot.locator(".text b")).to_have_text("department")
    # Issue 12: the customer's reaction sits on the bot's message, not as a message of its own.
    await expect(bot.locator(".reaction")).to_have_text("👍")
    assert await page.locator(".msg.user .bubble", has_text="👍").count() == 0
    # Issue 12: a reply quotes what it answers; a forwarded message says so.
    replying = page.locator(".msg.user .bubble", has_text="this one")
    await expect(replying.locator(".quoted")).to_have_text("Which *department* would you like?")
    await expect(page.locator(".msg.user .bubble", has_text="look at this offer").locator(".forwarded")).to_have_text("↪ Forwarded")
    # Item 3: the customer's formatting rendered, markup kept as text.
    user = page.locator(".msg.user .bubble .text").last
    await expect(user.locator("i")).to_have_text("urgent")
    await expect(user.locator("code")).to_have_text("code *x*")
    await expect(user).to_have_text(f"Support please, it's urgent {XSS} code *x*")
    assert await page.locator("#messages img").count() == 0
    assert await page.evaluate("typeof window.__xss") == "undefined"
    await shot(page, "console-edges-formatting")

    # Item 1: a lone "/" is not sent, by Enter or by the Send button.
    await page.fill("#reply", "/")
    await page.click("#send")
    await expect(page.locator(".toast.error")).to_contain_text("a lone shortcut is not sent")
    await page.fill("#reply", "/nothing-like-this")
    await page.keyboard.press("Enter")
    assert await outbox_bodies(desk, ids["kerry"]) == []
    # Item 6: variables of a canned response, filled in for this chat.
    await page.fill("#reply", "")
    await page.type("#reply", "/hi")
    await expect(page.locator("#reply")).to_have_value("/hi")
    await expect(page.locator(".popup .opt.sel")).to_contain_text("/hi")
    await expect(page.locator(".popup .opt.sel .x")).to_have_text("Hi Kerry Fisher, Alice Support from Acme here.")
    await page.keyboard.press("Enter")
    await expect(page.locator("#reply")).to_have_value("Hi Kerry Fisher, Alice Support from Acme here.")
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg.operator .bubble").last).to_contain_text("Hi Kerry Fisher, Alice Support")
    assert await outbox_bodies(desk, ids["kerry"]) == [("Hi Kerry Fisher, Alice Support from Acme here.",
                                                        JobState.pending)]
    await page.evaluate("document.getElementById('toasts').replaceChildren()")

    # Item 5: a failed send in plain words, then Retry.
    failed = await send_and_fail(desk, ids["kerry"], "Your refund is on its way.",
                                 GraphError(400, 131026, "Message undeliverable"))
    bubble = page.locator(f'.msg[data-id="{failed}"]')
    await page.reload()
    await expect(bubble.locator(".failure .what")).to_contain_text("could not deliver this message to the customer's phone")
    await expect(bubble.locator(".failure .next")).to_have_text("Retry later, or reach the customer another way.")
    await expect(bubble.locator(".failure .detail")).to_contain_text("131026")
    await bubble.locator("button[data-retry]").click()
    await expect(bubble.locator(".ticks")).to_have_attribute("data-status", "queued")
    await expect(bubble.locator(".failure")).to_have_count(0)
    assert await outbox_bodies(desk, ids["kerry"]) == [("Hi Kerry Fisher, Alice Support from Acme here.", JobState.sent),
                                                        ("Your refund is on its way.", JobState.pending)]
    # ... and outside the window (Meta's 131047): Send template, no Retry.
    closed = await send_and_fail(desk, ids["kerry"], "One more thing", GraphError(400, 131047, "Re-engagement message"))
    await page.reload()
    window = page.locator(f'.msg[data-id="{closed}"]')
    await expect(window.locator(".failure .what")).to_contain_text("24-hour window has closed")
    assert await window.locator("button[data-retry]").count() == 0
    await window.locator("button[data-use-template]").click()
    await expect(page.locator("#template-select")).to_contain_text("follow_up (en)")
    await page.fill('.tpl-params input[data-part="body"][data-n="1"]', "Kerry")
    await page.click("#send-template")
    await expect(page.locator(".msg.operator .bubble").last).to_contain_text("Hi Kerry, we have news about your order.")
    await expect(page.locator("#template-box")).to_be_hidden()
    assert (await outbox_bodies(desk, ids["kerry"]))[-1] == ("template", JobState.pending)

    # Item 7: an internal note, in the transcript, styled apart, never sent.
    before = await outbox_bodies(desk, ids["kerry"])
    await page.click("#add-note")
    await page.fill("#note-text", f"Kerry also phoned the shop {XSS}")
    await page.click(".modal .btn.primary")
    note = page.locator(".msg-note").last
    await expect(note.locator(".note-body")).to_have_text(f"Kerry also phoned the shop {XSS}")
    await expect(note).to_contain_text("internal note, not sent to the customer")
    assert await page.locator(".msg .bubble", has_text="Kerry also phoned").count() == 0
    assert await outbox_bodies(desk, ids["kerry"]) == before
    async with desk.sessions() as s:
        assert [n.body for n in (await s.execute(select(ChatNote))).scalars()] == [
            f"Kerry also phoned the shop {XSS}"]
    await shot(page, "console-edges")

    # Items 2 and 8 as an admin: the Credits page with no warning shows no "null"; timeouts in hours and days.
    await page.click("#signout")
    await page.wait_for_url("**/login")
    async with desk.sessions() as s, s.begin():
        from desk.billing import ledger
        await ledger.buy_credits(s, desk.brand_id, 10, by="ada@acme.test")  # USD 20: above the warning level
    await sign_in(page, base, "ada@acme.test")
    await page.goto(f"{base}/#/admin/credits")
    await expect(page.locator("#balance")).to_have_text("USD 20.00")
    await expect(page.locator("#credit-warning")).to_have_count(0)
    assert "null" not in await page.locator("#admin-pane").inner_text()

    await page.goto(f"{base}/#/admin/timeouts")
    await expect(page.locator("#unattended")).to_have_value("1")
    await expect(page.locator("#unattended-unit")).to_have_value("days")
    await expect(page.locator("#idle")).to_have_value("1")
    await expect(page.locator("#idle-unit")).to_have_value("hours")
    await page.fill("#unattended", "3")
    await page.fill("#idle", "90")
    await page.select_option("#idle-unit", "minutes")
    await page.click("#save-timeouts")
    await expect(page.locator(".admin-pane .form-ok").first).to_have_text("Saved.")
    from desk.services import settings as brand_settings
    async with desk.sessions() as s:
        saved = await brand_settings.get(s, desk.brand_id)
        assert (saved.unattended_close_minutes, saved.idle_close_minutes) == (3 * 1440, 90)
    await page.fill("#idle", "2")
    await page.select_option("#idle-unit", "days")
    await page.click("#save-timeouts")
    await expect(page.locator(".admin-pane .form-error").first).to_contain_text("2880")
    await page.reload()
    await expect(page.locator("#idle")).to_have_value("90")
    await expect(page.locator("#idle-unit")).to_have_value("minutes")
    assert errors == []
    await context.close()


# The simulator's cases (tests/simulator/test_sim_page.py): the console renders the same.
@pytest.mark.parametrize("text,html", [
    ("here *Monday to Friday, 9:00–18:00* and *Sat*.",
     '<span class="text">here <b>Monday to Friday, 9:00–18:00</b> and <b>Sat</b>.</span>'),
    ("snake_case_name, 2*3*4, _really_ ~old~", '<span class="text">snake_case_name, 2*3*4, <i>really</i> <s>old</s></span>'),
    ("```a *b*``` <img src=x onerror=alert(1)>",
     '<span class="text"><code>a *b*</code> &lt;img src=x onerror=alert(1)&gt;</span>'),
    ("a * b * c", '<span class="text">a * b * c</span>'),
])
async def test_the_console_renders_whatsapp_formatting_as_the_simulator_does(served, browser, text, html):
    base, _ = served
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in(page, base, "alice@acme.test")
    assert await page.evaluate("(s) => waText(s).outerHTML", text) == html
    await context.close()
