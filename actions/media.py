"""Photos, documents, videos, voice notes and stickers sent to the bot.

The channel turns media without a caption into /whatsapp_<type> (intents
whatsapp_image, whatsapp_document, whatsapp_video, whatsapp_audio,
whatsapp_sticker); data/rules/media.yml says which action answers. The media
itself is in the desk transcript, where the colleague the chat goes to sees it.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import department_buttons, offer_departments
from actions.language import language_of
from actions.whatsapp_context import whatsapp_metadata

MEDIA_WORDS = {"image": "photo", "document": "document", "video": "video",
               "audio": "voice message", "sticker": "sticker"}
# The same words in each language of the responses ({media} in utter_media_*).
MEDIA_WORDS_BY_LANGUAGE = {
    "en": {**MEDIA_WORDS, "file": "file"},
    "ja": {"image": "写真", "document": "書類", "video": "動画", "audio": "音声メッセージ",
           "sticker": "スタンプ", "file": "ファイル"},
}


def media_word(tracker: Tracker) -> str:
    """What the user sent, in words of the conversation's language: from the channel's
    metadata, else from the intent."""
    kind = whatsapp_metadata(tracker).get("type")
    if kind not in MEDIA_WORDS:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
        kind = intent.removeprefix("whatsapp_")
    words = MEDIA_WORDS_BY_LANGUAGE.get(language_of(tracker)) or MEDIA_WORDS_BY_LANGUAGE["en"]
    return words.get(kind, words["file"])


class ActionMediaToPerson(Action):
    """An unexpected photo, document or video: acknowledged, and the chat goes to a person."""

    def name(self) -> str:
        return "action_media_to_person"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_media_to_person", media=media_word(tracker))
        return await offer_departments(dispatcher, tracker)


class ActionVoiceNote(Action):
    """The bot cannot listen: type the question, or pick a team for a person."""

    def name(self) -> str:
        return "action_voice_note"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_voice_note", buttons=await department_buttons(tracker))
        return []


class ActionPhotoReceived(Action):
    """The photo the damaged-item answer asked for: thanks, and a colleague takes it from here."""

    def name(self) -> str:
        return "action_photo_received"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_photo_received")
        return [SlotSet("photo_requested", None), *await offer_departments(dispatcher, tracker)]


class ActionMediaNoted(Action):
    """A photo, document or video during the lead form: noted for the sales team; the form goes on."""

    def name(self) -> str:
        return "action_media_noted"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_media_noted", media=media_word(tracker))
        return []
