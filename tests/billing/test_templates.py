"""The template registry, parameter checks, and template sends through the outbox to the
Cloud API simulator (which checks them as Meta does)."""
import datetime as dt

import pytest
from aiohttp import web
from sqlalchemy import select

from cloudapi.graph import GraphClient
from desk.billing import conversations as billing
from desk.billing import ledger, templates
from desk.models import BilledConversation, ConversationCategory, Message, OutboxMessage, Sender, utcnow
from desk.services import outbox
from simulator import SimConfig, create_app
from tests.billing.helpers import (DE_USER, NA_USER, PNID_A, WABA_1, WABA_2, brand, fill_tier,
                                   register_demo_templates, user_wrote)


pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock


TOKEN = "tpl-token"
FOLLOW_UP = templates.components_from("Hi {{1}}, still interested in {{2}}?", header="Kumo {{1}}",
                                      footer="Kumo Goods", buttons=["Yes", "No"])


async def _register(s, name="lead_follow_up", status="APPROVED", waba=WABA_1, components=FOLLOW_UP):
    return await templates.register(s, waba_id=waba, name=name, language="en_US", category="MARKETING",
                                    components=components, status=status)


async def test_the_registry_keeps_templates_per_waba_with_metas_statuses(sessions):
    async with sessions() as s, s.begin():
        b = await brand(s)
        await _register(s)
        await _register(s, name="spring_sale", status="PENDING")
        await _register(s, name="lead_follow_up", waba=WABA_2)  # same name, another WABA
        with pytest.raises(templates.TemplateError, match="already registered"):
            await _register(s)
        await templates.set_status(s, waba_id=WABA_1, name="spring_sale", language="en_US", status="rejected",
                                   reason="INVALID_FORMAT")
        with pytest.raises(templates.TemplateError, match="status is one of"):
            await templates.set_status(s, waba_id=WABA_1, name="spring_sale", language="en_US", status="ok")
        with pytest.raises(templates.TemplateError, match="no template"):
            await templates.set_status(s, waba_id=WABA_1, name="nope", language="en_US", status="APPROVED")
        with pytest.raises(templates.TemplateError, match="no WABA"):
            await _register(s, waba="123")
        listed = [(t.waba_id, t.name, t.status) for t in await templates.list_templates(s, brand_id=b["brand_id"])]
        approved = [t.name for t in await templates.approved_for_number(s, PNID_A)]
    assert listed == [(WABA_1, "lead_follow_up", "APPROVED"), (WABA_1, "spring_sale", "REJECTED"),
                      (WABA_2, "lead_follow_up", "APPROVED")]
    assert approved == ["lead_follow_up"]


@pytest.mark.parametrize("name,language,category,components,error", [
    ("Lead Follow", "en_US", "MARKETING", FOLLOW_UP, "lowercase letters"),
    ("ok", "english", "MARKETING", FOLLOW_UP, "language is a code"),
    ("ok", "en_US", "PROMO", FOLLOW_UP, "category is one of"),
    ("ok", "en_US", "UTILITY", [{"type": "FOOTER", "text": "x"}], "BODY component"),
    ("ok", "en_US", "UTILITY", "body", "list of objects"),
    ("ok", "en_US", "UTILITY", templates.components_from("Hi {{2}}"), "in sequence"),
    ("ok", "en_US", "UTILITY", templates.components_from("x" * 1025), "1024"),
    ("ok", "en_US", "UTILITY", templates.components_from("x", footer="{{1}}"), "footer cannot"),
    ("ok", "en_US", "UTILITY", templates.components_from("x", buttons=["x" * 26]), "1 to 25"),
    ("ok", "en_US", "UTILITY", [{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "x"}], "text headers"),
])
def test_a_definition_meta_would_refuse_is_refused_with_the_reason(name, language, category, components, error):
    with pytest.raises(templates.TemplateError, match=error):
        templates.validate_definition(name, language, category, components)


async def test_parameters_are_checked_before_anything_is_sent(sessions):
    async with sessions() as s, s.begin():
        await brand(s)
        t = await _register(s)
        pending = await _register(s, name="spring_sale", status="PENDING")
    ok = templates.prepare(t, name=t.name, language="en_US", body_params=["Aiko", "tea sets"],
                           header_params=["Goods"], quick_reply_payloads=["yes", "no"])
    assert ok.text == "Kumo Goods\nHi Aiko, still interested in tea sets?"
    comps = ok.message["template"]["components"]
    assert [c["type"] for c in comps] == ["header", "body", "button", "button"]
    assert comps[1]["parameters"] == [{"type": "text", "text": "Aiko"}, {"type": "text", "text": "tea sets"}]
    cases = [
        (dict(body_params=["Aiko"], header_params=["G"]), "needs 2 body parameter"),
        (dict(body_params=["Aiko", "tea"], header_params=[]), "needs 1 header parameter"),
        (dict(body_params=["Aiko", "tea\nsets"], header_params=["G"]), "new lines"),
        (dict(body_params=["Aiko", "tea      sets"], header_params=["G"]), "4 consecutive spaces"),
        (dict(body_params=["Aiko", " "], header_params=["G"]), "non-empty"),
        (dict(body_params=["Aiko", "x" * 1000], header_params=["G"]), "filled-in body"),
        (dict(body_params=["A", "b"], header_params=["G"], quick_reply_payloads=["1", "2", "3"]), "2 quick-reply"),
    ]
    for kwargs, error in cases:
        with pytest.raises(templates.TemplateError, match=error):
            templates.prepare(t, name=t.name, language="en_US", **kwargs)
    with pytest.raises(templates.TemplateError, match="pending, not approved"):
        templates.prepare(pending, name="spring_sale", language="en_US", body_params=["10%", "May"])
    with pytest.raises(templates.TemplateError, match="not registered"):
        templates.prepare(None, name="ghost", language="en_US")


@pytest.fixture
async def sim(aiohttp_client, aiohttp_server):
    async def webhook(request):
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", webhook)
    hook = await aiohttp_server(app)
    client = await aiohttp_client(create_app(SimConfig(
        webhook_url=str(hook.make_url("/hook")), app_secret="s", access_token=TOKEN, phone_number_id=PNID_A,
        display_phone_number="15550000001", waba_id=WABA_1, status_delay_ms=1)))
    for item in templates.demo_templates():  # the simulator knows the demo's templates, as in `make demo`
        assert (await client.post("/_sim/templates", json={**item, "waba_id": WABA_1})).status == 201
    return client


@pytest.fixture
async def graph(sim):
    g = GraphClient(str(sim.make_url("/v21.0")), backoff=0.01)
    yield g
    await g.close()


async def test_a_template_opens_a_business_initiated_conversation_and_meta_accepts_it(sessions, sim, graph):
    async with sessions() as s, s.begin():
        await brand(s)
        await register_demo_templates(s)
        msg = await templates.send_template(s, phone_number_id=PNID_A, wa_id=NA_USER, name="lead_follow_up",
                                            language="en_US", body_params=["Aiko", "tea sets"])
        assert (msg.type, msg.body) == ("template", "Hi Aiko, thanks for your interest in tea sets. "
                                                    "Shall we continue where we left off?")
    assert await outbox.run_once(sessions, graph, TOKEN) == 1
    thread = await (await sim.get(f"/_sim/users/{NA_USER}/messages")).json()
    [sent] = [m for m in thread["messages"] if m["direction"] == "outbound"]
    assert sent["request"]["template"]["name"] == "lead_follow_up"
    async with sessions() as s:
        stored = await s.get(Message, msg.id)
        conv = (await s.execute(select(BilledConversation))).scalar_one()
    assert stored.wamid == sent["wamid"] and stored.status != "failed"
    assert (conv.category, conv.opened_by, conv.market, conv.opening_message_id) == (
        ConversationCategory.business_initiated, "template", "North America", msg.id)


async def test_unapproved_templates_and_sends_without_credit_are_refused(sessions):
    now = utcnow()
    async with sessions() as s, s.begin():
        b = await brand(s)
        await register_demo_templates(s)
        with pytest.raises(templates.TemplateError, match="pending, not approved"):
            await templates.send_template(s, phone_number_id=PNID_A, wa_id=NA_USER, name="spring_sale",
                                          language="en_US", body_params=["10%", "May"])
        with pytest.raises(templates.TemplateError, match="not registered"):
            await templates.send_template(s, phone_number_id=PNID_A, wa_id=NA_USER, name="lead_follow_up",
                                          language="ja", body_params=["a", "b"])
        await fill_tier(s, b["brand_id"], 1000, now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
        with pytest.raises(outbox.CannotSend, match="no credit"):
            await templates.send_template(s, phone_number_id=PNID_A, wa_id=NA_USER, name="order_update",
                                          language="en_US", header_params=["#12"],
                                          body_params=["shipped", "Friday"])
        assert (await s.execute(select(OutboxMessage))).first() is None
        await ledger.buy_credits(s, b["brand_id"], 1, by="admin")
        await templates.send_template(s, phone_number_id=PNID_A, wa_id=NA_USER, name="order_update",
                                      language="en_US", header_params=["#12"], body_params=["shipped", "Friday"])
        assert await ledger.balance(s, b["brand_id"]) == ledger.Decimal("2.00") - ledger.Decimal("0.0147")


async def test_operator_replies_and_notices_are_refused_without_free_tier_or_credit(sessions):
    from desk.models import ChatState, Operator, Role
    now = utcnow()
    async with sessions() as s, s.begin():
        b = await brand(s)
        await fill_tier(s, b["brand_id"], 1000, now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
        chat = await user_wrote(s, DE_USER, now - dt.timedelta(minutes=1))
        op = Operator(brand_id=b["brand_id"], email="ana@example.com", name="Ana", password_hash="x",
                      role=Role.operator)
        s.add(op)
        await s.flush()
        chat.state, chat.operator_id = ChatState.open, op.id
        with pytest.raises(outbox.CannotSend, match="no credit: WABA 200000000000001 has used its 1,000 free"):
            await outbox.send_operator_text(s, chat.id, op, "Hello!")
        assert await outbox.send_system_text(s, chat, "Closing this chat.") is None
        assert (await s.execute(select(OutboxMessage))).first() is None
        assert (await s.execute(select(Message).where(Message.sender != Sender.user))).first() is None
        # Once a conversation is open (bought credit), replies inside it cost nothing more.
        await ledger.buy_credits(s, b["brand_id"], 1, by="admin")
        await outbox.send_operator_text(s, chat.id, op, "Hello!")
        await outbox.send_operator_text(s, chat.id, op, "How can I help?")
        assert await outbox.send_system_text(s, chat, "Closing this chat.", sender=Sender.system) is not None
        assert await ledger.balance(s, b["brand_id"]) == ledger.Decimal("2.00") - ledger.Decimal("0.0819")
