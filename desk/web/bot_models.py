"""The bot's models in the console, and the model server Rasa pulls from
(desk.services.bot_models).

GET /api/trainer/models: the training runs, their figures, which is published and
which is live. POST /api/trainer/models: train from the current knowledge.
POST /api/trainer/models/{id}/publish: the bot runs it from its next pull (a model that
scores worse than the one in service: 409 with `needs_reason`, then again with `reason`).
Admins and trainers.

GET /bot/model: Rasa's model server protocol (endpoints.model-server.yml): the
published model with its fingerprint as ETag, 304 when Rasa has it. Rasa sends
`?token=` (BOT_MODEL_TOKEN); without that variable the model server is off (404).
"""
from __future__ import annotations

import hmac
import os

from aiohttp import web

from desk.models import utcnow
from desk.services import bot_models
from desk.web.context import SESSIONS, body, endpoint, json_error
from desk.web.views import iso


def model_json(m, live_id: int | None) -> dict:
    return {"id": m.id, "state": m.state, "note": m.note, "requested_by": m.requested_by,
            "requested_at": iso(m.requested_at), "started_at": iso(m.started_at), "finished_at": iso(m.finished_at),
            "figures": m.figures, "size": m.size, "published_at": iso(m.published_at),
            "published_by": m.published_by, "publish_reason": m.publish_reason, "progress": m.progress,
            "live": m.id == live_id, "live_at": iso(m.live_at),
            "log_tail": m.log_tail if m.state == "failed" else None}


@endpoint(admin=True, trainers=True)
async def list_models(request, session, me):
    runs = await bot_models.history(session, me.brand_id)
    live = max((m for m in runs if m.live_at), key=lambda m: m.live_at, default=None)
    return web.json_response({"models": [model_json(m, live.id if live else None) for m in runs],
                              "model_server": bool(os.environ.get("BOT_MODEL_TOKEN"))})


@endpoint(admin=True, trainers=True, kicks=True)
async def train(request, session, me):
    data = await body(request)
    note = data.get("note")
    if note is not None and not isinstance(note, str):
        raise json_error(400, "note must be text")
    try:
        run = await bot_models.request_training(session, me.brand_id, me.email, note)
    except bot_models.BotModelError as exc:
        raise json_error(409, str(exc)) from None
    return web.json_response(model_json(run, None), status=202)


@endpoint(admin=True, trainers=True)
async def publish(request, session, me):
    model_id = request.match_info["model_id"]
    if not model_id.isdigit():
        raise json_error(404, "no such model")
    data = await body(request, optional=True)
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise json_error(400, "reason must be text")
    try:
        model = await bot_models.publish(session, int(model_id), me.email, me.brand_id, reason=reason)
    except bot_models.WorseModel as exc:  # the console asks for the reason and sends it again
        return web.json_response({"error": str(exc), "worse": exc.worse, "needs_reason": True}, status=409)
    except bot_models.BotModelError as exc:
        raise json_error(404 if str(exc).startswith("no model") else 409, str(exc)) from None
    return web.json_response(model_json(model, None))


async def serve_model(request: web.Request) -> web.StreamResponse:
    token = os.environ.get("BOT_MODEL_TOKEN", "")
    if not token:
        raise web.HTTPNotFound(text="the model server is off (BOT_MODEL_TOKEN is not set)")
    if not hmac.compare_digest(request.query.get("token", ""), token):
        raise web.HTTPUnauthorized(text="wrong or missing token")
    running = request.headers.get("If-None-Match")
    async with request.app[SESSIONS]() as session, session.begin():
        await bot_models.note_pull(session, running, utcnow())
        found = await bot_models.served(session)
    if found is None:
        return web.Response(status=204)   # nothing trained yet: Rasa keeps what it has
    if running == found.etag:
        return web.Response(status=304, headers={"ETag": found.etag})
    # Streamed by hand: aiohttp's FileResponse would put its own ETag in place of the fingerprint.
    resp = web.StreamResponse(headers={"ETag": found.etag, "filename": "model.tar.gz",
                                       "Content-Type": "application/gzip"})
    resp.content_length = found.path.stat().st_size
    await resp.prepare(request)
    with found.path.open("rb") as f:
        while block := f.read(1 << 20):
            await resp.write(block)
    await resp.write_eof()
    return resp


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/trainer/models", list_models)
    r.add_post("/api/trainer/models", train)
    r.add_post("/api/trainer/models/{model_id}/publish", publish)
    r.add_get("/bot/model", serve_model)
