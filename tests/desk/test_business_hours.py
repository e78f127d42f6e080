"""Business hours (desk.services.business_hours): schedules, holidays, time zones, DST.

Every time is given to the functions; nothing here depends on today's date.
"""
import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from desk.services import business_hours as bh
from desk.services.business_hours import BusinessHoursError, parse_schedule

UTC = dt.timezone.utc
MON_FRI_9_18 = {"always_open": False,
                "week": {d: [{"from": "09:00", "to": "18:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}}


def tokyo(y, m, d, h=0, mi=0):
    """A Tokyo wall time as a UTC instant (JST is UTC+9, no DST)."""
    return dt.datetime(y, m, d, h, mi, tzinfo=UTC) - dt.timedelta(hours=9)


def office(**extra):
    return parse_schedule({**MON_FRI_9_18, **extra}, "Asia/Tokyo")


# 2026-12-07 is a Monday.

def test_no_schedule_is_always_open():
    s = parse_schedule(None, "Asia/Tokyo")
    at = tokyo(2026, 12, 6, 3)
    assert s.always_open and bh.is_open(s, at) and bh.next_opening(s, at) == at
    assert bh.open_seconds_between(s, at, at + dt.timedelta(hours=2)) == 7200


def test_open_inside_the_hours_closed_outside():
    s = office()
    assert bh.is_open(s, tokyo(2026, 12, 7, 9))            # opens at 9:00 sharp
    assert bh.is_open(s, tokyo(2026, 12, 7, 17, 59))
    assert not bh.is_open(s, tokyo(2026, 12, 7, 18))       # closed at 18:00
    assert not bh.is_open(s, tokyo(2026, 12, 7, 8, 59))
    assert not bh.is_open(s, tokyo(2026, 12, 12, 12))      # Saturday


def test_next_opening_after_the_weekend_and_when_open():
    s = office()
    assert bh.next_opening(s, tokyo(2026, 12, 11, 18, 30)) == tokyo(2026, 12, 14, 9)  # Friday evening → Monday
    assert bh.next_opening(s, tokyo(2026, 12, 8, 7)) == tokyo(2026, 12, 8, 9)
    at = tokyo(2026, 12, 8, 10)
    assert bh.next_opening(s, at) == at
    assert bh.next_closing(s, at) == tokyo(2026, 12, 8, 18)


def test_holidays_close_the_day():
    s = office(holidays=[{"date": "2026-12-14", "name": "Founders' day"}, "2026-12-15"])
    assert not bh.is_open(s, tokyo(2026, 12, 14, 10))
    assert bh.next_opening(s, tokyo(2026, 12, 11, 19)) == tokyo(2026, 12, 16, 9)
    st_ = bh.status(s, tokyo(2026, 12, 14, 10))
    assert st_.holiday == "Founders' day" and not st_.open and st_.next_opening == tokyo(2026, 12, 16, 9)


def test_overnight_intervals_run_into_the_next_day():
    s = parse_schedule({"always_open": False, "week": {"fri": [{"from": "22:00", "to": "02:00", "overnight": True}]}},
                       "Asia/Tokyo")
    assert bh.is_open(s, tokyo(2026, 12, 11, 23))
    assert bh.is_open(s, tokyo(2026, 12, 12, 1, 59))   # Saturday morning: Friday's shift
    assert not bh.is_open(s, tokyo(2026, 12, 12, 2))
    assert bh.open_seconds_between(s, tokyo(2026, 12, 7), tokyo(2026, 12, 14)) == 4 * 3600
    # A holiday on the Saturday does not cut Friday's shift; one on the Friday does.
    assert bh.is_open(parse_schedule({**schedule_json(s), "holidays": ["2026-12-12"]}, "Asia/Tokyo"),
                      tokyo(2026, 12, 12, 1))
    assert not bh.is_open(parse_schedule({**schedule_json(s), "holidays": ["2026-12-11"]}, "Asia/Tokyo"),
                          tokyo(2026, 12, 12, 1))


def schedule_json(s):
    return bh.schedule_json(s)


def test_several_intervals_a_day_and_until_midnight():
    s = parse_schedule({"always_open": False, "week": {"mon": [{"from": "13:00", "to": "24:00"},
                                                               {"from": "09:00", "to": "12:00"}]}}, "UTC")
    monday = dt.datetime(2026, 12, 7, tzinfo=UTC)
    assert bh.open_seconds_between(s, monday, monday + dt.timedelta(days=1)) == 14 * 3600
    assert bh.next_opening(s, monday + dt.timedelta(hours=12, minutes=30)) == monday + dt.timedelta(hours=13)
    assert [i.json() for i in s.week[0]] == [{"from": "09:00", "to": "12:00"}, {"from": "13:00", "to": "24:00"}]


def test_a_schedule_without_hours_never_opens():
    s = parse_schedule({"always_open": False, "week": {}}, "Asia/Tokyo")
    assert s.never_open and not bh.is_open(s, tokyo(2026, 12, 7, 10))
    assert bh.next_opening(s, tokyo(2026, 12, 7, 10)) is None
    assert bh.open_seconds_between(s, tokyo(2026, 12, 1), tokyo(2026, 12, 31)) == 0
    assert bh.deadline_after(s, tokyo(2026, 12, 1), dt.timedelta(minutes=1)) is None


def test_the_brand_time_zone_and_daylight_saving():
    # Europe/London: BST ends 2026-10-25 (02:00 BST → 01:00 GMT); 9:00 local is 08:00 UTC before, 09:00 after.
    s = parse_schedule(MON_FRI_9_18, "Europe/London")
    assert bh.next_opening(s, dt.datetime(2026, 10, 23, 18, tzinfo=UTC)) == dt.datetime(2026, 10, 26, 9, tzinfo=UTC)
    assert bh.next_opening(s, dt.datetime(2026, 10, 22, 18, tzinfo=UTC)) == dt.datetime(2026, 10, 23, 8, tzinfo=UTC)
    # An overnight shift across the spring-forward night (2026-03-29 01:00 GMT → 02:00 BST) is an hour shorter.
    night = parse_schedule({"always_open": False, "week": {"sat": [{"from": "22:00", "to": "06:00",
                                                                     "overnight": True}]}}, "Europe/London")
    assert bh.open_seconds_between(night, dt.datetime(2026, 3, 28, tzinfo=UTC),
                                   dt.datetime(2026, 3, 30, tzinfo=UTC)) == 7 * 3600


def test_open_seconds_and_the_deadline_skip_closed_hours():
    s = office()
    friday_5pm = tokyo(2026, 12, 11, 17)
    assert bh.open_seconds_between(s, friday_5pm, tokyo(2026, 12, 14, 10)) == 2 * 3600
    assert bh.deadline_after(s, friday_5pm, dt.timedelta(hours=2)) == tokyo(2026, 12, 14, 10)
    assert bh.open_seconds_between(s, tokyo(2026, 12, 14, 10), friday_5pm) == 0  # end before start


def test_describe_opening_in_english_and_japanese():
    friday_evening = tokyo(2026, 12, 11, 19)
    monday = tokyo(2026, 12, 14, 9)
    assert bh.describe_opening(monday, friday_evening, "Asia/Tokyo", "en") == "Monday 9:00 (JST)"
    assert bh.describe_opening(monday, friday_evening, "Asia/Tokyo", "ja") == "月曜 9:00"
    assert bh.describe_opening(tokyo(2026, 12, 12, 9), friday_evening, "Asia/Tokyo", "ja") == "明日 9:00"
    assert bh.describe_opening(tokyo(2026, 12, 11, 21), friday_evening, "Asia/Tokyo", "en") == "today 21:00 (JST)"
    assert bh.describe_opening(tokyo(2027, 1, 4, 9), tokyo(2026, 12, 25, 19), "Asia/Tokyo", "ja") == "1月4日(月) 9:00"
    assert bh.describe_opening(tokyo(2027, 1, 4, 9), tokyo(2026, 12, 25, 19), "Asia/Tokyo",
                               "en") == "Monday 4 January 9:00 (JST)"


@pytest.mark.parametrize("raw, message", [
    ({"always_open": False, "week": {"mon": [{"from": "9:00", "to": "18:00"}]}}, "mon: from is a time as HH:MM"),
    ({"always_open": False, "week": {"mon": [{"from": "09:00", "to": "25:00"}]}}, "mon: to is a time as HH:MM"),
    ({"always_open": False, "week": {"mon": [{"from": "18:00", "to": "09:00"}]}}, "closes before it opens"),
    ({"always_open": False, "week": {"mon": [{"from": "09:00", "to": "09:00"}]}}, "closes before it opens"),
    ({"always_open": False, "week": {"mon": [{"from": "09:00", "to": "18:00", "overnight": True}]}},
     "is not overnight"),
    ({"always_open": False, "week": {"mon": [{"from": "09:00", "to": "13:00"}, {"from": "12:00", "to": "18:00"}]}},
     "overlap"),
    ({"always_open": False, "week": {"monday": []}}, "the week's days are"),
    ({"holidays": ["2026-02-30"]}, "a holiday's date is YYYY-MM-DD"),
    ({"holidays": ["26-12-01"]}, "a holiday's date is YYYY-MM-DD"),
    ({"holidays": ["2026-12-01", {"date": "2026-12-01"}]}, "2026-12-01 is listed twice"),
    ({"holidays": [{"date": "2026-12-01", "name": "x" * 101}]}, "at most 100 characters"),
    ({"always_open": "no"}, "are true or false"),
    ({"timezone": "UTC"}, "not timezone"),
    ("weekdays", "business hours are an object"),
])
def test_bad_schedules_are_refused_with_the_reason(raw, message):
    with pytest.raises(BusinessHoursError, match=message.replace("(", r"\(")):
        parse_schedule(raw, "UTC")


def test_the_stored_form_reads_back_the_same():
    s = office(holidays=[{"date": "2026-12-31", "name": " New  Year's Eve "}],
               count_open_hours_only=True)
    again = parse_schedule(bh.schedule_json(s), "Asia/Tokyo")
    assert again == s and again.holidays[0].name == "New Year's Eve"


# -- properties ---------------------------------------------------------------------------------------

ZONES = st.sampled_from(["UTC", "Asia/Tokyo", "Europe/London", "America/New_York", "Australia/Lord_Howe"])
MINUTE = st.integers(0, 1439)


@st.composite
def schedules(draw):
    week = {}
    for day in bh.WEEKDAYS:
        picks = draw(st.lists(st.tuples(MINUTE, MINUTE), max_size=2))
        intervals, last_end = [], 0
        for a, b in sorted(picks):
            if a < last_end or a == b:
                continue
            if b > a:
                intervals.append({"from": bh._hhmm(a), "to": bh._hhmm(b)})
                last_end = b
            elif not intervals or True:
                intervals.append({"from": bh._hhmm(a), "to": bh._hhmm(b), "overnight": True})
                break  # an overnight interval is the day's last
        week[day] = intervals
    start = dt.date(2026, 1, 1)
    holidays = sorted({(start + dt.timedelta(days=n)).isoformat()
                       for n in draw(st.lists(st.integers(0, 730), max_size=5))})
    return parse_schedule({"always_open": draw(st.booleans()) and draw(st.booleans()), "week": week,
                           "holidays": holidays}, draw(ZONES))


INSTANTS = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31),
                        timezones=st.just(UTC))


@settings(max_examples=150, deadline=None)
@given(schedules(), INSTANTS, st.timedeltas(dt.timedelta(0), dt.timedelta(days=10)),
       st.timedeltas(dt.timedelta(0), dt.timedelta(days=10)))
def test_open_time_is_additive_and_bounded(s, start, first, second):
    middle, end = start + first, start + first + second
    whole = bh.open_time_between(s, start, end)
    assert whole == bh.open_time_between(s, start, middle) + bh.open_time_between(s, middle, end)
    assert dt.timedelta(0) <= whole <= end - start


@settings(max_examples=150, deadline=None)
@given(schedules(), INSTANTS)
def test_next_opening_is_open_and_nothing_before_it_is(s, at):
    opening = bh.next_opening(s, at)
    if opening is None:
        assert s.never_open or bh.open_time_between(s, at, at + dt.timedelta(days=400)) == dt.timedelta(0)
        return
    assert opening >= at and bh.is_open(s, opening)
    assert bh.open_time_between(s, at, opening) == dt.timedelta(0)
    assert bh.is_open(s, at) == (opening == at)


@settings(max_examples=100, deadline=None)
@given(schedules(), INSTANTS, st.timedeltas(dt.timedelta(minutes=1), dt.timedelta(days=3)))
def test_the_deadline_is_when_that_much_open_time_has_passed(s, start, wanted):
    deadline = bh.deadline_after(s, start, wanted)
    if deadline is not None:
        assert bh.open_time_between(s, start, deadline) == wanted


# -- stored, on SQLite and PostgreSQL ------------------------------------------------------------------

async def test_a_department_keeps_its_schedule_in_the_brand_time_zone(sessions):
    from desk.models import Department, WhatsAppBusinessAccount
    from desk.services import settings as brand_settings
    from tests.desk import seed

    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        await brand_settings.update(s, brand_id, time_zone="Asia/Tokyo")
        other = await seed.department(s, brand_id, "Sales")
        await bh.set_schedule(s, brand_id, number.department_id, {**MON_FRI_9_18, "holidays": ["2026-12-14"]})
        dept_id = number.department_id
    async with sessions() as s:
        sched = await bh.schedule_of(s, dept_id)
        assert sched.time_zone == "Asia/Tokyo" and not sched.always_open
        assert bh.next_opening(sched, tokyo(2026, 12, 11, 19)) == tokyo(2026, 12, 15, 9)
        assert (await bh.schedule_of(s, other.id)).always_open  # never given: always open
        assert (await s.get(Department, dept_id)).business_hours["holidays"] == [{"date": "2026-12-14", "name": ""}]
        by_id = await bh.schedules_of_brand(s, brand_id)
        assert set(by_id) == {dept_id, other.id}
    async with sessions() as s, s.begin():
        with pytest.raises(BusinessHoursError, match="no such department"):
            await bh.set_schedule(s, brand_id + 1, dept_id, None)
        await bh.set_schedule(s, brand_id, dept_id, None)
    async with sessions() as s:
        assert (await bh.schedule_of(s, dept_id)).always_open
