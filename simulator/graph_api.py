"""Meta's side: the Graph API endpoints a business calls.

- ``POST /{version}/{phone_number_id}/messages`` — send a message, or mark
  one read (``{"messaging_product": "whatsapp", "status": "read",
  "message_id": ...}`` → ``{"success": true}``).  Messages reference:
  https://developers.facebook.com/documentation/business-messaging/whatsapp/reference/whatsapp-business-phone-number/message-api
- ``POST /{version}/{phone_number_id}/media`` (multipart: ``file``, ``type``,
  ``messaging_product``) → ``{"id"}``; ``GET /{version}/{media_id}`` →
  ``{"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}``;
  ``GET <url>`` with the bearer token → the bytes; ``DELETE
  /{version}/{media_id}`` → ``{"success": true}``.  Media reference:
  https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media
- ``GET|POST|DELETE /{version}/{waba_id}/message_templates`` (GET: ``fields``,
  ``limit`` (default 25), ``after``; ``paging.cursors`` and, while more
  remain, ``paging.next``) and
  ``GET /{version}/{waba_id}/phone_numbers`` (WhatsApp Business Account
  node), ``GET /{version}/{phone_number_id}`` (phone number node).

Authentication is ``Authorization: Bearer <token>`` (or ``access_token``
query parameter, as Graph allows).  A missing or unknown token answers 190
(OAuthException, HTTP 401); a token that cannot see the node answers 100 /
subcode 33 (GraphMethodException, "Unsupported post request. Object with ID
... does not exist ...").
"""
from __future__ import annotations

import base64
import dataclasses
import secrets
from functools import wraps
from typing import Any, Awaitable, Callable

from aiohttp import web

from . import media as media_rules
from .core import Simulator
from .errors import (GraphError, deprecated_version, expired_token, invalid_token, unknown_object,
                     unknown_path)
from .state import Fault, Number
from .templates import ALL_FIELDS, DEFAULT_FIELDS, check_send, components_from_control, validate_definition
from .validation import validate_message

SIM_KEY: web.AppKey[Simulator] = web.AppKey("simulator", Simulator)
VERSION_RE = r"v\d+\.\d+"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def graph_response(err: GraphError) -> web.Response:
    headers = {}
    if err.status == 401:
        headers["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{err.body()["error"]["message"]}"'
    return web.json_response(err.body(), status=err.status, headers=headers)


def graph(handler: Handler) -> Handler:
    """Answer :class:`GraphError` in Meta's envelope."""
    @wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except GraphError as err:
            return graph_response(err)
    return wrapper


def sim_of(request: web.Request) -> Simulator:
    return request.app[SIM_KEY]


def check_version(request: web.Request) -> None:
    version = request.match_info["version"]
    accepted = sim_of(request).config.api_versions
    if accepted and version not in accepted:
        raise deprecated_version(version)


def bearer(request: web.Request) -> str:
    """The access token, or 190 when there is none or it is unknown."""
    auth = request.headers.get("Authorization", "")
    token = ""
    if auth[:7].lower() == "bearer ":
        token = auth[7:].strip()
    elif auth[:6].lower() == "oauth ":
        token = auth[6:].strip()
    token = token or request.query.get("access_token", "")
    if not token:
        raise invalid_token("An access token is required to request this resource.")
    if not sim_of(request).state.token_known(token):
        raise invalid_token()
    return token


def number_for(request: web.Request, token: str, method: str = "post") -> Number:
    pnid = request.match_info["phone_number_id"]
    number = sim_of(request).state.get_number(pnid)
    if number is None or not secrets.compare_digest(number.access_token, token):
        raise unknown_object(pnid, method)
    return number


def apply_fault(fault: Fault | None) -> web.Response | None:
    """A synchronous injected fault, as Meta would answer it."""
    if fault is None or fault.mode == "async":
        return None
    if fault.mode == "http":
        status = fault.http_status or 503
        return web.Response(status=status, text=fault.details or "Service Unavailable")
    if fault.code == 190:
        err = expired_token()
        if fault.http_status:
            err.http_status = fault.http_status
        raise err
    raise GraphError(fault.code or 131000, fault.details, http_status=fault.http_status)


# -- messages ------------------------------------------------------------------

@graph
async def post_messages(request: web.Request) -> web.Response:
    sim = sim_of(request)
    check_version(request)
    token = bearer(request)
    number = number_for(request, token)
    fault = sim.state.take_fault(number.phone_number_id, "messages")
    bare = apply_fault(fault)
    if bare is not None:
        return bare
    try:
        body = await request.json()
    except ValueError:
        raise GraphError(100, "The request body is not valid JSON.") from None
    if isinstance(body, dict) and body.get("status") == "read":
        return mark_read(sim, number, body)

    if not sim.throughput.hit(number.phone_number_id):
        raise GraphError(130429, f"Message throughput of {sim.config.throughput_per_second} messages per second "
                                 f"reached for phone number {number.phone_number_id}.")

    def media_exists(media_id: str) -> bool:
        m = sim.state.get_media(media_id)
        return m is not None and m.phone_number_id == number.phone_number_id

    out = validate_message(body, media_exists)
    if out.by_bsuid and (phone := sim.state.phone_of_user_id(out.wa_id)) is not None:
        out = dataclasses.replace(out, wa_id=phone)  # the BSUID of a phone user: their thread
    if out.wa_id == number.display_phone_number:
        raise GraphError(131021, "Sender and recipient phone number is the same.")
    rendered = None
    if out.type == "template":
        name = out.content["name"]
        lang = out.content["language"]["code"]
        template = sim.state.find_template(number.waba_id, name, lang)
        rendered = check_send(template, out.content, name, lang)
        if out.by_bsuid and template is not None and template.category.upper() == "AUTHENTICATION":
            # One-tap, zero-tap and copy-code authentication templates need a phone number.
            raise GraphError(131062)
    if sim.state.settings.window_error == "sync" and not sim.window_allows(number, out):
        raise GraphError(131047)
    if not sim.pair_rate.take((number.phone_number_id, out.wa_id)):
        raise GraphError(131056)
    rec = sim.accept_outbound(number, out, body, rendered,
                              fault if fault is not None and fault.mode == "async" else None)
    message: dict[str, Any] = {"id": rec.wamid}
    if out.type == "template":
        message["message_status"] = "accepted"
    return web.json_response({
        "messaging_product": "whatsapp",
        # A send by BSUID answers `user_id` (and no `wa_id`), one by phone `wa_id`.
        "contacts": [{"input": out.to, "user_id": out.to} if out.by_bsuid else {"input": out.to, "wa_id": out.wa_id}],
        "messages": [message],
    })


def mark_read(sim: Simulator, number: Number, body: dict[str, Any]) -> web.Response:
    """Mark an incoming message as read ("Mark messages as read" guide)."""
    if body.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required and must be \"whatsapp\".")
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise GraphError(131008, "The parameter message_id is required.")
    if "typing_indicator" in body:
        ti = body["typing_indicator"]
        if not isinstance(ti, dict) or ti.get("type") != "text":
            raise GraphError(100, "Param typing_indicator['type'] must be one of {TEXT}.")
    if not sim.business_reads(number, message_id, typing="typing_indicator" in body):
        raise GraphError(100, f"Invalid parameter: message_id {message_id} is not a message received by this number.")
    return web.json_response({"success": True})


# -- media -------------------------------------------------------------------------

@graph
async def post_media(request: web.Request) -> web.Response:
    sim = sim_of(request)
    check_version(request)
    token = bearer(request)
    number = number_for(request, token)
    bare = apply_fault(sim.state.take_fault(number.phone_number_id, "media"))
    if bare is not None:
        return bare
    if not request.content_type.startswith("multipart/"):
        raise GraphError(100, "Media must be uploaded as multipart/form-data with the parameter file.")
    form = await request.post()
    if form.get("messaging_product") != "whatsapp":
        raise GraphError(100, "The parameter messaging_product is required and must be \"whatsapp\".")
    file = form.get("file")
    if file is None or not hasattr(file, "file"):
        raise GraphError(131008, "The parameter file is required.")
    data = file.file.read()
    mime = media_rules.normalize_mime(str(form.get("type") or file.content_type or ""))
    reason = media_rules.check_upload(mime, data)
    if reason is not None:
        code = 100 if media_rules.kind_of(mime) is None else 131053
        raise GraphError(code, reason)
    m = sim.state.add_media(number.phone_number_id, mime, data, media_rules.sha256_hex(data),
                            filename=file.filename, now=sim.clock.now())
    return web.json_response({"id": m.id})


def media_url(request: web.Request, media_id: str, mime: str, sha256: str) -> str:
    ext = media_rules.EXTENSIONS.get(mime, "bin")
    return (f"{request.scheme}://{request.host}/whatsapp_business/attachments/"
            f"?mid={media_id}&ext={ext}&hash={sha256[:22]}")


@graph
async def get_node(request: web.Request) -> web.Response:
    """``GET /{version}/{id}``: a media id, a phone number id or a WABA id."""
    sim = sim_of(request)
    check_version(request)
    token = bearer(request)
    node_id = request.match_info["node_id"]
    m = sim.state.get_media(node_id)
    if m is not None:
        owner = sim.state.get_number(m.phone_number_id)
        if owner is None or not secrets.compare_digest(owner.access_token, token):
            raise unknown_object(node_id, "get")
        pnid = request.query.get("phone_number_id")
        if pnid and pnid != m.phone_number_id:
            raise GraphError(100, f"Media {node_id} was not uploaded on phone number {pnid}.")
        return web.json_response({
            "messaging_product": "whatsapp",
            "url": media_url(request, m.id, m.mime_type, m.sha256),
            "mime_type": m.mime_type,
            "sha256": m.sha256,
            "file_size": m.file_size,
            "id": m.id,
        })
    number = sim.state.get_number(node_id)
    if number is not None and secrets.compare_digest(number.access_token, token):
        return web.json_response(number.graph_node())
    if node_id in sim.state.waba_ids() and sim.state.token_for_waba(token, node_id):
        return web.json_response({"id": node_id, "name": f"WABA {node_id}", "currency": "USD",
                                  "timezone_id": "1", "message_template_namespace": f"ns_{node_id}"})
    raise unknown_object(node_id, "get")


@graph
async def delete_node(request: web.Request) -> web.Response:
    sim = sim_of(request)
    check_version(request)
    token = bearer(request)
    node_id = request.match_info["node_id"]
    m = sim.state.get_media(node_id)
    if m is None:
        raise unknown_object(node_id, "delete")
    owner = sim.state.get_number(m.phone_number_id)
    if owner is None or not secrets.compare_digest(owner.access_token, token):
        raise unknown_object(node_id, "delete")
    pnid = request.query.get("phone_number_id")
    if pnid and pnid != m.phone_number_id:
        raise GraphError(100, f"Media {node_id} was not uploaded on phone number {pnid}.")
    sim.state.delete_media(node_id)
    return web.json_response({"success": True})


@graph
async def download_media(request: web.Request) -> web.StreamResponse:
    """The media URL: needs the same bearer token as the Graph call."""
    sim = sim_of(request)
    token = bearer(request)
    m = sim.state.get_media(request.query.get("mid", ""))
    if m is None:
        return web.Response(status=404, text="Not Found")
    owner = sim.state.get_number(m.phone_number_id)
    if owner is None or not secrets.compare_digest(owner.access_token, token):
        raise invalid_token("Invalid OAuth access token for this media.")
    return web.Response(body=m.data, content_type=m.mime_type,
                        headers={"Content-Disposition": f"attachment; filename={m.filename or m.id}"})


# -- WABA: templates and phone numbers ---------------------------------------------

def waba_for(request: web.Request, token: str, method: str) -> str:
    sim = sim_of(request)
    waba_id = request.match_info["waba_id"]
    if waba_id not in sim.state.waba_ids() or not sim.state.token_for_waba(token, waba_id):
        raise unknown_object(waba_id, method)
    return waba_id


TEMPLATE_PAGE_SIZE = 25  # the Graph API's default page size


def _cursor(i: int) -> str:
    return base64.b64encode(str(i).encode()).decode().rstrip("=")


def _uncursor(cursor: str) -> int:
    try:
        value = int(base64.b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"bad cursor {cursor!r}") from None
    if value < 0:
        raise ValueError(f"bad cursor {cursor!r}")
    return value


@graph
async def get_templates(request: web.Request) -> web.Response:
    sim = sim_of(request)
    check_version(request)
    waba_id = waba_for(request, bearer(request), "get")
    q = request.query
    fields = tuple(f.strip() for f in q["fields"].split(",") if f.strip()) if q.get("fields") else DEFAULT_FIELDS
    unknown_fields = [f for f in fields if f not in ALL_FIELDS]
    if unknown_fields:
        raise GraphError(100, f"(#100) Tried accessing nonexisting field ({unknown_fields[0]}) on node type "
                              "(WhatsAppBusinessHSM)")
    try:
        limit = int(q.get("limit") or TEMPLATE_PAGE_SIZE)
        start = _uncursor(q["after"]) + 1 if q.get("after") else 0
    except ValueError:
        raise GraphError(100, "Invalid parameter: limit must be a positive integer and after a cursor "
                              "from a previous page.") from None
    if not 1 <= limit <= 1000:
        raise GraphError(100, "Invalid parameter: limit must be between 1 and 1000.")
    matching = [t for t in sim.state.list_templates(waba_id)
                if (not q.get("name") or t.name == q["name"])
                and (not q.get("status") or t.status == q["status"].upper())
                and (not q.get("language") or t.language == q["language"])
                and (not q.get("category") or t.category == q["category"].upper())]
    page = matching[start:start + limit]
    body: dict[str, Any] = {"data": [t.public(fields) for t in page]}
    if page:
        last = start + len(page) - 1
        body["paging"] = {"cursors": {"before": _cursor(start), "after": _cursor(last)}}
        if last + 1 < len(matching):  # Meta gives `next` only while more remain
            rel = request.rel_url.update_query({"after": _cursor(last), "limit": str(limit)})
            body["paging"]["next"] = f"{request.scheme}://{request.host}{rel}"
    return web.json_response(body)


@graph
async def post_template(request: web.Request) -> web.Response:
    sim = sim_of(request)
    check_version(request)
    waba_id = waba_for(request, bearer(request), "post")
    try:
        body = await request.json()
    except ValueError:
        raise GraphError(100, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise GraphError(100, "The request body must be a JSON object.")
    name, language, category = body.get("name"), body.get("language"), body.get("category")
    components = components_from_control(body)
    validate_definition(name, language, category, components)
    if sim.state.find_template(waba_id, name, language) is not None:
        raise GraphError(100, f"Content in this language already exists for {name} ({language}).",
                         error_subcode=2388024,
                         extra={"error_user_title": "Message template already exists",
                                "error_user_msg": "There is already English content for this template."})
    status = "APPROVED" if sim.config.template_auto_approve else "PENDING"
    t = sim.state.upsert_template(waba_id, name, language, str(category), status, components)
    return web.json_response({"id": t.id, "status": t.status, "category": t.category})


@graph
async def delete_template(request: web.Request) -> web.Response:
    sim = sim_of(request)
    check_version(request)
    waba_id = waba_for(request, bearer(request), "delete")
    name = request.query.get("name")
    if not name:
        raise GraphError(131008, "The parameter name is required.")
    if not sim.state.delete_template(waba_id, name):
        raise GraphError(100, f"Message template \"{name}\" not found.", error_subcode=2593002)
    return web.json_response({"success": True})


@graph
async def get_phone_numbers(request: web.Request) -> web.Response:
    sim = sim_of(request)
    check_version(request)
    waba_id = waba_for(request, bearer(request), "get")
    return web.json_response({"data": [n.graph_node() for n in sim.state.numbers_of_waba(waba_id)]})


@graph
async def unknown(request: web.Request) -> web.Response:
    raise unknown_path(request.path)


def add_routes(app: web.Application) -> None:
    v = "{version:" + VERSION_RE + "}"
    r = app.router
    r.add_get("/whatsapp_business/attachments/", download_media)
    r.add_post(f"/{v}/{{phone_number_id}}/messages", post_messages)
    r.add_post(f"/{v}/{{phone_number_id}}/media", post_media)
    r.add_get(f"/{v}/{{waba_id}}/message_templates", get_templates)
    r.add_post(f"/{v}/{{waba_id}}/message_templates", post_template)
    r.add_delete(f"/{v}/{{waba_id}}/message_templates", delete_template)
    r.add_get(f"/{v}/{{waba_id}}/phone_numbers", get_phone_numbers)
    r.add_get(f"/{v}/{{node_id}}", get_node)
    r.add_delete(f"/{v}/{{node_id}}", delete_node)
    r.add_route("*", f"/{v}/{{tail:.*}}", unknown)

