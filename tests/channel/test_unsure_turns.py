"""The trainer's low-confidence misses, noted by the channel after a bot turn: what the
NLU made of the message (the agent's own parse, caught as Rasa makes it) decides. A
fake agent stands in for Rasa here (tests/e2e runs the real one). SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from cloudapi.payloads import InboundMessage
from connectors.whatsapp.channel import ChannelRuntime, WhatsAppInput, track_parses
from connectors.whatsapp.settings import ChannelSettings
from desk.services import bot_misses

PNID = "100000000000001"


class Processor:
    """Parses every message as `parse` says (Rasa's MessageProcessor.parse_message)."""

    def __init__(self, parse):
        self.parse = parse

    async def parse_message(self, message, tracker=None):
        return {"text": message.text, **self.parse}


def message(text: str, wamid: str) -> InboundMessage:
    return InboundMessage(phone_number_id=PNID, display_phone_number="15550000001", wa_id="447700900123",
                          profile_name="Kerry", wamid=wamid,
                          timestamp=dt.datetime(2026, 6, 17, 10, tzinfo=dt.timezone.utc),
                          type="text", text=text, contact_key="447700900123")


async def test_an_unsure_turn_is_noted_and_a_sure_one_is_not(sessions, database_url, tmp_path):
    settings = ChannelSettings(verify_token="v", app_secret="s", access_token="t", phone_number_id=PNID,
                               waba_id="200000000000001", graph_api_url="http://127.0.0.1:9/v21.0",
                               database_url=database_url, media_dir=tmp_path / "media")
    channel = WhatsAppInput(settings)
    channel.runtime = ChannelRuntime(settings)
    agent = SimpleNamespace(action_endpoint=None, processor=Processor({"intent": {"name": "greet", "confidence": 0.57}}))

    async def rasa(user_message):      # as Rasa's agent: the processor parses the message
        await agent.processor.parse_message(user_message)

    deliver = channel._deliver_to(rasa, SimpleNamespace(ctx=SimpleNamespace(agent=agent)))
    try:
        await deliver(message("hiya there", "wamid.1"), 7, False)
        # A new model comes with a new processor: its parses are caught too.
        agent.processor = Processor({"intent": {"name": "greet", "confidence": 0.99}})
        await deliver(message("hello", "wamid.2"), 7, False)
        agent.processor = Processor({"intent": {"name": "thanks", "confidence": 0.41}})
        await deliver(message("ta muchly", "wamid.3"), 7, False)
    finally:
        await channel.runtime.stop()
    async with sessions() as s:
        misses = await bot_misses.recent(s)
    assert [(m.kind, m.question, m.confidence, m.chat_id, m.phone_number_id) for m in misses] == [
        ("low_confidence", "ta muchly", 0.41, 7, PNID), ("low_confidence", "hiya there", 0.57, 7, PNID)]


async def test_a_processor_is_wrapped_once_and_nothing_is_caught_outside_a_turn():
    processor = Processor({"intent": {"name": "greet", "confidence": 0.5}})
    agent = SimpleNamespace(processor=processor)
    track_parses(agent)
    wrapped = processor.parse_message
    track_parses(agent)
    assert processor.parse_message is wrapped
    assert (await processor.parse_message(SimpleNamespace(text="hi")))["text"] == "hi"   # no turn: only parsed
