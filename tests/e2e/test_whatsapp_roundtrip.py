"""A WhatsApp user talks to the bot: simulator → channel → Rasa (+ actions) → simulator."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import urllib.parse

import pytest

from tests.e2e.conftest import desk_rows, wait_for

pytestmark = pytest.mark.e2e

USER = "447700900123"
WEBHOOK = "/webhooks/whatsapp/webhook"


def outbound_to(stack, wa_id: str) -> list[dict]:
    status, thread = stack.http["simulator"].get(f"/_sim/users/{wa_id}/messages")
    assert status == 200, thread
    return [m for m in thread["messages"] if m["direction"] == "outbound"]


def text_of(message: dict) -> str:
    body = message["request"]  # the Cloud API request the business sent
    if body.get("type") == "text":
        return body["text"]["body"]
    if body.get("type") == "interactive":
        return body["interactive"]["body"]["text"]
    return json.dumps(body)


def say(stack, wa_id: str, text: str, **extra) -> dict:
    status, result = stack.http["simulator"].post(
        f"/_sim/users/{wa_id}/messages", {"type": "text", "text": text, "profile_name": "Kerry Fisher", **extra})
    assert status == 200, result
    return result


def replies_after(stack, wa_id: str, count_before: int, expected: int = 1, timeout: float = 60):
    got = wait_for(lambda: (lambda out: out[count_before:] if len(out) >= count_before + expected else None)(
        outbound_to(stack, wa_id)), timeout=timeout)
    assert got, f"no reply from the bot within {timeout}s"
    return [text_of(m) for m in got]


def test_verification_handshake(stack):
    rasa = stack.http["rasa"]
    ok = rasa.get(f"{WEBHOOK}?hub.mode=subscribe&hub.verify_token=e2e-verify&hub.challenge=1158201444")
    assert ok == (200, 1158201444) or ok == (200, "1158201444")
    assert rasa.get(f"{WEBHOOK}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")[0] == 403


def test_user_is_greeted_by_name_through_the_action_server(stack):
    before = len(outbound_to(stack, USER))
    say(stack, USER, "hello")
    [reply] = replies_after(stack, USER, before)
    assert reply.startswith("Hello Kerry!"), reply


def test_faq_is_answered(stack):
    before = len(outbound_to(stack, USER))
    say(stack, USER, "what are your opening hours?")
    [reply] = replies_after(stack, USER, before)
    assert "Monday to Friday" in reply


def test_a_message_delivered_twice_is_answered_once(stack):
    user = "447700900777"
    say(stack, user, "do you take paypal", duplicate=3)
    [reply] = replies_after(stack, user, 0)
    assert "PayPal" in reply
    # Give a second (wrong) reply every chance to show up before concluding there is none.
    assert wait_for(lambda: len(outbound_to(stack, user)) > 1, timeout=5) is False


def test_forged_and_malformed_webhooks_are_refused_and_not_processed(stack):
    rasa = stack.http["rasa"]
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "1", "phone_number_id": stack.env["WHATSAPP_PHONE_NUMBER_ID"]},
        "messages": [{"from": "15550009999", "id": "wamid.forged", "timestamp": "1700000000",
                      "type": "text", "text": {"body": "hello"}}]}}]}]}).encode()
    assert rasa.post(WEBHOOK, raw=body, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64})[0] == 401
    assert rasa.post(WEBHOOK, raw=body)[0] == 401
    good = "sha256=" + hmac.new(b"e2e-app-secret", b"{not json", hashlib.sha256).hexdigest()
    assert rasa.post(WEBHOOK, raw=b"{not json", headers={"X-Hub-Signature-256": good})[0] == 400
    assert desk_rows(stack, "SELECT id FROM contacts WHERE wa_id = ?", ("15550009999",)) == []


def _raw_http(base: str, head: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are (urllib re-encodes headers and always sends the whole body)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as conn:
        conn.sendall(head)
        return conn.recv(4096)


def test_non_ascii_secrets_and_oversized_bodies_get_a_clear_refusal(stack):
    rasa = stack.http["rasa"]
    signed = b"sha256=" + "é".encode() * 32
    answer = _raw_http(rasa.base, b"POST " + WEBHOOK.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Type: application/json\r\nContent-Length: 2\r\n"
                       b"X-Hub-Signature-256: " + signed + b"\r\nConnection: close\r\n\r\n{}")
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    token = urllib.parse.quote("トークン")
    assert rasa.get(f"{WEBHOOK}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1")[0] == 403
    # 50 MB announced, nothing sent: refused at once from the header, not after reading.
    answer = _raw_http(rasa.base, b"POST " + WEBHOOK.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n{")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_the_desk_records_the_transcript_with_delivery_status(stack):
    [(chat_id, state, name)] = desk_rows(stack, """
        SELECT chats.id, chats.state, contacts.profile_name FROM chats
        JOIN contacts ON contacts.id = chats.contact_id WHERE contacts.wa_id = ?""", (USER,))
    assert (state, name) == ("bot", "Kerry Fisher")

    def transcript_complete():
        rows = desk_rows(stack, """SELECT sender, body, status FROM messages WHERE chat_id = ?
                                   ORDER BY wa_timestamp, id""", (chat_id,))
        bot = [r for r in rows if r[0] == "bot"]
        return rows if bot and all(r[2] in ("delivered", "read") for r in bot) else None

    rows = wait_for(transcript_complete, timeout=20)
    assert rows, "bot messages never reached delivered/read"
    assert [r[0] for r in rows[:2]] == ["user", "bot"] and rows[0][1] == "hello"


def tap(stack, wa_id: str, button_id: str) -> dict:
    status, result = stack.http["simulator"].post(
        f"/_sim/users/{wa_id}/messages", {"type": "button_reply", "id": button_id, "profile_name": "Kerry Fisher"})
    assert status == 200, result
    return result


def test_asking_for_a_person_with_nobody_online_leaves_a_ticket(stack):
    user = "447700900555"
    say(stack, user, "can I speak to a real person please")
    answer, offer = replies_after(stack, user, 0, expected=2)
    assert "connect you with a colleague" in answer
    assert offer.startswith("Nobody from Support is available right now"), offer
    buttons = outbound_to(stack, user)[1]["request"]["interactive"]["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons] == ["Leave a message", "Wait for a colleague"]

    tap(stack, user, "/leave_message")
    [ask] = replies_after(stack, user, 2)
    assert ask.startswith("Please write your message")
    say(stack, user, "My parcel 1234 arrived damaged, please call me back")
    [thanks] = replies_after(stack, user, 3)
    assert "ticket *#" in thanks, thanks
    [(created_by, subject, description)] = desk_rows(stack, """
        SELECT tickets.created_by, tickets.subject, tickets.description FROM tickets
        JOIN contacts ON contacts.id = tickets.contact_id WHERE contacts.wa_id = ?""", (user,))
    assert created_by == "bot" and "My parcel 1234 arrived damaged" in subject
    assert "My parcel 1234 arrived damaged, please call me back" in description


def test_waiting_for_a_colleague_pauses_the_bot(stack):
    user = "447700900556"
    say(stack, user, "I want to talk to a human")
    replies_after(stack, user, 0, expected=2)
    tap(stack, user, '/wait_for_agent{"department":"Support"}')
    [queued] = replies_after(stack, user, 2)
    assert "on the list for Support" in queued
    assert desk_rows(stack, """SELECT chats.state FROM chats JOIN contacts ON contacts.id = chats.contact_id
                               WHERE contacts.wa_id = ?""", (user,)) == [("unattended",)]
    say(stack, user, "hello? is anyone there")
    # The desk records the message for the operators; the bot stays quiet.
    assert wait_for(lambda: desk_rows(stack, """SELECT count(*) FROM messages JOIN chats ON chats.id = messages.chat_id
        JOIN contacts ON contacts.id = chats.contact_id WHERE contacts.wa_id = ? AND messages.body = ?""",
                                      (user, "hello? is anyone there"))[0][0] == 1, timeout=20)
    assert wait_for(lambda: len(outbound_to(stack, user)) > 3, timeout=5) is False
