"""The actions speak the conversation's language: the session's first language, the
greeting's name, texts built in Python (handoff, Not helpful, media, lead labels) and the
Japanese lead form, with a CollectingDispatcher: exact events and messages."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import answer_article, follow_up_text, not_helpful_button
from actions.greeting import ActionGreetUser, name_to_greet
from actions.handoff import handoff_text
from actions.language import language_of
from actions.leads import ActionAskLeadConsent, ValidateLeadForm, read_turn
from actions.media import ActionMediaNoted
from actions.session import ActionSessionStart, start_language
from desk.models import ChatState
from desk.services.routing import HandoffResult
from tests.bot.conftest import WHATSAPP

JA_WHATSAPP = {**WHATSAPP, "profile_name": "田中 太郎", "wa_id": "819012345678", "language": "ja"}


def session_tracker(slots: dict, metadata) -> Tracker:
    return Tracker(sender_id="s", slots={**slots, "session_started_metadata": metadata}, latest_message={},
                   events=[], paused=False, followup_action=None, active_loop={},
                   latest_action_name="action_listen")


# -- the session's first language -----------------------------------------------------

@pytest.mark.parametrize("metadata, carried, expected", [
    ({"whatsapp": {"language": "ja"}}, None, "ja"),        # the chat's or the brand's default
    ({"whatsapp": {"language": "en"}}, "ja", "en"),        # the desk knows better than an old session
    ({"whatsapp": {"language": "ko"}}, "ja", "ja"),        # not a language of the desk: carried over
    ({"whatsapp": {}}, None, None),                         # rasa shell, or an old channel: the slot stays empty
    (None, "en", "en"),
    ("nonsense", None, None),
])
def test_the_session_starts_in_the_channel_s_language(metadata, carried, expected):
    assert start_language(metadata, carried) == expected


async def test_the_session_start_carries_the_slots_over_and_sets_the_language():
    metadata = {"whatsapp": {**WHATSAPP, "language": "ja"}}
    tracker = session_tracker({"lead_name": "Kerry", "department": None, "language": "en"}, metadata)
    domain = {"session_config": {"carry_over_slots_to_new_session": True}}
    events = await ActionSessionStart().run(CollectingDispatcher(), tracker, domain)
    assert events == [SessionStarted(), SlotSet("lead_name", "Kerry"), SlotSet("language", "ja"),
                      SlotSet("session_started_metadata", metadata), ActionExecuted("action_listen")]
    domain = {"session_config": {"carry_over_slots_to_new_session": False}}
    events = await ActionSessionStart().run(CollectingDispatcher(), session_tracker({"lead_name": "Kerry"}, None),
                                            domain)
    assert events == [SessionStarted(), ActionExecuted("action_listen")]


def test_the_language_is_the_slot_else_the_channel_s_else_english(make_tracker):
    assert language_of(make_tracker("hi", whatsapp=JA_WHATSAPP, slots={"language": "en"})) == "en"
    assert language_of(make_tracker("hi", whatsapp=JA_WHATSAPP)) == "ja"
    assert language_of(make_tracker("hi", whatsapp=None)) == "en"


# -- the greeting ---------------------------------------------------------------------

@pytest.mark.parametrize("name, language, expected", [
    ("田中 太郎", "ja", "田中"),          # family name first: 田中様
    ("田中　太郎", "ja", "田中"),         # a full-width space
    ("田中太郎", "ja", "田中太郎"),       # no space: the whole name, 田中太郎様
    ("たなか はなこ", "ja", "たなか"),
    ("Kerry Fisher", "ja", "Kerry Fisher"),  # Kerry Fisher様, not the first name alone
    ("Kerry Fisher", "en", "Kerry"),
    ("田中 太郎", "en", "田中 太郎"),      # Hello 田中 太郎! (not "Hello 田中!")
    ("  ", "ja", None), (None, "en", None),
])
def test_the_greeting_addresses_the_user_as_their_language_does(name, language, expected):
    assert name_to_greet(name, language) == expected


async def test_the_greeting_passes_the_japanese_form_of_the_name(make_tracker, domain):
    dispatcher = CollectingDispatcher()
    await ActionGreetUser().run(dispatcher, make_tracker("こんにちは", "greet", whatsapp=JA_WHATSAPP,
                                                         active_loop=None), domain)
    assert dispatcher.messages[0]["response"] == "utter_greet_name"
    assert dispatcher.messages[0]["first_name"] == "田中"


# -- texts built in Python ------------------------------------------------------------

@pytest.mark.parametrize("result, language, expected", [
    (HandoffResult(ChatState.open, operator_name="佐藤"), "ja", "サポートの佐藤におつなぎしました。まもなくこちらでお返事いたします。"),
    (HandoffResult(ChatState.waiting, position=1), "ja", "サポートで次にご案内いたします。"),
    (HandoffResult(ChatState.waiting, position=3), "ja", "サポートの待ち順は3番目です。"),
    (HandoffResult(ChatState.unattended), "ja", "サポートの対応リストにお客様のチャットを追加しました。"),
    (HandoffResult(ChatState.waiting, position=3), "en", "You're number 3 in the queue for サポート."),
])
def test_the_handoff_is_told_in_the_conversation_s_language(result, language, expected):
    assert handoff_text(result, "サポート", language).startswith(expected)


async def test_answers_carry_not_helpful_in_the_conversation_s_language(make_tracker, monkeypatch):
    import actions.faq as faq

    monkeypatch.setattr(faq, "human_only_articles", lambda: frozenset())
    for whatsapp, title in [(JA_WHATSAPP, "解決しない"), (WHATSAPP, "Not helpful")]:
        dispatcher = CollectingDispatcher()
        await answer_article(dispatcher, make_tracker("送料は？", "faq", whatsapp=whatsapp, active_loop=None),
                             "delivery_cost")
        assert dispatcher.messages[0]["buttons"] == [{"title": title, "payload": "/not_helpful"}]
    assert len(not_helpful_button("ja")["title"]) <= 20


def test_a_follow_up_is_read_in_the_conversation_s_language():
    from knowledge import articles_by_id

    article = articles_by_id()["track_order"]
    assert follow_up_text(article, "en").startswith("If the tracking hasn't moved")
    japanese = follow_up_text(article, "ja")
    assert japanese and japanese != follow_up_text(article, "en") and "3" in japanese


@pytest.mark.parametrize("whatsapp, word", [({**JA_WHATSAPP, "type": "image"}, "写真"),
                                             ({**JA_WHATSAPP, "type": "document"}, "書類"),
                                             ({**WHATSAPP, "type": "image"}, "photo")])
async def test_media_are_named_in_the_conversation_s_language(make_tracker, whatsapp, word):
    dispatcher = CollectingDispatcher()
    await ActionMediaNoted().run(dispatcher, make_tracker("/whatsapp_image", "whatsapp_image", whatsapp=whatsapp), {})
    assert dispatcher.messages[0]["media"] == word


# -- the lead form in Japanese --------------------------------------------------------

async def validate(tracker, domain):
    dispatcher = CollectingDispatcher()
    events = await ValidateLeadForm().run(dispatcher, tracker, domain)
    return events, dispatcher


@pytest.mark.parametrize("slot, text, value", [
    ("lead_name", "田中太郎です", "田中太郎"),
    ("lead_name", "名前は　たなか　はなこ　です", "たなか はなこ"),
    ("lead_email", "メールはtanaka@example.jpでお願いします", "tanaka@example.jp"),
    ("lead_email", "ｔａｎａｋａ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ", "tanaka@example.co.jp"),
    ("lead_company", "株式会社クモで働いてます", "株式会社クモ"),
    ("lead_company", "個人です", "none"),
    ("lead_interest", "名刺", "名刺"),
    ("lead_phone", "電話は090-1234-5678です", "+819012345678"),
    ("lead_phone", "０３－１２３４－５６７８", "+81312345678"),
])
async def test_japanese_answers_fill_the_form(make_tracker, domain, slot, text, value):
    tracker = make_tracker(text, "inform", requested_slot=slot, whatsapp=JA_WHATSAPP,
                           slots={"lead_phone": "+819012345678" if slot != "lead_phone" else None})
    events, dispatcher = await validate(tracker, domain)
    assert SlotSet(slot, value) in events
    assert dispatcher.messages == []


async def test_a_japanese_correction_is_confirmed_in_japanese(make_tracker, domain):
    tracker = make_tracker("あ、メールは tanaka@kumo.example に変更してください", "inform",
                           requested_slot="lead_company", whatsapp=JA_WHATSAPP,
                           slots={"lead_name": "田中", "lead_email": "old@kumo.example"})
    events, dispatcher = await validate(tracker, domain)
    assert SlotSet("lead_email", "tanaka@kumo.example") in events
    [message] = dispatcher.messages
    assert (message["response"], message["field"], message["value"]) == \
        ("utter_lead_updated", "メールアドレス", "tanaka@kumo.example")


async def test_a_japanese_number_typed_in_an_english_conversation_from_japan_is_read_in_jp(make_tracker, domain):
    whatsapp = {**JA_WHATSAPP, "language": None}
    tracker = make_tracker("090-1234-5678", "inform", requested_slot="lead_phone", whatsapp=whatsapp)
    tracker.sender_id = "100000000000001_819012345678"
    events, _ = await validate(tracker, domain)
    assert SlotSet("lead_phone", "+819012345678") in events


def test_the_turn_finds_phones_and_emails_inside_japanese_sentences(make_tracker):
    turn = read_turn(make_tracker("電話は09012345678、メールはhana@example.jpです", "inform",
                                  requested_slot="lead_phone", whatsapp=JA_WHATSAPP))
    assert turn.phones == ("+819012345678",) and turn.emails == ("hana@example.jp",)
    # English text keeps relying on the entity ruler: "sizes 10 12 14 16" is no number
    assert read_turn(make_tracker("sizes 10 12 14 16", "inform", requested_slot="lead_interest")).phones == ()


async def test_a_change_of_language_is_no_answer_to_the_form(make_tracker, domain):
    tracker = make_tracker("日本語でお願いします", "switch_language", requested_slot="lead_email",
                           entities=[{"entity": "language", "value": "ja"}])
    events, dispatcher = await validate(tracker, domain)
    assert not [e for e in events if e.get("name") == "lead_email"] and dispatcher.messages == []


@pytest.mark.parametrize("whatsapp, shown", [(JA_WHATSAPP, "なし"), (WHATSAPP, "none")])
async def test_the_consent_summary_shows_no_company_in_the_language(make_tracker, domain, whatsapp, shown):
    dispatcher = CollectingDispatcher()
    await ActionAskLeadConsent().run(dispatcher, make_tracker("個人", whatsapp=whatsapp,
                                                              slots={"lead_company": "none"}), domain)
    assert dispatcher.messages[0]["response"] == "utter_ask_lead_consent"
    assert dispatcher.messages[0]["lead_company"] == shown
