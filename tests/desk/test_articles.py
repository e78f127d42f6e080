"""FAQ articles edited as forms (desk.services.articles) on a copy of knowledge/faq: a save
changes only what the form changed (comments and layout kept), problems come back per
field and leave the file byte for byte as it was, a stale version is refused, a new
article gets a checked snake_case id."""
from __future__ import annotations

import copy
import difflib
import shutil

import pytest

import knowledge
from desk import i18n
from desk.services import articles


@pytest.fixture
def faq(tmp_path):
    target = tmp_path / "faq"
    shutil.copytree(knowledge.FAQ_DIR, target)
    return target


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*"))}


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def fields(exc: articles.ArticleInvalid) -> list[str]:
    return [e.field for e in exc.errors]


def test_saving_every_article_unchanged_leaves_every_file_as_it_was(faq):
    before = snapshot(faq)
    for article in knowledge.load_articles(faq):
        form = articles.get_article(article.id, faq)
        saved = articles.save_article(article.id, form, form["version"], faq)
        assert saved["version"] == form["version"]
    assert snapshot(faq) == before


def test_an_edit_changes_only_its_lines_and_keeps_the_comments(faq):
    before = (faq / "hours.yml").read_text()
    form = articles.get_article("opening_hours", faq)
    assert form["area"] == "hours" and form["file"] == "hours.yml"
    en, ja = form["texts"]["en"], form["texts"]["ja"]
    en["title"] = "Opening hours"
    en["buttons"] = [{"title": "Talk to us", "payload": "/speak_to_human"}]
    en["questions"][2] = "what time do you open in the morning"
    en["casual_questions"].append("  open on xmas?  ")      # trimmed
    ja["follow_up"] = "祝日の営業時間はお知らせページでご確認いただけます。"
    ja["answer"] = ja["answer"] + "\n改行のある回答です。"
    saved = articles.save_article("opening_hours", form, form["version"], faq)
    assert saved["version"] != form["version"]
    after = (faq / "hours.yml").read_text()
    assert changed_lines(before, after) == [
        "-      title: Customer service hours",
        "+      title: Opening hours",
        "+      buttons:",
        "+        - title: Talk to us",
        "+          payload: /speak_to_human",
        "-        - what time do you open",
        "+        - what time do you open in the morning",
        "+        - open on xmas?",
        "-      answer: >-",
        "+      answer: |-",
        "+        改行のある回答です。",
        "+      follow_up: 祝日の営業時間はお知らせページでご確認いただけます。",
    ]
    assert "casual_questions:                # WhatsApp-style writing" in after
    assert after.startswith("# Opening hours and where to find us.")
    article = knowledge.articles_by_id(knowledge.load_articles(faq))["opening_hours"]
    assert article.title == "Opening hours" and article.buttons[0].payload == "/speak_to_human"
    assert article.text("ja").answer.endswith("\n改行のある回答です。")
    assert article.text("ja").follow_up.startswith("祝日")
    assert articles.get_article("opening_hours", faq)["texts"]["en"]["casual_questions"][-1] == "open on xmas?"


def test_emptied_optional_fields_are_removed_and_human_only_flips(faq):
    form = articles.get_article("opening_hours", faq)
    form["texts"]["en"]["casual_questions"] = []
    form["human_only"] = True
    articles.save_article("opening_hours", form, form["version"], faq)
    text = (faq / "hours.yml").read_text()
    article = knowledge.articles_by_id(knowledge.load_articles(faq))["opening_hours"]
    assert article.human_only and article.casual_questions == ()
    assert "wat r ur hours" not in text


def test_problems_come_back_per_field_and_the_file_is_unchanged(faq):
    before = snapshot(faq)
    form = articles.get_article("opening_hours", faq)
    en, ja = form["texts"]["en"], form["texts"]["ja"]
    en["buttons"] = [{"title": "A title far longer than twenty", "payload": "/x"}, {"title": "No payload", "payload": ""}]
    en["questions"][0] = "How long does shipping take"     # a question of shipping_time
    en["test_questions"].append("when are you open?")           # already a training question here
    ja["questions"][1] = "[営業]時間"
    ja["answer"] = ""
    del en["casual_questions"][:]
    en["casual_questions"].extend(f"hrs {i}?" for i in range(16))
    with pytest.raises(articles.ArticleInvalid) as caught:
        articles.save_article("opening_hours", form, form["version"], faq)
    found = {e.field: e for e in caught.value.errors}
    assert set(found) == {"en.buttons.0.title", "en.buttons.1.payload", "en.questions.0", "en.test_questions.3",
                          "ja.questions.1", "ja.answer", "en.casual_questions"}
    assert found["en.buttons.0.title"].key == "articles.err.button_title"
    assert found["en.buttons.0.title"].values == {"length": 30, "limit": 20}
    assert found["en.questions.0"].key == "articles.err.duplicate_other"
    assert found["en.questions.0"].values["where"] == "shipping_time (en, questions)"
    assert found["en.test_questions.3"].key == "articles.err.duplicate_here"
    assert found["ja.questions.1"].values["chars"] == "[ ]"
    assert found["en.casual_questions"].values == {"count": 16, "min": 0, "max": 15}
    # said in the operator's language
    say = lambda key, **v: i18n.t("ja", key, **v)  # noqa: E731
    message = found["en.buttons.0.title"].as_json(say)
    assert message == {"field": "en.buttons.0.title",
                       "message": "30 文字あります。WhatsApp のボタンのタイトルは 20 文字までです。"}
    assert snapshot(faq) == before


def test_a_missing_language_block_and_a_bad_shape_are_clear_errors(faq):
    form = articles.get_article("opening_hours", faq)
    del form["texts"]["ja"]
    form["texts"]["fr"] = copy.deepcopy(form["texts"]["en"])
    with pytest.raises(articles.ArticleInvalid) as caught:
        articles.save_article("opening_hours", form, form["version"], faq)
    assert [(e.field, e.key) for e in caught.value.errors if e.field in ("ja", "fr")] == [
        ("fr", "articles.err.language_unknown"), ("ja", "articles.err.language_missing")]
    with pytest.raises(articles.ArticleInvalid) as caught:
        articles.save_article("opening_hours", "not a form", form["version"], faq)
    assert fields(caught.value) == [""]


def test_a_problem_only_the_loader_sees_is_refused_in_its_words(faq):
    (faq / "support.yml").write_text((faq / "support.yml").read_text() + "oops: 1\n")   # another file broken
    before = snapshot(faq)
    form = articles.get_article("opening_hours", faq)
    form["texts"]["en"]["title"] = "Opening hours"
    with pytest.raises(articles.ArticleInvalid) as caught:
        articles.save_article("opening_hours", form, form["version"], faq)
    assert [(e.field, e.key) for e in caught.value.errors] == [("", "")]
    assert "support.yml: unknown key 'oops'" in caught.value.errors[0].text
    assert snapshot(faq) == before


def test_the_loaders_words_are_put_next_to_the_field_they_name():
    errors = articles._loader_errors(["hours.yml[0] (opening_hours) [ja]: 'title' must be a non-empty string",
                                      "hours.yml[1] (holiday_hours) [en]: 'title' must be a non-empty string"],
                                     "opening_hours")
    assert [e.field for e in errors] == ["ja.title", ""]


def test_a_stale_version_is_refused_and_nothing_is_overwritten(faq):
    mine = articles.get_article("opening_hours", faq)
    theirs = articles.get_article("opening_hours", faq)
    theirs["texts"]["en"]["title"] = "Their title"
    articles.save_article("opening_hours", theirs, theirs["version"], faq)
    after_theirs = snapshot(faq)
    mine["texts"]["en"]["title"] = "My title"
    with pytest.raises(articles.StaleArticle) as caught:
        articles.save_article("opening_hours", mine, mine["version"], faq)
    assert caught.value.version == articles.get_article("opening_hours", faq)["version"]
    assert snapshot(faq) == after_theirs
    with pytest.raises(articles.StaleArticle):
        articles.save_article("opening_hours", mine, "", faq)


def test_an_edit_of_another_article_of_the_same_file_is_not_a_conflict(faq):
    mine = articles.get_article("opening_hours", faq)
    other = articles.get_article("holiday_hours", faq)
    other["texts"]["en"]["title"] = "Holidays"
    articles.save_article("holiday_hours", other, other["version"], faq)
    mine["texts"]["en"]["title"] = "Opening hours"
    articles.save_article("opening_hours", mine, mine["version"], faq)
    by_id = knowledge.articles_by_id(knowledge.load_articles(faq))
    assert (by_id["holiday_hours"].title, by_id["opening_hours"].title) == ("Holidays", "Opening hours")


def test_an_unknown_article_is_an_article_error(faq):
    with pytest.raises(articles.ArticleError):
        articles.get_article("no_such_thing", faq)


def gift_wrapping_form() -> dict:
    form = articles.blank_form(area="orders", questions=["do u do gift wrap", "ギフト包装できますか"])
    en, ja = form["texts"]["en"], form["texts"]["ja"]
    en.update(title="Gift wrapping!", answer="We gift-wrap any order for *£2.50*: tick _Gift wrap_ at checkout.",
              test_questions=["is gift wrap available", "can it come wrapped", "present wrapping option?"])
    en["questions"] += [f"gift wrapping question {i}" for i in range(10)]
    ja.update(title="ギフトラッピング", answer="ご注文は*£2.50*でギフトラッピングいたします。",
              test_questions=["ラッピングってありますか", "包装はできる？", "プレゼント包装の選択肢"])
    ja["questions"] += [f"ラッピングの質問{i}" for i in range(10)]
    return form


def test_a_new_article_from_a_miss_group_gets_an_id_from_its_title(faq):
    form = gift_wrapping_form()
    assert form["texts"]["en"]["questions"][0] == "do u do gift wrap"      # each question in its language
    assert form["texts"]["ja"]["questions"][0] == "ギフト包装できますか"
    before = (faq / "orders.yml").read_text()
    saved = articles.create_article("orders", "", form, faq)
    assert saved["id"] == "gift_wrapping" and saved["file"] == "orders.yml"
    after = (faq / "orders.yml").read_text()
    assert after.startswith(before.rstrip("\n"))          # appended; the rest untouched
    article = knowledge.articles_by_id(knowledge.load_articles(faq))["gift_wrapping"]
    assert article.area == "orders" and not article.human_only
    assert article.text("ja").questions[0] == "ギフト包装できますか"
    with pytest.raises(articles.ArticleInvalid) as caught:     # the same id again
        articles.create_article("orders", "gift_wrapping", gift_wrapping_form(), faq)
    assert caught.value.errors[0].field == "id" and caught.value.errors[0].key == "articles.err.id_taken"


@pytest.mark.parametrize("given, key", [("Gift-Wrapping", "articles.err.id_format"), ("2wrap", "articles.err.id_format"),
                                        ("gift__wrap", "articles.err.id_format")])
def test_a_new_article_needs_a_snake_case_id(faq, given, key):
    before = snapshot(faq)
    with pytest.raises(articles.ArticleInvalid) as caught:
        articles.create_article("orders", given, gift_wrapping_form(), faq)
    assert (caught.value.errors[0].field, caught.value.errors[0].key) == ("id", key)
    assert snapshot(faq) == before


def test_a_new_article_needs_a_known_area_and_its_blocks(faq):
    with pytest.raises(articles.ArticleInvalid) as caught:
        articles.create_article("../etc", "x", gift_wrapping_form(), faq)
    assert fields(caught.value) == ["area"]
    blank = articles.blank_form(area="orders")
    with pytest.raises(articles.ArticleInvalid) as caught:
        articles.create_article("orders", "", blank, faq)
    assert {"id", "en.title", "en.answer", "en.questions", "en.test_questions", "ja.title"} <= set(fields(caught.value))
    assert caught.value.errors[0].key == "articles.err.id_required"


def test_derived_ids():
    assert articles.derive_id("Gift wrapping & cards!") == "gift_wrapping_cards"
    assert articles.derive_id("Café opening") == "cafe_opening"
    assert articles.derive_id("ギフト") == "" and articles.derive_id("24h support") == ""


def test_search_finds_words_in_any_language_and_lists_by_area(faq):
    hits = [a["id"] for area in articles.listing(faq, "ギフト") for a in area["articles"]]
    assert "gift_cards" in hits and "opening_hours" not in hits
    every = articles.listing(faq, "", "ja")
    assert [a["area"] for a in every] == sorted(p.stem for p in faq.glob("*.yml"))
    assert every[0]["title"] == "アカウント" or every[0]["title"]
    assert sum(len(a["articles"]) for a in every) == len(knowledge.load_articles(faq))
    assert [a["id"] for area in articles.listing(faq, "opening HOURS") for a in area["articles"]][0] == "opening_hours"
