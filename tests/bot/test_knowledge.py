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


def test_every_topic_has_10_to_15_training_and_3_to_5_held_out_questions(articles):
    for a in articles:
        assert 10 <= len(a.questions) <= 15, a.id
        assert 3 <= len(a.test_questions) <= 5, a.id
        assert a.answer and a.title


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
    responses = yaml.safe_load(render_responses(articles))["responses"]
    for a in articles:
        [response] = responses[a.response]
        assert response["text"] == a.answer
        assert [(b["title"], b["payload"]) for b in response.get("buttons", [])] == \
               [(b.title, b.payload) for b in a.buttons]


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
    held_out = set().union(*(_nlu_examples(p) for p in (ROOT / "tests" / "nlu").glob("*.yml")))
    assert held_out and not (held_out & trained), sorted(held_out & trained)


# -- the loader's errors ---------------------------------------------------------

def _article(article_id: str, questions: list[str], tests: list[str], **extra) -> dict:
    return {"id": article_id, "title": article_id.title(), "human_only": False,
            "answer": "An answer.", "questions": questions, "test_questions": tests, **extra}


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
    assert "duplicate question 'Question Number 0?': in two.questions and one.questions" in str(err.value)


def test_a_held_out_question_that_is_also_trained_is_an_error(tmp_path):
    _write(tmp_path, "a", _article("one", QS, ["question number 1", "b", "c"]))
    with pytest.raises(KnowledgeError, match="in one.test_questions and one.questions"):
        load_articles(tmp_path)


@pytest.mark.parametrize("change, message", [
    ({"id": "Opening-Hours"}, "'id' must be snake_case"),
    ({"questions": QS[:5]}, "5 questions; give 10-15"),
    ({"test_questions": ["only one"]}, "1 test_questions; give 3-5"),
    ({"answer": ""}, "'answer' must be a non-empty string"),
    ({"human_only": "yes"}, "'human_only' must be true or false"),
    ({"buttons": [{"title": "A title that is far too long", "payload": "/x"}]}, "longer than 20"),
    ({"answr": "typo"}, "unknown key 'answr'"),
    ({"questions": QS[:9] + ["see [this](url)"]}, "Rasa annotation syntax"),
])
def test_invalid_articles_are_reported_clearly(tmp_path, change, message):
    _write(tmp_path, "a", {**_article("opening_hours", QS, ["a", "b", "c"]), **change})
    with pytest.raises(KnowledgeError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_articles(tmp_path)


def test_a_human_only_article_may_leave_the_answer_to_the_default(tmp_path):
    art = _article("complaint", QS, ["a", "b", "c"], human_only=True)
    del art["answer"]
    _write(tmp_path, "support", art)
    [a] = load_articles(tmp_path)
    assert a.human_only and "colleague" in a.answer


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
            title: One
            answer: An answer.
            follow_up: ""
            questions: [q1, q2, q3, q4, q5, q6, q7, q8, q9, q10]
            casual_questions: [q1]
            test_questions: [t1, t2, t3]
        """)
    (tmp_path / "test.yml").write_text(bad)
    with pytest.raises(KnowledgeError) as caught:
        load_articles(tmp_path)
    text = "\n".join(caught.value.problems)
    assert "'follow_up' must be a non-empty text" in text
    assert "duplicate question 'q1'" in text
