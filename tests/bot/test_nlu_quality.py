"""The trained model's NLU quality on each language's held-out set (never trained on):
tests/nlu/ (English) and tests/nlu_ja/ (Japanese).

Runs Rasa's NLU evaluation (rasa.nlu.test.run_evaluation, what `rasa test nlu`
uses) against models/tsunagi.tar.gz, which `make test` trains before pytest.
`make quality` prints the same figures with the confusions of the worst intents.
English may not fall below its figures from before Japanese was added
(nlp.quality.ENGLISH_BASELINE); Japanese must reach the same goals as English.
"""
from __future__ import annotations

import asyncio

import pytest

from nlp.quality import (ENGLISH_BASELINE, ENGLISH_MARGIN, ENTITY_EXTRACTOR, ENTITY_F1_MIN, HELD_OUT,
                         INTENT_F1_MIN, MODEL, RESPONSE_ACCURACY_MIN, NluQuality, evaluate_nlu,
                         format_quality)

LANGUAGES = sorted(HELD_OUT)


@pytest.fixture(scope="module", params=LANGUAGES)
def quality(request) -> NluQuality:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test trains first)")
    return asyncio.run(evaluate_nlu(MODEL, HELD_OUT[request.param].nlu, language=request.param))


def test_the_held_out_set_covers_every_faq_topic_and_intent(quality):
    from knowledge import load_articles

    assert {s.label for s in quality.responses} >= {a.intent for a in load_articles()}
    assert {s.label for s in quality.intents} >= {"faq", "inform", "sales_inquiry", "stop",
                                                  "affirm", "deny", "out_of_scope", "greet",
                                                  "choose_department", "wait_for_agent",
                                                  "leave_message", "not_helpful", "follow_up"}


def test_intent_f1(quality):
    assert quality.intent_f1 >= INTENT_F1_MIN, format_quality(quality)


def test_response_selection_accuracy(quality):
    assert quality.response_accuracy is not None
    assert quality.response_accuracy >= RESPONSE_ACCURACY_MIN, format_quality(quality)


def test_entity_f1_of_emails_phone_numbers_and_links(quality):
    assert quality.entity_f1[ENTITY_EXTRACTOR] >= ENTITY_F1_MIN, format_quality(quality)


def test_english_is_no_worse_than_before_japanese(quality):
    if quality.language != "en":
        pytest.skip("the baseline is English's")
    for name, value in (("intent_f1", quality.intent_f1), ("response_accuracy", quality.response_accuracy),
                        ("entity_f1", quality.entity_f1[ENTITY_EXTRACTOR])):
        assert value >= ENGLISH_BASELINE[name] - ENGLISH_MARGIN[name] - 1e-9, (name, format_quality(quality))
    assert quality.failures() == []


def test_a_weak_model_fails_the_check():
    weak = NluQuality(intent_f1=0.85, intent_accuracy=0.86, response_accuracy=0.7,
                      response_f1=0.7, entity_f1={ENTITY_EXTRACTOR: 0.5}, intents=[],
                      responses=[], examples=10, errors=[], language="ja")
    assert len(weak.failures()) == 3 and all(p.startswith("[ja] ") for p in weak.failures())


def test_english_below_its_old_figures_fails_even_above_the_general_goal():
    slipped = NluQuality(intent_f1=0.93, intent_accuracy=0.93, response_accuracy=0.95,
                         response_f1=0.95, entity_f1={ENTITY_EXTRACTOR: 1.0}, intents=[],
                         responses=[], examples=10, errors=[], language="en")
    problems = slipped.failures()
    assert len(problems) == 2 and all("before Japanese" in p for p in problems)


@pytest.fixture(scope="module")
def parse():
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test trains first)")
    from rasa.core.channels import UserMessage

    from nlp.quality import load_agent

    processor = load_agent(MODEL).processor
    return lambda text: asyncio.run(processor.parse_message(UserMessage(text)))


def _languages(parsed) -> list[str]:
    return [e["value"] for e in parsed["entities"] if e["entity"] == "language"]


def test_a_japanese_cancellation_is_the_cancel_article_and_says_japanese(parse):
    from actions.faq import selection_of

    parsed = parse("注文をキャンセルしたい")
    assert parsed["intent"]["name"] == "faq"
    assert selection_of(parsed).article == "cancel_order"
    assert _languages(parsed) == ["ja"]
    half_width = parse("ｷｬﾝｾﾙしたいです")
    assert selection_of(half_width).article == "cancel_order" and _languages(half_width) == ["ja"]


def test_a_short_reply_carries_no_language(parse):
    for text, intent in (("はい", "affirm"), ("ok", "affirm"), ("うん", "affirm")):
        parsed = parse(text)
        assert parsed["intent"]["name"] == intent and _languages(parsed) == [], text
    assert parse("いいえ")["intent"]["name"] == "deny"   # three kana: says Japanese (desk.language)
    assert _languages(parse("where is my order please")) == ["en"]


def test_contacts_inside_japanese_sentences_are_entities(parse):
    found = {(e["entity"], e["value"]) for e in parse("電話番号は090-1234-5678、メールはtaro@example.jpです")["entities"]}
    assert {("phone", "090-1234-5678"), ("email", "taro@example.jp")} <= found
    assert ("phone", "+81 90 1234 5678") in {(e["entity"], e["value"]) for e in parse("+81 90 1234 5678")["entities"]}
