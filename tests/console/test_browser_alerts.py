"""Issue 11 in a real browser (Debian's chromium, headless): a chat assigned to an
operator chimes and shows a desktop notification while the console is in the
background; the page's live connection keeps the operator present, and closing the
tab makes them offline after the grace, so no chat goes to a ghost."""
from __future__ import annotations

import datetime as dt

import pytest

from desk.models import Operator, OperatorStatus, utcnow
from desk.services import operators
from tests.console.conftest import sign_in
from tests.console.test_browser import CHROMIUM, browser, database_url, fixed_clock, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="chromium not installed")

# The page in the background with notifications allowed: the real Notification API is
# replaced by a recorder, since headless Chromium shows no notification to look at.
BACKGROUND = """
Object.defineProperty(document, "hidden", { get: () => true });
window.__notified = [];
window.Notification = class { constructor(title, opts) { window.__notified.push([title, opts.body]); } };
window.Notification.permission = "granted";
"""


async def test_a_chat_assigned_in_the_background_chimes_and_notifies(console_url, browser, desk):
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    await context.add_init_script(BACKGROUND)
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, console_url, "alice@acme.test")
    await page.click("#status-switch button[data-status=online]")
    await wait_until(page, "document.querySelector('#me-dot').classList.contains('online')")
    await page.wait_for_timeout(3500)              # past the quiet time after her own change
    await desk.seed_chat("447700900301")           # handed off: Alice is online and free
    await wait_until(page, "window.tsunagiAlerts.length === 1", timeout=20)
    assert await page.evaluate("window.__notified") == [["A chat was assigned to you", "Open My chats to answer it."]]
    assert errors == []


async def test_the_live_page_keeps_the_operator_present_and_a_closed_tab_does_not(console_url, browser, desk):
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await sign_in(page, console_url, "alice@acme.test")
    await page.click("#status-switch button[data-status=online]")
    for _ in range(100):
        async with desk.sessions() as s:
            alice = await s.get(Operator, desk.operators["alice"])
            if alice.last_seen_at is not None and alice.status == OperatorStatus.online:
                break
        await page.wait_for_timeout(100)
    async with desk.sessions() as s, s.begin():
        assert await operators.expire_presence(s, utcnow()) == []            # the page is there
    await context.close()                                                  # the tab is closed
    async with desk.sessions() as s, s.begin():
        later = utcnow() + operators.PRESENCE_GRACE + dt.timedelta(seconds=operators.PRESENCE_BEAT)
        assert await operators.expire_presence(s, later) == [desk.operators["alice"]]
    chat_id = await desk.seed_chat("447700900302")
    async with desk.sessions() as s:
        from desk.models import Chat, ChatState
        assert (await s.get(Chat, chat_id)).state == ChatState.unattended    # not given to a ghost


async def test_an_admin_words_the_messages_to_the_customer(console_url, browser, desk):
    from desk.services import settings
    page = await (await browser.new_context(viewport={"width": 1280, "height": 1000})).new_page()
    await sign_in(page, console_url, "ada@acme.test")
    await page.click("a[data-admin=timeouts]")
    await page.wait_for_selector("#notices-card")
    assert await page.input_value("#notice-operator_joined") == ""                 # off in this seed
    await page.fill("#notice-operator_joined", "{operator} is here to help.")
    await page.click("#save-notices")
    await page.wait_for_selector("#notices-result.form-ok")
    async with desk.sessions() as s:
        assert (await settings.get(s, desk.brand_id)).notices["operator_joined"] == {"en": "{operator} is here to help.", "ja": ""}
    await page.fill("#notice-transferred", "Moved to {team}")
    await page.click("#save-notices")
    await page.wait_for_selector("#notices-result.form-error")
    assert "not {team}" in await page.text_content("#notices-result")


async def test_an_admin_is_warned_when_meta_rates_a_template_red_and_sees_the_app_s_name(console_url, browser, desk):
    """Issue 12: a template Meta rates RED chimes and notifies an admin, the Templates page
    says why and shows each template's quality; the contact panel shows the name the
    business gave the customer in its WhatsApp Business app."""
    from sqlalchemy import select

    from desk.billing import templates
    from desk.models import Contact, MessageTemplate

    async with desk.sessions() as s, s.begin():
        await templates.register(s, waba_id="200000000000001", name="spring_sale", language="en_US",
                                 category="MARKETING", status="APPROVED", components=[{"type": "BODY", "text": "Sale!"}])
    chat_id = await desk.seed_chat("447700900302")
    async with desk.sessions() as s, s.begin():
        contact = (await s.execute(select(Contact).where(Contact.wa_id == "447700900302"))).scalar_one()
        contact.address_book_name, contact.address_book_at = "Kerry (bakery)", utcnow()
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    await context.add_init_script(BACKGROUND)
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, console_url, "ada@acme.test")
    await page.goto(f"{console_url}/#/inbox/waiting/{chat_id}")
    await wait_until(page, "!!document.querySelector('.contact-card .address-book')")
    assert await page.inner_text(".contact-card .address-book") == \
        "In the WhatsApp Business app's contacts as “Kerry (bakery)”"
    await wait_until(page, "ALERTS.last !== null")   # alerts.js took the counts' baseline
    async with desk.sessions() as s, s.begin():  # what template_sync does with Meta's RED rating
        t = (await s.execute(select(MessageTemplate))).scalar_one()
        t.quality_score, t.quality_at = "RED", utcnow()
    await wait_until(page, "window.tsunagiAlerts.some((a) => a.title === 'A template needs attention')", timeout=20)
    assert ["A template needs attention", "Meta rated a template low or paused it: see Templates."] \
        in await page.evaluate("window.__notified")
    await page.goto(f"{console_url}/#/admin/templates")
    await wait_until(page, "!!document.querySelector('#template-attention')")
    assert "Meta rates spring_sale (en_US) low" in await page.inner_text("#template-attention")
    assert await page.inner_text('tr[data-template="spring_sale"] .tpl-quality') == "Low"
    assert errors == []
