"""Issue 11 on a real database (SQLite and PostgreSQL): operators see and take over bot
chats and hand them back; a lead with no CRM is a task for Sales; a left message is a
ticket queued for its department, answered to WhatsApp through the outbox."""
import datetime as dt

import pytest
from sqlalchemy import select

from desk.billing import templates
from desk.models import (Brand, Chat, ChatState, Department, Lead, Message, OutboxMessage, PhoneNumber, Role,
                         Ticket, TicketReply, WhatsAppBusinessAccount, utcnow)
from desk.services import leads, outbox, routing, takeover, tickets
from tests.clock import clock_from
from tests.desk import seed

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock_from(START):
        yield


@pytest.fixture
async def desk(sessions):
    """Brand with a Support number; departments Support and Sales; Sue (Support), Sam (Sales),
    Ada (admin); a second brand's admin Zed."""
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        support = await s.get(Department, number.department_id)
        sales = await seed.department(s, brand_id, "Sales")
        sue = await seed.operator(s, brand_id, "Sue", [support])
        sam = await seed.operator(s, brand_id, "Sam", [sales])
        ada = await seed.operator(s, brand_id, "Ada", [], role=Role.admin)
        other = Brand(name="Other")
        s.add(other)
        await s.flush()
        zed = await seed.operator(s, other.id, "Zed", [], role=Role.admin)
        return {"brand_id": brand_id, "support": support.id, "sales": sales.id, "sue": sue.id, "sam": sam.id,
                "ada": ada.id, "zed": zed.id}


async def op(s, desk, who):
    from desk.models import Operator
    return await s.get(Operator, desk[who])


async def test_operators_of_the_numbers_department_see_its_bot_chats_others_do_not(sessions, desk):
    async with sessions() as s, s.begin():
        chat = await seed.chat_from(s, "4411")
        assert chat.state == ChatState.bot and chat.department_id is None
    async with sessions() as s:
        seen = {who: (await s.execute(select(Chat.id).where(routing.visible_to(await op(s, desk, who))))).scalars().all()
                for who in ("sue", "sam", "ada", "zed")}
    assert seen == {"sue": [chat.id], "sam": [], "ada": [chat.id], "zed": []}


async def test_take_over_pauses_the_bot_with_an_audit_line_and_only_once(sessions, desk):
    async with sessions() as s, s.begin():
        chat_id = (await seed.chat_from(s, "4411")).id
    async with sessions() as s, s.begin():
        for who, reason in (("sam", "another department"), ("zed", f"no chat {chat_id}")):
            with pytest.raises(takeover.TakeoverError, match=reason):
                await takeover.take_over(s, chat_id, await op(s, desk, who))
        chat = await takeover.take_over(s, chat_id, await op(s, desk, "sue"))
        assert (chat.state, chat.operator_id, chat.department_id) == (ChatState.open, desk["sue"], desk["support"])
        assert chat.handed_off_at == chat.assigned_at and chat.assigned_at >= START
    async with sessions() as s, s.begin():
        with pytest.raises(takeover.TakeoverError, match="the bot does not have this chat"):
            await takeover.take_over(s, chat_id, await op(s, desk, "ada"))
        [event] = (await s.execute(select(Message).where(Message.chat_id == chat_id, Message.type == "event"))).scalars()
        assert event.body == "Sue took over the chat from the bot" and event.status == "internal"
        assert (await s.execute(select(OutboxMessage))).first() is None  # an audit line is never sent


async def test_hand_back_returns_the_chat_to_the_bot_and_marks_rasa_for_resuming(sessions, desk):
    async with sessions() as s, s.begin():
        chat_id = (await seed.chat_from(s, "4411")).id
        await takeover.take_over(s, chat_id, await op(s, desk, "sue"))
    async with sessions() as s, s.begin():
        with pytest.raises(takeover.TakeoverError, match="another department"):
            await takeover.hand_back(s, chat_id, await op(s, desk, "sam"))
        chat = await takeover.hand_back(s, chat_id, await op(s, desk, "sue"))
        assert (chat.state, chat.operator_id, chat.department_id, chat.bot_resume_pending) == (
            ChatState.bot, None, None, True)
    async with sessions() as s, s.begin():
        with pytest.raises(takeover.TakeoverError, match="already has this chat"):
            await takeover.hand_back(s, chat_id, await op(s, desk, "sue"))
        await takeover.bot_resumed(s, chat_id)
        assert (await s.get(Chat, chat_id)).bot_resume_pending is False


async def test_a_colleague_cannot_hand_back_someone_elses_open_chat_but_an_admin_can(sessions, desk):
    async with sessions() as s, s.begin():
        carl = await seed.operator(s, desk["brand_id"], "Carl", [await s.get(Department, desk["support"])])
        chat_id = (await seed.chat_from(s, "4411")).id
        await takeover.take_over(s, chat_id, await op(s, desk, "sue"))
    async with sessions() as s, s.begin():
        with pytest.raises(takeover.TakeoverError, match="only the chat's operator"):
            await takeover.hand_back(s, chat_id, carl)
        assert (await takeover.hand_back(s, chat_id, await op(s, desk, "ada"))).state == ChatState.bot


async def test_a_lead_with_no_crm_is_an_open_task_of_the_sales_department(sessions, desk, monkeypatch):
    monkeypatch.setenv("CRM_ADAPTER", "none")
    async with sessions() as s, s.begin():
        lead = await leads.save_lead(s, wa_id="4411", phone_number_id=seed.PNID, name="Kim", email="k@x.test",
                                     company=None, interest="a quote for 200 mugs", consent=True)
        assert (lead.task_state, lead.department_id, lead.operator_id) == ("open", desk["sales"], None)
    async with sessions() as s, s.begin():
        lead = await s.get(Lead, lead.id)
        with pytest.raises(leads.LeadTaskError, match="another department"):
            await leads.take_task(s, lead, await op(s, desk, "sue"))
        await leads.take_task(s, lead, await op(s, desk, "sam"))
        with pytest.raises(leads.LeadTaskError, match="someone else took this lead"):
            await leads.take_task(s, lead, await op(s, desk, "ada"))
        await leads.finish_task(s, lead, await op(s, desk, "sam"))
        assert (lead.task_state, lead.task_done_by, lead.task_done_at) == ("done", "sam@example.com", lead.task_done_at)
        assert lead.task_done_at >= START


async def test_a_lead_with_a_crm_is_not_a_task(sessions, desk, monkeypatch):
    monkeypatch.setenv("CRM_ADAPTER", "webhook")
    async with sessions() as s, s.begin():
        lead = await leads.save_lead(s, wa_id="4411", phone_number_id=seed.PNID, name="Kim", email=None,
                                     company=None, interest=None, consent=True)
        assert lead.task_state is None


async def test_without_a_sales_department_the_lead_goes_to_the_numbers_department(sessions, desk, monkeypatch):
    monkeypatch.setenv("CRM_ADAPTER", "none")
    async with sessions() as s, s.begin():
        await s.delete(await s.get(Department, desk["sales"]))
        await s.flush()
        lead = await leads.save_lead(s, wa_id="4411", phone_number_id=seed.PNID, name="Kim", email=None,
                                     company=None, interest=None, consent=True)
        assert lead.department_id == desk["support"]


async def left_message(sessions, wa_id="4411", text="my parcel never came", department="Support"):
    async with sessions() as s, s.begin():
        chat = await seed.chat_from(s, wa_id, text, at=utcnow().replace(microsecond=0))
        ticket = await tickets.create_ticket_from_chat(s, chat.id, "bot", f"[{department}] {text}",
                                                       department=department, message=text, adapter="none")
        return chat.id, ticket.id


async def test_a_left_message_is_a_ticket_queued_for_its_department(sessions, desk):
    chat_id, ticket_id = await left_message(sessions, department="sales")  # the slot's name, any case
    async with sessions() as s:
        ticket = await s.get(Ticket, ticket_id)
        assert (ticket.brand_id, ticket.phone_number_id, ticket.department_id, ticket.state, ticket.operator_id,
                ticket.message) == (desk["brand_id"], seed.PNID, desk["sales"], "open", None, "my parcel never came")
        seen = {who: (await s.execute(select(Ticket.id).where(tickets.ticket_visible_to(await op(s, desk, who)))))
                .scalars().all() for who in ("sue", "sam", "ada", "zed")}
    assert seen == {"sue": [], "sam": [ticket_id], "ada": [ticket_id], "zed": []}


async def test_answering_a_ticket_takes_the_bot_chat_over_and_queues_the_reply_in_the_outbox(sessions, desk):
    chat_id, ticket_id = await left_message(sessions)
    async with sessions() as s, s.begin():
        with pytest.raises(tickets.TicketError, match=f"no ticket {ticket_id}"):
            await tickets.answer_ticket(s, ticket_id, await op(s, desk, "sam"), text="hi")  # Sales: not theirs
        reply = await tickets.answer_ticket(s, ticket_id, await op(s, desk, "sue"), text="Sorry! A new one is on its way.")
    async with sessions() as s:
        chat = await s.get(Chat, chat_id)
        assert (chat.state, chat.operator_id) == (ChatState.open, desk["sue"])
        ticket = await s.get(Ticket, ticket_id)
        assert ticket.operator_id == desk["sue"] and ticket.state == "open"
        row = (await s.execute(select(OutboxMessage))).scalar_one()
        assert row.request["text"] == {"body": "Sorry! A new one is on its way."} and row.wa_id == "4411"
        saved = await s.get(TicketReply, reply.id)
        assert (saved.message_id, saved.kind, saved.chat_id) == (row.message_id, "text", chat_id)


async def test_a_ticket_of_a_closed_chat_is_answered_in_a_new_chat_of_the_operator(sessions, desk):
    chat_id, ticket_id = await left_message(sessions)
    async with sessions() as s, s.begin():
        await routing.close(s, chat_id, by="bot", reason="idle")
    async with sessions() as s, s.begin():
        reply = await tickets.answer_ticket(s, ticket_id, await op(s, desk, "sue"), text="Hello again")
    async with sessions() as s:
        new = await s.get(Chat, reply.chat_id)
        assert new.id != chat_id and (new.state, new.operator_id) == (ChatState.open, desk["sue"])
        assert new.last_user_message_at == (await s.get(Chat, chat_id)).last_user_message_at  # the window carries
        assert (await s.execute(select(OutboxMessage.wa_id))).scalar_one() == "4411"


async def test_outside_the_window_only_an_approved_template_goes_and_without_one_a_clear_refusal(sessions, desk):
    async with sessions() as s, s.begin():
        chat = await seed.chat_from(s, "4411", "help", at=(utcnow() - dt.timedelta(hours=30)).replace(microsecond=0))
        ticket = await tickets.create_ticket_from_chat(s, chat.id, "bot", "help", message="help", adapter="none")
        ticket_id = ticket.id
    async with sessions() as s, s.begin():
        with pytest.raises(outbox.CannotSend, match="24 hours ago.*no approved template"):
            await tickets.answer_ticket(s, ticket_id, await op(s, desk, "sue"), text="hi")
    async with sessions() as s:  # refused: nothing changed, nothing queued
        assert (await s.get(Chat, chat.id)).state == ChatState.bot
        assert (await s.execute(select(OutboxMessage))).first() is None
    async with sessions() as s, s.begin():
        number = await s.get(PhoneNumber, seed.PNID)
        await templates.register(s, waba_id=number.waba_id, name="ticket_update", language="en", category="UTILITY",
                                 components=templates.components_from("About your request: {{1}}"), status="APPROVED")
    async with sessions() as s, s.begin():
        reply = await tickets.answer_ticket(s, ticket_id, await op(s, desk, "sue"), template={
            "name": "ticket_update", "language": "en", "body_params": ["a new one ships today"]})
        assert reply.kind == "template" and "a new one ships today" in reply.body
    async with sessions() as s:
        row = (await s.execute(select(OutboxMessage))).scalar_one()
        assert row.request["type"] == "template" and row.request["template"]["name"] == "ticket_update"


async def test_take_close_and_reopen_a_ticket(sessions, desk):
    _, ticket_id = await left_message(sessions)
    async with sessions() as s, s.begin():
        await tickets.take_ticket(s, ticket_id, await op(s, desk, "sue"))
    async with sessions() as s, s.begin():
        carl = await seed.operator(s, desk["brand_id"], "Carl", [await s.get(Department, desk["support"])])
        with pytest.raises(tickets.TicketError, match="someone else has this ticket"):
            await tickets.take_ticket(s, ticket_id, carl)
        with pytest.raises(tickets.TicketError, match="only the ticket's owner"):
            await tickets.close_ticket(s, ticket_id, carl)
        ticket = await tickets.close_ticket(s, ticket_id, await op(s, desk, "sue"))
        assert (ticket.state, ticket.closed_by) == ("closed", "sue@example.com")
        with pytest.raises(tickets.TicketError, match="closed: reopen it to answer"):
            await tickets.answer_ticket(s, ticket_id, await op(s, desk, "sue"), text="hi")
        assert (await tickets.reopen_ticket(s, ticket_id, carl)).state == "open"
