"""FAQ articles through the console API on a copy of knowledge/faq: trainers and admins
edit, a stale save is a 409, problems are 422 with field errors in the operator's
language and nothing written; managers and operators cannot edit; a new article from
a miss group resolves the group."""
from __future__ import annotations

import knowledge
from desk.models import Role
from desk.services import bot_misses
from tests.console.conftest import SUPPORT_NUMBER, signed_in


async def _people(desk):
    await desk.add_operator("tess", Role.trainer, "Tess Trainer", locale="ja")
    await desk.add_operator("max", Role.manager, "Max Manager")
    async with desk.sessions() as s, s.begin():
        ids = []
        for q in ("do u do gift wrap", "gift wrap pls"):
            ids.append((await bot_misses.record(s, kind="unsure", question=q, confidence=0.3, article="gift_cards",
                                                phone_number_id=SUPPORT_NUMBER, wa_id="447700900001")).id)
        return ids


async def test_a_trainer_edits_an_article_and_a_stale_or_bad_save_writes_nothing(make_console, desk, faq):
    await _people(desk)
    tess = await signed_in(make_console, "tess")
    listing = await (await tess.get("/api/trainer/articles?q=opening")).json()
    assert any(a["id"] == "opening_hours" for area in listing["areas"] for a in area["articles"])
    form = await (await tess.get("/api/trainer/articles/opening_hours")).json()
    form["texts"]["en"]["title"] = "Opening hours"
    saved = await tess.put("/api/trainer/articles/opening_hours", json={"version": form["version"], "article": form})
    assert saved.status == 200, await saved.text()
    assert "title: Opening hours" in (faq / "hours.yml").read_text()
    before = (faq / "hours.yml").read_bytes()
    stale = await tess.put("/api/trainer/articles/opening_hours", json={"version": form["version"], "article": form})
    assert stale.status == 409 and (await stale.json())["stale"] is True
    fresh = await saved.json()
    fresh["texts"]["en"]["buttons"] = [{"title": "A title far longer than twenty", "payload": "/x"}]
    bad = await tess.put("/api/trainer/articles/opening_hours", json={"version": fresh["version"], "article": fresh})
    assert bad.status == 422
    data = await bad.json()
    assert data["errors"] == [{"field": "en.buttons.0.title",
                               "message": "30 文字あります。WhatsApp のボタンのタイトルは 20 文字までです。"}]
    assert (faq / "hours.yml").read_bytes() == before
    assert (await tess.get("/api/trainer/articles/nope")).status == 404


async def test_managers_and_operators_cannot_edit_articles(make_console, desk, faq):
    await _people(desk)
    before = (faq / "hours.yml").read_bytes()
    ada = await signed_in(make_console, "ada")
    form = await (await ada.get("/api/trainer/articles/opening_hours")).json()
    form["texts"]["en"]["title"] = "By somebody else"
    for who in ("max", "alice"):
        console = await signed_in(make_console, who)
        assert (await console.get("/api/trainer/articles")).status == 403, who
        put = await console.put("/api/trainer/articles/opening_hours", json={"version": form["version"], "article": form})
        assert put.status == 403, who
    assert (faq / "hours.yml").read_bytes() == before


async def test_a_new_article_from_a_miss_group_resolves_the_group(make_console, desk, faq):
    ids = await _people(desk)
    ada = await signed_in(make_console, "ada")
    form = await (await ada.get(f"/api/trainer/articles/new?miss_ids={ids[0]},{ids[1]}&area=orders")).json()
    en, ja = form["texts"]["en"], form["texts"]["ja"]
    assert en["questions"] == ["gift wrap pls", "do u do gift wrap"]
    en.update(title="Gift wrapping", answer="We gift-wrap any order for *£2.50*.",
              test_questions=["is gift wrap available", "can it come wrapped", "present wrapping option?"])
    en["questions"] += [f"gift wrapping question {i}" for i in range(10)]
    ja.update(title="ギフトラッピング", answer="ご注文は*£2.50*でギフトラッピングいたします。",
              test_questions=["ラッピングってありますか", "包装はできる？", "プレゼント包装の選択肢"])
    ja["questions"] += [f"ラッピングの質問{i}" for i in range(10)]
    made = await ada.post("/api/trainer/articles", json={"area": "orders", "article": form, "miss_ids": ids})
    assert made.status == 201, await made.text()
    body = await made.json()
    assert (body["id"], body["resolved"]) == ("gift_wrapping", 2)
    assert "gift_wrapping" in knowledge.articles_by_id(knowledge.load_articles(faq))
    assert (await (await ada.get("/api/trainer/misses")).json())["groups"] == []
    again = await ada.post("/api/trainer/articles", json={"area": "orders", "article": form})
    assert again.status == 422 and (await again.json())["errors"][0]["field"] == "id"
