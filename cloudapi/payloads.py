"""Meta's webhook payloads, parsed into typed items.

A webhook body is `{"object": "whatsapp_business_account", "entry": [{"changes":
[{"field": "messages", "value": {...}}]}]}`; each `value` carries `metadata`
(which business number), and `messages` (with `contacts`) or `statuses`. One body
may hold several items, for several numbers: each item is routed by its own
`metadata.phone_number_id`. Template reviews come as `field:
"message_template_status_update"` changes of the WABA (`entry.id`), without a number.
On a coexistence number (the WhatsApp Business app beside the Cloud API),
`smb_message_echoes` changes carry what the business sent from the app
(`message_echoes`, `to` the user): parsed as messages flagged `echo`; `history`
changes carry the app's past chats when the number is onboarded (chunks of
`threads[].messages[]`): parsed as messages flagged `history` (and `echo` for the
business's own). `smb_app_state_sync` (the app's contacts) is an AccountUpdate;
`message_template_quality_update` a TemplateStatusUpdate with `quality`.

Parsing never trusts shapes: anything missing or of the wrong type raises
`MalformedPayload` (the request's fault, a 400) instead of an exception deep in
the handler.

Users are identified by phone number (`from`, `contacts[].wa_id`, `recipient_id`)
and/or by business-scoped user id, BSUID (`from_user_id`, `contacts[].user_id`,
`recipient_user_id`; webhooks since 2026-03-31). Either may be absent; a message
or status with neither is malformed. A user with a username
(`contacts[].profile.username`) may come with no phone number at all.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")


class MalformedPayload(ValueError):
    """The body is not a WhatsApp Business Account webhook of a known shape."""


@dataclass(frozen=True)
class InboundMessage:
    phone_number_id: str
    display_phone_number: str
    wa_id: str | None                 # the user's phone number (`from`); None for a BSUID-only user
    profile_name: str | None
    wamid: str
    timestamp: dt.datetime
    type: str
    text: str | None = None           # what the bot reads (body, caption, reply title/payload)
    payload: str | None = None        # button/list reply id or template button payload
    media_id: str | None = None
    mime_type: str | None = None
    filename: str | None = None
    context_wamid: str | None = None  # the message this one replies to
    group_id: str | None = None       # a message in a WhatsApp group (Groups API): not for the bot
    raw: dict = field(default_factory=dict, compare=False, repr=False)
    user_id: str | None = None        # business-scoped user id, BSUID (`from_user_id`)
    parent_user_id: str | None = None  # `from_parent_user_id`
    username: str | None = None       # `contacts[].profile.username`
    # `type: system` (user_changed_number, user_changed_user_id): the new identity.
    system_type: str | None = None
    new_wa_id: str | None = None
    new_user_id: str | None = None
    # Set by the desk once the contact is known: its stable key (the identity it was
    # first known by), which Rasa's sender id is made of. See cloudapi.ids.
    contact_key: str | None = None
    # `smb_message_echoes` (a coexistence number): a message the business sent *to* the
    # user from the WhatsApp Business app; wa_id/user_id name the user (`to`, `to_user_id`).
    echo: bool = False
    # Set by the desk too: the language to answer in (the chat's, else the brand's default).
    language: str | None = None
    # `edit` / `revoke`: the user edited or deleted an earlier message (Meta's edit and
    # revoke webhooks); the text of an edit is the new one.
    original_wamid: str | None = None
    # `history` (a coexistence number's onboarding): a past message of the WhatsApp Business
    # app, by the user or (with `echo`) by the business; `history_status` is Meta's
    # `history_context.status` (DELIVERED, READ, ...). Recorded, never answered.
    history: bool = False
    history_status: str | None = None

    @property
    def dedupe_key(self) -> str:
        return self.wamid

    @property
    def user_key(self) -> str:
        """The identity this message names the user by: the phone if given, else the BSUID."""
        return self.wa_id or self.user_id or ""


@dataclass(frozen=True)
class StatusUpdate:
    phone_number_id: str
    wamid: str
    status: str  # sent | delivered | read | failed
    recipient_id: str | None          # the user's phone; None when sent to a BSUID only
    timestamp: dt.datetime
    conversation: dict | None = None
    pricing: dict | None = None
    errors: list = field(default_factory=list)
    raw: dict = field(default_factory=dict, compare=False, repr=False)
    recipient_user_id: str | None = None
    username: str | None = None       # the recipient's, from the value's `contacts[]` (delivered, read)

    @property
    def dedupe_key(self) -> str:
        return f"{self.wamid}:{self.status}"

    @property
    def user_key(self) -> str:
        return self.recipient_id or self.recipient_user_id or ""


@dataclass(frozen=True)
class TemplateStatusUpdate:
    """A `message_template_status_update` change: Meta's review (or a later pause,
    disable, deletion ...) of one of a WABA's templates. It carries no number:
    `waba_id` is the entry's id."""
    waba_id: str
    template_id: str          # Meta's message_template_id (an integer in the payload)
    name: str
    language: str
    event: str                # APPROVED | REJECTED | PENDING | PAUSED | DISABLED | ...
    reason: str | None        # "NONE" on approval; e.g. INVALID_FORMAT on rejection
    timestamp: dt.datetime | None
    category: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)
    quality: str | None = None  # message_template_quality_update: the new quality score

    @property
    def dedupe_key(self) -> str:
        # Meta sends no event id. A redelivery repeats the same bytes, so the entry's
        # time plus a digest of the change identify it; two real events differ in one.
        import hashlib
        import json

        digest = hashlib.sha256(json.dumps(self.raw, sort_keys=True, separators=(",", ":"),
                                           default=str).encode()).hexdigest()[:16]
        when = int(self.timestamp.timestamp()) if self.timestamp else "-"
        return f"template:{self.waba_id}:{self.template_id}:{self.event}:{when}:{digest}"


def _get(obj: Any, key: str, typ: type | tuple = str, required: bool = True) -> Any:
    if not isinstance(obj, dict):
        raise MalformedPayload(f"expected an object holding '{key}'")
    value = obj.get(key)
    if value is None:
        if required:
            raise MalformedPayload(f"missing '{key}'")
        return None
    if not isinstance(value, typ):
        raise MalformedPayload(f"'{key}' has the wrong type")
    return value


def _timestamp(value: Any) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        raise MalformedPayload("bad 'timestamp'") from None


def _identity(obj: dict, phone_key: str, user_key: str) -> tuple[str | None, str | None]:
    """A phone and a BSUID, each optional, at least one (else MalformedPayload)."""
    phone = _get(obj, phone_key, required=False) or None
    user_id = _get(obj, user_key, required=False) or None
    if phone is None and user_id is None:
        raise MalformedPayload(f"missing '{phone_key}' and '{user_key}'")
    return phone, user_id


def _contact_of(value: dict, wa_id: str | None, user_id: str | None) -> dict:
    """The `contacts[]` entry of the message's user (matched by BSUID, then phone; the
    only entry when there is one), or {}."""
    contacts = [c for c in (value.get("contacts") or []) if isinstance(c, dict)]
    for c in contacts:
        if user_id and c.get("user_id") == user_id:
            return c
    for c in contacts:
        if wa_id and c.get("wa_id") == wa_id:
            return c
    if len(contacts) == 1 and not (contacts[0].get("wa_id") or contacts[0].get("user_id")):
        return contacts[0]
    return {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _message(value: dict, msg: dict, metadata: dict) -> InboundMessage:
    wa_id, user_id = _identity(msg, "from", "from_user_id")
    contact = _contact_of(value, wa_id, user_id)
    profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
    kind = _get(msg, "type")
    system_type = new_wa_id = new_user_id = original = None
    text = payload = media_id = mime = filename = None
    if kind == "text":
        text = _get(_get(msg, "text", dict), "body")
    elif kind in MEDIA_TYPES:
        media = _get(msg, kind, dict)
        media_id = _get(media, "id")
        mime = _get(media, "mime_type", required=False)
        filename = _get(media, "filename", required=False)
        text = _get(media, "caption", required=False)
    elif kind == "interactive":
        inter = _get(msg, "interactive", dict)
        sub = _get(inter, "type")
        if sub in ("button_reply", "list_reply"):
            reply = _get(inter, sub, dict)
            payload = _get(reply, "id")
            text = _get(reply, "title", required=False)
        elif sub == "nfm_reply":
            text = _get(_get(inter, "nfm_reply", dict), "body", required=False)
    elif kind == "button":  # quick-reply button of a template
        button = _get(msg, "button", dict)
        payload = _get(button, "payload", required=False)
        text = _get(button, "text", required=False)
    elif kind == "location":
        loc = _get(msg, "location", dict)
        text = " ".join(str(loc.get(k)) for k in ("name", "address") if loc.get(k)) or None
    elif kind == "reaction":
        text = _get(_get(msg, "reaction", dict), "emoji", required=False)
    elif kind == "order":  # a cart from the catalog: "2 × MUG-01, 1 × TEE-02"
        order = msg.get("order") if isinstance(msg.get("order"), dict) else {}
        items = [i for i in order.get("product_items") or [] if isinstance(i, dict)]
        text = ", ".join(f"{i.get('quantity', 1)} × {i.get('product_retailer_id', '?')}" for i in items) or None
        if order.get("text"):
            text = f"{text} ({order['text']})" if text else str(order["text"])
    elif kind == "edit":  # the user edited a message: its new text (or caption) replaces the old
        edit = _get(msg, "edit", dict)
        original = _get(edit, "original_message_id")
        new = edit.get("message") if isinstance(edit.get("message"), dict) else {}
        inner = new.get(new.get("type")) if isinstance(new.get(new.get("type")), dict) else {}
        text = _text(inner.get("body")) or _text(inner.get("caption"))
    elif kind == "revoke":  # the user deleted a message for everyone
        original = _get(_get(msg, "revoke", dict), "original_message_id")
    elif kind == "system":  # user_changed_number (new `wa_id`), user_changed_user_id (new `user_id`)
        system = _get(msg, "system", dict)
        system_type = _get(system, "type", required=False)
        text = _get(system, "body", required=False)
        new_wa_id = _text(system.get("wa_id"))
        new_user_id = _text(system.get("user_id"))
    context = msg.get("context") if isinstance(msg.get("context"), dict) else {}
    return InboundMessage(
        phone_number_id=_get(metadata, "phone_number_id"),
        display_phone_number=str(metadata.get("display_phone_number") or ""),
        wa_id=wa_id,
        profile_name=_text(profile.get("name")),
        wamid=_get(msg, "id"),
        timestamp=_timestamp(msg.get("timestamp")),
        group_id=_text(msg.get("group_id")),
        type=kind,
        text=text,
        payload=payload,
        media_id=media_id,
        mime_type=mime,
        filename=filename,
        context_wamid=context.get("id") if isinstance(context.get("id"), str) else None,
        raw=msg,
        user_id=user_id,
        parent_user_id=_text(msg.get("from_parent_user_id")) or _text(contact.get("parent_user_id")),
        username=_text(profile.get("username")),
        system_type=system_type, new_wa_id=new_wa_id, new_user_id=new_user_id, original_wamid=original,
    )


def _status(status: dict, metadata: dict, value: dict | None = None) -> StatusUpdate:
    errors = status.get("errors")
    recipient_id, recipient_user_id = _identity(status, "recipient_id", "recipient_user_id")
    # sent/delivered/read statuses carry `contacts` too (wa_id, user_id, profile.username)
    contact = _contact_of(value or {}, recipient_id, recipient_user_id)
    profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
    recipient_id = recipient_id or _text(contact.get("wa_id"))
    recipient_user_id = recipient_user_id or _text(contact.get("user_id"))
    return StatusUpdate(
        phone_number_id=_get(metadata, "phone_number_id"),
        wamid=_get(status, "id"),
        status=_get(status, "status"),
        recipient_id=recipient_id,
        recipient_user_id=recipient_user_id,
        username=_text(profile.get("username")),
        timestamp=_timestamp(status.get("timestamp")),
        conversation=_get(status, "conversation", dict, required=False),
        pricing=_get(status, "pricing", dict, required=False),
        errors=errors if isinstance(errors, list) else [],
        raw=status,
    )


TEMPLATE_STATUS_FIELD = "message_template_status_update"


def _template_status(entry: dict, value: Any) -> TemplateStatusUpdate:
    """Meta's message_template_status_update value (webhooks reference of that name)."""
    waba_id = entry.get("id")
    if not isinstance(waba_id, (str, int)) or isinstance(waba_id, bool) or not str(waba_id):
        raise MalformedPayload("missing 'entry.id' (the WABA)")
    template_id = _get(value, "message_template_id", (str, int))
    if isinstance(template_id, bool) or not str(template_id):
        raise MalformedPayload("'message_template_id' has the wrong type")
    event = _get(value, "event")
    if not event.strip():
        raise MalformedPayload("empty 'event'")
    time = entry.get("time")
    return TemplateStatusUpdate(
        waba_id=str(waba_id), template_id=str(template_id),
        name=_get(value, "message_template_name"), language=_get(value, "message_template_language"),
        event=event.strip().upper(), reason=_get(value, "reason", required=False),
        timestamp=_timestamp(time) if time is not None else None,
        category=_get(value, "message_template_category", required=False), raw=value)


@dataclass(frozen=True)
class AccountUpdate:
    """A WABA-level change the desk acts on: `account_update` (the account's standing),
    `phone_number_quality_update` (a number's quality and messaging limit),
    `user_preferences` (a user stops or resumes marketing messages),
    `smb_app_state_sync` (a coexistence number's WhatsApp Business app contacts added,
    edited or removed). `waba_id` is the entry's id; `value` is Meta's object as sent."""
    waba_id: str
    field: str
    value: dict
    timestamp: dt.datetime | None

    @property
    def dedupe_key(self) -> str:
        import hashlib
        import json

        digest = hashlib.sha256(json.dumps(self.value, sort_keys=True, separators=(",", ":"),
                                           default=str).encode()).hexdigest()[:32]
        stamp = int(self.timestamp.timestamp()) if self.timestamp else 0
        return f"account:{self.waba_id}:{self.field}:{stamp}:{digest}"


ACCOUNT_FIELDS = ("account_update", "phone_number_quality_update", "user_preferences", "smb_app_state_sync")
TEMPLATE_QUALITY_FIELD = "message_template_quality_update"
QUALITY_CHANGED = "QUALITY_CHANGED"
QUALITY_SCORES = ("GREEN", "YELLOW", "RED", "UNKNOWN")
TEMPLATE_CATEGORY_FIELD = "template_category_update"
CATEGORY_CHANGED = "CATEGORY_CHANGED"    # Meta changed the template's category
CATEGORY_IMPENDING = "CATEGORY_IMPENDING"  # Meta will change it (correct_category, at category_update_timestamp)


def _template_category(entry: dict, value: Any) -> TemplateStatusUpdate:
    """Meta's template_category_update value: a completed change (previous_category,
    new_category) or an impending one (correct_category, category_update_timestamp)."""
    if not isinstance(value, dict):
        raise MalformedPayload("the change's 'value' is not an object")
    completed = value.get("previous_category") is not None
    category = value.get("new_category") if completed else value.get("correct_category")
    if not isinstance(category, str) or not category.strip():
        raise MalformedPayload("no 'new_category' / 'correct_category'")
    reason = (f"recategorised by Meta from {value.get('previous_category')}" if completed
              else f"Meta will recategorise it as {category} (now {value.get('new_category')})")
    item = _template_status(entry, {**value, "event": CATEGORY_CHANGED if completed else CATEGORY_IMPENDING,
                                    "reason": reason, "message_template_category": category.strip().upper()})
    return dataclasses.replace(item, raw=value)


def _template_quality(entry: dict, value: Any) -> TemplateStatusUpdate:
    """Meta's message_template_quality_update value: previous_quality_score,
    new_quality_score (GREEN, YELLOW, RED, UNKNOWN), the template's id, name, language."""
    if not isinstance(value, dict):
        raise MalformedPayload("the change's 'value' is not an object")
    score = _get(value, "new_quality_score").strip().upper()
    if score not in QUALITY_SCORES:
        raise MalformedPayload(f"unknown 'new_quality_score' {score!r}")
    item = _template_status(entry, {**value, "event": QUALITY_CHANGED,
                                    "reason": f"quality {value.get('previous_quality_score') or 'UNKNOWN'} → {score}"})
    return dataclasses.replace(item, raw=value, quality=score)


ECHOES_FIELD = "smb_message_echoes"
HISTORY_FIELD = "history"


def _echo(value: dict, msg: dict, metadata: dict) -> InboundMessage:
    """An echo is shaped as a message with `from` the business and `to` the user: read
    as a message of the user's lane (its order with their messages is kept), flagged."""
    wa_id, user_id = _identity(msg, "to", "to_user_id")
    flipped = {**msg, "from": wa_id} if wa_id else {k: v for k, v in msg.items() if k != "from"}
    if user_id:
        flipped["from_user_id"] = user_id
    return dataclasses.replace(_message({**value, "contacts": []}, flipped, metadata), raw=msg, echo=True)


def _history_chunk(value: dict, chunk: Any, metadata: dict) -> list[InboundMessage]:
    """One `history[]` chunk of a coexistence number's onboarding: `metadata {phase,
    chunk_order, progress}` and `threads[] {id: the user's phone, messages[]}`; a message
    `from` the user, or from the business (then with `to` the user); or `errors[]` when
    the business declined to share (2593109): nothing to record, logged."""
    if not isinstance(chunk, dict):
        raise MalformedPayload("a history chunk is not an object")
    if chunk.get("errors"):
        log.info("whatsapp: history of %s not shared: %.300r", metadata.get("phone_number_id"), chunk["errors"])
        return []
    out = []
    for thread in _get(chunk, "threads", list, required=False) or []:
        user = _get(thread, "id")
        for msg in _get(thread, "messages", list, required=False) or []:
            if not isinstance(msg, dict):
                raise MalformedPayload("a history message is not an object")
            sender = _get(msg, "from")
            context = msg.get("history_context") if isinstance(msg.get("history_context"), dict) else {}
            status = _text(context.get("status"))
            if sender == user:
                item = _message({}, {k: v for k, v in msg.items() if k != "to"}, metadata)
                echo = False
            else:  # the business's own message, to the thread's user
                item = _message({}, {**msg, "from": _text(msg.get("to")) or user}, metadata)
                echo = True
            out.append(dataclasses.replace(item, raw=msg, echo=echo, history=True, history_status=status))
    return out


def parse_webhook(body: Any) -> list[InboundMessage | StatusUpdate | TemplateStatusUpdate | AccountUpdate]:
    """All items of a webhook body, in the order Meta put them.

    Fields the desk does not act on are acknowledged and logged. A malformed
    template change, echo or history chunk is logged and skipped, not a 400: refusing
    the body would lose (and make Meta redeliver) everything else in it.
    """
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        raise MalformedPayload("not a whatsapp_business_account webhook")
    items: list[InboundMessage | StatusUpdate | TemplateStatusUpdate] = []
    for entry in _get(body, "entry", list):
        for change in _get(entry, "changes", list):
            field = change.get("field") if isinstance(change, dict) else None
            if field in (TEMPLATE_STATUS_FIELD, TEMPLATE_CATEGORY_FIELD, TEMPLATE_QUALITY_FIELD):
                parse = {TEMPLATE_STATUS_FIELD: _template_status, TEMPLATE_CATEGORY_FIELD: _template_category,
                         TEMPLATE_QUALITY_FIELD: _template_quality}[field]
                try:
                    items.append(parse(entry, change.get("value")))
                except MalformedPayload as exc:
                    log.warning("whatsapp: ignored a malformed %s change (entry %r): %s; value: %.300r",
                                field, entry.get("id"), exc, change.get("value"))
                continue
            if field in ACCOUNT_FIELDS:
                value = change.get("value")
                if isinstance(value, dict) and entry.get("id") is not None:
                    time = entry.get("time")
                    items.append(AccountUpdate(str(entry["id"]), field, value,
                                               _timestamp(time) if time is not None else None))
                else:
                    log.warning("whatsapp: ignored a malformed %s change (entry %r)", field, entry.get("id"))
                continue
            if field == ECHOES_FIELD:  # like template statuses: a bad echo is skipped, not a 400
                try:
                    value = _get(change, "value", dict)
                    metadata = _get(value, "metadata", dict)
                    items.extend(_echo(value, msg, metadata)
                                 for msg in _get(value, "message_echoes", list, required=False) or [])
                except MalformedPayload as exc:
                    log.warning("whatsapp: ignored a malformed %s change (entry %r): %s", field, entry.get("id"), exc)
                continue
            if field == HISTORY_FIELD:  # chunk by chunk: a malformed one is skipped, the rest kept
                value = change.get("value") if isinstance(change.get("value"), dict) else {}
                metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
                for chunk in value.get("history") if isinstance(value.get("history"), list) else []:
                    try:
                        items.extend(_history_chunk(value, chunk, metadata))
                    except MalformedPayload as exc:
                        meta = chunk.get("metadata") if isinstance(chunk, dict) else None
                        log.warning("whatsapp: ignored a malformed history chunk (entry %r, %r): %s",
                                    entry.get("id"), meta, exc)
                continue
            if field != "messages":
                # Acknowledged, not yet acted on (fields Meta adds later): logged.
                log.info("whatsapp: %s change for entry %r acknowledged and not handled", field, entry.get("id"))
                continue
            value = _get(change, "value", dict)
            if value.get("errors"):  # value-level errors: Meta could not deliver something to us
                log.warning("whatsapp: Meta reports errors for entry %r: %.500r", entry.get("id"), value["errors"])
            metadata = _get(value, "metadata", dict)
            for msg in _get(value, "messages", list, required=False) or []:
                items.append(_message(value, msg, metadata))
            for status in _get(value, "statuses", list, required=False) or []:
                items.append(_status(status, metadata, value))
    return items
