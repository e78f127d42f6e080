"""Username-only users (business-scoped user ids, Meta's "Business-scoped user IDs" page):
webhooks without a phone number, sends with `recipient`, 131062, system changes."""
import pytest

from .helpers import PNID, USER, cloud_error

pytestmark = pytest.mark.asyncio

BSUID = "US.13491208655302741918"


async def test_a_username_only_user_writes_without_from_or_wa_id(sim):
    data = await sim.user(BSUID, type="text", text="hi", profile_name="Mika", username="@mika")
    assert data["webhook_status"] == 200
    value = sim.receiver.received[0]["body"]["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Mika", "username": "mika"}, "user_id": BSUID}]
    [msg] = value["messages"]
    assert msg["from_user_id"] == BSUID and "from" not in msg


async def test_a_send_with_recipient_reaches_the_bsuid_user_and_statuses_name_them_by_bsuid(sim):
    await sim.user(BSUID, type="text", text="hi")
    status, body = await sim.send({"messaging_product": "whatsapp", "recipient_type": "individual",
                                   "recipient": BSUID, "type": "text", "text": {"body": "hello"}})
    assert status == 200, body
    assert body["contacts"] == [{"input": BSUID, "user_id": BSUID}]
    wamid = body["messages"][0]["id"]
    sent = (await sim.receiver.wait_statuses(wamid, ["sent"]))[0]
    assert sent["recipient_user_id"] == BSUID and "recipient_id" not in sent
    thread = await sim.control("GET", f"/_sim/users/{BSUID}/messages")
    assert [m["direction"] for m in thread["messages"]] == ["inbound", "outbound"]


async def test_to_takes_precedence_over_recipient(sim):
    await sim.user(USER, type="text", text="hi")
    status, body = await sim.send({"messaging_product": "whatsapp", "to": USER, "recipient": BSUID,
                                   "type": "text", "text": {"body": "hello"}})
    assert status == 200 and body["contacts"] == [{"input": USER, "wa_id": USER}]


async def test_a_bad_recipient_is_refused(sim):
    status, body = await sim.send({"messaging_product": "whatsapp", "recipient": "mika",
                                   "type": "text", "text": {"body": "hello"}})
    cloud_error(status, body, 131009)


async def test_an_authentication_template_to_a_bsuid_is_131062(sim):
    await sim.control("POST", "/_sim/templates", expect=201, json={
        "name": "code", "language": "en", "category": "AUTHENTICATION", "body": "Your code is {{1}}"})
    template = {"name": "code", "language": {"code": "en"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "123456"}]}]}
    status, body = await sim.send({"messaging_product": "whatsapp", "recipient": BSUID,
                                   "type": "template", "template": template})
    cloud_error(status, body, 131062)
    status, body = await sim.send({"messaging_product": "whatsapp", "to": USER,
                                   "type": "template", "template": template})
    assert status == 200, body


async def test_system_changes_follow_metas_system_messages(sim):
    data = await sim.control("POST", f"/_sim/users/{USER}/change", json={"new_wa_id": "12195555358"})
    assert data["webhook_status"] == 200
    value = data["payload"]["entry"][0]["changes"][0]["value"]
    assert "contacts" not in value
    [msg] = value["messages"]
    assert (msg["from"], msg["type"], msg["system"]["type"], msg["system"]["wa_id"]) == (
        USER, "system", "user_changed_number", "12195555358")
    data = await sim.control("POST", f"/_sim/users/{BSUID}/change", json={"new_user_id": "US.99"})
    [msg] = data["payload"]["entry"][0]["changes"][0]["value"]["messages"]
    assert (msg["from_user_id"], msg["system"]["type"], msg["system"]["user_id"]) == (
        BSUID, "user_changed_user_id", "US.99")
    await sim.control("POST", f"/_sim/users/{USER}/change", expect=400, json={})
    assert PNID


async def test_with_user_ids_on_phone_users_have_a_bsuid_too_and_can_be_sent_to_by_it(sim):
    await sim.control("POST", "/_sim/settings", json={"user_ids": True})
    await sim.user(USER, type="text", text="hi", profile_name="Alex")
    value = sim.receiver.received[0]["body"]["entry"][0]["changes"][0]["value"]
    [msg], [contact] = value["messages"], value["contacts"]
    user_id = msg["from_user_id"]
    assert msg["from"] == USER and contact == {"profile": {"name": "Alex"}, "wa_id": USER, "user_id": user_id}
    assert user_id.startswith("US.") and user_id[3:].isdigit()
    status, body = await sim.send({"messaging_product": "whatsapp", "recipient": user_id,
                                   "type": "text", "text": {"body": "by bsuid"}})
    assert status == 200 and body["contacts"] == [{"input": user_id, "user_id": user_id}]
    sent = (await sim.receiver.wait_statuses(body["messages"][0]["id"], ["sent"]))[0]
    assert (sent["recipient_id"], sent["recipient_user_id"]) == (USER, user_id)
    thread = await sim.control("GET", f"/_sim/users/{USER}/messages")
    assert [m["direction"] for m in thread["messages"]] == ["inbound", "outbound"]
