"""The FAQ confidence threshold on the WhatsApp-style held-out sets, one per language:
tests/nlu_whatsapp/ (English) and tests/nlu_whatsapp_ja/ (Japanese).

The sets are held out: no message of them may be trained on. With the trained model
(models/tsunagi.tar.gz, `make test` trains first), the answers the bot gives at
FAQ_CONFIDENCE_THRESHOLD must be the exact article at least ANSWER_ACCURACY_MIN of
the time, in each language, and a message without an article is answered no more
often than that allows. `python -m nlp.quality --no-train --thresholds-only` prints
the tables.
"""
from __future__ import annotations

import asyncio
import glob

import pytest
import yaml

from actions.faq import DEFAULT_FAQ_CONFIDENCE_THRESHOLD
from knowledge import articles_by_id, normalize_question
from nlp.quality import (ANSWER_ACCURACY_MIN, ENGLISH_BASELINE, ENGLISH_MARGIN, HELD_OUT, MODEL, ROOT,
                         ScoredMessage, evaluate_thresholds, format_threshold_table, load_labelled,
                         pick_threshold, threshold_table, whatsapp_failures)

# The default threshold answered 83% (English) when it was chosen (docs/training.md):
# a lower share means the model got less sure, and the threshold must be measured
# again. Japanese: measured 2026-12-03 with the bilingual model (docs/training.md).
ANSWERED_SHARE_MIN = {"en": 0.75, "ja": 0.75}
LANGUAGES = sorted(HELD_OUT)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_set_is_big_and_labelled_with_known_articles(language):
    labelled = load_labelled(HELD_OUT[language].whatsapp)
    faq = [e for _, e in labelled if e is not None]
    assert len(faq) >= 117 and len(labelled) - len(faq) >= 15
    assert set(faq) <= set(articles_by_id())
    assert len(set(faq)) == len(articles_by_id())


def test_the_japanese_set_is_japanese_and_the_english_one_english():
    from desk.language import detect

    for language in LANGUAGES:
        found = [detect(text).language for text, _ in load_labelled(HELD_OUT[language].whatsapp)]
        assert found.count(language) >= 0.95 * len(found), language


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_held_out_message_is_in_the_training_data(language):
    trained = set()
    for path in glob.glob(str(ROOT / "data" / "nlu" / "*.yml")):
        for block in yaml.safe_load(open(path, encoding="utf-8")).get("nlu") or []:
            trained |= {normalize_question(line.strip()[2:])
                        for line in (block.get("examples") or "").splitlines() if line.strip()}
    copied = [text for text, _ in load_labelled(HELD_OUT[language].whatsapp)
              if normalize_question(text) in trained]
    assert not copied


def scored(expected, article, confidence, intent="faq"):
    return ScoredMessage("text", expected, intent, article, confidence)


def test_the_table_counts_answers_accuracy_and_out_of_scope_answers():
    messages = [scored("returns", "returns", 0.9), scored("returns", "refund_time", 0.4),
                scored("warranty", "warranty", 0.6), scored("warranty", "warranty", 0.95, "nlu_fallback"),
                scored(None, "gift_cards", 0.7), scored(None, "gift_cards", 0.3)]
    low, mid, high = threshold_table(messages, (0.0, 0.5, 0.8))
    assert (low.answered, low.correct, low.out_of_scope_answered) == (3, 2, 2)
    assert (mid.answered, mid.correct, mid.out_of_scope_answered) == (2, 2, 1)
    assert (high.answered, high.correct, high.out_of_scope_answered) == (1, 1, 0)
    assert mid.answered_share == 0.5 and mid.accuracy == 1.0 and low.accuracy == 2 / 3
    assert mid.all_answers_right == 2 / 3 and high.all_answers_right == 1.0
    assert pick_threshold([low, mid, high]) is high  # the out-of-scope answer counts as wrong
    assert pick_threshold([low, mid, high], goal=0.6) is mid
    assert "0.50" in format_threshold_table([low, mid, high], 0.5, mid)


def test_english_answering_less_than_before_japanese_fails():
    before = ENGLISH_BASELINE["whatsapp_answered_share"] - ENGLISH_MARGIN["whatsapp_answered_share"]
    row = threshold_table([scored("returns", "returns", 0.9), scored("warranty", "warranty", 0.3)], (0.6,))[0]
    assert row.answered_share < before
    assert [p for p in whatsapp_failures(row, "en") if "answered_share" in p]
    assert whatsapp_failures(row, "ja") == []


@pytest.fixture(scope="module", params=LANGUAGES)
def rows(request):
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test trains first)")
    held_out = HELD_OUT[request.param]
    _, rows = asyncio.run(evaluate_thresholds(MODEL, held_out.whatsapp, (DEFAULT_FAQ_CONFIDENCE_THRESHOLD,)))
    return request.param, rows


def test_answers_at_the_threshold_are_the_exact_article(rows):
    language, rows = rows
    [row] = rows
    table = format_threshold_table(rows, path=HELD_OUT[language].whatsapp)
    assert row.accuracy >= ANSWER_ACCURACY_MIN, table
    assert row.all_answers_right >= ANSWER_ACCURACY_MIN, table
    assert row.answered_share >= ANSWERED_SHARE_MIN[language], table
    assert whatsapp_failures(row, language) == [], table
