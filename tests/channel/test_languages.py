"""The channel tells the bot which language to answer in (the chat's, else the brand's
default) and sends its own notices in it: against the Cloud API simulator, SQLite and
PostgreSQL."""
from __future__ import annotations

from desk.models import WhatsAppBusinessAccount
from desk.services import notices, settings
from tests.channel.conftest import WABA


async def _brand_speaks_japanese_first(harness):
    async with harness.runtime.sessions() as s, s.begin():
        brand_id = (await s.get(WhatsAppBusinessAccount, WABA)).brand_id
        await settings.update(s, brand_id, languages=["ja", "en"], default_language="ja")


async def test_the_bot_is_told_the_chat_s_language_else_the_brand_s_default(harness):
    await _brand_speaks_japanese_first(harness)
    await harness.say(type="location", latitude=35.68, longitude=139.76)  # no text yet: the brand's default
    await harness.say(text="where is my order please")                    # an English sentence: English
    await harness.say(text="はい")                                         # too short to switch back
    await harness.say(text="やっぱり日本語で説明してもらえますか")             # a Japanese sentence: Japanese

    async def four():
        return len(harness.turns) == 4
    assert await harness.settle(until=four)
    assert [item.language for _, item in harness.turns] == ["ja", "en", "en", "ja"]


async def test_a_notice_of_the_channel_is_in_the_language_of_the_chat(harness):
    await _brand_speaks_japanese_first(harness)
    await harness.say(type="unsupported")

    async def noticed():
        return len(await harness.outbound()) == 1
    assert await harness.settle(until=noticed)
    [notice] = await harness.outbound()
    assert notice["request"]["text"]["body"] == notices.text(notices.UNSUPPORTED, "ja")
    assert harness.turns == []   # the bot gets nothing to read


async def test_a_reply_after_a_failed_action_of_the_turn_is_held_back(harness):
    """action_session_start (the session's language) runs on the action server: when it
    is away, Rasa goes on from a state without its events; the turn is rewound and
    retried, so nothing it says in the meantime is sent."""
    from connectors.whatsapp.channel import _action_failures
    from desk.models import Message

    from sqlalchemy import select

    async def failing_turn(item, chat_id):
        token = _action_failures.set(["ClientConnectorError: action server unreachable"])
        try:
            await harness.output.send_text_message(f"{item.phone_number_id}_{item.contact_key}", "held back")
        finally:
            _action_failures.reset(token)
        await harness.output.send_text_message(f"{item.phone_number_id}_{item.contact_key}", "sent")
    harness.bot = failing_turn
    await harness.say(text="hello there")

    async def one():
        return len(await harness.outbound()) == 1
    assert await harness.settle(until=one)
    await harness.settle(0.3)
    assert [m["request"]["text"]["body"] for m in await harness.outbound()] == ["sent"]
    async with harness.runtime.sessions() as s:
        assert "held back" not in (await s.execute(select(Message.body))).scalars().all()
