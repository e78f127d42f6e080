"""Operators take a chat over from the bot, and hand it back.

*Take over* pauses the bot exactly as a handoff does: the chat leaves the state
`bot` (here straight to `open`, with the operator who took it), and from then on
the channel records the user's messages in the desk without giving them to Rasa
(only chats in state `bot` reach it; connectors/whatsapp/processor.py). That is
the desk's side of every handoff, and all of it for the bot-down handoff
(`routing.hand_off` from the channel); the bot's own handoff action also appends
`ConversationPaused` to Rasa's tracker, which the desk cannot do (it never
imports Rasa) and does not need to: Rasa is not asked again until the bot has
the chat back.

*Hand back to bot* returns a live chat (taken over, or handed off by the bot) to
the bot: state `bot`, no operator, no department (the number's department sees
it again), and `bot_resume_pending`, which tells the channel to resume Rasa's
conversation before the next user message reaches it (`resume_if_paused`, the
same in-process resume a new chat after a close gets: a paused tracker is
resumed, a form the operator interrupted is left) and is cleared after that turn.

Who may: admins, for any chat of their brand; operators, for the chats of their
departments (a bot chat: the department of its number), the same rule as *Pick*.
Each move is a conditional UPDATE (two operators clicking at once: one wins) and
leaves an audit line in the transcript (an internal `event` message, never sent).
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Chat, ChatState, Direction, HandoffReason, Message, Operator, PhoneNumber, Role, Sender, utcnow
from desk.services import routing

EVENT_TYPE = "event"      # an audit line in the transcript: shown to operators, never sent
EVENT_STATUS = "internal"


class TakeoverError(routing.RoutingError):
    """The chat cannot be taken over or handed back; the message says why."""


async def _chat_of_brand(session: AsyncSession, chat_id: int, operator: Operator) -> Chat:
    chat = await session.get(Chat, chat_id)
    if chat is None or await routing.brand_of_number(session, chat.phone_number_id) != operator.brand_id:
        raise TakeoverError(f"no chat {chat_id}")  # another brand's chat does not exist for this operator
    return chat


async def department_of(session: AsyncSession, chat: Chat) -> int | None:
    """The chat's department, or for a chat nobody routed yet, its number's."""
    if chat.department_id is not None:
        return chat.department_id
    number = await session.get(PhoneNumber, chat.phone_number_id)
    return number.department_id if number is not None else None


def may_act_on(operator: Operator, department_id: int | None) -> bool:
    """Admins act on every chat of their brand; operators on their departments' chats."""
    if not operator.active:
        return False
    return operator.role == Role.admin or department_id in {d.id for d in operator.departments}


async def audit(session: AsyncSession, chat_id: int, text: str, *, by: Operator | None = None) -> Message:
    """An audit line in the chat's transcript (not sent to the user)."""
    now = utcnow()
    msg = Message(chat_id=chat_id, direction=Direction.outbound, sender=Sender.system, type=EVENT_TYPE,
                  body=text, status=EVENT_STATUS, created_at=now, wa_timestamp=now.replace(microsecond=0),
                  payload={"event": True, "operator_id": by.id if by else None,
                           "operator_name": by.name if by else None})
    session.add(msg)
    await session.flush()
    return msg


async def take_over(session: AsyncSession, chat_id: int, operator: Operator) -> Chat:
    """`operator` takes a chat from the bot: it is theirs (open) and the bot is paused."""
    chat = await _chat_of_brand(session, chat_id, operator)
    if chat.state != ChatState.bot:
        raise TakeoverError("the bot does not have this chat" if chat.state != ChatState.closed
                            else "this chat is closed")
    department_id = await department_of(session, chat)
    if not may_act_on(operator, department_id):
        raise TakeoverError("this chat belongs to another department")
    now = utcnow()
    won = await session.execute(update(Chat).where(Chat.id == chat.id, Chat.state == ChatState.bot).values(
        state=ChatState.open, operator_id=operator.id, department_id=department_id, handed_off_at=now,
        assigned_at=now, last_activity_at=now, bot_resume_pending=False,
        handoff_reason=HandoffReason.takeover)
        .execution_options(synchronize_session=False))
    if won.rowcount != 1:
        raise TakeoverError("someone else took this chat from the bot")
    operator.last_assigned_at = now
    await audit(session, chat.id, f"{operator.name} took over the chat from the bot", by=operator)
    await session.refresh(chat)
    return chat


async def hand_back(session: AsyncSession, chat_id: int, operator: Operator) -> Chat:
    """Return a live chat to the bot: the next user message goes to Rasa again."""
    chat = await _chat_of_brand(session, chat_id, operator)
    if chat.state == ChatState.closed:
        raise TakeoverError("this chat is closed")
    if chat.state == ChatState.bot:
        raise TakeoverError("the bot already has this chat")
    if not may_act_on(operator, await department_of(session, chat)):
        raise TakeoverError("this chat belongs to another department")
    if chat.state == ChatState.open and chat.operator_id != operator.id and operator.role != Role.admin:
        raise TakeoverError("only the chat's operator or an admin can hand it back to the bot")
    now = utcnow()
    won = await session.execute(update(Chat).where(Chat.id == chat.id, Chat.state == chat.state,
                                                   Chat.state != ChatState.closed).values(
        state=ChatState.bot, operator_id=None, department_id=None, handed_off_at=None, assigned_at=None,
        bot_idle_step=0, last_activity_at=now, bot_resume_pending=True)
        .execution_options(synchronize_session=False))
    if won.rowcount != 1:
        raise TakeoverError("this chat changed meanwhile: reload it")
    await audit(session, chat.id, f"{operator.name} handed the chat back to the bot", by=operator)
    await session.refresh(chat)
    return chat


async def bot_resumed(session: AsyncSession, chat_id: int) -> None:
    """The channel resumed Rasa for this chat (after a hand back): clear the mark."""
    await session.execute(update(Chat).where(Chat.id == chat_id, Chat.bot_resume_pending.is_(True))
                          .values(bot_resume_pending=False).execution_options(synchronize_session=False))
