"""The manager's pages: reports and the satisfaction survey's settings.

GET /api/reports (JSON, or CSV with ?format=csv): the range is whole days in the
browser's time zone (`tz`, IANA); "today" is the desk's clock in that zone.
GET/PUT /api/admin/csat: the survey after a close (desk.services.csat). Reports: admins and
managers (read-only); the survey's settings: admins.
"""
from __future__ import annotations

from aiohttp import web

from desk.models import utcnow
from desk.services import reports
from desk.services import settings as brand_settings
from desk.web import queries
from desk.web.context import body, endpoint, json_error


@endpoint(admin=True, managers=True)
async def report(request, session, me):
    q = request.query
    tz = q.get("tz") or "UTC"
    try:
        today = utcnow().astimezone(reports.ZoneInfo(tz)).date()
    except (reports.ZoneInfoNotFoundError, ValueError):
        raise json_error(400, f"unknown time zone {tz!r}") from None
    try:
        rng = reports.Range.parse(q.get("start"), q.get("end"), tz, today=today)
    except reports.ReportError as exc:
        raise json_error(400, str(exc)) from None
    department = q.get("department")
    if department and not department.isdigit():
        raise json_error(400, "department must be a number")
    data = await reports.brand_report(session, me.brand_id, rng, phone_number_id=q.get("number") or None,
                                      department_id=int(department) if department else None)
    data["filters"] = {  # what the page's selects offer (managers cannot read the admin pages)
        "numbers": [{"id": n.id, "display": n.display_phone_number} for n, _ in await queries.numbers(session, me.brand_id)],
        "departments": [{"id": d.id, "name": d.name} for d in await queries.departments(session, me.brand_id)]}
    if q.get("format") == "csv":
        name = f"tsunagi-report-{rng.start}-{rng.end}.csv"
        return web.Response(text=reports.to_csv(data), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return web.json_response(data)


def _csat_json(cfg: brand_settings.CsatSettings) -> dict:
    return {**brand_settings.csat_json(cfg), "close_kinds": list(brand_settings.CLOSE_KINDS),
            "max_delay_minutes": brand_settings.CSAT_MAX_DELAY_MINUTES}


@endpoint(admin=True)
async def get_csat(request, session, me):
    return web.json_response(_csat_json((await brand_settings.get(session, me.brand_id)).csat))


@endpoint(admin=True)
async def put_csat(request, session, me):
    cfg = await brand_settings.update(session, me.brand_id, csat=await body(request))
    return web.json_response(_csat_json(cfg.csat))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/reports", report)
    app.router.add_get("/api/admin/csat", get_csat)
    app.router.add_put("/api/admin/csat", put_csat)
