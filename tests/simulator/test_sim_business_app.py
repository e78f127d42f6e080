"""Coexistence: the business answers from the WhatsApp Business app and the simulator
sends Meta's `smb_message_echoes` webhook, which the desk's parser reads as an echo."""
from __future__ import annotations

from cloudapi.payloads import parse_webhook

from .helpers import USER


async def test_a_business_app_message_is_echoed_in_meta_s_shape(sim):
    data = await sim.control("POST", f"/_sim/users/{USER}/business-app", json={"text": "Shipped this morning!"})
    assert data["webhook_status"] == 200
    [change] = data["payload"]["entry"][0]["changes"]
    assert change["field"] == "smb_message_echoes"
    [echo] = change["value"]["message_echoes"]
    assert (echo["to"], echo["type"], echo["text"]["body"]) == (USER, "text", "Shipped this morning!")
    [item] = parse_webhook(sim.receiver.received[-1]["body"])
    assert (item.echo, item.wa_id, item.text) == (True, USER, "Shipped this morning!")
    await sim.control("POST", f"/_sim/users/{USER}/business-app", expect=400, json={"text": " "})
