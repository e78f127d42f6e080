"""FAQ answers, with a person for the topics the business marks human-only.

The ResponseSelector picks the article (`faq/<id>`) and says how sure it is. This
action answers only when that confidence is at least the threshold of the message's
language (`confidence_threshold`: each language has its own ResponseSelector,
nlp/by_language.py, and so its own scale of confidence; English's
FAQ_CONFIDENCE_THRESHOLD was measured on the WhatsApp-style set, Japanese's
FAQ_CONFIDENCE_THRESHOLD_JA chosen on a development set: `python -m nlp.quality`,
tables in docs/training.md); below it the bot says it is not sure and offers to
rephrase or a person, and never answers. An answer sends the article's text (`utter_faq/<id>`,
generated from knowledge/) with a *Not helpful* button and, when the article is
`human_only` in knowledge/faq/*.yml, hands the chat to a person.

"That's not what I asked" (intent not_helpful, or the button) gets an apology and
the runner-up article when the selector ranked it high enough
(FAQ_NEXT_BEST_THRESHOLD), else the offer of a person.
"""
from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import department_buttons, offer_departments
from actions.language import language_of, pick
from actions.misses import PERSON_ARTICLES, answer_before_person, record_miss
from desk.services import bot_misses
from knowledge import articles_by_id
from nlp.japanese import pipeline_language

log = logging.getLogger(__name__)

# Measured on tests/nlu_whatsapp/ (docs/training.md, "FAQ confidence threshold").
# 0.6: the lowest threshold at which every answer on that set was right (0.4-0.55
# answered "do u do gift wrap" with the gift-card article). Kept with the bot's misses
# (desk.services.bot_misses), with each language's own (Japanese: 0.75): the channel
# notes intents below it for the trainer.
DEFAULT_FAQ_CONFIDENCE_THRESHOLD = bot_misses.DEFAULT_FAQ_CONFIDENCE_THRESHOLD
DEFAULT_FAQ_CONFIDENCE_THRESHOLDS = bot_misses.DEFAULT_FAQ_CONFIDENCE_THRESHOLDS
# The runner-up offered after "that's not what I asked" must be at least this sure.
DEFAULT_FAQ_NEXT_BEST_THRESHOLD = 0.1
# Answers that ask for a photo: a photo sent next continues their flow (data/rules/media.yml).
PHOTO_ARTICLES = frozenset({"damaged_item"})
NOT_HELPFUL = {"title": "Not helpful", "payload": "/not_helpful"}
NOT_HELPFUL_TITLES = {"en": "Not helpful", "ja": "解決しない"}


def not_helpful_button(language: str) -> dict[str, str]:
    """The *Not helpful* button in the conversation's language (same payload in all)."""
    return {"title": pick(NOT_HELPFUL_TITLES, language), "payload": NOT_HELPFUL["payload"]}


def follow_up_text(article: Any, language: str) -> str | None:
    """The article's next step in `language` (knowledge.Article; the default language's
    when the article has none in it)."""
    return article.follow_up_in(language)


def confidence_threshold(language: str | None = None) -> float:
    """The FAQ threshold of `language` (desk.services.bot_misses.faq_confidence_threshold)."""
    return bot_misses.faq_confidence_threshold(language)


def message_language(parse_data: dict[str, Any] | None) -> str:
    """Whose classifiers scored the message: its script's language (nlp/by_language.py)."""
    return pipeline_language(str((parse_data or {}).get("text") or ""))


def next_best_threshold() -> float:
    return bot_misses.env_fraction("FAQ_NEXT_BEST_THRESHOLD", DEFAULT_FAQ_NEXT_BEST_THRESHOLD)


@functools.lru_cache(maxsize=1)
def human_only_articles() -> frozenset[str]:
    return frozenset(a.id for a in articles_by_id().values() if a.human_only)


@functools.lru_cache(maxsize=1)
def articles() -> dict[str, Any]:
    """The articles by id, read once (like human_only: knowledge/ at the action server's start)."""
    return articles_by_id()


def known_articles() -> frozenset[str]:
    return frozenset(articles())


@dataclass(frozen=True)
class Selection:
    """What the ResponseSelector chose for a message: the article, how sure, the ranking."""

    article: str | None
    confidence: float
    ranking: tuple[tuple[str, float], ...] = ()

    def runner_up(self) -> tuple[str, float] | None:
        others = [(a, c) for a, c in self.ranking if a != self.article]
        return others[0] if others else None


def _article_of(key: str | None) -> str | None:
    key = key or ""
    return key.split("/", 1)[1] if key.startswith("faq/") else None


def selection_of(parse_data: dict[str, Any] | None) -> Selection:
    """The selector's choice in a message's parse data (Rasa's `response_selector.faq`)."""
    selector = ((parse_data or {}).get("response_selector") or {}).get("faq") or {}
    response = selector.get("response") or {}
    article = _article_of(response.get("intent_response_key"))
    ranking = tuple((a, float(r.get("confidence") or 0.0))
                    for r in selector.get("ranking") or []
                    if (a := _article_of(r.get("intent_response_key"))))
    if article is not None:
        return Selection(article, float(response.get("confidence") or 0.0), ranking)
    return Selection(None, 0.0, ranking)


def selected_article(tracker: Tracker) -> str | None:
    """The article id the ResponseSelector chose for the latest message, if any."""
    return selection_of(tracker.latest_message).article


def should_answer(selection: Selection, threshold: float) -> bool:
    """Answer only an article the selector is at least `threshold` sure of."""
    return selection.article is not None and selection.confidence >= threshold


async def answer_article(dispatcher: CollectingDispatcher, tracker: Tracker, article: str,
                         runner_up: str | None = None) -> list[dict[str, Any]]:
    """Send the article (with *Not helpful*), remember it; hand over if it is human-only."""
    events: list[dict[str, Any]] = [SlotSet("last_article", article), SlotSet("faq_next_best", runner_up)]
    if article in PHOTO_ARTICLES:
        events.append(SlotSet("photo_requested", True))
    elif tracker.get_slot("photo_requested") is not None:  # unset, not False: the slot is featurized
        events.append(SlotSet("photo_requested", None))
    if article in human_only_articles():
        dispatcher.utter_message(response=f"utter_faq/{article}")
        return events + await offer_departments(dispatcher, tracker)
    dispatcher.utter_message(response=f"utter_faq/{article}", buttons=[not_helpful_button(language_of(tracker))])
    return events


def question_before(tracker: Tracker) -> dict[str, Any] | None:
    """The last FAQ question before the latest message (what the answer was for), as parse data."""
    users = [e for e in reversed(tracker.events or []) if e.get("event") == "user"]
    for event in users[1:]:
        parse = event.get("parse_data") or {}
        if ((parse.get("intent") or {}).get("name")) == "faq":
            return {**parse, "text": event.get("text")}
    return None


async def not_sure(dispatcher: CollectingDispatcher, tracker: Tracker,
                   selection: Selection | None = None) -> list[dict[str, Any]]:
    """No answer: ask to rephrase, with a button per team for a person."""
    dispatcher.utter_message(response="utter_faq_unsure", buttons=await department_buttons(tracker))
    if selection is not None:
        await record_miss(tracker, "unsure", (tracker.latest_message or {}).get("text"),
                          selection.article, selection.confidence)
    # A follow-up or "not helpful" now is not about an earlier answer.
    return [SlotSet("last_article", None), SlotSet("faq_next_best", None)]


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        selection = selection_of(tracker.latest_message)
        threshold = confidence_threshold(message_language(tracker.latest_message))
        if selection.article not in known_articles() or not should_answer(selection, threshold):
            return await not_sure(dispatcher, tracker, selection)
        if selection.article in PERSON_ARTICLES:   # a person, right after an answer: it did not help
            question = answer_before_person(tracker.events or [], tracker.get_slot("last_article"))
            if question is not None:
                answered = selection_of(question)
                await record_miss(tracker, "handoff", question.get("text"), answered.article, answered.confidence)
        second = selection.runner_up()
        runner_up = second[0] if second and second[1] >= next_best_threshold() else None
        return await answer_article(dispatcher, tracker, selection.article, runner_up)


class ActionNotHelpful(Action):
    """"That's not what I asked" / *Not helpful*: sorry, then the runner-up article or a person."""

    def name(self) -> str:
        return "action_not_helpful"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        runner_up = tracker.get_slot("faq_next_best")
        if runner_up not in known_articles():
            runner_up = None
        question = question_before(tracker) or {}
        answered = tracker.get_slot("last_article")
        chosen = selection_of(question)
        await record_miss(tracker, "not_helpful", question.get("text"), answered,
                          chosen.confidence if chosen.article == answered else None, runner_up)
        if runner_up is not None:
            dispatcher.utter_message(response="utter_not_helpful_next_best")
            return await answer_article(dispatcher, tracker, runner_up)
        dispatcher.utter_message(response="utter_not_helpful_person",
                                 buttons=await department_buttons(tracker))
        return [SlotSet("faq_next_best", None)]


# Follow-ups that ask for a photo: a photo sent next continues their flow too.
PHOTO_FOLLOW_UPS = frozenset({"warranty", "damaged_item"})


class ActionFaqFollowUp(Action):
    """"So what now?" after an answer: the next step of that article (slot last_article),
    else a person for that topic; with no answer before, a request for more detail."""

    def name(self) -> str:
        return "action_faq_follow_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        article = articles().get(tracker.get_slot("last_article") or "")
        if article is None:
            dispatcher.utter_message(response="utter_follow_up_unknown")
            return []
        language = language_of(tracker)
        text = follow_up_text(article, language)
        if text and not article.human_only:
            dispatcher.utter_message(text=text, buttons=[not_helpful_button(language)])
            return [SlotSet("faq_next_best", None),
                    *([SlotSet("photo_requested", True)] if article.id in PHOTO_FOLLOW_UPS else [])]
        dispatcher.utter_message(response="utter_follow_up_person", buttons=await department_buttons(tracker))
        return [SlotSet("faq_next_best", None)]
