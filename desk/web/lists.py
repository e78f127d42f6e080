"""The console's lists of tickets, leads and contacts, and the bot chats' take over / hand back.

Thin over desk.services.tickets, desk.services.leads and desk.services.takeover.
Brands are tenants here as everywhere: a row of another brand is not found (404),
whoever asks. Within a brand an operator sees the rows of their departments (a
ticket or lead task queued for it; a contact they have a visible chat with), an
admin all of the brand's.

Every list takes `q` (search), `owner` (`me` | `unassigned` | `any`),
`department` (an id) and its own state filter, and returns at most LIMIT rows.
"""
from __future__ import annotations

from aiohttp import web
from sqlalchemy import and_, func, or_, select

from desk import i18n
from desk.billing import templates as billing_templates
from desk.billing.policy import WINDOW
from desk.config import lead_follow_up_after
from desk.models import Chat, ChatState, Contact, Department, Lead, Operator, Role, Ticket, utcnow
from desk.services import leads as lead_service
from desk.services import customer_notices, notices, send_errors, takeover, tickets, variants
from desk.services.routing import numbers_of_brand, of_brand, visible_to
from desk.web import queries
from desk.web.api import chat_detail, chat_or_404
from desk.web.context import LOCALE, body, endpoint, int_param, int_value, json_error
from desk.web.views import contact_json, iso, lead_json, phone, template_json

LIMIT = 200
OWNERS = ("me", "unassigned", "any")


# --- request parsing -------------------------------------------------------------------------

def _choice(request: web.Request, name: str, allowed, default: str) -> str:
    value = (request.query.get(name) or default).strip().lower()
    if value not in allowed:
        raise json_error(400, f"{name} is one of {', '.join(allowed)}, not {value!r}")
    return value


def _search(request: web.Request) -> str | None:
    q = " ".join((request.query.get("q") or "").split())[:100]
    return q or None


def _like(q: str) -> str:
    return "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _department(request: web.Request) -> int | None:
    value = request.query.get("department")
    return int_value(value, "department") if value not in (None, "", "any") else None


def _owner_filter(column, owner: str, me: Operator):
    if owner == "me":
        return column == me.id
    if owner == "unassigned":
        return column.is_(None)
    return None


async def _contact_json(contact: Contact) -> dict:
    return contact_json(contact)


# --- tickets ---------------------------------------------------------------------------------

def ticket_item(t: Ticket, depts: dict, ops: dict, replies: int = 0) -> dict:
    c = t.contact
    return {"id": t.id, "subject": t.subject, "message": t.message, "state": t.state,
            "source": "message" if t.created_by == "bot" else "operator", "created_by": t.created_by,
            "department": {"id": t.department_id, "name": depts.get(t.department_id)} if t.department_id else None,
            "operator": {"id": t.operator_id, "name": ops.get(t.operator_id)} if t.operator_id else None,
            "contact": contact_json(c),
            "created_at": iso(t.created_at), "updated_at": iso(t.updated_at), "closed_at": iso(t.closed_at),
            "closed_by": t.closed_by, "chat_id": t.chat_id, "replies": replies}


@endpoint()
async def ticket_list(request, session, me):
    state = _choice(request, "state", ("open", "closed", "all"), "open")
    owner = _choice(request, "owner", OWNERS, "any")
    query = select(Ticket).join(Contact, Contact.id == Ticket.contact_id).where(tickets.ticket_visible_to(me))
    if state != "all":
        query = query.where(Ticket.state == state)
    if (cond := _owner_filter(Ticket.operator_id, owner, me)) is not None:
        query = query.where(cond)
    if (dept := _department(request)) is not None:
        query = query.where(Ticket.department_id == dept)
    if (q := _search(request)) is not None:
        like = _like(q)
        query = query.where(or_(*(func.lower(col).like(like, escape="\\") for col in (
            Ticket.subject, Ticket.message, Contact.profile_name, Contact.wa_id)),
            Ticket.id == (int(q.lstrip("#")) if q.lstrip("#").isdigit() else -1)))
    # A queue is served oldest first; everything else newest first.
    order = (Ticket.created_at, Ticket.id) if owner == "unassigned" and state == "open" else \
        (Ticket.created_at.desc(), Ticket.id.desc())
    rows = list((await session.execute(query.order_by(*order).limit(LIMIT))).scalars())
    depts = await queries.names(session, Department, [t.department_id for t in rows])
    ops = await queries.names(session, Operator, [t.operator_id for t in rows])
    counts = await _reply_counts(session, [t.id for t in rows])
    return web.json_response({"now": iso(utcnow()), "tickets": [ticket_item(t, depts, ops, counts.get(t.id, 0))
                                                                for t in rows]})


async def _reply_counts(session, ticket_ids):
    from desk.models import TicketReply

    if not ticket_ids:
        return {}
    rows = await session.execute(select(TicketReply.ticket_id, func.count(TicketReply.id))
                                 .where(TicketReply.ticket_id.in_(ticket_ids)).group_by(TicketReply.ticket_id))
    return dict(rows.all())


async def _ticket_or_404(session, me, ticket_id: int) -> Ticket:
    ticket = await tickets.visible_ticket(session, me, ticket_id)
    if ticket is None:
        raise json_error(404, "No such ticket, or it is queued for another department.")
    return ticket


async def _last_user_message_at(session, ticket: Ticket):
    if ticket.phone_number_id is None:
        return None
    return (await session.execute(select(func.max(Chat.last_user_message_at)).where(
        Chat.phone_number_id == ticket.phone_number_id, Chat.contact_id == ticket.contact_id))).scalar_one()


async def ticket_detail(session, me: Operator, ticket: Ticket, locale: str | None = None) -> dict:
    depts = await queries.names(session, Department, [ticket.department_id])
    replies = await tickets.replies(session, ticket.id)
    ops = await queries.names(session, Operator, [ticket.operator_id, *(r.operator_id for r, _ in replies)])
    item = ticket_item(ticket, depts, ops, len(replies))
    last_user = await _last_user_message_at(session, ticket)
    now = utcnow()
    window_open = last_user is not None and now < last_user + WINDOW
    templates = []
    if ticket.phone_number_id is not None:
        templates = [template_json(t) for t in await billing_templates.approved_for_number(session,
                                                                                            ticket.phone_number_id)]
        # The customer's language first (their chat's), then the brand's default (desk.services.variants).
        chat = await session.get(Chat, ticket.chat_id) if ticket.chat_id else None
        first = variants.preference(chat.language if chat is not None else None,
                                    await queries.default_language(session, ticket.brand_id))
        templates = variants.ordered(templates, first, language_of=lambda t: t["language"])
    mine_or_free = ticket.operator_id in (None, me.id) or me.role == Role.admin
    number = await queries.number(session, ticket.phone_number_id) if ticket.phone_number_id else None
    origin = await queries.visible_chat(session, me, ticket.chat_id) if ticket.chat_id else None
    reason = None
    if ticket.state == "closed":
        reason = "This ticket is closed. Reopen it to answer."
    elif not mine_or_free:
        reason = f"{ops.get(ticket.operator_id) or 'A colleague'} has this ticket."
    elif number is None:
        reason = "This ticket has no WhatsApp number to answer from."
    elif not window_open and not templates:
        reason = ("The customer last wrote more than 24 hours ago: only an approved template can be sent, and "
                  "this number has none. An admin registers them under Admin › Templates.")
    item.update({
        "description": ticket.description,
        "number": {"id": number.id, "display": phone(number.display_phone_number)} if number else None,
        "origin_chat": ({"id": origin.id, "state": origin.state.value} if origin is not None else None),
        "replies": [{"id": r.id, "kind": r.kind, "body": r.body, "at": iso(r.created_at), "chat_id": r.chat_id,
                     "operator": ops.get(r.operator_id), "status": m.status if m else None,
                     "error": m.error if m else None,
                     "failure": (send_errors.explain(m.error).as_dict()
                                 if m is not None and m.status == "failed" and m.error else None)}
                    for r, m in replies],
        "composer": {"enabled": reason is None, "reason": i18n.translate(locale, reason) if reason else None,
                     "window_open": window_open,
                     "window_closes_at": iso(last_user + WINDOW) if last_user else None,
                     "templates": templates},
        "actions": {"take": ticket.state == "open" and ticket.operator_id != me.id
                    and (ticket.operator_id is None or me.role == Role.admin),
                    "close": ticket.state == "open" and mine_or_free,
                    "reopen": ticket.state == "closed"},
        "now": iso(now),
    })
    return item


@endpoint()
async def ticket_view(request, session, me):
    ticket = await _ticket_or_404(session, me, int_param(request, "ticket_id"))
    return web.json_response(await ticket_detail(session, me, ticket, request[LOCALE]))


@endpoint()
async def ticket_take(request, session, me):
    ticket = await _ticket_or_404(session, me, int_param(request, "ticket_id"))
    ticket = await tickets.take_ticket(session, ticket.id, me)
    return web.json_response(await ticket_detail(session, me, ticket, request[LOCALE]))


@endpoint(kicks=True)
async def ticket_reply(request, session, me):
    ticket = await _ticket_or_404(session, me, int_param(request, "ticket_id"))
    data = await body(request)
    text, template = data.get("text"), data.get("template")
    if text is not None and not isinstance(text, str):
        raise json_error(400, "text must be a string")
    if template is not None:
        if not isinstance(template, dict):
            raise json_error(400, "template must be an object with name, language and body_params")
        for key in ("body_params", "header_params"):
            if not isinstance(template.get(key) or [], list):
                raise json_error(400, f"template.{key} must be a list of texts")
    reply = await tickets.answer_ticket(session, ticket.id, me, text=text, template=template)
    await session.refresh(ticket)
    return web.json_response({"reply_id": reply.id, "chat_id": reply.chat_id,
                              "ticket": await ticket_detail(session, me, ticket, request[LOCALE])}, status=201)


@endpoint()
async def ticket_close(request, session, me):
    ticket = await _ticket_or_404(session, me, int_param(request, "ticket_id"))
    ticket = await tickets.close_ticket(session, ticket.id, me)
    return web.json_response(await ticket_detail(session, me, ticket, request[LOCALE]))


@endpoint()
async def ticket_reopen(request, session, me):
    ticket = await _ticket_or_404(session, me, int_param(request, "ticket_id"))
    ticket = await tickets.reopen_ticket(session, ticket.id, me)
    return web.json_response(await ticket_detail(session, me, ticket, request[LOCALE]))


# --- leads -----------------------------------------------------------------------------------

def _lead_visible_to(me: Operator):
    """A lead belongs to the brand of its number or chat; an operator sees those queued for
    their departments and those of chats they can see."""
    in_brand = or_(Lead.phone_number_id.in_(numbers_of_brand(me.brand_id)),
                   Lead.chat_id.in_(select(Chat.id).where(of_brand(me.brand_id))))
    if me.role == Role.admin:
        return in_brand
    return and_(in_brand, or_(Lead.department_id.in_([d.id for d in me.departments]),
                              Lead.chat_id.in_(select(Chat.id).where(visible_to(me)))))


def lead_item(lead: Lead, depts: dict, ops: dict) -> dict:
    c = lead.contact
    return {**lead_json(lead, lead_follow_up_after()),
            "task": {"state": lead.task_state, "done_at": iso(lead.task_done_at), "done_by": lead.task_done_by}
            if lead.task_state else None,
            "department": {"id": lead.department_id, "name": depts.get(lead.department_id)}
            if lead.department_id else None,
            "operator": {"id": lead.operator_id, "name": ops.get(lead.operator_id)} if lead.operator_id else None,
            "contact": contact_json(c)}


@endpoint()
async def lead_list(request, session, me):
    task = _choice(request, "task", ("open", "done", "none", "all"), "all")
    owner = _choice(request, "owner", OWNERS, "any")
    crm = _choice(request, "crm", ("pending", "pushed", "failed", "all"), "all")
    query = select(Lead).join(Contact, Contact.id == Lead.contact_id).where(_lead_visible_to(me))
    if task == "none":
        query = query.where(Lead.task_state.is_(None))
    elif task != "all":
        query = query.where(Lead.task_state == task)
    if crm != "all":
        query = query.where(Lead.crm_state == crm)
    if (cond := _owner_filter(Lead.operator_id, owner, me)) is not None:
        query = query.where(cond)
    if (dept := _department(request)) is not None:
        query = query.where(Lead.department_id == dept)
    if (q := _search(request)) is not None:
        like = _like(q)
        query = query.where(or_(*(func.lower(col).like(like, escape="\\") for col in (
            Lead.name, Lead.email, Lead.company, Lead.interest, Lead.phone, Contact.profile_name, Contact.wa_id))))
    order = (Lead.created_at, Lead.id) if owner == "unassigned" and task == "open" else \
        (Lead.created_at.desc(), Lead.id.desc())
    rows = list((await session.execute(query.order_by(*order).limit(LIMIT))).scalars())
    depts = await queries.names(session, Department, [r.department_id for r in rows])
    ops = await queries.names(session, Operator, [r.operator_id for r in rows])
    return web.json_response({"now": iso(utcnow()), "leads": [lead_item(r, depts, ops) for r in rows]})


async def _lead_or_404(session, me, lead_id: int) -> Lead:
    lead = (await session.execute(select(Lead).where(Lead.id == lead_id, _lead_visible_to(me)))).scalar_one_or_none()
    if lead is None:
        raise json_error(404, "No such lead.")
    return lead


async def _lead_response(session, lead: Lead):
    depts = await queries.names(session, Department, [lead.department_id])
    ops = await queries.names(session, Operator, [lead.operator_id])
    return web.json_response(lead_item(lead, depts, ops))


@endpoint()
async def lead_take(request, session, me):
    lead = await _lead_or_404(session, me, int_param(request, "lead_id"))
    return await _lead_response(session, await lead_service.take_task(session, lead, me))


@endpoint()
async def lead_done(request, session, me):
    lead = await _lead_or_404(session, me, int_param(request, "lead_id"))
    return await _lead_response(session, await lead_service.finish_task(session, lead, me, done=True))


@endpoint()
async def lead_reopen(request, session, me):
    lead = await _lead_or_404(session, me, int_param(request, "lead_id"))
    return await _lead_response(session, await lead_service.finish_task(session, lead, me, done=False))


# --- contacts --------------------------------------------------------------------------------

@endpoint()
async def contact_list(request, session, me):
    state = _choice(request, "state", ("all", "live", "bot", "queued", "open", "none"), "all")
    owner = _choice(request, "owner", OWNERS, "any")
    latest = (select(Chat.contact_id, func.max(Chat.id).label("chat_id"), func.count(Chat.id).label("chats"))
              .where(visible_to(me)).group_by(Chat.contact_id).subquery())
    query = (select(Contact, Chat, latest.c.chats).join(latest, latest.c.contact_id == Contact.id)
             .join(Chat, Chat.id == latest.c.chat_id))
    states = {"live": [ChatState.bot, ChatState.waiting, ChatState.unattended, ChatState.open],
              "bot": [ChatState.bot], "queued": [ChatState.waiting, ChatState.unattended],
              "open": [ChatState.open], "none": [ChatState.closed]}
    if state != "all":
        query = query.where(Chat.state.in_(states[state]))
    if (cond := _owner_filter(Chat.operator_id, owner, me)) is not None:
        query = query.where(cond, Chat.state != ChatState.closed) if owner == "me" else query.where(cond)
    if (dept := _department(request)) is not None:
        query = query.where(Chat.department_id == dept)
    if (q := _search(request)) is not None:
        like = _like(q)
        lead_hit = select(Lead.contact_id).where(or_(*(func.lower(col).like(like, escape="\\") for col in (
            Lead.name, Lead.email, Lead.company))), _lead_visible_to(me))
        digits = _like("".join(ch for ch in q if ch.isdigit()) or q)
        query = query.where(or_(func.lower(Contact.profile_name).like(like, escape="\\"),
                                Contact.wa_id.like(digits, escape="\\"), Contact.phone.like(digits, escape="\\"),
                                func.lower(Contact.username).like(_like(q.lstrip("@")), escape="\\"),
                                Contact.id.in_(lead_hit)))
    rows = (await session.execute(query.order_by(Chat.last_activity_at.desc(), Contact.id.desc()).limit(LIMIT))).all()
    ids = [c.id for c, _, _ in rows]
    lead_counts = dict((await session.execute(select(Lead.contact_id, func.count(Lead.id)).where(
        Lead.contact_id.in_(ids), _lead_visible_to(me)).group_by(Lead.contact_id))).all()) if ids else {}
    ticket_counts = dict((await session.execute(select(Ticket.contact_id, func.count(Ticket.id)).where(
        Ticket.contact_id.in_(ids), tickets.ticket_visible_to(me)).group_by(Ticket.contact_id))).all()) if ids else {}
    ops = await queries.names(session, Operator, [chat.operator_id for _, chat, _ in rows])
    depts = await queries.names(session, Department, [chat.department_id for _, chat, _ in rows])
    numbers = {n.id: phone(n.display_phone_number) for n, _ in await queries.numbers(session, me.brand_id)}
    return web.json_response({"now": iso(utcnow()), "contacts": [{
        **await _contact_json(c), "since": iso(c.created_at), "chats": n,
        "leads": lead_counts.get(c.id, 0), "tickets": ticket_counts.get(c.id, 0),
        "last_chat": {"id": chat.id, "state": chat.state.value, "number": numbers.get(chat.phone_number_id),
                      "operator": ops.get(chat.operator_id), "department": depts.get(chat.department_id),
                      "last_activity_at": iso(chat.last_activity_at)},
    } for c, chat, n in rows]})


# --- counts for the navigation ---------------------------------------------------------------

@endpoint()
async def list_counts(request, session, me):
    queued = (await session.execute(select(func.count(Ticket.id)).where(
        tickets.ticket_visible_to(me), Ticket.state == "open", Ticket.operator_id.is_(None)))).scalar_one()
    my_tickets = (await session.execute(select(func.count(Ticket.id)).where(
        tickets.ticket_visible_to(me), Ticket.state == "open", Ticket.operator_id == me.id))).scalar_one()
    lead_tasks = (await session.execute(select(func.count(Lead.id)).where(
        _lead_visible_to(me), Lead.task_state == "open",
        or_(Lead.operator_id.is_(None), Lead.operator_id == me.id)))).scalar_one()
    return web.json_response({"tickets_queued": queued, "tickets_mine": my_tickets, "lead_tasks": lead_tasks})


# --- bot chats: take over, hand back ---------------------------------------------------------

@endpoint()
async def take_over(request, session, me):
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    await takeover.take_over(session, chat.id, me)
    await session.refresh(chat)
    await customer_notices.tell(session, chat, notices.OPERATOR_JOINED)
    return web.json_response(await chat_detail(session, me, chat, request[LOCALE]))


@endpoint()
async def hand_back(request, session, me):
    chat = await chat_or_404(session, me, int_param(request, "chat_id"))
    await takeover.hand_back(session, chat.id, me)
    await session.refresh(chat)
    detail = await chat_detail(session, me, chat, request[LOCALE])
    return web.json_response(detail)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/chats/{chat_id}/take-over", take_over)
    r.add_post("/api/chats/{chat_id}/hand-back", hand_back)
    r.add_get("/api/lists/counts", list_counts)
    r.add_get("/api/tickets", ticket_list)
    r.add_get("/api/tickets/{ticket_id}", ticket_view)
    r.add_post("/api/tickets/{ticket_id}/take", ticket_take)
    r.add_post("/api/tickets/{ticket_id}/reply", ticket_reply)
    r.add_post("/api/tickets/{ticket_id}/close", ticket_close)
    r.add_post("/api/tickets/{ticket_id}/reopen", ticket_reopen)
    r.add_get("/api/leads", lead_list)
    r.add_get("/api/leads/{lead_id}", lead_view)
    r.add_post("/api/leads/{lead_id}/take", lead_take)
    r.add_post("/api/leads/{lead_id}/done", lead_done)
    r.add_post("/api/leads/{lead_id}/reopen", lead_reopen)
    r.add_get("/api/contacts", contact_list)


@endpoint()
async def lead_view(request, session, me):
    return await _lead_response(session, await _lead_or_404(session, me, int_param(request, "lead_id")))
