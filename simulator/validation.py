"""Validation of ``POST /<PHONE_NUMBER_ID>/messages`` bodies, as Meta does it.

References (WhatsApp Cloud API, "Messages" reference and the per-type guides):
- Messages reference: ``messaging_product`` must be ``"whatsapp"``;
  ``recipient_type`` ``"individual"``; ``to``; ``type`` (defaults to
  ``text``); ``context.message_id`` to reply;
  https://developers.facebook.com/documentation/business-messaging/whatsapp/reference/whatsapp-business-phone-number/message-api
- Text messages: ``text.body`` required, at most 4096 characters,
  ``preview_url`` optional boolean.
- Media messages (image, audio, video, document, sticker): either ``id`` (an
  uploaded media id) or ``link``; ``caption`` only on image/video/document
  (at most 1024 characters); ``filename`` only on document.
- Interactive reply-buttons messages: 1 to 3 buttons; ``reply.id`` at most 256
  characters and unique; ``reply.title`` at most 20 characters and unique;
  ``body.text`` at most 1024; ``header`` text at most 60; ``footer.text`` at
  most 60.
- Interactive list messages: ``action.button`` at most 20 characters; 1 to 10
  sections, at most 10 rows in all; section ``title`` at most 24 (required
  when more than one section); row ``id`` at most 200 and unique, ``title`` at
  most 24, ``description`` at most 72; header text only.
- Interactive CTA URL button messages: ``action.name`` ``"cta_url"``,
  ``parameters.display_text`` at most 20 characters, ``parameters.url``.
- Location, contacts (``name.formatted_name`` required), reaction
  (``message_id`` + ``emoji``; empty emoji removes), template (``name``,
  ``language.code``).

Codes: 100 "Invalid parameter" for unknown/ill-typed parameters, 131008
"Required parameter is missing", 131009 "Parameter value is not valid" for
out-of-range values (Meta's own details for a long button title read "Button
title length invalid. Min length: 1, Max length: 20").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from .errors import GraphError

MESSAGE_TYPES = (
    "text", "image", "audio", "video", "document", "sticker",
    "location", "contacts", "interactive", "template", "reaction",
)
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
INTERACTIVE_TYPES = ("button", "list", "cta_url")

TEXT_BODY_MAX = 4096
CAPTION_MAX = 1024
INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
BUTTON_ID_MAX = 256
BUTTON_TITLE_MAX = 20
BUTTONS_MAX = 3
LIST_BUTTON_MAX = 20
SECTIONS_MAX = 10
ROWS_MAX = 10
SECTION_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
CTA_DISPLAY_TEXT_MAX = 20
BIZ_OPAQUE_MAX = 512

_URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass
class Outbound:
    """A validated outbound message. ``wa_id`` is the user's key in the simulator: the
    phone number of ``to``, else the BSUID of ``recipient``."""

    to: str
    wa_id: str
    type: str
    content: Any  # the type object (a list for contacts)
    context_message_id: str | None
    biz_opaque_callback_data: str | None
    by_bsuid: bool = False  # sent with ``recipient`` (a business-scoped user id), no ``to``


# "Business-scoped user IDs": a BSUID is a two-letter country code, a period and up to
# 128 alphanumeric characters (e.g. US.13491208655302741918); a parent BSUID has ENT.
_BSUID = re.compile(r"^[A-Z]{2}\.(ENT\.)?[0-9A-Za-z]{1,128}$")


def is_bsuid(value: Any) -> bool:
    return isinstance(value, str) and bool(_BSUID.match(value))


def normalize_phone(value: str) -> str | None:
    """Digits of a phone number as WhatsApp's wa_id (E.164 without '+')."""
    digits = re.sub(r"[\s\-().]", "", value)
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit() or not 5 <= len(digits) <= 15:
        return None
    return digits


def _require(obj: dict[str, Any], key: str, where: str) -> Any:
    if key not in obj or obj[key] is None or obj[key] == "":
        raise GraphError(131008, f"The parameter {where}['{key}'] is required.")
    return obj[key]


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise GraphError(100, f"Param {where} must be a JSON object.")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise GraphError(100, f"Param {where} must be a string.")
    return value


def _max_len(value: str, limit: int, what: str, min_len: int = 1) -> None:
    if not min_len <= len(value) <= limit:
        raise GraphError(131009, f"{what} length invalid. Min length: {min_len}, Max length: {limit}")


def validate_message(body: Any, media_exists: Callable[[str], bool]) -> Outbound:
    """Validate a send-message body; raise :class:`GraphError` like Meta."""
    if not isinstance(body, dict):
        raise GraphError(100, "The request body must be a JSON object.")
    mp = body.get("messaging_product")
    if mp is None:
        raise GraphError(100, "The parameter messaging_product is required.")
    if mp != "whatsapp":
        raise GraphError(100, f"Param messaging_product must be one of {{WHATSAPP}} - got \"{mp}\".")
    rtype = body.get("recipient_type", "individual")
    if rtype != "individual":
        raise GraphError(100, f"Param recipient_type must be one of {{INDIVIDUAL}} - got \"{rtype}\".")
    to = body.get("to")
    recipient = body.get("recipient")
    by_bsuid = False
    if (to is None or to == "") and recipient not in (None, ""):
        # "Business-scoped user IDs": `recipient` takes a BSUID or parent BSUID; when
        # both are given, `to` (the phone number) takes precedence.
        to = _str(recipient, "recipient")
        if not is_bsuid(to):
            raise GraphError(131009, f"Param recipient is not a valid business-scoped user ID: \"{to}\".")
        wa_id, by_bsuid = to, True
    else:
        if to is None or to == "":
            raise GraphError(131008, "The parameter to is required.")
        to = _str(to, "to")
        wa_id = normalize_phone(to)
        if wa_id is None:
            raise GraphError(131009, f"Param to is not a valid phone number: \"{to}\".")

    mtype = body.get("type", "text")
    if mtype not in MESSAGE_TYPES:
        raise GraphError(100, f"Param type must be one of {{{', '.join(t.upper() for t in MESSAGE_TYPES)}}} - got \"{mtype}\".")
    if mtype not in body:
        raise GraphError(131008, f"The parameter {mtype} is required.")
    content = body[mtype]
    if mtype == "contacts":
        validate_contacts_list(content)
    else:
        content = _obj(content, mtype)
        if mtype in MEDIA_TYPES:
            _validate_media(mtype, content, media_exists)
        elif mtype == "interactive":
            _validate_interactive(content, media_exists)
        else:
            _VALIDATORS[mtype](content)

    context_id = None
    if "context" in body:
        ctx = _obj(body["context"], "context")
        context_id = _str(_require(ctx, "message_id", "context"), "context['message_id']")

    opaque = body.get("biz_opaque_callback_data")
    if opaque is not None:
        opaque = _str(opaque, "biz_opaque_callback_data")
        _max_len(opaque, BIZ_OPAQUE_MAX, "biz_opaque_callback_data", 0)

    return Outbound(to=to, wa_id=wa_id, type=mtype, content=content,
                    context_message_id=context_id, biz_opaque_callback_data=opaque, by_bsuid=by_bsuid)


def _validate_text(text: dict[str, Any]) -> None:
    body = _require(text, "body", "text")
    body = _str(body, "text['body']")
    if len(body) > TEXT_BODY_MAX:
        raise GraphError(100, f"Param text['body'] must be at most {TEXT_BODY_MAX} characters long.")
    if not body.strip():
        raise GraphError(131008, "The parameter text['body'] is required.")
    if "preview_url" in text and not isinstance(text["preview_url"], bool):
        raise GraphError(100, "Param text['preview_url'] must be a boolean.")


def _validate_media(mtype: str, media: dict[str, Any], media_exists: Callable[[str], bool]) -> None:
    has_id, has_link = "id" in media, "link" in media
    if has_id == has_link:
        raise GraphError(131008 if not has_id else 100,
                         f"Param {mtype} must have exactly one of id or link.")
    if has_id:
        mid = _str(media["id"], f"{mtype}['id']")
        if not media_exists(mid):
            raise GraphError(131009, f"Param {mtype}['id'] is not a valid media id: {mid}.")
    else:
        link = _str(media["link"], f"{mtype}['link']")
        if not _URL_RE.match(link):
            raise GraphError(131009, f"Param {mtype}['link'] is not a valid URL.")
    if "caption" in media:
        if mtype not in ("image", "video", "document"):
            raise GraphError(100, f"Param {mtype}['caption'] is not supported for {mtype} messages.")
        _max_len(_str(media["caption"], f"{mtype}['caption']"), CAPTION_MAX, "Caption", 0)
    if "filename" in media:
        if mtype != "document":
            raise GraphError(100, f"Param {mtype}['filename'] is only supported for document messages.")
        _str(media["filename"], "document['filename']")


def _number(value: Any, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise GraphError(100, f"Param {where} must be a number.") from None


def _validate_location(loc: dict[str, Any]) -> None:
    lat = _number(_require(loc, "latitude", "location"), "location['latitude']")
    lng = _number(_require(loc, "longitude", "location"), "location['longitude']")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise GraphError(131009, "Location coordinates are out of range.")


def validate_contacts_list(contacts: Any) -> None:
    if not isinstance(contacts, list) or not contacts:
        raise GraphError(100, "Param contacts must be a non-empty array.")
    for i, c in enumerate(contacts):
        c = _obj(c, f"contacts[{i}]")
        name = _obj(_require(c, "name", f"contacts[{i}]"), f"contacts[{i}]['name']")
        _require(name, "formatted_name", f"contacts[{i}]['name']")


def _validate_reaction(reaction: dict[str, Any]) -> None:
    _str(_require(reaction, "message_id", "reaction"), "reaction['message_id']")
    if "emoji" not in reaction:
        raise GraphError(131008, "The parameter reaction['emoji'] is required.")
    _str(reaction["emoji"], "reaction['emoji']")


def _validate_template(tpl: dict[str, Any]) -> None:
    _str(_require(tpl, "name", "template"), "template['name']")
    lang = _obj(_require(tpl, "language", "template"), "template['language']")
    _str(_require(lang, "code", "template['language']"), "template['language']['code']")
    if "components" in tpl and not isinstance(tpl["components"], list):
        raise GraphError(100, "Param template['components'] must be an array.")


def _validate_header(header: Any, allowed: tuple[str, ...], media_exists: Callable[[str], bool]) -> None:
    header = _obj(header, "interactive['header']")
    htype = header.get("type")
    if htype not in allowed:
        raise GraphError(100, f"Param interactive['header']['type'] must be one of {{{', '.join(a.upper() for a in allowed)}}}.")
    if htype == "text":
        _max_len(_str(_require(header, "text", "interactive['header']"), "interactive['header']['text']"),
                 HEADER_TEXT_MAX, "Header text")
    else:
        media = _obj(_require(header, htype, "interactive['header']"), f"interactive['header']['{htype}']")
        _validate_media(htype, {k: v for k, v in media.items() if k in ("id", "link")}, media_exists)


def _validate_interactive(inter: dict[str, Any], media_exists: Callable[[str], bool]) -> None:
    itype = inter.get("type")
    if itype is None:
        raise GraphError(131008, "The parameter interactive['type'] is required.")
    if itype not in INTERACTIVE_TYPES:
        raise GraphError(100, f"Param interactive['type'] must be one of {{{', '.join(t.upper() for t in INTERACTIVE_TYPES)}}} - got \"{itype}\".")
    body = _obj(_require(inter, "body", "interactive"), "interactive['body']")
    _max_len(_str(_require(body, "text", "interactive['body']"), "interactive['body']['text']"),
             INTERACTIVE_BODY_MAX, "Body text")
    if "footer" in inter:
        footer = _obj(inter["footer"], "interactive['footer']")
        _max_len(_str(_require(footer, "text", "interactive['footer']"), "interactive['footer']['text']"),
                 FOOTER_MAX, "Footer text")
    if "header" in inter:
        allowed = ("text",) if itype == "list" else ("text", "image", "video", "document")
        _validate_header(inter["header"], allowed, media_exists)
    action = _obj(_require(inter, "action", "interactive"), "interactive['action']")

    if itype == "button":
        buttons = _require(action, "buttons", "interactive['action']")
        if not isinstance(buttons, list):
            raise GraphError(100, "Param interactive['action']['buttons'] must be an array.")
        if not 1 <= len(buttons) <= BUTTONS_MAX:
            raise GraphError(131009, f"Buttons count invalid. Min: 1, Max: {BUTTONS_MAX}. Got {len(buttons)}.")
        titles, ids = set(), set()
        for i, b in enumerate(buttons):
            b = _obj(b, f"interactive['action']['buttons'][{i}]")
            if b.get("type") != "reply":
                raise GraphError(100, f"Param interactive['action']['buttons'][{i}]['type'] must be one of {{REPLY}}.")
            reply = _obj(_require(b, "reply", f"interactive['action']['buttons'][{i}]"),
                         f"interactive['action']['buttons'][{i}]['reply']")
            bid = _str(_require(reply, "id", "reply"), "reply['id']")
            title = _str(_require(reply, "title", "reply"), "reply['title']")
            _max_len(bid, BUTTON_ID_MAX, "Button id")
            _max_len(title, BUTTON_TITLE_MAX, "Button title")
            if title in titles:
                raise GraphError(131009, f"Button titles must be unique: duplicate \"{title}\".")
            if bid in ids:
                raise GraphError(131009, f"Button ids must be unique: duplicate \"{bid}\".")
            titles.add(title)
            ids.add(bid)

    elif itype == "list":
        label = _str(_require(action, "button", "interactive['action']"), "interactive['action']['button']")
        _max_len(label, LIST_BUTTON_MAX, "Button label")
        sections = _require(action, "sections", "interactive['action']")
        if not isinstance(sections, list):
            raise GraphError(100, "Param interactive['action']['sections'] must be an array.")
        if not 1 <= len(sections) <= SECTIONS_MAX:
            raise GraphError(131009, f"Sections count invalid. Min: 1, Max: {SECTIONS_MAX}. Got {len(sections)}.")
        total, row_ids = 0, set()
        for si, s in enumerate(sections):
            s = _obj(s, f"sections[{si}]")
            if "title" in s:
                _max_len(_str(s["title"], f"sections[{si}]['title']"), SECTION_TITLE_MAX, "Section title")
            elif len(sections) > 1:
                raise GraphError(131008, f"The parameter sections[{si}]['title'] is required when there is more than one section.")
            rows = _require(s, "rows", f"sections[{si}]")
            if not isinstance(rows, list) or not rows:
                raise GraphError(131009, f"Param sections[{si}]['rows'] must be a non-empty array.")
            for ri, r in enumerate(rows):
                r = _obj(r, f"sections[{si}]['rows'][{ri}]")
                rid = _str(_require(r, "id", f"sections[{si}]['rows'][{ri}]"), "row['id']")
                _max_len(rid, ROW_ID_MAX, "Row id")
                _max_len(_str(_require(r, "title", f"sections[{si}]['rows'][{ri}]"), "row['title']"),
                         ROW_TITLE_MAX, "Row title")
                if "description" in r:
                    _max_len(_str(r["description"], "row['description']"), ROW_DESCRIPTION_MAX,
                             "Row description", 0)
                if rid in row_ids:
                    raise GraphError(131009, f"Row ids must be unique: duplicate \"{rid}\".")
                row_ids.add(rid)
            total += len(rows)
        if total > ROWS_MAX:
            raise GraphError(131009, f"Total row count exceed max allowed count: {ROWS_MAX}. Got {total}.")

    else:  # cta_url
        if action.get("name") != "cta_url":
            raise GraphError(100, "Param interactive['action']['name'] must be \"cta_url\".")
        params = _obj(_require(action, "parameters", "interactive['action']"), "interactive['action']['parameters']")
        _max_len(_str(_require(params, "display_text", "parameters"), "parameters['display_text']"),
                 CTA_DISPLAY_TEXT_MAX, "Display text")
        url = _str(_require(params, "url", "parameters"), "parameters['url']")
        if not _URL_RE.match(url):
            raise GraphError(131009, "Param parameters['url'] is not a valid URL.")


_VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {
    "text": _validate_text,
    "location": _validate_location,
    "reaction": _validate_reaction,
    "template": _validate_template,
}
