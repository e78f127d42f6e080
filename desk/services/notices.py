"""Short notices the desk sends to a customer on its own (not the bot's dialogue).

One key per situation; the text is what the customer reads on WhatsApp, in the chat's
language (`chats.language`, else the brand's default language), with a text for every
language of desk.language.LANGUAGES. Keys stay stable: they are part of a notice's
idempotency key (`<user wamid>#<key>#1`), so a retried step never sends the same notice
twice.
"""
from __future__ import annotations

from desk.language import DEFAULT_LANGUAGE

BOT_UNAVAILABLE = "bot_unavailable"
BOT_DOWN_HANDOFF = "bot_down_handoff"
UNSUPPORTED = "unsupported"  # a message type WhatsApp could not pass on (`type: unsupported`)
ORDER_RECEIVED = "order_received"  # a cart sent from the catalog: a person confirms it
# Outside a department's business hours (desk.services.business_hours.Closed): {department}, {when}.
OUTSIDE_HOURS = "outside_hours"
OUTSIDE_HOURS_NEVER = "outside_hours_never"
LEAVE_MESSAGE_BUTTON = "leave_message_button"  # the title of its one reply button

DEFAULTS: dict[str, dict[str, str]] = {
    BOT_UNAVAILABLE: {
        "en": "Sorry, I'm having a technical problem right now. I'll answer your message as soon as I can.",
        "ja": "申し訳ございません、ただいまシステムに不具合が発生しております。復旧しだい、いただいたメッセージにお返事いたします。",
    },
    BOT_DOWN_HANDOFF: {
        "en": "Sorry, I still can't answer. I've passed your message to a colleague, who will reply to you here.",
        "ja": "申し訳ございません、まだお返事できない状態です。メッセージを担当者に引き継ぎましたので、こちらでご連絡いたします。",
    },
    ORDER_RECEIVED: {
        "en": "Thank you for your order! A colleague will confirm it and the next steps here.",
        "ja": "ご注文ありがとうございます！担当者がご注文内容と今後の流れをこちらでご案内いたします。",
    },
    OUTSIDE_HOURS: {
        "en": "{department} is closed right now. Our team is back {when}. Leave a message and we'll "
              "reply as soon as we're open.",
        "ja": "ただいま{department}は営業時間外です。担当者は{when}から対応いたします。メッセージを残して"
              "いただければ、対応時間になりしだいご返信いたします。",
    },
    OUTSIDE_HOURS_NEVER: {
        "en": "{department} is not taking chats at the moment. Leave a message and we'll reply as soon "
              "as we can.",
        "ja": "ただいま{department}ではチャットをお受けしておりません。メッセージを残していただければ、"
              "できるだけ早くご返信いたします。",
    },
    LEAVE_MESSAGE_BUTTON: {"en": "Leave a message", "ja": "メッセージを残す"},
    UNSUPPORTED: {
        "en": "Sorry, I can't read that kind of message here. Could you write it as text, "
              "or send a photo or a document instead?",
        "ja": "申し訳ございません、この形式のメッセージは読み取れません。文字で入力いただくか、写真や書類をお送りいただけますか？",
    },
}


# What the customer is told as a person takes part (desk.services.customer_notices);
# each brand may change the text per language or turn one off (""). Variables:
# {operator}, {department}, {brand}.
OPERATOR_JOINED = "operator_joined"
TRANSFERRED = "transferred"
CLOSED_BY_OPERATOR = "closed_by_operator"

CUSTOMER_DEFAULTS: dict[str, dict[str, str]] = {
    OPERATOR_JOINED: {"en": "{operator} from {department} has joined the chat.",
                      "ja": "{department}の{operator}がチャットに参加しました。"},
    TRANSFERRED: {"en": "I've passed your chat to {department}. A colleague will reply here shortly.",
                  "ja": "チャットを{department}にお引き継ぎしました。まもなく担当者よりご連絡いたします。"},
    CLOSED_BY_OPERATOR: {"en": "This chat is now closed. Thank you for writing to {brand}: message us here any time.",
                         "ja": "このチャットは終了いたしました。{brand}へのお問い合わせありがとうございました。またいつでもこちらからご連絡ください。"},
}
CUSTOMER_VARIABLES = ("operator", "department", "brand")

# Words filled into a notice when the chat has no operator, department or brand name.
FALLBACK_WORDS: dict[str, dict[str, str]] = {
    "operator": {"en": "A colleague", "ja": "担当者"},
    "department": {"en": "our team", "ja": "担当窓口"},
    "brand": {"en": "us", "ja": "当店"},
}


def text(key: str, language: str | None = DEFAULT_LANGUAGE) -> str:
    """The text of a notice in `language` (English when there is none in it; a KeyError
    for an unknown key: a programming error)."""
    texts = DEFAULTS[key]
    return texts.get(language or DEFAULT_LANGUAGE) or texts[DEFAULT_LANGUAGE]


def word(name: str, language: str | None) -> str:
    words = FALLBACK_WORDS[name]
    return words.get(language or DEFAULT_LANGUAGE) or words[DEFAULT_LANGUAGE]
