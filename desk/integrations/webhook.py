"""A generic signed JSON webhook, for any CRM or helpdesk with an HTTP intake.

    POST {INTEGRATION_WEBHOOK_URL}
    Content-Type: application/json
    X-Tsunagi-Signature: sha256=<hex HMAC-SHA256 of the raw body, key INTEGRATION_WEBHOOK_SECRET>
    X-Tsunagi-Delivery: <integration job id>   (the same on every retry: dedupe on it)
    {"event": "lead.created" | "ticket.created", "data": {...}}

Any 2xx is success; the external id is the response's JSON `id` (or `external_id`)
when there is one, else `delivery:<job id>`. Receivers should verify the signature
in constant time over the raw bytes before parsing.
"""
from __future__ import annotations

import hashlib
import hmac
import json

import aiohttp

from desk.integrations.base import Adapter, IntegrationError, post_json
from desk.models import Contact, Lead, Ticket

SIGNATURE_HEADER = "X-Tsunagi-Signature"
DELIVERY_HEADER = "X-Tsunagi-Delivery"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """For receivers (and the tests): constant-time check of X-Tsunagi-Signature."""
    return bool(header) and hmac.compare_digest(sign(secret, body).encode(), header.encode("utf-8", "replace"))


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _contact(contact: Contact) -> dict:
    from desk.services.contacts import bsuid_of, phone_of

    phone = phone_of(contact)
    return {"wa_id": contact.wa_id, "phone": f"+{phone}" if phone else None, "bsuid": bsuid_of(contact),
            "username": contact.username, "profile_name": contact.profile_name}


def lead_event(lead: Lead, contact: Contact) -> dict:
    return {"event": "lead.created", "data": {
        "lead_id": lead.id, "chat_id": lead.chat_id, "phone_number_id": lead.phone_number_id,
        "name": lead.name, "email": lead.email, "company": lead.company, "interest": lead.interest,
        "phone": lead.phone, "consent": bool(lead.consent), "consent_at": _iso(lead.consent_at),
        "source": lead.source, "created_at": _iso(lead.created_at), "contact": _contact(contact)}}


def ticket_event(ticket: Ticket, contact: Contact) -> dict:
    return {"event": "ticket.created", "data": {
        "ticket_id": ticket.id, "chat_id": ticket.chat_id, "subject": ticket.subject,
        "description": ticket.description, "created_by": ticket.created_by,
        "created_at": _iso(ticket.created_at), "contact": _contact(contact)}}


class WebhookAdapter(Adapter):
    name = "webhook"

    def __init__(self, http: aiohttp.ClientSession, *, url: str, secret: str,
                 timeout: aiohttp.ClientTimeout) -> None:
        self._http = http
        self._url = url
        self._secret = secret
        self._timeout = timeout

    async def _post(self, event: dict, delivery_id: str | None) -> str:
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {SIGNATURE_HEADER: sign(self._secret, body)}
        if delivery_id:
            headers[DELIVERY_HEADER] = delivery_id
        _, parsed = await post_json(self._http, self._url, body=body, headers=headers,
                                    timeout=self._timeout)
        if isinstance(parsed, dict):
            external = parsed.get("id") or parsed.get("external_id")
            if external:
                return str(external)
        if not delivery_id:
            raise IntegrationError(False, "the webhook returned no id and the push had no delivery id")
        return f"delivery:{delivery_id}"

    async def push_lead(self, lead: Lead, contact: Contact, *, delivery_id: str | None = None) -> str:
        return await self._post(lead_event(lead, contact), delivery_id)

    async def push_ticket(self, ticket: Ticket, contact: Contact, *, delivery_id: str | None = None) -> str:
        return await self._post(ticket_event(ticket, contact), delivery_id)
