"""Message templates: the per-WABA registry and the checks on template sends.

References:
- "Templates" overview and categories (MARKETING, UTILITY, AUTHENTICATION),
  https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/overview
- "Message template" node, ``GET/POST /<WABA_ID>/message_templates``:
  fields ``id, name, language, status, category, components``;
  creation answers ``{"id", "status", "category"}``.
- ``message_template_status_update`` webhook reference: ``entry[].id`` is the
  WABA, ``changes[].value`` holds ``event`` (APPROVED, REJECTED, PAUSED,
  DISABLED, ...), ``message_template_id`` (an integer), ``message_template_name``,
  ``message_template_language``, ``reason`` ("NONE" when approved; e.g.
  INVALID_FORMAT when rejected), ``message_template_category``, and
  ``disable_info`` / ``other_info`` for disabled / paused templates.
  https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_status_update
- Error codes: 132001 "Template name does not exist in the translation"
  (the template does not exist in that language **or has not been
  approved**), 132000 "Number of parameters does not match the expected
  number of params", 132015 "Template is Paused", 132016 "Template is
  Disabled".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import GraphError

CATEGORIES = {"MARKETING", "UTILITY", "AUTHENTICATION"}
STATUSES = {"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL"}
DEFAULT_FIELDS = ("id", "name", "language", "status", "category", "components")
ALL_FIELDS = DEFAULT_FIELDS + ("rejected_reason",)
NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
PLACEHOLDER_RE = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def placeholders(text: str | None) -> list[int]:
    """The distinct ``{{n}}`` placeholders of a text, sorted."""
    return sorted({int(m) for m in PLACEHOLDER_RE.findall(text or "")})


@dataclass
class Template:
    id: str
    waba_id: str
    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]] = field(default_factory=list)
    rejected_reason: str = "NONE"

    def component(self, ctype: str) -> dict[str, Any] | None:
        for comp in self.components:
            if str(comp.get("type", "")).upper() == ctype:
                return comp
        return None

    @property
    def body_text(self) -> str:
        comp = self.component("BODY")
        return str(comp.get("text", "")) if comp else ""

    @property
    def header_text(self) -> str | None:
        comp = self.component("HEADER")
        if comp and str(comp.get("format", "TEXT")).upper() == "TEXT":
            return str(comp.get("text", ""))
        return None

    def expected_params(self) -> dict[str, int]:
        """Parameters a send must give per component: one per ``{{n}}``, and
        exactly one (the media) for an IMAGE / VIDEO / DOCUMENT header."""
        header = self.component("HEADER")
        media_header = header is not None and str(header.get("format", "TEXT")).upper() in (
            "IMAGE", "VIDEO", "DOCUMENT")
        return {
            "body": len(placeholders(self.body_text)),
            "header": 1 if media_header else len(placeholders(self.header_text)),
        }

    def public(self, fields: tuple[str, ...] = ALL_FIELDS) -> dict[str, Any]:
        """The template node; the Graph API returns ``DEFAULT_FIELDS`` unless
        ``fields=`` asks for others (``id`` always comes)."""
        full = {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "components": self.components,
            "rejected_reason": self.rejected_reason,
        }
        return {k: v for k, v in full.items() if k == "id" or k in fields}

    def status_update(self, now: float) -> dict[str, Any]:
        """The ``message_template_status_update`` webhook for this template's status."""
        value: dict[str, Any] = {
            "event": self.status,
            "message_template_id": int(self.id),
            "message_template_name": self.name,
            "message_template_language": self.language,
            "reason": self.rejected_reason if self.status == "REJECTED" else "NONE",
            "message_template_category": self.category,
        }
        if self.status == "DISABLED":
            value["disable_info"] = {"disable_date": int(now)}
        if self.status == "PAUSED":
            value["other_info"] = {"title": "FIRST_PAUSE",
                                   "description": "Your WhatsApp message template has been paused because "
                                                  "of low quality."}
        return {"object": "whatsapp_business_account", "entry": [{
            "id": self.waba_id, "time": int(now),
            "changes": [{"value": value, "field": "message_template_status_update"}]}]}


def components_from_control(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Accept either Meta's ``components`` list or the short control form
    ``{"body": "Hi {{1}}", "header": "...", "footer": "...",
    "buttons": ["Yes", "No"]}`` (quick-reply buttons)."""
    if isinstance(body.get("components"), list):
        return body["components"]
    comps: list[dict[str, Any]] = []
    if body.get("header"):
        comps.append({"type": "HEADER", "format": "TEXT", "text": str(body["header"])})
    comps.append({"type": "BODY", "text": str(body.get("body", ""))})
    if body.get("footer"):
        comps.append({"type": "FOOTER", "text": str(body["footer"])})
    if body.get("buttons"):
        comps.append({
            "type": "BUTTONS",
            "buttons": [{"type": "QUICK_REPLY", "text": str(b)} for b in body["buttons"]],
        })
    return comps


def validate_definition(name: Any, language: Any, category: Any, components: Any) -> None:
    """Checks Meta applies when a template is created (subset)."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise GraphError(100, "Template name must be at most 512 characters of lowercase letters, digits and underscores.")
    if not isinstance(language, str) or not language:
        raise GraphError(100, "The parameter language is required.")
    if str(category).upper() not in CATEGORIES:
        raise GraphError(100, "Param category must be one of {AUTHENTICATION, MARKETING, UTILITY}.")
    if not isinstance(components, list) or not any(
        isinstance(c, dict) and str(c.get("type", "")).upper() == "BODY" for c in components
    ):
        raise GraphError(100, "A template needs a BODY component.")


def _param_text(param: dict[str, Any]) -> str:
    ptype = param.get("type")
    if ptype == "text":
        return str(param.get("text", ""))
    if ptype == "currency":
        return str(param.get("currency", {}).get("fallback_value", ""))
    if ptype == "date_time":
        return str(param.get("date_time", {}).get("fallback_value", ""))
    return f"[{ptype}]"


def check_send(template: Template | None, request: dict[str, Any], name: str, lang: str) -> dict[str, Any]:
    """Validate a template send against the registry; return the rendered text.

    Raises 132001 when the template is unknown in that language or not
    approved, 132015/132016 when paused/disabled, 132000 on a parameter count
    mismatch (per component, as Meta's details say:
    ``body: number of localizable_params (0) does not match the expected number of params (1)``).
    """
    if template is None:
        raise GraphError(132001, f"template name ({name}) does not exist in {lang}")
    if template.status == "PAUSED":
        raise GraphError(132015, f"Template {name} is paused.")
    if template.status == "DISABLED":
        raise GraphError(132016, f"Template {name} is disabled.")
    if template.status != "APPROVED":
        raise GraphError(132001, f"template name ({name}) does not exist in {lang} (status {template.status})")

    given: dict[str, list[dict[str, Any]]] = {"body": [], "header": []}
    for comp in request.get("components") or []:
        if not isinstance(comp, dict):
            raise GraphError(100, "Each template component must be an object.")
        ctype = str(comp.get("type", "")).lower()
        params = comp.get("parameters") or []
        if not isinstance(params, list):
            raise GraphError(100, f"Param template['components'][{ctype}]['parameters'] must be an array.")
        if ctype in given:
            given[ctype].extend(p for p in params if isinstance(p, dict))
    expected = template.expected_params()
    for ctype in ("header", "body"):
        if len(given[ctype]) != expected[ctype]:
            raise GraphError(
                132000,
                f"{ctype}: number of localizable_params ({len(given[ctype])}) does not match "
                f"the expected number of params ({expected[ctype]})",
            )

    def render(text: str | None, params: list[dict[str, Any]]) -> str | None:
        if text is None:
            return None
        values = [_param_text(p) for p in params]
        return PLACEHOLDER_RE.sub(
            lambda m: values[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(values) else m.group(0),
            text,
        )

    # Quick-reply payloads come with the send (button component, sub_type
    # quick_reply, index, parameters[0].payload); the user's tap echoes them.
    payloads: dict[int, str] = {}
    for comp in request.get("components") or []:
        if str(comp.get("type", "")).lower() == "button" and comp.get("sub_type") == "quick_reply":
            params = [p for p in comp.get("parameters") or [] if isinstance(p, dict)]
            try:
                index = int(comp.get("index", 0))
            except (TypeError, ValueError):
                raise GraphError(100, "Param template['components'][button]['index'] must be an integer.") from None
            if params and params[0].get("payload") is not None:
                payloads[index] = str(params[0]["payload"])

    footer = template.component("FOOTER")
    buttons = template.component("BUTTONS")
    return {
        "header": render(template.header_text, given["header"]),
        "body": render(template.body_text, given["body"]),
        "footer": footer.get("text") if footer else None,
        "buttons": [
            {"type": b.get("type"), "text": b.get("text"),
             "payload": payloads.get(i, b.get("text"))}
            for i, b in enumerate((buttons or {}).get("buttons", []))
        ],
        "category": template.category,
    }


HELLO_WORLD = {
    "name": "hello_world",
    "language": "en_US",
    "category": "UTILITY",
    "status": "APPROVED",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
        {
            "type": "BODY",
            "text": "Welcome and congratulations!! This message demonstrates your ability to send a "
                    "WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for "
                    "taking the time to test with us.",
        },
        {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
    ],
}
