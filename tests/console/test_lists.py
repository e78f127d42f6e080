"""Issue 11 through the console API: bot chats seen and taken over by their department,
handed back; tickets, leads and contacts listed with state, owner, search and filters.
(Another brand's admin reaching none of it: tests/console/test_tenants.py walks these routes.)"""
from __future__ import annotations

from sqlalchemy import func, select

from desk.models import Brand, Message, OutboxMessage, Operator, Role
from desk.services import leads, tickets
from tests.console.conftest import SALES_NUMBER, SUPPORT_NUMBER, password_hash, signed_in


async def _json(resp, status=200):
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_operators_see_their_departments_bot_chats_take_one_over_and_hand_it_back(make_console, desk):
    chat_id = await desk.seed_chat("447700900001", texts=("do you ship to Japan?",), hand_off=False)
    alice, bob = await signed_in(make_console, "alice"), await signed_in(make_console, "bob")
    assert [c["id"] for c in (await _json(await alice.get("/api/inbox/bot")))["chats"]] == [chat_id]
    assert (await _json(await alice.get("/api/counts")))["bot"] == 1
    assert (await _json(await bob.get("/api/inbox/bot")))["chats"] == []  # Sales: not their number
    assert (await bob.post(f"/api/chats/{chat_id}/take-over")).status == 404

    before = await _json(await alice.get(f"/api/chats/{chat_id}"))
    assert before["actions"]["take_over"] and not before["composer"]["enabled"]
    after = await _json(await alice.post(f"/api/chats/{chat_id}/take-over"))
    assert (after["state"], after["operator"]["name"], after["composer"]["enabled"]) == ("open", "Alice Support", True)
    assert after["actions"]["hand_back"] and not after["actions"]["take_over"]
    carol = await signed_in(make_console, "carol")
    again = await carol.post(f"/api/chats/{chat_id}/take-over")
    assert again.status == 409 and "the bot does not have this chat" in (await again.json())["error"]
    assert (await carol.post(f"/api/chats/{chat_id}/hand-back")).status == 409  # Alice's chat

    reply = await alice.post(f"/api/chats/{chat_id}/reply", json={"text": "Yes, we do!"})
    assert reply.status == 201, await reply.text()
    back = await _json(await alice.post(f"/api/chats/{chat_id}/hand-back"))
    assert (back["state"], back["operator"]) == ("bot", None)
    transcript = (await _json(await alice.get(f"/api/chats/{chat_id}/messages")))["messages"]
    assert [(m["type"], m["body"]) for m in transcript if m["type"] == "event"] == [
        ("event", "Alice Support took over the chat from the bot"),
        ("event", "Alice Support handed the chat back to the bot")]


async def _left_message(desk, wa_id, text, number=SUPPORT_NUMBER, department=None):
    chat_id = await desk.seed_chat(wa_id, texts=(text,), hand_off=False, number=number)
    async with desk.sessions() as s, s.begin():
        ticket = await tickets.create_ticket_from_chat(s, chat_id, "bot", f"Kerry: {text}", message=text,
                                                       department=department, adapter="none")
        return chat_id, ticket.id


async def test_a_left_message_is_queued_for_its_department_and_a_colleague_answers_and_closes_it(make_console, desk):
    chat_id, ticket_id = await _left_message(desk, "447700900002", "my mug arrived broken")
    _, sales_ticket = await _left_message(desk, "447700900003", "price for 200 mugs?", number=SALES_NUMBER)
    alice, bob = await signed_in(make_console, "alice"), await signed_in(make_console, "bob")
    queued = (await _json(await alice.get("/api/tickets?owner=unassigned")))["tickets"]
    assert [(t["id"], t["department"]["name"], t["operator"], t["source"]) for t in queued] == [
        (ticket_id, "Support", None, "message")]
    assert [t["id"] for t in (await _json(await bob.get("/api/tickets")))["tickets"]] == [sales_ticket]
    assert (await bob.get(f"/api/tickets/{ticket_id}")).status == 404
    assert (await _json(await alice.get("/api/lists/counts")))["tickets_queued"] == 1
    assert [t["id"] for t in (await _json(await alice.get("/api/tickets?q=BROKEN")))["tickets"]] == [ticket_id]
    assert (await _json(await alice.get("/api/tickets?q=nothing-like-it")))["tickets"] == []
    assert (await alice.get("/api/tickets?state=bogus")).status == 400

    detail = await _json(await alice.get(f"/api/tickets/{ticket_id}"))
    assert detail["message"] == "my mug arrived broken" and "my mug arrived broken" in detail["description"]
    assert detail["composer"]["enabled"] and detail["composer"]["window_open"] and detail["actions"]["take"]
    taken = await _json(await alice.post(f"/api/tickets/{ticket_id}/take"))
    assert taken["operator"]["name"] == "Alice Support"
    carol = await signed_in(make_console, "carol")
    assert (await carol.post(f"/api/tickets/{ticket_id}/take")).status == 409
    empty = await alice.post(f"/api/tickets/{ticket_id}/reply", json={"text": "  "})
    assert empty.status == 409 and "empty" in (await empty.json())["error"]
    answered = await _json(await alice.post(f"/api/tickets/{ticket_id}/reply",
                                            json={"text": "Sorry! A new mug is on its way."}), 201)
    assert answered["chat_id"] == chat_id
    assert [(r["kind"], r["body"], r["operator"]) for r in answered["ticket"]["replies"]] == [
        ("text", "Sorry! A new mug is on its way.", "Alice Support")]
    async with desk.sessions() as s:
        rows = (await s.execute(select(OutboxMessage.wa_id, OutboxMessage.request))).all()
        assert [(wa, req["text"]["body"]) for wa, req in rows] == [("447700900002", "Sorry! A new mug is on its way.")]
    closed = await _json(await alice.post(f"/api/tickets/{ticket_id}/close"))
    assert (closed["state"], closed["closed_by"]) == ("closed", "alice@acme.test")
    assert (await _json(await alice.get("/api/tickets")))["tickets"] == []
    assert [t["id"] for t in (await _json(await alice.get("/api/tickets?state=closed")))["tickets"]] == [ticket_id]
    assert [t["id"] for t in (await _json(await alice.get("/api/tickets?state=all&owner=me")))["tickets"]] == [ticket_id]


async def test_outside_the_window_a_ticket_answer_needs_a_template_and_says_so(make_console, desk):
    import datetime as dt
    from desk.models import utcnow
    chat_id = await desk.seed_chat("447700900004", texts=("call me back",), hand_off=False,
                                   user_wrote_at=utcnow() - dt.timedelta(hours=30))
    async with desk.sessions() as s, s.begin():
        ticket_id = (await tickets.create_ticket_from_chat(s, chat_id, "bot", "call me back", adapter="none")).id
    alice = await signed_in(make_console, "alice")
    detail = await _json(await alice.get(f"/api/tickets/{ticket_id}"))
    assert not detail["composer"]["enabled"] and "approved template" in detail["composer"]["reason"]
    resp = await alice.post(f"/api/tickets/{ticket_id}/reply", json={"text": "hello?"})
    assert resp.status == 409 and "no approved template" in (await resp.json())["error"]
    async with desk.sessions() as s:
        assert (await s.execute(select(func.count(OutboxMessage.id)))).scalar_one() == 0


async def test_a_lead_with_no_crm_is_a_task_in_the_sales_list(make_console, desk, monkeypatch):
    monkeypatch.setenv("CRM_ADAPTER", "none")
    chat_id = await desk.seed_chat("447700900005", texts=("quote for 200 mugs",), hand_off=False)
    async with desk.sessions() as s, s.begin():
        lead_id = (await leads.save_lead(s, wa_id="447700900005", phone_number_id=SUPPORT_NUMBER, name="Kim Lee",
                                         email="kim@mugs.example", company="Mugs Ltd", interest="200 mugs",
                                         consent=True, chat_id=chat_id)).id
    bob, alice = await signed_in(make_console, "bob"), await signed_in(make_console, "alice")
    tasks = (await _json(await bob.get("/api/leads?task=open&owner=unassigned")))["leads"]
    assert [(x["id"], x["task"]["state"], x["department"]["name"], x["crm_state"]) for x in tasks] == [
        (lead_id, "open", "Sales", "pending")]
    assert (await _json(await bob.get("/api/lists/counts")))["lead_tasks"] == 1
    assert [x["id"] for x in (await _json(await bob.get("/api/leads?q=mugs ltd")))["leads"]] == [lead_id]
    # Alice sees it through her department's chat, but it is Sales' task.
    assert (await alice.post(f"/api/leads/{lead_id}/take")).status == 409
    taken = await _json(await bob.post(f"/api/leads/{lead_id}/take"))
    assert taken["operator"]["name"] == "Bob Sales"
    done = await _json(await bob.post(f"/api/leads/{lead_id}/done"))
    assert (done["task"]["state"], done["task"]["done_by"]) == ("done", "bob@acme.test")
    assert (await _json(await bob.get("/api/leads?task=open")))["leads"] == []


async def test_contacts_list_with_state_owner_and_search(make_console, desk):
    bot_chat = await desk.seed_chat("447700900006", name="Kerry Fisher", texts=("hi",), hand_off=False)
    await desk.seed_chat("447700900007", name="Lou Reed", texts=("a person please",))
    ada = await signed_in(make_console, "ada")
    everyone = (await _json(await ada.get("/api/contacts")))["contacts"]
    assert sorted(c["name"] for c in everyone) == ["Kerry Fisher", "Lou Reed"]
    with_bot = (await _json(await ada.get("/api/contacts?state=bot")))["contacts"]
    assert [(c["name"], c["last_chat"]["id"], c["last_chat"]["state"]) for c in with_bot] == [
        ("Kerry Fisher", bot_chat, "bot")]
    assert [c["name"] for c in (await _json(await ada.get("/api/contacts?q=900007")))["contacts"]] == ["Lou Reed"]
    assert [c["name"] for c in (await _json(await ada.get("/api/contacts?q=kerry")))["contacts"]] == ["Kerry Fisher"]
    assert (await _json(await ada.get("/api/contacts?owner=me")))["contacts"] == []
    bob = await signed_in(make_console, "bob")  # Sales: neither chat is theirs
    assert (await _json(await bob.get("/api/contacts")))["contacts"] == []


async def test_another_brands_admin_lists_none_of_acmes_rows(make_console, desk, monkeypatch):
    monkeypatch.setenv("CRM_ADAPTER", "none")
    chat_id, _ = await _left_message(desk, "447700900008", "where is my order")
    async with desk.sessions() as s, s.begin():
        await leads.save_lead(s, wa_id="447700900008", phone_number_id=SUPPORT_NUMBER, name="Kim", email=None,
                              company=None, interest=None, consent=True, chat_id=chat_id)
        globex = Brand(name="Globex")
        s.add(globex)
        await s.flush()
        s.add(Operator(brand_id=globex.id, email="gina@globex.test", name="Gina", role=Role.admin,
                       password_hash=password_hash()))
    gina = await make_console()
    assert (await gina.login("gina@globex.test")).status == 200
    for path, key in (("/api/tickets?state=all", "tickets"), ("/api/leads", "leads"), ("/api/contacts", "contacts"),
                      ("/api/inbox/bot", "chats")):
        assert (await _json(await gina.get(path)))[key] == [], path
    assert await _json(await gina.get("/api/lists/counts")) == {"tickets_queued": 0, "tickets_mine": 0,
                                                                "lead_tasks": 0}
    ada = await signed_in(make_console, "ada")  # the control: Acme's admin sees them
    assert len((await _json(await ada.get("/api/tickets?state=all")))["tickets"]) == 1
    assert len((await _json(await ada.get("/api/leads")))["leads"]) == 1


async def test_a_ticket_an_operator_makes_from_a_chat_is_listed_for_the_chats_department(make_console, desk):
    chat_id = await desk.seed_chat("447700900009", texts=("the app crashes on login",))
    alice = await signed_in(make_console, "alice")
    await _json(await alice.post(f"/api/chats/{chat_id}/pick"))
    made = await _json(await alice.post(f"/api/chats/{chat_id}/ticket", json={"subject": "App crash on login"}), 201)
    [item] = (await _json(await alice.get("/api/tickets")))["tickets"]
    assert (item["id"], item["subject"], item["source"], item["created_by"], item["department"]["name"]) == (
        made["id"], "App crash on login", "operator", "alice@acme.test", "Support")
    detail = await _json(await alice.get(f"/api/tickets/{made['id']}"))
    assert "the app crashes on login" in detail["description"] and detail["origin_chat"]["id"] == chat_id
