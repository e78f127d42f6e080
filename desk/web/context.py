"""The web app's keys and request plumbing, below every route module.

- the app keys (`SESSIONS`, `SETTINGS`, `CONSOLE_SESSIONS`, ...) that desk.web.app
  fills on startup and the routes read;
- `endpoint`: runs a handler in one session and transaction, with the signed-in
  operator, turning a service's refusal into a 4xx with the service's own words;
- `json_error`, `body`, `int_param`, `int_value`, `same_origin`: what handlers
  use to read a request and refuse it.

It imports no route module: desk.web.api and desk.web.admin import it, and
desk.web.app imports them all.
"""
from __future__ import annotations

import functools
import json
from urllib.parse import urlsplit

from aiohttp import web

from desk import i18n
from desk.billing.ledger import LedgerError
from desk.billing.templates import TemplateError
from desk.config import DeskSettings
from desk.attachments import AttachmentRefused
from desk.models import Operator, Role
from desk.services.canned import CannedError
from desk.services.business_hours import BusinessHoursError
from desk.services.departments import DepartmentError
from desk.services.leads import LeadTaskError
from desk.services.notes import NoteError
from desk.services.numbers import NumberError
from desk.services.operators import OperatorError
from desk.services.outbox import CannotSend
from desk.services.routing import RoutingError
from desk.services.settings import SettingsError
from desk.services.tags import TagError
from desk.services.tickets import TicketError
from desk.web import auth, queries
from desk.web.events import ChangeFeed
from desk.worker import WORKER_KICK

SESSIONS = web.AppKey("sessions", object)          # async_sessionmaker of the desk database
SETTINGS = web.AppKey("settings", DeskSettings)
CONSOLE_SESSIONS = web.AppKey("console_sessions", auth.SessionStore)
THROTTLE = web.AppKey("login_throttle", auth.LoginThrottle)
FEED = web.AppKey("change_feed", ChangeFeed)
COOKIE_SECURE = web.AppKey("cookie_secure", bool)
ARTICLES = web.AppKey("articles", list)
LOCALE = "locale"  # request key: the signed-in operator's language (desk.i18n), for the errors' words

# A service's refusal: 409 when the chat's state is in the way, 422 for a value it refuses.
CONFLICT = (RoutingError, CannotSend, TicketError, LeadTaskError)
INVALID = (SettingsError, OperatorError, CannedError, TagError, AttachmentRefused, NumberError, DepartmentError, BusinessHoursError,
           TemplateError, LedgerError, NoteError)


def json_error(status: int, message: str, *, headers=None, **extra) -> web.HTTPException:
    """An HTTP error with `{"error": message}`; raise it (inside a transaction it rolls back)."""
    cls = web.HTTPException
    for candidate in (web.HTTPBadRequest, web.HTTPUnauthorized, web.HTTPForbidden, web.HTTPNotFound,
                      web.HTTPConflict, web.HTTPRequestEntityTooLarge, web.HTTPUnprocessableEntity,
                      web.HTTPTooManyRequests, web.HTTPNotImplemented, web.HTTPServiceUnavailable):
        if candidate.status_code == status:
            cls = candidate
            break
    return cls(text=json.dumps({"error": message, **extra}), content_type="application/json",
               headers=headers)


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin:  # not sent by every client on same-origin requests; the CSRF token still applies
        return True
    return urlsplit(origin).netloc == request.host


def kick_worker(app: web.Application) -> None:
    """Wake the outbox sender now (registered by desk.worker when it runs in this process)."""
    kick = app.get(WORKER_KICK)
    if callable(kick):
        kick()


# What a manager (read-only) may still change: their own session; a trainer also the bot's inbox.
MANAGER_WRITES = {"/api/logout"}
TRAINER_WRITES = "/api/trainer/"


def endpoint(*, admin: bool = False, managers: bool = False, trainers: bool = False, kicks: bool = False):
    """Run the handler as `fn(request, session, me)` in one transaction.

    `admin`: admins only, or with `managers` / `trainers` admins and those roles too.
    Managers and trainers answer no chat and change nothing outside their pages.
    """

    def wrap(fn):
        @functools.wraps(fn)
        async def view(request: web.Request):
            async with request.app[SESSIONS]() as session:
                async with session.begin():
                    me = await signed_in_operator(request, session, admin=admin, managers=managers,
                                                  trainers=trainers)
                    request[LOCALE] = i18n.locale_of(me.locale, request.headers.get("Accept-Language"))
                    if request.method not in ("GET", "HEAD") and request.path not in MANAGER_WRITES:
                        if me.role == Role.manager:
                            raise json_error(403, "Managers can read the reports but change nothing.")
                        if me.role == Role.trainer and not request.path.startswith(TRAINER_WRITES):
                            raise json_error(403, "Trainers change the bot, not chats or settings.")
                    try:
                        resp = await fn(request, session, me)
                    except CONFLICT as exc:
                        raise json_error(409, str(exc)) from None
                    except INVALID as exc:
                        raise json_error(422, str(exc)) from None
            if kicks:
                kick_worker(request.app)
            return resp

        return view

    return wrap


async def signed_in_operator(request: web.Request, session, *, admin: bool = False,
                             managers: bool = False, trainers: bool = False) -> Operator:
    """The operator of the request's console session (401 if deactivated, 403 if not an admin,
    or with `managers`, not an admin or a manager)."""
    me = await queries.operator(session, request["console_session"].operator_id)
    if me is None or not me.active:  # deactivation deletes the sessions too
        raise json_error(401, "Your account is no longer active.", signed_in=False)
    if admin and me.role != Role.admin and not (managers and me.role == Role.manager) \
            and not (trainers and me.role == Role.trainer):
        raise json_error(403, "Only admins can do this.")
    return me


async def body(request: web.Request, *, optional: bool = False) -> dict:
    if optional and not await request.read():
        return {}
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise json_error(400, "The request body must be JSON.") from None
    if not isinstance(data, dict):
        raise json_error(400, "The request body must be a JSON object.")
    return data


def int_param(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except (KeyError, ValueError):
        raise json_error(400, f"{name} must be a number") from None


def int_value(value, name: str) -> int:
    """A number from a request body's field `name` (400 if it is not one)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise json_error(400, f"{name} must be a number") from None
