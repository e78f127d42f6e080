"""Per-message pricing in the console: an admin sets a WABA's pricing model; the
operator's reply box and template picker say what a message costs now."""
from __future__ import annotations

import datetime as dt

import pytest

from desk.models import Brand, WhatsAppBusinessAccount
from tests.clock import clock_from
from tests.console.conftest import signed_in

WABA = "200000000000001"


@pytest.fixture(autouse=True)
def october_clock():
    """A day of the 2026-10-01 rate card (service messages priced), mid-month."""
    with clock_from(dt.datetime(2026, 10, 14, 10, 0, tzinfo=dt.timezone.utc)):
        yield


async def test_an_admin_sets_the_pricing_model_of_their_own_wabas_only(make_console, desk):
    async with desk.sessions() as s, s.begin():
        other = Brand(name="Globex")
        s.add(other)
        await s.flush()
        s.add(WhatsAppBusinessAccount(id="299", brand_id=other.id, name="Globex WABA"))
    ada = await signed_in(make_console, "ada")
    assert [w["pricing_model"] for w in await (await ada.get("/api/admin/wabas")).json()] == ["conversation"]
    bad = await ada.put(f"/api/admin/wabas/{WABA}/pricing", {"pricing_model": "cbp"})
    assert bad.status == 400 and "conversation, pmp" in (await bad.json())["error"]
    foreign = await ada.put("/api/admin/wabas/299/pricing", {"pricing_model": "pmp"})
    missing = await ada.put("/api/admin/wabas/298/pricing", {"pricing_model": "pmp"})
    # Another brand's WABA is answered exactly as one that does not exist.
    assert foreign.status == missing.status == 404 and await foreign.json() == await missing.json()
    async with desk.sessions() as s:
        assert (await s.get(WhatsAppBusinessAccount, "299")).pricing_model == "conversation"
    ok = await ada.put(f"/api/admin/wabas/{WABA}/pricing", {"pricing_model": "pmp"})
    assert ok.status == 200 and (await ok.json())["pricing_model"] == "pmp"
    alice = await signed_in(make_console, "alice")
    assert (await alice.put(f"/api/admin/wabas/{WABA}/pricing", {"pricing_model": "conversation"})).status == 403


async def test_the_reply_box_shows_the_price_by_the_waba_s_model(make_console, desk):
    chat_id = await desk.seed_chat("4915112345678")   # a user in Germany
    alice = await signed_in(make_console, "alice")
    assert (await alice.post(f"/api/chats/{chat_id}/pick")).status == 200
    price = (await (await alice.get(f"/api/chats/{chat_id}")).json())["composer"]["price"]
    assert (price["pricing_model"], price["free"]) == ("conversation", True)
    assert "free tier" in price["reason"] or "open conversation" in price["reason"]

    ada = await signed_in(make_console, "ada")
    assert (await ada.put(f"/api/admin/wabas/{WABA}/pricing", {"pricing_model": "pmp"})).status == 200
    price = (await (await alice.get(f"/api/chats/{chat_id}")).json())["composer"]["price"]
    assert (price["pricing_model"], price["usd"], price["free"]) == ("pmp", "0.00", True)
    assert "1000 free service messages" in price["reason"]
    # The console says the reason in the operator's language: a catalog key and its words.
    from desk.i18n import catalog
    assert price["reason_key"] == "price.reason.service_free_quota" and price["reason_params"] == {"free": "1000"}
    assert "無料サービスメッセージ" in catalog("ja")[price["reason_key"]]
