"""Short notices the desk sends to a customer on its own (not the bot's dialogue).

One key per situation; the text is what the customer reads on WhatsApp. Keys stay
stable: they are part of a notice's idempotency key (`<user wamid>#<key>#1`), so a
retried step never sends the same notice twice.
"""
from __future__ import annotations

BOT_UNAVAILABLE = "bot_unavailable"
BOT_DOWN_HANDOFF = "bot_down_handoff"
UNSUPPORTED = "unsupported"  # a message type WhatsApp could not pass on (`type: unsupported`)
ORDER_RECEIVED = "order_received"  # a cart sent from the catalog: a person confirms it

DEFAULTS: dict[str, str] = {
    BOT_UNAVAILABLE: "Sorry, I'm having a technical problem right now. "
                     "I'll answer your message as soon as I can.",
    BOT_DOWN_HANDOFF: "Sorry, I still can't answer. I've passed your message to a colleague, "
                      "who will reply to you here.",
    ORDER_RECEIVED: "Thank you for your order! A colleague will confirm it and the next steps here.",
    UNSUPPORTED: "Sorry, I can't read that kind of message here. Could you write it as text, "
                 "or send a photo or a document instead?",
}


# What the customer is told as a person takes part (desk.services.customer_notices);
# each brand may change the text or turn one off (""). Variables: {operator},
# {department}, {brand}.
OPERATOR_JOINED = "operator_joined"
TRANSFERRED = "transferred"
CLOSED_BY_OPERATOR = "closed_by_operator"

CUSTOMER_DEFAULTS: dict[str, str] = {
    OPERATOR_JOINED: "{operator} from {department} has joined the chat.",
    TRANSFERRED: "I've passed your chat to {department}. A colleague will reply here shortly.",
    CLOSED_BY_OPERATOR: "This chat is now closed. Thank you for writing to {brand}: message us here any time.",
}
CUSTOMER_VARIABLES = ("operator", "department", "brand")


def text(key: str) -> str:
    """The text of a notice (a KeyError for an unknown key: a programming error)."""
    return DEFAULTS[key]
