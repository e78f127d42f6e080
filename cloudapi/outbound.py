"""Rasa responses turned into Cloud API message objects (plain functions).

Limits are Meta's: text bodies up to 4096 characters; reply buttons at most 3 with
titles up to 20 characters; list messages at most 10 rows with titles up to 24.
Text is split on paragraph, line or word boundaries, never inside a word unless
one word is longer than the limit.
"""
from __future__ import annotations

from typing import Any, Iterable

TEXT_LIMIT = 4096
BUTTON_TITLE_LIMIT = 20
MAX_REPLY_BUTTONS = 3
LIST_ROW_TITLE_LIMIT = 24
MAX_LIST_ROWS = 10
INTERACTIVE_BODY_LIMIT = 1024


class OutboundError(ValueError):
    """A message that Meta would refuse; raised before anything is sent."""


def address(phone: str | None, bsuid: str | None) -> dict:
    """Who a message goes to: `to` with the phone number when known (Meta's advice:
    phone numbers keep appearing in webhooks), else `recipient` with the business-scoped
    user id (BSUID) of a username-only user. Meta takes `to` when both are given."""
    if phone:
        return {"to": phone}
    if bsuid:
        return {"recipient": bsuid}
    raise OutboundError("a message needs a phone number or a BSUID to go to")


def addressed(message: dict, phone: str | None, bsuid: str | None) -> dict:
    """`message` with its addressee (any `to`/`recipient` in it replaced)."""
    return {**address(phone, bsuid), **{k: v for k, v in message.items() if k not in ("to", "recipient")}}


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def text_messages(to: str, text: str) -> list[dict]:
    return [{"to": to, "type": "text", "text": {"body": part, "preview_url": "http" in part}}
            for part in split_text(text)]


def _shorten(title: str, limit: int) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


def buttons_message(to: str, text: str, buttons: Iterable[dict[str, Any]]) -> dict:
    """Rasa buttons as reply buttons (≤3) or, beyond that, a list (≤10 rows)."""
    buttons = list(buttons)
    if not buttons:
        raise OutboundError("no buttons")
    body = text.strip() or "Please choose:"
    if len(body) > INTERACTIVE_BODY_LIMIT:
        raise OutboundError(f"text with buttons is {len(body)} characters; WhatsApp allows {INTERACTIVE_BODY_LIMIT}")
    ids = [str(b.get("payload") or b.get("title")) for b in buttons]
    if len(buttons) <= MAX_REPLY_BUTTONS:
        return {"to": to, "type": "interactive", "interactive": {
            "type": "button", "body": {"text": body},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": bid[:256], "title": _shorten(str(b.get("title", bid)), BUTTON_TITLE_LIMIT)}}
                for b, bid in zip(buttons, ids)]}}}
    if len(buttons) > MAX_LIST_ROWS:
        raise OutboundError(f"{len(buttons)} choices; WhatsApp lists hold at most {MAX_LIST_ROWS}")
    return {"to": to, "type": "interactive", "interactive": {
        "type": "list", "body": {"text": body},
        "action": {"button": "Choose", "sections": [{"title": "Options", "rows": [
            {"id": bid[:200], "title": _shorten(str(b.get("title", bid)), LIST_ROW_TITLE_LIMIT)}
            for b, bid in zip(buttons, ids)]}]}}}


MEDIA_KINDS = ("image", "document", "audio", "video", "sticker")


def media_message(to: str, kind: str, *, link: str | None = None, media_id: str | None = None,
                  caption: str | None = None, filename: str | None = None) -> dict:
    """A media message by public link or by uploaded media id (exactly one of them)."""
    if kind not in MEDIA_KINDS:
        raise OutboundError(f"'{kind}' is not a WhatsApp media type ({', '.join(MEDIA_KINDS)})")
    if bool(link) == bool(media_id):
        raise OutboundError("a media message needs either a link or a media id")
    media: dict[str, Any] = {"link": link} if link else {"id": media_id}
    if caption and kind in ("image", "document", "video"):
        if len(caption) > INTERACTIVE_BODY_LIMIT:
            raise OutboundError(f"caption is {len(caption)} characters; WhatsApp allows {INTERACTIVE_BODY_LIMIT}")
        media["caption"] = caption
    if filename and kind == "document":
        media["filename"] = filename
    return {"to": to, "type": kind, kind: media}


def image_message(to: str, link: str, caption: str | None = None) -> dict:
    return media_message(to, "image", link=link, caption=caption)


def template_message(to: str, name: str, language: str, body_params: Iterable[str] = (),
                     header_params: Iterable[str] = (), quick_reply_payloads: Iterable[str] = ()) -> dict:
    """An approved template with positional text parameters ({{1}}, {{2}}, ...)."""
    components: list[dict[str, Any]] = []
    header_params, body_params = list(header_params), list(body_params)
    if header_params:
        components.append({"type": "header", "parameters": [{"type": "text", "text": p} for p in header_params]})
    if body_params:
        components.append({"type": "body", "parameters": [{"type": "text", "text": p} for p in body_params]})
    for index, payload in enumerate(quick_reply_payloads):
        components.append({"type": "button", "sub_type": "quick_reply", "index": str(index),
                           "parameters": [{"type": "payload", "payload": payload}]})
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components:
        template["components"] = components
    return {"to": to, "type": "template", "template": template}


def in_reply_to(message: dict, wamid: str | None) -> dict:
    """Show `message` as a reply to the user's message `wamid` (WhatsApp quotes it)."""
    return {**message, "context": {"message_id": wamid}} if wamid else message


def summary(message: dict) -> str:
    """A one-line text of an outbound message, for the desk's transcript."""
    kind = message.get("type")
    if kind == "text":
        return message["text"]["body"]
    if kind == "interactive":
        inter = message["interactive"]
        return inter.get("body", {}).get("text", "")
    if kind in ("image", "document", "video", "audio"):
        return message[kind].get("caption") or message[kind].get("link") or kind
    if kind == "template":
        return f"[template {message['template'].get('name')}]"
    return f"[{kind}]"
