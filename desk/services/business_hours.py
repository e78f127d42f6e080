"""Business hours per department: a weekly schedule and holidays in the brand's time zone.

What Zoho SalesIQ calls "operating hours" and Chatwoot "business hours". A department
is *always open* unless an admin gives it a schedule (so nothing changes for brands
that never set one). A schedule is, per weekday, zero or more open intervals in local
time (`09:00-18:00`; `22:00-06:00` with `overnight` runs into the next morning;
`24:00` may end a day), plus holidays: local dates on which no interval *starts*
(the tail of the previous evening's overnight interval still runs).

Everything here is plain Python over a `Schedule` and takes the time as an argument:
`is_open`, `next_opening`, `open_time_between` / `open_seconds_between` (the timers'
"count only open hours"). Local times become instants with zoneinfo: a local time
that a DST change skips is read with the offset before the change (02:30 on a spring-
forward night is 03:30 summer time), an ambiguous one as its first occurrence.

Stored as JSON in `departments.business_hours` (NULL: always open), validated by
`parse_schedule`, which raises BusinessHoursError with the reason.
"""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
MAX_INTERVALS_PER_DAY = 6
MAX_HOLIDAYS = 366
HOLIDAY_NAME_MAX = 100
HORIZON_DAYS = 2 * 366 + 8  # how far next_opening looks (holidays can close long stretches)
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
UTC = dt.timezone.utc


class BusinessHoursError(ValueError):
    """A schedule the desk refuses; the message says what to fix, `field` where (a path into
    the schedule's JSON: "week.mon.0.to", "holidays.2.date"; None: the whole schedule)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Interval:
    start: int  # minutes after local midnight, 0..1439
    end: int    # minutes after local midnight, 1..1440; <= start: overnight, ends the next day

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def json(self) -> dict:
        out = {"from": _hhmm(self.start), "to": _hhmm(self.end)}
        if self.overnight:
            out["overnight"] = True
        return out


@dataclass(frozen=True)
class Holiday:
    date: dt.date
    name: str = ""


@dataclass(frozen=True)
class Schedule:
    always_open: bool = True
    week: tuple[tuple[Interval, ...], ...] = ((),) * 7  # index: date.weekday()
    holidays: tuple[Holiday, ...] = ()
    count_open_hours_only: bool = False  # the unattended and idle timers count open hours only
    time_zone: str = "UTC"               # the brand's (desk.services.settings), not stored here

    @property
    def zone(self) -> dt.tzinfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def never_open(self) -> bool:
        return not self.always_open and not any(self.week)

    def holiday_dates(self) -> frozenset[dt.date]:
        return frozenset(h.date for h in self.holidays)


ALWAYS_OPEN = Schedule()


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(value, what: str, field: str) -> int:
    m = _HHMM.match(value) if isinstance(value, str) else None
    if not m or (m.group(1) == "24" and m.group(2) != "00"):
        raise BusinessHoursError(f"{what} is a time as HH:MM (00:00 to 24:00), not {value!r}", field)
    return int(m.group(1)) * 60 + int(m.group(2))


def parse_schedule(raw, time_zone: str = "UTC") -> Schedule:
    """A schedule from its JSON (None: always open). Raises BusinessHoursError.

    {"always_open": false,
     "week": {"mon": [{"from": "09:00", "to": "18:00"}], "fri": [{"from": "22:00", "to": "02:00", "overnight": true}]},
     "holidays": [{"date": "2026-12-31", "name": "New Year's Eve"}],
     "count_open_hours_only": false}
    """
    if raw is None:
        return Schedule(time_zone=time_zone)
    if not isinstance(raw, dict):
        raise BusinessHoursError("business hours are an object")
    unknown = set(raw) - {"always_open", "week", "holidays", "count_open_hours_only"}
    if unknown:
        raise BusinessHoursError(f"business hours have always_open, week, holidays and count_open_hours_only, "
                                 f"not {sorted(unknown)[0]}", sorted(unknown)[0])
    always_open = raw.get("always_open", True)
    count = raw.get("count_open_hours_only", False)
    if not isinstance(always_open, bool) or not isinstance(count, bool):
        raise BusinessHoursError("always_open and count_open_hours_only are true or false",
                                 "always_open" if not isinstance(always_open, bool) else "count_open_hours_only")
    week_raw = raw.get("week") or {}
    if not isinstance(week_raw, dict) or set(week_raw) - set(WEEKDAYS):
        raise BusinessHoursError(f"the week's days are {', '.join(WEEKDAYS)}", "week")
    week = []
    for day in WEEKDAYS:
        items = week_raw.get(day) or []
        if not isinstance(items, list):
            raise BusinessHoursError(f"{day}: the open hours are a list", f"week.{day}")
        if len(items) > MAX_INTERVALS_PER_DAY:
            raise BusinessHoursError(f"{day}: at most {MAX_INTERVALS_PER_DAY} open intervals a day", f"week.{day}")
        intervals = []
        for n, item in enumerate(items):
            here = f"week.{day}.{n}"
            if not isinstance(item, dict):
                raise BusinessHoursError(f"{day}: each interval is an object with from and to", here)
            start = _minutes(item.get("from"), f"{day}: from", f"{here}.from")
            end = _minutes(item.get("to"), f"{day}: to", f"{here}.to")
            overnight = item.get("overnight", False) is True
            if start == 1440:
                raise BusinessHoursError(f"{day}: an interval starts at 23:59 at the latest", f"{here}.from")
            if end == 0:
                end = 1440 if not overnight else 0  # "until midnight"
            if overnight and end > start:
                raise BusinessHoursError(f"{day}: {_hhmm(start)}–{_hhmm(end)} is not overnight: "
                                         f"an overnight interval ends the next day, before it started", f"{here}.to")
            if not overnight and end <= start:
                raise BusinessHoursError(f"{day}: {_hhmm(start)}–{_hhmm(end)} closes before it opens "
                                         f"(mark it overnight if it ends the next day)", f"{here}.to")
            if overnight and end == 1440:
                end = 0
            intervals.append((Interval(start, end), n))
        intervals.sort(key=lambda i: i[0].start)
        for (a, _), (b, nb) in zip(intervals, intervals[1:]):
            if a.overnight or b.start < a.end:
                raise BusinessHoursError(f"{day}: {_hhmm(a.start)}–{_hhmm(a.end)} and "
                                         f"{_hhmm(b.start)}–{_hhmm(b.end)} overlap", f"week.{day}.{nb}")
        week.append(tuple(i for i, _ in intervals))
    holidays_raw = raw.get("holidays") or []
    if not isinstance(holidays_raw, list):
        raise BusinessHoursError("holidays are a list of dates", "holidays")
    if len(holidays_raw) > MAX_HOLIDAYS:
        raise BusinessHoursError(f"at most {MAX_HOLIDAYS} holidays", "holidays")
    holidays, seen = [], set()
    for n, item in enumerate(holidays_raw):
        if isinstance(item, str):
            item = {"date": item}
        if not isinstance(item, dict):
            raise BusinessHoursError("each holiday is a date (YYYY-MM-DD) and perhaps a name", f"holidays.{n}")
        try:
            date = dt.date.fromisoformat(item.get("date")) if isinstance(item.get("date"), str) and \
                len(item["date"]) == 10 else None
        except ValueError:
            date = None
        if date is None:
            raise BusinessHoursError(f"a holiday's date is YYYY-MM-DD, not {item.get('date')!r}", f"holidays.{n}.date")
        if date in seen:
            raise BusinessHoursError(f"{date.isoformat()} is listed twice", f"holidays.{n}.date")
        seen.add(date)
        name = " ".join(str(item.get("name") or "").split())
        if len(name) > HOLIDAY_NAME_MAX:
            raise BusinessHoursError(f"a holiday's name has at most {HOLIDAY_NAME_MAX} characters", f"holidays.{n}.name")
        holidays.append(Holiday(date, name))
    holidays.sort(key=lambda h: h.date)
    return Schedule(always_open, tuple(week), tuple(holidays), count, time_zone)


def schedule_json(s: Schedule) -> dict:
    """What is stored and what the admin API returns (without the time zone)."""
    return {"always_open": s.always_open,
            "week": {day: [i.json() for i in s.week[n]] for n, day in enumerate(WEEKDAYS)},
            "holidays": [{"date": h.date.isoformat(), "name": h.name} for h in s.holidays],
            "count_open_hours_only": s.count_open_hours_only}


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise ValueError("business hours need an aware datetime (UTC)")
    return at


def _local_instant(day: dt.date, minutes: int, zone) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)  # 1440: the next midnight
    return local.replace(tzinfo=zone).astimezone(UTC)


def open_intervals(s: Schedule, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The open stretches of [start, end) as merged, sorted UTC intervals."""
    start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
    if end <= start:
        return []
    if s.always_open:
        return [(start, end)]
    zone, holidays = s.zone, s.holiday_dates()
    day = start.astimezone(zone).date() - dt.timedelta(days=1)  # yesterday's overnight interval
    last = end.astimezone(zone).date()
    raw = []
    while day <= last:
        if day not in holidays:
            for i in s.week[day.weekday()]:
                a = _local_instant(day, i.start, zone)
                b = _local_instant(day + dt.timedelta(days=1), i.end, zone) if i.overnight \
                    else _local_instant(day, i.end, zone)
                a, b = max(a, start), min(b, end)
                if a < b:
                    raw.append((a, b))
        day += dt.timedelta(days=1)
    raw.sort()
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for a, b in raw:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def is_open(s: Schedule, at: dt.datetime) -> bool:
    """Is the department open at this instant?"""
    if s.always_open:
        return True
    return bool(open_intervals(s, at, at + dt.timedelta(microseconds=1)))


def next_opening(s: Schedule, at: dt.datetime) -> dt.datetime | None:
    """`at` itself when open, else the next instant it opens; None when it never opens
    (no hours at all, or holidays for the next two years)."""
    at = _aware(at).astimezone(UTC)
    if s.always_open:
        return at
    if s.never_open:
        return None
    step = dt.timedelta(days=8)
    for k in range(HORIZON_DAYS // 8 + 1):
        found = open_intervals(s, at + k * step, at + (k + 1) * step)
        if found:
            return found[0][0]
    return None


def next_closing(s: Schedule, at: dt.datetime) -> dt.datetime | None:
    """When the open stretch around `at` ends (None: always open, closed at `at`, or open
    for the next two years)."""
    at = _aware(at).astimezone(UTC)
    if s.always_open or not is_open(s, at):
        return None
    cursor, step = at, dt.timedelta(days=8)
    for _ in range(HORIZON_DAYS // 8 + 1):
        found = open_intervals(s, cursor, cursor + step)
        if not found or found[0][0] > cursor:
            return cursor
        if found[0][1] < cursor + step:
            return found[0][1]
        cursor += step
    return None


def open_time_between(s: Schedule, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """How much of [start, end) the department is open (0 when end <= start)."""
    return sum((b - a for a, b in open_intervals(s, start, end)), dt.timedelta())


def open_seconds_between(s: Schedule, start: dt.datetime, end: dt.datetime) -> float:
    return open_time_between(s, start, end).total_seconds()


def deadline_after(s: Schedule, start: dt.datetime, open_time: dt.timedelta) -> dt.datetime | None:
    """The instant at which `open_time` of open hours has passed since `start` (None: never)."""
    start = _aware(start).astimezone(UTC)
    if s.always_open:
        return start + open_time
    if s.never_open:
        return None
    left, cursor, step = open_time, start, dt.timedelta(days=8)
    for _ in range(HORIZON_DAYS // 8 + 1 + int(open_time / step)):
        for a, b in open_intervals(s, cursor, cursor + step):
            if b - a >= left:
                return a + left
            left -= b - a
        cursor += step
    return None


@dataclass(frozen=True)
class Status:
    open: bool
    next_opening: dt.datetime | None  # when closed; None: never opens
    closes_at: dt.datetime | None = None  # when open on a schedule
    always_open: bool = False
    holiday: str | None = None  # the name of today's holiday, if any

    def json(self, time_zone: str) -> dict:
        def local(x):
            return x.astimezone(zoneinfo.ZoneInfo(time_zone)).isoformat() if x else None
        return {"open": self.open, "always_open": self.always_open, "next_opening": local(self.next_opening),
                "closes_at": local(self.closes_at), "holiday": self.holiday, "time_zone": time_zone}


def status(s: Schedule, at: dt.datetime) -> Status:
    if s.always_open:
        return Status(True, None, None, True)
    today = at.astimezone(s.zone).date()
    holiday = next((h.name or today.isoformat() for h in s.holidays if h.date == today), None)
    if is_open(s, at):
        return Status(True, None, next_closing(s, at), holiday=holiday)
    return Status(False, next_opening(s, at), holiday=holiday)


# -- the customer's words ---------------------------------------------------------------------------

# Per language: the words for today and tomorrow, a weekday within the week, a date beyond it,
# and how the time zone is added (Japanese leaves out JST, the customer's own).
_DAY_WORDS = {
    "en": {"today": "today", "tomorrow": "tomorrow",
           "weekdays": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
           "date": "{weekday} {day} {month_name}", "zone": "{when} ({zone})", "home_zone": None,
           "months": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                      "October", "November", "December")},
    "ja": {"today": "本日", "tomorrow": "明日", "weekdays": ("月曜", "火曜", "水曜", "木曜", "金曜", "土曜", "日曜"),
           "date": "{month}月{day}日({weekday_short})", "zone": "{when}（{zone}）", "home_zone": "Asia/Tokyo",
           "months": None},
}


def describe_opening(opening: dt.datetime, now: dt.datetime, time_zone: str, language: str) -> str:
    """When the team is back, for the customer, in the brand's time zone:
    "today 9:00 (JST)", "tomorrow 9:00 (JST)", "Monday 9:00 (JST)", "Monday 5 January 9:00 (JST)";
    "本日 9:00", "明日 9:00", "月曜 9:00", "1月5日(月) 9:00" (English for a language without words here)."""
    words = _DAY_WORDS.get(language) or _DAY_WORDS["en"]
    zone = zoneinfo.ZoneInfo(time_zone)
    local, today = opening.astimezone(zone), now.astimezone(zone).date()
    days = (local.date() - today).days
    weekday = words["weekdays"][local.weekday()]
    if days <= 0:
        day = words["today"]
    elif days == 1:
        day = words["tomorrow"]
    elif days < 7:
        day = weekday
    else:
        day = words["date"].format(weekday=weekday, weekday_short=weekday[0], day=local.day, month=local.month,
                                   month_name=(words["months"] or ("",) * 12)[local.month - 1])
    when = f"{day} {local.hour}:{local.minute:02d}"
    if time_zone == words["home_zone"]:
        return when
    return words["zone"].format(when=when, zone=local.tzname() or time_zone)


# -- the database ------------------------------------------------------------------------------------

async def schedules_of_brand(session: AsyncSession, brand_id: int,
                             department_id: int | None = None) -> dict[int, Schedule]:
    """The brand's departments' schedules (or the one department's) in the brand's time zone."""
    from sqlalchemy import select

    from desk.models import Department
    from desk.services import settings

    zone = (await settings.get(session, brand_id)).time_zone
    query = select(Department).where(Department.brand_id == brand_id)
    if department_id is not None:
        query = query.where(Department.id == department_id)
    return {d.id: parse_schedule(d.business_hours, zone) for d in (await session.execute(query)).scalars()}


async def statuses_of_brand(session: AsyncSession, brand_id: int, at: dt.datetime) -> dict[int, dict]:
    """Whether each of the brand's departments is open at `at` (Status.json, in the brand's zone):
    the console's "Open now" / "Closed until …" badges."""
    return {dept_id: status(s, at).json(s.time_zone)
            for dept_id, s in (await schedules_of_brand(session, brand_id)).items()}


async def schedule_of(session: AsyncSession, department_id: int) -> Schedule:
    """The department's schedule in its brand's time zone (always open when it has none)."""
    from desk.models import Department

    dept = await session.get(Department, department_id)
    if dept is None:
        return ALWAYS_OPEN
    return (await schedules_of_brand(session, dept.brand_id, department_id))[department_id]


# -- handing a chat to a person outside hours -------------------------------------------------------

LEAVE_MESSAGE_PAYLOAD = "/leave_message"  # the bot's leave_message form (actions/handoff.py, domain.yml)


@dataclass(frozen=True)
class Closed:
    """A department closed when a chat would be handed to it: the customer hears when it is
    back (desk.services.notices OUTSIDE_HOURS) and may leave a message; the chat is not queued."""
    department: str
    at: dt.datetime                  # the customer's message's time
    opening: dt.datetime | None      # None: it never opens
    time_zone: str
    names: tuple[tuple[str, str], ...] = ()  # the department's name per language (desk.services.departments)

    def text(self, language: str | None) -> str:
        from desk.services import notices

        department = dict(self.names).get(language or "") or self.department  # in the customer's language
        if self.opening is None:
            return notices.text(notices.OUTSIDE_HOURS_NEVER, language).format(department=department)
        when = describe_opening(self.opening, self.at, self.time_zone, language or "en")
        return notices.text(notices.OUTSIDE_HOURS, language).format(department=department, when=when)

    def buttons(self, language: str | None) -> list[dict[str, str]]:
        """*Leave a message* only: with the team away, nobody would come to a queued chat."""
        from desk.services import notices

        return [{"title": notices.text(notices.LEAVE_MESSAGE_BUTTON, language), "payload": LEAVE_MESSAGE_PAYLOAD}]


async def closed_for_handoff(session: AsyncSession, department_id: int | None, at: dt.datetime) -> Closed | None:
    """The one decision every handoff of the bot's makes (the bot's own, the bot-down one, an order
    for Sales): None when the department is open at `at` (the customer's message's time), else
    what to tell the customer instead of queueing the chat."""
    from desk.models import Department

    dept = await session.get(Department, department_id) if department_id is not None else None
    if dept is None:
        return None
    schedule = (await schedules_of_brand(session, dept.brand_id, dept.id))[dept.id]
    if is_open(schedule, at):
        return None
    return Closed(dept.name, _aware(at).astimezone(UTC), next_opening(schedule, at), schedule.time_zone,
                  tuple(sorted((dept.names or {}).items())))


async def set_schedule(session: AsyncSession, brand_id: int, department_id: int, raw) -> Schedule:
    """Replace a department's business hours (None: always open again). Raises BusinessHoursError."""
    from desk.models import Department
    from desk.services import settings

    dept = await session.get(Department, department_id)
    if dept is None or dept.brand_id != brand_id:
        raise BusinessHoursError("no such department in this brand")
    zone = (await settings.get(session, brand_id)).time_zone
    schedule = parse_schedule(raw, zone)
    dept.business_hours = None if raw is None else schedule_json(schedule)
    await session.flush()
    return schedule


__all__ = ["ALWAYS_OPEN", "BusinessHoursError", "Closed", "Holiday", "LEAVE_MESSAGE_PAYLOAD", "Interval", "Schedule", "Status", "WEEKDAYS",
           "closed_for_handoff", "deadline_after", "describe_opening", "is_open", "next_closing", "next_opening", "open_intervals",
           "open_seconds_between", "open_time_between", "parse_schedule", "schedule_json", "schedule_of",
           "schedules_of_brand", "set_schedule", "status", "statuses_of_brand"]
