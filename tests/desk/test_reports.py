"""The manager's report on a real database: facts recorded as chats move, then summed."""
import datetime as dt

import pytest
from sqlalchemy import select, update

from desk.models import (Chat, ChatState, Department, HandoffReason, Message, Operator, OperatorStatus,
                         WhatsAppBusinessAccount)
from desk.services import outbox, reports, routing, takeover
from tests.clock import MID_MONTH
from tests.desk import seed

pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock

UTC = dt.timezone.utc


@pytest.fixture
async def desk(sessions):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        waba = await s.get(WhatsAppBusinessAccount, number.waba_id)
        sales = await seed.department(s, waba.brand_id, "Sales")
        return {"brand_id": waba.brand_id, "support_id": number.department_id, "sales_id": sales.id}


def _range(start="2026-06-01", end="2026-06-30", tz="UTC"):
    return reports.Range.parse(start, end, tz, today=MID_MONTH.date())


async def _chat(s, user, *, opened, **facts):
    chat = await seed.chat_from(s, user)
    await s.execute(update(Chat).where(Chat.id == chat.id).values(opened_at=opened, **facts)
                    .execution_options(synchronize_session=False))
    return chat.id


async def test_the_moves_of_a_chat_record_the_facts_reports_need(sessions, desk):
    async with sessions() as s, s.begin():
        support = await s.get(Department, desk["support_id"])
        ana = await seed.operator(s, desk["brand_id"], "Ana", [support], status=OperatorStatus.offline)
        nobody_there = await seed.chat_from(s, "441")
        await routing.hand_off(s, nobody_there.id, reason=HandoffReason.human_only)
        taken = await seed.chat_from(s, "442")
        await takeover.take_over(s, taken.id, ana)
        ids = {"unattended": nobody_there.id, "taken": taken.id, "ana": ana.id}
    async with sessions() as s, s.begin():
        ana = await s.get(Operator, ids["ana"])
        await routing.pick(s, ids["unattended"], ana)
        await outbox.send_operator_text(s, ids["unattended"], ana, "Hello, Ana here")
        await outbox.send_operator_text(s, ids["unattended"], ana, "A second message")
    async with sessions() as s:
        first = await s.get(Chat, ids["unattended"])
        second = await s.get(Chat, ids["taken"])
        assert (first.handoff_reason, first.was_unattended) == (HandoffReason.human_only, True)
        assert first.first_response_at is not None and first.first_response_at >= first.handed_off_at
        replies = (await s.execute(select(Message).where(Message.chat_id == ids["unattended"],
                                                         Message.body.in_(["Hello, Ana here", "A second message"]))
                                   .order_by(Message.id))).scalars().all()
        assert first.first_response_at == replies[0].created_at < replies[1].created_at
        assert (second.handoff_reason, second.was_unattended) == (HandoffReason.takeover, False)


async def test_a_transfer_keeps_the_first_reason(sessions, desk):
    async with sessions() as s, s.begin():
        chat = await seed.chat_from(s, "443")
        await routing.hand_off(s, chat.id, reason=HandoffReason.misunderstood)
        await routing.transfer(s, chat.id, to_department_id=desk["sales_id"])
        assert (await s.get(Chat, chat.id)).handoff_reason == HandoffReason.misunderstood


async def test_report_counts_containment_reasons_and_response_times(sessions, desk):
    day = dt.datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    minute = dt.timedelta(minutes=1)
    async with sessions() as s, s.begin():
        support = await s.get(Department, desk["support_id"])
        ana = await seed.operator(s, desk["brand_id"], "Ana", [support])
        # two chats the bot closed alone, one still with the bot
        await _chat(s, "501", opened=day, state=ChatState.closed, closed_at=day + minute, closed_by="bot")
        await _chat(s, "502", opened=day + dt.timedelta(hours=1), state=ChatState.closed,
                    closed_at=day + 2 * minute, closed_by="timer")
        await _chat(s, "503", opened=day + dt.timedelta(days=1))
        # three handoffs answered after 1, 2 and 10 minutes, resolved after 5, 10, 30
        for n, (wait, took, reason) in enumerate([(1, 5, "asked"), (2, 10, "human_only"), (10, 30, "asked")]):
            await _chat(s, f"60{n}", opened=day, state=ChatState.closed, department_id=support.id,
                        operator_id=ana.id, handed_off_at=day, first_response_at=day + wait * minute,
                        closed_at=day + took * minute, closed_by="ana@example.com", handoff_reason=reason)
        # waiting with nobody there: unattended, no response yet
        await _chat(s, "701", opened=day, state=ChatState.unattended, department_id=support.id,
                    handed_off_at=day, handoff_reason="misunderstood", was_unattended=True)
        # outside the range: not counted
        await _chat(s, "801", opened=dt.datetime(2026, 5, 31, 23, 59, tzinfo=UTC))
    async with sessions() as s:
        report = await reports.brand_report(s, desk["brand_id"], _range())
    totals = report["totals"]
    assert totals["chats"] == 7
    assert (totals["closed"], totals["contained"], totals["containment"]) == (5, 2, 0.4)
    assert (totals["handed_off"], totals["unattended"], totals["auto_closed"]) == (4, 1, 2)
    assert report["handoff_reasons"] == {"asked": 2, "human_only": 1, "misunderstood": 1}
    assert totals["first_response"] == {"count": 3, "median_s": 120.0, "p90_s": 504.0}
    assert totals["resolution"]["median_s"] == 600.0
    [ana_row] = report["operators"]
    assert ana_row["name"] == "Ana" and ana_row["first_response"]["count"] == 3
    by_day = {d["date"]: d["chats"] for d in report["per_day"]}
    assert (by_day["2026-06-10"], by_day["2026-06-11"], len(by_day)) == (6, 1, 30)
    assert report["per_hour"][9]["chats"] == 6 and report["per_hour"][10]["chats"] == 1


async def test_days_and_hours_are_the_managers_time_zone(sessions, desk):
    late = dt.datetime(2026, 6, 10, 16, 30, tzinfo=UTC)  # 01:30 on the 11th in Tokyo
    async with sessions() as s, s.begin():
        await _chat(s, "901", opened=late)
    async with sessions() as s:
        tokyo = await reports.brand_report(s, desk["brand_id"], _range(tz="Asia/Tokyo"))
        utc = await reports.brand_report(s, desk["brand_id"], _range())
    assert [d["date"] for d in tokyo["per_day"] if d["chats"]] == ["2026-06-11"]
    assert tokyo["per_hour"][1]["chats"] == 1
    assert [d["date"] for d in utc["per_day"] if d["chats"]] == ["2026-06-10"]


async def test_half_hour_time_zones_get_the_right_day_and_hour(sessions, desk):
    async with sessions() as s, s.begin():
        await _chat(s, "902", opened=dt.datetime(2026, 6, 10, 18, 40, tzinfo=UTC))  # 00:10 on the 11th in India
        await _chat(s, "903", opened=dt.datetime(2026, 6, 10, 18, 20, tzinfo=UTC))  # 23:50 on the 10th
    async with sessions() as s:
        india = await reports.brand_report(s, desk["brand_id"], _range(tz="Asia/Kolkata"))
    assert {d["date"]: d["chats"] for d in india["per_day"] if d["chats"]} == {"2026-06-10": 1, "2026-06-11": 1}
    assert (india["per_hour"][23]["chats"], india["per_hour"][0]["chats"]) == (1, 1)


async def test_filters_and_other_brands(sessions, desk):
    from desk.services import numbers
    day = dt.datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    async with sessions() as s, s.begin():
        await _chat(s, "511", opened=day, department_id=desk["sales_id"])
        await _chat(s, "512", opened=day)
        other = await numbers.ensure_number(s, phone_number_id="999000000000009", waba_id="299",
                                            brand_name="Other brand")
        other_chat = await seed.chat_from(s, "513")
        await s.execute(update(Chat).where(Chat.id == other_chat.id).values(
            phone_number_id=other.id, opened_at=day).execution_options(synchronize_session=False))
    async with sessions() as s:
        mine = await reports.brand_report(s, desk["brand_id"], _range())
        sales = await reports.brand_report(s, desk["brand_id"], _range(), department_id=desk["sales_id"])
    assert mine["totals"]["chats"] == 2
    assert sales["totals"]["chats"] == 1 and sales["by_department"][0]["name"] == "Sales"


@pytest.mark.parametrize("start,end,tz,error", [
    ("2026-06-10", "2026-06-01", "UTC", "starts after"),
    ("2025-01-01", "2026-06-01", "UTC", "at most"),
    ("10/06/2026", None, "UTC", "YYYY-MM-DD"),
    (None, None, "Mars/Olympus", "time zone"),
])
def test_bad_ranges_are_refused_with_the_reason(start, end, tz, error):
    with pytest.raises(reports.ReportError, match=error):
        reports.Range.parse(start, end, tz, today=dt.date(2026, 6, 17))


def test_default_range_is_the_last_30_days():
    rng = reports.Range.parse(None, None, None, today=dt.date(2026, 6, 17))
    assert (rng.start, rng.end, len(rng.days())) == (dt.date(2026, 5, 19), dt.date(2026, 6, 17), 30)


def test_percentile_interpolates_like_numpy():
    assert reports.percentile([60, 120, 600], 90) == 504.0
    assert reports.percentile([5], 90) == 5 and reports.percentile([], 50) is None


def test_csv_has_every_section():
    report = {"range": {"start": "2026-06-01", "end": "2026-06-02", "tz": "UTC"},
              "totals": {"chats": 3, "first_response": {"count": 1, "median_s": 60.0, "p90_s": None}},
              "per_day": [{"date": "2026-06-01", "chats": 3}], "per_hour": [{"hour": 9, "chats": 3}],
              "handoff_reasons": {"asked": 1}, "departments": [], "operators": [
                  {"name": "Ana", "first_response": {"count": 1, "median_s": 60.0, "p90_s": 60.0},
                   "resolution": {"count": 0, "median_s": None, "p90_s": None}}]}
    text = reports.to_csv(report)
    assert "first_response_median_s,60.0" in text and "2026-06-01,3" in text
    assert "Ana,60.0,60.0,,,1,,0" in text


async def test_satisfaction_by_operator(sessions, desk):
    from desk.models import CsatSurvey
    day = dt.datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    async with sessions() as s, s.begin():
        support = await s.get(Department, desk["support_id"])
        ana = await seed.operator(s, desk["brand_id"], "Ana", [support])
        for n, score in enumerate([3, 3, 1, None, "skip"]):
            chat_id = await _chat(s, f"55{n}", opened=day, state=ChatState.closed, operator_id=ana.id,
                                  department_id=support.id, handed_off_at=day, closed_at=day, closed_by="ana")
            chat = await s.get(Chat, chat_id)
            s.add(CsatSurvey(chat_id=chat_id, brand_id=desk["brand_id"], phone_number_id=chat.phone_number_id,
                             contact_id=chat.contact_id, operator_id=ana.id, department_id=support.id,
                             close_kind="operator", state="skipped" if score == "skip" else "answered" if score else "sent",
                             score=score if score != "skip" else None))
    async with sessions() as s:
        report = await reports.brand_report(s, desk["brand_id"], _range())
    sat = report["satisfaction"]
    assert (sat["answers"], sat["csat"], sat["mean"], sat["sent"], sat["skipped"]) == (3, 0.667, 2.33, 4, 1)
    [ana_row] = report["operators"]
    assert ana_row["csat"]["answers"] == 3 and ana_row["csat"]["poor"] == 1
