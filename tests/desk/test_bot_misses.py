"""Bot misses for the trainer (desk.services.bot_misses). SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from desk.services import bot_misses


async def test_misses_are_recorded_and_listed_newest_first(sessions):
    async with sessions() as s, s.begin():
        await bot_misses.record(s, kind="not_helpful", question="  only got 2 of   the 3 items ",
                                article="bulk_discounts", confidence=0.612345, offered="missing_item",
                                phone_number_id="100000000000001", wa_id="447700900123", chat_id=7)
        await bot_misses.record(s, kind="unsure", question="do u do gift wrap", article="gift_cards",
                                confidence=0.31)
    async with sessions() as s:
        unsure, wrong = await bot_misses.recent(s)
        assert (unsure.kind, unsure.question, unsure.article) == ("unsure", "do u do gift wrap", "gift_cards")
        assert (wrong.question, wrong.article, wrong.confidence, wrong.offered, wrong.chat_id) == (
            "only got 2 of the 3 items", "bulk_discounts", 0.6123, "missing_item", 7)
        assert [m.kind for m in await bot_misses.recent(s, kind="not_helpful")] == ["not_helpful"]
        assert len(await bot_misses.recent(s, limit=1)) == 1


@pytest.mark.parametrize("kind, question, reason", [
    ("wrong", "a question", "kind must be one of"),
    ("unsure", "   ", "needs the user's question")])
async def test_a_miss_needs_a_known_kind_and_the_question(sessions, kind, question, reason):
    async with sessions() as s, s.begin():
        with pytest.raises(ValueError, match=reason):
            await bot_misses.record(s, kind=kind, question=question)


def parse(text, intent, confidence, article=None, article_confidence=0.0):
    data = {"text": text, "intent": {"name": intent, "confidence": confidence}}
    if article:
        data["response_selector"] = {"faq": {"response": {"intent_response_key": f"faq/{article}",
                                                          "confidence": article_confidence}}}
    return data


@pytest.mark.parametrize("data, unsure", [
    (parse("hiya there", "greet", 0.57), (None, 0.57)),                                   # went on, not sure
    (parse("hello", "greet", 0.98), None),                                                # sure
    (parse("opening tims?", "faq", 0.58, "opening_hours", 0.91), ("opening_hours", 0.58)),  # answered, unsure intent
    (parse("opening tims?", "faq", 0.58, "opening_hours", 0.4), None),                    # not answered: `unsure`
    (parse("asdf qwer", "nlu_fallback", 0.55), None),                                     # `fallback`
    (parse("/choose_department", "choose_department", 0.2), None),                       # a button's payload
    (parse("", "greet", 0.1), None),
    (None, None),
])
def test_a_turn_is_unsure_below_the_faq_threshold_unless_the_actions_note_it(data, unsure):
    assert bot_misses.unsure_intent(data, 0.6) == unsure


def test_the_threshold_is_the_faqs(monkeypatch):
    monkeypatch.delenv("FAQ_CONFIDENCE_THRESHOLD", raising=False)
    assert bot_misses.faq_confidence_threshold() == bot_misses.DEFAULT_FAQ_CONFIDENCE_THRESHOLD
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD", "0.7")
    assert bot_misses.faq_confidence_threshold() == 0.7
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD", "7")
    with pytest.raises(ValueError, match="between 0 and 1"):
        bot_misses.faq_confidence_threshold()


async def test_an_unsure_turn_is_noted_as_low_confidence_and_a_sure_one_is_not(sessions):
    async with sessions() as s, s.begin():
        noted = await bot_misses.note_turn(s, parse("opening tims?", "faq", 0.5812, "opening_hours", 0.9),
                                           threshold=0.6, phone_number_id="100000000000001", wa_id="447700900123",
                                           chat_id=4)
        assert await bot_misses.note_turn(s, parse("hello", "greet", 0.99), threshold=0.6,
                                          phone_number_id="100000000000001") is None
    assert noted is not None
    async with sessions() as s:
        [miss] = await bot_misses.recent(s)
    assert (miss.kind, miss.question, miss.article, miss.confidence, miss.chat_id) == (
        "low_confidence", "opening tims?", "opening_hours", 0.5812, 4)


# --- an FAQ answer, then "a person please" (actions/faq.py over actions/misses.py) -------------

def conversation(*, asked_after: float = 20.0, request_chat: int = 3, answered: str = "opening_hours"):
    """The events of: an FAQ question answered with `answered`, then a request for a person."""
    question = parse("when r u open", "faq", 0.97, answered, 0.83)
    person = parse("can i talk to someone", "faq", 0.99, "speak_to_human", 0.95)
    meta = {"whatsapp": {"desk_chat_id": 3}}
    return [
        {"event": "user", "timestamp": 1000.0, "text": "when r u open", "parse_data": question, "metadata": meta},
        {"event": "action", "timestamp": 1000.5, "name": "action_answer_faq"},
        {"event": "bot", "timestamp": 1001.0, "text": "We're open Monday to Friday."},
        {"event": "action", "timestamp": 1001.1, "name": "action_listen"},
        {"event": "user", "timestamp": 1001.0 + asked_after, "text": "can i talk to someone", "parse_data": person,
         "metadata": {"whatsapp": {"desk_chat_id": request_chat}}},
    ]


def test_a_person_asked_for_right_after_an_answer_points_at_that_question():
    from actions.misses import PERSON_AFTER_ANSWER_SECONDS, answer_before_person

    found = answer_before_person(conversation(), "opening_hours")
    assert found["text"] == "when r u open"
    assert bot_misses.faq_article(found) == ("opening_hours", 0.83)
    assert answer_before_person(conversation(asked_after=PERSON_AFTER_ANSWER_SECONDS + 1), "opening_hours") is None
    assert answer_before_person(conversation(request_chat=4), "opening_hours") is None   # another chat
    assert answer_before_person(conversation(), None) is None                            # the bot did not answer
    assert answer_before_person(conversation(), "returns") is None                       # not that answer
    assert answer_before_person(conversation()[-1:], "opening_hours") is None            # nothing before


async def test_the_faq_action_notes_an_answer_followed_by_a_person(sessions, database_url, monkeypatch):
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.faq import ActionAnswerFaq

    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    for events in (conversation(), conversation(asked_after=3600)):
        latest = {**events[-1]["parse_data"], "metadata": {"whatsapp": {
            "desk_chat_id": 3, "phone_number_id": "100000000000001", "wa_id": "447700900123"}}}
        tracker = Tracker(sender_id="100000000000001_447700900123", slots={"last_article": "opening_hours"},
                          latest_message=latest, events=events, paused=False, followup_action=None,
                          active_loop={}, latest_action_name="action_listen")
        await ActionAnswerFaq().run(CollectingDispatcher(), tracker, {})
    async with sessions() as s:
        [miss] = await bot_misses.recent(s)       # the one asked for an hour later is not a miss
    assert (miss.kind, miss.question, miss.article, miss.confidence, miss.chat_id) == (
        "handoff", "when r u open", "opening_hours", 0.83, 3)
