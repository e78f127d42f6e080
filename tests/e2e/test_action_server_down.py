"""The action server goes away while users write: nobody is left without an answer.

The real Rasa server and action server; the action server is stopped and started
again. A user whose turn needed it gets a short apology at once and the real answer,
once, when it is back; a user who waits longer than the bounded wait is handed to
a person.
"""
from __future__ import annotations

import pytest

from tests.e2e.conftest import desk_rows, running_stack, wait_for
from tests.e2e.test_whatsapp_roundtrip import outbound_to, replies_after, say, text_of

pytestmark = pytest.mark.e2e

APOLOGY = "Sorry, I'm having a technical problem right now."
HANDED_OVER = "I've passed your message to a colleague"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    yield from running_stack(tmp_path_factory.mktemp("var"),
                             env={"WHATSAPP_BOT_DOWN_HANDOFF_SECONDS": "25"})


def texts(stack, wa_id: str) -> list[str]:
    return [text_of(m) for m in outbound_to(stack, wa_id)]


def test_a_turn_during_an_outage_apologises_then_answers_once_when_it_is_back(stack):
    user = "447700900401"
    stack.stop_service("actions")
    try:
        say(stack, user, "do you take paypal")
        [apology] = replies_after(stack, user, 0)
        assert apology.startswith(APOLOGY)
    finally:
        stack.start_service("actions")
    [answer] = replies_after(stack, user, 1, timeout=60)
    assert "PayPal" in answer
    # A second answer (a turn run twice) would show up within the retry's backoff.
    assert wait_for(lambda: len(outbound_to(stack, user)) > 2, timeout=8) is False
    # Rasa's tracker was rewound: the next message is a normal turn.
    say(stack, user, "what are your opening hours?")
    [hours] = replies_after(stack, user, 2)
    assert "Monday to Friday" in hours
    [(state,)] = desk_rows(stack, "SELECT state FROM chats WHERE contact_id = "
                                  "(SELECT id FROM contacts WHERE wa_id = ?)", (user,))
    assert state == "bot"


def test_a_long_outage_hands_the_chat_to_a_person(stack):
    user = "447700900402"
    stack.stop_service("actions")
    try:
        say(stack, user, "do you take paypal")
        got = wait_for(lambda: (lambda t: t if len(t) >= 2 else None)(texts(stack, user)), timeout=90)
        assert got, texts(stack, user)
        assert got[0].startswith(APOLOGY) and HANDED_OVER in got[1]
        rows = desk_rows(stack, "SELECT c.state, c.department_id FROM chats c JOIN contacts k "
                                "ON k.id = c.contact_id WHERE k.wa_id = ?", (user,))
        assert rows and rows[0][0] in ("waiting", "unattended") and rows[0][1] is not None
        [(event_state,)] = desk_rows(stack, "SELECT state FROM webhook_events WHERE kind = 'message' "
                                            "AND wa_id = ?", (user,))
        assert event_state == "done"
    finally:
        stack.start_service("actions")
    # The person has the chat now: the bot does not answer what was handed over.
    assert wait_for(lambda: len(outbound_to(stack, user)) > 2, timeout=8) is False
