"""App factory for the desk's web process: the operator console and its JSON API.

The engine is created on startup and disposed on cleanup; each API request runs in
its own session and transaction (desk.web.context.endpoint). Every `/api` route but
sign-in needs a console session (desk.web.auth); state-changing requests also need
the session's CSRF token.

The top of desk/web: it imports the routes (desk.web.api, desk.web.admin), which
import desk.web.context and desk.web.views, and nothing in desk/web imports it.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
from pathlib import Path

from aiohttp import web

from desk import i18n
from desk.config import DeskSettings
from desk.db import create_engine, session_factory
from desk.web import admin, api, articles, auth, bot_models, lists, reports, trainer
from desk.web.context import (ARTICLES, CONSOLE_SESSIONS, COOKIE_SECURE, FEED, LOCALE, SESSIONS, SETTINGS,
                              THROTTLE, json_error, same_origin)
from desk.web.events import ChangeFeed

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
PUBLIC_API = {"/api/login"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SWEEP_INTERVAL = 60.0

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


@web.middleware
async def security_headers(request: web.Request, handler):
    try:
        resp = await handler(request)
    except web.HTTPException as exc:
        resp = exc
        _harden(request, resp)
        raise
    _harden(request, resp)
    return resp


def _harden(request: web.Request, resp) -> None:
    headers = resp.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def translate_errors(request: web.Request, handler):
    """A refusal's `{"error": ...}` in the operator's language (set by context.endpoint), else in
    the one the request asks for (Accept-Language): the services' English through desk.i18n."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        locale = request.get(LOCALE) or i18n.locale_of(None, request.headers.get("Accept-Language"))
        if locale != i18n.DEFAULT_LOCALE and exc.content_type == "application/json" and exc.text:
            try:
                data = json.loads(exc.text)
            except ValueError:
                raise exc from None
            if isinstance(data, dict) and isinstance(data.get("error"), str):
                data["error"] = i18n.translate(locale, data["error"])
                exc.text = json.dumps(data)
        raise


async def catalogs(request: web.Request) -> web.Response:
    """The console's catalogs as a script (the pages' CSP allows only scripts of this origin)."""
    body = "window.TSUNAGI_CATALOGS = " + json.dumps(
        {loc: {k: v for k, v in i18n.catalog(loc).items() if not k.startswith(("svc.", "cli."))}
         for loc in i18n.LOCALES}, ensure_ascii=False, sort_keys=True) + ";\n"
    return web.Response(text=body, content_type="application/javascript", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


@web.middleware
async def require_session(request: web.Request, handler):
    """`/api/*`: a live console session; unsafe methods: same origin and the CSRF token."""
    if not request.path.startswith("/api/") or request.path in PUBLIC_API:
        return await handler(request)
    store = request.app[CONSOLE_SESSIONS]
    token = request.cookies.get(auth.SESSION_COOKIE)
    background = request.path == "/api/events" or request.headers.get(auth.BACKGROUND_HEADER) == "1"
    session = await store.get(token, touch=not background)
    if session is None:
        raise json_error(401, "Your session has ended: sign in again.", signed_in=False)
    if request.method in UNSAFE:
        if not same_origin(request):
            raise json_error(403, "This request came from another site and was refused.")
        if not auth.same_token(session.csrf, request.headers.get(auth.CSRF_HEADER)):
            raise json_error(403, "Missing or wrong CSRF token: reload the page and try again.")
    request["console_session"] = session
    return await handler(request)


async def index(request: web.Request) -> web.StreamResponse:
    if not await request.app[CONSOLE_SESSIONS].valid(request.cookies.get(auth.SESSION_COOKIE)):
        raise web.HTTPFound("/login")
    return _page("console.html")


async def login_page(request: web.Request) -> web.StreamResponse:
    resp = _page("login.html")
    # Double-submit token for the sign-in request (there is no session to hold one yet).
    resp.set_cookie(auth.LOGIN_CSRF_COOKIE, secrets.token_urlsafe(24), httponly=False, samesite="Strict",
                    secure=request.app[COOKIE_SECURE], path="/")
    return resp


def _page(name: str) -> web.FileResponse:
    return web.FileResponse(STATIC / name, headers={"Cache-Control": "no-cache"})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _load_articles() -> list:
    """FAQ articles for the reply box, from the knowledge base when it is present."""
    try:
        from knowledge import load_articles
    except ImportError:
        return []
    try:
        return [{"id": a.id, "area": a.area_title, "title": a.title, "answer": a.answer}
                for a in load_articles() if not a.human_only]
    except Exception as exc:  # noqa: BLE001 - an invalid knowledge base must not stop the console
        log.warning("console: FAQ articles not loaded: %s", exc)
        return []


def create_app(settings: DeskSettings | None = None, *, cookie_secure: bool | None = None) -> web.Application:
    settings = settings or DeskSettings.from_env()
    app = web.Application(middlewares=[security_headers, translate_errors, require_session], client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[COOKIE_SECURE] = (os.environ.get("DESK_COOKIE_SECURE") == "1") if cookie_secure is None else cookie_secure
    app[ARTICLES] = _load_articles()

    async def database(app: web.Application):
        engine = create_engine(settings.database_url)
        app[SESSIONS] = session_factory(engine)
        app[CONSOLE_SESSIONS] = auth.SessionStore(app[SESSIONS])
        app[THROTTLE] = auth.LoginThrottle(app[SESSIONS])
        app[FEED] = ChangeFeed(app[SESSIONS])
        sweeper = asyncio.create_task(_sweep_sessions(app))
        yield
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)
        await app[FEED].close()
        await engine.dispose()

    async def end_streams(app: web.Application):
        if FEED in app:
            await app[FEED].close()

    app.cleanup_ctx.append(database)
    app.on_shutdown.append(end_streams)
    app.router.add_get("/", index)
    app.router.add_get("/login", login_page)
    app.router.add_get("/health", health)
    app.router.add_get("/i18n/catalogs.js", catalogs)
    app.router.add_static("/static/", STATIC, append_version=False)
    api.add_routes(app)
    admin.add_routes(app)
    lists.add_routes(app)
    reports.add_routes(app)
    trainer.add_routes(app)
    articles.add_routes(app)
    bot_models.add_routes(app)
    return app


async def _sweep_sessions(app: web.Application) -> None:
    """Delete expired sessions; an operator left with none goes offline (no more chats routed).
    Also prune failed sign-ins older than the throttle's window.

    Every console instance sweeps; the deletes are idempotent, so that is harmless."""
    while True:
        await asyncio.sleep(SWEEP_INTERVAL)
        with contextlib.suppress(Exception):
            await app[THROTTLE].prune()
        with contextlib.suppress(Exception):
            gone = await app[CONSOLE_SESSIONS].sweep()
            if gone:
                await api.set_offline(app, gone)
