"""The manager's reports: GET /api/reports (JSON, or CSV with ?format=csv).

Admins only for now (a read-only manager role is to come). The range is whole days
in the browser's time zone (`tz`, IANA); "today" is the desk's clock in that zone.
"""
from __future__ import annotations

from aiohttp import web

from desk.models import utcnow
from desk.services import reports
from desk.web.context import endpoint, json_error


@endpoint(admin=True)
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
    if q.get("format") == "csv":
        name = f"tsunagi-report-{rng.start}-{rng.end}.csv"
        return web.Response(text=reports.to_csv(data), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return web.json_response(data)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/reports", report)
