"""The source document's timers, derived from the chats themselves.

No timer rows to create or cancel: a chat's due time follows from its state and
timestamps, so any message (which moves `last_activity_at` / `last_user_message_at`)
resets it, and a restart loses nothing. Each close is a conditional UPDATE
(`routing.close`), so several desk workers running this at once close a chat once.

- unattended: handed over, no operator joined (waiting or unattended) for the
  brand's `unattended_close_minutes` (15 min – 1 month) → closed;
- idle: an operator has it and nobody wrote for `idle_close_minutes` (≤ 24 h) →
  closed;
- with a department's `count_open_hours_only` (desk.services.business_hours), those two
  count only that department's open hours (a chat queued on Friday evening is not
  closed over the weekend);
- bot idle rules: where the bot has the chat, its steps (nudge, then close) count
  from the user's last message; a user message starts them over. They belong to
  the bot, so the action server runs them (`actions/bot_idle.py` calls
  `run_bot_idle_rules`); the desk worker runs `run_once`, the operator timers.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import exists, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import (Brand, Chat, ChatState, Contact, EventState, PhoneNumber, Sender, WebhookEvent,
                         WhatsAppBusinessAccount, utcnow)
from desk.services import business_hours, outbox, routing, settings

log = logging.getLogger(__name__)

# What the customer is told, in the chat's language (else the brand's default).
UNATTENDED_CLOSE_TEXT = {
    "en": "Sorry, nobody could take your chat in time, so it has been closed. Write again any time.",
    "ja": "申し訳ございません、担当者がお受けできないまま時間が過ぎたため、チャットを終了いたしました。またいつでもご連絡ください。",
}
IDLE_CLOSE_TEXT = {
    "en": "This chat was closed after a period without messages. Write again any time.",
    "ja": "しばらくメッセージがなかったため、このチャットを終了いたしました。またいつでもご連絡ください。",
}


@dataclass
class TimerReport:
    closed_unattended: int = 0
    closed_idle: int = 0
    bot_nudges: int = 0
    closed_by_bot_rules: int = 0


async def _chats_of_brand(session: AsyncSession, brand_id: int, *conditions):
    rows = await session.execute(
        select(Chat).join(PhoneNumber, PhoneNumber.id == Chat.phone_number_id)
        .join(WhatsAppBusinessAccount, WhatsAppBusinessAccount.id == PhoneNumber.waba_id)
        .where(WhatsAppBusinessAccount.brand_id == brand_id, *conditions).limit(200))
    return rows.scalars().all()


async def _close(session: AsyncSession, chat: Chat, reason: str, texts: dict[str, str],
                 cfg: settings.BrandSettings) -> bool:
    if not await routing.close(session, chat.id, by="timer", reason=reason):
        return False  # another worker closed it first
    await outbox.send_system_text(session, chat, settings.localized(texts, cfg.language_of(chat),
                                                                    cfg.default_language))
    return True


async def run_once(session: AsyncSession, now: dt.datetime | None = None) -> TimerReport:
    now = now or utcnow()
    report = TimerReport()
    for brand_id in (await session.execute(select(Brand.id))).scalars().all():
        cfg = await settings.get(session, brand_id)
        schedules = await business_hours.schedules_of_brand(session, brand_id)
        # Departments whose admin chose "count open hours only": the wall-clock cutoff
        # still selects the candidates (open time never exceeds elapsed time), then
        # their open time decides; they are read apart so they cannot crowd out the rest.
        counting = [d for d, sch in schedules.items() if sch.count_open_hours_only and not sch.always_open]
        plain = ~Chat.department_id.in_(counting) | Chat.department_id.is_(None) if counting else true()
        limit = dt.timedelta(minutes=cfg.unattended_close_minutes)
        queued = Chat.state.in_([ChatState.waiting, ChatState.unattended])
        for chat in await _chats_of_brand(session, brand_id, queued, Chat.handed_off_at <= now - limit, plain):
            report.closed_unattended += await _close(session, chat, "unattended", UNATTENDED_CLOSE_TEXT, cfg)
        for chat in await _all_chats_of_brand(session, brand_id, queued, Chat.handed_off_at <= now - limit,
                                              Chat.department_id.in_(counting)) if counting else []:
            if business_hours.open_time_between(schedules[chat.department_id], chat.handed_off_at, now) >= limit:
                report.closed_unattended += await _close(session, chat, "unattended", UNATTENDED_CLOSE_TEXT, cfg)
        limit = dt.timedelta(minutes=cfg.idle_close_minutes)
        for chat in await _chats_of_brand(session, brand_id, Chat.state == ChatState.open,
                                          Chat.last_activity_at <= now - limit, plain):
            report.closed_idle += await _close(session, chat, "idle", IDLE_CLOSE_TEXT, cfg)
        for chat in await _all_chats_of_brand(session, brand_id, Chat.state == ChatState.open,
                                              Chat.last_activity_at <= now - limit,
                                              Chat.department_id.in_(counting)) if counting else []:
            if business_hours.open_time_between(schedules[chat.department_id], chat.last_activity_at, now) >= limit:
                report.closed_idle += await _close(session, chat, "idle", IDLE_CLOSE_TEXT, cfg)
    return report


async def _all_chats_of_brand(session: AsyncSession, brand_id: int, *conditions) -> list[Chat]:
    """Every chat of the brand matching, in pages of 200 by id (candidates that stay open
    must not hide the ones that are due)."""
    out, last = [], 0
    while True:
        rows = await session.execute(
            select(Chat).join(PhoneNumber, PhoneNumber.id == Chat.phone_number_id)
            .join(WhatsAppBusinessAccount, WhatsAppBusinessAccount.id == PhoneNumber.waba_id)
            .where(WhatsAppBusinessAccount.brand_id == brand_id, Chat.id > last, *conditions)
            .order_by(Chat.id).limit(200))
        page = rows.scalars().all()
        out.extend(page)
        if len(page) < 200:
            return out
        last = page[-1].id


async def run_bot_idle_rules(session: AsyncSession, now: dt.datetime | None = None) -> TimerReport:
    """The due steps of every brand's bot idle rules (nudges go out through the outbox)."""
    now = now or utcnow()
    report = TimerReport()
    for brand_id in (await session.execute(select(Brand.id))).scalars().all():
        cfg = await settings.get(session, brand_id)
        if cfg.bot_enabled and cfg.bot_idle_rules:
            await _bot_idle_rules(session, brand_id, cfg, now, report)
    return report


def _user_message_queued():
    """The chat's user has a message recorded but not yet processed (a burst, a slow
    bot): they are not idle, they are waiting for us."""
    # A lane names the user as the webhook did (phone, else BSUID), not always by the key.
    return exists(select(WebhookEvent.id).join(Contact, or_(
        Contact.wa_id == WebhookEvent.wa_id, Contact.phone == WebhookEvent.wa_id,
        Contact.bsuid == WebhookEvent.wa_id)).where(
        Contact.id == Chat.contact_id, WebhookEvent.phone_number_id == Chat.phone_number_id,
        WebhookEvent.kind == "message", WebhookEvent.state.in_([EventState.pending, EventState.processing])))


async def _bot_idle_rules(session, brand_id, cfg: settings.BrandSettings, now, report) -> None:
    rules = cfg.bot_idle_rules
    # Step k is due `sum(after_minutes of steps 0..k)` after the user's last message.
    for chat in await _chats_of_brand(session, brand_id, Chat.state == ChatState.bot,
                                      Chat.bot_idle_step < len(rules),
                                      Chat.last_user_message_at.isnot(None), ~_user_message_queued()):
        step = chat.bot_idle_step
        due = chat.last_user_message_at + dt.timedelta(minutes=sum(r.after_minutes for r in rules[:step + 1]))
        if due > now:
            continue
        won = await session.execute(update(Chat).where(Chat.id == chat.id, Chat.bot_idle_step == step,
                                                       Chat.state == ChatState.bot)
                                    .values(bot_idle_step=step + 1).execution_options(synchronize_session=False))
        if won.rowcount != 1:
            continue
        rule = rules[step]
        text = rule.text_in(cfg.language_of(chat), cfg.default_language)
        if rule.action == "close":
            if await routing.close(session, chat.id, by="bot", reason="bot idle timeout"):
                await outbox.send_system_text(session, chat, text, sender=Sender.bot)
                report.closed_by_bot_rules += 1
        else:
            await outbox.send_system_text(session, chat, text, sender=Sender.bot)
            report.bot_nudges += 1
