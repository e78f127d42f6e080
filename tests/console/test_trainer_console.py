"""Issue 13, the trainer's inbox through the console API: trainers and admins only,
a variant written to knowledge/faq (a copy), a trainer changes nothing else."""
from __future__ import annotations

from desk.models import Role
from desk.services import bot_misses
from tests.console.conftest import SUPPORT_NUMBER, signed_in


async def _setup(desk):
    await desk.add_operator("tess", Role.trainer, "Tess Trainer")
    async with desk.sessions() as s, s.begin():
        ids = []
        for q in ("opening times pls", "opening times pls!!", "do u do gift wrap"):
            miss = await bot_misses.record(s, kind="unsure", question=q, confidence=0.3,
                                           article="gift_cards" if "gift" in q else "opening_hours",
                                           phone_number_id=SUPPORT_NUMBER, wa_id="447700900001")
            ids.append(miss.id)
        return ids


async def test_a_trainer_files_misses_and_changes_nothing_else(make_console, desk, faq):
    ids = await _setup(desk)
    tess = await make_console()
    assert (await tess.login("tess@acme.test")).status == 200
    inbox = await (await tess.get("/api/trainer/misses")).json()
    assert [(g["count"], g["guess"]) for g in inbox["groups"]] == [(2, "opening_hours"), (1, "gift_cards")]
    assert {"id": "opening_hours", "title": "Customer service hours", "area": "Opening hours"} in inbox["articles"] \
        or any(a["id"] == "opening_hours" for a in inbox["articles"])
    added = await tess.post("/api/trainer/misses/resolve", json={"ids": ids[:2], "action": "variant",
                                                                 "article": "opening_hours", "question": "opening times pls"})
    assert added.status == 200, await added.text()
    assert (await added.json())["file"] == "hours.yml" and "opening times pls" in (faq / "hours.yml").read_text()
    dup = await tess.post("/api/trainer/misses/resolve", json={"ids": [ids[2]], "action": "variant",
                                                               "article": "opening_hours", "question": "when are you open?"})
    assert dup.status == 422
    out = await tess.post("/api/trainer/misses/resolve", json={"ids": [ids[2]], "action": "out_of_scope"})
    assert (await out.json())["resolved"] == 1
    assert (await (await tess.get("/api/trainer/misses")).json())["groups"] == []
    for method, path, payload in [("put", "/api/me/status", {"status": "online"}), ("get", "/api/admin/settings", None),
                                  ("get", "/api/reports", None)]:
        resp = await (getattr(tess, method)(path, json=payload) if payload else getattr(tess, method)(path))
        assert resp.status == 403, path


async def test_operators_have_no_bot_inbox_and_bad_requests_get_a_clear_error(make_console, desk, faq):
    await _setup(desk)
    alice = await signed_in(make_console, "alice")
    assert (await alice.get("/api/trainer/misses")).status == 403
    ada = await signed_in(make_console, "ada")
    bad = await ada.post("/api/trainer/misses/resolve", json={"ids": "all", "action": "out_of_scope"})
    assert bad.status == 400 and "list of numbers" in (await bad.json())["error"]
    bad = await ada.post("/api/trainer/misses/resolve", json={"ids": [1], "action": "forget"})
    assert bad.status == 422 and "variant or out_of_scope" in (await bad.json())["error"]
