"""The user's and the tester's side: JSON endpoints under ``/_sim/``.

These are not Meta's: they let a person (the web page) or a test write as a
WhatsApp user, inspect what the business sent, inject faults and move the
clock.  Errors answer ``{"error": "<reason>"}`` with 400/404.
"""
from __future__ import annotations

import asyncio
from functools import wraps
from typing import Any, Awaitable, Callable

from aiohttp import web

from . import account_webhooks as aw, inbound
from .core import Simulator
from .errors import CATALOG, GraphError
from .graph_api import SIM_KEY
from .inbound import ControlError
from .state import Fault, Number
from .validation import is_bsuid, normalize_phone

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Default HTTP status / delivery mode of each injectable fault code.
ASYNC_FAULTS = {131047, 131026, 131049, 131053, 131052}


def control(handler: Handler) -> Handler:
    @wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ControlError as err:
            return web.json_response({"error": str(err)}, status=err.status)
        except GraphError as err:
            return web.json_response({"error": err.body()["error"]}, status=400)
        except ValueError as err:
            return web.json_response({"error": str(err)}, status=400)
    return wrapper


def sim_of(request: web.Request) -> Simulator:
    return request.app[SIM_KEY]


async def json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise ControlError("body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def number_from(sim: Simulator, value: Any) -> Number:
    pnid = str(value or sim.config.phone_number_id)
    number = sim.state.get_number(pnid)
    if number is None:
        raise ControlError(f"unknown phone_number_id {pnid}", 404)
    return number


def wa_id_from(request: web.Request) -> str:
    """The user of the path: a phone number, or a business-scoped user id (BSUID, e.g.
    US.13491208655302741918) for a username-only user, who has no phone number."""
    raw = request.match_info["wa_id"]
    if is_bsuid(raw):
        return raw
    wa_id = normalize_phone(raw)
    if wa_id is None:
        raise ControlError("wa_id must be a phone number (digits, E.164 without +) or a BSUID (US.1234...)")
    return wa_id


def _int(value: Any, name: str, default: int = 0) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be an integer") from None


# -- health, config, settings ----------------------------------------------------

async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@control
async def get_settings(request: web.Request) -> web.Response:
    sim = sim_of(request)
    cfg = sim.config
    return web.json_response({
        "settings": sim.state.settings.public(),
        "config": {
            "default_phone_number_id": cfg.phone_number_id,
            "throughput_per_second": cfg.throughput_per_second,
            "pair_rate_burst": cfg.pair_rate_burst,
            "pair_rate_interval_s": cfg.pair_rate_interval_s,
            "pricing_model": cfg.pricing_model,
            "status_conversation": cfg.status_conversation,
            "api_versions": list(cfg.api_versions),
            "signing": bool(cfg.app_secret),
        },
    })


@control
async def post_settings(request: web.Request) -> web.Response:
    """Change run-time knobs: webhook_url, auto_read, user_ids, status_delay_ms,
    window_error (async|sync), status_order (in_order|reversed|shuffled), status_duplicates,
    webhook_max_attempts, webhook_retry_base_ms, webhook_retry_max_ms."""
    sim = sim_of(request)
    body = await json_body(request)
    s = sim.state.settings
    unknown = set(body) - set(s.public())
    if unknown:
        raise ControlError(f"unknown settings: {', '.join(sorted(unknown))}")
    if "webhook_url" in body:
        s.webhook_url = str(body["webhook_url"])
    if "auto_read" in body:
        s.auto_read = bool(body["auto_read"])
    if "user_ids" in body:
        s.user_ids = bool(body["user_ids"])
    if "window_error" in body:
        if body["window_error"] not in ("async", "sync"):
            raise ControlError("window_error must be async or sync")
        s.window_error = body["window_error"]
    if "status_order" in body:
        if body["status_order"] not in ("in_order", "reversed", "shuffled"):
            raise ControlError("status_order must be in_order, reversed or shuffled")
        s.status_order = body["status_order"]
    for key in ("status_delay_ms", "status_duplicates", "webhook_max_attempts",
                "webhook_retry_base_ms", "webhook_retry_max_ms"):
        if key in body:
            value = _int(body[key], key)
            if value < (1 if key in ("status_duplicates", "webhook_max_attempts") else 0):
                raise ControlError(f"{key} is out of range")
            setattr(s, key, value)
    return web.json_response({"settings": s.public()})


# -- numbers and templates ----------------------------------------------------------

@control
async def get_numbers(request: web.Request) -> web.Response:
    sim = sim_of(request)
    return web.json_response({"numbers": [
        {k: v for k, v in n.public().items() if k != "access_token"}
        for n in sim.state.list_numbers()
    ]})


@control
async def post_numbers(request: web.Request) -> web.Response:
    """Body: phone_number_id, access_token, display_phone_number, waba_id, verified_name?"""
    sim = sim_of(request)
    number = sim.register_number(await json_body(request))
    return web.json_response({"number": number.public()}, status=201)


@control
async def get_sim_templates(request: web.Request) -> web.Response:
    sim = sim_of(request)
    waba_id = request.query.get("waba_id")
    return web.json_response({"templates": [
        {**t.public(), "waba_id": t.waba_id} for t in sim.state.list_templates(waba_id)
    ]})


@control
async def post_sim_templates(request: web.Request) -> web.Response:
    """Body: name, language, category, status?, reason?, waba_id?, and either
    components (Meta's shape) or body/header/footer/buttons (an existing
    template keeps what is left out). When an existing template's status
    changes (Meta's review: APPROVED, REJECTED with a ``reason``, PAUSED ...),
    the business gets a signed ``message_template_status_update`` webhook;
    ``webhook_status`` is the HTTP status of its first attempt."""
    sim = sim_of(request)
    body = await json_body(request)
    name, language = body.get("name"), body.get("language", "en_US")
    before = sim.state.find_template(str(body.get("waba_id") or sim.config.waba_id), name,
                                     language.get("code") if isinstance(language, dict) else language) \
        if isinstance(name, str) else None
    t = sim.register_template(body)
    out: dict[str, Any] = {"template": {**t.public(), "waba_id": t.waba_id}, "webhook_status": None}
    if before is not None and before.status != t.status:
        delivery = await sim.template_status_changed(t)
        out["webhook_status"] = delivery.attempts[0]["http_status"] if delivery.attempts else None
        out["delivery_id"] = delivery.id
    return web.json_response(out, status=201)


@control
async def delete_sim_templates(request: web.Request) -> web.Response:
    sim = sim_of(request)
    q = request.query
    if not q.get("name"):
        raise ControlError("name is required")
    n = sim.state.delete_template(q.get("waba_id") or sim.config.waba_id, q["name"], q.get("language"))
    return web.json_response({"deleted": n})


# -- users ------------------------------------------------------------------------------

@control
async def post_user_message(request: web.Request) -> web.Response:
    """A WhatsApp user writes to a business number.  Body: ``type`` plus the
    type's fields (see :mod:`simulator.inbound`), ``phone_number_id``?,
    ``profile_name``?, ``context_message_id``?, ``duplicate``?, ``delay_ms``?"""
    sim = sim_of(request)
    wa_id = wa_id_from(request)
    body = await json_body(request)
    number = number_from(sim, body.get("phone_number_id"))
    duplicate = _int(body.get("duplicate"), "duplicate", 1)
    delay_ms = _int(body.get("delay_ms"), "delay_ms", 0)
    if not 1 <= duplicate <= 20 or not 0 <= delay_ms <= 600_000:
        raise ControlError("duplicate must be 1..20 and delay_ms 0..600000")
    mtype, obj, context, extra = inbound.build(sim, number, wa_id, body)
    username = body.get("username")
    if username is not None and (not isinstance(username, str) or not username.strip().lstrip("@")):
        raise ControlError("username must be a non-empty string")
    result = await sim.user_message(number, wa_id, str(body.get("profile_name") or f"User {wa_id[-4:]}"),
                                    mtype, obj, context, duplicate=duplicate, delay_ms=delay_ms, extra=extra,
                                    username=username.strip().lstrip("@") if username else None)
    return web.json_response(result, status=202 if delay_ms else 200)


@control
async def post_user_change(request: web.Request) -> web.Response:
    """The user changes number (``new_wa_id``: a ``user_changed_number`` system message)
    or BSUID (``new_user_id``: ``user_changed_user_id``). Meta's "System messages webhook
    reference": no contacts array; ``system`` has ``body``, ``type`` and the new
    ``wa_id`` or ``user_id``. Body: ``new_wa_id`` | ``new_user_id``, ``phone_number_id``?,
    ``profile_name``?"""
    sim = sim_of(request)
    wa_id = wa_id_from(request)
    body = await json_body(request)
    number = number_from(sim, body.get("phone_number_id"))
    name = str(body.get("profile_name") or f"User {wa_id[-4:]}")
    if body.get("new_wa_id"):
        new = normalize_phone(str(body["new_wa_id"]))
        if new is None:
            raise ControlError("new_wa_id must be a phone number")
        system = {"body": f"User {name} changed from {wa_id} to {new}", "wa_id": new,
                  "type": "user_changed_number"}
    elif body.get("new_user_id"):
        new = str(body["new_user_id"])
        if not is_bsuid(new):
            raise ControlError("new_user_id must be a BSUID")
        system = {"body": f"User {name} changed their business-scoped user ID", "user_id": new,
                  "type": "user_changed_user_id"}
    else:
        raise ControlError("give new_wa_id or new_user_id")
    result = await sim.system_message(number, wa_id, system)
    return web.json_response(result)


@control
async def post_business_app_message(request: web.Request) -> web.Response:
    """The business writes to the user from the WhatsApp Business app (coexistence):
    an ``smb_message_echoes`` webhook. Body: ``text``, ``phone_number_id``?"""
    sim = sim_of(request)
    wa_id = wa_id_from(request)
    body = await json_body(request)
    number = number_from(sim, body.get("phone_number_id"))
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ControlError("text must be a non-empty string")
    return web.json_response(await sim.business_app_message(number, wa_id, text))


@control
async def get_user_messages(request: web.Request) -> web.Response:
    sim = sim_of(request)
    wa_id = wa_id_from(request)
    number = number_from(sim, request.query.get("phone_number_id"))
    return web.json_response({
        "phone_number_id": number.phone_number_id,
        "wa_id": wa_id,
        "window_open": sim.state.window_open(number.phone_number_id, wa_id, sim.clock.now()),
        "event_cursor": sim.state.event_seq,
        "messages": [m.public() for m in sim.state.thread(number.phone_number_id, wa_id)],
    })


@control
async def post_user_read(request: web.Request) -> web.Response:
    """The user reads the chat: ``read`` statuses for delivered messages
    (all, or ``message_ids``).  Useful with auto_read off."""
    sim = sim_of(request)
    wa_id = wa_id_from(request)
    body = await json_body(request)
    number = number_from(sim, body.get("phone_number_id"))
    ids = body.get("message_ids")
    if ids is not None and not isinstance(ids, list):
        raise ControlError("message_ids must be a list")
    read = await sim.user_reads(number, wa_id, ids)
    return web.json_response({"read": read})


# -- inspection ---------------------------------------------------------------------------

@control
async def get_messages(request: web.Request) -> web.Response:
    """Outbound messages the business sent; ``since`` is a cursor (the
    ``cursor`` of a previous answer), optional phone_number_id / wa_id filters."""
    sim = sim_of(request)
    q = request.query
    since = _int(q.get("since"), "since", 0)
    items = sim.state.outbound_since(since, q.get("phone_number_id") or None, q.get("wa_id") or None)
    cursor = max([m.seq for m in items], default=since)
    return web.json_response({"messages": [m.public() for m in items], "cursor": cursor})


@control
async def get_webhooks(request: web.Request) -> web.Response:
    sim = sim_of(request)
    since = _int(request.query.get("since"), "since", 0)
    items = sim.state.deliveries_since(since)
    kind = request.query.get("kind")
    if kind:
        items = [d for d in items if d.kind == kind]
    return web.json_response({"deliveries": [d.public() for d in items],
                              "cursor": max([d.id for d in items], default=since)})


@control
async def get_events(request: web.Request) -> web.Response:
    """Long-poll: new message/status events after ``since`` (waits up to
    ``timeout`` seconds, default 25, for one to happen)."""
    sim = sim_of(request)
    q = request.query
    since = _int(q.get("since"), "since", 0)
    timeout = min(max(float(q.get("timeout", 25) or 0), 0.0), 60.0)
    pnid, wa_id = q.get("phone_number_id") or None, q.get("wa_id") or None
    if since > sim.state.event_seq:  # the state was reset since the client's last call
        return web.json_response({"events": [], "cursor": sim.state.event_seq, "reset": True})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        events = sim.state.events_since(since, pnid, wa_id)
        remaining = deadline - loop.time()
        if events or remaining <= 0:
            break
        await sim.state.wait_changed(remaining)
    # The cursor moves past events of other chats too, so a filtered poll
    # does not see them again.
    cursor = max([e["seq"] for e in events] + [since, sim.state.event_seq if not events else 0])
    return web.json_response({"events": events, "cursor": cursor})


@control
async def get_sim_media(request: web.Request) -> web.Response:
    """The bytes of a media id, without a token (for the web page)."""
    sim = sim_of(request)
    m = sim.state.get_media(request.match_info["media_id"])
    if m is None:
        raise ControlError("unknown media id", 404)
    return web.Response(body=m.data, content_type=m.mime_type)


# -- faults, clock, reset -------------------------------------------------------------

@control
async def post_faults(request: web.Request) -> web.Response:
    """Inject a fault for the next ``count`` calls of a number (-1 = until
    ``DELETE /_sim/faults``).  Body: ``code`` (a Meta error code, e.g. 131000,
    1, 2, 131016, 130429, 131056, 190, 200, 131047, 131026) or ``http_status``
    alone for a bare HTTP error; ``mode`` sync|async|http (default: async for
    delivery errors such as 131047, else sync); ``endpoint`` messages|media|any;
    ``details``; ``phone_number_id``."""
    sim = sim_of(request)
    body = await json_body(request)
    number = number_from(sim, body.get("phone_number_id"))
    code = body.get("code")
    code = None if code is None else _int(code, "code")
    http_status = body.get("http_status")
    http_status = None if http_status is None else _int(http_status, "http_status")
    if code is None and http_status is None:
        raise ControlError("give a code and/or an http_status")
    mode = body.get("mode") or ("http" if code is None else "async" if code in ASYNC_FAULTS else "sync")
    if mode not in ("sync", "async", "http"):
        raise ControlError("mode must be sync, async or http")
    if code is not None and code not in CATALOG and http_status is None and mode == "sync":
        raise ControlError(f"unknown code {code}: give http_status too")
    endpoint = body.get("endpoint", "messages")
    if endpoint not in ("messages", "media", "any"):
        raise ControlError("endpoint must be messages, media or any")
    count = _int(body.get("count"), "count", 1)
    if count == 0 or count < -1:
        raise ControlError("count must be positive, or -1 for until cleared")
    fault = Fault(code=code, remaining=count, http_status=http_status, mode=mode, endpoint=endpoint,
                  details=body.get("details"))
    sim.state.add_fault(number.phone_number_id, fault)
    return web.json_response({"fault": fault.public(), "phone_number_id": number.phone_number_id}, status=201)


@control
async def get_faults(request: web.Request) -> web.Response:
    return web.json_response({"faults": sim_of(request).state.list_faults()})


@control
async def delete_faults(request: web.Request) -> web.Response:
    sim_of(request).state.clear_faults(request.query.get("phone_number_id") or None)
    return web.json_response({"faults": {}})


@control
async def post_clock(request: web.Request) -> web.Response:
    """Move the clock forward: ``advance_seconds`` and/or ``advance_hours``."""
    sim = sim_of(request)
    body = await json_body(request)
    try:
        seconds = float(body.get("advance_seconds", 0)) + 3600 * float(body.get("advance_hours", 0))
    except (TypeError, ValueError):
        raise ControlError("advance_seconds / advance_hours must be numbers") from None
    if seconds < 0:
        raise ControlError("the clock only moves forward")
    now = sim.clock.advance(seconds)
    return web.json_response({"now": int(now), "offset_seconds": sim.clock.offset})


@control
async def get_clock(request: web.Request) -> web.Response:
    sim = sim_of(request)
    return web.json_response({"now": int(sim.clock.now()), "offset_seconds": sim.clock.offset})


@control
async def post_reset(request: web.Request) -> web.Response:
    sim_of(request).reset()
    return web.json_response({"reset": True})


# -- WABA-level webhooks of Meta's own (simulator/account_webhooks.py) ---------------------

async def _send(sim: Simulator, number: Number | None, body: dict[str, Any], kind: str, **extra: Any) -> web.Response:
    d = await sim.dispatcher.deliver(number, body, kind=kind, settings=sim.state.settings, **extra)
    return web.json_response({"payload": body, "delivery_id": d.id,
                              "webhook_status": d.attempts[0]["http_status"] if d.attempts else None})


Change = tuple["Number | str", dict[str, Any], dict[str, Any]]  # (whose, Meta's value, delivery details)


def meta_webhook(field: str, *, of_number: bool = False) -> Callable[[Callable[..., Change]], Handler]:
    """A control endpoint that has Meta send one signed webhook of ``field``. The
    decorated function builds it from ``(sim, request, body)`` and returns whose change
    it is (a number, or a WABA's id), Meta's ``value`` and the delivery log's details
    (``status``, ``wa_id``). A WABA's change (``of_number`` false) carries ``entry.time``
    and is delivered to the app's URL; a number's (history, smb_app_state_sync,
    user_preferences) carries the number's ``metadata`` and goes to the number's URL."""
    def wrap(build: Callable[..., Change]) -> Handler:
        @control
        @wraps(build)
        async def handler(request: web.Request) -> web.Response:
            sim = sim_of(request)
            body = await json_body(request)
            whose, value, extra = build(sim, request, body)
            if of_number:
                return await _send(sim, whose, aw.number_change(whose, field, value), field, **extra)
            waba_id = whose.waba_id if isinstance(whose, Number) else str(whose)
            return await _send(sim, None, aw.waba_change(waba_id, field, value, sim.clock.now()), field, **extra)
        return handler
    return wrap


def _template_of(sim: Simulator, body: dict[str, Any]):
    waba_id = str(body.get("waba_id") or sim.config.waba_id)
    t = sim.state.find_template(waba_id, str(body.get("name") or ""), str(body.get("language") or "en_US"))
    if t is None:
        raise ControlError("unknown template (name, language, waba_id?)", 404)
    return t


@meta_webhook("account_update")
def post_account_update(sim: Simulator, request: web.Request, body: dict[str, Any]) -> Change:
    """``account_update`` of a WABA. Body: event, waba_id?, violation_type?, ban_state?,
    ban_date?, country?, volume_tier_info?"""
    return str(body.get("waba_id") or sim.config.waba_id), aw.account_update(body), {"status": body.get("event")}


@meta_webhook("phone_number_quality_update")
def post_number_quality(sim: Simulator, request: web.Request, body: dict[str, Any]) -> Change:
    """``phone_number_quality_update`` of a number. Body: event, current_limit?, old_limit?,
    max_daily_conversations_per_business?"""
    number = number_from(sim, request.match_info["phone_number_id"])
    return number, aw.quality_update(number, body), {"status": body.get("event")}


@meta_webhook("message_template_quality_update")
def post_template_quality(sim: Simulator, request: web.Request, body: dict[str, Any]) -> Change:
    """``message_template_quality_update``. Body: name, language?, waba_id?, new_quality_score,
    previous_quality_score?"""
    t = _template_of(sim, body)
    return t.waba_id, aw.template_quality(t, body), {"status": body.get("new_quality_score")}


@meta_webhook("template_category_update")
def post_template_category(sim: Simulator, request: web.Request, body: dict[str, Any]) -> Change:
    """Meta recategorises a template: ``template_category_update``. Body: name, language?,
    waba_id?, category (the new one), impending? (only announced: the category stays)."""
    t = _template_of(sim, body)
    previous = t.category
    new = str(body.get("category") or "").upper()
    if new == previous:
        raise ControlError(f"the template is already {previous}")
    updated = sim.register_template({"waba_id": t.waba_id, "name": t.name, "language": t.language,
                                     "category": new})
    value = aw.template_category(updated, previous, body, sim.clock.now())
    if body.get("impending"):
        sim.register_template({"waba_id": t.waba_id, "name": t.name, "language": t.language, "category": previous})
    return t.waba_id, value, {"status": new}


@meta_webhook("user_preferences", of_number=True)
def post_user_preferences(sim: Simulator, request: web.Request, body: dict[str, Any]) -> Change:
    """The user stops or resumes marketing messages: ``user_preferences``. Body: value
    (stop|resume), phone_number_id?, profile_name?"""
    wa_id = wa_id_from(request)
    number = number_from(sim, body.get("phone_number_id"))
    value = aw.user_preference(wa_id, str(body.get("value") or ""), sim.clock.now(), body.get("profile_name"))
    return number, value, {"wa_id": wa_id, "status": str(body.get("value"))}


@meta_webhook("history", of_number=True)
def post_history(sim: Simulator, request: web.Request, body: dict[str, Any]) -> Change:
    """Coexistence onboarding shares the app's past chats: a ``history`` webhook.
    Body: threads [{wa_id, messages [{text | media: true, timestamp, from_business?, id?,
    status?}]}], phase?, chunk_order?, progress?; or declined: true."""
    number = number_from(sim, request.match_info["phone_number_id"])
    business = number.display_phone_number.lstrip("+").replace(" ", "")
    return number, aw.history(business, body), {}


@meta_webhook("smb_app_state_sync", of_number=True)
def post_state_sync(sim: Simulator, request: web.Request, body: dict[str, Any]) -> Change:
    """The app's contacts added, edited or removed: ``smb_app_state_sync``. Body: contacts
    [{phone_number, full_name?, first_name?, action: add|remove}]."""
    number = number_from(sim, request.match_info["phone_number_id"])
    return number, aw.state_sync(body, sim.clock.now()), {}


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/_sim/health", health)
    r.add_get("/_sim/settings", get_settings)
    r.add_post("/_sim/settings", post_settings)
    r.add_get("/_sim/numbers", get_numbers)
    r.add_post("/_sim/numbers", post_numbers)
    r.add_get("/_sim/templates", get_sim_templates)
    r.add_post("/_sim/templates", post_sim_templates)
    r.add_delete("/_sim/templates", delete_sim_templates)
    r.add_post("/_sim/users/{wa_id}/messages", post_user_message)
    r.add_get("/_sim/users/{wa_id}/messages", get_user_messages)
    r.add_post("/_sim/users/{wa_id}/read", post_user_read)
    r.add_post("/_sim/users/{wa_id}/change", post_user_change)
    r.add_post("/_sim/users/{wa_id}/business-app", post_business_app_message)
    r.add_get("/_sim/messages", get_messages)
    r.add_get("/_sim/webhooks", get_webhooks)
    r.add_get("/_sim/events", get_events)
    r.add_get("/_sim/media/{media_id}", get_sim_media)
    r.add_post("/_sim/faults", post_faults)
    r.add_get("/_sim/faults", get_faults)
    r.add_delete("/_sim/faults", delete_faults)
    r.add_post("/_sim/clock", post_clock)
    r.add_get("/_sim/clock", get_clock)
    r.add_post("/_sim/reset", post_reset)
    r.add_post("/_sim/account/update", post_account_update)
    r.add_post("/_sim/numbers/{phone_number_id}/quality", post_number_quality)
    r.add_post("/_sim/numbers/{phone_number_id}/history", post_history)
    r.add_post("/_sim/numbers/{phone_number_id}/contacts-sync", post_state_sync)
    r.add_post("/_sim/templates/quality", post_template_quality)
    r.add_post("/_sim/templates/category", post_template_category)
    r.add_post("/_sim/users/{wa_id}/preferences", post_user_preferences)
