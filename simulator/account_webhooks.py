"""Meta's WABA-level webhooks, built as Meta documents them (the webhooks reference
pages of each field, developers.facebook.com/documentation/business-messaging/
whatsapp/webhooks/reference/<field>), not from the desk's parser:

- ``account_update``: ``entry.time``, ``value.event`` plus the event's own object
  (``violation_info.violation_type`` for ACCOUNT_VIOLATION, ``ban_info.waba_ban_state``
  / ``waba_ban_date`` for DISABLED_UPDATE, ``volume_tier_info`` for
  VOLUME_BASED_PRICING_TIER_UPDATE, ``country`` for BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE).
- ``phone_number_quality_update``: ``display_phone_number``, ``event``, ``current_limit``
  (TIER_50 .. TIER_UNLIMITED; removed 2026-02 in favour of
  ``max_daily_conversations_per_business``), ``old_limit`` only on a limit change.
- ``message_template_quality_update``: previous/new quality score (GREEN, YELLOW, RED,
  UNKNOWN), the template's id (an integer), name and language.
- ``template_category_update``: completed (``previous_category``, ``new_category``) or
  impending (``new_category`` = the current one, ``correct_category``,
  ``category_update_timestamp``).
- ``user_preferences``: ``metadata``, ``contacts[]``, ``user_preferences[]`` with
  ``wa_id``, ``detail``, ``category: marketing_messages``, ``value: stop|resume``,
  ``timestamp``.
- ``history`` (coexistence onboarding): ``history[].metadata {phase, chunk_order,
  progress}`` and ``threads[] {id: the user's phone, messages[]}``, each message with
  ``from`` (the business or the user), ``to`` on the business's own, ``timestamp``
  (the device's), ``history_context.status``; or ``history[].errors`` (2593109) when
  the business declined to share.
- ``smb_app_state_sync``: ``state_sync[] {type: contact, contact {full_name,
  first_name, phone_number}, action: add|remove, metadata.timestamp}``; names are
  left out on ``remove``.
"""
from __future__ import annotations

from typing import Any

from .state import Number

TIERS = ("TIER_50", "TIER_250", "TIER_1K", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_NOT_SET", "TIER_UNLIMITED")
QUALITY_EVENTS = ("FLAGGED", "UNFLAGGED", "DOWNGRADE", "UPGRADE", "ONBOARDING", "THROUGHPUT_UPGRADE")
ACCOUNT_EVENTS = ("ACCOUNT_DELETED", "ACCOUNT_VIOLATION", "AD_ACCOUNT_LINKED", "AUTH_INTL_PRICE_ELIGIBILITY_UPDATE",
                  "BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE", "DISABLED_UPDATE", "MM_LITE_TERMS_SIGNED",
                  "PARTNER_ADDED", "PARTNER_APP_INSTALLED", "PARTNER_APP_UNINSTALLED",
                  "PARTNER_CLIENT_CERTIFICATION_STATUS_UPDATE", "PARTNER_REMOVED", "ACCOUNT_RESTRICTION",
                  "VOLUME_BASED_PRICING_TIER_UPDATE")
BAN_STATES = ("DISABLE", "REINSTATE", "SCHEDULE_FOR_DISABLE")
QUALITY_SCORES = ("GREEN", "YELLOW", "RED", "UNKNOWN")
HISTORY_STATUSES = ("DELIVERED", "ERROR", "PENDING", "PLAYED", "READ", "SENT")
HISTORY_DECLINED = {"code": 2593109,
                    "title": "History sync is turned off by the business from the WhatsApp Business App",
                    "message": "History sync is turned off by the business from the WhatsApp Business App",
                    "error_data": {"details": "History sharing is turned off by the business"}}


def waba_change(waba_id: str, field: str, value: dict[str, Any], now: float) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{
        "id": waba_id, "time": int(now), "changes": [{"value": value, "field": field}]}]}


def number_change(number: Number, field: str, value: dict[str, Any]) -> dict[str, Any]:
    """A change of a number's (history, smb_app_state_sync, user_preferences): no entry.time."""
    return {"object": "whatsapp_business_account", "entry": [{
        "id": number.waba_id, "changes": [{"value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": number.display_phone_number,
                         "phone_number_id": number.phone_number_id},
            **value}, "field": field}]}]}


def _choice(body: dict, key: str, allowed: tuple, default: Any = None) -> Any:
    value = body.get(key, default)
    if value is None:
        return None
    value = str(value).upper() if allowed and allowed[0].isupper() else str(value)
    if value not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(allowed)}")
    return value


def account_update(body: dict[str, Any]) -> dict[str, Any]:
    event = _choice(body, "event", ACCOUNT_EVENTS)
    if event is None:
        raise ValueError("event is required")
    value: dict[str, Any] = {"event": event}
    if event == "ACCOUNT_VIOLATION":
        value["violation_info"] = {"violation_type": str(body.get("violation_type") or "SCAM")}
    elif event == "DISABLED_UPDATE":
        value["ban_info"] = {"waba_ban_state": _choice(body, "ban_state", BAN_STATES, "DISABLE"),
                             "waba_ban_date": str(body.get("ban_date") or "December 4, 2026")}
    elif event == "BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE":
        value["country"] = str(body.get("country") or "JP")
    elif event == "VOLUME_BASED_PRICING_TIER_UPDATE":
        info = body.get("volume_tier_info")
        if not isinstance(info, dict):
            raise ValueError("volume_tier_info must be an object (tier, pricing_category, region, effective_month)")
        value["volume_tier_info"] = info
    return value


def quality_update(number: Number, body: dict[str, Any]) -> dict[str, Any]:
    event = _choice(body, "event", QUALITY_EVENTS)
    if event is None:
        raise ValueError("event is required")
    value: dict[str, Any] = {"display_phone_number": number.display_phone_number.lstrip("+").replace(" ", ""),
                             "event": event}
    for key in ("old_limit", "current_limit", "max_daily_conversations_per_business"):
        tier = _choice(body, key, TIERS)
        if tier is not None:
            value[key] = tier
    if len(value) == 2:
        raise ValueError("give current_limit and/or max_daily_conversations_per_business")
    return value


def template_quality(template, body: dict[str, Any]) -> dict[str, Any]:
    return {"previous_quality_score": _choice(body, "previous_quality_score", QUALITY_SCORES, "UNKNOWN"),
            "new_quality_score": _choice(body, "new_quality_score", QUALITY_SCORES) or _missing("new_quality_score"),
            "message_template_id": int(template.id), "message_template_name": template.name,
            "message_template_language": template.language}


def template_category(template, previous: str, body: dict[str, Any], now: float) -> dict[str, Any]:
    base = {"message_template_id": int(template.id), "message_template_name": template.name,
            "message_template_language": template.language}
    if body.get("impending"):
        return {**base, "new_category": previous, "correct_category": template.category,
                "category_update_timestamp": int(now) + 24 * 3600}
    return {**base, "previous_category": previous, "new_category": template.category}


def user_preference(wa_id: str, value: str, now: float, name: str | None = None) -> dict[str, Any]:
    if value not in ("stop", "resume"):
        raise ValueError("value must be stop or resume")
    contact: dict[str, Any] = {"wa_id": wa_id}
    if name:
        contact["profile"] = {"name": name}
    return {"contacts": [contact], "user_preferences": [{
        "wa_id": wa_id, "detail": f"User requested to {value} marketing messages",
        "category": "marketing_messages", "value": value, "timestamp": int(now)}]}


def history(business: str, body: dict[str, Any]) -> dict[str, Any]:
    """``threads``: [{wa_id, messages: [{from_business?, text, timestamp, id?, status?}]}]."""
    if body.get("declined"):
        return {"history": [{"errors": [HISTORY_DECLINED]}]}
    phase, chunk, progress = (body.get(k, d) for k, d in (("phase", 0), ("chunk_order", 1), ("progress", 100)))
    if phase not in (0, 1, 2) or not isinstance(chunk, int) or chunk < 1 \
            or not isinstance(progress, int) or not 0 <= progress <= 100:
        raise ValueError("phase must be 0, 1 or 2, chunk_order a positive integer, progress 0..100")
    threads = body.get("threads")
    if not isinstance(threads, list) or not threads:
        raise ValueError("threads must be a non-empty list")
    out = []
    for t, thread in enumerate(threads):
        if not isinstance(thread, dict) or not str(thread.get("wa_id") or "").isdigit():
            raise ValueError("each thread needs the user's wa_id (digits)")
        wa_id = str(thread["wa_id"])
        messages = []
        for m, msg in enumerate(thread.get("messages") or []):
            if not isinstance(msg, dict) or not isinstance(msg.get("timestamp"), int):
                raise ValueError("each history message needs an integer timestamp")
            item: dict[str, Any] = {"from": business if msg.get("from_business") else wa_id}
            if msg.get("from_business"):
                item["to"] = wa_id
            item["id"] = str(msg.get("id") or f"wamid.HIST{wa_id}{msg['timestamp']}{t}{m}")
            item["timestamp"] = str(msg["timestamp"])
            if msg.get("media"):
                item["type"] = "media_placeholder"
            else:
                if not isinstance(msg.get("text"), str) or not msg["text"]:
                    raise ValueError("a history message needs text (or media: true)")
                item["type"] = "text"
                item["text"] = {"body": msg["text"]}
            item["history_context"] = {"status": _choice(msg, "status", HISTORY_STATUSES, "READ")}
            messages.append(item)
        out.append({"id": wa_id, "messages": messages})
    return {"history": [{"metadata": {"phase": phase, "chunk_order": chunk, "progress": progress},
                         "threads": out}]}


def state_sync(body: dict[str, Any], now: float) -> dict[str, Any]:
    """``contacts``: [{phone_number, full_name?, first_name?, action: add|remove}]."""
    contacts = body.get("contacts")
    if not isinstance(contacts, list) or not contacts:
        raise ValueError("contacts must be a non-empty list")
    items = []
    for c in contacts:
        if not isinstance(c, dict) or not str(c.get("phone_number") or "").isdigit():
            raise ValueError("each contact needs a phone_number (digits)")
        action = c.get("action", "add")
        if action not in ("add", "remove"):
            raise ValueError("action must be add or remove")
        contact: dict[str, Any] = {"phone_number": str(c["phone_number"])}
        if action == "add":
            if not isinstance(c.get("full_name"), str) or not c["full_name"].strip():
                raise ValueError("an added or edited contact needs a full_name")
            contact = {"full_name": c["full_name"].strip(),
                       "first_name": str(c.get("first_name") or c["full_name"].split()[0]), **contact}
        items.append({"type": "contact", "contact": contact, "action": action,
                      "metadata": {"timestamp": str(int(now))}})
    return {"state_sync": items}


def _missing(key: str):
    raise ValueError(f"{key} is required")
