"""The FAQ articles page (desk.services.articles): trainers and admins list, search, edit
and start articles; saving writes knowledge/faq/<area>.yml (KNOWLEDGE_DIR: another
directory, for tests).

GET  /api/trainer/articles?q=          the articles by area (those matching q), the languages
GET  /api/trainer/articles/new?miss_ids=1,2&area=   a blank form, a miss group's questions in it
GET  /api/trainer/articles/{id}        the form of one article, with its version
PUT  /api/trainer/articles/{id}        {version, article}: 200 the saved form; 409 stale; 422
                                       {error, errors: [{field, message}]} and nothing written
POST /api/trainer/articles             {area, id?, article, miss_ids?}: 201; the misses are
                                       resolved as questions of the new article
"""
from __future__ import annotations

from aiohttp import web

import knowledge
from desk import i18n
from desk.services import articles, trainer
from desk.web.context import LOCALE, body, endpoint, json_error
from desk.web.trainer import faq_dir


def _limits() -> dict:
    return {"button_title": knowledge.BUTTON_TITLE_LIMIT, "buttons": knowledge.MAX_BUTTONS,
            **{f: list(v) for f, v in articles.COUNTS.items()}}


def _invalid(request, exc: articles.ArticleInvalid) -> web.HTTPException:
    say = lambda key, **values: i18n.t(request[LOCALE], key, **values)  # noqa: E731
    errors = [e.as_json(say) for e in exc.errors]
    return json_error(422, i18n.t(request[LOCALE], "articles.err.summary", count=len(errors)), errors=errors)


def _stale(request, exc: articles.StaleArticle) -> web.HTTPException:
    return json_error(409, i18n.t(request[LOCALE], "articles.err.stale", id=exc.article_id),
                      stale=True, version=exc.version)


def _ids(value) -> list[int]:
    if value in (None, "", []):
        return []
    items = value.split(",") if isinstance(value, str) else value
    try:
        if not isinstance(items, list):
            raise ValueError
        return [int(i) for i in items]
    except (TypeError, ValueError):
        raise json_error(400, "miss_ids: the misses of the group, as a list of numbers") from None


@endpoint(admin=True, trainers=True)
async def list_articles(request, session, me):
    locale = request[LOCALE]
    try:
        found = articles.listing(faq_dir(), request.query.get("q"), locale)
    except knowledge.KnowledgeError as exc:
        raise json_error(422, "; ".join(exc.problems)) from None
    return web.json_response({"areas": found, "languages": list(knowledge.bot_languages().languages),
                              "query": request.query.get("q") or ""})


@endpoint(admin=True, trainers=True)
async def new_article(request, session, me):
    ids = _ids(request.query.get("miss_ids"))
    questions = await trainer.questions_of(session, me.brand_id, ids) if ids else []
    form = articles.blank_form(area=request.query.get("area") or "", questions=questions)
    return web.json_response({**form, "miss_ids": ids, "limits": _limits(),
                              "areas": articles.areas(faq_dir(), request[LOCALE])})


@endpoint(admin=True, trainers=True)
async def get_article(request, session, me):
    try:
        form = articles.get_article(request.match_info["article_id"], faq_dir())
    except articles.ArticleError as exc:
        raise json_error(404, str(exc)) from None
    return web.json_response({**form, "limits": _limits(), "areas": articles.areas(faq_dir(), request[LOCALE])})


@endpoint(admin=True, trainers=True)
async def save_article(request, session, me):
    data = await body(request)
    try:
        saved = articles.save_article(request.match_info["article_id"], data.get("article"),
                                      str(data.get("version") or ""), faq_dir())
    except articles.ArticleError as exc:
        raise json_error(404, str(exc)) from None
    except articles.StaleArticle as exc:
        raise _stale(request, exc) from None
    except articles.ArticleInvalid as exc:
        raise _invalid(request, exc) from None
    return web.json_response({**saved, "limits": _limits(),
                              "next": i18n.t(request[LOCALE], "articles.saved_next", file=saved["file"])})


@endpoint(admin=True, trainers=True)
async def create_article(request, session, me):
    data = await body(request)
    ids = _ids(data.get("miss_ids"))
    try:
        saved = articles.create_article(str(data.get("area") or ""), str(data.get("id") or ""),
                                        data.get("article"), faq_dir())
    except articles.ArticleInvalid as exc:
        raise _invalid(request, exc) from None
    resolved = await trainer.resolve(session, me.brand_id, ids, "variant", by=me.email,
                                     article=saved["id"]) if ids else 0
    return web.json_response({**saved, "resolved": resolved, "limits": _limits(),
                              "next": i18n.t(request[LOCALE], "articles.saved_next", file=saved["file"])},
                             status=201)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/trainer/articles", list_articles)
    r.add_post("/api/trainer/articles", create_article)
    r.add_get("/api/trainer/articles/new", new_article)
    r.add_get("/api/trainer/articles/{article_id}", get_article)
    r.add_put("/api/trainer/articles/{article_id}", save_article)
