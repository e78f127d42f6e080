"""The simulator sends Meta's WABA-level webhooks of its own, in the shapes of Meta's
webhooks reference (simulator/account_webhooks.py), signed like the others; and the
desk's parser takes each of them (a contract: the simulator follows Meta, the desk
follows the simulator)."""
import pytest

from cloudapi.payloads import parse_webhook

from .helpers import DISPLAY, PNID, USER, WABA

pytestmark = pytest.mark.asyncio


def changes(receiver, field):
    return [(e, c) for d in receiver.received for e in d["body"]["entry"] for c in e["changes"]
            if c["field"] == field]


async def test_account_and_quality_updates_are_signed_and_shaped_as_meta_documents(make_sim, receiver):
    sim = await make_sim()
    out = await sim.control("POST", "/_sim/account/update", json={"event": "ACCOUNT_VIOLATION",
                                                                 "violation_type": "ADULT"})
    assert out["webhook_status"] == 200
    await sim.control("POST", "/_sim/account/update", json={"event": "DISABLED_UPDATE", "ban_state": "REINSTATE"})
    [(e1, c1), (_, c2)] = changes(receiver, "account_update")
    assert e1["id"] == WABA and isinstance(e1["time"], int)
    assert c1["value"] == {"event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "ADULT"}}
    assert c2["value"]["ban_info"]["waba_ban_state"] == "REINSTATE"

    await sim.control("POST", f"/_sim/numbers/{PNID}/quality", json={
        "event": "DOWNGRADE", "old_limit": "TIER_10K", "current_limit": "TIER_2K",
        "max_daily_conversations_per_business": "TIER_2K"})
    [(_, q)] = changes(receiver, "phone_number_quality_update")
    assert q["value"] == {"display_phone_number": DISPLAY, "event": "DOWNGRADE", "old_limit": "TIER_10K",
                          "current_limit": "TIER_2K", "max_daily_conversations_per_business": "TIER_2K"}
    assert receiver.rejected == []
    items = [i for d in receiver.received for i in parse_webhook(d["body"])]
    assert [i.field for i in items] == ["account_update", "account_update", "phone_number_quality_update"]


async def test_bad_control_bodies_are_refused_with_the_reason(make_sim, receiver):
    sim = await make_sim()
    bad = await sim.control("POST", "/_sim/account/update", expect=400, json={"event": "NOPE"})
    assert "event must be one of" in bad["error"]
    bad = await sim.control("POST", f"/_sim/numbers/{PNID}/quality", expect=400, json={"event": "FLAGGED"})
    assert "current_limit" in bad["error"]
    bad = await sim.control("POST", f"/_sim/users/{USER}/preferences", expect=400, json={"value": "maybe"})
    assert "stop or resume" in bad["error"]
    assert receiver.received == []


async def test_template_quality_and_category_updates(make_sim, receiver):
    sim = await make_sim()
    await sim.control("POST", "/_sim/templates", expect=201, json={
        "name": "order_update", "language": "en_US", "category": "UTILITY", "body": "Order {{1}}"})
    await sim.control("POST", "/_sim/templates/quality", json={"name": "order_update",
                                                              "new_quality_score": "RED",
                                                              "previous_quality_score": "GREEN"})
    [(_, q)] = changes(receiver, "message_template_quality_update")
    assert q["value"]["new_quality_score"] == "RED" and isinstance(q["value"]["message_template_id"], int)

    await sim.control("POST", "/_sim/templates/category", json={"name": "order_update", "category": "MARKETING",
                                                               "impending": True})
    await sim.control("POST", "/_sim/templates/category", json={"name": "order_update", "category": "MARKETING"})
    [(_, soon), (_, done)] = changes(receiver, "template_category_update")
    assert (soon["value"]["new_category"], soon["value"]["correct_category"]) == ("UTILITY", "MARKETING")
    assert isinstance(soon["value"]["category_update_timestamp"], int)
    assert (done["value"]["previous_category"], done["value"]["new_category"]) == ("UTILITY", "MARKETING")
    templates = (await sim.control("GET", "/_sim/templates"))["templates"]
    assert [t["category"] for t in templates if t["name"] == "order_update"] == ["MARKETING"]
    parsed = [i for d in receiver.received for i in parse_webhook(d["body"])]
    assert [getattr(i, "event", None) for i in parsed][-2:] == ["CATEGORY_IMPENDING", "CATEGORY_CHANGED"]


async def test_user_preferences_history_and_contacts_sync(make_sim, receiver):
    sim = await make_sim()
    await sim.control("POST", f"/_sim/users/{USER}/preferences", json={"value": "stop"})
    [(_, p)] = changes(receiver, "user_preferences")
    pref = p["value"]["user_preferences"][0]
    assert (pref["wa_id"], pref["category"], pref["value"]) == (USER, "marketing_messages", "stop")
    assert p["value"]["metadata"]["phone_number_id"] == PNID

    await sim.control("POST", f"/_sim/numbers/{PNID}/history", json={
        "phase": 1, "chunk_order": 2, "progress": 55, "threads": [{"wa_id": USER, "messages": [
            {"text": "Is it in stock?", "timestamp": 1780000000},
            {"text": "Yes!", "timestamp": 1780000060, "from_business": True, "status": "READ"},
            {"media": True, "timestamp": 1780000100}]}]})
    [(_, h)] = changes(receiver, "history")
    [chunk] = h["value"]["history"]
    assert chunk["metadata"] == {"phase": 1, "chunk_order": 2, "progress": 55}
    [thread] = chunk["threads"]
    asked, answered, media = thread["messages"]
    assert thread["id"] == USER and asked["from"] == USER and "to" not in asked
    assert (answered["from"], answered["to"]) == (DISPLAY, USER)
    assert media["type"] == "media_placeholder" and "media_placeholder" not in media
    assert asked["timestamp"] == "1780000000" and asked["history_context"] == {"status": "READ"}

    await sim.control("POST", f"/_sim/numbers/{PNID}/history", json={"declined": True})
    assert changes(receiver, "history")[1][1]["value"]["history"][0]["errors"][0]["code"] == 2593109

    await sim.control("POST", f"/_sim/numbers/{PNID}/contacts-sync", json={"contacts": [
        {"phone_number": USER, "full_name": "Pablo Morales"}, {"phone_number": "15550009999", "action": "remove"}]})
    [(_, sync)] = changes(receiver, "smb_app_state_sync")
    added, removed = sync["value"]["state_sync"]
    assert added["contact"] == {"full_name": "Pablo Morales", "first_name": "Pablo", "phone_number": USER}
    assert removed["contact"] == {"phone_number": "15550009999"} and removed["action"] == "remove"
    assert receiver.rejected == []
