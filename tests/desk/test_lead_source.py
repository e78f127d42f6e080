"""A lead knows the ad or post its chat came from (Meta's referral), and says so to the
CRM (Zoho's Description, the webhook's `source`), on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest

from desk.integrations.webhook import lead_event
from desk.integrations.zoho import lead_record
from desk.services import conversations, leads, referrals
from tests.desk.seed import PNID, brand_with_number

pytestmark = pytest.mark.usefixtures("mid_month_clock")

AD = {"source_type": "ad", "source_id": "120208", "source_url": "https://fb.me/kumo-spring",
      "headline": "Spring sale: mugs -20%", "body": "Tap to ask us", "media_type": "image",
      "image_url": "https://scontent.example/x.jpg", "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMXP6IkC4"}


async def _chat(s, wa_id: str, referral: dict | None):
    chat, _ = await conversations.record_inbound(
        s, phone_number_id=PNID, wa_id=wa_id, profile_name="Priya Raman", wamid=f"wamid.src.{wa_id}",
        type="text", body="Hi, is the sale still on?", payload={"referral": referral} if referral else {},
        wa_timestamp=dt.datetime(2026, 6, 17, 9, tzinfo=dt.timezone.utc))
    return chat


async def test_a_lead_from_an_ad_carries_the_ad(sessions, monkeypatch):
    monkeypatch.setenv("CRM_ADAPTER", "webhook")
    async with sessions() as s, s.begin():
        await brand_with_number(s)
        chat = await _chat(s, "447700900789", AD)
        lead = await leads.save_lead(s, wa_id="447700900789", phone_number_id=PNID, name="Priya Raman",
                                     email="priya@mugs.example", company="Mugs Ltd", interest="200 mugs",
                                     consent=True, chat_id=chat.id)
        assert lead.source == {"type": "ad", "id": "120208", "headline": "Spring sale: mugs -20%",
                               "url": "https://fb.me/kumo-spring", "body": "Tap to ask us",
                               "ctwa_clid": AD["ctwa_clid"]}
        record = lead_record(lead, lead.contact)
        assert record["Lead_Source"] == "WhatsApp"
        assert record["Description"] == "200 mugs\nSource: WhatsApp ad: Spring sale: mugs -20%"
        assert lead_event(lead, lead.contact)["data"]["source"]["headline"] == "Spring sale: mugs -20%"


async def test_a_lead_without_a_referral_has_no_source(sessions, monkeypatch):
    monkeypatch.setenv("CRM_ADAPTER", "webhook")
    async with sessions() as s, s.begin():
        await brand_with_number(s)
        chat = await _chat(s, "447700900790", None)
        lead = await leads.save_lead(s, wa_id="447700900790", phone_number_id=PNID, name="Lou Reed",
                                     email=None, company=None, interest="a quote", consent=True, chat_id=chat.id)
        assert lead.source is None
        assert lead_record(lead, lead.contact)["Description"] == "a quote"


def test_a_source_is_described_in_one_line():
    assert referrals.describe(None) == "WhatsApp"
    assert referrals.describe({"type": "post", "url": "https://instagram.com/p/1"}) == "WhatsApp post: https://instagram.com/p/1"
    assert referrals.describe({"type": "something_new"}) == "WhatsApp referral"
    assert referrals.source_of({"source_type": "ad", "image_url": "https://x/y.jpg"}) == {"type": "ad"}
