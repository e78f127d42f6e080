"""The whole product in one story, nothing stood in but Meta: a WhatsApp user
(simulator) talks to the real bot (Rasa server + action server), asks for a person,
picks a team; an operator online in the console (headless Chromium) gets the chat
live, answers, sees the user's answer arrive, closes it; the next message goes to
the bot again."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.console.test_browser import ARGS, CHROMIUM
from tests.e2e.conftest import running_stack, wait_for

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")]

USER = "447700900888"
OPERATOR = "admin@tsunagi.local"  # the demo admin (desk/demo.py): Support and Sales


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory):
    yield from running_stack(tmp_path_factory.mktemp("var"), seed_demo=True)


def bot_messages(stack) -> list[dict]:
    status, thread = stack.http["simulator"].get(f"/_sim/users/{USER}/messages")
    assert status == 200, thread
    return [m for m in thread["messages"] if m["direction"] == "outbound"]


def text_of(message: dict) -> str:
    body = message["request"]
    if body.get("type") == "interactive":
        return body["interactive"]["body"]["text"]
    return (body.get("text") or {}).get("body", json.dumps(body))


def user_sends(stack, **message) -> None:
    status, result = stack.http["simulator"].post(f"/_sim/users/{USER}/messages",
                                                  {"profile_name": "Kerry Fisher", **message})
    assert status == 200, result


async def replies_after(stack, count: int, expected: int = 1, timeout: float = 60) -> list[str]:
    got = await asyncio.to_thread(wait_for, lambda: (lambda out: out[count:] if len(out) >= count + expected
                                                     else None)(bot_messages(stack)), timeout)
    assert got, f"no reply within {timeout}s"
    return [text_of(m) for m in got]


async def test_a_user_asks_the_bot_for_a_person_and_an_operator_answers(demo_stack):
    expect = playwright_api.expect
    base = demo_stack.http["desk"].base
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(base + "/")
            await page.fill("#email", OPERATOR)
            await page.fill("#password", demo_stack.env["DEMO_OPERATOR_PASSWORD"])
            await page.click("#submit")
            await page.wait_for_url(base + "/#/inbox/*")
            await page.click('#status-switch button[data-status="online"]')
            await expect(page.locator('#status-switch button[data-status="online"]')).to_have_attribute(
                "aria-checked", "true")
            await page.click('.nav-item[data-list="mine"]')

            # The bot answers, offers the teams; the user taps Support.
            user_sends(demo_stack, type="text", text="I want to talk to a human")
            answer, offer = await replies_after(demo_stack, 0, expected=2)
            assert "connect you with a colleague" in answer and offer.startswith("Who would you like")
            user_sends(demo_stack, type="button_reply", id='/choose_department{"department":"Support"}')
            [connected] = await replies_after(demo_stack, 2)
            assert connected.startswith("You're now connected with Demo Admin from Support"), connected

            # The chat is the operator's, live, with the bot's part of the transcript.
            item = page.locator(".chat-item", has_text="Kerry Fisher")
            await expect(item).to_be_visible(timeout=15000)
            await item.click()
            await expect(page.locator(".msg.bot .bubble").last).to_contain_text("You're now connected")
            await page.fill("#reply", "Hi Kerry, this is Demo Admin from Support. How can I help?")
            await page.keyboard.press("Enter")
            [reply] = await replies_after(demo_stack, 3)
            assert reply == "Hi Kerry, this is Demo Admin from Support. How can I help?"

            # The bot stays quiet while the operator has the chat; the answer appears live.
            user_sends(demo_stack, type="text", text="My order #A-20931 never arrived")
            await expect(page.locator(".msg.user .bubble").last).to_contain_text("#A-20931 never arrived")
            assert await asyncio.to_thread(wait_for, lambda: len(bot_messages(demo_stack)) > 4, 3) is False

            await page.click("#close-chat")
            await page.fill(".modal input", "resolved")
            await page.click(".modal .btn.danger")
            await expect(page.locator("#composer-reason")).to_contain_text("A closed chat cannot be answered.")
            assert errors == []
        finally:
            await browser.close()

    # After the close, the next message starts a new chat with the bot, which answers.
    count = len(bot_messages(demo_stack))
    user_sends(demo_stack, type="text", text="what are your opening hours?")
    hours = await asyncio.to_thread(wait_for, lambda: [t for t in map(text_of, bot_messages(demo_stack)[count:])
                                                       if "Monday to Friday" in t], 60)
    assert hours, [text_of(m) for m in bot_messages(demo_stack)[count:]]
