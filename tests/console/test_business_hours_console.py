"""A department's business hours through the console's API (issue 13), on SQLite and PostgreSQL:
GET/PUT /api/admin/departments/{id}/hours round-trips a schedule, a refused one says why and where
(`field`, in the admin's language), only the brand's admins may read or change it, and the
departments' "open now / closed until" comes from the desk's clock (tests/clock.py), in the team
and in the transfer directory."""
from __future__ import annotations

import datetime as dt

import pytest

from desk.models import Brand, Department, Operator
from desk.services import settings
from tests.clock import clock_from
from tests.console.conftest import signed_in

UTC = dt.timezone.utc
# Friday 11 December 2026, 19:30 in Tokyo.
FRIDAY_EVENING = dt.datetime(2026, 12, 11, 10, 30, tzinfo=UTC)
SCHEDULE = {"always_open": False,
            "week": {"mon": [{"from": "09:00", "to": "18:00"}], "tue": [{"from": "09:00", "to": "18:00"}],
                     "wed": [], "thu": [], "fri": [{"from": "09:00", "to": "12:00"}, {"from": "13:00", "to": "18:00"}],
                     "sat": [{"from": "22:00", "to": "02:00", "overnight": True}], "sun": []},
            "holidays": [{"date": "2026-12-14", "name": "Company holiday"}, {"date": "2026-12-31", "name": ""}],
            "count_open_hours_only": True}


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock_from(FRIDAY_EVENING):
        yield


@pytest.fixture
async def tokyo(desk):
    async with desk.sessions() as s, s.begin():
        await settings.update(s, desk.brand_id, time_zone="Asia/Tokyo")


def hours_of(desk, name="Support") -> str:
    return f"/api/admin/departments/{desk.departments[name]}/hours"


async def test_a_department_is_always_open_until_given_hours(make_console, desk, tokyo):
    ada = await signed_in(make_console, "ada")
    resp = await ada.get(hours_of(desk))
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert (data["name"], data["time_zone"], data["hours"]["always_open"]) == ("Support", "Asia/Tokyo", True)
    assert data["status"]["open"] is True and data["status"]["always_open"] is True


async def test_a_schedule_round_trips_and_the_badges_follow_the_desk_clock(make_console, desk, tokyo):
    ada = await signed_in(make_console, "ada")
    resp = await ada.put(hours_of(desk), SCHEDULE)
    assert resp.status == 200, await resp.text()
    saved = await resp.json()
    again = await (await ada.get(hours_of(desk))).json()
    assert saved["hours"] == again["hours"]
    assert again["hours"]["week"]["fri"] == [{"from": "09:00", "to": "12:00"}, {"from": "13:00", "to": "18:00"}]
    assert again["hours"]["week"]["sat"] == [{"from": "22:00", "to": "02:00", "overnight": True}]
    assert again["hours"]["holidays"] == [{"date": "2026-12-14", "name": "Company holiday"},
                                          {"date": "2026-12-31", "name": ""}]
    assert again["hours"]["count_open_hours_only"] is True
    # Friday 19:30 in Tokyo: closed until Saturday 22:00 (the overnight interval), local time.
    assert again["status"]["open"] is False
    assert again["status"]["next_opening"] == "2026-12-12T22:00:00+09:00"
    team = await (await ada.get("/api/admin/team")).json()
    by_name = {d["name"]: d["status"] for d in team["departments"]}
    assert by_name["Support"]["next_opening"] == "2026-12-12T22:00:00+09:00"
    assert by_name["Sales"]["open"] is True  # no hours: always open
    # An operator sees the same in the transfer picker's directory.
    alice = await signed_in(make_console, "alice")
    directory = await (await alice.get("/api/directory")).json()
    assert {d["name"]: d["status"]["open"] for d in directory["departments"]} == {"Support": False, "Sales": True}
    # Always open again.
    resp = await ada.put(hours_of(desk), {"always_open": True})
    assert (await resp.json())["status"]["open"] is True


@pytest.mark.parametrize("change, field, message", [
    ({"week": {"mon": [{"from": "9:00", "to": "18:00"}]}}, "week.mon.0.from",
     "mon: from is a time as HH:MM (00:00 to 24:00), not '9:00'"),
    ({"week": {"tue": [{"from": "18:00", "to": "09:00"}]}}, "week.tue.0.to",
     "tue: 18:00–09:00 closes before it opens (mark it overnight if it ends the next day)"),
    ({"week": {"wed": [{"from": "09:00", "to": "12:00"}, {"from": "11:00", "to": "13:00"}]}}, "week.wed.1",
     "wed: 09:00–12:00 and 11:00–13:00 overlap"),
    ({"holidays": [{"date": "2026-12-14"}, {"date": "2026-12-14"}]}, "holidays.1.date",
     "2026-12-14 is listed twice"),
    ({"holidays": [{"date": "14/12/2026"}]}, "holidays.0.date", "a holiday's date is YYYY-MM-DD, not '14/12/2026'"),
    ({"count_open_hours_only": "yes"}, "count_open_hours_only",
     "always_open and count_open_hours_only are true or false"),
])
async def test_a_refused_schedule_says_why_and_where_and_changes_nothing(make_console, desk, change, field, message):
    ada = await signed_in(make_console, "ada")
    resp = await ada.put(hours_of(desk), {"always_open": False, **change})
    assert resp.status == 422, await resp.text()
    assert await resp.json() == {"error": message, "field": field}
    assert (await (await ada.get(hours_of(desk))).json())["hours"]["always_open"] is True


async def test_the_refusal_in_japanese(make_console, desk):
    ada = await signed_in(make_console, "ada")
    async with desk.sessions() as s, s.begin():
        (await s.get(Operator, desk.operators["ada"])).locale = "ja"
    resp = await ada.put(hours_of(desk), {"always_open": False, "week": {
        "wed": [{"from": "09:00", "to": "12:00"}, {"from": "11:00", "to": "13:00"}]}})
    assert await resp.json() == {"error": "wed：09:00–12:00 と 11:00–13:00 が重なっています", "field": "week.wed.1"}


async def test_only_the_brands_admins_read_or_change_hours(make_console, desk):
    alice = await signed_in(make_console, "alice")
    assert (await alice.get(hours_of(desk))).status == 403
    assert (await alice.put(hours_of(desk), {"always_open": True})).status == 403
    async with desk.sessions() as s, s.begin():
        globex = Brand(name="Globex")
        s.add(globex)
        await s.flush()
        theirs = Department(brand_id=globex.id, name="Support")
        s.add(theirs)
        await s.flush()
        theirs_id = theirs.id
    ada = await signed_in(make_console, "ada")
    assert (await ada.get(f"/api/admin/departments/{theirs_id}/hours")).status == 404
    resp = await ada.put(f"/api/admin/departments/{theirs_id}/hours", SCHEDULE)
    assert resp.status == 404
    async with desk.sessions() as s:
        assert (await s.get(Department, theirs_id)).business_hours is None
