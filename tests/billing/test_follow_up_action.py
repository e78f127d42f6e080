"""`action_follow_up_lead` against the real desk database: a credit-checked template send."""
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.templates import ActionFollowUpLead
from desk.billing import conversations as billing
from desk.billing import templates
from desk.models import BilledConversation, Message, OutboxMessage, WhatsAppBusinessAccount, utcnow
from desk.services.leads import save_lead
from tests.billing.helpers import DE_USER, PNID_A, WABA_1, brand, fill_tier, register_demo_templates


pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock


def tracker(wa_id=DE_USER, slots=None):
    return Tracker(sender_id=f"{PNID_A}_{wa_id}", slots=slots or {}, events=[], paused=False,
                   followup_action=None, active_loop={}, latest_action_name="action_listen",
                   latest_message={"text": "", "intent": {}, "entities": [], "metadata": {}})


@pytest.fixture
async def desk(sessions, database_url, monkeypatch):
    monkeypatch.setenv("DESK_DATABASE_URL", database_url)
    async with sessions() as s, s.begin():
        b = await brand(s)
        await register_demo_templates(s)
        await save_lead(s, wa_id=DE_USER, phone_number_id=PNID_A, name="Aiko  Tanaka", email="a@example.com",
                        company=None, interest="tea sets for a café", consent=True)
        return b


async def run(t):
    return {e["name"]: e["value"] for e in await ActionFollowUpLead().run(CollectingDispatcher(), t, {})}


async def test_a_lead_is_followed_up_the_next_day_with_the_approved_template(sessions, desk):
    assert await run(tracker()) == {"follow_up_status": "queued", "follow_up_reason": None}
    async with sessions() as s:
        row = (await s.execute(select(OutboxMessage))).scalar_one()
        msg = await s.get(Message, row.message_id)
        conv = (await s.execute(select(BilledConversation))).scalar_one()
    params = row.request["template"]["components"][0]["parameters"]
    assert [p["text"] for p in params] == ["Aiko", "tea sets for a café"]
    assert (row.wa_id, row.request["template"]["name"], msg.sender.value) == (DE_USER, "lead_follow_up", "system")
    assert (conv.category.value, conv.opened_by, conv.free_tier) == ("business_initiated", "template", True)


async def test_without_free_tier_or_credit_the_follow_up_is_refused_with_the_reason(sessions, desk):
    async with sessions() as s, s.begin():
        await fill_tier(s, desk["brand_id"], 1000, utcnow().replace(day=1, hour=0, minute=0, second=0,
                                                                      microsecond=0))
    slots = await run(tracker())
    assert slots["follow_up_status"] == "refused" and slots["follow_up_reason"].startswith("no credit")
    async with sessions() as s:
        assert (await s.execute(select(OutboxMessage))).first() is None


async def test_an_unapproved_template_or_an_unknown_lead_is_not_sent(sessions, desk, monkeypatch):
    monkeypatch.setenv("LEAD_FOLLOW_UP_TEMPLATE", "spring_sale")
    assert "pending, not approved" in (await run(tracker()))["follow_up_reason"]
    monkeypatch.delenv("LEAD_FOLLOW_UP_TEMPLATE")
    assert "no lead" in (await run(tracker(wa_id="447700900123")))["follow_up_reason"]
    # The form's slots serve when the lead is not stored yet.
    slots = await run(tracker(wa_id="447700900123", slots={"lead_name": "Sam", "lead_interest": "mugs"}))
    assert slots["follow_up_status"] == "queued"
    not_a_chat = Tracker(sender_id="default", slots={}, events=[], paused=False, followup_action=None,
                         active_loop={}, latest_action_name=None, latest_message={})
    assert (await run(not_a_chat))["follow_up_status"] == "refused"
    async with sessions() as s:
        assert await billing.tier_used(s, WABA_1, billing.policy.month_of(utcnow())) == 1


async def test_the_demo_has_credits_and_the_templates_the_simulator_knows(sessions, database_url):
    from desk.billing import ledger
    from desk.demo import seed
    from launcher.env import build_env
    from simulator import SimConfig
    from simulator.core import Simulator

    env = {"WHATSAPP_PHONE_NUMBER_ID": PNID_A, "WHATSAPP_WABA_ID": WABA_1, "SIM_DISPLAY_PHONE_NUMBER": "15550000001",
           "DEMO_OPERATOR_PASSWORD": "correct horse battery"}
    await seed(database_url, env)
    await seed(database_url, env)  # idempotent: credits bought once
    async with sessions() as s:
        registry = {(t.name, t.status) for t in await templates.list_templates(s, waba_id=WABA_1)}
        brand_id = (await s.get(WhatsAppBusinessAccount, WABA_1)).brand_id
        assert await ledger.balance(s, brand_id) == 50
    assert registry == {("lead_follow_up", "APPROVED"), ("order_update", "APPROVED"), ("spring_sale", "PENDING")}
    sim = Simulator(SimConfig(waba_id=WABA_1, phone_number_id=PNID_A,
                              templates_file=build_env({"WHATSAPP_WABA_ID": WABA_1})["SIM_TEMPLATES_FILE"]))
    assert registry <= {(t.name, t.status) for t in sim.state.list_templates(WABA_1)}
