"""Admin-only API: WABAs and numbers, departments and operators, timeouts and bot
idle rules, canned responses and tags of the admin's brand.

Everything the admin CLI (desk/cli/admin.py) can change for a brand can be changed
here, through the same services (canned responses: desk.services.canned, tags:
desk.services.tags). Every route needs an admin's console session; the changes
also need the CSRF token (desk.web.app.require_session). Tokens and passwords go
in, never out.
"""
from __future__ import annotations

import re
from decimal import Decimal

from aiohttp import web

from desk.billing import conversations as billing_conversations
from desk.billing import ledger, policy, report
from desk.billing import template_sync
from desk.billing import templates as billing_templates
from desk.models import MessageTemplate, Role, WhatsAppBusinessAccount, utcnow
from desk.services import account_events, business_hours, notices
from desk.services import canned as canned_service
from desk.services import departments as department_service
from desk.services import numbers as number_service
from desk.services import operators as operator_service
from desk.services import settings as brand_settings
from desk.services import tags as tag_service
from desk.web import queries
from desk.web.context import CONSOLE_SESSIONS, body, endpoint, int_param, int_value, json_error
from desk.web.views import canned_json, iso, operator_json, phone, template_json


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    if value is not None and not isinstance(value, (str, int)):
        raise json_error(400, f"{key} must be text")
    return "" if value is None else str(value)


def _number_json(n, w, depts: dict) -> dict:
    return {"id": n.id, "display": phone(n.display_phone_number), "waba": {"id": w.id, "name": w.name},
            "department": depts.get(n.department_id), "department_id": n.department_id,
            "state": n.state.value, "reason": n.state_reason, "state_changed_at": iso(n.state_changed_at),
            "own_token": bool(n.access_token),
            # Meta's view of the number and its account (desk.services.account_events)
            "quality": n.quality_event, "messaging_limit": n.messaging_limit, "quality_at": iso(n.quality_at),
            "account_event": w.account_event, "warning": account_events.number_warning(n)}


@endpoint(admin=True)
async def numbers(request, session, me):
    rows = await queries.numbers(session, me.brand_id)
    depts = {d.id: d.name for d in await queries.departments(session, me.brand_id)}
    return web.json_response([_number_json(n, w, depts) for n, w in rows])


async def _brand_number(session, me, phone_number_id: str):
    number = await queries.number(session, phone_number_id)
    if number is None or number.waba.brand_id != me.brand_id:
        raise json_error(404, "No such number in this brand.")
    return number


@endpoint(admin=True)
async def number_add(request, session, me):
    data = await body(request)
    number = await number_service.add_number(
        session, waba_id=_text(data, "waba_id"), phone_number_id=_text(data, "id"), display=_text(data, "display"),
        department_id=int_value(data.get("department_id"), "department_id"),
        access_token=_text(data, "access_token") or None, brand_id=me.brand_id)
    await session.flush()
    depts = {d.id: d.name for d in await queries.departments(session, me.brand_id)}
    waba = await session.get(WhatsAppBusinessAccount, number.waba_id)
    return web.json_response(_number_json(number, waba, depts), status=201)


@endpoint(admin=True)
async def number_update(request, session, me):
    number = await _brand_number(session, me, request.match_info["number_id"])
    data = await body(request)
    if data.get("department_id") is None:
        raise json_error(400, "Give the department_id the number's chats go to.")
    await number_service.set_department(session, number.id, int_value(data["department_id"], "department_id"))
    depts = {d.id: d.name for d in await queries.departments(session, me.brand_id)}
    return web.json_response(_number_json(number, number.waba, depts))


@endpoint(admin=True)
async def number_reconnect(request, session, me):
    """After the partner access was granted again on Meta's side (or with a new token)."""
    number = await _brand_number(session, me, request.match_info["number_id"])
    data = await body(request, optional=True)
    number, was = await number_service.reconnect(session, number.id, _text(data, "access_token") or None)
    depts = {d.id: d.name for d in await queries.departments(session, me.brand_id)}
    return web.json_response({**_number_json(number, number.waba, depts), "was": was.value})


@endpoint(admin=True)
async def wabas(request, session, me):
    return web.json_response([{"id": w.id, "name": w.name, "numbers": n, "pricing_model": w.pricing_model}
                              for w, n in await queries.wabas(session, me.brand_id)])


@endpoint(admin=True)
async def waba_add(request, session, me):
    data = await body(request)
    waba = await number_service.add_waba(session, me.brand_id, _text(data, "id"), _text(data, "name"))
    return web.json_response({"id": waba.id, "name": waba.name, "numbers": 0,
                              "pricing_model": waba.pricing_model or "conversation"}, status=201)


@endpoint(admin=True)
async def waba_pricing(request, session, me):
    """How Meta bills this WABA: by conversation (the source document) or per message."""
    from desk.billing import per_message

    waba = await session.get(WhatsAppBusinessAccount, request.match_info["waba_id"])
    if waba is None or waba.brand_id != me.brand_id:
        raise json_error(404, "No such WhatsApp Business Account in this brand.")
    try:
        waba = await per_message.set_pricing_model(session, waba.id, _text(await body(request), "pricing_model"))
    except ValueError as exc:
        raise json_error(400, str(exc)) from None
    return web.json_response({"id": waba.id, "name": waba.name, "pricing_model": waba.pricing_model})


def _department_json(dept) -> dict:
    """A department's name and its names per language ({language: name}, the customer's side)."""
    return {"id": dept.id, "name": dept.name, "names": dict(dept.names or {})}


@endpoint(admin=True)
async def department_add(request, session, me):
    """{"name": ..., "names": {language: name}} (names optional: the customer's language)."""
    data = await body(request)
    dept = await department_service.add(session, me.brand_id, _text(data, "name"), data.get("names"))
    await session.flush()
    return web.json_response({**_department_json(dept), "members": []}, status=201)


@endpoint(admin=True)
async def department_rename(request, session, me):
    """A new name; "names" ({language: name}) replaces the names per language, left out keeps them."""
    department_id = int_param(request, "department_id")
    if department_id not in {d.id for d in await queries.departments(session, me.brand_id)}:
        raise json_error(404, "No such department in this brand.")  # an id in the path: not found
    data = await body(request)
    extra = {"names": data.get("names")} if "names" in data else {}
    dept = await department_service.rename(session, me.brand_id, department_id, _text(data, "name"), **extra)
    return web.json_response(_department_json(dept))


def _hours_json(dept, schedules: dict, zone: str, now) -> dict:
    sched = schedules.get(dept.id) or business_hours.parse_schedule(None, zone)
    return {"hours": business_hours.schedule_json(sched), "status": business_hours.status(sched, now).json(zone)}


@endpoint(admin=True)
async def department_hours(request, session, me):
    """A department's business hours and whether it is open now (the desk's clock)."""
    department_id = int_param(request, "department_id")
    depts = {d.id: d for d in await queries.departments(session, me.brand_id)}
    if department_id not in depts:
        raise json_error(404, "No such department in this brand.")
    zone = (await brand_settings.get(session, me.brand_id)).time_zone
    schedules = await business_hours.schedules_of_brand(session, me.brand_id)
    return web.json_response({"id": department_id, "name": depts[department_id].name, "time_zone": zone,
                              **_hours_json(depts[department_id], schedules, zone, utcnow())})


@endpoint(admin=True)
async def department_hours_put(request, session, me):
    """Replace a department's business hours ({"always_open": true} or a schedule;
    see desk.services.business_hours.parse_schedule). 422 with the reason."""
    department_id = int_param(request, "department_id")
    if department_id not in {d.id for d in await queries.departments(session, me.brand_id)}:
        raise json_error(404, "No such department in this brand.")
    data = await body(request)
    try:
        await business_hours.set_schedule(session, me.brand_id, department_id, data)
    except business_hours.BusinessHoursError as exc:  # `field`: where the console shows it
        raise json_error(422, str(exc), field=exc.field) from None
    return await department_hours.__wrapped__(request, session, me)


async def _brand_operator(session, me, operator_id: int):
    op = await queries.operator(session, operator_id)
    if op is None or op.brand_id != me.brand_id:
        raise json_error(404, "No such operator in this brand.")
    return op


async def _department_names(session, me, ids) -> list[str]:
    if not isinstance(ids, list):
        raise json_error(400, "department_ids must be a list")
    by_id = {d.id: d.name for d in await queries.departments(session, me.brand_id)}
    wanted = [int_value(i, "department_ids") for i in ids]
    missing = [i for i in wanted if i not in by_id]
    if missing:
        raise json_error(422, "No such department in this brand.")
    return [by_id[i] for i in wanted]


@endpoint(admin=True)
async def operator_add(request, session, me):
    data = await body(request)
    password = data.get("password")
    if not isinstance(password, str):
        raise json_error(400, "Give the new operator a password.")
    op = await operator_service.create_operator(
        session, brand_id=me.brand_id, email=_text(data, "email"), name=_text(data, "name"), password=password,
        role=_text(data, "role") or Role.operator.value,
        departments=await _department_names(session, me, data.get("department_ids") or []),
        max_concurrent_chats=int_value(data.get("max_chats", 5), "max_chats"))
    await session.flush()
    return web.json_response(operator_json(op, 0), status=201)


@endpoint(admin=True)
async def operator_update(request, session, me):
    """Name, role, departments, capacity, and active (deactivate / reactivate)."""
    op = await _brand_operator(session, me, int_param(request, "operator_id"))
    data = await body(request)
    if data.get("name") is not None:
        await operator_service.set_name(session, op.id, _text(data, "name"))
    if data.get("role") is not None:
        await operator_service.set_role(session, op.id, _text(data, "role"))
    if data.get("department_ids") is not None:
        await operator_service.set_departments(session, op.id,
                                               await _department_names(session, me, data["department_ids"]))
    if data.get("max_chats") is not None:
        await operator_service.set_max_chats(session, op.id, int_value(data["max_chats"], "max_chats"))
    if data.get("active") is not None:
        if data["active"] is True and not op.active:
            await operator_service.reactivate(session, op.id)
        elif data["active"] is False and op.active:
            if op.id == me.id:
                raise json_error(409, "You cannot deactivate your own account.")
            await operator_service.deactivate_keeping_an_admin(session, op.id)
            # Signed out everywhere, in the same transaction.
            await request.app[CONSOLE_SESSIONS].drop_operator(op.id, session)
    await session.flush()
    loads = await queries.open_loads(session, [op.id])
    return web.json_response(operator_json(op, loads.get(op.id, 0)))


@endpoint(admin=True)
async def operator_password(request, session, me):
    op = await _brand_operator(session, me, int_param(request, "operator_id"))
    password = (await body(request)).get("password")
    if not isinstance(password, str):
        raise json_error(400, "Give the new password.")
    await operator_service.set_password(session, op.id, password)
    return web.json_response({"ok": True})


@endpoint(admin=True)
async def team(request, session, me):
    ops = await queries.operators(session, me.brand_id)
    loads = await queries.open_loads(session, [o.id for o in ops])
    members = await queries.department_members(session, me.brand_id)
    names = {o.id: o.name for o in ops}
    zone = (await brand_settings.get(session, me.brand_id)).time_zone
    schedules = await business_hours.schedules_of_brand(session, me.brand_id)
    now = utcnow()  # the console's "open now / closed until", by the desk's clock
    return web.json_response({
        "time_zone": zone,
        "languages": (await queries.brand_languages(session, me.brand_id))["languages"],
        "departments": [{**_department_json(d),
                         "members": sorted(names[i] for i in members.get(d.id, []) if i in names),
                         **_hours_json(d, schedules, zone, now)}
                        for d in await queries.departments(session, me.brand_id)],
        "operators": [operator_json(o, loads.get(o.id, 0)) for o in ops]})


def _settings_json(cfg) -> dict:
    return {"unattended_close_minutes": cfg.unattended_close_minutes,
            "idle_close_minutes": cfg.idle_close_minutes, "bot_enabled": cfg.bot_enabled,
            "bot_idle_rules": [{"after_minutes": s.after_minutes, "action": s.action, "text": s.text}
                               for s in cfg.bot_idle_rules],
            "limits": {"unattended": [brand_settings.UNATTENDED_MIN_MINUTES, brand_settings.UNATTENDED_MAX_MINUTES],
                       "idle": [brand_settings.IDLE_MIN_MINUTES, brand_settings.IDLE_MAX_MINUTES]},
            # What the customer is told (desk.services.customer_notices); "" = not sent.
            "notices": cfg.notices, "notice_defaults": notices.CUSTOMER_DEFAULTS,
            "notice_variables": list(notices.CUSTOMER_VARIABLES)}


@endpoint(admin=True)
async def get_settings(request, session, me):
    return web.json_response(_settings_json(await brand_settings.get(session, me.brand_id)))


@endpoint(admin=True)
async def put_settings(request, session, me):
    data = await body(request)
    values = {}
    for key in ("unattended_close_minutes", "idle_close_minutes"):
        if data.get(key) is not None:
            values[key] = int_value(data[key], key)
    if data.get("bot_enabled") is not None:
        values["bot_enabled"] = bool(data["bot_enabled"])
    if data.get("bot_idle_rules") is not None:
        if not isinstance(data["bot_idle_rules"], list):
            raise json_error(422, "bot_idle_rules must be a list")
        values["bot_idle_rules"] = data["bot_idle_rules"]
    if data.get("notices") is not None:
        if not isinstance(data["notices"], dict):
            raise json_error(422, "notices must be an object of texts")
        values["notices"] = data["notices"]
    cfg = await brand_settings.update(session, me.brand_id, **values)
    return web.json_response(_settings_json(cfg))


@endpoint(admin=True)
async def get_languages(request, session, me):
    from desk.language import LANGUAGES

    return web.json_response({**await queries.brand_languages(session, me.brand_id), "all": list(LANGUAGES)})


@endpoint(admin=True)
async def put_languages(request, session, me):
    """Which languages the brand speaks (the bot and the customer texts), its default, its time zone
    (checked by desk.services.settings: a SettingsError is a 422 with the reason)."""
    from desk.language import LANGUAGES

    data = await body(request)
    zone = data.get("time_zone")
    await brand_settings.update(session, me.brand_id, languages=data.get("languages"),
                                default_language=data.get("default_language"),
                                time_zone=None if zone is None else (zone or "UTC"))
    return web.json_response({**await queries.brand_languages(session, me.brand_id), "all": list(LANGUAGES)})


@endpoint(admin=True)
async def canned_list(request, session, me):
    return web.json_response([canned_json(c) for c in await queries.canned(session, me.brand_id)])


@endpoint(admin=True)
async def canned_create(request, session, me):
    data = await body(request)
    canned = await canned_service.add(session, me.brand_id, data.get("shortcut"), data.get("title"),
                                     data.get("text"), data.get("language"))
    await session.flush()
    return web.json_response(canned_json(canned), status=201)


@endpoint(admin=True)
async def canned_update(request, session, me):
    data = await body(request)
    canned = await canned_service.update(session, me.brand_id, int_param(request, "canned_id"), data.get("shortcut"),
                                         data.get("title"), data.get("text"), data.get("language"))
    if canned is None:
        raise json_error(404, "No such canned response.")
    return web.json_response(canned_json(canned))


@endpoint(admin=True)
async def canned_delete(request, session, me):
    if not await canned_service.delete(session, me.brand_id, int_param(request, "canned_id")):
        raise json_error(404, "No such canned response.")
    return web.json_response({"ok": True})


@endpoint(admin=True)
async def tags_list(request, session, me):
    usage = await queries.tag_usage(session, me.brand_id)
    return web.json_response([{"id": t.id, "name": t.name, "chats": usage.get(t.id, 0)}
                              for t in await queries.tags(session, me.brand_id)])


@endpoint(admin=True)
async def tags_create(request, session, me):
    data = await body(request)
    tag = await tag_service.add(session, me.brand_id, data.get("name"))
    await session.flush()
    return web.json_response({"id": tag.id, "name": tag.name, "chats": 0}, status=201)


@endpoint(admin=True)
async def tags_delete(request, session, me):
    if not await tag_service.delete(session, me.brand_id, int_param(request, "tag_id")):
        raise json_error(404, "No such tag.")
    return web.json_response({"ok": True})


# --- credits and templates (desk.billing) -------------------------------------------------

def _months_back(n: int) -> list[str]:
    now = utcnow()
    year, month, out = now.year, now.month, []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(out))


def _usd(value) -> str:
    return policy.usd(value)


@endpoint(admin=True)
async def credits(request, session, me):
    """Balance, the free tier per WABA this month, the ledger and six months of usage."""
    status = await ledger.status(session, me.brand_id)
    months = _months_back(6)
    usage = []
    for month in months:
        r = await report.monthly_report(session, me.brand_id, month)
        c = r["conversations"]
        usage.append({"month": month, "total": c["total"], "free": c["free"], "paid": c["paid"],
                      "not_billable": c["not_billable"], "cost_usd": _usd(Decimal(c["cost_usd"])),
                      "bought": r["credits"]["bought"], "spent_usd": _usd(Decimal(r["credits"]["spent_usd"]))})
    tiers = [{"waba": {"id": w.id, "name": w.name}, "used": await billing_conversations.tier_used(session, w.id, months[-1]),
              "limit": policy.FREE_TIER_PER_MONTH} for w, _ in await queries.wabas(session, me.brand_id)]
    entries = list(reversed(await ledger.entries(session, me.brand_id)))[:100]
    return web.json_response({
        "balance_usd": _usd(status.balance), "credits": str(status.credits), "low_balance": status.low_balance,
        "low_balance_threshold_usd": _usd(status.low_balance_threshold), "warning": status.warning,
        "price": {"credit_usd": _usd(policy.CREDIT_PRICE_USD), "fee_rate": str(policy.PURCHASE_FEE_RATE)},
        "month": months[-1], "free_tier": tiers, "usage": usage,
        "ledger": [{"id": e.id, "at": iso(e.created_at), "kind": e.kind, "credits": e.credits,
                    "amount_usd": _usd(policy.from_micros(e.amount_micros)),
                    "fee_usd": _usd(policy.from_micros(e.fee_micros or 0)), "note": e.note, "by": e.created_by}
                   for e in entries]})


@endpoint(admin=True)
async def credits_buy(request, session, me):
    """Record a purchase of credits (payment happens outside the desk): USD 2 each + 3%."""
    data = await body(request)
    n = data.get("credits")
    if not isinstance(n, int) or isinstance(n, bool):
        raise json_error(400, "credits must be a whole number")
    purchase = await ledger.buy_credits(session, me.brand_id, n, by=me.email)
    return web.json_response({"credits": purchase.credits, "value_usd": _usd(purchase.value),
                              "fee_usd": _usd(purchase.fee), "total_usd": _usd(purchase.total),
                              "balance_usd": _usd(purchase.balance)}, status=201)


_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_WARNING_USD = re.compile(r"\d{1,7}(\.\d{1,2})?")


@endpoint(admin=True)
async def credits_warning(request, session, me):
    """Set the balance below which admins are warned (USD, in cents; 0 warns only when empty)."""
    data = await body(request)
    raw = data.get("usd")
    text = str(raw).strip() if isinstance(raw, (str, int, float)) and not isinstance(raw, bool) else ""
    if not _WARNING_USD.fullmatch(text):
        raise json_error(422, "Enter the warning level in USD, e.g. 20 or 12.50 (0 or more, at most 2 decimals).")
    await ledger.set_low_balance_threshold(session, me.brand_id, Decimal(text))
    status = await ledger.status(session, me.brand_id)
    return web.json_response({"low_balance_threshold_usd": _usd(status.low_balance_threshold),
                              "low_balance": status.low_balance, "warning": status.warning})


@endpoint(admin=True)
async def credits_report(request, session, me):
    """The month's billing report (desk.billing.report) as a CSV download."""
    month = request.query.get("month", "")
    if not _MONTH.fullmatch(month):
        raise json_error(400, "month must be of the form YYYY-MM, e.g. 2026-11.")
    data = await report.monthly_report(session, me.brand_id, month)
    slug = re.sub(r"[^a-z0-9]+", "-", (data["brand"] or "").lower()).strip("-")[:40] or f"brand-{me.brand_id}"
    return web.Response(body=report.to_csv(data).encode("utf-8"), headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="tsunagi-billing-{slug}-{month}.csv"',
        "Cache-Control": "no-store"})


@endpoint(admin=True)
async def templates_list(request, session, me):
    return web.json_response([template_json(t) for t in await billing_templates.list_templates(session, brand_id=me.brand_id)])


async def _brand_waba(session, me, waba_id: str):
    waba = await session.get(WhatsAppBusinessAccount, str(waba_id or ""))
    if waba is None or waba.brand_id != me.brand_id:
        raise json_error(422, "No such WhatsApp Business Account in this brand.")
    return waba


@endpoint(admin=True)
async def templates_register(request, session, me):
    """Submit a template to Meta for the WABA, and register it with Meta's id and status
    (PENDING until Meta's review arrives as a webhook or a sync). Meta's refusal: 422."""
    data = await body(request)
    waba = await _brand_waba(session, me, _text(data, "waba_id"))
    buttons = data.get("buttons") or []
    if not isinstance(buttons, list):
        raise json_error(400, "buttons must be a list of texts")
    components = billing_templates.components_from(_text(data, "body"), _text(data, "header") or None,
                                           _text(data, "footer") or None, [str(b) for b in buttons if str(b).strip()])
    async with template_sync.meta_from_env() as (graph, default_token):
        t = await template_sync.submit(session, graph, waba_id=waba.id, name=_text(data, "name").strip(),
                                       language=_text(data, "language").strip(),
                                       category=_text(data, "category"), components=components,
                                       default_token=default_token)
    return web.json_response(template_json(t), status=201)


@endpoint(admin=True)
async def templates_sync(request, session, me):
    """Bring the templates of the brand's WABAs (or of `waba_id`) from Meta."""
    data = await body(request, optional=True)
    if data.get("waba_id"):
        wabas = [(await _brand_waba(session, me, _text(data, "waba_id"))).id]
    else:
        wabas = [w.id for w, _ in await queries.wabas(session, me.brand_id)]
    reports = []
    async with template_sync.meta_from_env() as (graph, default_token):
        for waba_id in wabas:
            reports.append((await template_sync.sync_waba(session, graph, waba_id, default_token)).as_dict())
    return web.json_response({"wabas": reports})


@endpoint(admin=True)
async def templates_status(request, session, me):
    """Record Meta's review of a template (APPROVED, REJECTED, ...) as Meta reports it."""
    t = await session.get(MessageTemplate, int_param(request, "template_id"))
    waba = await session.get(WhatsAppBusinessAccount, t.waba_id) if t is not None else None
    if waba is None or waba.brand_id != me.brand_id:
        raise json_error(404, "No such template.")
    data = await body(request)
    t = await billing_templates.set_status(session, waba_id=t.waba_id, name=t.name, language=t.language,
                                   status=_text(data, "status"), reason=_text(data, "reason") or None)
    return web.json_response(template_json(t))


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/admin/numbers", numbers)
    r.add_post("/api/admin/numbers", number_add)
    r.add_put("/api/admin/numbers/{number_id}", number_update)
    r.add_post("/api/admin/numbers/{number_id}/reconnect", number_reconnect)
    r.add_get("/api/admin/wabas", wabas)
    r.add_post("/api/admin/wabas", waba_add)
    r.add_put("/api/admin/wabas/{waba_id}/pricing", waba_pricing)
    r.add_get("/api/admin/team", team)
    r.add_post("/api/admin/departments", department_add)
    r.add_put("/api/admin/departments/{department_id}", department_rename)
    r.add_get("/api/admin/departments/{department_id}/hours", department_hours)
    r.add_put("/api/admin/departments/{department_id}/hours", department_hours_put)
    r.add_post("/api/admin/operators", operator_add)
    r.add_put("/api/admin/operators/{operator_id}", operator_update)
    r.add_put("/api/admin/operators/{operator_id}/password", operator_password)
    r.add_get("/api/admin/settings", get_settings)
    r.add_get("/api/admin/languages", get_languages)
    r.add_put("/api/admin/languages", put_languages)
    r.add_put("/api/admin/settings", put_settings)
    r.add_get("/api/admin/canned", canned_list)
    r.add_post("/api/admin/canned", canned_create)
    r.add_put("/api/admin/canned/{canned_id}", canned_update)
    r.add_delete("/api/admin/canned/{canned_id}", canned_delete)
    r.add_get("/api/admin/credits", credits)
    r.add_post("/api/admin/credits", credits_buy)
    r.add_put("/api/admin/credits/warning", credits_warning)
    r.add_get("/api/admin/credits/report", credits_report)
    r.add_get("/api/admin/templates", templates_list)
    r.add_post("/api/admin/templates", templates_register)
    r.add_post("/api/admin/templates/sync", templates_sync)
    r.add_put("/api/admin/templates/{template_id}/status", templates_status)
    r.add_get("/api/admin/tags", tags_list)
    r.add_post("/api/admin/tags", tags_create)
    r.add_delete("/api/admin/tags/{tag_id}", tags_delete)
