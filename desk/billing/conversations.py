"""Conversations: the one check every send goes through, and Meta's reconciliation.

`authorize_send()` is called in the sender's transaction before a message is
recorded for sending, by the bot's replies (`connectors/whatsapp/channel.py`), the
desk's outbox (operator replies, notices, template sends) and the action server:

1. Outside the user's 24-hour customer-service window only a template may go.
2. Inside an open conversation (expires_at > now) the message costs nothing more.
3. Otherwise it opens one: user-initiated inside the window, business-initiated
   outside. Under the brand's lock (`ledger.lock_brand`): free while the WABA has
   used fewer than 1,000 conversations this month (UTC), else charged at the
   market's rate if the balance covers it, else refused (`SendRefused`) with the
   reason for whoever sent it.

A conversation whose opening message never went out (Meta refused it) is voided
and refunded (`message_failed()`). Status webhooks carrying `conversation` and
`pricing` objects are reconciled by `reconcile_status()`: a mismatch is logged
and Meta's figure wins.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.billing import ledger, markets, per_message, policy, rates
from desk.models import (BilledConversation, Chat, Contact, ConversationCategory, Message, MessageCharge,
                         PhoneNumber, WhatsAppBusinessAccount, utcnow)

log = logging.getLogger(__name__)

SENDERS = ("bot", "operator", "system", "template")
EXPIRY_TOLERANCE = dt.timedelta(minutes=5)  # Meta opens at delivery: seconds after us


class SendRefused(ValueError):
    """A send that must not go out; `str()` is the reason for the sender."""

    def __init__(self, reason: str, code: str):
        super().__init__(reason)
        self.code = code  # outside_window | no_credit | unknown_number


@dataclass(frozen=True)
class SendDecision:
    conversation_id: int | None   # the conversation model's conversation (None under per-message pricing)
    opened: bool              # this send opens the conversation
    category: ConversationCategory | None
    market: str
    free_tier: bool
    cost: Decimal             # charged by this send (0 inside an open conversation or the free tier)
    expires_at: dt.datetime | None
    charge_id: int | None = None   # per-message pricing: the message's wa_message_charges row
    price: object | None = None    # per-message pricing: the desk.billing.pmp.Price, with its reason

    async def attach(self, session: AsyncSession, message_id: int) -> None:
        """Name the message that opened the conversation (voided if it fails), or the
        message a per-message charge is for (refunded if it fails)."""
        if self.charge_id is not None:
            charge = await session.get(MessageCharge, self.charge_id)
            if charge is not None and charge.message_id is None:
                charge.message_id = message_id
        if self.opened:
            conv = await session.get(BilledConversation, self.conversation_id)
            if conv is not None and conv.opening_message_id is None:
                conv.opening_message_id = message_id


async def last_user_message_at(session: AsyncSession, phone_number_id: str, wa_id: str) -> dt.datetime | None:
    """When the user last wrote to this number (over all their chats with it)."""
    return (await session.execute(select(func.max(Chat.last_user_message_at))
                                  .join(Contact, Contact.id == Chat.contact_id)
                                  .where(Chat.phone_number_id == phone_number_id,
                                         Contact.wa_id == wa_id))).scalar_one_or_none()


async def open_conversation(session: AsyncSession, phone_number_id: str, wa_id: str,
                            now: dt.datetime) -> BilledConversation | None:
    """The conversation open at `now` (expiry is exclusive: at exactly 24 hours it is over)."""
    return (await session.execute(select(BilledConversation).where(
        BilledConversation.phone_number_id == phone_number_id, BilledConversation.wa_id == wa_id,
        BilledConversation.state == "open", BilledConversation.opened_at <= now,
        BilledConversation.expires_at > now,
    ).order_by(BilledConversation.opened_at.desc()).limit(1))).scalar_one_or_none()


async def tier_used(session: AsyncSession, waba_id: str, month: str) -> int:
    """Conversations of a WABA (all its numbers) that count toward the month's free tier."""
    return (await session.execute(select(func.count(BilledConversation.id)).where(
        BilledConversation.waba_id == waba_id, BilledConversation.month == month,
        BilledConversation.billable.is_(True)))).scalar_one()


async def _number(session: AsyncSession, phone_number_id: str) -> tuple[PhoneNumber, WhatsAppBusinessAccount]:
    number = await session.get(PhoneNumber, phone_number_id)
    if number is None:
        raise SendRefused(f"number {phone_number_id} is not registered in the desk", "unknown_number")
    waba = await session.get(WhatsAppBusinessAccount, number.waba_id)
    return number, waba


def _market(wa_id: str) -> str:
    """The user's market; a WhatsApp id no country can be read from is rated as "Other"
    (Meta's ids always carry the country code: this is for odd test data and imports)."""
    try:
        return markets.market_for(wa_id)
    except markets.MarketError as exc:
        log.warning("billing: %s; rated as market %s", exc, rates.FALLBACK_MARKET)
        return rates.FALLBACK_MARKET


async def authorize_send(session: AsyncSession, *, phone_number_id: str, wa_id: str, is_template: bool,
                         sender: str, now: dt.datetime | None = None,
                         card: rates.RateCard | None = None, message: dict | None = None) -> SendDecision:
    """May this message go out now, and what does it cost? Raises SendRefused.

    Call it in the transaction that records the message: a charge and the message
    commit (or roll back) together. `message` (the Cloud API message object) prices
    a per-message-priced WABA's templates by their category (desk.billing.per_message).
    """
    if sender not in SENDERS:
        raise ValueError(f"sender must be one of {', '.join(SENDERS)}")
    now = now or utcnow()
    card = card or rates.default_card()
    number, waba = await _number(session, phone_number_id)
    in_window = policy.window_open(await last_user_message_at(session, phone_number_id, wa_id), now)
    if not in_window and not is_template:
        raise SendRefused("the user last wrote more than 24 hours ago: only an approved template can be sent",
                          "outside_window")
    if per_message.is_pmp(waba):
        return await per_message.authorize(session, number=number, waba=waba, wa_id=wa_id, in_window=in_window,
                                           message=message or ({"type": "template"} if is_template else None),
                                           sender=sender, now=now)
    conv = await open_conversation(session, phone_number_id, wa_id, now)
    if conv is None:
        await ledger.lock_brand(session, waba.brand_id)
        # Again under the lock: a concurrent send may have opened it meanwhile.
        conv = await open_conversation(session, phone_number_id, wa_id, now)
    if conv is not None:
        return SendDecision(conv.id, False, conv.category, conv.market, conv.free_tier, Decimal(0),
                            conv.expires_at)

    category = policy.category_for(in_window)
    market = _market(wa_id)
    rate = card.rate(market, category)
    rate_micros = policy.to_micros(rate)
    month = policy.month_of(now)
    used = await tier_used(session, waba.id, month)
    free = used < policy.FREE_TIER_PER_MONTH
    if not free:
        balance = await ledger.balance_micros(session, waba.brand_id)
        if balance < rate_micros:
            raise SendRefused(
                f"no credit: WABA {waba.id} has used its {policy.FREE_TIER_PER_MONTH:,} free conversations "
                f"for {month} and the balance (USD {policy.usd(policy.from_micros(balance))}) does not "
                f"cover a {category.value.replace('_', '-')} conversation in {market} "
                f"(USD {policy.usd(rate)}): an admin must buy credits", "no_credit")
    conv = BilledConversation(
        brand_id=waba.brand_id, waba_id=waba.id, phone_number_id=phone_number_id, wa_id=wa_id,
        market=market, category=category, opened_at=now, expires_at=now + policy.WINDOW, month=month,
        state="open", billable=True, free_tier=free, rate_micros=rate_micros,
        cost_micros=0 if free else rate_micros, opened_by=sender)
    session.add(conv)
    await session.flush()
    if not free:
        await ledger.append(session, waba.brand_id, "conversation", -rate_micros, conversation_id=conv.id,
                            note=f"{category.value} conversation, {market}", by=sender, at=now)
        await _warn_if_low(session, waba.brand_id)
    elif used + 1 == policy.FREE_TIER_PER_MONTH:
        log.warning("billing: WABA %s used its last free conversation for %s; from now on conversations "
                    "are paid from brand %s's credits", waba.id, month, waba.brand_id)
    return SendDecision(conv.id, True, category, market, free, Decimal(0) if free else rate, conv.expires_at)


async def _warn_if_low(session: AsyncSession, brand_id: int) -> None:
    status = await ledger.status(session, brand_id)
    if status.warning:
        log.warning("billing: brand %s: %s", brand_id, status.warning)


async def check_send(session: AsyncSession, *, phone_number_id: str, wa_id: str, is_template: bool,
                     now: dt.datetime | None = None, message: dict | None = None) -> str | None:
    """Why a send would be refused now, or None; nothing is recorded (for screens)."""
    now = now or utcnow()
    try:
        number, waba = await _number(session, phone_number_id)
    except SendRefused as exc:
        return str(exc)
    in_window = policy.window_open(await last_user_message_at(session, phone_number_id, wa_id), now)
    if not in_window and not is_template:
        return "the user last wrote more than 24 hours ago: only an approved template can be sent"
    if per_message.is_pmp(waba):
        try:
            price = await per_message.quote(session, number=number, waba=waba, wa_id=wa_id, in_window=in_window,
                                            message=message or ({"type": "template"} if is_template else None),
                                            now=now)
        except Exception as exc:  # pmp.PricingError: shown, not raised, on a screen
            return f"cannot price this message: {exc}"
        if await ledger.balance_micros(session, waba.brand_id) < policy.to_micros(price.usd):
            return f"no credit left for this message (USD {policy.usd(price.usd)}): an admin must buy credits"
        return None
    if await open_conversation(session, phone_number_id, wa_id, now) is not None:
        return None
    if await tier_used(session, waba.id, policy.month_of(now)) < policy.FREE_TIER_PER_MONTH:
        return None
    rate = rates.default_card().rate(_market(wa_id), policy.category_for(in_window))
    if await ledger.balance_micros(session, waba.brand_id) < policy.to_micros(rate):
        return "no credit left for a new conversation: an admin must buy credits"
    return None


@dataclass(frozen=True)
class Quote:
    """What a message would cost if sent now, for the composer (nothing is recorded)."""

    usd: Decimal
    reason: str               # English (logs); the console says reason_key with reason_params
    pricing_model: str        # conversation | pmp
    reason_key: str = ""      # desk/i18n catalog key, price.reason.*
    reason_params: tuple[tuple[str, str], ...] = ()

    def json(self) -> dict:
        return {"usd": policy.usd(self.usd), "free": self.usd == 0, "reason": self.reason,
                "reason_key": self.reason_key or None, "reason_params": dict(self.reason_params),
                "pricing_model": self.pricing_model}


async def quote_send(session: AsyncSession, *, phone_number_id: str, wa_id: str, message: dict,
                     now: dt.datetime | None = None) -> Quote | None:
    """The price of `message` now, by the WABA's pricing model; None when it cannot go
    (check_send says why)."""
    now = now or utcnow()
    try:
        number, waba = await _number(session, phone_number_id)
    except SendRefused:
        return None
    in_window = policy.window_open(await last_user_message_at(session, phone_number_id, wa_id), now)
    is_template = message.get("type") == "template"
    if not in_window and not is_template:
        return None
    if per_message.is_pmp(waba):
        try:
            price = await per_message.quote(session, number=number, waba=waba, wa_id=wa_id, in_window=in_window,
                                            message=message, now=now)
        except Exception:  # pmp.PricingError: no price to show
            return None
        return Quote(price.usd, price.reason, per_message.PMP, price.reason_key, price.reason_params)
    if await open_conversation(session, phone_number_id, wa_id, now) is not None:
        return Quote(Decimal(0), "inside an open conversation", per_message.CONVERSATION,
                     "price.reason.open_conversation")
    category = policy.category_for(in_window)
    kind = category.value.replace('_', '-')
    if await tier_used(session, waba.id, policy.month_of(now)) < policy.FREE_TIER_PER_MONTH:
        return Quote(Decimal(0), f"opens a {kind} conversation in the month's free tier",
                     per_message.CONVERSATION, f"price.reason.conversation_free_tier.{category.value}")
    market = _market(wa_id)
    return Quote(rates.default_card().rate(market, category),
                 f"opens a {kind} conversation, {market} rate", per_message.CONVERSATION,
                 f"price.reason.conversation_rate.{category.value}", (("market", market),))


# --- failures and Meta's figures -------------------------------------------------------

async def message_failed(session: AsyncSession, message_id: int) -> BilledConversation | None:
    """The message that opened a conversation never reached the user: void it and refund
    its charge, unless another message of that conversation went out. Under
    per-message pricing, the message's own charge is refunded."""
    if await per_message.message_failed(session, message_id) is not None:
        return None
    conv = (await session.execute(select(BilledConversation).where(
        BilledConversation.opening_message_id == message_id,
        BilledConversation.state == "open"))).scalar_one_or_none()
    if conv is None or conv.meta_conversation_id is not None:
        return None
    others = (await session.execute(
        select(func.count(Message.id)).join(Chat, Chat.id == Message.chat_id).join(
            Contact, Contact.id == Chat.contact_id).where(
            Chat.phone_number_id == conv.phone_number_id, Contact.wa_id == conv.wa_id,
            Message.id != message_id, Message.wamid.is_not(None), Message.status != "failed",
            Message.created_at >= conv.opened_at, Message.created_at < conv.expires_at))).scalar_one()
    if others:
        return None
    await ledger.lock_brand(session, conv.brand_id)
    conv.state, conv.billable = "void", False
    conv.note = "voided: its opening message was not delivered"
    if conv.cost_micros:
        await ledger.append(session, conv.brand_id, "refund", conv.cost_micros, conversation_id=conv.id,
                            note="the conversation's opening message was not delivered", by="desk")
        conv.cost_micros = 0
    log.info("billing: conversation %s voided (message %s failed)", conv.id, message_id)
    return conv


def _meta_category(conversation: dict | None, pricing: dict | None) -> tuple[str | None, ConversationCategory | None]:
    raw = None
    if isinstance(conversation, dict) and isinstance(conversation.get("origin"), dict):
        raw = conversation["origin"].get("type")
    if not raw and isinstance(pricing, dict):
        raw = pricing.get("category")
    raw = str(raw).lower() if raw else None
    return raw, policy.META_CATEGORY.get(raw) if raw else None


def _expiry(conversation: dict | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(conversation["expiration_timestamp"]), tz=dt.timezone.utc)
    except (TypeError, KeyError, ValueError, OverflowError, OSError):
        return None


async def _conversation_of(session: AsyncSession, msg: Message, phone_number_id: str, wa_id: str,
                           meta_id: str | None) -> BilledConversation | None:
    if meta_id:
        known = (await session.execute(select(BilledConversation).where(
            BilledConversation.meta_conversation_id == meta_id))).scalar_one_or_none()
        if known is not None:
            return known
    opened = (await session.execute(select(BilledConversation).where(
        BilledConversation.opening_message_id == msg.id))).scalar_one_or_none()
    if opened is not None:
        return opened
    return await open_conversation(session, phone_number_id, wa_id, msg.created_at)


async def reconcile_status(session: AsyncSession, msg: Message, *, phone_number_id: str, wa_id: str,
                           conversation: dict | None, pricing: dict | None,
                           at: dt.datetime | None = None) -> BilledConversation | MessageCharge | None:
    """Compare a status webhook's `conversation`/`pricing` with the local record.

    Meta wins: its conversation id, category, expiry and billable flag replace ours,
    and a different charge is settled with a `reconciliation` ledger entry (which
    may take the balance below zero: the money is owed either way, and the next
    paid conversation is refused until credits are bought). A conversation Meta
    opened that we did not (e.g. a template inside an open window, which newer
    Meta pricing bills separately) is recorded as Meta reports it.
    """
    if not conversation and not pricing:
        return None
    if isinstance(pricing, dict) and str(pricing.get("pricing_model", "")).upper() == "PMP":
        return await per_message.reconcile(session, msg, pricing, at)
    if isinstance(pricing, dict) and str(pricing.get("pricing_model", "CBP")).upper() != "CBP":
        log.info("billing: status for %s uses pricing model %s; the desk bills conversations (CBP) and "
                 "keeps its own figures", msg.wamid, pricing.get("pricing_model"))
        return None
    meta_id = conversation.get("id") if isinstance(conversation, dict) else None
    meta_id = str(meta_id) if meta_id else None
    raw_category, category = _meta_category(conversation, pricing)
    billable = pricing.get("billable") if isinstance(pricing, dict) else None
    if raw_category in policy.FREE_META_CATEGORIES:
        billable = False
    now = at or utcnow()

    conv = await _conversation_of(session, msg, phone_number_id, wa_id, meta_id)
    if conv is not None and meta_id and conv.meta_conversation_id and conv.meta_conversation_id != meta_id:
        conv = None  # ours is a different conversation than Meta's
    if conv is None:
        if not meta_id:
            log.warning("billing: status for %s carries pricing but no conversation we know of", msg.wamid)
            return None
        conv = await _record_meta_conversation(session, msg, phone_number_id, wa_id, meta_id,
                                               category, conversation, now)
        if conv is None:
            return None

    mismatches = []
    if meta_id and conv.meta_conversation_id is None:
        conv.meta_conversation_id = meta_id
    expiry = _expiry(conversation)
    if expiry is not None and expiry != conv.expires_at:
        if abs(expiry - conv.expires_at) > EXPIRY_TOLERANCE:
            mismatches.append(f"expiry {conv.expires_at.isoformat()} → {expiry.isoformat()}")
        conv.expires_at = expiry
    new_cost = conv.cost_micros
    if category is not None and category != conv.category:
        mismatches.append(f"category {conv.category.value} → {category.value}")
        conv.category = category
        conv.rate_micros = policy.to_micros(rates.default_card().rate(conv.market, category))
        if not conv.free_tier and conv.billable:
            new_cost = conv.rate_micros
    if billable is False and conv.billable:
        mismatches.append("billable → no (Meta does not charge it)")
        conv.billable, conv.free_tier, new_cost = False, False, 0
    if conv.state == "void" and billable is not False:
        mismatches.append("void → open (Meta delivered it)")
        conv.state, conv.billable = "open", True
        new_cost = conv.rate_micros if not conv.free_tier else 0
    if new_cost != conv.cost_micros:
        await ledger.lock_brand(session, conv.brand_id)
        await ledger.append(session, conv.brand_id, "reconciliation", conv.cost_micros - new_cost,
                            conversation_id=conv.id, by="meta",
                            note=f"Meta's figures for conversation {meta_id or conv.id}: " + "; ".join(mismatches))
        conv.cost_micros = new_cost
    conv.meta_category = raw_category or conv.meta_category
    if billable is not None:
        conv.meta_billable = bool(billable)
    if isinstance(pricing, dict) and pricing.get("pricing_model"):
        conv.meta_pricing_model = str(pricing["pricing_model"])[:10]
    conv.reconciled_at = now
    if mismatches:
        log.warning("billing: conversation %s differs from Meta's %s (%s); Meta's figures win",
                    conv.id, meta_id, "; ".join(mismatches))
    return conv


async def _record_meta_conversation(session, msg, phone_number_id, wa_id, meta_id, category,
                                    conversation, now) -> BilledConversation | None:
    number = await session.get(PhoneNumber, phone_number_id)
    if number is None:
        return None
    waba = await session.get(WhatsAppBusinessAccount, number.waba_id)
    await ledger.lock_brand(session, waba.brand_id)
    category = category or ConversationCategory.business_initiated
    market = _market(wa_id)
    opened = msg.created_at or now
    expiry = _expiry(conversation) or opened + policy.WINDOW
    month = policy.month_of(opened)
    free = await tier_used(session, waba.id, month) < policy.FREE_TIER_PER_MONTH
    rate_micros = policy.to_micros(rates.default_card().rate(market, category))
    conv = BilledConversation(
        brand_id=waba.brand_id, waba_id=waba.id, phone_number_id=phone_number_id, wa_id=wa_id, market=market,
        category=category, opened_at=opened, expires_at=expiry, month=month, state="open", billable=True,
        free_tier=free, rate_micros=rate_micros, cost_micros=0 if free else rate_micros, opened_by="meta",
        meta_conversation_id=meta_id, note="opened on Meta's side without a local record")
    session.add(conv)
    await session.flush()
    if not free:
        await ledger.append(session, waba.brand_id, "reconciliation", -rate_micros, conversation_id=conv.id,
                            by="meta", note=f"conversation {meta_id} reported by Meta")
    log.warning("billing: Meta reports conversation %s (%s, %s) for message %s that the desk did not open; "
                "recorded as Meta reports it", meta_id, category.value, market, msg.wamid)
    return conv
