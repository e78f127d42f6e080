"""Issue 13, reports through the console API: admins only, the brand's own chats,
a date range in the browser's time zone, CSV export."""
from __future__ import annotations

import pytest


from tests.console.conftest import SALES_NUMBER, signed_in

pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock


async def test_an_admin_sees_the_brands_figures_and_can_filter_them(make_console, desk):
    await desk.seed_chat("447700900101")                                  # handed off: Support
    await desk.seed_chat("447700900102", hand_off=False)                  # with the bot
    await desk.seed_chat("447700900103", number=SALES_NUMBER)             # handed off: Sales
    ada = await signed_in(make_console, "ada")
    resp = await ada.get("/api/reports?tz=Asia/Tokyo")
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    assert (report["totals"]["chats"], report["totals"]["handed_off"]) == (3, 2)
    assert report["range"] == {"start": "2026-05-19", "end": "2026-06-17", "tz": "Asia/Tokyo"}
    assert report["handoff_reasons"] == {"asked": 2}
    assert {d["name"]: d["chats"] for d in report["by_department"]} == {"Support": 1, "Sales": 1, "bot only": 1}
    sales = await (await ada.get(f"/api/reports?number={SALES_NUMBER}")).json()
    assert sales["totals"]["chats"] == 1
    support = await (await ada.get(f"/api/reports?department={desk.departments['Support']}")).json()
    assert support["totals"]["chats"] == 1
    earlier = await (await ada.get("/api/reports?start=2026-01-01&end=2026-01-31")).json()
    assert earlier["totals"]["chats"] == 0 and len(earlier["per_day"]) == 31


async def test_csv_export_downloads_the_same_figures(make_console, desk):
    await desk.seed_chat("447700900104")
    ada = await signed_in(make_console, "ada")
    resp = await ada.get("/api/reports?format=csv&start=2026-06-01&end=2026-06-30")
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert 'filename="tsunagi-report-2026-06-01-2026-06-30.csv"' in resp.headers["Content-Disposition"]
    text = await resp.text()
    assert "chats,1" in text and "handed_off,1" in text and "2026-06-17,1" in text


async def test_operators_may_not_read_reports(make_console, desk):
    alice = await signed_in(make_console, "alice")
    resp = await alice.get("/api/reports")
    assert resp.status == 403


@pytest.mark.parametrize("query,error", [
    ("start=2026-06-10&end=2026-06-01", "starts after"), ("tz=Nowhere/Land", "time zone"),
    ("start=yesterday", "YYYY-MM-DD"), ("department=sales", "must be a number"),
])
async def test_bad_ranges_get_a_clear_400(make_console, desk, query, error):
    ada = await signed_in(make_console, "ada")
    resp = await ada.get(f"/api/reports?{query}")
    assert resp.status == 400 and error in (await resp.json())["error"]


async def test_an_admin_turns_surveys_on_and_a_chat_shows_its_rating(make_console, desk):
    from sqlalchemy import select

    from desk.models import Chat, CsatSurvey
    from desk.services import csat, routing
    from desk.models import utcnow

    ada = await signed_in(make_console, "ada")
    off = await (await ada.get("/api/admin/csat")).json()
    assert (off["enabled"], off["skip"], off["close_kinds"]) == (False, ["bot", "unattended"],
                                                                  ["operator", "unattended", "idle", "bot"])
    bad = await ada.put("/api/admin/csat", json={"enabled": True, "skip": ["everyone"]})
    assert bad.status == 422 and "close kinds" in (await bad.json())["error"]
    on = await ada.put("/api/admin/csat", json={"enabled": True, "delay_minutes": 0, "skip": [],
                                                "question": "Rate us?"})
    assert on.status == 200, await on.text()
    assert (await on.json())["question"]["en"] == "Rate us?" and (await on.json())["enabled_at"]
    chat_id = await desk.seed_chat("447700900105")
    async with desk.sessions() as s, s.begin():
        await routing.close(s, chat_id, by="ada@acme.test", reason="done")
    async with desk.sessions() as s, s.begin():
        assert (await csat.run_once(s, now=utcnow())).sent == 1
        survey = (await s.execute(select(CsatSurvey))).scalar_one()
        chat = await s.get(Chat, chat_id)
        assert await csat.take_reply(s, phone_number_id=chat.phone_number_id, wa_id="447700900105",
                                     type="interactive", text="🙁 Poor", reply_payload=f"csat:{survey.id}:1",
                                     wamid="wamid.csat1", raw={}, at=utcnow())
    detail = await (await ada.get(f"/api/chats/{chat_id}")).json()
    assert (detail["csat"]["score"], detail["csat"]["label"], detail["csat"]["state"]) == (1, "🙁 Poor", "answered")
    report = await (await ada.get("/api/reports")).json()
    assert report["satisfaction"]["answers"] == 1 and report["satisfaction"]["poor"] == 1


async def _manager(desk, email="mia@acme.test"):
    from desk.models import Operator, Role
    from tests.console.conftest import password_hash

    async with desk.sessions() as s, s.begin():
        s.add(Operator(brand_id=desk.brand_id, email=email, name="Mia Manager", role=Role.manager,
                       password_hash=password_hash()))


async def test_a_manager_reads_the_reports_and_changes_nothing(make_console, desk):
    chat_id = await desk.seed_chat("447700900106")
    await _manager(desk)
    mia = await make_console()
    await mia.login("mia@acme.test")
    report = await mia.get("/api/reports")
    assert report.status == 200 and (await report.json())["totals"]["chats"] == 1
    assert [d["name"] for d in (await report.json())["filters"]["departments"]] == ["Sales", "Support"]
    assert (await mia.get("/api/admin/csat")).status == 403
    assert (await mia.get(f"/api/chats/{chat_id}")).status == 404       # no department: no chat
    for method, path, payload in [("put", "/api/me/status", {"status": "online"}),
                                  ("post", f"/api/chats/{chat_id}/pick", {}),
                                  ("put", "/api/admin/csat", {"enabled": True})]:
        resp = await getattr(mia, method)(path, json=payload)
        assert resp.status == 403, (path, resp.status)
    assert (await mia.post("/api/logout")).status in (200, 204)


async def test_managers_get_no_departments_and_an_operator_with_open_chats_stays_one(make_console, desk):
    ada = await signed_in(make_console, "ada")
    bad = await ada.post("/api/admin/operators", json={"email": "max@acme.test", "name": "Max", "role": "manager",
                                                       "password": "correct horse battery",
                                                       "department_ids": [desk.departments["Support"]]})
    assert bad.status == 422 and "no departments" in (await bad.json())["error"]
    await desk.set_status("alice", __import__("desk.models", fromlist=["OperatorStatus"]).OperatorStatus.online)
    await desk.seed_chat("447700900107")                                   # assigned to Alice
    busy = await ada.put(f"/api/admin/operators/{desk.operators['carol']}", json={"role": "manager"})
    assert busy.status == 200 and ((await busy.json())["role"], (await busy.json())["departments"]) == ("manager", [])
    alice = await ada.put(f"/api/admin/operators/{desk.operators['alice']}", json={"role": "manager"})
    assert alice.status == 422 and "open chats" in (await alice.json())["error"]
