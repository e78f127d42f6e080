"""Issue 12: the customer sees "typing…" while an operator writes. The console asks the
desk, which sends Meta's typing indicator on the read call of the customer's latest
message (the simulator, a real HTTP server, stands in for Meta)."""
from __future__ import annotations

import pytest

from desk.models import utcnow
from desk.services import conversations, routing
from simulator import SimConfig
from simulator import create_app as create_sim
from tests.console.conftest import SUPPORT_NUMBER, signed_in

pytestmark = pytest.mark.usefixtures("mid_month_clock")

USER = "447700900001"


@pytest.fixture
async def meta(aiohttp_client, monkeypatch):
    sim = await aiohttp_client(create_sim(SimConfig(
        webhook_url="http://127.0.0.1:9/unused", app_secret="s", access_token="console-test-token",
        phone_number_id=SUPPORT_NUMBER, waba_id="200000000000001", webhook_max_attempts=1)))
    monkeypatch.setenv("WHATSAPP_GRAPH_API_URL", str(sim.make_url("/v21.0")))
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "console-test-token")
    return sim


async def test_the_customer_sees_typing_while_the_operator_writes(make_console, desk, meta):
    # The customer wrote through (simulated) WhatsApp, so Meta knows the message id the indicator rides on.
    sent = await meta.post(f"/_sim/users/{USER}/messages", json={"type": "text", "text": "is my parcel lost?"})
    assert sent.status == 200, await sent.text()
    wamid = (await sent.json())["wamid"]
    async with desk.sessions() as s, s.begin():
        chat, _ = await conversations.record_inbound(
            s, phone_number_id=SUPPORT_NUMBER, wa_id=USER, profile_name="Kerry", wamid=wamid, type="text",
            body="is my parcel lost?", payload={}, wa_timestamp=utcnow().replace(microsecond=0))
        await routing.hand_off(s, chat.id)
        chat_id = chat.id
    alice = await signed_in(make_console, "alice")
    before = await (await alice.post(f"/api/chats/{chat_id}/typing")).json()
    assert before == {"shown": False, "why": "not your chat"}
    assert (await alice.post(f"/api/chats/{chat_id}/pick")).status == 200
    assert await (await alice.post(f"/api/chats/{chat_id}/typing")).json() == {"shown": True}
    assert await (await alice.post(f"/api/chats/{chat_id}/typing")).json() == {"shown": False}   # held back
    thread = await (await meta.get(f"/_sim/users/{USER}/messages")).json()
    assert [m["status"] for m in thread["messages"] if m["wamid"] == wamid] == ["read"]
    bob = await signed_in(make_console, "bob")
    assert (await bob.post(f"/api/chats/{chat_id}/typing")).status == 404   # another department's chat
