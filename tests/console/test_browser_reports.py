"""Issue 13 in a real browser (Debian's chromium, headless): an admin opens Reports,
reads the figures in their own time zone, filters by department and downloads the CSV;
an operator has no Reports page."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from desk.models import Chat, ChatState, HandoffReason
from desk.services import conversations
from tests.console.conftest import SALES_NUMBER, SUPPORT_NUMBER, sign_in
from tests.console.test_browser import (CHROMIUM, CLOCK_START, browser, database_url, fixed_clock,  # noqa: F401
                                        shot, wait_until)

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="chromium not installed")


async def seed(desk) -> None:
    day = CLOCK_START - dt.timedelta(days=2)   # 2026-11-29 06:00 UTC = 15:00 in Tokyo
    minute = dt.timedelta(minutes=1)
    wamids = iter(range(7000, 8000))
    async with desk.sessions() as s, s.begin():
        async def chat(wa_id, number=SUPPORT_NUMBER, **facts):
            c, _ = await conversations.record_inbound(
                s, phone_number_id=number, wa_id=wa_id, profile_name="Kerry", wamid=f"wamid.r{next(wamids)}",
                type="text", body="hi", payload={}, wa_timestamp=day)
            await s.execute(update(Chat).where(Chat.id == c.id).values(opened_at=day, **facts)
                            .execution_options(synchronize_session=False))
        for n in range(3):  # the bot alone
            await chat(f"4477009002{n:02d}", state=ChatState.closed, closed_at=day + minute, closed_by="bot")
        await chat("447700900300", state=ChatState.closed, department_id=desk.departments["Support"],
                   operator_id=desk.operators["alice"], handed_off_at=day, first_response_at=day + 2 * minute,
                   closed_at=day + 20 * minute, closed_by="alice@acme.test", handoff_reason=HandoffReason.human_only)
        await chat("447700900301", number=SALES_NUMBER, state=ChatState.unattended,
                   department_id=desk.departments["Sales"], handed_off_at=day,
                   handoff_reason=HandoffReason.lead, was_unattended=True)


@pytest.fixture
async def served(desk, serve_console):
    await seed(desk)
    return await serve_console()


async def test_an_admin_reads_filters_and_downloads_the_report(served, browser, desk):
    base = served
    from desk.models import DeskSettingsRow
    async with desk.sessions() as s, s.begin():   # the brand's time zone, not the browser's (issue 14)
        (await s.get(DeskSettingsRow, desk.brand_id)).time_zone = "Asia/Tokyo"
    context = await browser.new_context(viewport={"width": 1440, "height": 1000}, timezone_id="America/New_York",
                                        accept_downloads=True)
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base, "ada@acme.test")
    await page.click("a[data-admin=reports]")
    await page.wait_for_selector("#stat-chats")
    assert await page.text_content("#stat-chats b") == "5"
    assert "75%" in await page.text_content("#stat-containment")            # 3 of 4 closed chats, no person
    assert "2 min" in await page.text_content("#stat-first-response")
    assert await page.text_content("#stat-unattended b") == "1"
    assert "3 closed by a timer or the bot" in await page.text_content("#stat-unattended")
    assert await page.input_value("#report-end") == "2026-12-01"            # today in Tokyo, by the desk's clock
    lead_in = await page.text_content(".page-head .lead-in")
    assert "Asia/Tokyo" in lead_in
    # the chats opened at 15:00 in Tokyo: the hour chart's 15 has all five
    assert await page.get_attribute("#chart-hours .col:nth-child(16)", "title") == "15:00: 5 chats"
    reasons = await page.inner_text("#report-reasons")
    assert "Human-only topic" in reasons and "Sales lead" in reasons
    assert "Alice Support" in await page.inner_text("#report-operators")
    await shot(page, "console-reports")

    await page.select_option("#report-department", str(desk.departments["Sales"]))
    await wait_until(page, "document.querySelector('#stat-chats b')?.textContent === '1'")
    href = await page.get_attribute("#report-csv", "href")
    assert f"department={desk.departments['Sales']}" in href and "format=csv" in href
    async with page.expect_download() as info:
        await page.click("#report-csv")
    download = await info.value
    text = open(await download.path(), encoding="utf-8").read()
    assert "chats,1" in text and "lead,1" in text
    assert errors == []


async def test_an_admin_turns_on_the_survey_and_a_closed_chat_shows_its_rating(served, browser, desk):
    from sqlalchemy import select

    from desk.models import CsatSurvey
    from desk.services import settings

    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    page = await context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, served, "ada@acme.test")
    await page.click("a[data-admin=surveys]")
    await page.wait_for_selector("#csat-enabled")
    assert not await page.is_checked("#csat-enabled")
    assert not await page.is_checked("input[data-kind=unattended]") and await page.is_checked("input[data-kind=operator]")
    await page.check("#csat-enabled")
    await page.fill("#csat-delay", "10")
    await page.check("input[data-kind=unattended]")
    await page.click("#save-csat")
    await page.wait_for_selector("#csat-result.form-ok")
    await shot(page, "console-csat-settings")
    async with desk.sessions() as s:
        cfg = (await settings.get(s, desk.brand_id)).csat
    assert (cfg.enabled, cfg.delay_minutes, cfg.skip) == (True, 10, ("bot",))
    await page.fill("#csat-delay", "5000")
    await page.click("#save-csat")
    await page.wait_for_selector("#csat-result.form-error")
    assert "0 to 1440 minutes" in await page.text_content("#csat-result")

    # a rated chat: the rating and the comment in the side pane, the share in Reports
    async with desk.sessions() as s, s.begin():
        from desk.models import Chat
        chat = (await s.execute(select(Chat).where(Chat.handoff_reason == HandoffReason.human_only))).scalar_one()
        s.add(CsatSurvey(chat_id=chat.id, brand_id=desk.brand_id, phone_number_id=chat.phone_number_id,
                         contact_id=chat.contact_id, operator_id=chat.operator_id, department_id=chat.department_id,
                         close_kind="operator", state="commented", score=3, comment="so quick!"))
        chat_id = chat.id
    await page.goto(f"{served}/#/inbox/closed/{chat_id}")
    await page.wait_for_selector("#side-pane dl")
    assert "😊 Great · “so quick!”" in await page.inner_text("#side-pane")
    await page.click("a[data-admin=reports]")
    await page.wait_for_selector("#stat-csat")
    assert await page.text_content("#stat-csat b") == "100%"
    assert "100% (1)" in await page.inner_text("#report-operators")
    assert errors == []


async def test_a_manager_lands_on_the_reports_and_sees_nothing_else(served, browser, desk):
    from desk.models import Role

    await desk.add_operator("mia", Role.manager, "Mia Manager")
    page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, served, "mia@acme.test", lands="/#/admin/reports")
    await page.wait_for_selector("#stat-chats")
    assert await page.text_content("#stat-chats b") == "5"
    visible = [t.strip() for t in await page.locator(".nav-item:visible .label").all_inner_texts()]
    assert visible == ["Reports"]
    assert await page.is_hidden("#status-switch")
    await page.goto(served + "/#/inbox/waiting")
    await page.wait_for_url(served + "/#/admin/reports")
    assert errors == []


async def test_an_operator_has_no_reports_page(served, browser):
    page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
    await sign_in(page, served, "alice@acme.test")
    assert await page.is_hidden("a[data-admin=reports]")
    await page.goto(served + "/#/admin/reports")
    await page.wait_for_selector("#chat-list")
    assert await page.locator("#stat-chats").count() == 0
