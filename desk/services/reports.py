"""The manager's figures, computed from the desk's own records.

One pass over the chats opened in the range (a narrow Core SELECT on the
`ix_chats_opened_at` index; a year of a busy brand is ~100k rows, see
bench/bench_reports.py) gives the per-day and per-hour counts in the manager's
time zone, containment, handoff reasons and the response-time percentiles; leads
and billing are summed in SQL. Buckets are made in Python so that SQLite and
PostgreSQL give the same answer in any time zone (their date functions differ).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import (BilledConversation, Chat, ChatState, CreditEntry, Department, Lead, Operator,
                         PhoneNumber)
from desk.services.routing import numbers_of_brand, of_brand

MAX_DAYS = 366
AUTO_CLOSERS = ("timer", "bot")  # closed_by of the unattended/idle timers and the bot's idle rules


class ReportError(ValueError):
    """A range or filter the report cannot use; the message says why."""


@dataclass(frozen=True)
class Range:
    """Whole days, `start` to `end` inclusive, in the time zone `tz`."""

    start: dt.date
    end: dt.date
    tz: ZoneInfo

    @classmethod
    def parse(cls, start: str | None, end: str | None, tz: str | None, *, today: dt.date) -> "Range":
        try:
            zone = ZoneInfo(tz or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise ReportError(f"unknown time zone {tz!r}") from None
        try:
            last = dt.date.fromisoformat(end) if end else today
            first = dt.date.fromisoformat(start) if start else last - dt.timedelta(days=29)
        except ValueError:
            raise ReportError("dates are YYYY-MM-DD") from None
        if first > last:
            raise ReportError("the range starts after it ends")
        if (last - first).days + 1 > MAX_DAYS:
            raise ReportError(f"a report covers at most {MAX_DAYS} days")
        return cls(first, last, zone)

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), self.tz).astimezone(dt.timezone.utc)

    @property
    def until(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), self.tz).astimezone(dt.timezone.utc)

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no data."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _summary(seconds: list[float]) -> dict:
    return {"count": len(seconds),
            "median_s": None if not seconds else round(statistics.median(seconds), 1),
            "p90_s": None if not seconds else round(percentile(seconds, 90), 1)}


async def brand_report(session: AsyncSession, brand_id: int, rng: Range, *,
                       phone_number_id: str | None = None, department_id: int | None = None) -> dict:
    where = [of_brand(brand_id), Chat.opened_at >= rng.since, Chat.opened_at < rng.until]
    if phone_number_id:
        where.append(Chat.phone_number_id == phone_number_id)
    if department_id:
        where.append(Chat.department_id == department_id)
    rows = (await session.execute(select(
        Chat.opened_at, Chat.state, Chat.phone_number_id, Chat.department_id, Chat.operator_id,
        Chat.handed_off_at, Chat.first_response_at, Chat.closed_at, Chat.closed_by,
        Chat.handoff_reason, Chat.was_unattended).where(*where))).all()

    per_day = Counter()
    per_hour = Counter()
    by_number = Counter()
    by_department = Counter()
    reasons = Counter()
    first_response = defaultdict(list)   # ("department"|"operator", id) -> seconds
    resolution = defaultdict(list)
    closed = contained = unattended = auto_closed = handed_off = 0
    for r in rows:
        local = r.opened_at.astimezone(rng.tz)
        per_day[local.date()] += 1
        per_hour[local.hour] += 1
        by_number[r.phone_number_id] += 1
        by_department[r.department_id] += 1
        if r.handed_off_at is not None:
            handed_off += 1
            reasons[(r.handoff_reason.value if r.handoff_reason else "asked")] += 1
        unattended += bool(r.was_unattended)
        if r.state == ChatState.closed:
            closed += 1
            contained += r.handed_off_at is None
            auto_closed += r.closed_by in AUTO_CLOSERS
        if r.handed_off_at is not None and r.first_response_at is not None:
            wait = (r.first_response_at - r.handed_off_at).total_seconds()
            first_response[("department", r.department_id)].append(wait)
            first_response[("operator", r.operator_id)].append(wait)
            first_response[("all", None)].append(wait)
        if r.handed_off_at is not None and r.closed_at is not None:
            took = (r.closed_at - r.handed_off_at).total_seconds()
            resolution[("department", r.department_id)].append(took)
            resolution[("operator", r.operator_id)].append(took)
            resolution[("all", None)].append(took)

    departments = dict((await session.execute(select(Department.id, Department.name)
                                              .where(Department.brand_id == brand_id))).all())
    operators = dict((await session.execute(select(Operator.id, Operator.name)
                                            .where(Operator.brand_id == brand_id))).all())
    numbers = dict((await session.execute(select(PhoneNumber.id, PhoneNumber.display_phone_number)
                                          .where(PhoneNumber.id.in_(list(by_number) or [""])))).all())

    def times(kind: str, names: dict) -> list[dict]:
        keys = {key for (k, key) in list(first_response) + list(resolution) if k == kind}
        out = [{"id": key, "name": names.get(key, "none" if key is None else f"#{key}"),
                "first_response": _summary(first_response.get((kind, key), [])),
                "resolution": _summary(resolution.get((kind, key), []))} for key in keys]
        return sorted(out, key=lambda t: (t["name"] or ""))

    leads_where = [Lead.created_at >= rng.since, Lead.created_at < rng.until,
                   Lead.phone_number_id.in_(_numbers_of(brand_id, phone_number_id))]
    leads_total, leads_pushed = (await session.execute(select(
        func.count(Lead.id), func.coalesce(func.sum(case((Lead.crm_state == "pushed", 1), else_=0)), 0))
        .where(*leads_where))).one()

    conv_where = [BilledConversation.brand_id == brand_id, BilledConversation.state == "open",
                  BilledConversation.opened_at >= rng.since, BilledConversation.opened_at < rng.until]
    if phone_number_id:
        conv_where.append(BilledConversation.phone_number_id == phone_number_id)
    conversations, conv_cost = (await session.execute(select(
        func.count(BilledConversation.id), func.coalesce(func.sum(BilledConversation.cost_micros), 0))
        .where(*conv_where))).one()
    spent = (await session.execute(select(func.coalesce(func.sum(CreditEntry.amount_micros), 0)).where(
        CreditEntry.brand_id == brand_id, CreditEntry.kind == "conversation",
        CreditEntry.created_at >= rng.since, CreditEntry.created_at < rng.until))).scalar_one()

    return {
        "range": {"start": rng.start.isoformat(), "end": rng.end.isoformat(), "tz": rng.tz.key},
        "totals": {
            "chats": len(rows), "closed": closed, "handed_off": handed_off,
            "contained": contained,
            "containment": None if not closed else round(contained / closed, 3),
            "unattended": unattended, "auto_closed": auto_closed,
            "leads": leads_total, "leads_pushed": leads_pushed,
            "conversations": conversations, "conversation_cost_micros": int(conv_cost),
            "credits_spent_micros": -int(spent),
            "first_response": _summary(first_response.get(("all", None), [])),
            "resolution": _summary(resolution.get(("all", None), [])),
        },
        "per_day": [{"date": d.isoformat(), "chats": per_day.get(d, 0)} for d in rng.days()],
        "per_hour": [{"hour": h, "chats": per_hour.get(h, 0)} for h in range(24)],
        "by_number": sorted(({"id": k, "name": numbers.get(k) or k, "chats": v} for k, v in by_number.items()),
                            key=lambda x: -x["chats"]),
        "by_department": sorted(({"id": k, "name": departments.get(k, "bot only" if k is None else f"#{k}"),
                                  "chats": v} for k, v in by_department.items()), key=lambda x: -x["chats"]),
        "handoff_reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "departments": times("department", departments),
        "operators": times("operator", operators),
    }


def _numbers_of(brand_id: int, phone_number_id: str | None):
    query = numbers_of_brand(brand_id)
    return query.where(PhoneNumber.id == phone_number_id) if phone_number_id else query


def to_csv(report: dict) -> str:
    """The report as CSV sections (what a spreadsheet user expects): one table after another."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["report", report["range"]["start"], report["range"]["end"], report["range"]["tz"]])
    w.writerow([])
    w.writerow(["metric", "value"])
    for key, value in report["totals"].items():
        if isinstance(value, dict):
            for sub, v in value.items():
                w.writerow([f"{key}_{sub}", "" if v is None else v])
        else:
            w.writerow([key, "" if value is None else value])
    w.writerow([])
    w.writerow(["date", "chats"])
    for row in report["per_day"]:
        w.writerow([row["date"], row["chats"]])
    w.writerow([])
    w.writerow(["hour", "chats"])
    for row in report["per_hour"]:
        w.writerow([row["hour"], row["chats"]])
    w.writerow([])
    w.writerow(["handoff_reason", "chats"])
    for reason, n in report["handoff_reasons"].items():
        w.writerow([reason, n])
    for kind in ("departments", "operators"):
        w.writerow([])
        w.writerow([kind[:-1], "first_response_median_s", "first_response_p90_s",
                    "resolution_median_s", "resolution_p90_s", "chats"])
        for t in report[kind]:
            w.writerow([t["name"], t["first_response"]["median_s"], t["first_response"]["p90_s"],
                        t["resolution"]["median_s"], t["resolution"]["p90_s"],
                        max(t["first_response"]["count"], t["resolution"]["count"])])
    return out.getvalue()
