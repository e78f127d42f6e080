"""Issue 11 in a real browser (Debian's chromium, headless): an operator watches a bot chat,
takes it over, answers, hands it back; answers a left message from the Tickets page and
closes it; a Sales colleague takes a lead task and marks it done. A script-looking ticket
stays text."""
from __future__ import annotations

import datetime as dt

import pytest
from aiohttp import web
from sqlalchemy import select

from desk.models import Chat, ChatState, Lead, OutboxMessage, Ticket, utcnow
from desk.services import conversations, leads, tickets
from tests.console.conftest import SUPPORT_NUMBER
from tests.console.test_browser import (CHROMIUM, XSS, browser, fixed_clock, free_port, shot,  # noqa: F401
                                        sign_in, wait_until)

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="chromium not installed")


@pytest.fixture
def database_url(sqlite_url):
    return sqlite_url


async def seed(desk) -> dict:
    now = utcnow().replace(microsecond=0)
    wamids = iter(range(5000, 6000))
    async with desk.sessions() as s, s.begin():
        async def user(wa_id, name, text, at):
            chat, _ = await conversations.record_inbound(
                s, phone_number_id=SUPPORT_NUMBER, wa_id=wa_id, profile_name=name, wamid=f"wamid.l{next(wamids)}",
                type="text", body=text, payload={}, wa_timestamp=at)
            return chat
        kerry = await user("447700900123", "Kerry Fisher", "Do you ship to Japan?", now - dt.timedelta(minutes=3))
        lou = await user("447700900456", "Lou Reed", "My mug arrived broken", now - dt.timedelta(minutes=9))
        ticket = await tickets.create_ticket_from_chat(s, lou.id, "bot", "[Support] Lou Reed: My mug arrived broken",
                                                       department="Support", message="My mug arrived broken",
                                                       adapter="none")
        evil = await user("15550001111", XSS, XSS, now - dt.timedelta(minutes=8))
        await tickets.create_ticket_from_chat(s, evil.id, "bot", XSS, message=XSS, adapter="none")
        priya = await user("447700900789", "Priya Raman", "a quote for 200 mugs", now - dt.timedelta(minutes=5))
        lead = await leads.save_lead(s, wa_id="447700900789", phone_number_id=SUPPORT_NUMBER, name="Priya Raman",
                                     email="priya@mugs.example", company="Mugs Ltd", interest="a quote for 200 mugs",
                                     consent=True, chat_id=priya.id)
        return {"kerry": kerry.id, "lou": lou.id, "ticket": ticket.id, "lead": lead.id}


@pytest.fixture
async def served(desk, console_settings, monkeypatch):
    from desk.web.app import create_app

    monkeypatch.setenv("CRM_ADAPTER", "none")
    ids = await seed(desk)
    runner = web.AppRunner(create_app(console_settings, cookie_secure=False), shutdown_timeout=1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", ids
    finally:
        await runner.cleanup()


async def test_take_over_a_bot_chat_answer_and_hand_it_back(served, browser, desk):
    base, ids = served
    page = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base, "alice@acme.test")
    await page.click("a[data-list=bot]")
    await page.wait_for_selector(f".chat-item[data-chat-id='{ids['kerry']}']")
    await page.click(f".chat-item[data-chat-id='{ids['kerry']}']")
    await page.wait_for_selector("#take-over")
    assert await page.is_disabled("#send")
    await shot(page, "console-bot-chat")
    await page.click("#take-over")
    await page.wait_for_url(f"{base}/#/inbox/mine/{ids['kerry']}")
    await page.wait_for_selector(".msg-event")
    assert "Alice Support took over the chat from the bot" in await page.inner_text(".msg-event")
    await page.fill("#reply", "Yes, we ship to Japan in 5 days.")
    await page.click("#send")
    await wait_until(page, "[...document.querySelectorAll('.msg.operator')].some(m => m.textContent.includes('Japan in 5'))")
    await page.click("#hand-back")
    await wait_until(page, "document.querySelectorAll('.msg-event').length === 2")
    async with desk.sessions() as s:
        chat = await s.get(Chat, ids["kerry"])
        assert (chat.state, chat.bot_resume_pending) == (ChatState.bot, True)
        assert (await s.execute(select(OutboxMessage.wa_id))).scalars().all() == ["447700900123"]
    assert errors == []


async def test_answer_a_left_message_from_the_tickets_page_and_close_it(served, browser, desk):
    base, ids = served
    page = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base, "alice@acme.test")
    await wait_until(page, "document.querySelector('[data-count=tickets_queued]').textContent === '2'")
    await page.click("a[data-records=tickets]")
    row = f"tr[data-ticket-id='{ids['ticket']}']"
    await page.wait_for_selector(row)
    assert "Queued for Support" in await page.inner_text(row)
    await page.fill("#records-search", "broken")
    await wait_until(page, "document.querySelectorAll('#tickets-table tbody tr[data-ticket-id]').length === 1")
    await shot(page, "console-tickets")
    await page.click(row)
    await page.wait_for_selector("#ticket-message")
    assert await page.inner_text("#ticket-message") == "My mug arrived broken"
    await page.fill("#ticket-reply", "Sorry, Lou! A new mug ships today.")
    await shot(page, "console-ticket")
    await page.click("#ticket-send")
    # The reply, or the form's error: a refusal fails here with its reason, not a timeout.
    await page.wait_for_selector(".ticket-reply, .modal .form-error:not([hidden])")
    assert not await page.is_visible(".modal .form-error"), await page.inner_text(".modal .form-error")
    assert "A new mug ships today" in await page.inner_text(".ticket-replies")
    await page.click(".modal footer button.danger")  # Close ticket
    await wait_until(page, "!!document.querySelector('.modal') && document.querySelector('.modal').textContent.includes('closed by alice@acme.test')")
    async with desk.sessions() as s:
        ticket = await s.get(Ticket, ids["ticket"])
        assert (ticket.state, ticket.closed_by) == ("closed", "alice@acme.test")
        [row_] = (await s.execute(select(OutboxMessage))).scalars().all()
        assert row_.request["text"]["body"] == "Sorry, Lou! A new mug ships today."
        assert (await s.get(Chat, ids["lou"])).state == ChatState.open  # the customer's answer reaches Alice
    # The script-looking ticket stayed text.
    await page.keyboard.press("Escape")
    await page.fill("#records-search", "")
    await page.select_option("#f-state", "all")
    await wait_until(page, "document.querySelectorAll('#tickets-table tbody tr[data-ticket-id]').length === 2")
    assert await page.evaluate("window.__xss") is None
    assert errors == []


async def test_a_sales_colleague_takes_the_lead_task_and_marks_it_done(served, browser, desk):
    base, ids = served
    page = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
    await sign_in(page, base, "bob@acme.test")
    await wait_until(page, "document.querySelector('[data-count=lead_tasks]').textContent === '1'")
    await page.click("a[data-records=leads]")
    row = f"tr[data-lead-id='{ids['lead']}']"
    await page.wait_for_selector(row)
    assert "Queued for Sales" in await page.inner_text(row)
    await shot(page, "console-leads")
    await page.click(f"{row} button[data-act=take]")
    await page.wait_for_selector(f"{row} button[data-act=done]")
    assert "You" in await page.inner_text(row)
    await page.click(f"{row} button[data-act=done]")
    await page.wait_for_selector(f"{row} button[data-act=reopen]")
    async with desk.sessions() as s:
        lead = await s.get(Lead, ids["lead"])
        assert (lead.task_state, lead.task_done_by) == ("done", "bob@acme.test")
    # Contacts: Bob (Sales) has no chat with anyone here: the page says so.
    await page.click("a[data-records=contacts]")
    await page.wait_for_selector("#contacts-table tbody td.muted")
    assert "Nothing here" in await page.inner_text("#contacts-table tbody")
