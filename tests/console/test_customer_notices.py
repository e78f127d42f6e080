"""Presence follows the console's event stream. The customer is told when an operator joins, the chat is transferred, or an operator
closes it; each brand may change the texts or turn them off (issue 11)."""
from __future__ import annotations

from sqlalchemy import select

from desk.models import Message, Operator, OperatorStatus, OutboxMessage
from desk.services import notices, settings
from tests.console.conftest import signed_in


async def _sent(desk, chat_id) -> list[str]:
    async with desk.sessions() as s:
        rows = await s.execute(select(OutboxMessage.request).join(Message, Message.id == OutboxMessage.message_id)
                               .where(Message.chat_id == chat_id).order_by(OutboxMessage.id))
        return [r["text"]["body"] for r in rows.scalars() if r.get("type") == "text"]


async def _defaults_on(desk):
    async with desk.sessions() as s, s.begin():
        await settings.update(s, desk.brand_id, notices=dict(notices.CUSTOMER_DEFAULTS))


async def test_joined_transferred_and_closed_are_told_to_the_customer(make_console, desk):
    await _defaults_on(desk)
    chat_id = await desk.seed_chat("447700900201")                 # nobody online: unattended
    alice = await signed_in(make_console, "alice")
    assert (await alice.post(f"/api/chats/{chat_id}/pick")).status == 200
    assert (await alice.post(f"/api/chats/{chat_id}/transfer",
                             json={"department_id": desk.departments["Sales"]})).status == 200
    bob = await signed_in(make_console, "bob")
    assert (await bob.post(f"/api/chats/{chat_id}/pick")).status == 200
    assert (await bob.post(f"/api/chats/{chat_id}/close")).status == 200
    assert await _sent(desk, chat_id) == [
        "Alice Support from Support has joined the chat.",
        "I've passed your chat to Sales. A colleague will reply here shortly.",
        "Bob Sales from Sales has joined the chat.",
        "This chat is now closed. Thank you for writing to Acme: message us here any time."]


async def test_a_japanese_chat_hears_the_departments_japanese_names(make_console, desk):
    from desk.models import Chat, Department

    await _defaults_on(desk)
    chat_id = await desk.seed_chat("819012340201")
    async with desk.sessions() as s, s.begin():
        (await s.get(Chat, chat_id)).language = "ja"
        (await s.get(Department, desk.departments["Support"])).names = {"ja": "サポート"}
        (await s.get(Department, desk.departments["Sales"])).names = {"ja": "営業"}
    alice = await signed_in(make_console, "alice")
    assert (await alice.post(f"/api/chats/{chat_id}/pick")).status == 200
    assert (await alice.post(f"/api/chats/{chat_id}/transfer",
                             json={"department_id": desk.departments["Sales"]})).status == 200
    assert await _sent(desk, chat_id) == [
        "サポートのAlice Supportがチャットに参加しました。",
        "チャットを営業にお引き継ぎしました。まもなく担当者よりご連絡いたします。"]


async def test_an_operator_coming_online_takes_the_unattended_chat_and_the_customer_hears_it(make_console, desk):
    await _defaults_on(desk)
    chat_id = await desk.seed_chat("447700900202")
    alice = await signed_in(make_console, "alice")
    resp = await (await alice.put("/api/me/status", json={"status": "online"})).json()
    assert resp["assigned"] == [chat_id]
    assert await _sent(desk, chat_id) == ["Alice Support from Support has joined the chat."]


async def test_a_brand_changes_a_notice_or_turns_it_off_and_bad_texts_are_refused(make_console, desk):
    import pytest
    async with desk.sessions() as s, s.begin():
        await settings.update(s, desk.brand_id, notices={notices.OPERATOR_JOINED: "Hi, {operator} here!",
                                                          notices.CLOSED_BY_OPERATOR: ""})
        for bad, error in [({"operator_joined": "Hi {customer}"}, "not {customer}"),
                           ({"hello": "x"}, "notices are"), ({"transferred": "{department"}, "unmatched")]:
            with pytest.raises(settings.SettingsError, match=error):
                await settings.update(s, desk.brand_id, notices=bad)
    await desk.set_status("alice", OperatorStatus.online)
    chat_id = await desk.seed_chat("447700900203")                 # Alice gets it at once: the bot says so
    alice = await signed_in(make_console, "alice")
    assert (await alice.post(f"/api/chats/{chat_id}/close")).status == 200
    assert await _sent(desk, chat_id) == []                        # closing notice off; joined told by the bot
    other = await desk.seed_chat("447700900204", hand_off=False)
    assert (await alice.post(f"/api/chats/{other}/take-over")).status == 200
    assert await _sent(desk, other) == ["Hi, Alice Support here!"]


async def test_the_console_event_stream_beats_for_its_operator(make_console, desk):
    """GET /api/events writes the operator's last_seen_at on connecting (the beat)."""
    import asyncio

    alice = await signed_in(make_console, "alice")
    async with desk.sessions() as s:
        assert (await s.get(Operator, desk.operators["alice"])).last_seen_at is None
    resp = await alice.get("/api/events")
    assert b"event: hello" in await resp.content.readuntil(b"\n\n")
    for _ in range(50):
        async with desk.sessions() as s:
            if (await s.get(Operator, desk.operators["alice"])).last_seen_at is not None:
                break
        await asyncio.sleep(0.1)
    resp.close()
    async with desk.sessions() as s:
        assert (await s.get(Operator, desk.operators["alice"])).last_seen_at is not None


async def test_an_admin_edits_the_notices_in_the_settings_and_bad_ones_get_the_reason(make_console, desk):
    ada = await signed_in(make_console, "ada")
    got = await (await ada.get("/api/admin/settings")).json()
    off = {"en": "", "ja": ""}
    assert got["notices"] == {k: off for k in notices.CUSTOMER_DEFAULTS}          # off in this seed
    assert got["notice_defaults"] == notices.CUSTOMER_DEFAULTS and "operator" in got["notice_variables"]
    # A plain text is the brand's default language's (English here); the other language keeps its own.
    resp = await ada.put("/api/admin/settings", json={"notices": {"operator_joined": "Hi! {operator} here."}})
    assert resp.status == 200
    assert (await resp.json())["notices"]["operator_joined"] == {"en": "Hi! {operator} here.", "ja": ""}
    resp = await ada.put("/api/admin/settings", json={"notices": {"operator_joined": {"ja": "{operator}です。"}}})
    assert (await resp.json())["notices"]["operator_joined"] == {"en": "Hi! {operator} here.", "ja": "{operator}です。"}
    assert (await resp.json())["notices"]["transferred"] == off                      # the others stay as they were
    bad = await ada.put("/api/admin/settings", json={"notices": {"operator_joined": "Hi {name}"}})
    assert bad.status == 422 and "not {name}" in (await bad.json())["error"]
    assert (await ada.put("/api/admin/settings", json={"notices": "loud"})).status == 422
