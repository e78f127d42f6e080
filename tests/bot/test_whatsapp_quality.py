"""The FAQ confidence threshold on the WhatsApp-style held-out sets, one per language:
tests/nlu_whatsapp/ (English) and tests/nlu_whatsapp_ja/ (Japanese), each at the
language's own threshold (actions.faq.confidence_threshold).

The sets are held out: no message of them may be trained on. With the trained model
(models/tsunagi.tar.gz, `make test` trains first), the answers the bot gives at the
language's threshold must be the exact article at least ANSWER_ACCURACY_MIN of the
time, in each language, and a message without an article is answered no more often
than that allows. Japanese's threshold is chosen on a development set
(tests/nlu_whatsapp_dev_ja/), never on the held-out one: the two share no message, and
at the configured threshold every answer on the development set is right.
`python -m nlp.quality --no-train --thresholds-only` prints the tables.
"""
from __future__ import annotations

import asyncio
import glob

import pytest
import yaml

from actions.faq import confidence_threshold
from knowledge import articles_by_id, normalize_question
from nlp.quality import (ANSWER_ACCURACY_MIN, ENGLISH_BASELINE, ENGLISH_MARGIN, HELD_OUT, MODEL, ROOT,
                         ScoredMessage, choose_threshold, evaluate_thresholds, format_threshold_table,
                         load_labelled, pick_threshold, threshold_table, whatsapp_failures)

# The default threshold answered 83% (English) when it was chosen (docs/training.md):
# a lower share means the model got less sure, and the threshold must be measured
# again. Japanese: at its own threshold, chosen on the development set (docs/training.md,
# "A threshold per language").
ANSWERED_SHARE_MIN = {"en": 0.75, "ja": 0.60}  # ja: 66.7% at 0.75 (2026-12-04)
LANGUAGES = sorted(HELD_OUT)
DEVELOPMENT = sorted(lang for lang, h in HELD_OUT.items() if h.development is not None)


def _trained_questions() -> set[str]:
    trained = set()
    for path in glob.glob(str(ROOT / "data" / "nlu" / "*.yml")):
        for block in yaml.safe_load(open(path, encoding="utf-8")).get("nlu") or []:
            trained |= {normalize_question(line.strip()[2:])
                        for line in (block.get("examples") or "").splitlines() if line.strip()}
    return trained


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
    trained = _trained_questions()
    copied = [text for text, _ in load_labelled(HELD_OUT[language].whatsapp)
              if normalize_question(text) in trained]
    assert not copied


@pytest.mark.parametrize("language", DEVELOPMENT)
def test_the_development_set_is_apart_from_training_and_held_out_and_covers_every_article(language):
    held_out = HELD_OUT[language]
    development = load_labelled(held_out.development)
    tested = {normalize_question(text) for text, _ in load_labelled(held_out.whatsapp)}
    trained = _trained_questions()
    assert [t for t, _ in development if normalize_question(t) in tested] == []
    assert [t for t, _ in development if normalize_question(t) in trained] == []
    faq = [e for _, e in development if e is not None]
    assert set(faq) == set(articles_by_id()) and len(faq) >= 2 * len(articles_by_id())
    assert len(development) - len(faq) >= 15
    from desk.language import detect
    # As for the held-out sets: "英語の宿題手伝って" (my English homework) is taken for a request for English.
    assert [detect(t).language for t, _ in development].count(language) >= 0.95 * len(development)


def test_the_development_choice_is_the_lowest_threshold_with_every_answer_right():
    messages = [scored("returns", "returns", 0.9), scored("returns", "refund_time", 0.5),
                scored(None, "express_delivery", 0.7), scored("warranty", "warranty", 0.6)]
    rows = threshold_table(messages, (0.4, 0.6, 0.8))
    assert choose_threshold(rows).threshold == 0.8  # the out-of-scope answer at 0.7 counts
    assert choose_threshold(threshold_table(messages[:2] + messages[3:], (0.4, 0.6, 0.8))).threshold == 0.6


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
    _, rows = asyncio.run(evaluate_thresholds(MODEL, held_out.whatsapp, (confidence_threshold(request.param),)))
    return request.param, rows


def test_answers_at_the_threshold_are_the_exact_article(rows):
    language, rows = rows
    [row] = rows
    table = format_threshold_table(rows, path=HELD_OUT[language].whatsapp)
    assert row.accuracy >= ANSWER_ACCURACY_MIN, table
    assert row.all_answers_right >= ANSWER_ACCURACY_MIN, table
    assert row.answered_share >= ANSWERED_SHARE_MIN[language], table
    assert whatsapp_failures(row, language) == [], table


@pytest.mark.parametrize("language", DEVELOPMENT)
def test_at_the_configured_threshold_every_answer_on_the_development_set_is_right(language, monkeypatch):
    """The rule the threshold is chosen by: no wrong article and no message without one answered."""
    monkeypatch.delenv(f"FAQ_CONFIDENCE_THRESHOLD_{language.upper()}", raising=False)
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test trains first)")
    threshold = confidence_threshold(language)
    _, rows = asyncio.run(evaluate_thresholds(MODEL, HELD_OUT[language].development, (threshold,)))
    [row] = rows
    table = format_threshold_table(rows, path=HELD_OUT[language].development)
    assert row.answered and row.correct == row.answered and row.out_of_scope_answered == 0, table


def test_a_japanese_question_about_the_weather_is_not_answered(monkeypatch):
    """"明日雨ふる？" (will it rain tomorrow?) has no article; it once got next-day delivery at 0.73."""
    monkeypatch.delenv("FAQ_CONFIDENCE_THRESHOLD_JA", raising=False)
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train` (make test trains first)")
    scored_messages, _ = asyncio.run(evaluate_thresholds(MODEL, HELD_OUT["ja"].whatsapp, (0.0,)))
    [rain] = [m for m in scored_messages if m.text == "明日雨ふる？"]
    assert rain.expected is None and not rain.answered_at(confidence_threshold("ja")), rain
