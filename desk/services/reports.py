"""The manager's figures, computed from the desk's own records.

Three GROUP BY queries over the chats opened in the range (the `ix_chats_opened_at`
index; a year of a busy brand is ~100k chats, see bench/bench_reports.py): counts
per UTC quarter hour (folded into the manager's local days and hours in Python,
so SQLite and PostgreSQL agree in any time zone), counts by the chat's facts
(number, department, reason, closed, with a person, auto-closed, unattended), and
the durations of the chats a person had, for medians and p90s. Leads and billing
are summed in SQL.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Integer, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import (BilledConversation, Chat, ChatState, CreditEntry, CsatSurvey, Department, Lead,
                         Operator, PhoneNumber)
from desk.services.csat import score_summary
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


def _quarter_hour(column, dialect: str):
    """SQL: the UTC hour of a timestamp as text 'YYYY-MM-DD HH', and its quarter (0-3).
    Every time zone's offset is a multiple of 15 minutes, so these buckets map exactly
    onto the manager's local days and hours (in Python: SQLite knows no time zones)."""
    if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (desk.models.Utc)
        return func.substr(column, 1, 13), func.cast(func.substr(column, 15, 2), Integer) / 15
    utc = column.op("AT TIME ZONE")(literal_column("'UTC'"))
    return (func.to_char(utc, literal_column("'YYYY-MM-DD HH24'")),
            func.cast(func.floor(func.extract("minute", utc) / literal_column("15")), Integer))


def _seconds_between(later, earlier, dialect: str):
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


async def brand_report(session: AsyncSession, brand_id: int, rng: Range, *,
                       phone_number_id: str | None = None, department_id: int | None = None) -> dict:
    dialect = session.bind.dialect.name
    where = [of_brand(brand_id), Chat.opened_at >= rng.since, Chat.opened_at < rng.until]
    if phone_number_id:
        where.append(Chat.phone_number_id == phone_number_id)
    if department_id:
        where.append(Chat.department_id == department_id)

    # 1. When: chats per UTC quarter hour, folded into local days and hours here.
    per_day = Counter()
    per_hour = Counter()
    hour, quarter = _quarter_hour(Chat.opened_at, dialect)
    for when, q, n in (await session.execute(select(hour.label("r_hour"), quarter.label("r_quarter"), func.count())
                                             .where(*where).group_by(literal_column("r_hour"),
                                                                     literal_column("r_quarter")))).all():
        local = (dt.datetime.fromisoformat(f"{when}:00").replace(tzinfo=dt.timezone.utc)
                 + dt.timedelta(minutes=15 * q)).astimezone(rng.tz)
        per_day[local.date()] += n
        per_hour[local.hour] += n

    # 2. What: one GROUP BY over the chat's facts gives every count.
    # (grouped by the labels: PostgreSQL does not match the bound parameters of a repeated expression)
    computed = (Chat.state == ChatState.closed).label("r_closed"), \
        Chat.handed_off_at.isnot(None).label("r_with_person"), Chat.closed_by.in_(AUTO_CLOSERS).label("r_auto")
    plain = (Chat.phone_number_id, Chat.department_id, Chat.handoff_reason)
    facts = (*plain, *computed, Chat.was_unattended)
    by_number = Counter()
    by_department = Counter()
    reasons = Counter()
    total = closed = contained = unattended = auto_closed = handed_off = 0
    for number, dept, reason, is_closed, person, by_timer, was_unattended, n in (await session.execute(
            select(*facts, func.count()).where(*where).group_by(
                *plain, *(literal_column(c.name) for c in computed), Chat.was_unattended))).all():
        total += n
        by_number[number] += n
        by_department[dept] += n
        if person:
            handed_off += n
            reasons[reason.value if reason else "asked"] += n
        unattended += n if was_unattended else 0
        if is_closed:
            closed += n
            contained += 0 if person else n
            auto_closed += n if by_timer else 0

    # 3. How fast: the durations of the chats a person had (about a fifth), for percentiles.
    first_response = defaultdict(list)   # ("department"|"operator"|"all", id) -> seconds
    resolution = defaultdict(list)
    for dept, operator, wait, took in (await session.execute(select(
            Chat.department_id, Chat.operator_id,
            _seconds_between(Chat.first_response_at, Chat.handed_off_at, dialect),
            _seconds_between(Chat.closed_at, Chat.handed_off_at, dialect))
            .where(*where, Chat.handed_off_at.isnot(None)))).all():
        for key in (("department", dept), ("operator", operator), ("all", None)):
            if wait is not None:
                first_response[key].append(float(wait))
            if took is not None:
                resolution[key].append(float(took))

    departments = dict((await session.execute(select(Department.id, Department.name)
                                              .where(Department.brand_id == brand_id))).all())
    operators = dict((await session.execute(select(Operator.id, Operator.name)
                                            .where(Operator.brand_id == brand_id))).all())
    numbers = dict((await session.execute(select(PhoneNumber.id, PhoneNumber.display_phone_number)
                                          .where(PhoneNumber.id.in_(list(by_number) or [""])))).all())

    def times(kind: str, names: dict) -> list[dict]:
        keys = {key for (k, key) in list(first_response) + list(resolution) if k == kind}
        keys |= {key for (k, key) in scores if k == kind}
        out = [{"id": key, "name": names.get(key, "none" if key is None else f"#{key}"),
                "first_response": _summary(first_response.get((kind, key), [])),
                "resolution": _summary(resolution.get((kind, key), [])),
                "csat": score_summary(scores.get((kind, key), []))} for key in keys]
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
    # Satisfaction: the surveys of the chats in range (desk.services.csat).
    survey_where = [CsatSurvey.brand_id == brand_id, CsatSurvey.chat_id == Chat.id, *where]
    survey_rows = (await session.execute(select(CsatSurvey.state, CsatSurvey.score, CsatSurvey.operator_id,
                                                CsatSurvey.department_id).where(*survey_where))).all()
    scores = defaultdict(list)
    for state, score, operator, dept in survey_rows:
        if score is not None:
            for key in (("all", None), ("operator", operator), ("department", dept)):
                scores[key].append(score)
    satisfaction = {**score_summary(scores[("all", None)]),
                    "sent": sum(r.state != "skipped" for r in survey_rows),
                    "skipped": sum(r.state == "skipped" for r in survey_rows)}

    spent = (await session.execute(select(func.coalesce(func.sum(CreditEntry.amount_micros), 0)).where(
        CreditEntry.brand_id == brand_id, CreditEntry.kind == "conversation",
        CreditEntry.created_at >= rng.since, CreditEntry.created_at < rng.until))).scalar_one()

    return {
        "range": {"start": rng.start.isoformat(), "end": rng.end.isoformat(), "tz": rng.tz.key},
        "totals": {
            "chats": total, "closed": closed, "handed_off": handed_off,
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
        "satisfaction": satisfaction,
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
    w.writerow(["satisfaction", "value"])
    for key, value in report.get("satisfaction", {}).items():
        w.writerow([key, "" if value is None else value])
    w.writerow([])
    w.writerow(["handoff_reason", "chats"])
    for reason, n in report["handoff_reasons"].items():
        w.writerow([reason, n])
    for kind in ("departments", "operators"):
        w.writerow([])
        w.writerow([kind[:-1], "first_response_median_s", "first_response_p90_s",
                    "resolution_median_s", "resolution_p90_s", "chats", "csat", "ratings"])
        for t in report[kind]:
            rated = t.get("csat") or {}
            w.writerow([t["name"], t["first_response"]["median_s"], t["first_response"]["p90_s"],
                        t["resolution"]["median_s"], t["resolution"]["p90_s"],
                        max(t["first_response"]["count"], t["resolution"]["count"]),
                        rated.get("csat"), rated.get("answers", 0)])
    return out.getvalue()
