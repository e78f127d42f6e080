"""Business hours in a real browser (Debian's chromium, headless): an admin gives Support a week
and a holiday in the brand's time zone, sees a refused interval next to its field, saves, and the
team page says when Support opens again (by the desk's clock: tests/clock.py, 2026-12-01 06:00 UTC,
a Tuesday, 15:00 in Tokyo). An operator sees the same badge in the transfer picker."""
from __future__ import annotations

import pytest

from desk.models import Department, DeskSettingsRow
from tests.console.test_browser import (CHROMIUM, browser, database_url, fixed_clock, shot, sign_in,  # noqa: F401
                                        wait_until)

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="chromium not installed")


@pytest.fixture
async def served(desk, serve_console):
    async with desk.sessions() as s, s.begin():
        (await s.get(DeskSettingsRow, desk.brand_id)).time_zone = "Asia/Tokyo"
    return await serve_console()


async def test_an_admin_sets_a_departments_hours_and_sees_when_it_opens(served, browser, desk):
    base, support = served, desk.departments["Support"]
    page = await (await browser.new_context(viewport={"width": 1440, "height": 1000})).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base, "ada@acme.test")
    await page.click("a[data-admin=team]")
    row = f"tr[data-department='{support}']"
    await page.wait_for_selector(f"{row} .badge.hours")
    assert await page.text_content(f"{row} .badge.hours") == "Open now"      # no hours yet: always open

    await page.click(f"{row} [data-act=hours]")
    await page.wait_for_selector("#hours-editor")
    assert "Asia/Tokyo" in await page.text_content("#hours-time-zone")
    assert not await page.is_visible(".hours-week")                          # open around the clock
    await page.uncheck("#hours-always-open")
    tue = ".hours-day[data-day=tue]"
    await page.click(f"{tue} [data-act=add-interval]")
    await page.fill(f"{tue} .hours-interval:nth-child(1) [data-part=to]", "12:00")
    await page.click(f"{tue} [data-act=add-interval]")
    await page.fill(f"{tue} .hours-interval:nth-child(2) [data-part=from]", "11:00")
    await page.fill(f"{tue} .hours-interval:nth-child(2) [data-part=to]", "13:00")
    wed = ".hours-day[data-day=wed]"
    await page.click(f"{wed} [data-act=add-interval]")
    await page.fill(f"{wed} .hours-interval [data-part=from]", "22:00")
    await page.fill(f"{wed} .hours-interval [data-part=to]", "02:00")
    await page.check(f"{wed} .hours-interval [data-part=overnight]")
    await page.click("#hours-add-holiday")
    await page.fill(".hours-holiday [data-part=date]", "2026-12-02")
    await page.fill(".hours-holiday [data-part=name]", "Founders' day")
    await page.check("#hours-count-open")
    await page.click(".modal footer .btn.primary")

    # The overlap is shown on the second interval, and nothing is saved.
    error = f"{tue} .hours-interval:nth-child(2) > .field-error"
    await page.wait_for_selector(f"{error}:not([hidden])")
    assert await page.text_content(error) == "tue: 09:00–12:00 and 11:00–13:00 overlap"
    assert await page.is_hidden("#hours-error")
    async with desk.sessions() as s:
        assert (await s.get(Department, support)).business_hours is None
    await shot(page, "console-business-hours")

    await page.click(f"{tue} .hours-interval:nth-child(2) [data-act=remove-interval]")
    await page.click(".modal footer .btn.primary")
    await page.wait_for_selector("#hours-editor", state="detached")
    # Tuesday 15:00 in Tokyo: Tuesday's hours are over, Wednesday night is a holiday: next Tuesday.
    await wait_until(page, f"document.querySelector(\"{row} .badge.hours\")?.dataset.hours === 'closed'")
    badge = await page.text_content(f"{row} .badge.hours")
    assert badge.startswith("Closed until") and "Dec 8" in badge and "09:00" in badge, badge
    async with desk.sessions() as s:
        stored = (await s.get(Department, support)).business_hours
    assert stored["week"]["tue"] == [{"from": "09:00", "to": "12:00"}]
    assert stored["week"]["wed"] == [{"from": "22:00", "to": "02:00", "overnight": True}]
    assert stored["holidays"] == [{"date": "2026-12-02", "name": "Founders' day"}]
    assert stored["count_open_hours_only"] is True and stored["always_open"] is False

    # Opened again, the editor shows what was saved.
    await page.click(f"{row} [data-act=hours]")
    await page.wait_for_selector("#hours-editor")
    assert await page.input_value(f"{tue} .hours-interval [data-part=to]") == "12:00"
    assert await page.input_value(".hours-holiday [data-part=name]") == "Founders' day"
    assert await page.is_checked("#hours-count-open")
    assert await page.is_visible(".hours-day[data-day=mon] .hours-closed-day")
    assert errors == []


async def test_an_operator_sees_a_closed_department_in_the_transfer_picker(served, browser, desk):
    from desk.models import Operator
    from desk.services import business_hours, routing

    async with desk.sessions() as s, s.begin():
        await business_hours.set_schedule(s, desk.brand_id, desk.departments["Sales"], {
            "always_open": False, "week": {"wed": [{"from": "09:00", "to": "18:00"}]}})
    chat = await desk.seed_chat("447700900777")
    async with desk.sessions() as s, s.begin():   # Alice's chat: she may transfer it
        await routing.pick(s, chat, await s.get(Operator, desk.operators["alice"]))
    page = await (await browser.new_context(viewport={"width": 1440, "height": 1000})).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, served, "alice@acme.test")
    await page.goto(f"{served}/#/inbox/mine/{chat}")
    await page.wait_for_selector("#transfer")
    await page.click("#transfer")
    await page.wait_for_selector(".modal .seg button:nth-child(2)")
    await page.click(".modal .seg button:nth-child(2)")                      # by department
    await page.wait_for_selector(".modal .opt .badge.hours")
    badges = await page.locator(".modal .opt .badge.hours").all_inner_texts()
    assert sorted(badges) == ["Closed until tomorrow 09:00", "Open now"], badges
    assert errors == []
