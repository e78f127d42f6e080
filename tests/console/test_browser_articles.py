"""FAQ articles in a real browser (Debian's chromium, headless): a trainer searches, opens
an article, a too-long button title is shown next to its field and nothing is written,
then a good save writes the copy of knowledge/faq."""
from __future__ import annotations

import pytest

from tests.console.conftest import sign_in
from tests.console.test_browser import CHROMIUM, browser, database_url, fixed_clock, shot, wait_until  # noqa: F401

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="chromium not installed")


async def test_a_trainer_edits_an_article_and_sees_the_form_errors(console_url, tess, faq, browser):
    base = console_url
    page = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base, "tess@acme.test", lands="/#/admin/trainer")
    await page.wait_for_selector("#no-misses")                # the bot inbox, drawn
    await page.click(".nav-item[data-admin=articles]")
    await page.wait_for_selector("#article-areas tr[data-article=opening_hours]")
    await page.fill("#article-search", "ギフト")
    await wait_until(page, "document.querySelector('#article-areas').dataset.query === 'ギフト'")
    assert await page.locator("tr[data-article=opening_hours]").count() == 0
    assert await page.locator("tr[data-article=gift_cards]").count() == 1
    await page.fill("#article-search", "opening")
    await wait_until(page, "document.querySelector('#article-areas').dataset.query === 'opening'")
    await page.click("tr[data-article=opening_hours] a")
    await page.wait_for_selector("#a-en-title")
    before = (faq / "hours.yml").read_text()
    await page.click("fieldset[data-lang=en] [data-act=add-button]")
    await page.fill("#a-en-button-0-title", "A title far longer than twenty")
    await page.fill("#a-en-button-0-payload", "/speak_to_human")
    await page.click("#save-article")
    box = page.locator('[data-field="en.buttons.0.title"] > .field-error')
    await box.wait_for(state="visible")
    assert "20" in await box.inner_text()
    assert (faq / "hours.yml").read_text() == before
    await shot(page, "console-article-errors")
    await page.fill("#a-en-button-0-title", "Talk to us")
    await page.fill("#a-en-title", "Opening hours")
    await page.click("#save-article")
    await wait_until(page, "document.querySelector('[data-field=\"en.buttons.0.title\"] > .field-error').hidden")
    await wait_until(page, "document.querySelector('.toast.ok') !== null")
    text = (faq / "hours.yml").read_text()
    assert "title: Opening hours" in text and "- title: Talk to us" in text
    assert errors == []
