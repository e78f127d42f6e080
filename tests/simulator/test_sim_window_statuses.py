"""The 24-hour window, status webhooks, conversations and pricing."""
import hashlib
import hmac

import pytest

from .helpers import DISPLAY, PNID, SECRET, USER, WABA

pytestmark = pytest.mark.asyncio

DAY = 24 * 3600


def template(name="order_update", lang="en_US", params=()):
    t = {"name": name, "language": {"code": lang}}
    if params:
        t["components"] = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}]
    return {"messaging_product": "whatsapp", "to": USER, "type": "template", "template": t}


async def register(sim, name, category, body="Hi {{1}}", status="APPROVED", lang="en_US"):
    await sim.control("POST", "/_sim/templates", expect=201, json={
        "name": name, "language": lang, "category": category, "status": status, "body": body})


async def test_reply_inside_window_gets_sent_delivered_read_signed(chatting):
    sim = chatting
    status, body = await sim.text("hello")
    assert status == 200
    wamid = body["messages"][0]["id"]
    statuses = await sim.receiver.wait_statuses(wamid, ["sent", "delivered", "read"])
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    # every webhook verified against the raw body with the app secret
    assert sim.receiver.rejected == []
    for d in sim.receiver.received:
        assert d["headers"]["X-Hub-Signature-256"] == "sha256=" + hmac.new(
            SECRET.encode(), d["raw"], hashlib.sha256).hexdigest()
        assert d["headers"]["Content-Type"] == "application/json"
    # Meta's envelope
    d = [d for d in sim.receiver.received if "statuses" in d["body"]["entry"][0]["changes"][0]["value"]][0]
    assert d["body"]["object"] == "whatsapp_business_account"
    entry = d["body"]["entry"][0]
    assert entry["id"] == WABA
    change = entry["changes"][0]
    assert change["field"] == "messages"
    assert change["value"]["messaging_product"] == "whatsapp"
    assert change["value"]["metadata"] == {"display_phone_number": DISPLAY, "phone_number_id": PNID}
    sent, delivered, read = statuses
    assert set(sent) == {"id", "status", "timestamp", "recipient_id", "conversation", "pricing"}
    assert sent["recipient_id"] == USER and sent["timestamp"].isdigit()
    conv = sent["conversation"]
    assert conv["origin"] == {"type": "service"}
    assert len(conv["id"]) == 32
    assert int(conv["expiration_timestamp"]) == int(sent["timestamp"]) + DAY
    assert sent["pricing"] == {"billable": True, "pricing_model": "CBP", "category": "service"}
    # expiration_timestamp only on "sent"; conversation + pricing on sent and delivered, not read
    assert delivered["conversation"] == {"id": conv["id"], "origin": {"type": "service"}}
    assert delivered["pricing"] == sent["pricing"]
    assert set(read) == {"id", "status", "timestamp", "recipient_id"}
    rec = sim.core.state.get_message(wamid)
    assert rec.status == "read"
    assert [s["status"] for s in rec.statuses] == ["sent", "delivered", "read"]


async def test_second_reply_stays_in_the_same_conversation(chatting):
    sim = chatting
    _, a = await sim.text("one")
    _, b = await sim.text("two")
    sa = await sim.receiver.wait_statuses(a["messages"][0]["id"], ["sent"])
    sb = await sim.receiver.wait_statuses(b["messages"][0]["id"], ["sent"])
    assert sa[0]["conversation"]["id"] == sb[0]["conversation"]["id"]


async def test_free_form_without_window_is_accepted_then_fails_131047(sim):
    # The user never wrote: 200 + wamid now, then a failed status webhook.
    status, body = await sim.text("hello?")
    assert status == 200
    wamid = body["messages"][0]["id"]
    statuses = await sim.receiver.wait_statuses(wamid, ["failed"])
    await sim.idle()
    statuses = sim.receiver.statuses(wamid)
    assert [s["status"] for s in statuses] == ["failed"]
    failed = statuses[0]
    assert "conversation" not in failed and "pricing" not in failed
    assert failed["recipient_id"] == USER
    assert failed["errors"] == [{
        "code": 131047,
        "title": "Re-engagement message",
        "message": "Re-engagement message",
        "error_data": {"details": "Message failed to send because more than 24 hours have passed since "
                                  "the customer last replied to this number."},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }]
    assert sim.core.state.get_message(wamid).status == "failed"


async def test_window_closes_24_hours_after_the_users_last_message(chatting):
    sim = chatting
    await sim.control("POST", "/_sim/clock", json={"advance_seconds": DAY - 60})
    _, ok = await sim.text("still open")
    await sim.receiver.wait_statuses(ok["messages"][0]["id"], ["read"])
    await sim.control("POST", "/_sim/clock", json={"advance_seconds": 61})
    thread = await sim.control("GET", f"/_sim/users/{USER}/messages")
    assert thread["window_open"] is False
    status, late = await sim.text("too late")
    assert status == 200
    statuses = await sim.receiver.wait_statuses(late["messages"][0]["id"], ["failed"])
    assert statuses[0]["errors"][0]["code"] == 131047
    # a new user message reopens it
    await sim.user(type="text", text="back")
    _, again = await sim.text("welcome back")
    await sim.receiver.wait_statuses(again["messages"][0]["id"], ["sent"])


async def test_reaction_outside_the_window_also_fails(sim):
    _, body = await sim.send({"messaging_product": "whatsapp", "to": USER, "type": "reaction",
                              "reaction": {"message_id": "wamid.X", "emoji": "x"}})
    statuses = await sim.receiver.wait_statuses(body["messages"][0]["id"], ["failed"])
    assert statuses[0]["errors"][0]["code"] == 131047


@pytest.mark.parametrize("category", ["MARKETING", "UTILITY", "AUTHENTICATION"])
async def test_template_outside_window_opens_business_initiated_conversation(sim, category):
    await register(sim, "order_update", category)
    status, body = await sim.send(template(params=["Ann"]))
    assert status == 200
    assert body["messages"][0]["message_status"] == "accepted"
    wamid = body["messages"][0]["id"]
    sent, delivered, read = await sim.receiver.wait_statuses(wamid, ["sent", "delivered", "read"])
    cat = category.lower()
    assert sent["conversation"]["origin"] == {"type": cat}
    assert "expiration_timestamp" in sent["conversation"]
    assert sent["pricing"] == {"billable": True, "pricing_model": "CBP", "category": cat}
    assert delivered["pricing"]["category"] == cat
    rec = sim.core.state.get_message(wamid)
    assert rec.rendered["body"] == "Hi Ann"


async def test_free_form_after_template_joins_its_conversation_but_window_still_applies(sim):
    await register(sim, "promo", "MARKETING")
    _, t = await sim.send(template("promo", params=["Ann"]))
    st = await sim.receiver.wait_statuses(t["messages"][0]["id"], ["sent"])
    # no user message yet: free-form still fails (the template does not open the user's window)
    _, f = await sim.text("hello")
    assert (await sim.receiver.wait_statuses(f["messages"][0]["id"], ["failed"]))[0]["errors"][0]["code"] == 131047
    # the user answers: a reply now belongs to the open marketing conversation
    await sim.user(type="text", text="tell me more")
    _, r = await sim.text("sure")
    sr = await sim.receiver.wait_statuses(r["messages"][0]["id"], ["sent"])
    assert sr[0]["conversation"]["id"] == st[0]["conversation"]["id"]
    assert sr[0]["pricing"]["category"] == "marketing"


async def test_template_of_another_category_opens_its_own_conversation(chatting):
    sim = chatting
    await register(sim, "receipt", "UTILITY")
    _, a = await sim.text("hi")
    _, b = await sim.send(template("receipt", params=["Ann"]))
    sa = await sim.receiver.wait_statuses(a["messages"][0]["id"], ["sent"])
    sb = await sim.receiver.wait_statuses(b["messages"][0]["id"], ["sent"])
    assert sa[0]["conversation"]["origin"]["type"] == "service"
    assert sb[0]["conversation"]["origin"]["type"] == "utility"
    assert sa[0]["conversation"]["id"] != sb[0]["conversation"]["id"]


async def test_conversation_expires_after_24_hours(chatting):
    sim = chatting
    _, a = await sim.text("one")
    sa = await sim.receiver.wait_statuses(a["messages"][0]["id"], ["read"])
    await sim.control("POST", "/_sim/clock", json={"advance_hours": 23})
    await sim.user(type="text", text="still here")
    await sim.control("POST", "/_sim/clock", json={"advance_hours": 2})
    _, b = await sim.text("two")
    sb = await sim.receiver.wait_statuses(b["messages"][0]["id"], ["sent"])
    assert sb[0]["conversation"]["id"] != sa[0]["conversation"]["id"]
    assert sb[0]["conversation"]["origin"]["type"] == "service"


async def test_pmp_pricing_and_no_conversation_object(make_sim):
    sim = await make_sim(pricing_model="PMP", status_conversation=False)
    await sim.user(type="text", text="hi")
    _, a = await sim.text("free service reply")
    sent = (await sim.receiver.wait_statuses(a["messages"][0]["id"], ["sent"]))[0]
    assert "conversation" not in sent
    assert sent["pricing"] == {"billable": False, "pricing_model": "PMP", "type": "free_customer_service",
                               "category": "service"}


async def test_auto_read_off_then_user_reads(make_sim):
    sim = await make_sim(auto_read=False)
    await sim.user(type="text", text="hi")
    _, a = await sim.text("hello")
    wamid = a["messages"][0]["id"]
    await sim.receiver.wait_statuses(wamid, ["sent", "delivered"])
    await sim.idle()
    assert [s["status"] for s in sim.receiver.statuses(wamid)] == ["sent", "delivered"]
    data = await sim.control("POST", f"/_sim/users/{USER}/read", json={})
    assert data == {"read": [wamid]}
    assert [s["status"] for s in sim.receiver.statuses(wamid)] == ["sent", "delivered", "read"]


async def test_statuses_can_arrive_reversed_and_duplicated(chatting):
    sim = chatting
    await sim.control("POST", "/_sim/settings", json={"status_order": "reversed", "status_duplicates": 2})
    _, a = await sim.text("hello")
    wamid = a["messages"][0]["id"]
    await sim.receiver.wait_for(lambda: len(sim.receiver.statuses(wamid)) == 6)
    order = [s["status"] for s in sim.receiver.statuses(wamid)]
    assert order == ["read", "read", "delivered", "delivered", "sent", "sent"]
    # the record's own status never regresses
    assert sim.core.state.get_message(wamid).status == "read"


async def test_biz_opaque_callback_data_is_echoed_on_statuses(chatting):
    sim = chatting
    _, a = await sim.send({"messaging_product": "whatsapp", "to": USER, "type": "text",
                           "text": {"body": "x"}, "biz_opaque_callback_data": "ticket-42"})
    statuses = await sim.receiver.wait_statuses(a["messages"][0]["id"], ["sent", "delivered", "read"])
    assert {s["biz_opaque_callback_data"] for s in statuses} == {"ticket-42"}


async def test_window_error_can_be_synchronous(make_sim):
    sim = await make_sim(window_error="sync")
    status, body = await sim.text("hello?")
    assert status == 400
    assert body["error"]["code"] == 131047
    assert body["error"]["message"] == "(#131047) Re-engagement message"
    assert sim.core.state.outbound_since(0) == []
    # templates still go
    status, _ = await sim.send({"messaging_product": "whatsapp", "to": USER, "type": "template",
                                "template": {"name": "hello_world", "language": {"code": "en_US"}}})
    assert status == 200
    await sim.control("POST", "/_sim/settings", json={"window_error": "async"})
    status, _ = await sim.text("hello?")
    assert status == 200


async def test_reset_stops_pending_status_webhooks(chatting):
    sim = chatting
    await sim.control("POST", "/_sim/settings", json={"status_delay_ms": 300})
    _, body = await sim.text("soon reset")
    await sim.control("POST", "/_sim/reset")
    import asyncio
    await asyncio.sleep(0.4)
    assert sim.receiver.statuses(body["messages"][0]["id"]) == []
