"""The conversation's language as the actions see it, and texts built in Python.

Responses of domain.yml choose their variation by the slot `language` in the Rasa
server; texts an action builds itself (handoff_text, button titles, media words) pick
theirs here. The slot is set at the session's start (actions/session.py) and by the
NLU's `language` entity when a message is decisive (desk/language.py).
"""
from __future__ import annotations

from rasa_sdk import Tracker

from actions.whatsapp_context import whatsapp_metadata
from desk.language import DEFAULT_LANGUAGE, LANGUAGES


def language_of(tracker: Tracker) -> str:
    """The slot, else what the channel says (the chat's language or the brand's default),
    else desk.language.DEFAULT_LANGUAGE."""
    for value in (tracker.get_slot("language"), whatsapp_metadata(tracker).get("language")):
        if value in LANGUAGES:
            return value
    return DEFAULT_LANGUAGE


def pick(texts: dict[str, str], language: str | None) -> str:
    """`texts[language]`, English when there is no text in that language yet."""
    return texts.get(language or DEFAULT_LANGUAGE) or texts[DEFAULT_LANGUAGE]
