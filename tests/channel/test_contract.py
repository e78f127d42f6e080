"""Contract tests: the channel against the Cloud API simulator, on SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import hashlib

from sqlalchemy import select

from cloudapi import outbound
from cloudapi.graph import GraphError
from cloudapi.ids import conversation_id
from desk.models import Message, NumberState, PhoneNumber, Sender
from desk.services import numbers
from tests.channel.conftest import PNID, USER, WABA

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def body_of(m: dict) -> dict:
    return m["request"]


async def desk_messages(h, sender: Sender | None = None) -> list[Message]:
    async with h.runtime.sessions() as s:
        q = select(Message).order_by(Message.id)
        if sender:
            q = q.where(Message.sender == sender)
        return list((await s.execute(q)).scalars())


async def test_text_round_trip_with_delivery_and_read_status(harness):
    await harness.say(text="hi there", profile_name="Ana")

    async def read():
        bot = await desk_messages(harness, Sender.bot)
        return bot and bot[0].status == "read"
    assert await harness.settle(until=read)
    [reply] = await harness.outbound()
    assert body_of(reply)["text"]["body"] == "echo: hi there"
    user_msg, bot_msg = await desk_messages(harness)
    assert (user_msg.sender, user_msg.body, bot_msg.wamid) == (Sender.user, "hi there", reply["wamid"])


async def test_user_messages_are_answered_in_their_order(harness):
    for i in range(5):
        await harness.say(text=f"m{i}")

    async def five():
        return len(await harness.outbound()) == 5
    assert await harness.settle(until=five)
    assert [body_of(m)["text"]["body"] for m in await harness.outbound()] == [f"echo: m{i}" for i in range(5)]


async def test_duplicated_webhooks_give_one_turn_and_one_reply(harness):
    await harness.say(text="once", duplicate=3)
    await harness.settle(1.0)
    assert len(harness.turns) == 1 and len(await harness.outbound()) == 1


async def test_image_is_downloaded_stored_and_given_to_the_bot(harness):
    await harness.say(type="image", data=base64.b64encode(PNG).decode(), mime_type="image/png", caption="my receipt")

    async def stored():
        msgs = await desk_messages(harness, Sender.user)
        return msgs and msgs[0].media_sha256
    assert await harness.settle(until=stored)
    [msg] = await desk_messages(harness, Sender.user)
    assert msg.media_sha256 == hashlib.sha256(PNG).hexdigest() and msg.media_size == len(PNG)
    path = harness.runtime.settings.media_dir / msg.media_sha256[:2] / msg.media_sha256
    assert path.read_bytes() == PNG
    assert harness.turns[0][1].text == "my receipt"


async def test_document_keeps_its_filename(harness):
    await harness.say(type="document", data=base64.b64encode(PDF).decode(), mime_type="application/pdf",
                      filename="invoice.pdf")

    async def stored():
        msgs = await desk_messages(harness, Sender.user)
        return msgs and msgs[0].media_filename
    assert await harness.settle(until=stored)
    [msg] = await desk_messages(harness, Sender.user)
    assert (msg.type, msg.media_filename, msg.media_mime) == ("document", "invoice.pdf", "application/pdf")


async def test_buttons_go_out_as_reply_buttons_and_a_tap_comes_back_as_payload(harness):
    async def ask(item, chat_id):
        if item.type == "text":
            await harness.output.send_text_with_buttons(
                conversation_id(item.phone_number_id, item.wa_id), "Which team?",
                [{"title": "Sales", "payload": "/sales"}, {"title": "Support", "payload": "/support"}])
    harness.bot = ask
    await harness.say(text="help")
    assert await harness.settle(until=lambda: _has_outbound(harness, 1))
    [question] = await harness.outbound()
    buttons = body_of(question)["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == ["/sales", "/support"]
    await harness.say(type="button_reply", id="/sales", title="Sales", context_message_id=question["wamid"])
    assert await harness.settle(until=lambda: _turns(harness, 2))
    tap = harness.turns[1][1]
    assert (tap.type, tap.payload, tap.text, tap.context_wamid) == ("interactive", "/sales", "Sales", question["wamid"])


async def test_list_replies_locations_reactions_contacts_and_unsupported_reach_the_desk(harness):
    async def menu(item, chat_id):
        if item.type == "text":  # five choices: sent as a list message
            await harness.output.send_text_with_buttons(
                conversation_id(item.phone_number_id, item.wa_id), "Topics",
                [{"title": t, "payload": f"row-{i}"} for i, t in enumerate(["Sales", "Support", "Billing", "Jobs", "Press"])])
    harness.bot = menu
    await harness.say(text="menu")
    assert await harness.settle(until=lambda: _has_outbound(harness, 1))
    [listing] = await harness.outbound()
    assert body_of(listing)["interactive"]["type"] == "list"
    harness.turns.clear()
    await harness.say(type="list_reply", id="row-2", title="Billing", description="invoices")
    await harness.say(type="location", latitude=35.68, longitude=139.76, name="Tokyo Station")
    await harness.say(type="reaction", message_id="wamid.x", emoji="👍")
    await harness.say(type="contacts", contacts=[{"name": {"formatted_name": "Bo"}, "phones": [{"phone": "+441"}]}])
    await harness.say(type="unsupported")
    assert await harness.settle(until=lambda: _turns(harness, 3))
    await harness.settle(0.5)
    types = [t[0] for t in harness.turns]
    # A reaction and an unsupported message reach the desk, not the bot (issue 12): the reaction is
    # shown on the message it reacts to, the unsupported one gets a notice that it cannot be read.
    assert types == ["interactive", "location", "contacts"]
    assert harness.turns[0][1].payload == "row-2" and harness.turns[1][1].text == "Tokyo Station"
    from sqlalchemy import select

    from desk.models import Message
    async with harness.runtime.sessions() as s:
        kinds = (await s.execute(select(Message.type).order_by(Message.id))).scalars().all()
    assert {"reaction", "unsupported"} <= set(kinds)


async def test_long_text_is_split_under_the_limit(harness):
    async def long(item, chat_id):
        await harness.output.send_text_message(conversation_id(item.phone_number_id, item.wa_id),
                                               " ".join(["word"] * 1500))
    harness.bot = long
    await harness.say(text="tell me everything")
    assert await harness.settle(until=lambda: _has_outbound(harness, 2))
    sent = [body_of(m)["text"]["body"] for m in await harness.outbound()]
    assert len(sent) == 2 and all(len(t) <= 4096 for t in sent)
    assert " ".join(sent).split() == ["word"] * 1500


async def test_outside_the_24h_window_free_text_fails_with_131047(harness):
    harness.bot = _silent
    await harness.say(text="hello")
    await harness.settle(0.3)
    await harness.control("POST", "clock", advance_hours=25)
    await harness.output.send_text_message(conversation_id(PNID, USER), "are you still there?")

    async def failed():
        bot = await desk_messages(harness, Sender.bot)
        return bot and bot[0].status == "failed"
    assert await harness.settle(until=failed)
    [msg] = await desk_messages(harness, Sender.bot)
    assert "131047" in msg.error


async def test_an_approved_template_may_open_a_conversation(harness):
    from desk.billing import templates
    async with harness.runtime.sessions() as s, s.begin():  # approved in the desk's registry too
        await templates.register(s, waba_id=WABA, name="hello_world", language="en_US", category="UTILITY",
                                 components=templates.components_from("Welcome!"), status="APPROVED")
    await harness.output.send_custom_json(conversation_id(PNID, USER),
                                          outbound.template_message(USER, "hello_world", "en_US"))

    async def delivered():
        bot = await desk_messages(harness, Sender.bot)
        return bot and bot[0].status in ("delivered", "read")
    assert await harness.settle(until=delivered)
    [msg] = await harness.outbound()
    assert body_of(msg)["template"]["name"] == "hello_world"


async def test_throughput_and_temporary_errors_are_retried(harness):
    harness.bot = _silent
    await harness.say(text="hi")
    await harness.settle(0.3)
    await harness.control("POST", "faults", code=130429, count=1)
    await harness.control("POST", "faults", http_status=503, count=1)
    await harness.output.send_text_message(conversation_id(PNID, USER), "after two failures")
    [msg] = await harness.outbound()
    assert body_of(msg)["text"]["body"] == "after two failures"
    [desk_msg] = await desk_messages(harness, Sender.bot)
    assert desk_msg.wamid == msg["wamid"]


async def test_an_auth_error_disconnects_the_number_and_stops_sending(harness):
    harness.bot = _silent
    await harness.say(text="hi")
    await harness.settle(0.3)
    await harness.control("POST", "faults", code=190, count=1)
    await harness.output.send_text_message(conversation_id(PNID, USER), "one")
    async with harness.runtime.sessions() as s:
        number = await s.get(PhoneNumber, PNID)
        assert number.state == NumberState.disconnected and "190" in number.state_reason
    await harness.output.send_text_message(conversation_id(PNID, USER), "two")
    assert await harness.outbound() == []  # nothing reached Meta
    errors = [m.error for m in await desk_messages(harness, Sender.bot)]
    assert "190" in errors[0] and "disconnected" in errors[1]


async def test_unknown_numbers_are_ignored(harness):
    await harness.control("POST", "numbers", phone_number_id="100000000000009", access_token="other",
                          display_phone_number="15550000009", waba_id=WABA)
    await harness.say(text="anyone?", phone_number_id="100000000000009")
    await harness.settle(0.5)
    assert harness.turns == [] and await desk_messages(harness) == []


async def test_each_number_is_answered_with_its_own_token(harness):
    await harness.control("POST", "numbers", phone_number_id="100000000000002", access_token="token-two",
                          display_phone_number="15550000002", waba_id=WABA)
    async with harness.runtime.sessions() as s, s.begin():
        number = await numbers.ensure_number(s, phone_number_id="100000000000002", waba_id=WABA)
        number.access_token = "token-two"
    await harness.say(text="to number two", phone_number_id="100000000000002")
    await harness.say(text="to number one")

    async def both():
        return (await harness.outbound(phone_number_id="100000000000002")) and (await harness.outbound())
    assert await harness.settle(until=both)
    [two] = await harness.outbound(phone_number_id="100000000000002")
    assert body_of(two)["text"]["body"] == "echo: to number two"


async def test_throughput_cap_keeps_sends_under_metas_limit(harness):
    harness.bot = _silent
    await harness.say(text="hi")
    await harness.settle(0.3)
    # The simulator allows 40/s for this number; ours is set to 30/s. Without the cap,
    # back-to-back sends run faster than 40/s and Meta refuses some with 130429.
    harness.runtime.graph.limiter.interval = 1 / 30
    harness.runtime.graph.max_attempts = 1
    for i in range(50):
        await harness.output.send_text_message(conversation_id(PNID, USER), f"n{i}")
    assert [body_of(m)["text"]["body"] for m in await harness.outbound()] == [f"n{i}" for i in range(50)]
    assert all(m.status != "failed" for m in await desk_messages(harness, Sender.bot))


async def test_graph_errors_carry_metas_code(harness):
    await harness.control("POST", "faults", code=100, http_status=400, count=1)
    try:
        await harness.runtime.graph.send(PNID, "contract-token", {"to": USER, "type": "text", "text": {"body": "x"}})
    except GraphError as exc:
        assert (exc.code, exc.retryable, exc.auth) == (100, False, False)
    else:
        raise AssertionError("expected a GraphError")


async def _silent(item, chat_id):
    return None


async def _has_outbound(h, n):
    return len(await h.outbound()) >= n


async def _turns(h, n):
    return len(h.turns) >= n


async def test_uploaded_media_is_sent_by_id_with_a_caption(harness):
    harness.bot = _silent
    await harness.say(text="send me the invoice")
    await harness.settle(0.3)
    media_id = await harness.runtime.graph.upload_media(PNID, "contract-token", PDF, "application/pdf", "invoice.pdf")
    await harness.output.send_custom_json(conversation_id(PNID, USER), outbound.media_message(
        USER, "document", media_id=media_id, caption="Your invoice", filename="invoice.pdf"))
    [sent] = await harness.outbound()
    assert body_of(sent)["document"] == {"id": media_id, "caption": "Your invoice", "filename": "invoice.pdf"}
    [msg] = await desk_messages(harness, Sender.bot)
    assert (msg.type, msg.body, msg.wamid) == ("document", "Your invoice", sent["wamid"])


async def test_an_unknown_media_id_is_refused_by_meta_and_recorded_as_failed(harness):
    harness.bot = _silent
    await harness.say(text="hi")
    await harness.settle(0.3)
    await harness.output.send_custom_json(conversation_id(PNID, USER), outbound.media_message(
        USER, "image", media_id="999999999"))
    [msg] = await desk_messages(harness, Sender.bot)
    assert msg.status == "failed" and "131009" in msg.error


async def test_a_turn_retried_after_its_replies_went_out_does_not_send_them_again(harness):
    """The turn fails after two replies were accepted by Meta (e.g. the tracker store
    was locked); the retry runs the whole turn again: only its new reply goes out."""
    from connectors.whatsapp.channel import WhatsAppOutput

    attempts = []

    async def flaky_bot(item, chat_id):
        out = WhatsAppOutput(harness.runtime, cause=item.wamid)  # as the channel makes per turn
        recipient = conversation_id(item.phone_number_id, item.wa_id)
        attempts.append(item.wamid)
        await out.send_text_message(recipient, "first")
        await out.send_text_message(recipient, "second")
        if len(attempts) == 1:
            raise RuntimeError("database is locked")
        await out.send_text_message(recipient, "third")
    harness.bot = flaky_bot

    await harness.say(text="hello")

    async def three():
        return len(await harness.outbound()) >= 3
    assert await harness.settle(15.0, until=three)
    await harness.settle(0.5)
    assert len(attempts) == 2
    assert [body_of(m)["text"]["body"] for m in await harness.outbound()] == ["first", "second", "third"]
    bot = [m.body for m in await desk_messages(harness, Sender.bot)]
    assert bot == ["first", "second", "third"]  # the transcript shows each reply once
