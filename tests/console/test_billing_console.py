"""The console's billing parts (desk.billing): the reply box without credit, templates
outside the 24-hour window, and the admin pages for credits and templates."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

import pytest

from desk.billing import policy
from desk.models import Chat, Message, MessageTemplate, OutboxMessage, utcnow
from simulator import SimConfig
from simulator import create_app as create_sim
from tests.console.conftest import SUPPORT_NUMBER, signed_in


pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock


META_TOKEN = "console-test-token"


@pytest.fixture
async def meta(aiohttp_client, monkeypatch):
    """Meta (the simulator, a real HTTP server) reviewing templates; the console reaches
    it as the desk process does, through WHATSAPP_GRAPH_API_URL / WHATSAPP_ACCESS_TOKEN."""
    sim = await aiohttp_client(create_sim(SimConfig(
        webhook_url="http://127.0.0.1:9/unused", app_secret="s", access_token=META_TOKEN,
        phone_number_id=SUPPORT_NUMBER, waba_id="200000000000001", webhook_max_attempts=1,
        template_auto_approve=False)))
    monkeypatch.setenv("WHATSAPP_GRAPH_API_URL", str(sim.make_url("/v21.0")))
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", META_TOKEN)
    return sim


async def _picked_chat(desk, make_console, **kw):
    chat_id = await desk.seed_chat("447700900001", **kw)
    alice = await signed_in(make_console, "alice")
    assert (await alice.post(f"/api/chats/{chat_id}/pick")).status == 200
    return chat_id, alice


async def test_without_free_tier_or_credit_the_reply_box_says_why(make_console, desk, monkeypatch):
    monkeypatch.setattr(policy, "FREE_TIER_PER_MONTH", 0)  # this month's free conversations are used up
    chat_id, alice = await _picked_chat(desk, make_console)
    composer = (await (await alice.get(f"/api/chats/{chat_id}")).json())["composer"]
    assert (composer["enabled"], composer["kind"]) == (False, "credits")
    assert "no credit left" in composer["reason"]
    refused = await alice.post(f"/api/chats/{chat_id}/reply", {"text": "Hello?"})
    assert refused.status == 409 and "an admin must buy credits" in (await refused.json())["error"]

    admin = await signed_in(make_console, "ada")
    page = await (await admin.get("/api/admin/credits")).json()
    assert (page["balance_usd"], page["price"]) == ("0.00", {"credit_usd": "2.00", "fee_rate": "0.03"})
    assert page["warning"] and "no credit left" in page["warning"]
    assert [u["month"] for u in page["usage"]][-1] == utcnow().strftime("%Y-%m") and len(page["usage"]) == 6
    bad = await admin.post("/api/admin/credits", {"credits": 0})
    assert bad.status == 422
    bought = await admin.post("/api/admin/credits", {"credits": 2})
    assert bought.status == 201
    assert await bought.json() == {"credits": 2, "value_usd": "4.00", "fee_usd": "0.12", "total_usd": "4.12",
                                   "balance_usd": "4.00"}

    composer = (await (await alice.get(f"/api/chats/{chat_id}")).json())["composer"]
    assert (composer["enabled"], composer["kind"]) == (True, "ok")
    assert (await alice.post(f"/api/chats/{chat_id}/reply", {"text": "Hello Kerry!"})).status == 201
    page = await (await admin.get("/api/admin/credits")).json()
    assert float(page["balance_usd"]) < 4.0                            # the conversation was charged
    assert page["usage"][-1]["paid"] == 1 and page["usage"][-1]["total"] == 1
    assert [e["kind"] for e in page["ledger"]] == ["conversation", "purchase"]   # newest first
    assert page["ledger"][1]["fee_usd"] == "0.12" and page["ledger"][1]["by"] == "ada@acme.test"
    assert page["free_tier"] == [{"waba": {"id": "200000000000001", "name": "Acme WABA"}, "used": 1, "limit": 0}]


async def test_outside_the_window_the_box_offers_approved_templates(make_console, desk, meta):
    old = utcnow() - dt.timedelta(hours=30)
    chat_id, alice = await _picked_chat(desk, make_console, user_wrote_at=old)
    composer = (await (await alice.get(f"/api/chats/{chat_id}")).json())["composer"]
    assert (composer["enabled"], composer["kind"], composer["templates"]) == (False, "window", [])
    assert "No approved templates" in composer["template_reason"]
    refused = await alice.post(f"/api/chats/{chat_id}/reply", {"text": "Are you there?"})
    assert refused.status == 409 and "24 hours" in (await refused.json())["error"]

    admin = await signed_in(make_console, "ada")
    resp = await admin.post("/api/admin/templates", {
        "waba_id": "200000000000001", "name": "order_update", "language": "en", "category": "UTILITY",
        "body": "Hi {{1}}, there is news about your order {{2}}.", "footer": "Acme support"})
    assert resp.status == 201, await resp.text()
    template = await resp.json()
    assert (template["status"], template["params"]) == ("PENDING", {"header": 0, "body": 2})
    [at_meta] = [t for t in (await (await meta.get("/_sim/templates")).json())["templates"]
                 if t["name"] == "order_update"]
    assert (at_meta["status"], at_meta["id"]) == ("PENDING", template["meta_template_id"])
    bad = await admin.post("/api/admin/templates", {"waba_id": "200000000000001", "name": "Bad Name",
                                                    "language": "en", "category": "UTILITY", "body": "x"})
    assert bad.status == 422 and "lowercase" in (await bad.json())["error"]
    # Meta refuses (it has the name and language already): said clearly, nothing stored.
    assert (await meta.post("/_sim/templates", json={"name": "welcome", "language": "en", "body": "Hi",
                                                     "status": "APPROVED"})).status == 201
    dup = await admin.post("/api/admin/templates", {"waba_id": "200000000000001", "name": "welcome",
                                                    "language": "en", "category": "UTILITY", "body": "Hi"})
    assert dup.status == 422 and "Meta refused template welcome (en)" in (await dup.json())["error"]
    async with desk.sessions() as session:
        assert [t.name for t in (await session.execute(select(MessageTemplate))).scalars()] == ["order_update"]
    # Pending: not offered yet.
    assert (await (await alice.get(f"/api/chats/{chat_id}")).json())["composer"]["templates"] == []
    # Meta approves it; "Sync with Meta" brings the review (and Meta's other templates).
    assert (await meta.post("/_sim/templates", json={"name": "order_update", "language": "en",
                                                     "status": "APPROVED"})).status == 201
    resp = await admin.post("/api/admin/templates/sync", {})
    assert resp.status == 200, await resp.text()
    [report] = (await resp.json())["wabas"]
    assert report["updated"] == ["order_update (en)"] and sorted(report["created"]) == [
        "hello_world (en_US)", "welcome (en)"]
    listed = {t["name"]: t["status"] for t in await (await admin.get("/api/admin/templates")).json()}
    assert listed == {"order_update": "APPROVED", "hello_world": "APPROVED", "welcome": "APPROVED"}
    composer = (await (await alice.get(f"/api/chats/{chat_id}")).json())["composer"]
    assert "order_update" in [t["name"] for t in composer["templates"]] and composer["template_reason"] is None

    wrong = await alice.post(f"/api/chats/{chat_id}/template", {"name": "order_update", "language": "en",
                                                                "body_params": ["Kerry"]})
    assert wrong.status == 422 and "needs 2 body parameter" in (await wrong.json())["error"]
    resp = await alice.post(f"/api/chats/{chat_id}/template", {"name": "order_update", "language": "en",
                                                               "body_params": ["Kerry", "#A-20931"]})
    assert resp.status == 201, await resp.text()
    sent = (await resp.json())["message"]
    assert (sent["type"], sent["sender"], sent["body"]) == (
        "template", "operator", "Hi Kerry, there is news about your order #A-20931.")
    async with desk.sessions() as session:
        row = (await session.execute(select(OutboxMessage))).scalar_one()
        assert row.request["template"]["name"] == "order_update"
        assert [p["text"] for p in row.request["template"]["components"][0]["parameters"]] == ["Kerry", "#A-20931"]

    carol = await signed_in(make_console, "carol")  # not her chat
    resp = await carol.post(f"/api/chats/{chat_id}/template", {"name": "order_update", "language": "en",
                                                               "body_params": ["a", "b"]})
    assert resp.status == 409


async def test_credits_and_templates_are_for_admins(make_console, desk):
    alice = await signed_in(make_console, "alice")
    for method, path in (("get", "/api/admin/credits"), ("post", "/api/admin/credits"),
                         ("get", "/api/admin/templates"), ("post", "/api/admin/templates"),
                         ("put", "/api/admin/templates/1/status"), ("post", "/api/admin/templates/sync")):
        assert (await getattr(alice, method)(path, **({} if method == "get" else {"json": {}}))).status == 403
    admin = await signed_in(make_console, "ada")
    resp = await admin.client.post("/api/admin/credits", json={"credits": 5})  # no CSRF token
    assert resp.status == 403


async def test_an_admin_sets_the_low_balance_warning(make_console, desk):
    admin = await signed_in(make_console, "ada")
    page = await (await admin.get("/api/admin/credits")).json()
    assert page["low_balance_threshold_usd"] == "10.00"  # the default
    resp = await admin.put("/api/admin/credits/warning", {"usd": "20"})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["low_balance_threshold_usd"] == "20.00"
    assert (await admin.post("/api/admin/credits", {"credits": 15})).status == 201   # USD 30
    page = await (await admin.get("/api/admin/credits")).json()
    assert (page["low_balance_threshold_usd"], page["low_balance"], page["warning"]) == ("20.00", False, None)
    resp = await admin.put("/api/admin/credits/warning", {"usd": 40.5})
    body = await resp.json()
    assert resp.status == 200 and body["low_balance"] is True
    assert "below the warning level of USD 40.50" in body["warning"]
    page = await (await admin.get("/api/admin/credits")).json()
    assert page["low_balance_threshold_usd"] == "40.50" and "below the warning level" in page["warning"]
    for bad in ("-1", "abc", "1e3", "20.123", "", None, True, [], "NaN", "12345678"):
        resp = await admin.put("/api/admin/credits/warning", {"usd": bad})
        assert resp.status == 422, bad
        assert "warning level in USD" in (await resp.json())["error"]
    assert (await admin.put("/api/admin/credits/warning", {"usd": "0"})).status == 200
    page = await (await admin.get("/api/admin/credits")).json()
    assert (page["low_balance_threshold_usd"], page["warning"]) == ("0.00", None)
    # Admins only, and with the CSRF token.
    alice = await signed_in(make_console, "alice")
    assert (await alice.put("/api/admin/credits/warning", {"usd": "5"})).status == 403
    assert (await admin.client.put("/api/admin/credits/warning", json={"usd": "5"})).status == 403
    page = await (await admin.get("/api/admin/credits")).json()
    assert page["low_balance_threshold_usd"] == "0.00"


async def test_the_monthly_billing_report_downloads_as_csv(make_console, desk):
    import csv
    import io
    from decimal import Decimal

    from desk.billing import report
    from desk.models import BilledConversation, ConversationCategory

    month = utcnow().strftime("%Y-%m")
    at = utcnow().replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    async with desk.sessions() as session, session.begin():
        for i, (market, free) in enumerate((("United Kingdom", True), ("United Kingdom", False), ("Japan", False))):
            session.add(BilledConversation(
                brand_id=desk.brand_id, waba_id="200000000000001", phone_number_id="100000000000001",
                wa_id=f"44770090{i:04d}", market=market, category=ConversationCategory.user_initiated,
                opened_at=at, expires_at=at + dt.timedelta(hours=24), month=month, state="open", billable=True,
                free_tier=free, rate_micros=38800, cost_micros=0 if free else 38800, opened_by="operator"))
    admin = await signed_in(make_console, "ada")
    assert (await admin.post("/api/admin/credits", {"credits": 2})).status == 201
    resp = await admin.get(f"/api/admin/credits/report?month={month}")
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert resp.headers["Content-Disposition"] == f'attachment; filename="tsunagi-billing-acme-{month}.csv"'
    text = await resp.text()
    async with desk.sessions() as session:
        assert text == report.to_csv(await report.monthly_report(session, desk.brand_id, month))
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == report.CSV_COLUMNS
    figures = {(r[0], r[1]): r[3:6] + [Decimal(r[6])] for r in rows[1:]}
    assert figures[("conversations", "United Kingdom")] == ["2", "1", "1", Decimal("0.0388")]
    assert figures[("conversations", "Japan")] == ["1", "0", "1", Decimal("0.0388")]
    assert figures[("conversations_total", "")] == ["3", "1", "2", Decimal("0.0776")]
    assert figures[("credits_bought", "")][-1] == 2
    # A month without anything is an empty report, not an error.
    empty = await admin.get("/api/admin/credits/report?month=2001-01")
    assert empty.status == 200
    totals = [r for r in csv.reader(io.StringIO(await empty.text())) if r[0] == "conversations_total"]
    assert [r[3:6] + [Decimal(r[6])] for r in totals] == [["0", "0", "0", 0]]
    for bad in ("2026-13", "2026-1", "", "../../etc", "2026-11-01"):
        resp = await admin.get("/api/admin/credits/report", params={"month": bad})
        assert resp.status == 400 and "YYYY-MM" in (await resp.json())["error"]
    alice = await signed_in(make_console, "alice")
    assert (await alice.get(f"/api/admin/credits/report?month={month}")).status == 403
