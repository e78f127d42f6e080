"""The console's JSON API: sign-in, inbox lists, chats, transcripts and the operator's actions.

Each handler runs in one session and transaction (desk.web.context.endpoint); a
refusal from a service (RoutingError, CannotSend, ...) becomes a 4xx with the
service's own words, and the transaction is rolled back. After a write that
queues an outbound message or a push, the desk worker is woken (if this process
runs one).
"""
from __future__ import annotations

import asyncio
import logging
import math
import re
import urllib.parse

from aiohttp import web

from desk import i18n
from desk.attachments import RULES, AttachmentRefused, MediaStore, check_content, check_outbound
from desk.billing import conversations as billing
from desk.billing import templates as billing_templates
from desk.config import lead_follow_up_after
from desk.language import LANGUAGES
from desk.models import Brand, ChatState, Department, NumberState, Operator, OperatorStatus, Role, Sender, utcnow
from desk.services import conversations, customer_notices, notes, notices, operators, outbox, routing, tickets
from desk.services import canned as canned_service
from desk.services import variants
from desk.services import tags as tag_service
from desk.services.operators import OperatorError
from desk.services.outbox import CannotSend
from desk.web import auth, queries
from desk.web.context import (ARTICLES, COOKIE_SECURE, CONSOLE_SESSIONS, FEED, LOCALE, SESSIONS, SETTINGS,
                              THROTTLE, body, endpoint, int_param, int_value, json_error, kick_worker, same_origin,
                              signed_in_operator)
from desk.web.events import stream
from desk.web.views import (canned_json, contact_json, iso, lead_json, list_item, message_json, note_json,
                            operator_json, phone, tag_json, template_json)

log = logging.getLogger(__name__)


async def chat_or_404(session, me: Operator, chat_id: int):
    chat = await queries.visible_chat(session, me, chat_id)
    if chat is None:
        raise json_error(404, "No such chat, or it belongs to another department.")
    return chat


# --- what the chat view shows ------------------------------------------------------------

def composer(chat, me: Operator, number, operator_name: str | None) -> dict:
    """Whether `me` can answer now, and if not, why (the same checks as outbox.send_operator_text)."""
    now = utcnow()
    closes = chat.last_user_message_at + outbox.WINDOW if chat.last_user_message_at else None
    base = {"window_open": outbox.window_open(chat, now), "window_closes_at": iso(closes)}
    if chat.state == ChatState.closed:
        by = f" by {chat.closed_by}" if chat.closed_by else ""
        why = f" ({chat.close_reason})" if chat.close_reason else ""
        return {**base, "enabled": False, "kind": "closed",
                "reason": f"This chat was closed{by}{why}. A closed chat cannot be answered."}
    if chat.state == ChatState.bot:
        return {**base, "enabled": False, "kind": "bot",
                "reason": "The bot is handling this chat. Take it over to answer; it comes to the desk by itself "
                          "when the user asks for a person."}
    if chat.state in (ChatState.waiting, ChatState.unattended):
        return {**base, "enabled": False, "kind": "pick", "reason": "Pick this chat to answer it."}
    if chat.operator_id != me.id and me.role != Role.admin:
        return {**base, "enabled": False, "kind": "other",
                "reason": f"{operator_name or 'Another operator'} has this chat: only its operator can answer."}
    if number is not None and number.state == NumberState.disconnected:
        return {**base, "enabled": False, "kind": "disconnected",
                "reason": "This WhatsApp number is disconnected: an admin must reconnect it."}
    if not base["window_open"]:
        return {**base, "enabled": False, "kind": "window",
                "reason": "The user last wrote more than 24 hours ago. Outside WhatsApp's 24-hour window "
                          "only approved templates can be sent."}
    return {**base, "enabled": True, "kind": "ok", "reason": None}


async def composer_now(session, chat, me: Operator, number, operator_name: str | None) -> dict:
    """`composer` plus the billing check: with neither free tier nor credit left, a
    message that would open a paid conversation cannot be sent, and the box says so.
    Outside the window it lists the number's approved templates instead of free text."""
    state = composer(chat, me, number, operator_name)
    if state["kind"] not in ("ok", "window"):
        return state
    template_mode = state["kind"] == "window"
    reason = await billing.check_send(session, phone_number_id=chat.phone_number_id, wa_id=chat.contact.wa_id,
                                      is_template=template_mode)
    if template_mode:
        found = await billing_templates.approved_for_number(session, chat.phone_number_id)
        state["templates"] = [await _priced(session, chat, t) for t in found]
        state["template_reason"] = reason or (None if found else
                                              "No approved templates for this number's WhatsApp Business "
                                              "Account yet: an admin registers them under Admin › Templates.")
        return state
    if reason:
        return {**state, "enabled": False, "kind": "credits",
                "reason": f"Nothing can be sent now: {reason} (this month's free conversations are used up)."}
    # What a reply costs now (per-message pricing, or a conversation it opens), shown by the send button.
    quote = await billing.quote_send(session, phone_number_id=chat.phone_number_id, wa_id=chat.contact.wa_id,
                                     message={"type": "text"})
    state["price"] = quote.json() if quote else None
    # Inside the window too: a send Meta refused as outside it (131047) is answered with a template.
    state["templates"] = [await _priced(session, chat, t) for t in
                          await billing_templates.approved_for_number(session, chat.phone_number_id)]
    state["template_reason"] = None if state["templates"] else (
        "No approved templates for this number's WhatsApp Business Account yet: an admin registers them "
        "under Admin › Templates.")
    return state


async def _priced(session, chat, template) -> dict:
    """A template for the picker, with what sending it now would cost."""
    quote = await billing.quote_send(session, phone_number_id=chat.phone_number_id, wa_id=chat.contact.wa_id,
                                     message={"type": "template", "template": {
                                         "name": template.name, "language": {"code": template.language}}})
    return {**template_json(template), "price": quote.json() if quote else None}


def actions(chat, me: Operator) -> dict:
    mine = chat.operator_id == me.id
    admin = me.role == Role.admin
    live = chat.state in (ChatState.waiting, ChatState.unattended, ChatState.open)
    return {
        "pick": chat.state in (ChatState.waiting, ChatState.unattended),
        "transfer": live and (admin or mine or chat.state != ChatState.open),
        "close": (live and (admin or mine or chat.state != ChatState.open))
        or (admin and chat.state == ChatState.bot),
        "ticket": True,
    }


def takeover_actions(chat, me: Operator, number) -> dict:
    """Take over (a bot chat) and hand back to the bot (a live chat): desk.services.takeover decides again."""
    from desk.services import takeover

    allowed = takeover.may_act_on(me, chat.department_id if chat.department_id is not None
                                  else (number.department_id if number is not None else None))
    with_person = chat.state in (ChatState.waiting, ChatState.unattended, ChatState.open)
    return {"take_over": chat.state == ChatState.bot and allowed,
            "hand_back": with_person and allowed
            and (chat.state != ChatState.open or chat.operator_id == me.id or me.role == Role.admin)}


async def chat_detail(session, me: Operator, chat, locale: str | None = None) -> dict:
    """What the chat view shows; the composer's reasons in the operator's `locale` (desk.i18n)."""
    number = await queries.number(session, chat.phone_number_id)
    depts = await queries.names(session, Department, [chat.department_id])
    ops = await queries.names(session, Operator, [chat.operator_id])
    leads = await queries.leads_of_contact(session, chat.contact_id, me.brand_id)
    tags = await queries.tags_of_chat(session, chat.id)
    after = lead_follow_up_after()
    history = await queries.previous_chats(session, me, chat)
    contact = chat.contact
    brand = await session.get(Brand, await queries.brand_of_chat(session, chat))
    # The customer's language first, then the brand's default (desk.services.variants).
    first = variants.preference(chat.language, await queries.default_language(session, brand.id if brand else None))
    state = await composer_now(session, chat, me, number, ops.get(chat.operator_id))
    if state.get("templates"):
        state["templates"] = variants.ordered(state["templates"], first, language_of=lambda t: t["language"])
    for key in ("reason", "template_reason"):
        if state.get(key):
            state[key] = i18n.translate(locale, state[key])
    return {
        "id": chat.id, "state": chat.state.value,
        "language": chat.language, "languages_first": list(first),
        "contact": {**contact_json(contact), "since": iso(contact.created_at)},
        "number": {"id": number.id, "display": phone(number.display_phone_number), "state": number.state.value}
        if number else None,
        "department": {"id": chat.department_id, "name": depts.get(chat.department_id)}
        if chat.department_id else None,
        "operator": {"id": chat.operator_id, "name": ops.get(chat.operator_id)} if chat.operator_id else None,
        "opened_at": iso(chat.opened_at), "handed_off_at": iso(chat.handed_off_at),
        "assigned_at": iso(chat.assigned_at), "last_activity_at": iso(chat.last_activity_at),
        "last_user_message_at": iso(chat.last_user_message_at),
        "closed_at": iso(chat.closed_at), "closed_by": chat.closed_by, "close_reason": chat.close_reason,
        "tags": [tag_json(t) for t in tags],
        "leads": [lead_json(lead, after) for lead in leads],
        "previous": [{"id": c.id, "state": c.state.value, "opened_at": iso(c.opened_at),
                      "closed_at": iso(c.closed_at)} for c in history],
        "composer": state,
        "actions": {**actions(chat, me), **takeover_actions(chat, me, number)},
        "csat": await _csat_of(session, chat.id),
        "source": _source(await queries.referral_of_chat(session, chat.id)),
        # What {name}, {operator} and {brand} of a canned response become in this chat (desk.services.canned).
        "canned_values": canned_service.variables(customer_name=contact.profile_name, operator_name=me.name,
                                                  brand_name=brand.name if brand else None),
        # ... for a text in each language ({name} without a profile name: "there", "お客").
        "canned_values_by_language": {lang: canned_service.variables(
            customer_name=contact.profile_name, operator_name=me.name, brand_name=brand.name if brand else None,
            language=lang) for lang in LANGUAGES},
        "now": iso(utcnow()),
    }


def _source(referral: dict | None) -> dict | None:
    """Where the customer came from (a click-to-WhatsApp ad or a post), for the side pane."""
    if not referral:
        return None
    return {"type": referral.get("source_type"), "headline": referral.get("headline"),
            "url": referral.get("source_url"), "body": referral.get("body"), "id": referral.get("source_id")}


async def _csat_of(session, chat_id: int) -> dict | None:
    """The chat's satisfaction survey (desk.services.csat), if it had one."""
    from desk.services.csat import SCORES

    survey = await queries.survey_of_chat(session, chat_id)
    if survey is None:
        return None
    return {"state": survey.state, "score": survey.score, "label": SCORES.get(survey.score),
            "comment": survey.comment, "skip_reason": survey.skip_reason, "answered_at": iso(survey.answered_at)}


# --- sign-in -------------------------------------------------------------------------------

def _client_address(request: web.Request) -> str:
    """The client's address for the sign-in throttle: X-Forwarded-For counts only when
    the peer is one of DESK_TRUSTED_PROXIES (desk.web.auth.client_address)."""
    return auth.client_address(request.remote, request.headers.getall("X-Forwarded-For", ()),
                               request.app[SETTINGS].trusted_proxies)


async def login(request: web.Request) -> web.Response:
    if not same_origin(request):
        raise json_error(403, "This request came from another site and was refused.")
    if not auth.same_token(request.cookies.get(auth.LOGIN_CSRF_COOKIE), request.headers.get(auth.CSRF_HEADER)):
        raise json_error(403, "The sign-in form expired: reload the page and try again.")
    data = await body(request)
    email = str(data.get("email") or "").strip().lower()
    password = data.get("password")
    if not email or not isinstance(password, str) or not password:
        raise json_error(400, "Enter your email and password.")
    throttle = request.app[THROTTLE]
    address = _client_address(request)
    # Counted in the database before the password is checked (shared by all console instances).
    attempt, wait = await throttle.reserve(email, address)
    if attempt is None:  # a per-account delay (seconds to minutes) or the per-address limit
        amount, unit = (wait, "second") if wait < 60 else (max(1, math.ceil(wait / 60)), "minute")
        raise json_error(429, f"Too many failed sign-ins. Try again in {amount} {unit}{'s' * (amount != 1)}.",
                         headers={"Retry-After": str(wait)})
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            op = await operators.authenticate(session, email, password)
            if op is not None:
                me = operator_json(op)
    except BaseException:
        await asyncio.shield(throttle.release(attempt))
        raise
    if op is None:
        raise json_error(401, "Wrong email or password.")  # the reserved attempt stays: a failure
    await throttle.succeeded(attempt, email, address)
    # Never keep a token from before sign-in: the old session (if any) is deleted.
    console = await request.app[CONSOLE_SESSIONS].create(op.id, replaces=request.cookies.get(auth.SESSION_COOKIE))
    resp = web.json_response({"ok": True, "me": me})
    resp.set_cookie(auth.SESSION_COOKIE, console.token, httponly=True, samesite="Lax",
                    secure=request.app[COOKIE_SECURE], path="/", max_age=auth.ABSOLUTE_TIMEOUT)
    resp.del_cookie(auth.LOGIN_CSRF_COOKIE, path="/")
    return resp


async def logout(request: web.Request) -> web.Response:
    store = request.app[CONSOLE_SESSIONS]
    console = request["console_session"]
    await store.drop(console.token)
    if not await store.has_operator(console.operator_id):
        await set_offline(request.app, {console.operator_id})
    resp = web.json_response({"ok": True})
    resp.del_cookie(auth.SESSION_COOKIE, path="/")
    return resp


async def set_offline(app: web.Application, operator_ids) -> None:
    """Operators without a console session get no more chats routed to them."""
    async with app[SESSIONS]() as session, session.begin():
        for operator_id in operator_ids:
            try:
                await operators.set_status(session, operator_id, OperatorStatus.offline)
            except OperatorError:
                pass  # deleted meanwhile


@endpoint()
async def me_view(request, session, me):
    console = request["console_session"]
    data = operator_json(me, await routing.open_chats_of(session, me.id))
    data.update(csrf_token=console.csrf, idle_timeout=auth.IDLE_TIMEOUT, absolute_timeout=auth.ABSOLUTE_TIMEOUT)
    # The console's language (the operator's choice; None: the browser's) and the brand's
    # languages and time zone: dates in the console are the brand's local time.
    data.update(await queries.brand_languages(session, me.brand_id), locales=list(i18n.LOCALES))
    return web.json_response(data)


@endpoint()
async def set_locale(request, session, me):
    """The operator's console language (desk.i18n.LOCALES), or null for the browser's."""
    locale = (await body(request)).get("locale")
    if locale is not None and locale not in i18n.LOCALES:
        raise json_error(422, i18n.t(request[LOCALE], "svc.locale_unknown", locales=", ".join(i18n.LOCALES)))
    me.locale = locale
    return web.json_response({"locale": me.locale})


@endpoint()
async def set_status(request, session, me):
    data = await body(request)
    await operators.set_status(session, me.id, data.get("status"))
    assigned = []
    if me.status == OperatorStatus.online:
        await session.flush()
        assigned = await routing.assign_waiting(session)
        await customer_notices.joined(session, assigned)
    return web.json_response({"status": me.status.value, "assigned": assigned})


# --- inbox ---------------------------------------------------------------------------------

@endpoint()
async def counts(request, session, me):
    return web.json_response({**await queries.counts(session, me), "now": iso(utcnow())})


@endpoint()
async def inbox(request, session, me):
    which = request.match_info["list"]
    if which not in queries.LISTS:
        raise json_error(404, f"no list {which!r}")
    chats = await queries.inbox(session, me, which)
    last = await queries.last_messages(session, [c.id for c in chats])
    depts = await queries.names(session, Department, [c.department_id for c in chats])
    ops = await queries.names(session, Operator, [c.operator_id for c in chats])
    return web.json_response({"list": which, "now": iso(utcnow()),
                              "chats": [list_item(c, last.get(c.id), depts, ops) for c in chats]})


@endpoint()
async def chat_view(request, session, me):
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    return web.json_response(await chat_detail(session, me, chat, request[LOCALE]))


@endpoint()
async def transcript(request, session, me):
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    messages = await conversations.transcript(session, chat.id)
    return web.json_response({"chat_id": chat.id, "messages": [message_json(m) for m in messages],
                              "notes": [note_json(n) for n in await notes.of_chat(session, chat.id)]})


@endpoint()
async def add_note(request, session, me):
    """An internal note on the chat, for colleagues: never sent to WhatsApp (desk.services.notes)."""
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    data = await body(request)
    note = await notes.add(session, chat.id, me, data.get("text"))
    return web.json_response({"note": note_json(note)}, status=201)


# Types the browser may show inline: the media WhatsApp itself carries. Anything else
# (SVG, HTML, PDF, unknown) is downloaded, whatever its case or parameters.
INLINE_MEDIA = frozenset({"image/jpeg", "image/png", "image/webp", "video/mp4", "video/3gpp",
                          "audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"})


def media_headers(mime: str | None, filename: str | None, fallback: str) -> dict:
    """Content-Type/Disposition for stored media: normalised type, allow-listed inline, RFC 6266 names."""
    kind = (mime or "").split(";")[0].strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", kind):
        kind = "application/octet-stream"
    disposition = "inline" if kind in INLINE_MEDIA else "attachment"
    name = re.sub(r'[\x00-\x1f\x7f"\\/]', "", filename or "").strip() or fallback
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    value = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{urllib.parse.quote(name, safe='')}"
    # no-store: a customer's photo must not stay in the browser's cache after sign-out.
    return {"Content-Type": kind, "Content-Disposition": value, "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox", "Cache-Control": "no-store"}


async def media(request: web.Request) -> web.StreamResponse:
    """A message's media, by message id (two uploads of the same bytes keep their own names)."""
    message_id = int_param(request, "message_id")
    console = request["console_session"]
    async with request.app[SESSIONS]() as session:
        me = await queries.operator(session, console.operator_id)
        ref = await queries.media_visible(session, me, message_id) if me is not None and me.active else None
    if ref is None:
        raise json_error(404, "No such file.")
    try:
        path = MediaStore(request.app[SETTINGS].media_dir).path_for(ref.sha256)
    except ValueError:
        raise json_error(404, "No such file.") from None
    if not path.is_file():
        raise json_error(404, "No such file.")
    return web.FileResponse(path, headers=media_headers(ref.mime, ref.filename, f"message-{message_id}"))


async def events(request: web.Request) -> web.StreamResponse:
    token = request["console_session"].token
    operator_id = request["console_session"].operator_id
    store = request.app[CONSOLE_SESSIONS]

    async def beat() -> None:  # presence follows this live connection
        async with request.app[SESSIONS]() as session, session.begin():
            await operators.seen(session, operator_id, utcnow())

    return await stream(request, request.app[FEED], lambda: store.valid(token),  # an awaitable
                        beat=beat, beat_every=operators.PRESENCE_BEAT)


# --- actions -------------------------------------------------------------------------------

@endpoint()
async def pick(request, session, me):
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    await routing.pick(session, chat.id, me)
    await session.refresh(chat)
    await customer_notices.tell(session, chat, notices.OPERATOR_JOINED)
    return web.json_response(await chat_detail(session, me, chat, request[LOCALE]))


# The canned-response trigger with nothing chosen ("/", "/cou"): never sent to the customer
# (the page refuses it too: console.js LONE_SLASH).
LONE_SHORTCUT = re.compile(r"/[\w-]*")


@endpoint(kicks=True)
async def reply(request, session, me):
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    data = await body(request)
    text = data.get("text")
    if not isinstance(text, str):
        raise json_error(400, "text must be a string")
    if LONE_SHORTCUT.fullmatch(text.strip()):
        raise json_error(400, "Nothing was sent: a lone \"/\" (or /shortcut) only opens the canned responses. "
                              "Choose one from the list, or type your reply.")
    msg = await outbox.send_operator_text(session, chat.id, me, text)
    return web.json_response({"message": message_json(msg)}, status=201)


@endpoint(kicks=True)
async def retry(request, session, me):
    """Send a failed operator message again through the outbox (desk.services.outbox.retry_failed):
    only a failed one, only by someone who may answer this chat now (409 with the reason)."""
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    msg = await outbox.retry_failed(session, chat.id, int_param(request, "message_id"), me)
    return web.json_response({"message": message_json(msg)})


def _clean_filename(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[-255:] or "file"


async def attach(request: web.Request) -> web.Response:
    """An operator's attachment: refused by name, type and size before it is read, by
    content after; kept in the media store and queued (the worker uploads it to the
    number and sends the media message: desk.services.outbox.send_operator_media)."""
    chat_id = int_param(request, "chat_id")
    async with request.app[SESSIONS]() as session:  # short: no transaction while the file arrives
        me = await signed_in_operator(request, session)
        chat = await chat_or_404(session, me, chat_id)
        state = await composer_now(session, chat, me, await queries.number(session, chat.phone_number_id), None)
    if not state["enabled"]:
        raise json_error(409, state["reason"])
    if not request.content_type.startswith("multipart/"):
        raise json_error(400, "Send the file as multipart/form-data.")
    reader = await request.multipart()
    caption, part = None, await reader.next()
    while part is not None and part.name != "file":
        if part.name == "caption":
            caption = (await part.text())[:4096]
        part = await reader.next()
    if part is None or not part.filename:
        raise json_error(400, "No file in the request.")
    filename = _clean_filename(part.filename)
    declared = request.headers.get("X-File-Size")
    mime = part.headers.get("Content-Type")
    if mime and mime.split(";")[0].strip().lower() == "application/octet-stream":
        mime = None  # the browser does not know the type: judge by the name
    try:
        # Refused by name, type and declared size before the body is read.
        rule = check_outbound(filename, int(declared) if declared and declared.isdigit() and int(declared) > 0
                              else 1, mime)
        chunks, size = [], 0
        while chunk := await part.read_chunk(256 * 1024):
            size += len(chunk)
            if size > rule.max_bytes:
                break
            chunks.append(chunk)
        rule = check_outbound(filename, size, mime)
        data = b"".join(chunks)
        stored_mime = check_content(filename, data)
    except AttachmentRefused as exc:
        raise json_error(422, str(exc)) from None
    stored = await asyncio.to_thread(MediaStore(request.app[SETTINGS].media_dir).save, data, stored_mime)
    async with request.app[SESSIONS]() as session, session.begin():
        me = await signed_in_operator(request, session)
        chat = await chat_or_404(session, me, chat_id)
        try:
            msg = await outbox.send_operator_media(session, chat.id, me, stored, kind=rule.kind,
                                                   filename=filename, caption=caption)
        except CannotSend as exc:
            raise json_error(409, str(exc)) from None
        item = message_json(msg)
    kick_worker(request.app)
    return web.json_response({"message": item}, status=201)


@endpoint(kicks=True)
async def send_template(request, session, me):
    """An approved template, e.g. outside the 24-hour window where free text cannot go."""
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    state = composer(chat, me, await queries.number(session, chat.phone_number_id), None)
    if state["kind"] not in ("ok", "window"):
        raise json_error(409, state["reason"])
    data = await body(request)
    params = {}
    for key in ("body_params", "header_params"):
        value = data.get(key) or []
        if not isinstance(value, list):
            raise json_error(400, f"{key} must be a list of texts")
        params[key] = value
    name, language = str(data.get("name") or ""), str(data.get("language") or "")
    if not language:  # sent by name: the variant in the language the user last wrote in, when there is one
        first = variants.preference(chat.language, await queries.default_language(
            session, await queries.brand_of_chat(session, chat)))
        chosen = variants.choose_template(await billing_templates.approved_for_number(session, chat.phone_number_id),
                                          name, first)
        language = chosen.language if chosen is not None else ""
    msg = await billing_templates.send_template(
        session, phone_number_id=chat.phone_number_id, wa_id=chat.contact.wa_id, name=name,
        language=language, sender=Sender.operator, by=me.email, **params)
    return web.json_response({"message": message_json(msg)}, status=201)


@endpoint()
async def transfer(request, session, me):
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    if not actions(chat, me)["transfer"]:
        raise json_error(409, "Only the chat's operator or an admin can transfer it.")
    data = await body(request)
    brand_id = await queries.brand_of_chat(session, chat)
    if data.get("operator_id") is not None:
        target = await queries.operator(session, int_value(data["operator_id"], "operator_id"))
        if target is None or target.brand_id != brand_id:
            raise json_error(404, "No such operator in this brand.")
        if target.id == chat.operator_id and chat.state == ChatState.open:
            raise json_error(409, f"{target.name} already has this chat.")
        dept_ids = [d.id for d in target.departments]
        to_dept = None
        if target.role != Role.admin and chat.department_id not in dept_ids:
            if not dept_ids:
                raise json_error(409, f"{target.name} is in no department and could not see this chat.")
            to_dept = dept_ids[0]  # so that the operator can see the chat
        result = await routing.transfer(session, chat.id, to_operator=target, to_department_id=to_dept)
    elif data.get("department_id") is not None:
        dept_id = int_value(data["department_id"], "department_id")
        depts = {d.id for d in await queries.departments(session, brand_id)}
        if dept_id not in depts:
            raise json_error(404, "No such department in this brand.")
        result = await routing.transfer(session, chat.id, to_department_id=dept_id)
    else:
        raise json_error(400, "Transfer to an operator (operator_id) or a department (department_id).")
    await session.flush()
    await session.refresh(chat)
    await customer_notices.tell(session, chat, notices.OPERATOR_JOINED if chat.state == ChatState.open
                                else notices.TRANSFERRED)
    return web.json_response({"state": result.state.value, "operator": result.operator_name,
                              "position": result.position, "visible": (await queries.visible_chat(
                                  session, me, chat.id)) is not None})


@endpoint()
async def close(request, session, me):
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    if chat.state == ChatState.closed:
        raise json_error(409, "This chat is already closed.")
    if not actions(chat, me)["close"]:
        raise json_error(409, "Only the chat's operator or an admin can close it.")
    data = await body(request, optional=True)
    reason = " ".join(str(data.get("reason") or "").split())[:500] or "closed by the operator"
    if not await routing.close(session, chat.id, by=me.email, reason=reason):
        raise json_error(409, "This chat is already closed.")
    await session.refresh(chat)
    await customer_notices.tell(session, chat, notices.CLOSED_BY_OPERATOR)
    return web.json_response(await chat_detail(session, me, chat, request[LOCALE]))


@endpoint()
async def add_tag(request, session, me):
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    data = await body(request)
    brand_id = await queries.brand_of_chat(session, chat)
    tags = await queries.tags(session, brand_id)
    tag = None
    if data.get("tag_id") is not None:
        tag_id = int_value(data["tag_id"], "tag_id")
        tag = next((t for t in tags if t.id == tag_id), None)
    elif data.get("name"):
        name = " ".join(str(data["name"]).split())
        tag = next((t for t in tags if t.name.lower() == name.lower()), None)
        if tag is None and me.role == Role.admin:
            tag = await tag_service.add(session, brand_id, name)
            await session.flush()
    if tag is None:
        raise json_error(422, "No such tag: an admin can add it under Admin › Tags.")
    await tag_service.tag_chat(session, chat.id, tag)
    return web.json_response({"tags": [tag_json(t) for t in await queries.tags_of_chat(session, chat.id)]})


@endpoint()
async def remove_tag(request, session, me):
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    await tag_service.untag_chat(session, chat.id, int_param(request, "tag_id"))
    return web.json_response({"tags": [tag_json(t) for t in await queries.tags_of_chat(session, chat.id)]})


@endpoint(kicks=True)
async def push_lead(request, session, me):
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    lead = await queries.lead(session, int_param(request, "lead_id"), me.brand_id)
    if lead is None or lead.contact_id != chat.contact_id:
        raise json_error(404, "No such lead for this contact.")
    job = await tickets.enqueue_lead_push(session, lead.id)
    if job is None:
        raise json_error(409, "No CRM is configured (CRM_ADAPTER is none): the lead was not pushed.")
    state = getattr(job.state, "value", job.state)
    return web.json_response({"lead": lead_json(lead, lead_follow_up_after()), "job": {"id": job.id, "adapter": job.adapter,
                                                               "state": state}}, status=202)


@endpoint(kicks=True)
async def create_ticket(request, session, me):
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    data = await body(request, optional=True)
    subject = data.get("subject") if isinstance(data.get("subject"), str) else None
    ticket = await tickets.create_ticket_from_chat(session, chat.id, me.email, subject or None)
    return web.json_response({"id": ticket.id, "subject": ticket.subject}, status=201)


# --- lookups for the reply box and dialogs -------------------------------------------------

@endpoint()
async def canned(request, session, me):
    return web.json_response([canned_json(c) for c in await queries.canned(session, me.brand_id)])


async def articles(request: web.Request) -> web.Response:
    return web.json_response(request.app[ARTICLES])


async def attachment_rules(request: web.Request) -> web.Response:
    """The product's attachment rules (desk.attachments.RULES), for the page's own pre-upload check."""
    return web.json_response([{"kind": r.kind, "max_bytes": r.max_bytes, "extensions": sorted(r.extensions),
                               "mime_types": sorted(r.mime_types)} for r in RULES])


@endpoint()
async def tag_list(request, session, me):
    return web.json_response([tag_json(t) for t in await queries.tags(session, me.brand_id)])


@endpoint()
async def directory(request, session, me):
    """Departments (with whether each is open now: business hours, by the desk's clock) and
    active operators of the brand, for transfers."""
    from desk.services import business_hours

    ops = [o for o in await queries.operators(session, me.brand_id) if o.active]
    loads = await queries.open_loads(session, [o.id for o in ops])
    hours = await business_hours.statuses_of_brand(session, me.brand_id, utcnow())
    return web.json_response({
        "departments": [{"id": d.id, "name": d.name, "status": hours.get(d.id)}
                        for d in await queries.departments(session, me.brand_id)],
        "operators": [operator_json(o, loads.get(o.id, 0)) for o in ops]})


TYPING = web.AppKey("typing_throttle", object)  # desk.services.typing.Throttle of this app


@endpoint()
async def typing(request, session, me):
    """The operator is writing to the customer: show "typing…" on their phone (best effort:
    a refusal from Meta is logged, never an error for the operator)."""
    from cloudapi.graph import GraphError
    from desk.billing import template_sync
    from desk.services import numbers, typing as typing_service

    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    if chat.operator_id != me.id:
        return web.json_response({"shown": False, "why": "not your chat"})
    wamid = await typing_service.latest_customer_message(session, chat)
    if wamid is None or not request.app[TYPING].allow(chat.id):
        return web.json_response({"shown": False})
    async with template_sync.meta_from_env() as (graph, default_token):
        creds = await numbers.credentials_for(session, chat.phone_number_id, default_token)
        try:
            await graph.mark_read(chat.phone_number_id, creds.access_token, wamid, typing=True)
        except GraphError as exc:
            log.info("typing indicator for chat %s refused by Meta: %s", chat.id, exc)
            return web.json_response({"shown": False})
    return web.json_response({"shown": True})


def add_routes(app: web.Application) -> None:
    from desk.services.typing import Throttle

    app[TYPING] = Throttle()
    r = app.router
    r.add_post("/api/login", login)
    r.add_post("/api/logout", logout)
    r.add_get("/api/me", me_view)
    r.add_put("/api/me/status", set_status)
    r.add_put("/api/me/locale", set_locale)
    r.add_get("/api/events", events)
    r.add_get("/api/counts", counts)
    r.add_get("/api/inbox/{list}", inbox)
    r.add_get("/api/chats/{chat_id}", chat_view)
    r.add_get("/api/chats/{chat_id}/messages", transcript)
    r.add_post("/api/chats/{chat_id}/notes", add_note)
    r.add_post("/api/chats/{chat_id}/pick", pick)
    r.add_post("/api/chats/{chat_id}/reply", reply)
    r.add_post("/api/chats/{chat_id}/typing", typing)
    r.add_post("/api/chats/{chat_id}/messages/{message_id}/retry", retry)
    r.add_post("/api/chats/{chat_id}/attachments", attach)
    r.add_post("/api/chats/{chat_id}/template", send_template)
    r.add_post("/api/chats/{chat_id}/transfer", transfer)
    r.add_post("/api/chats/{chat_id}/close", close)
    r.add_post("/api/chats/{chat_id}/tags", add_tag)
    r.add_delete("/api/chats/{chat_id}/tags/{tag_id}", remove_tag)
    r.add_post("/api/chats/{chat_id}/leads/{lead_id}/push", push_lead)
    r.add_post("/api/chats/{chat_id}/ticket", create_ticket)
    r.add_get("/api/messages/{message_id}/media", media)
    r.add_get("/api/canned", canned)
    r.add_get("/api/articles", articles)
    r.add_get("/api/attachment-rules", attachment_rules)
    r.add_get("/api/tags", tag_list)
    r.add_get("/api/directory", directory)
