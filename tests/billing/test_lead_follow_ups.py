"""The action server's next-day lead follow-ups (actions/lead_follow_ups.py), on the real desk database."""
import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from actions import lead_follow_ups
from desk.models import Lead, OutboxMessage, utcnow
from desk.services.leads import save_lead
from tests.billing.helpers import DE_USER, PNID_A, brand, fill_tier, register_demo_templates


pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock


DAY = dt.timedelta(hours=24)


@pytest.fixture
async def desk(sessions, database_url, monkeypatch):
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    async with sessions() as s, s.begin():
        b = await brand(s)
        await register_demo_templates(s)
        lead = await save_lead(s, wa_id=DE_USER, phone_number_id=PNID_A, name="Aiko Tanaka", email="a@example.com",
                               company=None, interest="tea sets", consent=True)
        no_consent = await save_lead(s, wa_id="491701234599", phone_number_id=PNID_A, name="Ben Weber",
                                     email="b@example.com", company=None, interest="mugs", consent=False)
        return {**b, "lead_id": lead.id, "no_consent_id": no_consent.id, "captured": lead.created_at}


async def lead_row(sessions, lead_id):
    async with sessions() as s:
        return await s.get(Lead, lead_id)


async def outbox_count(sessions):
    async with sessions() as s:
        return (await s.execute(select(func.count(OutboxMessage.id)))).scalar_one()


async def test_a_lead_is_followed_up_once_after_the_delay(sessions, desk):
    captured = desk["captured"]
    assert await lead_follow_ups.run_once(DAY, now=captured + DAY - dt.timedelta(minutes=1)) == \
        {"queued": 0, "refused": 0}
    assert (await lead_row(sessions, desk["lead_id"])).follow_up_state is None

    assert (await lead_follow_ups.run_once(DAY, now=captured + DAY))["queued"] == 1
    lead = await lead_row(sessions, desk["lead_id"])
    assert (lead.follow_up_state, lead.follow_up_reason) == ("queued", None)
    assert await outbox_count(sessions) == 1
    # Later rounds (or a restarted server) do not send it again; no consent, no follow-up.
    assert await lead_follow_ups.run_once(DAY, now=captured + 2 * DAY) == {"queued": 0, "refused": 0}
    assert await outbox_count(sessions) == 1
    assert (await lead_row(sessions, desk["no_consent_id"])).follow_up_state is None


async def test_a_refused_follow_up_keeps_its_reason(sessions, desk):
    async with sessions() as s, s.begin():
        await fill_tier(s, desk["brand_id"], 1000, utcnow().replace(day=1, hour=0, minute=0, second=0,
                                                                      microsecond=0))
    assert (await lead_follow_ups.run_once(DAY, now=utcnow() + DAY))["refused"] == 1
    lead = await lead_row(sessions, desk["lead_id"])
    assert lead.follow_up_state == "refused" and lead.follow_up_reason.startswith("no credit")
    assert await outbox_count(sessions) == 0


async def test_two_servers_send_a_follow_up_once(sessions, desk):
    later = utcnow() + DAY
    results = await asyncio.gather(lead_follow_ups.run_once(DAY, now=later), lead_follow_ups.run_once(DAY, now=later))
    assert sorted(r["queued"] for r in results) == [0, 1]
    assert await outbox_count(sessions) == 1


async def test_off_when_the_delay_is_zero(sessions, desk, monkeypatch):
    monkeypatch.setenv("LEAD_FOLLOW_UP_AFTER_HOURS", "0")
    assert lead_follow_ups.after_from_env() is None
    assert await lead_follow_ups.run_once(now=utcnow() + 10 * DAY) == {"queued": 0, "refused": 0}
    monkeypatch.setenv("LEAD_FOLLOW_UP_AFTER_HOURS", "soon")
    with pytest.raises(SystemExit, match="LEAD_FOLLOW_UP_AFTER_HOURS"):
        lead_follow_ups.after_from_env()


JA_FOLLOW_UP = [{"type": "BODY", "text": "{{1}}様、{{2}}についてのお問い合わせありがとうございました。"
                 "ご不明な点がございましたら、このチャットにご返信ください。"}]


async def japanese_lead(sessions, *, with_template: bool, wa_id: str = "819012345678"):
    """A lead who wrote in Japanese (their chat's language is ja)."""
    from desk.billing import templates
    from tests.billing.helpers import WABA_1, user_wrote

    async with sessions() as s, s.begin():
        if with_template:
            await templates.register(s, waba_id=WABA_1, name="lead_follow_up", language="ja", category="MARKETING",
                                     components=JA_FOLLOW_UP, status="APPROVED")
        chat = await user_wrote(s, wa_id, utcnow() - dt.timedelta(minutes=5), text="ティーセットについて知りたいです")
        assert chat.language == "ja"
        lead = await save_lead(s, wa_id=wa_id, phone_number_id=PNID_A, name="田中 愛子", email="aiko@example.jp",
                               company=None, interest="ティーセット", consent=True, chat_id=chat.id)
        return lead.id


async def sent_languages(sessions) -> dict[str, str]:
    async with sessions() as s:
        rows = (await s.execute(select(OutboxMessage.wa_id, OutboxMessage.request))).all()
    return {wa_id: request["template"]["language"]["code"] for wa_id, request in rows}


async def test_the_follow_up_goes_in_the_lead_s_language_when_the_template_has_it(sessions, desk, monkeypatch):
    monkeypatch.delenv("LEAD_FOLLOW_UP_LANGUAGE", raising=False)
    await japanese_lead(sessions, with_template=True)
    assert (await lead_follow_ups.run_once(DAY, now=utcnow() + DAY))["queued"] == 2
    # The Japanese lead gets the ja variant, the English-writing (no chat) one LEAD_FOLLOW_UP_LANGUAGE's.
    assert await sent_languages(sessions) == {"819012345678": "ja", DE_USER: "en_US"}


async def test_without_a_variant_in_the_lead_s_language_it_falls_back(sessions, desk, monkeypatch):
    monkeypatch.delenv("LEAD_FOLLOW_UP_LANGUAGE", raising=False)
    lead_id = await japanese_lead(sessions, with_template=False)
    assert (await lead_follow_ups.run_once(DAY, now=utcnow() + DAY))["queued"] == 2
    assert (await sent_languages(sessions))["819012345678"] == "en_US"
    assert (await lead_row(sessions, lead_id)).follow_up_state == "queued"
