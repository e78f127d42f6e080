"""The FAQ knowledge base: valid, big enough, and the generated training data current."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from knowledge import Article, KnowledgeError, load_articles, normalize_question
from knowledge.build import ROOT, expected_files, render_responses, stale_files

AREAS = {"hours", "pricing", "shipping", "returns", "accounts", "payments", "orders", "privacy"}


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return load_articles()


def test_the_demo_shop_has_at_least_25_topics_in_every_area(articles):
    assert len(articles) >= 25
    assert AREAS <= {a.area for a in articles}


def test_every_topic_has_10_to_15_training_and_3_to_5_held_out_questions_in_each_language(articles):
    for a in articles:
        assert a.languages == ("en", "ja"), a.id
        for t in a.texts:
            assert 10 <= len(t.questions) <= 15, (a.id, t.language)
            assert 3 <= len(t.test_questions) <= 5, (a.id, t.language)
            assert t.answer and t.title, (a.id, t.language)


def test_the_japanese_answers_say_what_the_english_ones_say(articles):
    """Same links, same prices and the same WhatsApp formatting of the key facts."""
    url = re.compile(r"https?://\S+?(?=[\s、。）)]|$)")
    money = re.compile(r"£\d+(?:\.\d+)?")
    for a in articles:
        en, ja = a.text("en"), a.text("ja")
        for field in ("answer", "follow_up"):
            e, j = getattr(en, field) or "", getattr(ja, field) or ""
            assert bool(e) == bool(j), (a.id, field)
            assert sorted(url.findall(e)) == sorted(url.findall(j)), (a.id, field)
            assert sorted(money.findall(e)) == sorted(money.findall(j)), (a.id, field)
        assert [b.payload for b in en.buttons] == [b.payload for b in ja.buttons], a.id
        assert re.search(r"[ぁ-んァ-ン]", ja.answer) and re.search(r"(です|ます|ください|ません)", ja.answer), a.id


def test_an_article_is_read_in_a_language_and_falls_back_to_the_default(articles):
    by_id = {a.id: a for a in articles}
    cancel = by_id["cancel_order"]
    assert cancel.text("ja").title == "注文のキャンセル" and cancel.title == "Cancelling an order"
    assert cancel.text(None) is cancel.text("en") is cancel.text("ko")
    assert cancel.follow_up_in("ja").startswith("キャンセルが完了すると")
    assert cancel.follow_up_in(None) == cancel.follow_up
    assert cancel.area_title_in("ja") == "注文" and cancel.area_title == "Orders"


def test_topics_for_a_person_are_marked(articles):
    human = {a.id for a in articles if a.human_only}
    assert {"complaint", "cancel_membership", "speak_to_human"} <= human
    assert len(human) < len(articles) / 3


def test_generated_files_are_up_to_date():
    """Edit knowledge/faq/*.yml, then run `python -m knowledge.build`, never the output."""
    stale = stale_files()
    assert not stale, f"out of date: {stale}; run `python -m knowledge.build`"


def test_generated_files_say_where_to_edit(articles):
    for rel, content in expected_files(articles).items():
        assert content.startswith("# generated from knowledge/ — edit there"), rel
        yaml.safe_load(content)  # valid YAML


def test_answers_and_buttons_survive_the_yaml_round_trip(articles):
    """One variation per language on the slot `language`, then the default language's
    without a condition (a conversation whose language is not known yet)."""
    responses = yaml.safe_load(render_responses(articles))["responses"]
    for a in articles:
        en, ja, default = responses[a.response]
        for response, text, condition in ((en, a.text("en"), "en"), (ja, a.text("ja"), "ja"),
                                          (default, a.text("en"), None)):
            assert response["text"] == text.answer
            assert [(b["title"], b["payload"]) for b in response.get("buttons", [])] == \
                   [(b.title, b.payload) for b in text.buttons]
            assert response.get("condition") == (
                [{"type": "slot", "name": "language", "value": condition}] if condition else None)


def test_the_training_data_has_every_language_and_the_held_out_sets_one_each(articles):
    from knowledge.build import render_nlu, render_test

    nlu, en, ja = render_nlu(articles), render_test(articles, "en"), render_test(articles, "ja")
    cancel = {a.id: a for a in articles}["cancel_order"]
    for q in cancel.text("en").training_questions + cancel.text("ja").training_questions:
        assert f"    - {q}\n" in nlu
    assert all(f"    - {q}\n" in ja for q in cancel.text("ja").test_questions)
    assert not any(q in en for q in cancel.text("ja").test_questions)
    assert set(expected_files(articles)) >= {Path("tests/nlu/faq_test.yml"), Path("tests/nlu_ja/faq_test.yml")}


def test_button_payloads_trigger_intents_of_the_domain(articles):
    intents = set(yaml.safe_load((ROOT / "domain.yml").read_text())["intents"])
    for a in articles:
        for b in a.buttons:
            if b.payload.startswith("/"):
                assert b.payload[1:].split("{")[0] in intents, (a.id, b.payload)


def _nlu_examples(path: Path) -> set[str]:
    found = set()
    for item in (yaml.safe_load(path.read_text()) or {}).get("nlu", []):
        for line in (item.get("examples") or "").splitlines():
            text = line.strip().removeprefix("- ")
            if text:
                # [kerry@acme.co.uk](email) -> kerry@acme.co.uk
                found.add(normalize_question(re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)))
    return found


def test_no_held_out_example_is_in_the_training_data():
    trained = set().union(*(_nlu_examples(p) for p in (ROOT / "data").rglob("*.yml")))
    held_out = set().union(*(_nlu_examples(p) for d in ("nlu", "nlu_ja", "nlu_whatsapp", "nlu_whatsapp_ja")
                             for p in (ROOT / "tests" / d).glob("*.yml")))
    assert held_out and not (held_out & trained), sorted(held_out & trained)


# -- the loader's errors ---------------------------------------------------------

def _article(article_id: str, questions: list[str], tests: list[str], human_only=False, **extra) -> dict:
    """An article in both languages; `extra` changes the English block."""
    return {"id": article_id, "human_only": human_only,
            "en": {"title": article_id.title(), "answer": "An answer.", "questions": questions,
                   "test_questions": tests, **extra},
            "ja": {"title": "タイトル", "answer": "回答です。",
                   "questions": [f"{q}（日本語）" for q in questions],
                   "test_questions": [f"{q}（日本語）" for q in tests]}}


def _write(directory: Path, name: str, *articles: dict) -> None:
    (directory / f"{name}.yml").write_text(yaml.safe_dump({"area": name.title(),
                                                           "articles": list(articles)}))


QS = [f"question number {i}" for i in range(10)]


def test_a_valid_file_loads(tmp_path):
    _write(tmp_path, "hours", _article("opening_hours", QS, ["a", "b", "c"]))
    [a] = load_articles(tmp_path)
    assert (a.id, a.area, a.intent, a.response) == ("opening_hours", "hours", "faq/opening_hours",
                                                    "utter_faq/opening_hours")


def test_duplicate_ids_across_files_are_an_error(tmp_path):
    _write(tmp_path, "a", _article("same_id", QS, ["x1", "x2", "x3"]))
    _write(tmp_path, "b", _article("same_id", [q + " too" for q in QS], ["y1", "y2", "y3"]))
    with pytest.raises(KnowledgeError, match=r"duplicate article id 'same_id' \(in a.yml and b.yml\)"):
        load_articles(tmp_path)


def test_the_same_question_in_two_articles_is_an_error_even_with_other_case(tmp_path):
    _write(tmp_path, "a", _article("one", QS, ["x1", "x2", "x3"]),
           _article("two", QS[:9] + ["Question Number 0?"], ["y1", "y2", "y3"]))
    with pytest.raises(KnowledgeError) as err:
        load_articles(tmp_path)
    assert "duplicate question 'Question Number 0?': in two.en.questions and one.en.questions" in str(err.value)


def test_a_held_out_question_that_is_also_trained_is_an_error(tmp_path):
    _write(tmp_path, "a", _article("one", QS, ["question number 1", "b", "c"]))
    with pytest.raises(KnowledgeError, match="in one.en.test_questions and one.en.questions"):
        load_articles(tmp_path)


@pytest.mark.parametrize("change, message", [
    ({"id": "Opening-Hours"}, "'id' must be snake_case"),
    ({"questions": QS[:5]}, "5 questions; give 10-15"),
    ({"test_questions": ["only one"]}, "1 test_questions; give 3-5"),
    ({"answer": ""}, "'answer' must be a non-empty string"),
    ({"human_only": "yes"}, "'human_only' must be true or false"),
    ({"buttons": [{"title": "A title that is far too long", "payload": "/x"}]}, "longer than 20"),
    ({"answr": "typo"}, "unknown key 'answr'"),
    ({"title": ""}, "(opening_hours) [en]: 'title' must be a non-empty string"),
    ({"questions": QS[:9] + ["see [this](url)"]}, "Rasa annotation syntax"),
])
def test_invalid_articles_are_reported_clearly(tmp_path, change, message):
    article = _article("opening_hours", QS, ["a", "b", "c"])
    if "id" in change or "human_only" in change:
        article.update(change)
    else:
        article["en"].update(change)
    _write(tmp_path, "a", article)
    with pytest.raises(KnowledgeError, match=re.escape(message)):
        load_articles(tmp_path)


def test_an_article_without_one_of_the_bots_languages_is_refused_naming_file_article_and_language(tmp_path):
    article = _article("opening_hours", QS, ["a", "b", "c"])
    del article["ja"]
    _write(tmp_path, "hours", article)
    with pytest.raises(KnowledgeError, match=re.escape("hours.yml[0] (opening_hours): no 'ja' block")):
        load_articles(tmp_path)
    [a] = load_articles(tmp_path, languages=["en"])      # a bot that speaks English only
    assert a.languages == ("en",)


def test_the_old_one_language_layout_is_refused_with_where_the_text_goes(tmp_path):
    _write(tmp_path, "hours", {"id": "opening_hours", "title": "Hours", "answer": "An answer.",
                               "questions": QS, "test_questions": ["a", "b", "c"]})
    with pytest.raises(KnowledgeError, match=re.escape("'answer' belongs in a language block (en:, ja:)")):
        load_articles(tmp_path)


def test_the_bots_languages_come_from_knowledge_languages_yml(tmp_path):
    from knowledge import bot_languages

    assert bot_languages() == bot_languages(ROOT / "knowledge" / "languages.yml")
    assert bot_languages().languages == ("en", "ja") and bot_languages().default == "en"
    (tmp_path / "languages.yml").write_text("languages: [en, ja]\ndefault: fr\n")
    with pytest.raises(KnowledgeError, match="'default' must be one of"):
        bot_languages(tmp_path / "languages.yml")


def test_a_human_only_article_may_leave_the_answer_to_the_default(tmp_path):
    art = _article("complaint", QS, ["a", "b", "c"], human_only=True)
    del art["en"]["answer"], art["ja"]["answer"]
    _write(tmp_path, "support", art)
    [a] = load_articles(tmp_path)
    assert a.human_only and "colleague" in a.answer and "担当のスタッフ" in a.text("ja").answer


def test_broken_yaml_names_the_file(tmp_path):
    (tmp_path / "bad.yml").write_text(textwrap.dedent("""\
        area: Bad
        articles: [unclosed
    """))
    with pytest.raises(KnowledgeError, match="bad.yml: not valid YAML"):
        load_articles(tmp_path)


def test_casual_questions_are_trained_and_a_follow_up_is_optional(tmp_path, articles):
    from knowledge.build import render_nlu

    by_id = {a.id: a for a in articles}
    assert sum(len(a.casual_questions) for a in articles) >= 200
    assert by_id["warranty"].follow_up and by_id["opening_hours"].follow_up is None
    nlu = render_nlu(articles)
    assert all(f"    - {q}\n" in nlu for q in by_id["track_order"].casual_questions)
    bad = textwrap.dedent("""\
        area: Test
        articles:
          - id: one
            en:
              title: One
              answer: An answer.
              follow_up: ""
              questions: [q1, q2, q3, q4, q5, q6, q7, q8, q9, q10]
              casual_questions: [q1]
              test_questions: [t1, t2, t3]
            ja:
              title: ひとつ
              answer: 回答です。
              questions: [質問1, 質問2, 質問3, 質問4, 質問5, 質問6, 質問7, 質問8, 質問9, 質問10]
              test_questions: [テスト1, テスト2, テスト3]
        """)
    (tmp_path / "test.yml").write_text(bad)
    with pytest.raises(KnowledgeError) as caught:
        load_articles(tmp_path)
    text = "\n".join(caught.value.problems)
    assert "'follow_up' must be a non-empty text" in text
    assert "duplicate question 'q1'" in text
