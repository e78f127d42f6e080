"""A simulated user edits or deletes a message they sent: Meta's `edit` and `revoke`
message webhooks (2026 reference), which the desk's parser reads."""
from __future__ import annotations

from cloudapi.payloads import parse_webhook

from .helpers import USER


async def test_a_user_edits_then_deletes_a_message(sim):
    sent = await sim.user(USER, type="text", text="three mugs")
    wamid = sent["wamid"]
    edit = await sim.control("POST", f"/_sim/users/{USER}/messages",
                             json={"type": "edit", "original_message_id": wamid, "text": "two mugs"})
    [msg] = edit["payload"]["entry"][0]["changes"][0]["value"]["messages"]
    assert msg["edit"] == {"original_message_id": wamid, "message": {"type": "text", "text": {"body": "two mugs"}}}
    [item] = parse_webhook(edit["payload"])
    assert (item.type, item.original_wamid, item.text) == ("edit", wamid, "two mugs")
    revoke = await sim.control("POST", f"/_sim/users/{USER}/messages", json={"type": "revoke", "original_message_id": wamid})
    [msg] = revoke["payload"]["entry"][0]["changes"][0]["value"]["messages"]
    assert (msg["type"], msg["revoke"]) == ("revoke", {"original_message_id": wamid})
    await sim.control("POST", f"/_sim/users/{USER}/messages", expect=404,
                      json={"type": "revoke", "original_message_id": "wamid.nope"})
    await sim.control("POST", f"/_sim/users/{USER}/messages", expect=400,
                      json={"type": "edit", "original_message_id": wamid, "text": ""})
