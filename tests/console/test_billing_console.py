"""The console's billing parts (desk.billing): the reply box without credit, templates
outside the 24-hour window, and the admin pages for credits and templates."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from desk.billing import policy
from desk.models import Chat, Message, OutboxMessage, utcnow
from tests.console.conftest import signed_in


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


async def test_outside_the_window_the_box_offers_approved_templates(make_console, desk):
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
    bad = await admin.post("/api/admin/templates", {"waba_id": "200000000000001", "name": "Bad Name",
                                                    "language": "en", "category": "UTILITY", "body": "x"})
    assert bad.status == 422 and "lowercase" in (await bad.json())["error"]
    # Pending: not offered yet.
    assert (await (await alice.get(f"/api/chats/{chat_id}")).json())["composer"]["templates"] == []
    resp = await admin.put(f"/api/admin/templates/{template['id']}/status", {"status": "APPROVED"})
    assert resp.status == 200 and (await resp.json())["status"] == "APPROVED"
    composer = (await (await alice.get(f"/api/chats/{chat_id}")).json())["composer"]
    assert [t["name"] for t in composer["templates"]] == ["order_update"] and composer["template_reason"] is None

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
                         ("put", "/api/admin/templates/1/status")):
        assert (await getattr(alice, method)(path, **({} if method == "get" else {"json": {}}))).status == 403
    admin = await signed_in(make_console, "ada")
    resp = await admin.client.post("/api/admin/credits", json={"credits": 5})  # no CSRF token
    assert resp.status == 403
