"""Media and unsure answers in whole conversations: the trained model in process and
the real action server (the fixtures of test_conversations.py). The channel sends
media without a caption as /whatsapp_<type> with the type in the metadata.
"""
from __future__ import annotations

from tests.bot.conftest import WHATSAPP
from tests.bot.test_conversations import Chat, agent, desk_url, new_user  # noqa: F401 (fixtures)


async def send(chat: Chat, text: str, kind: str = "text") -> list[str]:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    out = CollectingOutputChannel()
    meta = {"whatsapp": {**WHATSAPP, "wa_id": chat.wa_id, "type": kind,
                         "media_id": None if kind == "text" else "media-1"}}
    await chat.agent.handle_message(UserMessage(text, out, chat.sender, metadata=meta))
    return [m.get("text") or "" for m in out.messages]


async def test_the_photo_the_bot_asked_for_continues_the_damaged_item_flow(agent):
    chat = Chat(agent, new_user())
    [answer] = await send(chat, "the mug I ordered arrived broken")
    assert "photo of the damage" in answer
    thanks, *handoff = await send(chat, "/whatsapp_image", "image")
    assert thanks.startswith("Thanks for the photo!") and "replacement or refund" in thanks
    assert handoff  # the colleague's turn (here: no desk chat, so the bot says it can't reach one)
    [thanks_again, *_] = await send(chat, "/whatsapp_image", "image")
    assert thanks_again.startswith("Thanks, I've got your photo.")  # the flow is over: unexpected now


async def test_unexpected_media_goes_to_a_person_and_a_voice_note_gets_the_choice(agent):
    chat = Chat(agent, new_user())
    ack, *handoff = await send(chat, "/whatsapp_document", "document")
    assert ack.startswith("Thanks, I've got your document.") and handoff
    [voice] = await send(chat, "/whatsapp_audio", "audio")
    assert voice.startswith("Sorry, I can't listen to voice messages yet.")
    [sticker] = await send(chat, "/whatsapp_sticker", "sticker")
    assert "What can I help you with" in sticker


async def test_a_question_without_an_article_is_not_answered(agent):
    chat = Chat(agent, new_user())
    [reply] = await send(chat, "do u do gift wrap")
    # "not sure" (below the FAQ threshold) or "not something I can help with" (out of scope):
    # either way no article, and above all not the gift-card one.
    assert reply.startswith(("Sorry, I'm not sure I understood that", "Sorry, that's not something I can help with"))
    assert "gift cards" not in reply.lower()


async def test_not_helpful_gives_another_article_or_a_person_and_is_recorded(agent, desk_url):
    chat = Chat(agent, new_user())
    [answer] = await send(chat, "how long does delivery take?")
    assert "2–4 working days" in answer
    first = await send(chat, "/not_helpful")
    assert first[0].startswith("Sorry about that!")
    second = await send(chat, "that's not what I asked")
    assert second[0].startswith("Sorry about that!")
    assert any("talk to a person" in text for text in first + second)

    from desk.db import create_engine, session_factory
    from desk.services import bot_misses

    engine = create_engine(desk_url)
    try:
        async with session_factory(engine)() as session:
            mine = [m for m in await bot_misses.recent(session, kind="not_helpful") if m.wa_id == chat.wa_id]
    finally:
        await engine.dispose()
    assert len(mine) == 2 and {m.question for m in mine} == {"how long does delivery take?"}
    assert mine[-1].article == "shipping_time"


async def test_a_follow_up_is_read_in_the_topic_of_the_answer(agent):
    chat = Chat(agent, new_user())
    [answer] = await send(chat, "how long is the warranty on a toaster")
    assert "2-year warranty" in answer
    [follow_up] = await send(chat, "so what now? do i get a new one")
    assert "repair or replace it" in follow_up


async def test_media_and_not_helpful_in_the_lead_form_are_not_answers(agent):
    chat = Chat(agent, new_user())
    await send(chat, "I'd like a quote for my company")
    await send(chat, "/affirm")  # the profile name; now the email is asked for
    noted, again = await send(chat, "/whatsapp_image", "image")
    assert noted.startswith("Thanks, I've got your photo — our sales team")
    assert again == "What email address can our sales team reach you at?"
    voice, again = await send(chat, "/whatsapp_audio", "audio")
    assert "can't listen to voice messages" in voice and "email address" in again
    answer, again = await send(chat, "how much does delivery cost?")
    assert "£3.95" in answer and "email address" in again
    *sorry, again = await send(chat, "/not_helpful")
    assert sorry[0].startswith("Sorry about that!") and "email address" in again
    assert await chat.active_loop() == "lead_form"
