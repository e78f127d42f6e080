"""Operator replies through the outbox, against the Cloud API simulator."""
import asyncio
import datetime as dt

import pytest
from aiohttp import web
from sqlalchemy import select, update

from cloudapi.graph import GraphClient
from desk.models import (Department, JobState, Message, NumberState, OutboxMessage, PhoneNumber,
                         WhatsAppBusinessAccount, utcnow)
from desk.services import outbox, routing
from simulator import SimConfig, create_app
from tests.desk import seed

TOKEN = "outbox-token"
USER = "447700900555"


@pytest.fixture
async def sim(aiohttp_client, aiohttp_server):
    statuses = []

    async def webhook(request):
        statuses.append(await request.json())
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", webhook)
    hook = await aiohttp_server(app)
    client = await aiohttp_client(create_app(SimConfig(
        webhook_url=str(hook.make_url("/hook")), app_secret="s", access_token=TOKEN,
        phone_number_id=seed.PNID, display_phone_number="15550000001", waba_id=seed.WABA, status_delay_ms=1)))
    client.statuses = statuses
    return client


@pytest.fixture
async def graph(sim):
    g = GraphClient(str(sim.make_url("/v21.0")), backoff=0.01)
    yield g
    await g.close()


@pytest.fixture
async def open_chat(sessions, sim):
    """A user wrote (to the simulator and the desk) and operator Ana has the chat."""
    resp = await sim.post(f"/_sim/users/{USER}/messages", json={"type": "text", "text": "help please"})
    assert resp.status == 200
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        ana = await seed.operator(s, brand_id, "Ana", [await s.get(Department, number.department_id)])
        bo = await seed.operator(s, brand_id, "Bo", [await s.get(Department, number.department_id)])
        chat = await seed.chat_from(s, USER, "help please")
        assert (await routing.hand_off(s, chat.id)).operator_name == "Ana"
        return {"chat_id": chat.id, "ana": ana, "bo": bo}


async def outbound(sim) -> list[dict]:
    resp = await sim.get(f"/_sim/users/{USER}/messages")
    return [m for m in (await resp.json())["messages"] if m["direction"] == "outbound"]


async def test_a_reply_is_recorded_then_sent_once(sessions, sim, graph, open_chat):
    async with sessions() as s, s.begin():
        msg = await outbox.send_operator_text(s, open_chat["chat_id"], open_chat["ana"], "Hi, I'm Ana.")
        assert msg.status == "queued"
    assert await outbox.run_once(sessions, graph, TOKEN) == 1
    assert await outbox.run_once(sessions, graph, TOKEN) == 0
    [sent] = await outbound(sim)
    assert sent["request"]["text"]["body"] == "Hi, I'm Ana."
    assert sent["request"]["biz_opaque_callback_data"].startswith("outbox:")
    async with sessions() as s:
        row = (await s.execute(select(OutboxMessage))).scalar_one()
        stored = await s.get(Message, row.message_id)
        assert (row.state, stored.wamid, stored.sender.value) == (JobState.sent, sent["wamid"], "operator")


@pytest.mark.parametrize("setup,reason", [
    ("closed", "closed"), ("other_operator", "take the chat first"), ("old_window", "24 hours"),
    ("disconnected", "disconnected"), ("empty", "empty"),
])
async def test_replies_that_cannot_be_sent_are_refused_with_a_reason(sessions, open_chat, setup, reason):
    async with sessions() as s, s.begin():
        operator, text = open_chat["ana"], "hello"
        if setup == "closed":
            await routing.close(s, open_chat["chat_id"], by="test", reason="done")
        elif setup == "other_operator":
            operator = open_chat["bo"]
        elif setup == "old_window":
            from desk.models import Chat
            await s.execute(update(Chat).values(last_user_message_at=utcnow() - dt.timedelta(hours=24, seconds=1)))
        elif setup == "disconnected":
            await s.execute(update(PhoneNumber).values(state=NumberState.disconnected))
        elif setup == "empty":
            text = "   "
        with pytest.raises(outbox.CannotSend, match=reason):
            await outbox.send_operator_text(s, open_chat["chat_id"], operator, text)
    async with sessions() as s:
        assert (await s.execute(select(OutboxMessage))).first() is None


async def test_temporary_errors_are_retried_later_and_order_is_kept(sessions, sim, graph, open_chat):
    graph.max_attempts = 1
    await sim.post("/_sim/faults", json={"http_status": 503, "count": 1})
    async with sessions() as s, s.begin():
        for text in ("first", "second"):
            await outbox.send_operator_text(s, open_chat["chat_id"], open_chat["ana"], text)
    await outbox.run_once(sessions, graph, TOKEN)  # "first" fails; "second" must wait behind it
    assert await outbound(sim) == []
    async with sessions() as s:
        first = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().first()
        assert first.state == JobState.pending and first.next_attempt_at > utcnow()
    later = utcnow() + dt.timedelta(minutes=5)
    await outbox.run_once(sessions, graph, TOKEN, now=later)
    await outbox.run_once(sessions, graph, TOKEN, now=later)
    assert [m["request"]["text"]["body"] for m in await outbound(sim)] == ["first", "second"]


async def test_two_workers_racing_send_each_message_once(sessions, sim, graph, open_chat):
    async with sessions() as s, s.begin():
        for i in range(6):
            await outbox.send_operator_text(s, open_chat["chat_id"], open_chat["ana"], f"m{i}")
    for _ in range(8):
        await asyncio.gather(outbox.run_once(sessions, graph, TOKEN), outbox.run_once(sessions, graph, TOKEN))
    assert [m["request"]["text"]["body"] for m in await outbound(sim)] == [f"m{i}" for i in range(6)]


async def test_a_crash_after_sending_does_not_send_twice(sessions, sim, graph, open_chat):
    """The worker died after Meta accepted the message but before recording it."""
    async with sessions() as s, s.begin():
        await outbox.send_operator_text(s, open_chat["chat_id"], open_chat["ana"], "only once")
    async with sessions() as s, s.begin():
        [row] = await outbox.claim(s, utcnow())
        row_id, request = row.id, row.request
        (await s.get(Message, row.message_id)).status = "sending"
    wamid = await graph.send(seed.PNID, TOKEN, request)  # ...and the process dies here.
    # Meta's status webhook comes back with our callback data; the channel links it.
    async with sessions() as s, s.begin():
        assert await outbox.link_status(s, f"outbox:{row_id}", wamid) is not None
    later = utcnow() + dt.timedelta(minutes=10)  # the lease has run out
    await outbox.run_once(sessions, graph, TOKEN, now=later)
    assert len(await outbound(sim)) == 1
    async with sessions() as s:
        assert (await s.get(OutboxMessage, row_id)).state == JobState.sent


async def test_a_crash_before_sending_sends_after_the_grace_period(sessions, sim, graph, open_chat):
    async with sessions() as s, s.begin():
        await outbox.send_operator_text(s, open_chat["chat_id"], open_chat["ana"], "not lost")
    async with sessions() as s, s.begin():
        [row] = await outbox.claim(s, utcnow())
        (await s.get(Message, row.message_id)).status = "sending"
        (await s.get(Message, row.message_id)).status_at = utcnow()
    # Died before calling Meta. Right after the lease: wait for a possible status...
    soon = utcnow() + outbox.LEASE + dt.timedelta(seconds=1)
    await outbox.run_once(sessions, graph, TOKEN, now=soon)
    assert await outbound(sim) == []
    # ...after the grace period with no status: it is sent.
    await outbox.run_once(sessions, graph, TOKEN, now=soon + outbox.STATUS_GRACE + dt.timedelta(minutes=2))
    assert [m["request"]["text"]["body"] for m in await outbound(sim)] == ["not lost"]


async def test_auth_error_disconnects_the_number(sessions, sim, graph, open_chat):
    await sim.post("/_sim/faults", json={"code": 190, "count": 1})
    async with sessions() as s, s.begin():
        await outbox.send_operator_text(s, open_chat["chat_id"], open_chat["ana"], "hello")
    await outbox.run_once(sessions, graph, TOKEN)
    async with sessions() as s:
        assert (await s.get(PhoneNumber, seed.PNID)).state == NumberState.disconnected
        msg = (await s.execute(select(Message).where(Message.sender == "operator"))).scalar_one()
        assert msg.status == "failed" and "190" in msg.error


# --- operator attachments: upload to the number, then a media message ------------------

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


async def _queue_photo(sessions, open_chat, media_store, caption="the label"):
    from desk.attachments import check_outbound

    rule = check_outbound("label.png", len(PNG), "image/png")
    stored = media_store.save(PNG, "image/png")
    async with sessions() as s, s.begin():
        msg = await outbox.send_operator_media(s, open_chat["chat_id"], open_chat["ana"], stored,
                                               kind=rule.kind, filename="label.png", caption=caption)
        return msg.id


async def test_an_attachment_is_uploaded_to_the_number_then_sent_once(sessions, sim, graph, open_chat, tmp_path):
    from desk.attachments import MediaStore

    store = MediaStore(tmp_path / "media")
    message_id = await _queue_photo(sessions, open_chat, store)
    async with sessions() as s:
        msg = await s.get(Message, message_id)
        assert (msg.status, msg.type, msg.body, msg.media_filename) == ("queued", "image", "the label", "label.png")
        row = (await s.execute(select(OutboxMessage))).scalar_one()
        assert row.request["image"] == {"caption": "the label"}  # no media id until the worker uploads
    assert await outbox.run_once(sessions, graph, TOKEN, media_store=store) == 1
    assert await outbox.run_once(sessions, graph, TOKEN, media_store=store) == 0
    [sent] = await outbound(sim)
    assert sent["type"] == "image" and sent["request"]["image"]["caption"] == "the label"
    media_id = sent["request"]["image"]["id"]
    # The simulator holds the very bytes the operator attached.
    body = await (await sim.get(f"/_sim/media/{media_id}")).read()
    assert body == PNG
    async with sessions() as s:
        row = (await s.execute(select(OutboxMessage))).scalar_one()
        msg = await s.get(Message, message_id)
        assert row.state == JobState.sent and row.request["image"]["id"] == media_id
        assert msg.wamid == sent["wamid"] and msg.media_sha256 == store.save(PNG, "image/png").sha256


async def test_a_failed_upload_is_retried_and_the_message_sent_once(sessions, sim, graph, open_chat, tmp_path):
    from desk.attachments import MediaStore

    store = MediaStore(tmp_path / "media")
    await sim.post("/_sim/faults", json={"http_status": 503, "count": 1, "endpoint": "media"})
    await _queue_photo(sessions, open_chat, store, caption=None)
    await outbox.run_once(sessions, graph, TOKEN, media_store=store)
    assert await outbound(sim) == []
    async with sessions() as s:
        row = (await s.execute(select(OutboxMessage))).scalar_one()
        assert row.state == JobState.pending and "media upload" in row.last_error and "id" not in row.request["image"]
    later = utcnow() + dt.timedelta(minutes=5)
    await outbox.run_once(sessions, graph, TOKEN, now=later, media_store=store)
    await outbox.run_once(sessions, graph, TOKEN, now=later, media_store=store)
    [sent] = await outbound(sim)
    assert sent["type"] == "image" and "caption" not in sent["request"]["image"]


async def test_an_uploaded_file_is_not_uploaded_again_when_the_send_is_retried(sessions, sim, graph, open_chat,
                                                                                tmp_path):
    from desk.attachments import MediaStore

    store = MediaStore(tmp_path / "media")
    graph.max_attempts = 1
    await sim.post("/_sim/faults", json={"http_status": 503, "count": 1, "endpoint": "messages"})
    await _queue_photo(sessions, open_chat, store)
    await outbox.run_once(sessions, graph, TOKEN, media_store=store)  # uploaded; the send fails
    async with sessions() as s:
        first_id = (await s.execute(select(OutboxMessage))).scalar_one().request["image"]["id"]
    store.path_for(store.save(PNG, "image/png").sha256).unlink()  # a second upload would now fail for good
    await outbox.run_once(sessions, graph, TOKEN, now=utcnow() + dt.timedelta(minutes=5), media_store=store)
    [sent] = await outbound(sim)
    assert sent["request"]["image"]["id"] == first_id


async def test_an_attachment_whose_file_is_gone_fails_with_a_reason(sessions, sim, graph, open_chat, tmp_path):
    from desk.attachments import MediaStore

    store = MediaStore(tmp_path / "media")
    message_id = await _queue_photo(sessions, open_chat, store)
    store.path_for(store.save(PNG, "image/png").sha256).unlink()
    await outbox.run_once(sessions, graph, TOKEN, media_store=store)
    assert await outbound(sim) == []
    async with sessions() as s:
        msg = await s.get(Message, message_id)
        assert msg.status == "failed" and "missing from the media store" in msg.error


async def test_attachments_follow_the_reply_rules(sessions, open_chat, tmp_path):
    from desk.attachments import MediaStore

    stored = MediaStore(tmp_path / "media").save(PNG, "image/png")
    async with sessions() as s, s.begin():
        await routing.close(s, open_chat["chat_id"], by="test", reason="done")
        with pytest.raises(outbox.CannotSend, match="closed"):
            await outbox.send_operator_media(s, open_chat["chat_id"], open_chat["ana"], stored,
                                             kind="image", filename="label.png")
        with pytest.raises(outbox.CannotSend, match="no caption on audio"):
            await outbox.send_operator_media(s, open_chat["chat_id"], open_chat["ana"], stored,
                                             kind="audio", filename="a.mp3", caption="hi")
    async with sessions() as s:
        assert (await s.execute(select(OutboxMessage))).first() is None
