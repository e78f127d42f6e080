"""Issue 13 in a real browser (Debian's chromium, headless): a trainer lands on the bot
inbox, files a group of misses under the article the bot guessed (written to a copy of
knowledge/faq) and marks another out of scope."""
from __future__ import annotations

import shutil

import pytest
from aiohttp import web

import knowledge
from desk.models import Operator, Role
from desk.services import bot_misses
from tests.console.conftest import PASSWORD, SUPPORT_NUMBER, password_hash
from tests.console.test_browser import CHROMIUM, browser, fixed_clock, free_port, shot, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="chromium not installed")


@pytest.fixture
def database_url(sqlite_url):
    return sqlite_url


@pytest.fixture
async def served(desk, console_settings, tmp_path, monkeypatch):
    from desk.web.app import create_app

    faq = tmp_path / "faq"
    shutil.copytree(knowledge.FAQ_DIR, faq)
    monkeypatch.setenv("KNOWLEDGE_DIR", str(faq))
    async with desk.sessions() as s, s.begin():
        s.add(Operator(brand_id=desk.brand_id, email="tess@acme.test", name="Tess Trainer", role=Role.trainer,
                       password_hash=password_hash()))
        for q, article in [("opening times pls", "opening_hours"), ("Opening times pls?", "opening_hours"),
                           ("do u do gift wrap", "gift_cards")]:
            await bot_misses.record(s, kind="unsure", question=q, article=article, confidence=0.3,
                                    phone_number_id=SUPPORT_NUMBER, wa_id="447700900001")
    runner = web.AppRunner(create_app(console_settings, cookie_secure=False), shutdown_timeout=1)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", faq
    finally:
        await runner.cleanup()


async def test_a_trainer_files_a_group_and_marks_one_out_of_scope(served, browser):
    base, faq = served
    page = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(base + "/")
    await page.fill("#email", "tess@acme.test")
    await page.fill("#password", PASSWORD)
    await page.click("#submit")
    await page.wait_for_selector(".miss-group")
    assert page.url.endswith("#/admin/trainer")
    visible = [t.strip() for t in await page.locator(".nav-item:visible .label").all_inner_texts()]
    assert visible == ["Bot inbox", "FAQ articles"]
    first = page.locator(".miss-group").first
    assert (await first.locator(".miss-count").inner_text()) == "×2"
    assert await first.locator("select").input_value() == "opening_hours"      # the bot's guess
    await shot(page, "console-bot-inbox")
    await first.locator("button[data-act=variant]").click()
    await wait_until(page, "document.querySelectorAll('.miss-group').length === 1")
    assert "- Opening times pls?" in (faq / "hours.yml").read_text()    # the newest example, as written
    await page.locator(".miss-group button[data-act=out_of_scope]").click()
    await page.wait_for_selector("#no-misses")
    assert errors == []
