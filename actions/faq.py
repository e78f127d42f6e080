"""FAQ answers, with a person for the topics the business marks human-only.

The ResponseSelector picks the article (`faq/<id>`); this action sends the
article's answer (`utter_faq/<id>`, generated from knowledge/) and, when the
article is `human_only` in knowledge/faq/*.yml, hands the chat to a person.
"""
from __future__ import annotations

import functools
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import offer_departments
from knowledge import articles_by_id


@functools.lru_cache(maxsize=1)
def human_only_articles() -> frozenset[str]:
    return frozenset(a.id for a in articles_by_id().values() if a.human_only)


def selected_article(tracker: Tracker) -> str | None:
    """The article id the ResponseSelector chose for the latest message, if any."""
    selector = ((tracker.latest_message or {}).get("response_selector") or {}).get("faq") or {}
    key = ((selector.get("response") or {}).get("intent_response_key")) or ""
    if key.startswith("faq/"):
        return key.split("/", 1)[1]
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
    return intent.split("/", 1)[1] if intent.startswith("faq/") else None


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        article = selected_article(tracker)
        if article is None:
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(response=f"utter_faq/{article}")
        if article in human_only_articles():
            return await offer_departments(dispatcher, tracker)
        return []
