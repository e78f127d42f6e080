"""The console's JSON shapes: operators, messages, chats in a list, leads, templates,
canned responses, as the API's routes (desk.web.api, desk.web.admin) send them.

Pure functions of the models (no request, no session): the bottom of desk/web
with desk.web.context.
"""
from __future__ import annotations

import datetime as dt

from desk.billing import templates as billing_templates
from desk.models import Message, Operator
from desk.phone_display import phone_display
from desk.services import send_errors


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def phone(wa_id: str | None) -> str:
    """`+44 7700 900123` from a WhatsApp id or a stored number (desk.phone_display, the one format)."""
    return phone_display(wa_id)


def contact_identity(contact) -> dict:
    """How the console shows who a contact is, never needing a phone number: `phone`
    (formatted; "" for a username-only user), `username`, `bsuid`, and `handle` (the
    phone, else "@username", else the BSUID)."""
    from desk.services.contacts import bsuid_of, phone_of

    number, bsuid = phone_of(contact), bsuid_of(contact)
    shown = phone(number) if number else ""
    handle = shown or (f"@{contact.username}" if contact.username else "") or bsuid or ""
    return {"phone": shown, "username": contact.username, "bsuid": bsuid, "handle": handle,
            # the name in the business's WhatsApp Business app contacts (coexistence numbers)
            "address_book_name": contact.address_book_name}


def contact_json(contact) -> dict:
    return {"id": contact.id, "name": contact.profile_name, "wa_id": contact.wa_id, **contact_identity(contact)}


def operator_json(op: Operator, load: int | None = None) -> dict:
    return {"id": op.id, "name": op.name, "email": op.email, "role": op.role.value,
            "status": op.status.value, "active": op.active, "max_chats": op.max_concurrent_chats,
            "departments": [{"id": d.id, "name": d.name} for d in op.departments],
            "load": load, "last_seen_at": iso(op.last_seen_at), "locale": op.locale}


def preview(msg: Message | None) -> dict | None:
    if msg is None:
        return None
    text = msg.body
    if not text:
        text = f"[{msg.media_filename or msg.type}]"
    return {"text": text[:200], "sender": msg.sender.value, "at": iso(msg.wa_timestamp), "status": msg.status}


def media_kind(mime: str | None, type_: str) -> str:
    if type_ in ("image", "sticker") or (mime or "").startswith("image/"):
        return "image"
    if type_ == "video" or (mime or "").startswith("video/"):
        return "video"
    if type_ == "audio" or (mime or "").startswith("audio/"):
        return "audio"
    return "document"


def offered_buttons(payload: dict) -> list[str]:
    """The titles of the reply buttons or list rows an outgoing interactive message offered
    (the Cloud API object the desk stored in `messages.payload`)."""
    inter = payload.get("interactive") if isinstance(payload.get("interactive"), dict) else {}
    action = inter.get("action") if isinstance(inter.get("action"), dict) else {}
    titles = [(b.get("reply") or {}).get("title") for b in action.get("buttons") or [] if isinstance(b, dict)]
    titles += [r.get("title") for sec in action.get("sections") or [] if isinstance(sec, dict)
               for r in sec.get("rows") or [] if isinstance(r, dict)]
    return [str(t) for t in titles if t]


def message_json(m: Message) -> dict:
    item = {"id": m.id, "wamid": m.wamid, "direction": m.direction.value, "sender": m.sender.value, "type": m.type,
            "body": m.body, "status": m.status, "error": m.error, "at": iso(m.wa_timestamp),
            "status_at": iso(m.status_at), "media": None, "failure": None}
    if m.status == "failed" and m.error:  # Meta's code in plain words, with the next step
        item["failure"] = send_errors.explain(m.error).as_dict()
    if m.media_sha256:
        item["media"] = {"url": f"/api/messages/{m.id}/media", "mime": m.media_mime, "size": m.media_size,
                         "filename": m.media_filename, "kind": media_kind(m.media_mime, m.type)}
    elif m.type in ("image", "video", "audio", "document", "sticker"):
        item["media"] = {"url": None, "mime": None, "size": None, "filename": m.media_filename,
                         "kind": media_kind(None, m.type)}
    payload = m.payload if isinstance(m.payload, dict) else {}
    if m.type == "interactive" and not m.body:
        body = (payload.get("interactive") or {}).get("body") or {}
        item["body"] = body.get("text")
    if m.type == "interactive" and m.direction.value == "out":
        item["buttons"] = offered_buttons(payload)
    context = payload.get("context") if m.direction.value == "in" else None
    if isinstance(context, dict):  # a reply to one of our messages, or a forwarded message
        item["reply_to"] = context.get("id")
        item["forwarded"] = bool(context.get("forwarded") or context.get("frequently_forwarded"))
    if m.type == "reaction":  # shown on the message it reacts to; an empty emoji takes it back
        item["wamid_reacted"] = (payload.get("reaction") or {}).get("message_id")
    if m.type == "location":
        loc = payload.get("location") or {}
        item["body"] = m.body or " ".join(str(loc.get(k)) for k in ("name", "address") if loc.get(k)) or None
        item["location"] = {"latitude": loc.get("latitude"), "longitude": loc.get("longitude")}
    if payload.get("edits"):  # the user (or the business app) edited it: the earlier texts stay visible
        item["edited"] = [e.get("previous") for e in payload["edits"]]
    if payload.get("revoked_at"):
        item["revoked_at"] = payload["revoked_at"]
    if payload.get("source") == "whatsapp_business_app_history":  # desk.services.history
        item["past"] = True
    if m.type == "contacts":
        item["contacts"] = [{"name": (c.get("name") or {}).get("formatted_name"),
                             "phones": [p.get("phone") for p in c.get("phones") or [] if isinstance(p, dict)],
                             "emails": [e.get("email") for e in c.get("emails") or [] if isinstance(e, dict)]}
                            for c in payload.get("contacts") or [] if isinstance(c, dict)]
        item["body"] = m.body or ", ".join(c["name"] for c in item["contacts"] if c["name"]) or None
    if m.type == "template" and not m.body:
        item["body"] = f"Template: {(payload.get('template') or {}).get('name', '?')}"
    return item


def note_json(n) -> dict:
    """An internal note, as the transcript shows it (never sent to WhatsApp)."""
    return {"id": n.id, "body": n.body, "author": n.author, "operator_id": n.operator_id, "at": iso(n.created_at)}


def list_item(chat, last: Message | None, depts: dict, ops: dict) -> dict:
    contact = chat.contact
    return {"id": chat.id, "state": chat.state.value, "name": contact.profile_name, "wa_id": contact.wa_id,
            **contact_identity(contact), "department": depts.get(chat.department_id),
            "operator": ops.get(chat.operator_id), "operator_id": chat.operator_id,
            "handed_off_at": iso(chat.handed_off_at), "assigned_at": iso(chat.assigned_at),
            "last_activity_at": iso(chat.last_activity_at), "closed_at": iso(chat.closed_at),
            "last_user_message_at": iso(chat.last_user_message_at), "last": preview(last)}


def template_json(t) -> dict:
    def text(kind):
        comp = next((c for c in t.components if str(c.get("type", "")).upper() == kind), None)
        return comp.get("text") if comp else None
    return {"id": t.id, "waba_id": t.waba_id, "name": t.name, "language": t.language, "category": t.category,
            "status": t.status, "status_reason": t.status_reason, "meta_template_id": t.meta_template_id,
            "quality": t.quality_score, "attention": billing_templates.attention(t),
            "header": text("HEADER"), "body": text("BODY"),
            "footer": text("FOOTER"), "params": billing_templates.expected_params(t)}


def follow_up_json(lead, after: dt.timedelta | None) -> dict | None:
    """The lead's next-day follow-up (actions/lead_follow_ups.py) as the lead panel shows it:
    `due` (at when), `sending`, `sent` (queued at when), `refused` (with the reason), or
    None when there is nothing to show (skipped, no consent, follow-ups off)."""
    state = lead.follow_up_state
    if state is None:
        if after is None or not lead.consent or lead.phone_number_id is None or lead.created_at is None:
            return None
        return {"state": "due", "at": iso(lead.created_at + after), "reason": None}
    if state == "queued":
        return {"state": "sent", "at": iso(lead.followed_up_at), "reason": None}
    if state == "sending":
        return {"state": "sending", "at": iso(lead.followed_up_at), "reason": None}
    if state == "refused":
        return {"state": "refused", "at": iso(lead.followed_up_at), "reason": lead.follow_up_reason}
    return None  # skipped (or a state this console does not know)


def lead_json(lead, follow_up_after: dt.timedelta | None = None) -> dict:
    return {"id": lead.id, "name": lead.name, "email": lead.email, "company": lead.company,
            "interest": lead.interest, "phone": lead.phone, "consent": lead.consent,
            "created_at": iso(lead.created_at), "crm_state": lead.crm_state, "crm_id": lead.crm_id,
            "crm_pushed_at": iso(lead.crm_pushed_at), "chat_id": lead.chat_id, "source": lead.source,
            "follow_up": follow_up_json(lead, follow_up_after)}


def canned_json(c) -> dict:
    return {"id": c.id, "shortcut": c.shortcut, "title": c.title, "text": c.text, "language": c.language}


def tag_json(t) -> dict:
    return {"id": t.id, "name": t.name}
