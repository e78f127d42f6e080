"""Console rough edges (issue 11): the lone "/", failed sends in plain words and their
retry, canned-response variables, internal notes, timeouts in hours and days, phone
numbers in one format (SQLite and PostgreSQL)."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from desk.models import Message, OutboxMessage
from tests.clock import MID_MONTH, clock_from
from tests.console.conftest import signed_in


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock_from(MID_MONTH):
        yield


async def outbox_rows(desk, chat_id: int) -> list[OutboxMessage]:
    async with desk.sessions() as session:
        rows = await session.execute(select(OutboxMessage).join(Message, Message.id == OutboxMessage.message_id)
                                     .where(Message.chat_id == chat_id))
        return list(rows.scalars())


async def picked_by(make_console, desk, who: str = "alice", wa_id: str = "447700900001"):
    chat_id = await desk.seed_chat(wa_id)
    console = await signed_in(make_console, who)
    assert (await console.post(f"/api/chats/{chat_id}/pick")).status == 200
    return console, chat_id


@pytest.mark.parametrize("text", ["/", " / ", "/cou", "/refund-2"])
async def test_a_lone_slash_is_refused_and_nothing_is_queued(make_console, desk, text):
    alice, chat_id = await picked_by(make_console, desk)
    resp = await alice.post(f"/api/chats/{chat_id}/reply", {"text": text})
    assert resp.status == 400
    assert "canned responses" in (await resp.json())["error"]
    assert await outbox_rows(desk, chat_id) == []
    # A reply that merely starts with a slash, or mentions one, still goes.
    ok = await alice.post(f"/api/chats/{chat_id}/reply", {"text": "/ is the key next to shift"})
    assert ok.status == 201
    assert [r.request["text"]["body"] for r in await outbox_rows(desk, chat_id)] == ["/ is the key next to shift"]


async def test_phone_numbers_have_one_format_everywhere(make_console, desk):
    """Issue 11: "15550000001" (a number as stored) next to "+15550000002" (a WhatsApp id)."""
    from desk.models import PhoneNumber
    from desk.phone_display import phone_display
    from tests.console.conftest import SUPPORT_NUMBER

    async with desk.sessions() as session, session.begin():
        (await session.get(PhoneNumber, SUPPORT_NUMBER)).display_phone_number = "15550000001"  # as the demo stores it
    chat_id = await desk.seed_chat("15550000002")
    ada = await signed_in(make_console, "ada")
    detail = await (await ada.get(f"/api/chats/{chat_id}")).json()
    assert detail["contact"]["phone"] == "+1 555-000-0002"
    assert detail["number"]["display"] == "+1 555-000-0001"
    [item] = (await (await ada.get("/api/inbox/unattended")).json())["chats"]
    assert item["phone"] == "+1 555-000-0002"
    numbers = {n["id"]: n["display"] for n in await (await ada.get("/api/admin/numbers")).json()}
    assert numbers[SUPPORT_NUMBER] == "+1 555-000-0001"
    contacts = (await (await ada.get("/api/contacts")).json())["contacts"]
    assert [c["phone"] for c in contacts] == ["+1 555-000-0002"]
    assert contacts[0]["last_chat"]["number"] == "+1 555-000-0001"
    assert [phone_display(v) for v in ("447700900123", "+44 7700 900123", "", "999")] == [
        "+44 7700 900123", "+44 7700 900123", "", "+999"]


class FakeGraph:
    """Meta's side for the outbox worker: the given errors first, then accepted sends."""

    _ids = itertools.count(1)  # wamids are unique across instances, as Meta's are

    def __init__(self, *errors):
        self.errors, self.sent, self.wamids = list(errors), [], []

    async def send(self, phone_number_id, token, request):
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(request)
        self.wamids.append(f"wamid.fake{next(self._ids)}")
        return self.wamids[-1]


async def test_a_failed_send_says_what_happened_and_can_be_retried(make_console, desk):
    from cloudapi.graph import GraphError
    from desk.services import outbox

    alice, chat_id = await picked_by(make_console, desk)
    sent = await (await alice.post(f"/api/chats/{chat_id}/reply", {"text": "Your parcel is on its way."})).json()
    mid = sent["message"]["id"]
    assert sent["message"]["failure"] is None
    graph = FakeGraph(GraphError(400, 131026, "Message undeliverable"))
    assert await outbox.run_once(desk.sessions, graph, "token") == 1
    [failed] = [m for m in (await (await alice.get(f"/api/chats/{chat_id}/messages")).json())["messages"]
                if m["id"] == mid]
    assert failed["status"] == "failed" and "131026" in failed["error"]  # Meta's words stay, for details
    assert failed["failure"] == {"code": 131026, "action": "retry",
                                 "text": failed["failure"]["text"], "next_step": "Retry later, or reach the "
                                                                                 "customer another way."}
    assert "could not deliver this message to the customer's phone" in failed["failure"]["text"]

    # Only the chat's operator (or an admin) may retry; only a failed operator message.
    carol = await signed_in(make_console, "carol")
    refused = await carol.post(f"/api/chats/{chat_id}/messages/{mid}/retry")
    assert refused.status == 409 and "only its operator can answer" in (await refused.json())["error"]
    user_msg = (await (await alice.get(f"/api/chats/{chat_id}/messages")).json())["messages"][0]
    assert (await alice.post(f"/api/chats/{chat_id}/messages/{user_msg['id']}/retry")).status == 409
    other_chat = await desk.seed_chat("447700900777")
    assert (await alice.post(f"/api/chats/{other_chat}/messages/{mid}/retry")).status == 409

    resp = await alice.post(f"/api/chats/{chat_id}/messages/{mid}/retry")
    assert resp.status == 200, await resp.text()
    again = (await resp.json())["message"]
    assert (again["id"], again["status"], again["error"], again["failure"]) == (mid, "queued", None, None)
    assert await outbox.run_once(desk.sessions, graph, "token") == 1
    assert [r["text"]["body"] for r in graph.sent] == ["Your parcel is on its way."]
    [row] = await outbox_rows(desk, chat_id)
    async with desk.sessions() as session:
        stored = await session.get(Message, mid)
        assert (stored.wamid, stored.error) == (graph.wamids[0], None) and stored.status != "failed"
    assert row.state.value == "sent"
    # Not failed (any more): nothing to retry.
    twice = await alice.post(f"/api/chats/{chat_id}/messages/{mid}/retry")
    assert twice.status == 409 and "did not fail" in (await twice.json())["error"]


@pytest.mark.parametrize("error,code,action,words", [
    ("131047: Re-engagement message", 131047, "template", "24-hour window has closed"),
    ("outside the 24-hour window: only an approved template can be sent (131047)", 131047, "template",
     "24-hour window has closed"),
    ("470: Message failed to send because more than 24 hours have passed", 470, "template", "24-hour window"),
    ("Graph API error 130429 [HTTP 400]: Rate limit hit", 130429, "retry", "limiting how fast"),
    ("131056: (Business Account, Consumer Account) pair rate limit hit", 131056, "retry", "short time"),
    ("Graph API error 131051 [HTTP 400]: Unsupported message type", 131051, None, "does not support"),
    ("Graph API error 131026 [HTTP 400]: Message Undeliverable", 131026, "retry", "could not deliver"),
    ("Graph API error 190 [HTTP 401]: Error validating access token", 190, "retry", "reconnect"),
    ("something odd", None, "retry", "did not deliver"),
])
def test_meta_error_codes_in_plain_words(error, code, action, words):
    from desk.services.send_errors import explain

    failure = explain(error)
    assert (failure.code, failure.action) == (code, action)
    assert words in failure.text + " " + failure.next_step
    assert code is None or str(code) not in failure.text  # a sentence, not a code
    assert explain(None) is None and explain("") is None


async def test_canned_responses_take_variables_and_refuse_unknown_ones(make_console, desk):
    ada = await signed_in(make_console, "ada")
    bad = await ada.post("/api/admin/canned", {"shortcut": "hi", "title": "Hi", "text": "Hi {nmae}, {operator} here"})
    assert bad.status == 422
    assert (await bad.json())["error"].startswith("unknown variable {nmae} in the text")
    assert (await ada.post("/api/admin/canned", {"shortcut": "hi", "title": "Hi",
                                                 "text": "Hi {name}, {operator} from {brand} here."})).status == 201
    [saved] = await (await ada.get("/api/admin/canned")).json()
    edit = await ada.put(f"/api/admin/canned/{saved['id']}", {"shortcut": "hi", "title": "Hi", "text": "{customer}"})
    assert edit.status == 422 and "{customer}" in (await edit.json())["error"]

    alice, chat_id = await picked_by(make_console, desk)
    detail = await (await alice.get(f"/api/chats/{chat_id}")).json()
    assert detail["canned_values"] == {"name": "Kerry Fisher", "operator": "Alice Support", "brand": "Acme"}
    nameless = await desk.seed_chat("447700900999", name=None)
    detail = await (await ada.get(f"/api/chats/{nameless}")).json()
    assert detail["canned_values"] == {"name": "there", "operator": "Ada Admin", "brand": "Acme"}

    from desk.services import canned
    assert canned.fill(saved["text"], detail["canned_values"]) == "Hi there, Ada Admin from Acme here."


async def test_internal_notes_stay_in_the_desk(make_console, desk):
    from desk.models import Chat, ChatNote

    from desk.web import queries

    alice, chat_id = await picked_by(make_console, desk)
    async with desk.sessions() as session:
        before = (await session.get(Chat, chat_id)).last_activity_at
        feed_before = await queries.fingerprint(session)
    resp = await alice.post(f"/api/chats/{chat_id}/notes", {"text": "  Kerry called the shop too: order #A-20931  "})
    assert resp.status == 201, await resp.text()
    note = (await resp.json())["note"]
    assert (note["body"], note["author"]) == ("Kerry called the shop too: order #A-20931", "Alice Support")
    # Never sent: no outbox row, no transcript message; the chat's timers do not move.
    assert await outbox_rows(desk, chat_id) == []
    transcript = await (await alice.get(f"/api/chats/{chat_id}/messages")).json()
    assert [m["body"] for m in transcript["messages"]] == ["hello", "I want a person"]
    assert [n["body"] for n in transcript["notes"]] == ["Kerry called the shop too: order #A-20931"]
    async with desk.sessions() as session:
        assert (await session.get(Chat, chat_id)).last_activity_at == before
        assert len((await session.execute(select(ChatNote))).scalars().all()) == 1
        assert await queries.fingerprint(session) != feed_before  # colleagues' pages see it live

    # A colleague who sees the chat reads and adds notes (even without having the chat) ...
    carol = await signed_in(make_console, "carol")
    assert (await carol.post(f"/api/chats/{chat_id}/notes", {"text": "I'll follow up tomorrow"})).status == 201
    ada = await signed_in(make_console, "ada")
    notes = (await (await ada.get(f"/api/chats/{chat_id}/messages")).json())["notes"]
    assert [n["author"] for n in notes] == ["Alice Support", "Carol Support"]
    # ... another department's operator does not see the chat, nor its notes.
    bob = await signed_in(make_console, "bob")
    assert (await bob.get(f"/api/chats/{chat_id}/messages")).status == 404
    assert (await bob.post(f"/api/chats/{chat_id}/notes", {"text": "sneaky"})).status == 404
    # Refused with the reason.
    for text, why in (("   ", "the note is empty"), ("x" * 4001, "at most 4000 characters"), (["a"], "a note is text")):
        refused = await alice.post(f"/api/chats/{chat_id}/notes", {"text": text})
        assert refused.status == 422 and why in (await refused.json())["error"]
    assert (await alice.post(f"/api/chats/{chat_id}/notes", {"text": "ok"})).status == 201


async def test_the_buttons_the_bot_offered_are_in_the_transcript(make_console, desk):
    from cloudapi.outbound import buttons_message
    from desk.models import Sender
    from desk.services import conversations

    chat_id = await desk.seed_chat("447700900001")
    async with desk.sessions() as session, session.begin():
        for choices in (["Support", "Sales"], [f"Option {i}" for i in range(1, 6)]):
            message = buttons_message("447700900001", "Which *department*?", [{"title": t, "payload": t} for t in choices])
            await conversations.record_outbound(session, chat_id=chat_id, sender=Sender.bot, type="interactive",
                                                body="Which *department*?", payload=message)
    ada = await signed_in(make_console, "ada")
    messages = (await (await ada.get(f"/api/chats/{chat_id}/messages")).json())["messages"]
    offered = [(m["body"], m["buttons"]) for m in messages if m["type"] == "interactive"]
    assert offered == [("Which *department*?", ["Support", "Sales"]),
                       ("Which *department*?", [f"Option {i}" for i in range(1, 6)])]  # reply buttons, then a list
    assert all("buttons" not in m for m in messages if m["type"] == "text")


async def test_a_failed_ticket_answer_says_what_happened(make_console, desk):
    from cloudapi.graph import GraphError
    from desk.services import outbox, tickets

    chat_id = await desk.seed_chat("447700900002", texts=("my mug arrived broken",), hand_off=False)
    async with desk.sessions() as s, s.begin():
        ticket = await tickets.create_ticket_from_chat(s, chat_id, "bot", "Kerry: broken mug",
                                                       message="my mug arrived broken", adapter="none")
    alice = await signed_in(make_console, "alice")
    assert (await alice.post(f"/api/tickets/{ticket.id}/take")).status == 200
    assert (await alice.post(f"/api/tickets/{ticket.id}/reply", {"text": "A new mug is on its way."})).status == 201
    assert await outbox.run_once(desk.sessions, FakeGraph(GraphError(400, 131047, "Re-engagement message")),
                                 "token") == 1
    [reply] = (await (await alice.get(f"/api/tickets/{ticket.id}")).json())["replies"]
    assert reply["status"] == "failed" and "131047" in reply["error"]
    assert reply["failure"]["action"] == "template" and "24-hour window has closed" in reply["failure"]["text"]


async def test_a_send_meta_reported_failed_later_is_retried_too(make_console, desk):
    """The failure came as a status webhook after Meta had accepted the send (its wamid):
    the retry sends it again instead of taking the old wamid for a success."""
    import datetime as dt

    from desk.models import utcnow
    from desk.services import conversations, outbox

    alice, chat_id = await picked_by(make_console, desk)
    mid = (await (await alice.post(f"/api/chats/{chat_id}/reply", {"text": "Here is the tracking link."})).json()
           )["message"]["id"]
    graph = FakeGraph()
    assert await outbox.run_once(desk.sessions, graph, "token") == 1
    async with desk.sessions() as session, session.begin():
        await conversations.apply_status(session, wamid=graph.wamids[0], status="failed",
                                         at=utcnow() + dt.timedelta(seconds=1), error="131026: Message undeliverable")
    [m] = [m for m in (await (await alice.get(f"/api/chats/{chat_id}/messages")).json())["messages"] if m["id"] == mid]
    assert (m["status"], m["failure"]["code"], m["failure"]["action"]) == ("failed", 131026, "retry")
    assert (await alice.post(f"/api/chats/{chat_id}/messages/{mid}/retry")).status == 200
    assert await outbox.run_once(desk.sessions, graph, "token") == 1
    assert [r["text"]["body"] for r in graph.sent] == ["Here is the tracking link."] * 2
    async with desk.sessions() as session:
        assert (await session.get(Message, mid)).wamid == graph.wamids[1]
