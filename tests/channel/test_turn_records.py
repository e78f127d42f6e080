"""The channel's checks on Rasa's tracker, with Rasa's own tracker store (no server)."""
from types import SimpleNamespace

from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.whatsapp.channel import rewind_turn, turn_is_recorded

SENDER = "111_1555"


async def agent_with(*events):
    store = InMemoryTrackerStore(Domain.empty())
    tracker = DialogueStateTracker.from_events(SENDER, list(events))
    await store.save(tracker)
    return SimpleNamespace(tracker_store=store, lock_store=InMemoryLockStore())


async def test_a_turn_saved_before_a_crash_is_recognised_and_a_rewound_one_is_not():
    agent = await agent_with(ActionExecuted("action_listen"), UserUttered("hi", message_id="wamid.1"),
                             BotUttered("hello"), ActionExecuted("action_listen"),
                             UserUttered("paypal?", message_id="wamid.2"), BotUttered("yes"))
    assert await turn_is_recorded(agent, SENDER, "wamid.2")
    assert not await turn_is_recorded(agent, SENDER, "wamid.3")
    await rewind_turn(agent, SENDER)  # the second turn's action server call failed
    assert not await turn_is_recorded(agent, SENDER, "wamid.2")
    assert await turn_is_recorded(agent, SENDER, "wamid.1")
    tracker = await agent.tracker_store.retrieve(SENDER)
    assert tracker.latest_action_name == "action_listen" and tracker.latest_message.text == "hi"


async def test_no_tracker_means_no_turn():
    agent = SimpleNamespace(tracker_store=InMemoryTrackerStore(Domain.empty()), lock_store=InMemoryLockStore())
    assert not await turn_is_recorded(agent, SENDER, "wamid.1")
