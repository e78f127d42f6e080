"""The trainer's pages: the inbox of what the bot missed (desk.services.trainer).

GET /api/trainer/misses: the brand's open misses, grouped, with the articles to file
them under. POST /api/trainer/misses/resolve: add a group as a question variant of
an article (written to knowledge/faq, the file named in the answer) or mark it out
of scope. Admins and trainers. KNOWLEDGE_DIR points at another knowledge/faq (tests).
"""
from __future__ import annotations

import os
from pathlib import Path

from aiohttp import web

import knowledge
from desk.services import trainer
from desk.web.context import body, endpoint, json_error


def faq_dir() -> Path:
    return Path(os.environ.get("KNOWLEDGE_DIR") or knowledge.FAQ_DIR)


@endpoint(admin=True, trainers=True)
async def misses(request, session, me):
    groups = await trainer.open_groups(session, me.brand_id)
    articles = knowledge.load_articles(faq_dir())
    return web.json_response({
        "groups": [g.as_json() for g in groups],
        "articles": [{"id": a.id, "title": a.title, "area": a.area_title} for a in articles]})


@endpoint(admin=True, trainers=True)
async def resolve(request, session, me):
    data = await body(request)
    ids = data.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
        raise json_error(400, "ids: the misses to resolve, as a list of numbers")
    action = data.get("action")
    written = None
    try:
        if action == "variant":
            article = str(data.get("article") or "")
            written = trainer.add_question(article, str(data.get("question") or ""), faq_dir())
            count = await trainer.resolve(session, me.brand_id, ids, "variant", by=me.email, article=article)
        else:
            count = await trainer.resolve(session, me.brand_id, ids, str(action), by=me.email)
    except trainer.TrainerError as exc:
        raise json_error(422, str(exc)) from None
    return web.json_response({"resolved": count, "file": written,
                              "next": "Retrain the bot (make train) to use the new question." if written else None})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/trainer/misses", misses)
    app.router.add_post("/api/trainer/misses/resolve", resolve)
