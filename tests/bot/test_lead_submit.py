"""action_submit_lead against a real, migrated SQLite desk database."""
from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.leads import LEAD_SLOTS, ActionSubmitLead
from desk.db import create_engine, migrate, session_factory
from desk.services.conversations import current_chat
from desk.services.leads import leads_of
from desk.services.numbers import ensure_number
from tests.bot.conftest import WHATSAPP, responses

FILLED = {"lead_name": "Kerry Fisher", "lead_email": "kerry@acme.co.uk", "lead_company": "Acme Ltd",
          "lead_interest": "Corporate gifts", "lead_phone": "+447700900123", "lead_consent": True}
RESET = [SlotSet(slot, None) for slot in LEAD_SLOTS]


@pytest.fixture
async def desk(sqlite_url, monkeypatch):
    """A migrated desk database that the action server's desk_transaction() uses."""
    migrate(sqlite_url)
    monkeypatch.setenv("DESK_DATABASE_URL", sqlite_url)
    engine = create_engine(sqlite_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def stored(desk, wa_id="447700900123"):
    async with desk() as session:
        return await leads_of(session, wa_id)


async def submit(tracker, domain):
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitLead().run(dispatcher, tracker, domain)
    return events, dispatcher


async def test_a_consented_lead_is_stored_linked_to_the_number_and_chat(desk, make_tracker, domain):
    async with desk() as session, session.begin():
        await ensure_number(session, phone_number_id="100000000000001", waba_id="200000000000001")
        chat = await current_chat(session, "100000000000001", "447700900123", "Kerry Fisher")
    tracker = make_tracker("yes", "affirm", slots=FILLED, active_loop=None,
                           whatsapp={**WHATSAPP, "desk_chat_id": chat.id})
    events, dispatcher = await submit(tracker, domain)
    assert events == RESET
    assert responses(dispatcher) == ["utter_lead_saved"]
    [lead] = await stored(desk)
    assert (lead.name, lead.email, lead.company, lead.interest, lead.phone) == (
        "Kerry Fisher", "kerry@acme.co.uk", "Acme Ltd", "Corporate gifts", "+447700900123")
    assert lead.consent is True and lead.consent_at is not None
    assert (lead.phone_number_id, lead.chat_id) == ("100000000000001", chat.id)
    assert lead.contact.wa_id == "447700900123" and lead.contact.profile_name == "Kerry Fisher"
    assert lead.crm_state == "pending"


async def test_a_private_customer_and_an_unknown_number_are_stored_without_links(desk, make_tracker,
                                                                                 domain):
    slots = {**FILLED, "lead_company": "none", "lead_phone": "+442079460958"}
    tracker = make_tracker("yes", "affirm", slots=slots, active_loop=None,
                           whatsapp={**WHATSAPP, "desk_chat_id": 999})
    events, dispatcher = await submit(tracker, domain)
    assert responses(dispatcher) == ["utter_lead_saved"]
    [lead] = await stored(desk)
    assert lead.company is None and lead.phone == "+442079460958"
    assert lead.phone_number_id is None and lead.chat_id is None


async def test_without_whatsapp_metadata_the_lead_is_filed_under_the_sender_id(desk, make_tracker,
                                                                               domain):
    tracker = make_tracker("yes", "affirm", slots=FILLED, active_loop=None, whatsapp=None)
    await submit(tracker, domain)
    [lead] = await stored(desk)
    assert lead.contact.profile_name is None


@pytest.mark.parametrize("consent", [False, None])
async def test_without_consent_nothing_is_stored(desk, make_tracker, domain, consent):
    tracker = make_tracker("no", "deny", slots={**FILLED, "lead_consent": consent}, active_loop=None)
    events, dispatcher = await submit(tracker, domain)
    assert events == RESET
    assert responses(dispatcher) == ["utter_lead_not_saved"]
    assert await stored(desk) == []


async def test_a_database_failure_is_told_to_the_user(tmp_path, monkeypatch, make_tracker, domain):
    # an unmigrated database: no tables
    monkeypatch.setenv("DESK_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    tracker = make_tracker("yes", "affirm", slots=FILLED, active_loop=None)
    events, dispatcher = await submit(tracker, domain)
    assert events == RESET
    assert responses(dispatcher) == ["utter_lead_save_failed"]
