"""Conversations and the ``conversation`` / ``pricing`` objects of statuses.

One replaceable place for Meta's pricing rules.

Conversation-based pricing (CBP), "Conversation-based pricing"
(https://developers.facebook.com/docs/whatsapp/pricing/conversationpricing):
- A conversation is a 24-hour window between a business number and a user,
  opened when a business message is *delivered* and no conversation of that
  kind is open.
- Free-form (non-template) messages can only be sent inside the user's
  24-hour customer service window; the first one delivered when no
  conversation is open opens a **service** (user-initiated) conversation.
- A template opens a conversation of the template's category (marketing,
  utility, authentication — business-initiated) unless one of that category
  is already open; since 2023-06 several conversations of different
  categories can be open at once.  Free-form messages sent while any
  conversation is open belong to the most recently opened one.

Status webhook objects (Status messages webhook reference,
https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status):
- ``conversation``: ``id``, ``origin.type`` (service, marketing, utility,
  authentication; the pre-2023 values were user_initiated /
  business_initiated) and ``expiration_timestamp`` — "only present for
  messages with a status set to sent".  Meta's own samples carry
  ``conversation`` and ``pricing`` on ``sent`` and ``delivered`` statuses and
  neither on ``read``.  From Graph API v24 ``conversation`` is mostly omitted
  (SIM_STATUS_CONVERSATION=false).
- ``pricing``: ``billable``, ``pricing_model`` (``CBP``), ``category``.
  With per-message pricing (``PMP``, Meta since 2025-07) ``pricing`` also has
  ``type`` (``regular`` / ``free_customer_service``) and the message's own
  category (``service`` for free-form). Until 2026-09-30 service messages and
  utility templates inside the window were free; from 2026-10-01 (rate card of
  that date) service messages beyond a number's 1,000 a month and utility
  templates everywhere are ``regular`` (``pmp_pricing``).
"""
from __future__ import annotations

import time
import uuid
from typing import Any

from .state import WINDOW_SECONDS, Conversation, MessageRecord, State


def conversation_for(state: State, phone_number_id: str, wa_id: str,
                     template_category: str | None, now: float) -> tuple[Conversation, bool]:
    """The conversation a message delivered at ``now`` belongs to, opening
    one if needed.  Returns ``(conversation, opened_now)``."""
    key = (phone_number_id, wa_id)
    with state._lock:  # noqa: SLF001 - pricing is part of the state's critical section
        convs = [c for c in state.conversations.get(key, []) if c.expires_at > now]
        state.conversations[key] = convs
        wanted = template_category.lower() if template_category else None
        if wanted is None and convs:
            return max(convs, key=lambda c: c.opened_at), False
        if wanted is not None:
            for c in convs:
                if c.category == wanted:
                    return c, False
        conv = Conversation(
            id=uuid.uuid4().hex,
            phone_number_id=phone_number_id,
            wa_id=wa_id,
            category=wanted or "service",
            opened_at=now,
            expires_at=now + WINDOW_SECONDS,
        )
        convs.append(conv)
        return conv, True


# Per-message pricing as Meta runs it from 2026-10-01 (rate card of that date): service
# messages are charged beyond each number's 1,000 free ones a calendar month, and
# utility templates are charged inside the customer-service window too.
PMP_2026_10 = 1790812800            # 2026-10-01T00:00:00Z
FREE_SERVICE_PER_NUMBER_PER_MONTH = 1000


def pmp_pricing(state: State, rec: MessageRecord, phone_number_id: str, in_service_window: bool,
                now: float) -> dict[str, Any]:
    """The ``pricing`` object of a per-message-priced message, decided once per message."""
    with state._lock:  # noqa: SLF001
        known = state.priced.get(rec.wamid)
        if known is not None:
            return dict(known)
        category = (template_category(rec) or "service").lower()
        if category == "service":
            month = time.strftime("%Y-%m", time.gmtime(now))
            used = state.service_sent.get((phone_number_id, month), 0)
            state.service_sent[(phone_number_id, month)] = used + 1
            free = now < PMP_2026_10 or used < FREE_SERVICE_PER_NUMBER_PER_MONTH
        elif category == "utility":
            free = in_service_window and now < PMP_2026_10
        else:
            free = False
        priced = {"billable": not free, "pricing_model": "PMP",
                  "type": "free_customer_service" if free else "regular", "category": category}
        state.priced[rec.wamid] = priced
        return dict(priced)


def status_objects(conv: Conversation, status: str, pricing_model: str,
                   include_conversation: bool, in_service_window: bool,
                   pmp: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``conversation`` and ``pricing`` members of one status (``pmp``: the
    message's per-message ``pricing``, from ``pmp_pricing``)."""
    if status not in ("sent", "delivered"):
        return {}
    out: dict[str, Any] = {}
    if include_conversation:
        c: dict[str, Any] = {"id": conv.id}
        if status == "sent":
            c["expiration_timestamp"] = str(int(conv.expires_at))
        c["origin"] = {"type": conv.category}
        out["conversation"] = c
    if pricing_model.upper() == "PMP" and pmp is not None:
        out["pricing"] = pmp
    elif pricing_model.upper() == "PMP":
        free = conv.category == "service" or (conv.category == "utility" and in_service_window)
        out["pricing"] = {
            "billable": not free,
            "pricing_model": "PMP",
            "type": "free_customer_service" if free else "regular",
            "category": conv.category,
        }
    else:
        out["pricing"] = {"billable": True, "pricing_model": "CBP", "category": conv.category}
    return out


def template_category(rec: MessageRecord) -> str | None:
    if rec.type == "template" and rec.rendered:
        return str(rec.rendered.get("category", "UTILITY"))
    return None
