"""The console in both languages, in a real browser (issue 14).

- An operator whose console is Japanese (operators.locale) sees Japanese words even in an
  English browser, a Japanese chat that wraps and truncates well, times in the brand's time
  zone (Asia/Tokyo) and the Japanese canned response first.
- An operator who chose nothing gets the browser's language: English here.
- The language chosen from the menu is kept on the account: another browser opens in it.

`make screenshots` saves docs/screenshots/console-ja-*.png and console-en-*.png.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from aiohttp import web

from desk.models import CannedResponse, Chat, DeskSettingsRow, Operator, OperatorStatus
from desk.services import conversations, routing
from tests.clock import clock_from
from tests.console.test_browser import (CHROMIUM, browser, free_port, shot, sign_in,  # noqa: F401 - fixtures
                                        wait_until)

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="chromium not installed")

# 06:00 UTC is 15:00 in Tokyo: a time shown as 15:xx comes from the brand's zone, not the browser's (UTC here).
CLOCK_START = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.timezone.utc)
LONG_KANA = ("すみませんきのうちゅうもんしたにもつがまだとどいてないんですけどいつごろとどきますかおしえてください"
             "よろしくおねがいします🙏")
URL = "https://tracking.example.jp/status?id=JP123456789012345678901234567890"


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock_from(CLOCK_START):
        yield


@pytest.fixture
def database_url(sqlite_url):
    return sqlite_url


async def seed_bilingual(desk) -> dict:
    """A Japanese brand in Tokyo (ja first, en too), a Japanese and an English waiting chat, /hours in both."""
    now = CLOCK_START.replace(microsecond=0)
    async with desk.sessions() as session, session.begin():
        row = await session.get(DeskSettingsRow, desk.brand_id)
        row.languages, row.default_language, row.time_zone = ["ja", "en"], "ja", "Asia/Tokyo"
        (await session.get(Operator, desk.operators["alice"])).locale = "ja"
        (await session.get(Operator, desk.operators["carol"])).status = OperatorStatus.away  # someone is around: chats wait

        async def user(wa_id, name, text, at):
            chat, _ = await conversations.record_inbound(
                session, phone_number_id="100000000000001", wa_id=wa_id, profile_name=name,
                wamid=f"wamid.i18n{wa_id}{int(at.timestamp())}", type="text", body=text, payload={}, wa_timestamp=at)
            return chat

        sato = await user("819012345678", "佐藤 陽翔", "こんにちは！注文のことで聞きたいです", now - dt.timedelta(minutes=5))
        await user("819012345678", "佐藤 陽翔", LONG_KANA, now - dt.timedelta(minutes=4))
        await user("819012345678", "佐藤 陽翔", f"追跡ページ👉{URL}", now - dt.timedelta(minutes=3))
        await routing.hand_off(session, sato.id)
        (await session.get(Chat, sato.id)).language = "ja"
        kerry = await user("447700900123", "Kerry Fisher", "Hi, where is my parcel?", now - dt.timedelta(minutes=2))
        await routing.hand_off(session, kerry.id)
        (await session.get(Chat, kerry.id)).language = "en"
        session.add_all([
            CannedResponse(brand_id=desk.brand_id, shortcut="hours", title="Opening hours", language="en",
                           text="We're open 9:00–18:00 (Japan time), Monday to Friday."),
            CannedResponse(brand_id=desk.brand_id, shortcut="hours", title="営業時間", language="ja",
                           text="{name}様、営業時間は平日9:00〜18:00です。"),
        ])
    return {"sato": sato.id, "kerry": kerry.id}


@pytest.fixture
async def served(desk, console_settings):
    from desk.web.app import create_app

    chats = await seed_bilingual(desk)
    runner = web.AppRunner(create_app(console_settings, cookie_secure=False), shutdown_timeout=1)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}", chats
    finally:
        await runner.cleanup()


async def new_page(browser, locale: str, width: int = 1440):
    context = await browser.new_context(viewport={"width": width, "height": 900}, locale=locale, timezone_id="UTC")
    return context, await context.new_page()


async def test_a_japanese_console_with_a_japanese_chat(served, browser, desk):
    expect = playwright_api.expect
    base, chats = served
    context, page = await new_page(browser, "en-US")   # an English browser: the operator's choice wins
    await sign_in(page, base, "alice@acme.test")
    await expect(page.locator("html")).to_have_attribute("lang", "ja")
    await expect(page.locator("a[data-list=waiting] .label")).to_have_text("待機中")
    await expect(page.locator("#list-title")).to_have_text("待機中")
    await expect(page.locator("#signout")).to_have_text("ログアウト")
    await expect(page.locator(".group-head .group-count")).to_have_text("2 件待機中")

    # The list preview: two lines at most, cut with an ellipsis (no spaces to break at in Japanese).
    item = page.locator(f".chat-item[data-chat-id='{chats['sato']}']")
    await expect(item.locator(".name")).to_have_text("佐藤 陽翔")
    await expect(item.locator(".preview")).to_be_visible()
    # Measured in one synchronous step of the page (a live refresh may redraw the list between two).
    box = await page.evaluate(
        "id => { const el = document.querySelector(`.chat-item[data-chat-id='${id}'] .preview`);"
        " return {h: el.getBoundingClientRect().height, lh: parseFloat(getComputedStyle(el).lineHeight),"
        " sw: el.scrollWidth, cw: el.clientWidth, clamp: getComputedStyle(el).webkitLineClamp}; }", chats["sato"])
    assert box["clamp"] == "2" and box["h"] <= 2 * box["lh"] + 1 and box["sw"] <= box["cw"] + 1, box

    await item.click()
    await expect(page.locator("#pick")).to_have_text("対応する")
    await expect(page.locator("#composer-reason")).to_have_text("返信するには、このチャットに対応してください。")
    # Times in Asia/Tokyo (UTC+9): the messages of 05:55-05:57 UTC read 14:55-14:57.
    feet = await page.locator(".msg.user .foot span").all_text_contents()
    assert feet[:3] == ["14:55", "14:56", "14:57"], feet
    await expect(page.locator(".messages .day").first).to_have_text("今日")
    # The long kana run and the URL wrap inside their bubbles: nothing sticks out sideways.
    overflow = await page.evaluate(
        "() => [...document.querySelectorAll('.msg.user .bubble')].map(b => b.scrollWidth - b.clientWidth)")
    assert overflow and max(overflow) <= 1, overflow
    assert await page.evaluate(
        "() => document.querySelector('#messages').scrollWidth <= document.querySelector('#messages').clientWidth")
    await page.click("#pick")
    await expect(page.locator("#reply")).to_be_enabled()
    await shot(page, "console-ja-chat")

    # "/" offers the chat's language first: the Japanese /hours, with the customer's name filled in.
    await page.fill("#reply", "/ho")
    await expect(page.locator(".popup .opt").first.locator(".lang-badge")).to_have_text("JA")
    await expect(page.locator(".popup .opt").first.locator(".x")).to_have_text("佐藤 陽翔様、営業時間は平日9:00〜18:00です。")
    await expect(page.locator(".popup .head")).to_have_text("定型文")
    await shot(page, "console-ja-canned")
    await page.keyboard.press("Escape")

    # The side pane's words and dates: Japanese, in Tokyo's time.
    await expect(page.locator("#side-pane h3").first).to_have_text("会話")
    started = page.locator("#side-pane dt", has_text="開始").locator("xpath=following-sibling::dd[1]")
    await expect(started).to_have_text(re.compile(r"^今日 15:0\d$"))     # opened at 06:0x UTC
    await context.close()


async def test_an_english_console_follows_the_browser(served, browser, desk):
    expect = playwright_api.expect
    base, chats = served
    context, page = await new_page(browser, "en-US")
    await sign_in(page, base, "carol@acme.test")           # no language of her own
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("a[data-list=waiting] .label")).to_have_text("Waiting")
    await page.click(f".chat-item[data-chat-id='{chats['kerry']}']")
    await expect(page.locator("#pick")).to_have_text("Pick")
    await expect(page.locator("#composer-reason")).to_have_text("Pick this chat to answer it.")
    feet = await page.locator(".msg.user .foot span").all_text_contents()
    assert feet == ["14:58"], feet                          # the brand's zone for everyone
    await page.click("#pick")
    await page.fill("#reply", "/ho")
    await expect(page.locator(".popup .opt").first.locator(".lang-badge")).to_have_text("EN")
    await shot(page, "console-en-chat")
    await context.close()


async def test_the_language_chosen_in_the_menu_stays_with_the_operator(served, browser, desk):
    expect = playwright_api.expect
    base, _ = served
    context, page = await new_page(browser, "ja-JP")   # a Japanese browser: Japanese until the admin chooses
    await sign_in(page, base, "ada@acme.test")
    await expect(page.locator("a[data-list=waiting] .label")).to_have_text("待機中")
    await expect(page.locator("#locale-select option").first).to_have_text("ブラウザーに合わせる（日本語）")
    await page.click("a[data-admin=timeouts]")
    await expect(page.locator("#languages-card h2")).to_have_text("言語とタイムゾーン")
    await expect(page.locator("#time-zone")).to_have_value("Asia/Tokyo")
    await expect(page.locator("#notice-operator_joined")).to_have_attribute("lang", "ja")   # the default first
    await expect(page.locator("#notice-operator_joined-en")).to_be_visible()
    await page.locator("#notices-card").scroll_into_view_if_needed()
    await shot(page, "console-ja-timeouts")
    async with page.expect_navigation():
        await page.select_option("#locale-select", "en")
    await expect(page.locator("a[data-list=waiting] .label")).to_have_text("Waiting")
    async with desk.sessions() as s:
        assert (await s.get(Operator, desk.operators["ada"])).locale == "en"
    await context.close()

    other, page = await new_page(browser, "ja-JP")     # another browser, still Japanese by its settings
    await sign_in(page, base, "ada@acme.test")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("a[data-list=waiting] .label")).to_have_text("Waiting")
    await expect(page.locator("#locale-select")).to_have_value("en")
    await other.close()
