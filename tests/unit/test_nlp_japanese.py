"""nlp/japanese.py and its Rasa components: width folding with offsets, SudachiPy
morphemes, contacts inside Japanese text, the tokenizer and the language entity."""
from __future__ import annotations

import pytest

from nlp.japanese import find_contacts, has_japanese, morphemes, normalise_with_offsets


def test_width_folding_keeps_the_way_back_to_the_original():
    text = "ｶﾞｲﾄﾞ㈱ＯＫ"
    norm = normalise_with_offsets(text)
    assert norm.text == "ガイド(株)OK"
    assert norm.span(0, 3) == (0, 5)              # ガイド was five half-width characters
    assert norm.span(3, 6) == (5, 6)              # (株) was one
    assert text[slice(*norm.span(6, 8))] == "ＯＫ"


@pytest.mark.parametrize("mode", ["A", "B", "C"])
def test_japanese_is_split_into_words_with_offsets_into_what_was_written(mode):
    text = "ｷｬﾝｾﾙしたいです！😢"
    words = morphemes(text, mode)
    assert [w.text for w in words] == ["キャンセル", "し", "たい", "です", "😢"]   # "！" dropped, emoji kept
    assert [text[w.start:w.end] for w in words] == ["ｷｬﾝｾﾙ", "し", "たい", "です", "😢"]


def test_the_lemma_lets_casual_and_polite_forms_meet():
    polite = {w.lemma for w in morphemes("届きませんでした")}
    casual = {w.lemma for w in morphemes("とどかなかった")} | {w.lemma for w in morphemes("届かない")}
    assert "届く" in polite and "届く" in casual
    assert {w.lemma for w in morphemes("お願いします")} >= {"願う"}


def test_split_mode_c_keeps_compounds_whole_and_a_splits_them():
    assert [w.text for w in morphemes("株式会社山田商事", "C")][0] == "株式会社"
    assert [w.text for w in morphemes("株式会社山田商事", "A")][:2] == ["株式", "会社"]
    with pytest.raises(ValueError, match="split mode"):
        morphemes("テスト", "D")


@pytest.mark.parametrize("text, entity, value", [
    ("電話番号は090-1234-5678です", "phone", "090-1234-5678"),
    ("+81 90 1234 5678でお願いします", "phone", "+81 90 1234 5678"),
    ("携帯は09012345678", "phone", "09012345678"),
    ("０９０ー１２３４ー５６７８です", "phone", "０９０ー１２３４ー５６７８"),
    ("会社は03-1234-5678です", "phone", "03-1234-5678"),
    ("電話は+44 20 7946 0958です", "phone", "+44 20 7946 0958"),
    ("メールはtaro.yamada@example.co.jpです", "email", "taro.yamada@example.co.jp"),
    ("https://kumogoods.example/trackを見ました", "url", "https://kumogoods.example/track"),
])
def test_contacts_are_found_inside_japanese_text(text, entity, value):
    [found] = find_contacts(text)
    assert (found.entity, found.value, text[found.start:found.end]) == (entity, value, value)


@pytest.mark.parametrize("text", ["予約は2024-05-01です", "注文番号は12345678です", "20個ほしい"])
def test_dates_order_numbers_and_quantities_are_not_phone_numbers(text):
    assert find_contacts(text) == []


def test_japanese_script_is_told_from_latin():
    assert has_japanese("ｷｬﾝｾﾙ") and has_japanese("注文") and has_japanese("ok ありがとう")
    assert not has_japanese("where is my order") and not has_japanese("ＯＫ")


def _message(text: str):
    from rasa.shared.nlu.training_data.message import Message

    return Message(data={"text": text})


def test_the_tokenizer_gives_english_the_spacy_tokens_and_japanese_sudachis():
    from nlp.tokenizer import BilingualTokenizer

    tokenizer = BilingualTokenizer({**BilingualTokenizer.get_default_config()})
    english = tokenizer.tokenize(_message("Where's my order? ＯＫ"), "text")
    assert [t.text for t in english] == ["where", "'s", "my", "order", "?", "ok"]   # as SpacyNLP lower-cased it
    assert [(t.start, t.end) for t in english][-1] == (18, 20)
    japanese = tokenizer.tokenize(_message("注文をキャンセルしたい"), "text")
    assert [t.text for t in japanese] == ["注文", "を", "キャンセル", "し", "たい"]
    assert [t.lemma for t in japanese][3] == "為る"
    with pytest.raises(ValueError, match="split_mode"):
        BilingualTokenizer({**BilingualTokenizer.get_default_config(), "split_mode": "X"})


def test_japanese_contacts_replace_what_the_english_ruler_made_of_them():
    from nlp.contacts import ContactEntityExtractor

    message = _message("メールはtaro@example.jpです")
    message.set("entities", [{"entity": "email", "value": "メールはtaro@example.jp", "start": 0, "end": 19,
                              "extractor": "SpacyEntityExtractor"}])
    [m] = ContactEntityExtractor({"region": "JP"}).process([message])
    assert [(e["entity"], e["value"], e["extractor"]) for e in m.get("entities")] == [
        ("email", "taro@example.jp", "ContactEntityExtractor")]
    english = _message("my email is tom@northwind.example")
    english.set("entities", [{"entity": "email", "value": "tom@northwind.example", "extractor": "SpacyEntityExtractor"}])
    [e] = ContactEntityExtractor({}).process([english])
    assert [x["extractor"] for x in e.get("entities")] == ["SpacyEntityExtractor"]


@pytest.mark.parametrize("text, language", [
    ("注文をキャンセルしたい", "ja"), ("where is my order please", "en"), ("日本語でお願いします", "ja"),
    ("English please", "en"), ("はい", None), ("ok", None), ("👍", None), ("/affirm", None),
])
def test_the_language_entity_is_there_only_when_the_message_says_enough(text, language):
    from nlp.language import LanguageEntityExtractor

    [m] = LanguageEntityExtractor({}).process([_message(text)])
    found = [e["value"] for e in m.get("entities") or [] if e["entity"] == "language"]
    assert found == ([language] if language else [])


def test_each_language_s_classifiers_read_the_messages_of_its_script_only():
    from nlp.by_language import LanguageDIETClassifier, LanguageResponseSelector
    from nlp.japanese import pipeline_language

    assert [pipeline_language(t) for t in ("注文をキャンセルしたい", "ｷｬﾝｾﾙ", "ok", "090-1234-5678", "ok ありがとう")] \
        == ["ja", "ja", "en", "en", "ja"]
    en = LanguageDIETClassifier.__new__(LanguageDIETClassifier)
    en.component_config = {"for_language": "en"}
    ja = LanguageResponseSelector.__new__(LanguageResponseSelector)
    ja.component_config = {"for_language": "ja"}
    from rasa.shared.nlu.training_data.message import Message

    label_only = Message(data={"intent": "affirm"})
    assert en._mine(_message("where is my order")) and not ja._mine(_message("where is my order"))
    assert ja._mine(_message("はい")) and not en._mine(_message("はい"))
    assert en._mine(label_only, training=True) and ja._mine(label_only, training=True)   # every language's labels
    assert en._mine(label_only) and not ja._mine(label_only)                             # an empty message: English
