"""FAQ answers by the selector's confidence, "not helpful", and media: exact responses and events."""
from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import faq
from actions.faq import (DEFAULT_FAQ_CONFIDENCE_THRESHOLD, DEFAULT_FAQ_CONFIDENCE_THRESHOLDS, NOT_HELPFUL, ActionAnswerFaq,
                         ActionNotHelpful, Selection, confidence_threshold, selection_of,
                         should_answer)
from actions.media import ActionMediaToPerson, ActionPhotoReceived, ActionVoiceNote, media_word
from tests.bot.conftest import WHATSAPP


def parse_data(ranking: list[tuple[str, float]]) -> dict:
    """Rasa's parse data of a message the ResponseSelector ranked like `ranking` (best first)."""
    rows = [{"intent_response_key": f"faq/{a}", "confidence": c, "utter_action": f"utter_faq/{a}"}
            for a, c in ranking]
    return {"intent": {"name": "faq", "confidence": 0.99},
            "response_selector": {"faq": {"response": rows[0], "ranking": rows}}}


def faq_tracker(make_tracker, ranking, *, slots=None, whatsapp=None):
    tracker = make_tracker("some question", "faq", active_loop=None, slots=slots, whatsapp=whatsapp)
    tracker.latest_message.update(parse_data(ranking))
    return tracker


async def run(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return events, dispatcher.messages


def test_the_selection_is_read_from_rasas_parse_data():
    s = selection_of(parse_data([("returns", 0.81), ("refund_time", 0.12), ("exchange_item", 0.03)]))
    assert (s.article, s.confidence) == ("returns", 0.81)
    assert s.runner_up() == ("refund_time", 0.12)
    assert selection_of({"intent": {"name": "greet"}}) == Selection(None, 0.0, ())


@pytest.mark.parametrize("confidence, answered", [(0.49, False), (0.5, True), (0.9, True)])
def test_only_an_article_at_or_above_the_threshold_is_answered(confidence, answered):
    assert should_answer(Selection("returns", confidence), 0.5) is answered
    assert should_answer(Selection(None, 1.0), 0.5) is False


def test_the_threshold_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("FAQ_CONFIDENCE_THRESHOLD", raising=False)
    assert confidence_threshold() == DEFAULT_FAQ_CONFIDENCE_THRESHOLD
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD", "0.7")
    assert confidence_threshold() == 0.7
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD", "70")
    with pytest.raises(ValueError, match="between 0 and 1"):
        confidence_threshold()


def test_each_language_has_its_threshold_and_its_own_variable(monkeypatch):
    for name in ("FAQ_CONFIDENCE_THRESHOLD", "FAQ_CONFIDENCE_THRESHOLD_JA", "FAQ_CONFIDENCE_THRESHOLD_EN"):
        monkeypatch.delenv(name, raising=False)
    assert confidence_threshold("en") == DEFAULT_FAQ_CONFIDENCE_THRESHOLD
    assert confidence_threshold("ja") == DEFAULT_FAQ_CONFIDENCE_THRESHOLDS["ja"] != DEFAULT_FAQ_CONFIDENCE_THRESHOLD
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD", "0.5")  # English's, and any language without its own
    assert (confidence_threshold("en"), confidence_threshold("ja")) == (0.5, DEFAULT_FAQ_CONFIDENCE_THRESHOLDS["ja"])
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD_JA", "0.65")
    assert (confidence_threshold("en"), confidence_threshold("ja")) == (0.5, 0.65)
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD_JA", "high")
    with pytest.raises(ValueError, match="FAQ_CONFIDENCE_THRESHOLD_JA must be a number"):
        confidence_threshold("ja")


@pytest.mark.parametrize("text, answered", [("do u deliver tmrw", True), ("あした届く？", False)])
async def test_the_threshold_is_the_one_of_the_message_s_language(make_tracker, domain, monkeypatch, text, answered):
    """Between English's and Japanese's threshold: an English message is answered, a Japanese one
    (read by the Japanese classifiers, nlp/by_language.py) is not, whatever the conversation's language."""
    monkeypatch.delenv("FAQ_CONFIDENCE_THRESHOLD_JA", raising=False)
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD", "0.5")
    between = (0.5 + DEFAULT_FAQ_CONFIDENCE_THRESHOLDS["ja"]) / 2
    tracker = faq_tracker(make_tracker, [("express_delivery", between)], slots={"language": "en"})
    tracker.latest_message["text"] = text
    _, messages = await run(ActionAnswerFaq(), tracker, domain)
    assert [m["response"] for m in messages] == (["utter_faq/express_delivery"] if answered else ["utter_faq_unsure"])


async def test_a_confident_answer_has_a_not_helpful_button_and_remembers_the_runner_up(
        make_tracker, domain, monkeypatch):
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD", "0.5")
    tracker = faq_tracker(make_tracker, [("returns", 0.8), ("refund_time", 0.15)])
    events, [message] = await run(ActionAnswerFaq(), tracker, domain)
    assert message["response"] == "utter_faq/returns" and message["buttons"] == [NOT_HELPFUL]
    assert events == [SlotSet("last_article", "returns"), SlotSet("faq_next_best", "refund_time")]


async def test_below_the_threshold_the_bot_says_it_is_not_sure_and_answers_nothing(
        make_tracker, domain, monkeypatch):
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD", "0.5")
    tracker = faq_tracker(make_tracker, [("gift_cards", 0.49), ("payment_methods", 0.3)])
    events, messages = await run(ActionAnswerFaq(), tracker, domain)
    assert [m["response"] for m in messages] == ["utter_faq_unsure"]
    assert events == [SlotSet("last_article", None), SlotSet("faq_next_best", None)]


async def test_a_weak_runner_up_is_not_remembered(make_tracker, domain, monkeypatch):
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD", "0.5")
    monkeypatch.setenv("FAQ_NEXT_BEST_THRESHOLD", "0.2")
    tracker = faq_tracker(make_tracker, [("returns", 0.8), ("refund_time", 0.19)])
    events, _ = await run(ActionAnswerFaq(), tracker, domain)
    assert SlotSet("faq_next_best", None) in events


async def test_the_damaged_item_answer_asks_for_the_photo_and_another_answer_forgets_it(
        make_tracker, domain, monkeypatch):
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD", "0.5")
    events, _ = await run(ActionAnswerFaq(), faq_tracker(make_tracker, [("damaged_item", 0.9)]), domain)
    assert SlotSet("photo_requested", True) in events
    tracker = faq_tracker(make_tracker, [("returns", 0.9)], slots={"photo_requested": True})
    events, _ = await run(ActionAnswerFaq(), tracker, domain)
    assert SlotSet("photo_requested", None) in events


async def test_a_human_only_article_hands_over_without_a_not_helpful_button(make_tracker, domain):
    tracker = faq_tracker(make_tracker, [("complaint", 0.95)])
    _, messages = await run(ActionAnswerFaq(), tracker, domain)
    assert messages[0]["response"] == "utter_faq/complaint" and not messages[0]["buttons"]
    assert messages[1]["response"] == "utter_handoff_unavailable"  # no desk chat in this test


async def test_not_helpful_gives_the_runner_up_article(make_tracker, domain):
    tracker = make_tracker("/not_helpful", "not_helpful", active_loop=None, whatsapp=None,
                           slots={"last_article": "returns", "faq_next_best": "refund_time"})
    events, messages = await run(ActionNotHelpful(), tracker, domain)
    assert [m["response"] for m in messages] == ["utter_not_helpful_next_best", "utter_faq/refund_time"]
    assert SlotSet("last_article", "refund_time") in events
    assert SlotSet("faq_next_best", None) in events  # a second "not helpful" offers a person


async def test_not_helpful_without_a_runner_up_offers_a_person(make_tracker, domain):
    tracker = make_tracker("wrong answer", "not_helpful", active_loop=None, whatsapp=None,
                           slots={"last_article": "returns", "faq_next_best": None})
    events, messages = await run(ActionNotHelpful(), tracker, domain)
    assert [m["response"] for m in messages] == ["utter_not_helpful_person"]


@pytest.mark.parametrize("kind, intent, word", [
    ("image", "whatsapp_image", "photo"), ("document", "whatsapp_document", "document"),
    ("video", "whatsapp_video", "video"), (None, "whatsapp_video", "video"),
    (None, "whatsapp_image", "photo")])
def test_the_media_is_named(make_tracker, kind, intent, word):
    whatsapp = {**WHATSAPP, "type": kind} if kind else None
    assert media_word(make_tracker(f"/{intent}", intent, whatsapp=whatsapp, active_loop=None)) == word


async def test_an_unexpected_photo_is_acknowledged_and_handed_over(make_tracker, domain):
    tracker = make_tracker("/whatsapp_image", "whatsapp_image", whatsapp=None, active_loop=None)
    _, messages = await run(ActionMediaToPerson(), tracker, domain)
    assert messages[0]["response"] == "utter_media_to_person" and messages[0]["media"] == "photo"
    assert messages[1]["response"] == "utter_handoff_unavailable"  # the handoff, without a desk chat


async def test_a_voice_note_gets_the_choice(make_tracker, domain):
    tracker = make_tracker("/whatsapp_audio", "whatsapp_audio", whatsapp=None, active_loop=None)
    events, [message] = await run(ActionVoiceNote(), tracker, domain)
    assert message["response"] == "utter_voice_note" and events == []


async def test_the_requested_photo_is_thanked_for_and_the_flow_moves_on(make_tracker, domain):
    tracker = make_tracker("/whatsapp_image", "whatsapp_image", whatsapp=None, active_loop=None,
                           slots={"photo_requested": True})
    events, messages = await run(ActionPhotoReceived(), tracker, domain)
    assert messages[0]["response"] == "utter_photo_received"
    assert events[0] == SlotSet("photo_requested", None)


def test_every_response_the_actions_use_is_in_the_domain(domain):
    used = {"utter_faq_unsure", "utter_not_helpful_next_best", "utter_not_helpful_person",
            "utter_media_to_person", "utter_voice_note", "utter_photo_received", "utter_sticker"}
    assert used <= set(domain["responses"])
    assert faq.PHOTO_ARTICLES <= faq.known_articles()


async def test_a_follow_up_is_answered_in_the_topic_of_the_last_answer(make_tracker, domain):
    from actions.faq import ActionFaqFollowUp

    tracker = make_tracker("so what now? do i get a new one", "follow_up", active_loop=None,
                           whatsapp=None, slots={"last_article": "warranty"})
    events, [message] = await run(ActionFaqFollowUp(), tracker, domain)
    assert "repair or replace it" in message["text"] and message["buttons"] == [NOT_HELPFUL]
    assert SlotSet("photo_requested", True) in events


@pytest.mark.parametrize("last, response", [("opening_hours", "utter_follow_up_person"),
                                            ("complaint", "utter_follow_up_person"),
                                            (None, "utter_follow_up_unknown")])
async def test_a_follow_up_without_a_next_step_offers_a_person_or_asks(make_tracker, domain, last, response):
    from actions.faq import ActionFaqFollowUp

    tracker = make_tracker("what now", "follow_up", active_loop=None, whatsapp=None,
                           slots={"last_article": last})
    _, [message] = await run(ActionFaqFollowUp(), tracker, domain)
    assert message["response"] == response


async def test_misses_are_recorded_for_the_trainer(make_tracker, domain, monkeypatch, tmp_path):
    from desk.db import create_engine, migrate, session_factory
    from desk.services import bot_misses

    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    migrate(url)
    monkeypatch.setenv("DESK_DATABASE_URL", url)
    monkeypatch.setenv("FAQ_CONFIDENCE_THRESHOLD", "0.5")
    whatsapp = {**WHATSAPP, "desk_chat_id": 3}
    tracker = faq_tracker(make_tracker, [("gift_cards", 0.3)], whatsapp=whatsapp)
    tracker.latest_message["text"] = "do u do gift wrap"
    await run(ActionAnswerFaq(), tracker, domain)

    question = {"event": "user", "text": "only got 2 of the 3 items",
                "parse_data": parse_data([("bulk_discounts", 0.61), ("missing_item", 0.2)])}
    tracker = make_tracker("/not_helpful", "not_helpful", active_loop=None, whatsapp=whatsapp,
                           slots={"last_article": "bulk_discounts", "faq_next_best": "missing_item"})
    tapped = {"event": "user", "text": "/not_helpful", "parse_data": {"intent": {"name": "not_helpful"}}}
    tracker.events[:0] = [question, tapped]  # an earlier tap is skipped: the question is the FAQ one
    _, messages = await run(ActionNotHelpful(), tracker, domain)
    assert messages[1]["response"] == "utter_faq/missing_item"

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s:
            wrong, unsure = await bot_misses.recent(s)
    finally:
        await engine.dispose()
    assert (unsure.kind, unsure.question, unsure.article, unsure.confidence) == (
        "unsure", "do u do gift wrap", "gift_cards", 0.3)
    assert (wrong.kind, wrong.question, wrong.article, wrong.confidence, wrong.offered, wrong.chat_id) == (
        "not_helpful", "only got 2 of the 3 items", "bulk_discounts", 0.61, "missing_item", 3)


@pytest.mark.parametrize("slot", ["lead_name", "lead_company", "lead_interest", "lead_phone"])
@pytest.mark.parametrize("intent", ["whatsapp_image", "whatsapp_audio", "whatsapp_sticker",
                                    "not_helpful", "follow_up"])
async def test_media_in_the_lead_form_is_never_taken_as_an_answer(make_tracker, domain, slot, intent):
    from actions.leads import ValidateLeadForm

    tracker = make_tracker(f"/{intent}", intent, requested_slot=slot)
    events = await ValidateLeadForm().run(CollectingDispatcher(), tracker, domain)
    assert not [e for e in events if e.get("name") == slot and e.get("value")], events
