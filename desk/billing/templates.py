"""Message templates: a registry per WABA, and template sends with their checks.

A template is registered with Meta per WABA (name, language, category, components)
and reviewed there; its status here mirrors Meta's: APPROVED, PENDING, REJECTED
(and PAUSED / DISABLED, which Meta applies to approved templates with poor
feedback; DELETED when Meta no longer has it). Only APPROVED templates are sent.
Submitting to Meta, syncing from Meta and Meta's status webhooks are in
`template_sync.py`; `register` here records without calling Meta. Templates are not carried over when a
number moves from another provider: register them again.

A send gives one text parameter per `{{n}}` placeholder of the header and body;
Meta's rules for parameters apply (not empty, no new lines or tabs, no more than
four consecutive spaces, body at most 1,024 characters once filled in). Template
sends go through the desk's outbox, so they pass the same billing check
(`conversations.authorize_send`) as every other message.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cloudapi.outbound import template_message
from desk.models import Message, MessageTemplate, PhoneNumber, Sender, WhatsAppBusinessAccount, utcnow

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
# Meta's template statuses (GET message_templates `status`); only APPROVED is sent.
STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "PENDING_DELETION",
            "DELETED", "ARCHIVED", "LIMIT_EXCEEDED")
NAMED_PLACEHOLDER_RE = re.compile(r"\{\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\}")
NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2}|_[A-Za-z]{4})?$")  # en, en_US, pt_BR, zh_Hant ...
PLACEHOLDER_RE = re.compile(r"\{\{\s*(\d+)\s*\}\}")
BODY_LIMIT = 1024
HEADER_LIMIT = 60
FOOTER_LIMIT = 60
BUTTON_TEXT_LIMIT = 25
MAX_QUICK_REPLIES = 10


class TemplateError(ValueError):
    """A template definition or send that Meta would refuse; the message says why."""


def placeholders(text: str | None) -> list[int]:
    return sorted({int(n) for n in PLACEHOLDER_RE.findall(text or "")})


def _component(components: list[dict], kind: str) -> dict | None:
    for comp in components:
        if str(comp.get("type", "")).upper() == kind:
            return comp
    return None


def components_from(body: str, header: str | None = None, footer: str | None = None,
                    buttons: Sequence[str] = ()) -> list[dict]:
    """Meta's `components` from the short form (text header, body, footer, quick replies)."""
    comps: list[dict[str, Any]] = []
    if header:
        comps.append({"type": "HEADER", "format": "TEXT", "text": header})
    comps.append({"type": "BODY", "text": body})
    if footer:
        comps.append({"type": "FOOTER", "text": footer})
    if buttons:
        comps.append({"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": b} for b in buttons]})
    return comps


def validate_definition(name: str, language: str, category: str, components: Any) -> list[dict]:
    """Meta's checks on a new template; returns the components as stored."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise TemplateError(f"a template name is 1 to 512 lowercase letters, digits and underscores, not {name!r}")
    if not isinstance(language, str) or not LANGUAGE_RE.match(language):
        raise TemplateError(f"a template language is a code such as en, en_US or pt_BR, not {language!r}")
    if str(category).upper() not in CATEGORIES:
        raise TemplateError(f"a template category is one of {', '.join(CATEGORIES)}, not {category!r}")
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise TemplateError("components must be a list of objects (Meta's template components)")
    body = _component(components, "BODY")
    if body is None or not str(body.get("text") or "").strip():
        raise TemplateError("a template needs a BODY component with text")
    for kind, limit in (("BODY", BODY_LIMIT), ("HEADER", HEADER_LIMIT), ("FOOTER", FOOTER_LIMIT)):
        comp = _component(components, kind)
        if comp is None:
            continue
        if kind == "HEADER" and str(comp.get("format", "TEXT")).upper() != "TEXT":
            raise TemplateError("only text headers are supported by the desk's template sends")
        text = str(comp.get("text") or "")
        if len(text) > limit:
            raise TemplateError(f"the {kind.lower()} has {len(text)} characters; Meta allows {limit}")
        numbers = placeholders(text)
        if numbers != list(range(1, len(numbers) + 1)):
            raise TemplateError(f"the {kind.lower()}'s placeholders must be {{{{1}}}}, {{{{2}}}}, ... in "
                                f"sequence, found {numbers}")
        if kind == "FOOTER" and numbers:
            raise TemplateError("a footer cannot have placeholders")
        if kind == "HEADER" and len(numbers) > 1:
            raise TemplateError("a text header has at most one placeholder")
    buttons = _component(components, "BUTTONS")
    if buttons is not None:
        items = buttons.get("buttons")
        if not isinstance(items, list) or not items or len(items) > MAX_QUICK_REPLIES:
            raise TemplateError(f"BUTTONS holds 1 to {MAX_QUICK_REPLIES} buttons")
        for b in items:
            if not isinstance(b, dict) or not 1 <= len(str(b.get("text") or "")) <= BUTTON_TEXT_LIMIT:
                raise TemplateError(f"each button needs a text of 1 to {BUTTON_TEXT_LIMIT} characters")
    return components


async def _waba(session: AsyncSession, waba_id: str) -> WhatsAppBusinessAccount:
    waba = await session.get(WhatsAppBusinessAccount, waba_id)
    if waba is None:
        raise TemplateError(f"no WABA {waba_id!r} (see: waba list)")
    return waba


def _status(status: str) -> str:
    value = str(status or "").upper()
    if value not in STATUSES:
        raise TemplateError(f"a template status is one of {', '.join(STATUSES)}, not {status!r}")
    return value


async def register(session: AsyncSession, *, waba_id: str, name: str, language: str, category: str,
                   components: list[dict], status: str = "PENDING",
                   meta_template_id: str | None = None) -> MessageTemplate:
    """Add a template to a WABA's registry (PENDING until Meta approves it)."""
    await _waba(session, waba_id)
    components = validate_definition(name, language, category, components)
    status = _status(status)
    if await find(session, waba_id, name, language) is not None:
        raise TemplateError(f"template {name} ({language}) is already registered for WABA {waba_id}")
    template = MessageTemplate(waba_id=waba_id, name=name, language=language, category=category.upper(),
                               status=status, components=components, meta_template_id=meta_template_id)
    session.add(template)
    await session.flush()
    return template


async def set_status(session: AsyncSession, *, waba_id: str, name: str, language: str, status: str,
                     reason: str | None = None) -> MessageTemplate:
    """Record Meta's review (or a later pause/disable) of a template."""
    template = await find(session, waba_id, name, language)
    if template is None:
        raise TemplateError(f"no template {name} ({language}) in WABA {waba_id} (see: template list)")
    template.status, template.status_reason, template.updated_at = _status(status), reason, utcnow()
    return template


async def find(session: AsyncSession, waba_id: str, name: str, language: str) -> MessageTemplate | None:
    return (await session.execute(select(MessageTemplate).where(
        MessageTemplate.waba_id == waba_id, MessageTemplate.name == name,
        MessageTemplate.language == language))).scalar_one_or_none()


async def list_templates(session: AsyncSession, *, waba_id: str | None = None, brand_id: int | None = None,
                         status: str | None = None) -> list[MessageTemplate]:
    query = select(MessageTemplate).join(WhatsAppBusinessAccount,
                                         WhatsAppBusinessAccount.id == MessageTemplate.waba_id)
    if waba_id:
        query = query.where(MessageTemplate.waba_id == waba_id)
    if brand_id is not None:
        query = query.where(WhatsAppBusinessAccount.brand_id == brand_id)
    if status:
        query = query.where(MessageTemplate.status == _status(status))
    return list((await session.execute(query.order_by(MessageTemplate.waba_id, MessageTemplate.name,
                                                      MessageTemplate.language))).scalars())


def attention(t: MessageTemplate) -> str | None:
    """Why an admin should look at a template now: "paused" (Meta paused it for poor
    quality) or "red" (Meta rates its quality low: it may be paused next); else None."""
    if t.status == "PAUSED":
        return "paused"
    if t.quality_score == "RED":
        return "red"
    return None


async def attention_count(session: AsyncSession, brand_id: int) -> int:
    """The brand's templates that are paused or rated RED (the admins' alert counts them)."""
    return (await session.execute(select(func.count(MessageTemplate.id)).join(
        WhatsAppBusinessAccount, WhatsAppBusinessAccount.id == MessageTemplate.waba_id).where(
        WhatsAppBusinessAccount.brand_id == brand_id,
        or_(MessageTemplate.status == "PAUSED", MessageTemplate.quality_score == "RED")))).scalar_one()


async def approved_for_number(session: AsyncSession, phone_number_id: str) -> list[MessageTemplate]:
    """What the desk offers instead of free text outside the 24-hour window."""
    number = await session.get(PhoneNumber, phone_number_id)
    if number is None:
        return []
    return [t for t in await list_templates(session, waba_id=number.waba_id, status="APPROVED")
            if unsupported_reason(t) is None]  # e.g. a media header synced from Meta


def unsupported_reason(template: MessageTemplate) -> str | None:
    """Why the desk's sends (text parameters only) cannot fill this template, if they
    cannot: templates synced from Meta may have media headers or named parameters."""
    body = _component(template.components or [], "BODY")
    if body is None or not str(body.get("text") or "").strip():
        return "it has no body text"
    header = _component(template.components, "HEADER")
    if header is not None and str(header.get("format", "TEXT")).upper() != "TEXT":
        return f"its header is {str(header.get('format')).lower()}, and the desk sends text parameters only"
    for comp in (header, body):
        if comp is not None and NAMED_PLACEHOLDER_RE.search(str(comp.get("text") or "")):
            return "it has named parameters, and the desk fills {{1}}, {{2}} ... only"
    return None


def expected_params(template: MessageTemplate) -> dict[str, int]:
    header = _component(template.components, "HEADER")
    body = _component(template.components, "BODY")
    return {"header": len(placeholders(header.get("text") if header else None)),
            "body": len(placeholders(body.get("text") if body else None))}


def _check_param(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(f"{where} must be a non-empty text")
    if "\n" in value or "\t" in value:
        raise TemplateError(f"{where} cannot contain new lines or tabs (Meta refuses them)")
    if "     " in value:
        raise TemplateError(f"{where} cannot have more than 4 consecutive spaces")
    return value


def _fill(text: str, params: Sequence[str]) -> str:
    return PLACEHOLDER_RE.sub(lambda m: params[int(m.group(1)) - 1], text)


def render(template: MessageTemplate, body_params: Sequence[str], header_params: Sequence[str] = ()) -> str:
    """The template's text with its parameters filled in (for the transcript)."""
    parts = []
    header = _component(template.components, "HEADER")
    if header and header.get("text"):
        parts.append(_fill(header["text"], header_params))
    parts.append(_fill(_component(template.components, "BODY")["text"], body_params))
    return "\n".join(parts)


@dataclass(frozen=True)
class PreparedTemplate:
    template: MessageTemplate
    message: dict          # the Cloud API message object, without "to"
    text: str              # rendered, for the transcript


def prepare(template: MessageTemplate | None, *, name: str, language: str,
            body_params: Iterable[str] = (), header_params: Iterable[str] = (),
            quick_reply_payloads: Iterable[str] = ()) -> PreparedTemplate:
    """Check a send against the registry and build the Cloud API message."""
    if template is None:
        raise TemplateError(f"template {name} ({language}) is not registered for this number's WABA")
    if template.status != "APPROVED":
        raise TemplateError(f"template {name} ({language}) is {template.status.lower()}, not approved: "
                            "only approved templates can be sent")
    unsupported = unsupported_reason(template)
    if unsupported:
        raise TemplateError(f"template {name} ({language}) cannot be sent by the desk: {unsupported}")
    body_params, header_params = list(body_params), list(header_params)
    expected = expected_params(template)
    for kind, given in (("header", header_params), ("body", body_params)):
        if len(given) != expected[kind]:
            raise TemplateError(f"template {name} needs {expected[kind]} {kind} parameter(s), got {len(given)}")
        for i, value in enumerate(given, start=1):
            _check_param(value, f"{kind} parameter {{{{{i}}}}}")
    text = render(template, body_params, header_params)
    body_text = _fill(_component(template.components, "BODY")["text"], body_params)
    if len(body_text) > BODY_LIMIT:
        raise TemplateError(f"the filled-in body has {len(body_text)} characters; Meta allows {BODY_LIMIT}")
    payloads = list(quick_reply_payloads)
    buttons = _component(template.components, "BUTTONS")
    n_buttons = len((buttons or {}).get("buttons") or [])
    if len(payloads) > n_buttons:
        raise TemplateError(f"template {name} has {n_buttons} quick-reply button(s), got {len(payloads)} payloads")
    message = template_message("", name, language, body_params, header_params, payloads)
    message.pop("to")
    return PreparedTemplate(template, message, text)


def refuse_marketing_after_opt_out(template, contact) -> None:
    """A user who asked Meta to stop marketing messages (`user_preferences`) gets none."""
    if str(template.category).upper() == "MARKETING" and getattr(contact, "marketing_opt_out_at", None):
        raise TemplateError(f"this customer asked to stop marketing messages on "
                            f"{contact.marketing_opt_out_at:%Y-%m-%d}: {template.name} is a marketing template")


async def send_template(session: AsyncSession, *, phone_number_id: str, wa_id: str, name: str, language: str,
                        body_params: Iterable[str] = (), header_params: Iterable[str] = (),
                        quick_reply_payloads: Iterable[str] = (), sender: Sender = Sender.system,
                        by: str = "template") -> Message:
    """Queue an approved template to a user through the desk's outbox.

    Checks the template and its parameters, then the billing check (outside the
    window the template opens a business-initiated conversation, paid once the free
    tier is used). Raises TemplateError or `outbox.CannotSend` with the reason.
    """
    from desk.services import conversations as chats
    from desk.services import outbox

    number = await session.get(PhoneNumber, phone_number_id)
    if number is None:
        raise TemplateError(f"number {phone_number_id} is not registered in the desk")
    prepared = prepare(await find(session, number.waba_id, name, language), name=name, language=language,
                       body_params=body_params, header_params=header_params,
                       quick_reply_payloads=quick_reply_payloads)
    chat = await chats.current_chat(session, phone_number_id, wa_id)
    await session.refresh(chat, attribute_names=["contact"])  # a new chat has it unloaded
    refuse_for_bsuid_only(prepared.template, chat.contact)
    refuse_marketing_after_opt_out(prepared.template, chat.contact)
    return await outbox.send_template_message(session, chat, prepared.message, prepared.text,
                                              sender=sender, by=by)


def refuse_for_bsuid_only(template: MessageTemplate, contact) -> None:
    """Meta refuses authentication templates (one-tap, zero-tap, copy-code) sent to a
    business-scoped user id with 131062: for a user known only by username, say so
    before anything is recorded or sent."""
    from desk.services.contacts import phone_of

    if contact is not None and (template.category or "").upper() == "AUTHENTICATION" and not phone_of(contact):
        raise TemplateError(f"template {template.name} is an authentication template: WhatsApp sends those only "
                            "to a phone number, and this user is known only by username (131062)")


async def check_message(session: AsyncSession, phone_number_id: str, message: dict,
                        contact=None) -> MessageTemplate:
    """Check a ready-made Cloud API template message (e.g. a bot's `custom` response)
    against the registry: approved, and one text parameter per placeholder."""
    number = await session.get(PhoneNumber, phone_number_id)
    if number is None:
        raise TemplateError(f"number {phone_number_id} is not registered in the desk")
    spec = message.get("template")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise TemplateError("a template message needs template.name")
    language = spec.get("language")
    language = language.get("code") if isinstance(language, dict) else language
    if not isinstance(language, str):
        raise TemplateError("a template message needs template.language.code")
    given: dict[str, list[str]] = {"header": [], "body": []}
    for comp in spec.get("components") or []:
        kind = str((comp or {}).get("type", "")).lower() if isinstance(comp, dict) else ""
        if kind in given:
            for param in comp.get("parameters") or []:
                if not isinstance(param, dict) or param.get("type") != "text":
                    raise TemplateError(f"the desk sends text parameters only ({kind})")
                given[kind].append(param.get("text"))
    prepared = prepare(await find(session, number.waba_id, spec["name"], language), name=spec["name"],
                       language=language, body_params=given["body"], header_params=given["header"])
    refuse_for_bsuid_only(prepared.template, contact)
    return prepared.template


DEMO_TEMPLATES_FILE = Path(__file__).with_name("demo_templates.json")


def demo_templates() -> list[dict]:
    """The demo's templates, registered in the desk (desk/demo.py) and in the simulator
    (SIM_TEMPLATES_FILE, set by launcher/env.py), so both sides agree."""
    return json.loads(DEMO_TEMPLATES_FILE.read_text())
