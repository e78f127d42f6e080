"""The inbox processor on a real database, with a local HTTP server as the Graph API."""
import asyncio

import pytest
from aiohttp import web
from sqlalchemy import select, update

from cloudapi.graph import GraphClient
from connectors.whatsapp.processor import InboxProcessor
from desk.models import Chat, EventState, Message, WebhookEvent
from desk.services import numbers
from tests.unit.test_payloads import envelope, message


@pytest.fixture
async def graph_api(aiohttp_server):
    calls = []

    async def messages(request):
        calls.append((request.match_info["pnid"], request.headers.get("Authorization"), await request.json()))
        return web.json_response({"success": True})

    app = web.Application()
    app.router.add_post("/v21.0/{pnid}/messages", messages)
    server = await aiohttp_server(app)
    client = GraphClient(str(server.make_url("/v21.0")), max_attempts=1)
    yield client, calls
    await client.close()


@pytest.fixture
async def processor(sessions, graph_api):
    async with sessions() as s, s.begin():
        await numbers.ensure_number(s, phone_number_id="111", waba_id="W1")
    turns = []

    async def deliver(item, chat_id, opens_chat, retry=False):
        turns.append((item.wamid, item.text, chat_id))

    proc = InboxProcessor(sessions, graph_api[0], "default-token", deliver)
    proc.turns = turns
    yield proc
    await proc.stop()


def text_from(wa_id: str, wamid: str, body: str, ts: int = 1700000000) -> dict:
    msg = message("text", {"body": body})
    value = msg["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = wa_id
    value["messages"][0].update({"from": wa_id, "id": wamid, "timestamp": str(ts)})
    return msg


def to_unknown_number(wa_id: str, wamid: str, ts: int = 1700000000) -> dict:
    """A text message to a business number the desk does not know (999)."""
    return envelope({"contacts": [], "messages": [{
        "from": wa_id, "id": wamid, "timestamp": str(ts), "type": "text",
        "text": {"body": "hi"}}]}, phone_number_id="999")


async def run(processor, body):
    for user in await processor.accept(body):
        processor.kick(*user)
    await processor.idle()


async def test_a_message_reaches_the_bot_once_and_is_marked_read(processor, graph_api, sessions):
    body = text_from("1555", "wamid.A", "hello")
    await run(processor, body)
    await run(processor, body)  # Meta redelivers
    assert processor.turns == [("wamid.A", "hello", processor.turns[0][2])]
    _, calls = graph_api
    # Read, and "typing…" while the bot composes its answer.
    assert calls == [("111", "Bearer default-token",
                      {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.A",
                       "typing_indicator": {"type": "text"}})]
    async with sessions() as s:
        msg = (await s.execute(select(Message))).scalar_one()
        assert (msg.body, msg.sender.value, msg.status) == ("hello", "user", "received")


async def test_one_users_messages_are_processed_in_order(processor):
    bodies = [text_from("1555", f"wamid.{i}", f"m{i}", ts=1700000000 + i) for i in range(6)]
    for b in bodies:
        for user in await processor.accept(b):
            processor.kick(*user)
    await processor.idle()
    assert [t[1] for t in processor.turns] == [f"m{i}" for i in range(6)]


async def test_unknown_number_is_recorded_and_ignored(processor, sessions):
    await run(processor, to_unknown_number("1555", "wamid.X"))
    assert processor.turns == []
    async with sessions() as s:
        event = (await s.execute(select(WebhookEvent))).scalar_one()
        assert event.state == EventState.ignored
        assert (await s.execute(select(Chat))).first() is None


async def test_recorded_but_unprocessed_events_are_processed_by_the_sweep(processor):
    # accept() without kick(): as if the process died right after the 200.
    await processor.accept(text_from("1555", "wamid.R", "after restart"))
    assert processor.turns == []
    await processor.sweep_once()
    await processor.idle()
    assert [t[1] for t in processor.turns] == ["after restart"]


async def test_a_failing_turn_is_retried_without_reordering(processor, sessions):
    fail = {"wamid.F1"}
    original = processor.deliver

    async def flaky(item, chat_id, opens_chat, retry=False):
        if item.wamid in fail:
            fail.discard(item.wamid)
            raise RuntimeError("action server unreachable")
        await original(item, chat_id, opens_chat)

    processor.deliver = flaky
    for i in (1, 2):
        for user in await processor.accept(text_from("1555", f"wamid.F{i}", f"f{i}", 1700000000 + i)):
            processor.kick(*user)
    await processor.idle()
    assert processor.turns == []  # f2 waits behind the failed f1, which waits its backoff
    await processor.sweep_once()
    await processor.idle()
    assert processor.turns == []
    async with sessions() as s, s.begin():  # the backoff has passed
        await s.execute(update(WebhookEvent).values(locked_until=None))
    await processor.sweep_once()
    await processor.idle()
    assert [t[1] for t in processor.turns] == ["f1", "f2"]


async def test_statuses_move_forward_only(processor, sessions):
    from desk.services import conversations
    from desk.models import Sender
    async with sessions() as s, s.begin():
        chat = await conversations.current_chat(s, "111", "1555")
        out = await conversations.record_outbound(s, chat_id=chat.id, sender=Sender.bot, type="text",
                                                  body="hi", payload={})
        await conversations.mark_sent(s, out.id, "wamid.OUT")

    def status(name, ts):
        return envelope({"statuses": [{"id": "wamid.OUT", "status": name, "timestamp": str(ts),
                                       "recipient_id": "1555"}]})
    await run(processor, status("delivered", 1700000002))
    await run(processor, status("sent", 1700000001))  # late, out of order
    async with sessions() as s:
        assert (await s.get(Message, out.id)).status == "delivered"
    await run(processor, status("read", 1700000003))
    async with sessions() as s:
        assert (await s.get(Message, out.id)).status == "read"


async def test_a_status_that_overtakes_the_replys_commit_is_linked_by_its_callback_data(processor, sessions):
    """A bot reply's status webhook may come before the reply's wamid is committed: the
    callback data Meta echoes names the message, so the status is kept, not dropped."""
    from desk.models import Sender
    from desk.services import conversations, outbox
    async with sessions() as s, s.begin():
        chat = await conversations.current_chat(s, "111", "1556")
        out = await conversations.record_outbound(s, chat_id=chat.id, sender=Sender.bot, type="text",
                                                  body="hi", payload={})
        inbound_chat, inbound = await conversations.record_inbound(
            s, phone_number_id="111", wa_id="1556", profile_name=None, wamid="wamid.IN.1", type="text",
            body="q", payload={}, wa_timestamp=out.wa_timestamp)

    def status(wamid, callback):
        return envelope({"statuses": [{"id": wamid, "status": "delivered", "timestamp": "1700000002",
                                       "recipient_id": "1556", "biz_opaque_callback_data": callback}]})
    await run(processor, status("wamid.EARLY", outbox.message_callback_data(out.id)))
    # Callback data naming a message the user sent is not ours to link.
    await run(processor, status("wamid.FORGED", outbox.message_callback_data(inbound.id)))
    async with sessions() as s:
        reply = await s.get(Message, out.id)
        assert (reply.wamid, reply.status) == ("wamid.EARLY", "delivered")
        assert (await s.get(Message, inbound.id)).wamid == "wamid.IN.1"


async def test_a_slow_turn_keeps_its_short_lease_and_another_instance_does_not_take_it(sessions, graph_api):
    """The lease is short (a dead process's rows come back within one lease), so a turn
    longer than it must renew it: a second instance's sweep must not run it too."""
    import datetime as dt

    async with sessions() as s, s.begin():
        await numbers.ensure_number(s, phone_number_id="111", waba_id="W1")
    turns = []

    async def slow(item, chat_id, opens_chat, retry=False):
        turns.append(item.wamid)
        await asyncio.sleep(1.5)

    lease = dt.timedelta(seconds=0.6)
    first = InboxProcessor(sessions, graph_api[0], "t", slow, lease=lease, mark_read=False)
    second = InboxProcessor(sessions, graph_api[0], "t", slow, lease=lease, mark_read=False)
    try:
        await run_nowait(first, text_from("1777", "wamid.slow", "hi"))
        for _ in range(8):  # the other instance sweeps for as long as the turn takes
            await asyncio.sleep(0.25)
            await second.sweep_once()
        await first.idle()
        await second.idle()
        assert turns == ["wamid.slow"]
        async with sessions() as s:
            event = (await s.execute(select(WebhookEvent))).scalars().one()
            assert event.state == EventState.done
    finally:
        await first.stop()
        await second.stop()


async def test_a_database_error_when_recording_the_outcome_is_retried_not_left_leased(processor, sessions,
                                                                                     monkeypatch):
    from sqlalchemy.exc import OperationalError

    from desk.services import inbox

    real_finish, failures = inbox.finish, []

    async def locked_once(session, event_id, state, error=None, **kw):
        if not failures:
            failures.append(event_id)
            raise OperationalError("UPDATE webhook_events", {}, Exception("database is locked"))
        return await real_finish(session, event_id, state, error, **kw)

    monkeypatch.setattr(inbox, "finish", locked_once)
    await run(processor, text_from("1778", "wamid.locked", "hi"))
    assert failures and processor.turns == [("wamid.locked", "hi", processor.turns[0][2])]
    async with sessions() as s:
        event = (await s.execute(select(WebhookEvent).where(WebhookEvent.dedupe_key == "wamid.locked"))).scalar_one()
        assert event.state == EventState.done


async def run_nowait(processor, body):
    for user in await processor.accept(body):
        processor.kick(*user)


async def test_a_turn_whose_action_server_is_down_apologises_retries_then_hands_over(sessions, graph_api):
    """TurnFailed (the deliverer rewound Rasa): one apology at once, retries outside the
    attempts budget, and after the bounded wait the chat goes to a person."""
    import datetime as dt

    from connectors.whatsapp.processor import TurnFailed
    from desk.models import ChatState
    from desk.services import notices

    async with sessions() as s, s.begin():
        await numbers.ensure_number(s, phone_number_id="111", waba_id="W1")
    down, turns, sent = True, [], []

    async def deliver(item, chat_id, opens_chat, retry=False):
        if down:
            raise TurnFailed("ClientConnectorError: action server unreachable")
        turns.append(item.wamid)

    async def notify(item, chat_id, key):
        sent.append((item.wamid, key))

    proc = InboxProcessor(sessions, graph_api[0], "t", deliver, notify=notify,
                          bot_down_handoff=dt.timedelta(minutes=2))
    try:
        await run(proc, text_from("1555", "wamid.D1", "do you ship to norway"))
        for _ in range(7):  # more than MAX_ATTEMPTS: the wait is bounded by time, not attempts
            async with sessions() as s, s.begin():
                await s.execute(update(WebhookEvent).values(locked_until=None))
            await proc.sweep_once()
            await proc.idle()
        async with sessions() as s:
            event = (await s.execute(select(WebhookEvent))).scalar_one()
            chat = (await s.execute(select(Chat))).scalar_one()
        assert (event.state, event.attempts, chat.state) == (EventState.pending, 8, ChatState.bot)
        assert "bot unavailable" in event.last_error
        assert sent == [("wamid.D1", notices.BOT_UNAVAILABLE)]

        # Two minutes after the message arrived, the next attempt hands the chat over.
        async with sessions() as s, s.begin():
            await s.execute(update(WebhookEvent).values(
                locked_until=None, received_at=event.received_at - dt.timedelta(minutes=2)))
        await proc.sweep_once()
        await proc.idle()
        async with sessions() as s:
            event = (await s.execute(select(WebhookEvent))).scalar_one()
            chat = (await s.execute(select(Chat))).scalar_one()
        assert event.state == EventState.done
        assert chat.state == ChatState.unattended and chat.department_id is not None
        assert sent[-1] == ("wamid.D1", notices.BOT_DOWN_HANDOFF) and len(sent) == 2
        assert turns == []
    finally:
        await proc.stop()


async def test_a_turn_that_fails_then_succeeds_reaches_the_bot_once(sessions, graph_api):
    from connectors.whatsapp.processor import TurnFailed

    async with sessions() as s, s.begin():
        await numbers.ensure_number(s, phone_number_id="111", waba_id="W1")
    failures, turns = ["down"], []

    async def deliver(item, chat_id, opens_chat, retry=False):
        if failures:
            raise TurnFailed(failures.pop())
        turns.append(item.wamid)

    proc = InboxProcessor(sessions, graph_api[0], "t", deliver)
    try:
        for i in (1, 2):
            for user in await proc.accept(text_from("1555", f"wamid.S{i}", f"s{i}", 1700000000 + i)):
                proc.kick(*user)
        await proc.idle()
        assert turns == []  # s2 waits behind s1
        async with sessions() as s, s.begin():
            await s.execute(update(WebhookEvent).values(locked_until=None))
        await proc.sweep_once()
        await proc.idle()
        assert turns == ["wamid.S1", "wamid.S2"]
    finally:
        await proc.stop()


async def test_a_lanes_statuses_are_applied_together_in_one_transaction(processor, sessions):
    from sqlalchemy import event as sa_event

    from desk.models import Sender
    from desk.services import conversations
    async with sessions() as s, s.begin():
        chat = await conversations.current_chat(s, "111", "1555")
        for n in range(3):
            out = await conversations.record_outbound(s, chat_id=chat.id, sender=Sender.bot, type="text",
                                                      body=f"hi {n}", payload={})
            await conversations.mark_sent(s, out.id, f"wamid.B{n}")
    statuses = [{"id": f"wamid.B{n}", "status": name, "timestamp": str(1700000010 + i),
                 "recipient_id": "1555"}
                for n in range(3) for i, name in enumerate(("sent", "delivered", "read"))]
    statuses.append({"id": "wamid.NOT-OURS", "status": "read", "timestamp": "1700000020",
                     "recipient_id": "1555"})
    await processor.accept(envelope({"statuses": statuses}))  # recorded, not yet kicked
    engine = sessions.kw["bind"]
    commits = []

    def on_commit(conn):
        commits.append(1)

    sa_event.listen(engine.sync_engine, "commit", on_commit)
    try:
        processor.kick("111", "1555", "status")
        await processor.idle()
    finally:
        sa_event.remove(engine.sync_engine, "commit", on_commit)
    async with sessions() as s:
        states = dict((await s.execute(select(WebhookEvent.dedupe_key, WebhookEvent.state))).all())
        msgs = (await s.execute(select(Message.wamid, Message.status).order_by(Message.id))).all()
    assert msgs == [("wamid.B0", "read"), ("wamid.B1", "read"), ("wamid.B2", "read")]
    assert states["wamid.NOT-OURS:read"] == EventState.ignored
    assert sum(1 for st in states.values() if st == EventState.done) == 9
    assert len(commits) == 1  # the batch: a short batch ends the lane, no empty claim after it


async def test_a_text_turn_costs_four_desk_transactions(processor, sessions):
    """Claim, record, the bot's turn (here none: the stand-in sends nothing), finish;
    the lane ends with its last row, without an empty claim after it."""
    from sqlalchemy import event as sa_event

    await run(processor, text_from("1555", "wamid.W", "warm the credentials cache"))
    await processor.accept(text_from("1555", "wamid.T1", "first", ts=1700000001))
    await processor.accept(text_from("1555", "wamid.T2", "second", ts=1700000002))
    engine = sessions.kw["bind"]
    commits = []
    sa_event.listen(engine.sync_engine, "commit", lambda conn: commits.append(1))
    processor.kick("111", "1555")
    await processor.idle()
    assert [t[1] for t in processor.turns] == ["warm the credentials cache", "first", "second"]
    assert len(commits) == 2 * 3  # claim, record, finish for each of the two


async def test_a_flood_for_an_unknown_number_is_ignored_in_one_transaction_per_user(processor, sessions):
    from sqlalchemy import event as sa_event

    for i in range(20):
        await processor.accept(to_unknown_number("1555", f"wamid.U{i}", 1700000000 + i))
    engine = sessions.kw["bind"]
    commits = []
    sa_event.listen(engine.sync_engine, "commit", lambda conn: commits.append(1))
    processor.kick("999", "1555")
    await processor.idle()
    assert processor.turns == []
    async with sessions() as s:
        states = (await s.execute(select(WebhookEvent.state))).scalars().all()
    assert states == [EventState.ignored] * 20
    assert len(commits) == 1


async def test_after_a_hand_back_the_next_message_resumes_rasa_first_and_only_once(sessions, graph_api):
    """Issue 11: an operator handed the chat back to the bot (desk.services.takeover): the
    next user message reaches the bot as one that reopens it (resume_if_paused first)."""
    from desk.models import Operator, Role
    from desk.services import takeover

    async with sessions() as s, s.begin():
        number = await numbers.ensure_number(s, phone_number_id="111", waba_id="W1")
        from desk.models import WhatsAppBusinessAccount
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        s.add(Operator(brand_id=brand_id, email="ada@x.test", name="Ada", password_hash="-", role=Role.admin))
    turns = []

    async def deliver(item, chat_id, opens_chat, retry=False):
        turns.append((item.text, opens_chat))

    proc = InboxProcessor(sessions, graph_api[0], "default-token", deliver)
    try:
        await run(proc, text_from("1555", "wamid.1", "hi", ts=1700000000))
        async with sessions() as s, s.begin():
            ada = (await s.execute(select(Operator))).scalar_one()
            chat_id = (await s.execute(select(Chat.id))).scalar_one()
            await takeover.take_over(s, chat_id, ada)
        await run(proc, text_from("1555", "wamid.2", "to the person", ts=1700000001))
        async with sessions() as s, s.begin():
            await takeover.hand_back(s, chat_id, ada)
        await run(proc, text_from("1555", "wamid.3", "bot again", ts=1700000002))
        await run(proc, text_from("1555", "wamid.4", "and again", ts=1700000003))
    finally:
        await proc.stop()
    assert turns == [("hi", True), ("bot again", True), ("and again", False)]
    async with sessions() as s:
        assert (await s.get(Chat, chat_id)).bot_resume_pending is False


async def test_a_group_message_is_recorded_and_not_given_to_the_bot(processor, sessions):
    body = text_from("1555", "wamid.GROUP", "hi all")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["group_id"] = "GROUP.1"
    await run(processor, body)
    assert processor.turns == []
    async with sessions() as s:
        msg = (await s.execute(select(Message))).scalar_one()
        event = (await s.execute(select(WebhookEvent))).scalar_one()
    assert (msg.body, event.state) == ("hi all", EventState.done)


async def test_a_reaction_is_recorded_and_not_given_to_the_bot(processor, sessions):
    body = message("reaction", {"message_id": "wamid.BOTREPLY", "emoji": "👍"})
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = "1555"
    value["messages"][0].update({"from": "1555", "id": "wamid.REACT", "timestamp": "1700000000"})
    await run(processor, body)
    assert processor.turns == []
    async with sessions() as s:
        msg = (await s.execute(select(Message))).scalar_one()
    assert (msg.type, msg.body, msg.payload["reaction"]["message_id"]) == ("reaction", "👍", "wamid.BOTREPLY")


async def test_an_unsupported_message_gets_one_notice_and_no_bot_turn(sessions, graph_api):
    async with sessions() as s, s.begin():
        await numbers.ensure_number(s, phone_number_id="111", waba_id="W1")
    turns, notices_sent = [], []

    async def deliver(item, chat_id, opens_chat, retry=False):
        turns.append(item.wamid)

    async def notify(item, chat_id, key):
        notices_sent.append((item.wamid, key))

    proc = InboxProcessor(sessions, graph_api[0], "t", deliver, notify=notify)
    body = message("unsupported", {})
    value = body["entry"][0]["changes"][0]["value"]
    value["messages"][0].pop("unsupported")
    value["messages"][0]["errors"] = [{"code": 131051, "title": "Message type unknown"}]
    try:
        for _ in range(2):  # and Meta's redelivery changes nothing
            await run(proc, body)
    finally:
        await proc.stop()
    assert (turns, notices_sent) == ([], [("wamid.unsupported", "unsupported")])


async def test_an_order_goes_to_sales_with_a_notice_and_no_bot_turn(sessions, graph_api):
    from desk.models import ChatState, Department, HandoffReason, WhatsAppBusinessAccount
    async with sessions() as s, s.begin():
        number = await numbers.ensure_number(s, phone_number_id="111", waba_id="W1")
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        sales = Department(brand_id=brand_id, name="Sales")
        s.add(sales)
        await s.flush()
        sales_id = sales.id
    turns, notices_sent = [], []

    async def deliver(item, chat_id, opens_chat, retry=False):
        turns.append(item.wamid)

    async def notify(item, chat_id, key):
        notices_sent.append(key)

    proc = InboxProcessor(sessions, graph_api[0], "t", deliver, notify=notify)
    body = message("order", {"catalog_id": "C1", "text": "gift wrap please", "product_items": [
        {"product_retailer_id": "MUG-01", "quantity": 2, "item_price": 12, "currency": "USD"}]})
    try:
        await run(proc, body)
    finally:
        await proc.stop()
    async with sessions() as s:
        chat = (await s.execute(select(Chat))).scalar_one()
        msg = (await s.execute(select(Message))).scalar_one()
    assert (turns, notices_sent) == ([], ["order_received"])
    assert (chat.state, chat.department_id, chat.handoff_reason) == (ChatState.unattended, sales_id, HandoffReason.lead)
    assert msg.body == "2 × MUG-01 (gift wrap please)"


async def test_a_reaction_is_read_without_typing(processor, graph_api):
    await run(processor, text_from("1555", "wamid.A", "hello"))
    reaction = message("reaction", {"message_id": "wamid.A", "emoji": "👍"})
    value = reaction["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = "1555"
    value["messages"][0].update({"from": "1555", "id": "wamid.R", "timestamp": "1700000005"})
    await run(processor, reaction)
    _, calls = graph_api
    assert [c[2] for c in calls][-1] == {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.R"}
    assert len(processor.turns) == 1   # the bot does not answer a reaction


async def test_an_echo_from_the_business_app_is_shown_and_not_answered(processor, graph_api, sessions):
    from tests.unit.test_payloads import echoes

    await run(processor, text_from("1555", "wamid.A", "is my order shipped?", ts=1700000000))
    echo = echoes({"from": "15550001111", "to": "1555", "id": "wamid.E", "timestamp": "1700000060",
                   "type": "text", "text": {"body": "Yes, this morning!"}})
    await run(processor, echo)
    await run(processor, echo)  # Meta redelivers
    assert len(processor.turns) == 1
    _, calls = graph_api
    assert [c[2]["message_id"] for c in calls] == ["wamid.A"]   # no read receipt for our own message
    async with sessions() as s:
        user, business = (await s.execute(select(Message).order_by(Message.id))).scalars().all()
        assert (business.direction.value, business.sender.value, business.body, business.status) == (
            "out", "operator", "Yes, this morning!", "sent")
        assert business.payload["source"] == "whatsapp_business_app"
        chat = await s.get(Chat, user.chat_id)
        assert business.chat_id == chat.id
        assert chat.last_user_message_at.timestamp() == 1700000000   # the window is the user's, unchanged


async def test_an_edit_and_a_revoke_change_the_transcript_not_the_dialogue(processor, sessions):
    await run(processor, text_from("1555", "wamid.A", "three mugs please", ts=1700000000))
    await run(processor, message_from("1555", "wamid.E", "edit", {
        "original_message_id": "wamid.A", "message": {"type": "text", "text": {"body": "two mugs please"}}}))
    await run(processor, text_from("1555", "wamid.B", "and a teapot", ts=1700000020))
    await run(processor, message_from("1555", "wamid.R", "revoke", {"original_message_id": "wamid.B"}))
    await run(processor, message_from("1555", "wamid.X", "revoke", {"original_message_id": "wamid.unknown"}))
    assert [t[1] for t in processor.turns] == ["three mugs please", "and a teapot"]   # no turn for the changes
    async with sessions() as s:
        rows = (await s.execute(select(Message).order_by(Message.id))).scalars().all()
        assert [(m.wamid, m.body) for m in rows] == [("wamid.A", "two mugs please"), ("wamid.B", None)]
        assert rows[0].payload["edits"][0]["previous"] == "three mugs please"
        assert rows[1].payload["revoked_at"].startswith("2023-11-14")
        states = (await s.execute(select(WebhookEvent.state).order_by(WebhookEvent.id))).scalars().all()
        assert [st.value for st in states][-1] == "done"   # the unknown original: nothing to change, no retry


def message_from(wa_id: str, wamid: str, kind: str, body: dict, ts: int = 1700000030) -> dict:
    msg = message(kind, body)
    value = msg["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = wa_id
    value["messages"][0].update({"from": wa_id, "id": wamid, "timestamp": str(ts)})
    return msg


# Outside the department's business hours the desk's own handoffs (the bot is down, a
# catalog order) do what the bot's does (desk.services.business_hours.closed_for_handoff):
# the user hears when the team is back and may leave a message; the chat is not queued.
# 1700000000 is Tuesday 14 November 2023, 22:13 UTC: after hours for a 9-to-6 team.
WEEKDAYS_9_TO_6 = {"always_open": False,
                   "week": {d: [{"from": "09:00", "to": "18:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}}


async def _closed_number(s, *, sales: bool = False):
    from desk.models import Department, WhatsAppBusinessAccount
    from desk.services import business_hours

    number = await numbers.ensure_number(s, phone_number_id="111", waba_id="W1")
    brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
    dept = await s.get(Department, number.department_id)
    if sales:
        dept = Department(brand_id=brand_id, name="Sales")
        s.add(dept)
        await s.flush()
    await business_hours.set_schedule(s, brand_id, dept.id, WEEKDAYS_9_TO_6)
    return dept.name


async def test_the_bot_down_outside_hours_says_when_the_team_is_back_and_does_not_queue(sessions, graph_api):
    import datetime as dt

    from connectors.whatsapp.processor import TurnFailed
    from desk.models import ChatState
    from desk.services import notices

    async with sessions() as s, s.begin():
        department = await _closed_number(s)
    sent = []

    async def deliver(item, chat_id, opens_chat, retry=False):
        raise TurnFailed("ClientConnectorError: action server unreachable")

    async def notify(item, chat_id, key, closed=None):
        sent.append((key, closed and closed.text(item.language), closed and closed.buttons(item.language)))

    proc = InboxProcessor(sessions, graph_api[0], "t", deliver, notify=notify, bot_down_handoff=dt.timedelta(0))
    try:
        await run(proc, text_from("1555", "wamid.N1", "do you ship to norway", ts=1700000000))
    finally:
        await proc.stop()
    async with sessions() as s:
        event = (await s.execute(select(WebhookEvent))).scalar_one()
        chat = (await s.execute(select(Chat))).scalar_one()
    assert (event.state, chat.state, chat.department_id) == (EventState.done, ChatState.bot, None)  # not queued
    assert sent[0][0] == notices.BOT_UNAVAILABLE
    key, text, buttons = sent[1]
    assert key == notices.OUTSIDE_HOURS and len(sent) == 2
    assert text.startswith(f"{department} is closed right now. Our team is back tomorrow 9:00 (UTC)."), text
    assert buttons == [{"title": "Leave a message", "payload": "/leave_message"}]


async def test_an_order_outside_sales_hours_is_not_queued(sessions, graph_api):
    from desk.models import ChatState
    from desk.services import notices

    async with sessions() as s, s.begin():
        await _closed_number(s, sales=True)
    turns, sent = [], []

    async def deliver(item, chat_id, opens_chat, retry=False):
        turns.append(item.wamid)

    async def notify(item, chat_id, key, closed=None):
        sent.append((key, closed and closed.text("ja")))

    proc = InboxProcessor(sessions, graph_api[0], "t", deliver, notify=notify)
    body = message_from("1555", "wamid.O1", "order", {"catalog_id": "C1", "product_items": [
        {"product_retailer_id": "MUG-01", "quantity": 1, "item_price": 12, "currency": "USD"}]}, ts=1700000000)
    try:
        await run(proc, body)
    finally:
        await proc.stop()
    async with sessions() as s:
        chat = (await s.execute(select(Chat))).scalar_one()
    assert (turns, chat.state, chat.handoff_reason) == ([], ChatState.bot, None)
    assert sent == [(notices.OUTSIDE_HOURS, "ただいまSalesは営業時間外です。担当者は明日 9:00（UTC）から対応いたします。"
                                            "メッセージを残していただければ、対応時間になりしだいご返信いたします。")]


async def test_the_bot_turn_starts_beside_the_mark_as_read_call(sessions, aiohttp_server):
    """The read receipt is not waited for before the turn (the reply waits for it instead,
    WhatsAppOutput): here Meta answers the read call only once the turn has begun."""
    turn_started = asyncio.Event()
    seen = []

    async def messages(request):
        body = await request.json()
        if body.get("status") == "read":
            try:
                await asyncio.wait_for(turn_started.wait(), 10)
                seen.append("turn had started")
            except asyncio.TimeoutError:
                seen.append("turn had not started")
        return web.json_response({"success": True})

    app = web.Application()
    app.router.add_post("/v21.0/{pnid}/messages", messages)
    server = await aiohttp_server(app)
    graph = GraphClient(str(server.make_url("/v21.0")), max_attempts=1)
    async with sessions() as s, s.begin():
        await numbers.ensure_number(s, phone_number_id="111", waba_id="W1")

    async def deliver(item, chat_id, opens_chat, retry=False):
        turn_started.set()
        seen.append(item.wamid in proc.read_receipts)  # what the turn's reply waits for

    proc = InboxProcessor(sessions, graph, "default-token", deliver)
    try:
        await run(proc, text_from("1555", "wamid.RR", "hello"))
        assert seen == [True, "turn had started"]
        assert proc.read_receipts == {}
    finally:
        await proc.stop()
        await graph.close()


async def test_a_flood_for_an_unknown_number_is_logged_once_a_minute_not_per_message(processor, caplog):
    import logging

    with caplog.at_level(logging.WARNING, logger="connectors.whatsapp.processor"):
        for i in range(5):
            await run(processor, to_unknown_number(f"155{i}", f"wamid.L{i}"))
    lines = [r.getMessage() for r in caplog.records if "unknown phone_number_id 999" in r.getMessage()]
    assert lines == ["whatsapp: ignored 1 message(s) for unknown phone_number_id 999"]
