"""desk/language.py: per-message detection and the conversation's sticky language."""
from __future__ import annotations

import pytest

from desk.language import detect, explicit_request, next_language, normalise


@pytest.mark.parametrize("text, language", [
    ("注文をキャンセルしたい", "ja"), ("送料はいくらですか", "ja"), ("ｷｬﾝｾﾙしたい", "ja"),
    ("where is my order", "en"), ("do you ship to japan?", "en"), ("田中太郎", "ja"),
])
def test_a_message_is_told_apart(text, language):
    assert detect(text).language == language


@pytest.mark.parametrize("current, text", [("en", "はい"), ("en", "返品"), ("ja", "ok"), ("ja", "ok thanks"),
                                           ("ja", "👍"), ("en", "/affirm"), ("ja", "")])
def test_a_short_reply_keeps_the_conversation_s_language(current, text):
    assert next_language(current, text) == current


@pytest.mark.parametrize("current, text, after", [
    ("en", "注文をキャンセルしたい", "ja"), ("ja", "where is my order please", "en"),
    ("en", "日本語でお願いします", "ja"), ("ja", "English please", "en"), ("en", "can you speak japanese?", "ja"),
    (None, "はい", "ja"), (None, "ok", "en"),
])
def test_a_sentence_or_a_request_switches_it(current, text, after):
    assert next_language(current, text) == after


@pytest.mark.parametrize("text", ["いいえ", "いいえ。", "はーい！", "うん", "ううん", "ええ", "いや", "大丈夫です",
                                  "了解です", "ＯＫ", "OKです", "おっけー", "no thank you", "yes please"])
def test_a_yes_no_or_ok_never_switches_however_long(text):
    # "いいえ" has three kana, "no thank you" three words: still only an answer.
    other = "en" if detect(text).language == "ja" else "ja"
    assert not detect(text).decisive
    assert next_language(other, text) == other


@pytest.mark.parametrize("current, text, after", [
    ("en", "いいえ、違う商品が届きました", "ja"), ("en", "いいえ結構です、返品したいです", "ja"),
    ("ja", "no, the parcel never arrived", "en"), ("en", "はい、お願いします", "ja"),
])
def test_a_sentence_that_starts_with_yes_or_no_still_switches(current, text, after):
    assert next_language(current, text) == after


def test_a_first_short_reply_still_sets_the_language():
    assert next_language(None, "いいえ") == "ja"
    assert next_language(None, "no thank you") == "en"


def test_an_explicit_request_is_short_and_names_one_language():
    assert explicit_request("英語でお願いします") == "en"
    assert explicit_request("I ordered an English dictionary and a Japanese one last week") is None
    assert explicit_request("english or japanese?") is None


@pytest.mark.parametrize("text, wanted", [
    ("日本語でお願いします", "ja"), ("日本語で", "ja"), ("日本語にして", "ja"), ("日本語話せますか", "ja"),
    ("日本語", "ja"), ("Japanese?", "ja"), ("do you speak japanese", "ja"), ("in Japanese please", "ja"),
    ("English please", "en"), ("英語の方がいい", "en"), ("えいごでおねがい", "en"), ("English", "en"),
    ("英語の宿題手伝って", None), ("英語の本を注文したい", None), ("my english is bad", None),
    ("日本語の説明書はありますか", None), ("is the manual in english or japanese", None),
])
def test_a_language_named_as_a_topic_is_not_a_request(text, wanted):
    assert explicit_request(text) == wanted


def test_a_japanese_sentence_about_english_stays_japanese():
    assert next_language("ja", "英語の宿題手伝って") == "ja"
    assert next_language(None, "英語の宿題手伝って") == "ja"


def test_width_is_folded():
    assert normalise("ＯＫ　ｷｬﾝｾﾙ") == "OK キャンセル"


def test_a_third_language_is_only_a_parameter():
    assert detect("hola, ¿dónde está mi pedido?", ("en", "ja", "es")).language == "es"


@pytest.mark.parametrize("text", ["tanaka@example.jp", "tanaka＠example.jp", "https://kumogoods.example/track",
                                  "@kumo_goods", "priya.raman@mugs-ltd.example.co.uk"])
def test_an_email_a_link_or_a_handle_says_no_language(text):
    assert detect(text).language is None
    assert next_language("ja", text) == "ja"


def test_a_sentence_around_an_email_still_counts():
    assert next_language("ja", "please write to me at tanaka@example.jp thanks") == "en"
    assert next_language("en", "メールはtanaka@example.jpです") == "ja"
