"""What the console shows of a coexistence number's webhooks and Meta's template
ratings (issue 12): the address-book name in the contact panel, past messages marked
as such, the template's quality on the admin's Templates page, and the admins' count
of templates that need attention (operators do not get it)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from desk.billing import templates
from desk.models import Contact, MessageTemplate, utcnow
from desk.services import history
from tests.console.conftest import SUPPORT_NUMBER, signed_in

WABA = "200000000000001"


async def test_the_contact_panel_and_the_transcript_show_the_business_app_s_side(desk, make_console):
    chat_id = await desk.seed_chat("447700900001")
    async with desk.sessions() as s, s.begin():
        contact = (await s.execute(select(Contact).where(Contact.wa_id == "447700900001"))).scalar_one()
        contact.address_book_name, contact.address_book_at = "Kerry (bakery)", utcnow()
        await history.record_past(s, phone_number_id=SUPPORT_NUMBER, wa_id="447700900001", user_id=None,
                                  wamid="wamid.past1", type="text", body="Last week's order?", payload={},
                                  wa_timestamp=utcnow().replace(microsecond=0) - dt.timedelta(days=7),
                                  from_business=False)
    admin = await signed_in(make_console, "ada")
    view = await (await admin.get(f"/api/chats/{chat_id}")).json()
    assert view["contact"]["address_book_name"] == "Kerry (bakery)"
    shown = (await (await admin.get(f"/api/chats/{chat_id}/messages")).json())["messages"]
    assert [(m["body"], m.get("past", False)) for m in shown] == [
        ("Last week's order?", True), ("hello", False), ("I want a person", False)]


async def test_template_quality_is_listed_and_counted_for_admins_only(desk, make_console):
    async with desk.sessions() as s, s.begin():
        for name, status, quality in (("spring_sale", "APPROVED", "RED"), ("order_update", "APPROVED", "GREEN"),
                                      ("old_promo", "PAUSED", "YELLOW"), ("welcome", "APPROVED", None)):
            t = await templates.register(s, waba_id=WABA, name=name, language="en_US", category="MARKETING",
                                         status=status, components=[{"type": "BODY", "text": "Hi"}])
            t.quality_score = quality
    admin, alice = await signed_in(make_console, "ada"), await signed_in(make_console, "alice")
    listed = {t["name"]: (t["quality"], t["attention"]) for t in await (await admin.get("/api/admin/templates")).json()}
    assert listed == {"spring_sale": ("RED", "red"), "order_update": ("GREEN", None),
                      "old_promo": ("YELLOW", "paused"), "welcome": (None, None)}
    assert (await (await admin.get("/api/counts")).json())["template_warnings"] == 2
    assert "template_warnings" not in await (await alice.get("/api/counts")).json()
    async with desk.sessions() as s, s.begin():
        t = (await s.execute(select(MessageTemplate).where(MessageTemplate.name == "spring_sale"))).scalar_one()
        t.quality_score = "YELLOW"
    assert (await (await admin.get("/api/counts")).json())["template_warnings"] == 1
