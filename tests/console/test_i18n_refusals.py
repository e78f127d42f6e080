"""Refusals of the desk's services reach a Japanese operator in Japanese (issue 14), on SQLite and
PostgreSQL: takeover and hand-back, tickets, credits, templates. Each goes through the console's
API; the English words of the same refusal are checked too, so a changed service message (which
would no longer match its `svc.*` template) fails here instead of reaching the console in English."""
from __future__ import annotations

import pytest

from desk import i18n
from desk.models import Operator
from tests.console.conftest import signed_in


async def japanese(make_console, desk, who: str):
    client = await signed_in(make_console, who)
    async with desk.sessions() as s, s.begin():
        (await s.get(Operator, desk.operators[who])).locale = "ja"
    return client


async def error(resp, status: int) -> str:
    assert resp.status == status, await resp.text()
    return (await resp.json())["error"]


async def test_takeover_and_hand_back_refusals_in_japanese(make_console, desk):
    bot_chat = await desk.seed_chat("447700900201", hand_off=False)
    alice, carol = await japanese(make_console, desk, "alice"), await japanese(make_console, desk, "carol")
    assert await error(await alice.post(f"/api/chats/{bot_chat}/hand-back", {}), 409) == \
        "このチャットはすでにボットが対応しています"
    assert (await alice.post(f"/api/chats/{bot_chat}/take-over", {})).status == 200
    assert await error(await carol.post(f"/api/chats/{bot_chat}/hand-back", {}), 409) == \
        "ボットに戻せるのは、このチャットの担当オペレーターか管理者だけです"


async def test_ticket_refusals_in_japanese(make_console, desk):
    chat_id = await desk.seed_chat("447700900202")
    alice, carol = await japanese(make_console, desk, "alice"), await japanese(make_console, desk, "carol")
    resp = await alice.post(f"/api/chats/{chat_id}/ticket", {"subject": "返品について"})
    assert resp.status == 201, await resp.text()
    ticket = (await resp.json())["id"]
    assert await error(await alice.post(f"/api/tickets/{ticket}/reopen", {}), 409) == "このチケットはまだ対応中です"
    assert (await alice.post(f"/api/tickets/{ticket}/take", {})).status == 200
    assert await error(await carol.post(f"/api/tickets/{ticket}/take", {}), 409) == \
        "このチケットはほかの人が担当しています"
    assert await error(await carol.post(f"/api/tickets/{ticket}/close", {}), 409) == \
        "このチケットを閉じられるのは担当者か管理者だけです"
    assert (await alice.post(f"/api/tickets/{ticket}/close", {})).status == 200
    assert await error(await alice.post(f"/api/tickets/{ticket}/close", {}), 409) == "このチケットはすでに閉じています"


async def test_credit_and_template_refusals_in_japanese(make_console, desk):
    ada = await japanese(make_console, desk, "ada")
    message = await error(await ada.post("/api/admin/credits", {"credits": 0}), 422)
    assert message.startswith("一度に購入できるクレジットは 1〜") and message.endswith("（0 は指定できません）")
    chat_id = await desk.seed_chat("447700900203")
    assert (await ada.post(f"/api/chats/{chat_id}/pick", {})).status == 200
    resp = await ada.post(f"/api/chats/{chat_id}/template", {"name": "no_such_template", "language": "ja"})
    assert await error(resp, 422) == "テンプレート no_such_template（ja）はこの番号の WABA に登録されていません"


@pytest.mark.parametrize("english, japanese", [
    ("someone else took this chat from the bot", "このチャットはほかの人が先にボットから引き継ぎました"),
    ("this chat changed meanwhile: reload it", "このチャットはその間に変更されました。再読み込みしてください"),
    ("someone else took this ticket", "このチケットはほかの人が先に引き受けました"),
    ("A colleague is chatting with this customer now: answer in that chat, or ask them to transfer it to you",
     "同僚がいまこのお客様とチャットしています。そのチャットで返信するか、チャットをあなたに転送してもらってください"),
    ("Bob Sales is chatting with this customer now: answer in that chat, or ask them to transfer it to you",
     "Bob Sales さんがいまこのお客様とチャットしています。そのチャットで返信するか、チャットをあなたに転送してもらってください"),
    ("no credit: this marketing message to Germany costs USD 0.1365 (rate card 2026-10-01) and the balance is "
     "USD 0.0000: an admin must buy credits",
     "クレジットが足りません: Germany 宛てのこの marketing メッセージは USD 0.1365（rate card 2026-10-01）かかりますが、"
     "残高は USD 0.0000 です。管理者がクレジットを購入する必要があります"),
    ("this lead is queued for another department", "このリードは別の部署の待ち行列にあります"),
    ("the filled-in body has 1100 characters; Meta allows 1024", "パラメーターを入れた本文は 1100 文字です。Meta の上限は 1024 文字です"),
])
def test_refusals_that_need_a_race_or_a_rate_card_are_translated_too(english, japanese):
    assert i18n.translate("ja", english) == japanese
