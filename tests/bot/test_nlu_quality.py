"""The trained model's NLU quality on the held-out set tests/nlu/ (never trained on).

Runs Rasa's NLU evaluation (rasa.nlu.test.run_evaluation, what `rasa test nlu`
uses) against models/tsunagi.tar.gz, which `make test` trains before pytest.
`make quality` prints the same figures with the confusions of the worst intents.
"""
from __future__ import annotations

import asyncio

import pytest

from nlp.quality import (ENTITY_EXTRACTOR, ENTITY_F1_MIN, INTENT_F1_MIN, MODEL,
                         RESPONSE_ACCURACY_MIN, TEST_NLU, NluQuality, evaluate_nlu,
                         format_quality)


@pytest.fixture(scope="module")
def quality() -> NluQuality:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test trains first)")
    return asyncio.run(evaluate_nlu(MODEL, TEST_NLU))


def test_the_held_out_set_covers_every_faq_topic_and_intent(quality):
    from knowledge import load_articles

    assert {s.label for s in quality.responses} >= {a.intent for a in load_articles()}
    assert {s.label for s in quality.intents} >= {"faq", "inform", "sales_inquiry", "stop",
                                                  "affirm", "deny", "out_of_scope"}


def test_intent_f1(quality):
    assert quality.intent_f1 >= INTENT_F1_MIN, format_quality(quality)


def test_response_selection_accuracy(quality):
    assert quality.response_accuracy is not None
    assert quality.response_accuracy >= RESPONSE_ACCURACY_MIN, format_quality(quality)


def test_entity_f1_of_the_entity_ruler(quality):
    assert quality.entity_f1[ENTITY_EXTRACTOR] >= ENTITY_F1_MIN, format_quality(quality)


def test_a_weak_model_fails_the_check():
    weak = NluQuality(intent_f1=0.85, intent_accuracy=0.86, response_accuracy=0.7,
                      response_f1=0.7, entity_f1={ENTITY_EXTRACTOR: 0.5}, intents=[],
                      responses=[], examples=10, errors=[])
    assert len(weak.failures()) == 3
