"""Issue 13 in a real browser (Debian's chromium, headless): a trainer lands on the bot
inbox, reads why each group is there, files a group of misses under the article the bot
guessed (written to a copy of knowledge/faq) and marks another out of scope."""
from __future__ import annotations

import pytest

from desk.models import Operator
from desk.services import bot_misses
from tests.console.conftest import SUPPORT_NUMBER, sign_in
from tests.console.test_browser import CHROMIUM, browser, database_url, fixed_clock, shot, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="chromium not installed")


async def test_a_trainer_files_a_group_and_marks_one_out_of_scope(console_url, tess, faq, desk, browser):
    async with desk.sessions() as s, s.begin():
        for q, article, kind in [("opening times pls", "opening_hours", "low_confidence"),
                                 ("Opening times pls?", "opening_hours", "handoff"),
                                 ("do u do gift wrap", "gift_cards", "unsure")]:
            await bot_misses.record(s, kind=kind, question=q, article=article, confidence=0.3,
                                    phone_number_id=SUPPORT_NUMBER, wa_id="447700900001")
    page = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, console_url, "tess@acme.test", lands="/#/admin/trainer")
    await page.wait_for_selector(".miss-group")
    visible = [t.strip() for t in await page.locator(".nav-item:visible .label").all_inner_texts()]
    assert visible == ["Bot inbox", "FAQ articles"]
    first = page.locator(".miss-group").first
    assert (await first.locator(".miss-count").inner_text()) == "×2"
    assert await first.locator("select").input_value() == "opening_hours"      # the bot's guess
    assert await first.locator(".miss-reason").all_inner_texts() == [              # why they are here
        "1 unsure intent", "1 asked for a person after the answer"]
    async with desk.sessions() as s, s.begin():                               # and in Japanese
        (await s.get(Operator, tess)).locale = "ja"
    await page.reload()
    await page.wait_for_selector(".miss-group")
    first = page.locator(".miss-group").first
    assert await first.locator(".miss-reason").all_inner_texts() == ["意図の確信度が低い 1 件", "回答直後に担当者を希望 1 件"]
    await shot(page, "console-bot-inbox")
    await first.locator("button[data-act=variant]").click()
    await wait_until(page, "document.querySelectorAll('.miss-group').length === 1")
    assert "- Opening times pls?" in (faq / "hours.yml").read_text()    # the newest example, as written
    await page.locator(".miss-group button[data-act=out_of_scope]").click()
    await page.wait_for_selector("#no-misses")
    assert errors == []
