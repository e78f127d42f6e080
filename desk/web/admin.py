"""Admin-only API: numbers, team, timeouts, canned responses and tags of the admin's brand."""
from __future__ import annotations

from aiohttp import web

from desk.services import settings as brand_settings
from desk.web import queries, writes
from desk.web.api import _int, body, endpoint, int_param, iso, json_error, operator_json


@endpoint(admin=True)
async def numbers(request, session, me):
    rows = await queries.numbers(session, me.brand_id)
    depts = {d.id: d.name for d in await queries.departments(session, me.brand_id)}
    return web.json_response([{
        "id": n.id, "display": n.display_phone_number, "waba": {"id": w.id, "name": w.name},
        "department": depts.get(n.department_id), "state": n.state.value, "reason": n.state_reason,
        "state_changed_at": iso(n.state_changed_at), "own_token": bool(n.access_token)} for n, w in rows])


@endpoint(admin=True)
async def team(request, session, me):
    ops = await queries.operators(session, me.brand_id)
    loads = await queries.open_loads(session, [o.id for o in ops])
    members = await queries.department_members(session, me.brand_id)
    names = {o.id: o.name for o in ops}
    return web.json_response({
        "departments": [{"id": d.id, "name": d.name,
                         "members": sorted(names[i] for i in members.get(d.id, []) if i in names)}
                        for d in await queries.departments(session, me.brand_id)],
        "operators": [operator_json(o, loads.get(o.id, 0)) for o in ops]})


def _settings_json(cfg) -> dict:
    return {"unattended_close_minutes": cfg.unattended_close_minutes,
            "idle_close_minutes": cfg.idle_close_minutes, "bot_enabled": cfg.bot_enabled,
            "bot_idle_rules": [{"after_minutes": s.after_minutes, "action": s.action, "text": s.text}
                               for s in cfg.bot_idle_rules],
            "limits": {"unattended": [brand_settings.UNATTENDED_MIN_MINUTES, brand_settings.UNATTENDED_MAX_MINUTES],
                       "idle": [brand_settings.IDLE_MIN_MINUTES, brand_settings.IDLE_MAX_MINUTES]}}


@endpoint(admin=True)
async def get_settings(request, session, me):
    return web.json_response(_settings_json(await brand_settings.get(session, me.brand_id)))


@endpoint(admin=True)
async def put_settings(request, session, me):
    data = await body(request)
    values = {}
    for key in ("unattended_close_minutes", "idle_close_minutes"):
        if data.get(key) is not None:
            values[key] = _int(data[key], key)
    if data.get("bot_enabled") is not None:
        values["bot_enabled"] = bool(data["bot_enabled"])
    if data.get("bot_idle_rules") is not None:
        if not isinstance(data["bot_idle_rules"], list):
            raise json_error(422, "bot_idle_rules must be a list")
        values["bot_idle_rules"] = data["bot_idle_rules"]
    cfg = await brand_settings.update(session, me.brand_id, **values)
    return web.json_response(_settings_json(cfg))


def _canned_json(c) -> dict:
    return {"id": c.id, "shortcut": c.shortcut, "title": c.title, "text": c.text}


@endpoint(admin=True)
async def canned_list(request, session, me):
    return web.json_response([_canned_json(c) for c in await queries.canned(session, me.brand_id)])


@endpoint(admin=True)
async def canned_create(request, session, me):
    data = await body(request)
    canned = await writes.create_canned(session, me.brand_id, data.get("shortcut"), data.get("title"),
                                        data.get("text"))
    await session.flush()
    return web.json_response(_canned_json(canned), status=201)


@endpoint(admin=True)
async def canned_delete(request, session, me):
    if not await writes.delete_canned(session, me.brand_id, int_param(request, "canned_id")):
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
    tag = await writes.create_tag(session, me.brand_id, data.get("name"))
    await session.flush()
    return web.json_response({"id": tag.id, "name": tag.name, "chats": 0}, status=201)


@endpoint(admin=True)
async def tags_delete(request, session, me):
    if not await writes.delete_tag(session, me.brand_id, int_param(request, "tag_id")):
        raise json_error(404, "No such tag.")
    return web.json_response({"ok": True})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/admin/numbers", numbers)
    r.add_get("/api/admin/team", team)
    r.add_get("/api/admin/settings", get_settings)
    r.add_put("/api/admin/settings", put_settings)
    r.add_get("/api/admin/canned", canned_list)
    r.add_post("/api/admin/canned", canned_create)
    r.add_delete("/api/admin/canned/{canned_id}", canned_delete)
    r.add_get("/api/admin/tags", tags_list)
    r.add_post("/api/admin/tags", tags_create)
    r.add_delete("/api/admin/tags/{tag_id}", tags_delete)
