"""Customer satisfaction: a short rating after a chat is closed, and its comment.

The desk worker's sweep (`run_once`) gives every chat closed since the brand turned
surveys on one survey row (the unique `chat_id`: two workers agree), `delay_minutes`
after the close. Inside the 24-hour window it goes as three WhatsApp reply buttons
in the closed chat; outside it, as the brand's approved utility template with the
same payloads as quick replies, or not at all when no template is set (recorded as
skipped, with the reason). Close kinds the brand skips (e.g. unattended chats, the
bot's idle close) are recorded as skipped too.

A tap comes back as a button reply with the payload `csat:<survey id>:<score>`; the
channel hands it here (`take_reply`) before the bot sees it, records it in the
surveyed chat, thanks the user and asks for a comment: the user's next text within
COMMENT_MINUTES is the comment. Scores: 3 great, 2 okay, 1 poor; the reports show
the share of "great" (CSAT) and the mean.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cloudapi.outbound import buttons_message
from desk.models import (Brand, Chat, ChatState, Contact, CsatSurvey, Direction, Message, Sender,
                         utcnow)
from desk.services import outbox, settings
from desk.services.routing import of_brand

log = logging.getLogger(__name__)

PREFIX = "csat:"
SCORES = {3: "😊 Great", 2: "😐 Okay", 1: "🙁 Poor"}
# The buttons' titles and the replies, in the chat's language (else the brand's default).
SCORE_TITLES = {"en": SCORES, "ja": {3: "😊 良かった", 2: "😐 普通", 1: "🙁 不満"}}
COMMENT_MINUTES = 30
CATCH_UP = dt.timedelta(days=2)   # chats closed longer ago than this are not surveyed late
THANKS_ASK_COMMENT = {"en": "Thank you! Is there anything we could do better? Just reply here.",
                      "ja": "ありがとうございます！改善できる点がございましたら、こちらにそのままご返信ください。"}
THANKS_COMMENT = {"en": "Thank you for your feedback.", "ja": "貴重なご意見をありがとうございます。"}


def close_kind(chat: Chat) -> str:
    """Who or what closed the chat, as the survey settings name it."""
    if chat.closed_by == "timer":
        return "unattended" if chat.close_reason == "unattended" else "idle"
    if chat.closed_by == "bot":
        return "bot"
    return "operator"


def payload(survey_id: int, score: int) -> str:
    return f"{PREFIX}{survey_id}:{score}"


def parse_payload(value: str | None) -> tuple[int, int] | None:
    if not value or not value.startswith(PREFIX):
        return None
    try:
        survey_id, score = (int(x) for x in value[len(PREFIX):].split(":"))
    except ValueError:
        return None
    return (survey_id, score) if score in SCORES else None


@dataclass
class SweepReport:
    sent: int = 0
    skipped: int = 0


async def run_once(session: AsyncSession, now: dt.datetime | None = None, limit: int = 100) -> SweepReport:
    """Survey the chats closed long enough ago that have no survey yet."""
    now = now or utcnow()
    report = SweepReport()
    for brand_id in (await session.execute(select(Brand.id))).scalars().all():
        brand = await settings.get(session, brand_id)
        cfg = brand.csat
        if not cfg.enabled:
            continue
        due = now - dt.timedelta(minutes=cfg.delay_minutes)
        since = due - CATCH_UP
        if cfg.enabled_at:
            since = max(since, dt.datetime.fromisoformat(cfg.enabled_at))
        chats = (await session.execute(select(Chat).where(
            of_brand(brand_id), Chat.state == ChatState.closed, Chat.closed_at <= due, Chat.closed_at >= since,
            ~exists(select(CsatSurvey.id).where(CsatSurvey.chat_id == Chat.id)))
            .order_by(Chat.closed_at).limit(limit))).scalars().all()
        for chat in chats:
            sent = await _survey(session, brand_id, chat, brand, now)
            if sent is True:
                report.sent += 1
            elif sent is False:
                report.skipped += 1
    return report


async def _survey(session: AsyncSession, brand_id: int, chat: Chat, brand: settings.BrandSettings,
                  now: dt.datetime) -> bool | None:
    """True: sent; False: skipped (reason recorded); None: another worker has it."""
    cfg = brand.csat
    kind = close_kind(chat)
    survey = CsatSurvey(chat_id=chat.id, brand_id=brand_id, phone_number_id=chat.phone_number_id,
                        contact_id=chat.contact_id, operator_id=chat.operator_id,
                        department_id=chat.department_id, close_kind=kind, state="skipped", created_at=now)
    try:
        async with session.begin_nested():
            session.add(survey)
            await session.flush()
    except IntegrityError:
        return None
    if kind in cfg.skip:
        survey.skip_reason = f"no survey after a chat closed by {kind}"
        return False
    language = brand.language_of(chat)
    titles = SCORE_TITLES.get(language, SCORES)
    buttons = [{"title": titles[score], "payload": payload(survey.id, score)} for score in SCORES]
    if outbox.window_open(chat, now):
        question = cfg.question_in(language, brand.default_language)
        message = buttons_message(chat.contact.wa_id, question, buttons)
        message.pop("to")
        try:
            async with session.begin_nested():
                await outbox.enqueue(session, chat, Sender.system, message, question)
        except outbox.CannotSend as exc:
            survey.skip_reason = str(exc)
            return False
        survey.state, survey.via = "sent", "buttons"
        return True
    if not cfg.template:
        survey.skip_reason = "the 24-hour window had closed and no survey template is set"
        return False
    from desk.billing import templates

    name, language = cfg.template.split(":")
    try:
        async with session.begin_nested():
            await templates.send_template(session, phone_number_id=chat.phone_number_id, wa_id=chat.contact.wa_id,
                                          name=name, language=language,
                                          quick_reply_payloads=[b["payload"] for b in buttons], by="csat")
    except (templates.TemplateError, outbox.CannotSend) as exc:
        survey.skip_reason = f"template {cfg.template}: {exc}"
        log.warning("csat: survey of chat %s not sent: %s", chat.id, exc)
        return False
    survey.state, survey.via = "sent", "template"
    return True


def _contacts_named(phone: str | None, bsuid: str | None):
    """SQL: the ids of the contacts this phone or BSUID names (current identity or key)."""
    named = []
    if phone:
        named += [Contact.phone == phone, Contact.wa_id == phone]
    if bsuid:
        named += [Contact.bsuid == bsuid, Contact.wa_id == bsuid]
    return select(Contact.id).where(or_(*named))


async def take_reply(session: AsyncSession, *, phone_number_id: str, wa_id: str | None, type: str,
                     text: str | None, reply_payload: str | None, wamid: str, raw: dict,
                     at: dt.datetime, user_id: str | None = None) -> bool:
    """A rating tap, or the comment after one: recorded in the surveyed chat and
    answered here. False: not for the survey (the bot or the operator gets it).
    The user is named by phone (`wa_id`) and/or BSUID (`user_id`)."""
    rating = parse_payload(reply_payload)
    if rating is None and (type != "text" or not text) or not (wa_id or user_id):
        return False
    contact = _contacts_named(wa_id, user_id)
    if rating is not None:
        survey = (await session.execute(select(CsatSurvey).where(
            CsatSurvey.id == rating[0], CsatSurvey.phone_number_id == phone_number_id,
            CsatSurvey.contact_id.in_(contact)))).scalar_one_or_none()
        if survey is None:
            return False  # not this user's survey: an ordinary message
        survey.score, survey.answered_at = rating[1], at
        survey.state = "answered" if survey.comment is None else "commented"
        survey.comment_until = at + dt.timedelta(minutes=COMMENT_MINUTES) if survey.comment is None else None
        reply = THANKS_ASK_COMMENT if survey.comment is None else THANKS_COMMENT
    else:  # one indexed query per text message (ix_csat_surveys_contact)
        survey = (await session.execute(select(CsatSurvey).where(
            CsatSurvey.phone_number_id == phone_number_id, CsatSurvey.contact_id.in_(contact),
            CsatSurvey.comment_until > at, CsatSurvey.comment.is_(None))
            .order_by(CsatSurvey.id.desc()).limit(1))).scalar_one_or_none()
        if survey is None:
            return False
        survey.comment, survey.state, survey.comment_until = text.strip()[:2000], "commented", None
        reply = THANKS_COMMENT
    chat = await session.get(Chat, survey.chat_id)
    if (await session.execute(select(Message.id).where(Message.wamid == wamid))).first() is None:
        session.add(Message(chat_id=chat.id, direction=Direction.inbound, sender=Sender.user, wamid=wamid,
                            type=type, body=text, payload=raw, wa_timestamp=at, status="received"))
        chat.last_user_message_at = max(at, chat.last_user_message_at or at)
        await session.flush()
        brand = await settings.get(session, survey.brand_id)
        await outbox.send_system_text(session, chat, settings.localized(reply, brand.language_of(chat),
                                                                        brand.default_language))
    return True


def score_summary(scores: list[int]) -> dict:
    """CSAT (share of 'great'), the mean score and the count of each answer."""
    n = len(scores)
    return {"answers": n, "csat": None if not n else round(sum(s == 3 for s in scores) / n, 3),
            "mean": None if not n else round(sum(scores) / n, 2),
            "great": scores.count(3), "okay": scores.count(2), "poor": scores.count(1)}
