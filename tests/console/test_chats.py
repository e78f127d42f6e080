"""Inbox, chat detail and the operator's actions through the console API (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from sqlalchemy import func, select

from desk.attachments import MediaStore
from desk.models import (Chat, ChatState, IntegrationJob, Message, OperatorStatus, OutboxMessage, Ticket, utcnow)
from desk.services import conversations, leads, routing
from tests.console.conftest import SALES_NUMBER, signed_in


async def outbox_rows(desk, chat_id: int) -> list[OutboxMessage]:
    async with desk.sessions() as session:
        rows = await session.execute(select(OutboxMessage).join(Message, Message.id == OutboxMessage.message_id)
                                     .where(Message.chat_id == chat_id))
        return list(rows.scalars())


async def test_an_operator_sees_only_the_chats_of_their_departments(make_console, desk):
    await desk.set_status("bob", OperatorStatus.away)   # someone available: Sales chats wait
    await desk.set_status("carol", OperatorStatus.away)  # and Support chats too
    support = await desk.seed_chat("447700900001", name="Kerry")
    sales = await desk.seed_chat("447700900002", name="Sam", number=SALES_NUMBER)
    alice = await signed_in(make_console, "alice")
    waiting = await (await alice.get("/api/inbox/waiting")).json()
    assert [c["id"] for c in waiting["chats"]] == [support]
    item = waiting["chats"][0]
    assert item["name"] == "Kerry" and item["department"] == "Support" and item["handed_off_at"]
    assert item["last"]["text"] == "I want a person" and item["phone"].startswith("+44")
    assert (await (await alice.get("/api/counts")).json())["waiting"] == 1
    assert (await alice.get(f"/api/chats/{sales}")).status == 404
    assert (await alice.get(f"/api/chats/{sales}/messages")).status == 404
    assert (await alice.post(f"/api/chats/{sales}/pick")).status == 404
    assert (await alice.post(f"/api/chats/{sales}/reply", {"text": "hi"})).status == 404
    # Issue 11: operators watch their departments' bot chats too (here: none with the bot).
    assert (await (await alice.get("/api/inbox/bot")).json())["chats"] == []
    admin = await signed_in(make_console, "ada")
    waiting = await (await admin.get("/api/inbox/waiting")).json()
    assert {c["id"] for c in waiting["chats"]} == {support, sales}


async def test_pick_reply_close(make_console, desk):
    chat_id = await desk.seed_chat("447700900001")
    alice = await signed_in(make_console, "alice")
    assert [c["id"] for c in (await (await alice.get("/api/inbox/unattended")).json())["chats"]] == [chat_id]
    detail = await (await alice.get(f"/api/chats/{chat_id}")).json()
    assert detail["composer"]["kind"] == "pick" and detail["actions"]["pick"]
    assert detail["contact"] == {**detail["contact"], "name": "Kerry Fisher", "wa_id": "447700900001"}

    resp = await alice.post(f"/api/chats/{chat_id}/pick")
    assert resp.status == 200, await resp.text()
    detail = await resp.json()
    assert detail["state"] == "open" and detail["operator"]["name"] == "Alice Support"
    assert detail["composer"]["enabled"] and detail["composer"]["window_open"]
    mine = await (await alice.get("/api/inbox/mine")).json()
    assert [c["id"] for c in mine["chats"]] == [chat_id]

    resp = await alice.post(f"/api/chats/{chat_id}/reply", {"text": "Hello Kerry, Alice here."})
    assert resp.status == 201, await resp.text()
    [row] = await outbox_rows(desk, chat_id)
    assert row.wa_id == "447700900001" and row.request["text"]["body"] == "Hello Kerry, Alice here."
    transcript = await (await alice.get(f"/api/chats/{chat_id}/messages")).json()
    assert [(m["sender"], m["body"], m["status"]) for m in transcript["messages"]] == [
        ("user", "hello", "received"), ("user", "I want a person", "received"),
        ("operator", "Hello Kerry, Alice here.", "queued")]

    empty = await alice.post(f"/api/chats/{chat_id}/reply", {"text": "   "})
    assert empty.status == 409 and (await empty.json())["error"] == "the message is empty"

    resp = await alice.post(f"/api/chats/{chat_id}/close", {"reason": "resolved"})
    assert resp.status == 200
    detail = await resp.json()
    assert detail["state"] == "closed" and detail["closed_by"] == "alice@acme.test"
    assert detail["composer"] == {**detail["composer"], "enabled": False, "kind": "closed"}
    refused = await alice.post(f"/api/chats/{chat_id}/reply", {"text": "one more thing"})
    assert refused.status == 409
    assert (await refused.json())["error"] == "this chat is closed: it cannot be answered"
    assert len(await outbox_rows(desk, chat_id)) == 1
    assert (await alice.post(f"/api/chats/{chat_id}/close")).status == 409
    closed = await (await alice.get("/api/inbox/closed")).json()
    assert [c["id"] for c in closed["chats"]] == [chat_id]


async def test_reply_refusals_outside_the_window_and_not_your_chat(make_console, desk):
    old = await desk.seed_chat("447700900003", user_wrote_at=utcnow() - dt.timedelta(hours=25))
    fresh = await desk.seed_chat("447700900004")
    alice = await signed_in(make_console, "alice")
    carol = await signed_in(make_console, "carol")
    assert (await alice.post(f"/api/chats/{old}/pick")).status == 200
    detail = await (await alice.get(f"/api/chats/{old}")).json()
    assert detail["composer"]["kind"] == "window" and not detail["composer"]["enabled"]
    refused = await alice.post(f"/api/chats/{old}/reply", {"text": "are you there?"})
    assert refused.status == 409
    assert (await refused.json())["error"] == (
        "the user last wrote more than 24 hours ago: only an approved template can be sent")

    assert (await carol.post(f"/api/chats/{fresh}/pick")).status == 200
    taken = await alice.post(f"/api/chats/{fresh}/pick")
    assert taken.status == 409 and (await taken.json())["error"] == "someone else took this chat"
    refused = await alice.post(f"/api/chats/{fresh}/reply", {"text": "let me"})
    assert refused.status == 409
    assert (await refused.json())["error"] == "take the chat first: only its operator can answer"
    assert (await alice.post(f"/api/chats/{fresh}/close")).status == 409  # Carol's chat
    assert await outbox_rows(desk, old) == [] and await outbox_rows(desk, fresh) == []


async def test_going_online_assigns_waiting_chats(make_console, desk):
    await desk.set_status("carol", OperatorStatus.away)
    chat_id = await desk.seed_chat("447700900001")
    alice = await signed_in(make_console, "alice")
    resp = await alice.put("/api/me/status", {"status": "online"})
    assert resp.status == 200 and (await resp.json())["assigned"] == [chat_id]
    assert (await (await alice.get("/api/me")).json())["status"] == "online"
    bad = await alice.put("/api/me/status", {"status": "asleep"})
    assert bad.status == 422 and "online, away or offline" in (await bad.json())["error"]


async def test_transfer_to_an_operator_of_another_department(make_console, desk):
    chat_id = await desk.seed_chat("447700900001")
    alice = await signed_in(make_console, "alice")
    bob = await signed_in(make_console, "bob")
    await alice.post(f"/api/chats/{chat_id}/pick")
    directory = await (await alice.get("/api/directory")).json()
    bob_id = next(o["id"] for o in directory["operators"] if o["name"] == "Bob Sales")
    resp = await alice.post(f"/api/chats/{chat_id}/transfer", {"operator_id": bob_id})
    assert resp.status == 200, await resp.text()
    assert (await resp.json()) == {"state": "open", "operator": "Bob Sales", "position": None, "visible": False}
    assert (await alice.get(f"/api/chats/{chat_id}")).status == 404
    detail = await (await bob.get(f"/api/chats/{chat_id}")).json()
    assert detail["operator"]["name"] == "Bob Sales" and detail["department"]["name"] == "Sales"
    resp = await bob.post(f"/api/chats/{chat_id}/transfer", {"department_id": desk.departments["Support"]})
    assert resp.status == 200 and (await resp.json())["state"] in ("unattended", "waiting")


async def test_tags_canned_articles_and_ticket(make_console, desk):
    chat_id = await desk.seed_chat("447700900001")
    admin = await signed_in(make_console, "ada")
    alice = await signed_in(make_console, "alice")
    assert (await admin.post("/api/admin/tags", {"name": "vip"})).status == 201
    assert (await admin.post("/api/admin/tags", {"name": "vip"})).status == 422
    resp = await admin.post("/api/admin/canned", {"shortcut": "/thanks", "title": "Thanks", "text": "Thank you!"})
    assert resp.status == 201, await resp.text()
    canned = await (await alice.get("/api/canned")).json()
    assert [(c["shortcut"], c["text"]) for c in canned] == [("thanks", "Thank you!")]
    unknown = await alice.post(f"/api/chats/{chat_id}/tags", {"name": "brand new"})
    assert unknown.status == 422  # operators use the admins' tags
    tagged = await (await alice.post(f"/api/chats/{chat_id}/tags", {"name": "VIP"})).json()
    assert [t["name"] for t in tagged["tags"]] == ["vip"]
    assert (await alice.post(f"/api/chats/{chat_id}/tags", {"name": "vip"})).status == 200  # twice: once
    untagged = await (await alice.delete(f"/api/chats/{chat_id}/tags/{tagged['tags'][0]['id']}")).json()
    assert untagged["tags"] == []
    articles = await (await alice.get("/api/articles")).json()
    assert articles and {"id", "title", "answer", "area"} <= set(articles[0])

    resp = await alice.post(f"/api/chats/{chat_id}/ticket", {"subject": "Late parcel"})
    assert resp.status == 201, await resp.text()
    async with desk.sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert ticket.subject == "Late parcel" and ticket.created_by == "alice@acme.test"
    assert "I want a person" in ticket.description


async def test_lead_details_and_push_to_crm(make_console, desk, monkeypatch):
    chat_id = await desk.seed_chat("447700900001")
    async with desk.sessions() as session, session.begin():
        lead = await leads.save_lead(session, wa_id="447700900001", phone_number_id=None, name="Kerry Fisher",
                                     email="kerry@example.com", company="Fisher Ltd", interest="pricing",
                                     consent=True, chat_id=chat_id)
        lead_id = lead.id
    alice = await signed_in(make_console, "alice")
    detail = await (await alice.get(f"/api/chats/{chat_id}")).json()
    assert detail["leads"][0] == {**detail["leads"][0], "email": "kerry@example.com", "crm_state": "pending"}
    monkeypatch.setenv("CRM_ADAPTER", "none")
    resp = await alice.post(f"/api/chats/{chat_id}/leads/{lead_id}/push")
    assert resp.status == 409 and "No CRM is configured" in (await resp.json())["error"]
    monkeypatch.setenv("CRM_ADAPTER", "webhook")
    monkeypatch.setenv("INTEGRATION_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("INTEGRATION_WEBHOOK_SECRET", "s3cret")
    resp = await alice.post(f"/api/chats/{chat_id}/leads/{lead_id}/push")
    assert resp.status == 202, await resp.text()
    assert (await resp.json())["job"]["adapter"] == "webhook"
    async with desk.sessions() as session:
        assert (await session.execute(select(func.count(IntegrationJob.id)))).scalar_one() == 1
    other = await desk.seed_chat("447700900009")
    assert (await alice.post(f"/api/chats/{other}/leads/{lead_id}/push")).status == 404


async def test_lead_follow_up_in_the_chat_detail(make_console, desk, monkeypatch):
    """The lead panel's follow-up: due (capture + LEAD_FOLLOW_UP_AFTER_HOURS), being sent,
    sent, refused with its reason; nothing when skipped, without consent or when off."""
    from desk.models import Lead

    chat_id = await desk.seed_chat("447700900001")
    captured = utcnow().replace(microsecond=0) - dt.timedelta(hours=2)
    async with desk.sessions() as session, session.begin():
        lead = await leads.save_lead(session, wa_id="447700900001", phone_number_id="100000000000001",
                                     name="Kerry", email=None, company=None, interest=None, consent=True,
                                     chat_id=chat_id)
        lead.created_at = captured
        lead_id = lead.id
    alice = await signed_in(make_console, "alice")

    async def follow_up(**values):
        if values:
            async with desk.sessions() as session, session.begin():
                lead = await session.get(Lead, lead_id)
                for k, v in values.items():
                    setattr(lead, k, v)
        detail = await (await alice.get(f"/api/chats/{chat_id}")).json()
        return detail["leads"][0]["follow_up"]

    monkeypatch.delenv("LEAD_FOLLOW_UP_AFTER_HOURS", raising=False)
    due = await follow_up()
    assert due["state"] == "due" and dt.datetime.fromisoformat(due["at"]) == captured + dt.timedelta(hours=24)
    monkeypatch.setenv("LEAD_FOLLOW_UP_AFTER_HOURS", "1.5")
    due = await follow_up()
    assert dt.datetime.fromisoformat(due["at"]) == captured + dt.timedelta(hours=1, minutes=30)
    monkeypatch.setenv("LEAD_FOLLOW_UP_AFTER_HOURS", "0")  # off
    assert await follow_up() is None
    monkeypatch.delenv("LEAD_FOLLOW_UP_AFTER_HOURS")
    assert await follow_up(consent=False) is None  # never followed up without consent
    sent_at = captured + dt.timedelta(hours=24)
    sending = await follow_up(consent=True, follow_up_state="sending", followed_up_at=sent_at)
    assert sending["state"] == "sending"
    sent = await follow_up(follow_up_state="queued")
    assert sent["state"] == "sent" and dt.datetime.fromisoformat(sent["at"]) == sent_at and sent["reason"] is None
    reason = "no credit left <b>for</b> Acme & co: buy credits"
    refused = await follow_up(follow_up_state="refused", follow_up_reason=reason)
    assert refused == {**refused, "state": "refused", "reason": reason}  # as stored; the page shows it as text
    assert await follow_up(follow_up_state="skipped", follow_up_reason="captured before follow-ups existed") is None


async def test_media_only_for_signed_in_users_who_see_the_chat(make_console, desk, console_settings):
    stored = MediaStore(console_settings.media_dir).save(b"\x89PNG\r\n\x1a\nfake", "image/png")
    async with desk.sessions() as session, session.begin():
        chat, msg = await conversations.record_inbound(
            session, phone_number_id="100000000000001", wa_id="447700900001", profile_name="Kerry",
            wamid="wamid.img", type="image", body=None, payload={}, wa_timestamp=utcnow(), media=stored,
            media_filename="photo.png")
    url = f"/api/messages/{msg.id}/media"
    anonymous = await make_console()
    assert (await anonymous.get(url)).status == 401
    await desk.set_status("carol", OperatorStatus.away)
    async with desk.sessions() as session, session.begin():
        from desk.services import routing
        await routing.hand_off(session, chat.id)
    alice = await signed_in(make_console, "alice")
    resp = await alice.get(url)
    assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
    # Not kept in the browser's cache after sign-out.
    assert resp.headers["Cache-Control"] == "no-store"
    assert await resp.read() == b"\x89PNG\r\n\x1a\nfake"
    transcript = await (await alice.get(f"/api/chats/{chat.id}/messages")).json()
    assert transcript["messages"][0]["media"]["url"] == url
    bob = await signed_in(make_console, "bob")
    assert (await bob.get(url)).status == 404
    assert (await alice.get("/api/messages/..%2f..%2fetc%2fpasswd/media")).status == 400
    assert (await alice.get(f"/api/messages/{msg.id + 1000}/media")).status == 404


async def test_same_bytes_uploaded_twice_keep_their_own_name_and_type(make_console, desk, console_settings):
    store = MediaStore(console_settings.media_dir)
    first, second = store.save(b"%PDF-1.4 same", "application/pdf"), store.save(b"%PDF-1.4 same", "text/plain")
    assert first.sha256 == second.sha256
    async with desk.sessions() as session, session.begin():
        ids = []
        for wamid, media, name in (("wamid.d1", first, "invoice.pdf"), ("wamid.d2", second, "請求書.txt")):
            chat, msg = await conversations.record_inbound(
                session, phone_number_id="100000000000001", wa_id="447700900002", profile_name="Kerry",
                wamid=wamid, type="document", body=None, payload={}, wa_timestamp=utcnow(), media=media,
                media_filename=name)
            ids.append(msg.id)
        await routing.hand_off(session, chat.id)
    ada = await signed_in(make_console, "ada")
    one, two = [await ada.get(f"/api/messages/{i}/media") for i in ids]
    assert one.headers["Content-Type"] == "application/pdf"
    assert one.headers["Content-Disposition"] == 'attachment; filename="invoice.pdf"'
    assert two.headers["Content-Type"] == "text/plain"
    # A non-ASCII name travels as RFC 6266 filename*, with an ASCII fallback.
    assert two.headers["Content-Disposition"] == (
        "attachment; filename=\"___.txt\"; filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.txt")


@pytest.mark.parametrize("mime, served, disposition", [
    ("image/png", "image/png", "inline"),
    ("IMAGE/JPEG", "image/jpeg", "inline"),
    ("audio/ogg; codecs=opus", "audio/ogg", "inline"),
    ("video/mp4", "video/mp4", "inline"),
    ("image/svg+xml", "image/svg+xml", "attachment"),
    ("image/SVG+XML", "image/svg+xml", "attachment"),
    ("image/svg+xml; charset=utf-8", "image/svg+xml", "attachment"),
    ("image/svg+xml ", "image/svg+xml", "attachment"),
    ("text/html", "text/html", "attachment"),
    ("image/gif", "image/gif", "attachment"),
    (None, "application/octet-stream", "attachment"),
    ("not a type", "application/octet-stream", "attachment"),
])
def test_media_is_inline_only_for_the_allow_listed_types(mime, served, disposition):
    from desk.web.api import media_headers

    headers = media_headers(mime, "f", "fallback")
    assert (headers["Content-Type"], headers["Content-Disposition"].split(";")[0]) == (served, disposition)
    assert headers["X-Content-Type-Options"] == "nosniff"


async def test_attachments_are_checked_against_the_product_rules(make_console, desk):
    import aiohttp

    chat_id = await desk.seed_chat("447700900001")
    alice = await signed_in(make_console, "alice")
    await alice.post(f"/api/chats/{chat_id}/pick")

    async def upload(name, data, mime, caption=None, headers=None):
        form = aiohttp.FormData()
        if caption is not None:
            form.add_field("caption", caption)
        form.add_field("file", data, filename=name, content_type=mime)
        return await alice.client.post(f"/api/chats/{chat_id}/attachments", data=form,
                                       headers=alice.headers(**(headers or {})))

    resp = await upload("setup.exe", b"MZ", "application/octet-stream")
    assert resp.status == 422 and "'.exe' files cannot be sent" in (await resp.json())["error"]
    resp = await upload("big.png", b"0" * (5 * 1024 * 1024 + 1), "image/png")
    assert resp.status == 422 and "at most 5 MB" in (await resp.json())["error"]
    resp = await upload("manual.pdf", b"%PDF-1.4", "application/pdf", headers={"X-File-Size": str(21 * 1024 * 1024)})
    assert resp.status == 422 and "at most 20 MB" in (await resp.json())["error"]  # by the declared size
    resp = await upload("invoice.pdf", b"<html><script>alert(1)</script>", "application/pdf")
    assert resp.status == 422 and "not a real .pdf file" in (await resp.json())["error"]
    resp = await upload("photo.png", b"\x89PNG\r\n\x1a\n", "text/html")
    assert resp.status == 422 and "not an allowed image type" in (await resp.json())["error"]
    assert await outbox_rows(desk, chat_id) == []

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    resp = await upload("label.png", png, "image/png", caption="The label")
    assert resp.status == 201, await resp.text()
    sent = (await resp.json())["message"]
    assert (sent["type"], sent["body"], sent["status"], sent["sender"]) == ("image", "The label", "queued", "operator")
    assert sent["media"]["kind"] == "image" and sent["media"]["filename"] == "label.png"
    [row] = await outbox_rows(desk, chat_id)
    assert row.request["type"] == "image" and row.request["image"] == {"caption": "The label"}
    served = await alice.get(sent["media"]["url"])
    assert served.status == 200 and await served.read() == png and served.headers["Content-Type"] == "image/png"
    transcript = await (await alice.get(f"/api/chats/{chat_id}/messages")).json()
    assert transcript["messages"][-1]["media"]["url"] == sent["media"]["url"]
    from desk.web.api import _clean_filename
    assert _clean_filename("C:\\fakepath\\label.png") == _clean_filename("../../label.png") == "label.png"
    # A document keeps its name for WhatsApp.
    resp = await upload("terms.pdf", b"%PDF-1.4 terms", "application/pdf")
    assert resp.status == 201
    assert (await outbox_rows(desk, chat_id))[-1].request["document"] == {"filename": "terms.pdf"}
    # Another operator of the department cannot send into Alice's chat.
    carol = await signed_in(make_console, "carol")
    form = aiohttp.FormData()
    form.add_field("file", png, filename="x.png", content_type="image/png")
    resp = await carol.client.post(f"/api/chats/{chat_id}/attachments", data=form, headers=carol.headers())
    assert resp.status == 409 and "only its operator" in (await resp.json())["error"]
    # No CSRF token, no upload.
    form = aiohttp.FormData()
    form.add_field("file", png, filename="x.png", content_type="image/png")
    resp = await alice.client.post(f"/api/chats/{chat_id}/attachments", data=form)
    assert resp.status == 403
    rules = await (await alice.get("/api/attachment-rules")).json()
    assert {r["kind"]: r["max_bytes"] // (1024 * 1024) for r in rules} == {
        "image": 5, "document": 20, "video": 15, "audio": 15}


async def test_admin_timeouts_show_the_services_validation(make_console, desk):
    admin = await signed_in(make_console, "ada")
    resp = await admin.put("/api/admin/settings", {"unattended_close_minutes": 5})
    assert resp.status == 422 and "15 minutes to 1 month" in (await resp.json())["error"]
    resp = await admin.put("/api/admin/settings", {"unattended_close_minutes": 30, "idle_close_minutes": 90})
    assert resp.status == 200
    assert (await (await admin.get("/api/admin/settings")).json())["idle_close_minutes"] == 90
    team = await (await admin.get("/api/admin/team")).json()
    assert {d["name"]: d["members"] for d in team["departments"]}["Sales"] == ["Ada Admin", "Bob Sales"]


async def test_events_announce_a_new_message_within_a_second(make_console, desk):
    chat_id = await desk.seed_chat("447700900001")
    alice = await signed_in(make_console, "alice")
    resp = await alice.get("/api/events")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    assert b"event: hello" in await resp.content.readuntil(b"\n\n")
    await asyncio.sleep(0.7)  # the poller has its baseline
    started = asyncio.get_running_loop().time()
    await desk.say("447700900001", "are you there?")
    chunk = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), timeout=3)
    while b"event: change" not in chunk:
        chunk = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), timeout=3)
    assert asyncio.get_running_loop().time() - started < 1.5
    resp.close()
    async with desk.sessions() as session:
        assert (await session.get(Chat, chat_id)).state == ChatState.unattended


async def test_a_chat_from_a_click_to_whatsapp_ad_shows_where_it_came_from(make_console, desk):
    from desk.services import conversations
    from tests.console.conftest import SUPPORT_NUMBER
    referral = {"source_url": "https://fb.me/mugs", "source_type": "ad", "source_id": "120", "headline": "Mugs -20%",
                "body": "Our best mugs", "ctwa_clid": "ARA1"}
    async with desk.sessions() as s, s.begin():
        chat, _ = await conversations.record_inbound(
            s, phone_number_id=SUPPORT_NUMBER, wa_id="447700900555", profile_name="Ad Clicker", wamid="wamid.ad1",
            type="text", body="Hi, I saw your ad", payload={"text": {"body": "Hi"}, "referral": referral},
            wa_timestamp=utcnow().replace(microsecond=0))
        chat_id = chat.id
    plain = await desk.seed_chat("447700900556", hand_off=False)
    ada = await signed_in(make_console, "ada")
    detail = await (await ada.get(f"/api/chats/{chat_id}")).json()
    assert detail["source"] == {"type": "ad", "headline": "Mugs -20%", "url": "https://fb.me/mugs",
                                "body": "Our best mugs", "id": "120"}
    assert (await (await ada.get(f"/api/chats/{plain}")).json())["source"] is None
