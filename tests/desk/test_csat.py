"""Satisfaction surveys on a real database: one per closed chat, buttons inside the
window, a template outside it, skipped with a reason; a tap and a comment recorded."""
import datetime as dt

import pytest
from sqlalchemy import select, update

from desk.models import Chat, CsatSurvey, Message, OutboxMessage, WhatsAppBusinessAccount
from desk.services import csat, routing, settings
from tests.clock import MID_MONTH, clock_from
from tests.desk import seed

pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
async def desk(sessions):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        waba = await s.get(WhatsAppBusinessAccount, number.waba_id)
        await settings.update(s, waba.brand_id, csat={"enabled": True, "delay_minutes": 5})
        return {"brand_id": waba.brand_id, "waba": waba.id}


async def _closed_chat(sessions, wa_id, *, by="ana@example.com", reason="resolved", wrote=None):
    async with sessions() as s, s.begin():
        chat = await seed.chat_from(s, wa_id, at=wrote or MID_MONTH.replace(microsecond=0))
        await routing.close(s, chat.id, by=by, reason=reason)
        return chat.id


async def _sweep(sessions, at):
    async with sessions() as s, s.begin():
        return await csat.run_once(s, now=at)


async def _outbox_for(sessions, chat_id):
    async with sessions() as s:
        return (await s.execute(select(OutboxMessage.request).join(Message, Message.id == OutboxMessage.message_id)
                                .where(Message.chat_id == chat_id))).scalars().all()


async def test_a_closed_chat_gets_one_survey_with_three_buttons_after_the_delay(sessions, desk):
    chat_id = await _closed_chat(sessions, "447700900001")
    assert (await _sweep(sessions, MID_MONTH + 2 * MINUTE)).sent == 0          # the brand's delay: 5 minutes
    assert (await _sweep(sessions, MID_MONTH + 6 * MINUTE)).sent == 1
    assert (await _sweep(sessions, MID_MONTH + 7 * MINUTE)).sent == 0          # exactly once
    [request] = await _outbox_for(sessions, chat_id)
    assert request["type"] == "interactive" and request["to"] == "447700900001"
    buttons = request["interactive"]["action"]["buttons"]
    async with sessions() as s:
        survey = (await s.execute(select(CsatSurvey))).scalar_one()
    assert [b["reply"]["id"] for b in buttons] == [f"csat:{survey.id}:{n}" for n in (3, 2, 1)]
    assert (survey.state, survey.via, survey.close_kind) == ("sent", "buttons", "operator")


async def test_skipped_close_kinds_and_a_closed_window_are_recorded_with_the_reason(sessions, desk):
    unattended = await _closed_chat(sessions, "447700900002", by="timer", reason="unattended")
    old = await _closed_chat(sessions, "447700900003", wrote=MID_MONTH - dt.timedelta(hours=25))
    await _sweep(sessions, MID_MONTH + 6 * MINUTE)
    async with sessions() as s:
        surveys = {x.chat_id: x for x in (await s.execute(select(CsatSurvey))).scalars()}
    assert surveys[unattended].state == "skipped" and "closed by unattended" in surveys[unattended].skip_reason
    assert surveys[old].state == "skipped" and "no survey template" in surveys[old].skip_reason
    assert await _outbox_for(sessions, unattended) == [] and await _outbox_for(sessions, old) == []


async def test_outside_the_window_the_template_carries_the_same_payloads(sessions, desk):
    from desk.billing import templates

    async with sessions() as s, s.begin():
        await templates.register(s, waba_id=desk["waba"], name="csat_survey", language="en_US", category="UTILITY",
                                 status="APPROVED", components=[
                                     {"type": "BODY", "text": "How did we do? Tap to rate your chat."},
                                     {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": t}
                                                                     for t in ("Great", "Okay", "Poor")]}])
        await settings.update(s, desk["brand_id"], csat={"enabled": True, "template": "csat_survey:en_US"})
    await _closed_chat(sessions, "447700900004", wrote=MID_MONTH - dt.timedelta(hours=25))
    assert (await _sweep(sessions, MID_MONTH + MINUTE)).sent == 1
    async with sessions() as s:
        survey = (await s.execute(select(CsatSurvey))).scalar_one()
        [request] = (await s.execute(select(OutboxMessage.request))).scalars().all()
    assert (survey.state, survey.via) == ("sent", "template")
    buttons = [c for c in request["template"]["components"] if c["type"] == "button"]
    assert [b["parameters"][0]["payload"] for b in buttons] == [f"csat:{survey.id}:{n}" for n in (3, 2, 1)]


async def test_chats_closed_before_surveys_were_turned_on_get_none(sessions, desk):
    async with sessions() as s, s.begin():
        await settings.update(s, desk["brand_id"], csat={"enabled": False})
    await _closed_chat(sessions, "447700900005")
    with clock_from(MID_MONTH + 3 * MINUTE):
        async with sessions() as s, s.begin():
            await settings.update(s, desk["brand_id"], csat={"enabled": True})
    assert (await _sweep(sessions, MID_MONTH + 10 * MINUTE)).sent == 0


async def test_a_tap_then_a_comment_are_recorded_in_the_surveyed_chat_not_given_to_the_bot(sessions, desk):
    chat_id = await _closed_chat(sessions, "447700900006")
    await _sweep(sessions, MID_MONTH + 6 * MINUTE)
    async with sessions() as s:
        survey_id = (await s.execute(select(CsatSurvey.id))).scalar_one()
    tap_at = MID_MONTH + 8 * MINUTE

    async def reply(**kw):
        async with sessions() as s, s.begin():
            return await csat.take_reply(s, phone_number_id=seed.PNID, wa_id="447700900006", raw={}, **kw)
    assert await reply(type="interactive", text="😊 Great", reply_payload=f"csat:{survey_id}:3",
                       wamid="wamid.tap", at=tap_at)
    assert await reply(type="text", text="quick and friendly, thanks", reply_payload=None,
                       wamid="wamid.comment", at=tap_at + MINUTE)
    assert not await reply(type="text", text="one more question", reply_payload=None,
                           wamid="wamid.next", at=tap_at + 2 * MINUTE)   # the bot gets this one
    async with sessions() as s:
        survey = await s.get(CsatSurvey, survey_id)
        transcript = (await s.execute(select(Message.body).where(Message.chat_id == chat_id)
                                      .order_by(Message.id))).scalars().all()
    assert (survey.score, survey.comment, survey.state) == (3, "quick and friendly, thanks", "commented")
    assert transcript[-4:] == ["😊 Great", csat.THANKS_ASK_COMMENT["en"], "quick and friendly, thanks",
                               csat.THANKS_COMMENT["en"]]


async def test_another_users_payload_or_a_late_text_is_not_taken(sessions, desk):
    await _closed_chat(sessions, "447700900007")
    await _sweep(sessions, MID_MONTH + 6 * MINUTE)
    async with sessions() as s:
        survey_id = (await s.execute(select(CsatSurvey.id))).scalar_one()
    async with sessions() as s, s.begin():
        await seed.chat_from(s, "447700900008")
        assert not await csat.take_reply(s, phone_number_id=seed.PNID, wa_id="447700900008", type="interactive",
                                         text="Great", reply_payload=f"csat:{survey_id}:3", wamid="w1", raw={},
                                         at=MID_MONTH + 7 * MINUTE)
        assert await csat.take_reply(s, phone_number_id=seed.PNID, wa_id="447700900007", type="interactive",
                                     text="Poor", reply_payload=f"csat:{survey_id}:1", wamid="w2", raw={},
                                     at=MID_MONTH + 7 * MINUTE)
        assert not await csat.take_reply(s, phone_number_id=seed.PNID, wa_id="447700900007", type="text",
                                         text="hello again", reply_payload=None, wamid="w3", raw={},
                                         at=MID_MONTH + 7 * MINUTE + dt.timedelta(minutes=csat.COMMENT_MINUTES + 1))


@pytest.mark.parametrize("raw,error", [
    ({"enabled": True, "delay_minutes": -1}, "0 to"), ({"skip": ["nobody"]}, "close kinds"),
    ({"template": "no-language"}, "name:language"), ({"delay_minutes": "soon"}, "number of minutes"),
])
def test_bad_survey_settings_are_refused_with_the_reason(raw, error):
    with pytest.raises(settings.SettingsError, match=error):
        settings.parse_csat(raw)


def test_close_kinds_and_payloads():
    assert [csat.close_kind(Chat(closed_by=b, close_reason=r)) for b, r in [
        ("timer", "unattended"), ("timer", "idle"), ("bot", "bot idle timeout"), ("ana@x.test", "done")]] == [
        "unattended", "idle", "bot", "operator"]
    assert csat.parse_payload("csat:12:3") == (12, 3)
    assert csat.parse_payload("csat:12:9") is None and csat.parse_payload("/greet") is None
    assert csat.score_summary([3, 3, 2, 1]) == {"answers": 4, "csat": 0.5, "mean": 2.25,
                                                "great": 2, "okay": 1, "poor": 1}
