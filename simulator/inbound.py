"""Build the message object of a user's message, in Meta's webhook shape.

Reference: "Messages webhook reference" — one page per type
(https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages):

- text: ``{"text": {"body"}}``
- image / video: ``{"caption"?, "mime_type", "sha256", "id"}``; document adds
  ``filename``; audio adds ``voice`` (true for voice notes); sticker adds
  ``animated``
- location: ``{"latitude", "longitude", "name"?, "address"?}``
- contacts: a list of contact objects
- interactive: ``{"type": "button_reply", "button_reply": {"id", "title"}}``
  or ``{"type": "list_reply", "list_reply": {"id", "title", "description"}}``,
  with ``context: {"from": <business display number>, "id": <wamid of the
  interactive message>}``
- button (template quick reply): ``{"button": {"payload", "text"}}`` with
  ``context``
- reaction: ``{"reaction": {"message_id", "emoji"}}``
- edit ("Edit messages webhook reference", 2026): ``{"edit": {"original_message_id",
  "message": {"type": "text", "text": {"body"}}}}``, within 15 minutes of the original
- revoke ("Revoke messages webhook reference", 2026): ``{"revoke": {"original_message_id"}}``,
  within two days of the original
- unsupported: ``type: "unsupported"`` and ``errors: [{"code": 131051, ...}]``
"""
from __future__ import annotations

import base64
import binascii
from typing import Any

from . import media as media_rules
from .core import Simulator
from .errors import status_error
from .state import MessageRecord, Number

MEDIA = ("image", "audio", "video", "document", "sticker")
TYPES = ("text", *MEDIA, "location", "contacts", "button_reply", "list_reply", "button",
         "reaction", "edit", "revoke", "unsupported")


class ControlError(ValueError):
    """A bad control-API request (answered 400/404 with ``{"error": ...}``)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _latest_outbound(sim: Simulator, number: Number, wa_id: str, predicate) -> MessageRecord | None:
    for rec in reversed(sim.state.thread(number.phone_number_id, wa_id)):
        if rec.direction == "outbound" and predicate(rec):
            return rec
    return None


def _interactive_options(rec: MessageRecord) -> dict[str, dict[str, Any]]:
    action = (rec.content or {}).get("action", {})
    if rec.content.get("type") == "button":
        return {b["reply"]["id"]: {"title": b["reply"]["title"]} for b in action.get("buttons", [])}
    options = {}
    for section in action.get("sections", []):
        for row in section.get("rows", []):
            options[row["id"]] = {"title": row["title"], "description": row.get("description")}
    return options


def _reply_target(sim: Simulator, number: Number, wa_id: str, body: dict[str, Any],
                  kind: str) -> MessageRecord:
    """The outbound message a reply answers (context id, else the latest fit)."""
    if kind in ("button", "list"):
        fits = lambda r: r.type == "interactive" and r.content.get("type") == kind  # noqa: E731
    else:
        fits = lambda r: r.type == "template"  # noqa: E731
    ctx_id = body.get("context_message_id")
    if ctx_id:
        rec = sim.state.get_message(ctx_id)
        if rec is None or rec.wa_id != wa_id or rec.phone_number_id != number.phone_number_id:
            raise ControlError(f"context message {ctx_id} is not in this chat", 404)
        if not fits(rec):
            raise ControlError(f"context message {ctx_id} is not a {kind} message")
        return rec
    rec = _latest_outbound(sim, number, wa_id, fits)
    if rec is None:
        raise ControlError(f"no {kind} message from the business to reply to")
    return rec


def build(sim: Simulator, number: Number, wa_id: str, body: dict[str, Any]
          ) -> tuple[str, Any, dict[str, Any] | None, dict[str, Any] | None]:
    """Return ``(type, type_object, context, extra_message_fields)``."""
    kind = body.get("type", "text")
    if kind not in TYPES:
        raise ControlError(f"type must be one of {', '.join(TYPES)}")
    context = None
    if body.get("context_message_id"):
        context = {"from": number.display_phone_number, "id": str(body["context_message_id"])}

    if kind == "text":
        text = body.get("text")
        if isinstance(text, dict):
            text = text.get("body")
        if not isinstance(text, str) or not text:
            raise ControlError("text must be a non-empty string")
        return "text", {"body": text}, context, None

    if kind in MEDIA:
        if body.get("media_id"):
            m = sim.state.get_media(str(body["media_id"]))
            if m is None:
                raise ControlError(f"unknown media_id {body['media_id']}", 404)
        else:
            try:
                data = base64.b64decode(str(body.get("data", "")), validate=True)
            except (binascii.Error, ValueError):
                raise ControlError("data must be base64") from None
            if not data:
                raise ControlError(f"{kind} needs base64 data (or media_id)")
            mime = media_rules.normalize_mime(body.get("mime_type"))
            if not mime:
                raise ControlError("mime_type is required")
            m = sim.state.add_media(number.phone_number_id, mime, data, media_rules.sha256_hex(data),
                                    filename=body.get("filename"), origin="inbound", now=sim.clock.now())
        obj: dict[str, Any] = {}
        if body.get("caption") and kind in ("image", "video", "document"):
            obj["caption"] = str(body["caption"])
        if kind == "document":
            obj["filename"] = str(body.get("filename") or m.filename or f"{m.id}.{media_rules.EXTENSIONS.get(m.mime_type, 'bin')}")
        obj.update({"mime_type": m.mime_type, "sha256": m.sha256, "id": m.id})
        if kind == "audio":
            obj["voice"] = bool(body.get("voice", False))
        if kind == "sticker":
            obj["animated"] = media_rules.is_animated_webp(m.data)
        return kind, obj, context, None

    if kind == "location":
        loc = body.get("location") or {k: body[k] for k in ("latitude", "longitude", "name", "address") if k in body}
        try:
            obj = {"latitude": float(loc["latitude"]), "longitude": float(loc["longitude"])}
        except (KeyError, TypeError, ValueError):
            raise ControlError("location needs numeric latitude and longitude") from None
        for k in ("name", "address", "url"):
            if loc.get(k):
                obj[k] = str(loc[k])
        return "location", obj, context, None

    if kind == "contacts":
        contacts = body.get("contacts")
        if not isinstance(contacts, list) or not contacts:
            raise ControlError("contacts must be a non-empty list of contact objects")
        return "contacts", contacts, context, None

    if kind in ("button_reply", "list_reply"):
        reply = body.get(kind) or {k: body[k] for k in ("id", "title", "description") if k in body}
        if not isinstance(reply, dict) or not reply.get("id"):
            raise ControlError(f"{kind} needs an id")
        target = _reply_target(sim, number, wa_id, body, "button" if kind == "button_reply" else "list")
        options = _interactive_options(target)
        if reply["id"] not in options:
            raise ControlError(f"{reply['id']!r} is not an option of message {target.wamid}")
        chosen = options[reply["id"]]
        obj = {"id": reply["id"], "title": reply.get("title") or chosen["title"]}
        if kind == "list_reply" and (reply.get("description") or chosen.get("description")):
            obj["description"] = reply.get("description") or chosen["description"]
        context = {"from": number.display_phone_number, "id": target.wamid}
        return "interactive", {"type": kind, kind: obj}, context, None

    if kind == "button":
        btn = body.get("button") or {k: body[k] for k in ("payload", "text") if k in body}
        if not isinstance(btn, dict) or not (btn.get("text") or btn.get("payload")):
            raise ControlError("button needs text and/or payload")
        target = _reply_target(sim, number, wa_id, body, "template")
        text = str(btn.get("text") or btn.get("payload"))
        context = {"from": number.display_phone_number, "id": target.wamid}
        return "button", {"payload": str(btn.get("payload") or text), "text": text}, context, None

    if kind == "reaction":
        reaction = body.get("reaction") or {k: body[k] for k in ("message_id", "emoji") if k in body}
        if not isinstance(reaction, dict) or not reaction.get("message_id") or "emoji" not in reaction:
            raise ControlError("reaction needs message_id and emoji")
        return "reaction", {"message_id": str(reaction["message_id"]), "emoji": str(reaction["emoji"])}, None, None

    if kind in ("edit", "revoke"):
        original = str(body.get("original_message_id") or "")
        rec = sim.state.get_message(original)
        if rec is None or rec.direction != "inbound" or rec.wa_id != wa_id:
            raise ControlError(f"{original!r} is not a message this user sent", 404)
        if kind == "revoke":
            return "revoke", {"original_message_id": original}, None, None
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ControlError("an edit needs the new text")
        return "edit", {"original_message_id": original, "message": {"type": "text", "text": {"body": text}}}, None, None

    # unsupported
    err = status_error(131051, "Message type is currently not supported.")
    err.pop("href", None)
    err["title"] = err["message"] = "Message type unknown"
    return "unsupported", None, context, {"errors": [err]}
