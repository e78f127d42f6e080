"""A Japanese customer with the real system (simulator, Rasa server + action server,
desk): the demo brand speaks Japanese first, so the bot greets, runs the lead form and
hands over in Japanese, and the operator's joining is told in Japanese (issue 14).

The lead form and handoff of the first test are driven by payloads and form answers (the
dialogue, not the NLU, is under test there); a typed Japanese question gets the Japanese
FAQ answer; and a conversation typed in Japanese from the first word to the operator's
answer: an FAQ, a request for a person, the team tapped by its Japanese name (the demo's
サポート), an operator whose console is in Japanese gets the chat and answers."""
from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from tests.e2e.conftest import desk_rows, running_stack, wait_for

pytestmark = pytest.mark.e2e

USER = "819012340001"
NAME = "田中 太郎"
KANA = re.compile(r"[\u3040-\u30ff]")
OPERATOR = "admin@tsunagi.local"  # the demo admin (desk/demo.py): Support and Sales


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory):
    yield from running_stack(tmp_path_factory.mktemp("var"), seed_demo=True)


def outbound(stack, user: str = USER) -> list[dict]:
    status, thread = stack.http["simulator"].get(f"/_sim/users/{user}/messages")
    assert status == 200, thread
    return [m["request"] for m in thread["messages"] if m["direction"] == "outbound"]


def text_of(request: dict) -> str:
    if request.get("type") == "text":
        return request["text"]["body"]
    return request["interactive"]["body"]["text"]


def titles_of(request: dict) -> list[str]:
    action = (request.get("interactive") or {}).get("action") or {}
    if "buttons" in action:
        return [b["reply"]["title"] for b in action["buttons"]]
    return [row["title"] for section in action.get("sections", []) for row in section["rows"]]


def sends(stack, text: str | None = None, user: str = USER, **body) -> None:
    payload = {"type": "text", "text": text} if text is not None else body
    status, result = stack.http["simulator"].post(f"/_sim/users/{user}/messages",
                                                  {"profile_name": NAME, **payload})
    assert status == 200, result


def replies(stack, before: int, expected: int = 1, timeout: float = 60, user: str = USER) -> list[dict]:
    got = wait_for(lambda: (lambda out: out[before:] if len(out) >= before + expected else None)(
        outbound(stack, user)), timeout=timeout)
    assert got, f"no reply within {timeout}s"
    return got


def turn(stack, text: str | None = None, expected: int = 1, user: str = USER, **body) -> list[dict]:
    before = len(outbound(stack, user))
    sends(stack, text, user, **body)
    return replies(stack, before, expected, user=user)


def tap(stack, payload: str, title: str, expected: int = 1, user: str = USER) -> list[dict]:
    return turn(stack, expected=expected, user=user, type="button_reply", id=payload, title=title)


def test_a_japanese_customer_is_greeted_leaves_a_lead_and_is_handed_to_an_operator(demo_stack):
    # Their first words: Japanese from the first reply on (an apology, until the NLU knows
    # Japanese greetings; then the greeting).
    [first] = turn(demo_stack, "こんにちは")
    assert text_of(first).startswith(("田中様、こんにちは！", "申し訳ございません、うまく理解できませんでした")), first
    [(chat_language,)] = desk_rows(demo_stack, "SELECT language FROM chats")
    assert chat_language == "ja"

    [hello] = turn(demo_stack, "/greet")
    assert text_of(hello).startswith("田中様、こんにちは！Kumo Goodsのバーチャルアシスタントです。")

    # The lead form, in Japanese; the answers typed the way people do on a phone.
    [ask] = turn(demo_stack, "/sales_inquiry")
    assert "お名前は *田中 太郎* 様でよろしいですか？" in text_of(ask) and titles_of(ask) == ["はい、そうです"]
    [email] = tap(demo_stack, "/affirm", "はい、そうです")
    assert text_of(email) == "営業担当からご連絡するメールアドレスを教えてください。"
    [company] = turn(demo_stack, "tanaka＠example.jp")
    assert text_of(company).startswith("会社名を教えてください。")
    [interest] = turn(demo_stack, "（株）クモ")
    assert text_of(interest).startswith("どのようなご用件でしょうか？")
    assert titles_of(interest) == ["大口注文", "法人ギフト", "法人アカウント"]
    [summary] = turn(demo_stack, "名入れマグカップ200個")
    assert text_of(summary).startswith("以下の内容で承ります。") and "*電話番号:* +819012340001" in text_of(summary)
    assert titles_of(summary) == ["はい、同意します", "いいえ"]
    [thanks] = tap(demo_stack, "/affirm", "はい、同意します")
    assert text_of(thanks) == "田中 太郎様、ありがとうございます！1営業日以内に営業担当よりご連絡いたします。"
    assert desk_rows(demo_stack, "SELECT name, email, company, phone FROM leads") == [
        ("田中 太郎", "tanaka@example.jp", "(株)クモ", "+819012340001")]

    # A person (the intent as a payload: the NLU need not know Japanese for it): nobody
    # is online, so the bot offers to leave a message or to wait.
    # The team is named in Japanese (desk/demo.py: Support is サポート), whichever name was sent.
    [offer] = turn(demo_stack, '/choose_department{"department":"Support"}')
    assert text_of(offer).startswith("ただいまサポートの担当者が不在です"), offer
    assert titles_of(offer) == ["メッセージを残す", "担当者を待つ"]
    [queued] = tap(demo_stack, '/wait_for_agent{"department":"サポート"}', "担当者を待つ")
    assert text_of(queued).startswith("サポートの対応リストにお客様のチャットを追加しました。")

    # The operator picks the chat in the console; the customer is told in Japanese.
    before = len(outbound(demo_stack))
    asyncio.run(operator_picks_and_answers(demo_stack, "田中様、お待たせいたしました。担当の者です。"))
    joined, answer = (text_of(m) for m in replies(demo_stack, before, expected=2))
    assert joined == "サポートのDemo Adminがチャットに参加しました。"
    assert answer == "田中様、お待たせいたしました。担当の者です。"


async def sign_in(http, stack) -> dict:
    """The demo admin signed in to the console's API; the headers of its writes."""
    base = stack.http["desk"].base
    origin = {"Origin": base}
    async with http.get(base + "/login") as resp:
        assert resp.status == 200
    login_csrf = http.cookie_jar.filter_cookies(base).get("tsunagi_login_csrf").value
    async with http.post(base + "/api/login", json={"email": OPERATOR,
                                                    "password": stack.env["DEMO_OPERATOR_PASSWORD"]},
                         headers={**origin, "X-CSRF-Token": login_csrf}) as resp:
        assert resp.status == 200, await resp.text()
    async with http.get(base + "/api/me") as resp:
        return {**origin, "X-CSRF-Token": (await resp.json())["csrf_token"]}


async def operator_picks_and_answers(stack, text: str) -> None:
    base = stack.http["desk"].base
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        csrf = await sign_in(http, stack)
        [(chat_id,)] = desk_rows(stack, "SELECT id FROM chats WHERE state = 'unattended'")
        async with http.post(f"{base}/api/chats/{chat_id}/pick", headers=csrf) as resp:
            assert resp.status == 200, await resp.text()
        async with http.post(f"{base}/api/chats/{chat_id}/reply", json={"text": text}, headers=csrf) as resp:
            assert resp.status in (200, 201), await resp.text()


def test_a_japanese_question_gets_the_japanese_answer(demo_stack):
    wa_id = "819012340002"
    status, _ = demo_stack.http["simulator"].post(f"/_sim/users/{wa_id}/messages",
                                                   {"profile_name": "さくら", "type": "text",
                                                    "text": "営業時間を教えてください"})
    assert status == 200
    got = wait_for(lambda: [m["request"] for m in demo_stack.http["simulator"].get(
        f"/_sim/users/{wa_id}/messages")[1]["messages"] if m["direction"] == "outbound"], timeout=60)
    assert got and KANA.search(text_of(got[0])) and "9:00" in text_of(got[0]), got


def test_a_conversation_typed_in_japanese_reaches_an_operator_whose_console_is_in_japanese(demo_stack):
    user = "819012340003"
    asyncio.run(operator_goes_online_in_japanese(demo_stack))

    # A typed FAQ question, answered in Japanese.
    [answer] = turn(demo_stack, "送料はいくらですか", user=user)
    assert "英国内の通常配送は*£3.95*" in text_of(answer), answer

    # Typed: a person, please. The article, then the teams by their Japanese names.
    handed, ask = turn(demo_stack, "人間のスタッフと話したいです", expected=2, user=user)
    assert text_of(handed).startswith("かしこまりました。担当のスタッフにおつなぎします。"), handed
    assert titles_of(ask) == ["サポート", "営業"], ask

    # サポート tapped: the operator online in Support gets the chat at once.
    [connected] = tap(demo_stack, '/choose_department{"department":"サポート"}', "サポート", user=user)
    assert text_of(connected) == "サポートのDemo Adminにおつなぎしました。まもなくこちらでお返事いたします。"
    [(chat_id, state, department)] = desk_rows(demo_stack, """
        SELECT c.id, c.state, d.name FROM chats c JOIN contacts k ON k.id = c.contact_id
        JOIN departments d ON d.id = c.department_id WHERE k.wa_id = ?""", (user,))
    assert (state, department) == ("open", "Support")

    before = len(outbound(demo_stack, user))
    asyncio.run(operator_answers_in_japanese(demo_stack, chat_id, "お待たせいたしました。サポートの者です。"))
    [reply] = replies(demo_stack, before, user=user)
    assert text_of(reply) == "お待たせいたしました。サポートの者です。"


async def operator_goes_online_in_japanese(stack) -> None:
    base = stack.http["desk"].base
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        csrf = await sign_in(http, stack)
        async with http.put(base + "/api/me/locale", json={"locale": "ja"}, headers=csrf) as resp:
            assert resp.status == 200 and (await resp.json())["locale"] == "ja", await resp.text()
        async with http.put(base + "/api/me/status", json={"status": "online"}, headers=csrf) as resp:
            assert resp.status == 200, await resp.text()


async def operator_answers_in_japanese(stack, chat_id: int, text: str) -> None:
    """The chat is the operator's own (in 自分のチャット), seen in Japanese; the answer is sent."""
    base = stack.http["desk"].base
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        csrf = await sign_in(http, stack)
        async with http.get(base + "/api/me") as resp:
            assert (await resp.json())["locale"] == "ja"
        async with http.get(base + "/api/inbox/mine") as resp:
            assert resp.status == 200, await resp.text()
            assert chat_id in [c["id"] for c in (await resp.json())["chats"]]
        async with http.post(f"{base}/api/chats/{chat_id}/reply", json={"text": "x" * 5000},
                             headers=csrf) as resp:  # a refusal, said in the operator's language
            assert resp.status == 409 and KANA.search((await resp.json())["error"]), await resp.text()
        async with http.post(f"{base}/api/chats/{chat_id}/reply", json={"text": text}, headers=csrf) as resp:
            assert resp.status in (200, 201), await resp.text()
