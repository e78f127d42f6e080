"""A username-only WhatsApp user (business-scoped user id, no phone number) talks to the
bot through the real Rasa server, action server and simulator; then changes BSUID and
stays in the same Rasa conversation."""
from __future__ import annotations

import sqlite3

import pytest

from tests.e2e.conftest import desk_rows, wait_for
from tests.e2e.test_whatsapp_roundtrip import outbound_to, replies_after

pytestmark = pytest.mark.e2e

BSUID = "US.44917700900123456789"
NEW_BSUID = "US.44917700900987654321"


def say(stack, user: str, text: str) -> dict:
    status, result = stack.http["simulator"].post(
        f"/_sim/users/{user}/messages", {"type": "text", "text": text, "profile_name": "Mika",
                                          "username": "mika"})
    assert status == 200, result
    assert "from" not in result["payload"]["entry"][0]["changes"][0]["value"]["messages"][0]
    return result


def rasa_senders(stack) -> set[str]:
    conn = sqlite3.connect(stack.env["RASA_TRACKER_DB"], timeout=10)
    try:
        return {row[0] for row in conn.execute("SELECT DISTINCT sender_id FROM events")}
    finally:
        conn.close()


def test_a_username_only_user_is_answered_by_bsuid_and_keeps_one_conversation(stack):
    pnid = stack.env["WHATSAPP_PHONE_NUMBER_ID"]
    say(stack, BSUID, "hello")
    [reply] = replies_after(stack, BSUID, 0)
    assert reply.startswith("Hello Mika!"), reply
    [sent] = outbound_to(stack, BSUID)
    assert sent["request"]["recipient"] == BSUID and "to" not in sent["request"]
    assert desk_rows(stack, "SELECT wa_id, phone, bsuid, username FROM contacts") == [(BSUID, None, BSUID, "mika")]
    # the reply's statuses (by recipient_user_id) reached the desk
    assert wait_for(lambda: desk_rows(stack, "SELECT status FROM messages WHERE sender = 'bot'")
                    in ([("delivered",)], [("read",)]), timeout=30)

    status, change = stack.http["simulator"].post(f"/_sim/users/{BSUID}/change", {"new_user_id": NEW_BSUID})
    assert status == 200 and change["webhook_status"] == 200, change
    assert wait_for(lambda: desk_rows(stack, "SELECT bsuid FROM contacts") == [(NEW_BSUID,)], timeout=30)

    say(stack, NEW_BSUID, "what are your opening hours?")
    [reply] = replies_after(stack, NEW_BSUID, 0)
    assert "Monday to Friday" in reply
    assert outbound_to(stack, NEW_BSUID)[0]["request"]["recipient"] == NEW_BSUID
    assert desk_rows(stack, "SELECT wa_id, bsuid FROM contacts") == [(BSUID, NEW_BSUID)]
    assert {s for s in rasa_senders(stack) if s.startswith(pnid)} == {f"{pnid}_{BSUID}"}
    lines = desk_rows(stack, "SELECT sender, type FROM messages ORDER BY wa_timestamp, id")
    assert ("system", "system") in lines and len(desk_rows(stack, "SELECT id FROM chats")) == 1
