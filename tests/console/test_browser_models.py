"""Issue 13 in a real browser: a trainer trains the bot from the console, sees the run's
figures, publishes it, and sees it live once Rasa pulls it (Rasa's pull is made here
by the model server protocol itself: GET /bot/model with the fingerprint it runs)."""
from __future__ import annotations

import pytest
from aiohttp import ClientSession

from desk.services import bot_models
from tests.console.conftest import sign_in
from tests.console.test_browser import CHROMIUM, browser, database_url, fixed_clock, shot, wait_until  # noqa: F401
from tests.desk.test_bot_models import writes_a_model

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="chromium not installed")


async def test_a_trainer_trains_publishes_and_sees_the_model_live(console_url, tess, model_dir, browser, desk):
    base = console_url
    page = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base, "tess@acme.test", lands="/#/admin/trainer")
    await page.wait_for_selector("#bot-models")
    await page.fill("#train-note", "refund variants")
    await page.click("#train-model")
    await page.wait_for_selector("#models-table tr[data-model-id]")
    assert "queued" in await page.inner_text("#models-table")
    # The desk worker's run (quick steps that write a real archive; `rasa train` takes minutes).
    await bot_models.run_next_training(desk.sessions, writes_a_model("one"))
    await page.reload()
    await page.wait_for_selector("#models-table button[data-act=publish]")
    assert "ja: intents F1 0.93" in await page.inner_text("#models-table")
    await page.click("#models-table button[data-act=publish]")
    await wait_until(page, "document.querySelector('#models-table').textContent.includes('published')")
    async with ClientSession() as http:   # Rasa pulls, then pulls again running it
        async with http.get(f"{base}/bot/model?token=pull-token") as first:
            etag = first.headers["ETag"]
            await first.read()
        async with http.get(f"{base}/bot/model?token=pull-token", headers={"If-None-Match": etag}) as again:
            assert again.status == 304
    await page.reload()
    await page.wait_for_selector("#models-table .badge.live")
    await shot(page, "console-bot-models")
    assert errors == []


async def test_a_worse_model_is_published_only_with_the_trainers_reason(console_url, tess, model_dir, browser, desk):
    base = console_url
    worse = ('{"en": {"intent_f1": 0.91, "confused": [{"label": "faq/returns", "taken_for": "faq/exchanges", '
             '"count": 3, "f1": 0.6}]}}')
    for payload, figures in (("one", '{"en": {"intent_f1": 0.97}}'), ("two", worse)):
        async with desk.sessions() as s, s.begin():
            await bot_models.request_training(s, desk.brand_id, "tess@acme.test")
        await bot_models.run_next_training(desk.sessions, writes_a_model(payload, figures))
    async with desk.sessions() as s, s.begin():
        [second, first] = await bot_models.history(s, desk.brand_id)
        await bot_models.publish(s, first.id, "tess@acme.test")
    page = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, base, "tess@acme.test", lands="/#/admin/trainer")
    row = f"#models-table tr[data-model-id='{second.id}']"
    await page.click(f"{row} details.model-confused summary")   # the held-out set's worst confusions
    assert "en: faq/returns → faq/exchanges ×3" in await page.inner_text(f"{row} details.model-confused")
    await page.click(f"{row} button[data-act=publish]")
    await page.wait_for_selector("#model-override:not([hidden]) #override-reason")
    assert "en: intent F1 0.910 < 0.970" in await page.inner_text("#model-override")
    await page.fill("#override-reason", "answers the new shipping policy")
    await page.click("#publish-anyway")
    await wait_until(page, "document.querySelector('#models-table').textContent.includes('answers the new shipping policy')")
    async with desk.sessions() as s:
        assert (await bot_models.published(s)).id == second.id
    assert errors == []


async def test_the_models_card_follows_a_run_while_it_trains(console_url, tess, model_dir, browser, desk):
    from sqlalchemy import update

    from desk.models import BotModel, utcnow

    async with desk.sessions() as s, s.begin():
        run = await bot_models.request_training(s, desk.brand_id, "tess@acme.test", "refund variants")
        await s.execute(update(BotModel).where(BotModel.id == run.id).values(
            state="training", started_at=utcnow(), progress="2/3 train"))
    page = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await sign_in(page, console_url, "tess@acme.test", lands="/#/admin/trainer")
    await page.wait_for_selector(f"#models-table tr[data-model-id='{run.id}'] .model-progress")
    assert "step 2 of 3: training" in await page.inner_text(f"#models-table tr[data-model-id='{run.id}'] .model-progress")
    async with desk.sessions() as s, s.begin():   # the worker finishes it; nobody reloads the page
        await s.execute(update(BotModel).where(BotModel.id == run.id).values(
            state="trained", finished_at=utcnow(), progress=None, figures={"en": {"intent_f1": 0.96}}))
    await wait_until(page, f"document.querySelector(\"#models-table tr[data-model-id='{run.id}']\")"
                           ".textContent.includes('intents F1 0.96')", timeout=20)
    assert errors == []
