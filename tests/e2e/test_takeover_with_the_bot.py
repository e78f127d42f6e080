"""Issue 11 with the real bot (Rasa server + action server), nothing stood in but Meta:
an operator watches a chat the bot is having, takes it over in the console (the bot goes
quiet, the operator's answer reaches WhatsApp), hands it back, and the bot answers the
user's next question again."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.console.test_browser import ARGS, CHROMIUM
from tests.e2e.conftest import running_stack, wait_for
from tests.e2e.test_console_with_the_bot import OPERATOR, text_of

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")]

USER = "447700900777"


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory):
    yield from running_stack(tmp_path_factory.mktemp("var"), seed_demo=True)


def outbound(stack) -> list[str]:
    status, thread = stack.http["simulator"].get(f"/_sim/users/{USER}/messages")
    assert status == 200, thread
    return [text_of(m) for m in thread["messages"] if m["direction"] == "outbound"]


def user_sends(stack, text: str) -> None:
    status, result = stack.http["simulator"].post(f"/_sim/users/{USER}/messages",
                                                  {"profile_name": "Mika Tanaka", "type": "text", "text": text})
    assert status == 200, result


async def new_replies(stack, count: int, timeout: float = 60) -> list[str]:
    got = await asyncio.to_thread(wait_for, lambda: (lambda out: out[count:] if len(out) > count else None)(
        outbound(stack)), timeout)
    assert got, f"no reply within {timeout}s"
    return got


async def test_an_operator_takes_a_bot_chat_over_and_hands_it_back(demo_stack):
    expect = playwright_api.expect
    base = demo_stack.http["desk"].base
    user_sends(demo_stack, "what are your opening hours?")
    first = await new_replies(demo_stack, 0)
    assert any("Monday to Friday" in t for t in first), first
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
            await page.click('.nav-item[data-list="bot"]')
            item = page.locator(".chat-item", has_text="Mika Tanaka")
            await expect(item).to_be_visible(timeout=15000)
            await item.click()
            before = len(outbound(demo_stack))
            await page.click("#take-over")
            await expect(page.locator(".msg-event").last).to_contain_text("took over the chat from the bot")
            # The customer is told who joined (issue 11: desk.services.customer_notices).
            assert (await new_replies(demo_stack, before)) == ["Demo Admin from Support has joined the chat."]

            count = len(outbound(demo_stack))
            await page.fill("#reply", "Hi Mika, a person here. We open at 9 tomorrow.")
            await page.keyboard.press("Enter")
            assert (await new_replies(demo_stack, count)) == ["Hi Mika, a person here. We open at 9 tomorrow."]
            # The bot is paused: the user's message reaches the operator only.
            user_sends(demo_stack, "thanks! and do you ship to Japan?")
            await expect(page.locator(".msg.user .bubble").last).to_contain_text("ship to Japan")
            assert await asyncio.to_thread(wait_for, lambda: len(outbound(demo_stack)) > count + 1, 4) is False

            await page.click("#hand-back")
            await expect(page.locator(".msg-event").last).to_contain_text("handed the chat back to the bot")
            assert errors == []
        finally:
            await browser.close()
    # Back with the bot: it answers the next question.
    count = len(outbound(demo_stack))
    user_sends(demo_stack, "what are your opening hours?")
    again = await new_replies(demo_stack, count)
    assert any("Monday to Friday" in t for t in again), again
