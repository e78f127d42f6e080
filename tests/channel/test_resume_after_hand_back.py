"""The channel's in-process resume (issue 11: an operator handed the chat back to the bot),
on Rasa's own tracker, tracker store and lock store: a paused tracker is resumed, a form
the operator's takeover interrupted is left, and an idle tracker is left alone."""
from __future__ import annotations

from types import SimpleNamespace

from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActiveLoop, ConversationPaused, SlotSet, UserUttered)
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.whatsapp.channel import resume_if_paused

SENDER = "100000000000001_447700900123"
DOMAIN = Domain.from_dict({"intents": ["greet"], "slots": {"lead_name": {"type": "text", "mappings": []}},
                           "forms": {"lead_form": {"required_slots": ["lead_name"]}}})


async def agent_with(*events):
    store = InMemoryTrackerStore(DOMAIN)
    tracker = DialogueStateTracker.from_events(SENDER, list(events), slots=DOMAIN.slots)
    await store.save(tracker)
    return SimpleNamespace(tracker_store=store, lock_store=InMemoryLockStore())


async def test_a_form_interrupted_by_a_takeover_is_left_before_the_bot_gets_the_chat_back():
    agent = await agent_with(ActionExecuted("action_listen"), UserUttered("I want a quote"),
                             ActionExecuted("lead_form"), ActiveLoop("lead_form"),
                             SlotSet("requested_slot", "lead_name"), ActionExecuted("action_listen"))
    await resume_if_paused(agent, SENDER)
    tracker = await agent.tracker_store.retrieve(SENDER)
    assert tracker.active_loop_name is None and tracker.get_slot("requested_slot") is None
    assert tracker.latest_action_name == "action_listen" and not tracker.is_paused()


async def test_a_paused_tracker_is_resumed_and_an_idle_one_is_left_alone():
    agent = await agent_with(ActionExecuted("action_listen"), UserUttered("a person please"),
                             ActionExecuted("action_handoff"), ConversationPaused())
    await resume_if_paused(agent, SENDER)
    tracker = await agent.tracker_store.retrieve(SENDER)
    assert not tracker.is_paused() and tracker.latest_action_name == "action_listen"
    before = len(tracker.events)
    await resume_if_paused(agent, SENDER)  # nothing to do the second time
    assert len((await agent.tracker_store.retrieve(SENDER)).events) == before
