"""Zoho CRM (leads) and Zoho Desk (tickets), in their REST shapes.

Zoho CRM, Insert Records (same shape in API v2 to v8):
    POST {crm_base}/crm/v2/Leads
    Authorization: Zoho-oauthtoken <access token>
    {"data": [{"Last_Name": ..., "First_Name": ..., "Email": ..., "Company": ...,
               "Phone": ..., "Lead_Source": "WhatsApp", "Description": ...}]}
    201 {"data": [{"code": "SUCCESS", "status": "success", "message": "record added",
                   "details": {"id": "5725767000000524157", ...}}]}
    400 {"data": [{"code": "INVALID_DATA" | "MANDATORY_NOT_FOUND" | "DUPLICATE_DATA", ...}]}
    401 {"code": "INVALID_TOKEN" | "AUTHENTICATION_FAILURE" | "OAUTH_SCOPE_MISMATCH", ...}
Last_Name is the one mandatory field of a lead.

Zoho Desk, Create a ticket:
    POST {desk_base}/api/v1/tickets
    Authorization: Zoho-oauthtoken <access token>;  orgId: <organisation id>
    {"subject" (≤255), "departmentId", "contact": {"lastName", "phone", "email"},
     "description" (≤65535), "channel", "phone"}
    200 {"id": "...", "ticketNumber": "...", ...}
    errors {"errorCode": "INVALID_OAUTH" | "UNPROCESSABLE_ENTITY" | ..., "message": ...}
`contact` creates the contact unless one with that email exists (lastName or email
is required).
"""
from __future__ import annotations

import json

import aiohttp

from desk.integrations.base import Adapter, IntegrationError, post_json
from desk.models import Contact, Lead, Ticket

CRM_API_VERSION = "v2"
LEAD_SOURCE = "WhatsApp"
TICKET_CHANNEL = "WhatsApp"
SUBJECT_MAX = 255
DESCRIPTION_MAX = 65535


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """("Kerry Ann", "Smith") from "Kerry Ann Smith"; (None, "Kerry") from "Kerry"."""
    parts = (name or "").split()
    if not parts:
        return None, None
    if len(parts) == 1:
        return None, parts[0]
    return " ".join(parts[:-1]), parts[-1]


def _phone(contact: Contact, fallback: str | None = None) -> str | None:
    """The contact's phone in E.164; None for a user known only by username (BSUID)."""
    from desk.services.contacts import phone_of

    phone = phone_of(contact)
    return fallback or (f"+{phone}" if phone else None)


def _handle(contact: Contact, fallback: str | None = None) -> str:
    """The phone, else "@username", else the BSUID: how to name a contact in a record."""
    return _phone(contact, fallback) or (f"@{contact.username}" if contact.username else contact.wa_id)


def _source_line(lead: Lead) -> str | None:
    from desk.services.referrals import describe

    return f"Source: {describe(lead.source)}" if lead.source else None


def lead_record(lead: Lead, contact: Contact) -> dict:
    first, last = split_name(lead.name or contact.profile_name)
    record = {
        "Last_Name": (last or f"WhatsApp {_handle(contact, lead.phone)}")[:80],
        "First_Name": first[:40] if first else None,
        "Email": lead.email,
        "Company": lead.company,
        "Phone": _phone(contact, lead.phone),
        "Lead_Source": LEAD_SOURCE,
        # The ad or post the customer came from (Zoho's Lead_Source is a picklist: the detail goes here).
        "Description": "\n".join(x for x in (lead.interest, _source_line(lead)) if x) or None,
    }
    return {k: v for k, v in record.items() if v}


def ticket_body(ticket: Ticket, contact: Contact, department_id: str) -> dict:
    phone = _phone(contact)
    contact_obj = {"lastName": (contact.profile_name or _handle(contact))[:80], "phone": phone}
    return {
        "subject": ticket.subject[:SUBJECT_MAX],
        "departmentId": department_id,
        "description": ticket.description[:DESCRIPTION_MAX],
        "channel": TICKET_CHANNEL,
        "phone": phone,
        "contact": contact_obj,
    }


def _crm_error(status: int, body) -> str | None:
    if not isinstance(body, dict):
        return None
    item = body
    if isinstance(body.get("data"), list) and body["data"] and isinstance(body["data"][0], dict):
        item = body["data"][0]
    code, message = item.get("code"), item.get("message")
    details = item.get("details") if isinstance(item.get("details"), dict) else {}
    field = details.get("api_name")
    if not code and not message:
        return None
    return " ".join(str(p) for p in (code, message, f"(field {field})" if field else None) if p)


def _desk_error(status: int, body) -> str | None:
    if not isinstance(body, dict):
        return None
    code, message = body.get("errorCode"), body.get("message")
    errors = body.get("errors")
    extra = None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        extra = f"({errors[0].get('fieldName')}: {errors[0].get('errorType')})"
    if not code and not message:
        return None
    return " ".join(str(p) for p in (code, message, extra) if p)


class ZohoAdapter(Adapter):
    name = "zoho"

    def __init__(self, http: aiohttp.ClientSession, *, crm_base_url: str, desk_base_url: str,
                 access_token: str, desk_org_id: str, desk_department_id: str,
                 timeout: aiohttp.ClientTimeout) -> None:
        self._http = http
        self._crm = crm_base_url.rstrip("/")
        self._desk = desk_base_url.rstrip("/")
        self._token = access_token
        self._org_id = desk_org_id
        self._department_id = desk_department_id
        self._timeout = timeout

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Zoho-oauthtoken {self._token}"}

    async def push_lead(self, lead: Lead, contact: Contact, *, delivery_id: str | None = None) -> str:
        body = json.dumps({"data": [lead_record(lead, contact)]}).encode()
        _, parsed = await post_json(self._http, f"{self._crm}/crm/{CRM_API_VERSION}/Leads", body=body,
                                    headers=self._auth(), timeout=self._timeout,
                                    describe_error=_crm_error)
        try:
            item = parsed["data"][0]
        except (TypeError, KeyError, IndexError):
            raise IntegrationError(False, f"Zoho CRM answered without data[0]: {str(parsed)[:200]}") from None
        if str(item.get("status", "success")).lower() != "success":  # 2xx with a per-record error
            raise IntegrationError(False, f"Zoho CRM: {_crm_error(200, item) or item}")
        record_id = (item.get("details") or {}).get("id")
        if not record_id:
            raise IntegrationError(False, f"Zoho CRM answered without details.id: {str(item)[:200]}")
        return str(record_id)

    async def push_ticket(self, ticket: Ticket, contact: Contact, *, delivery_id: str | None = None) -> str:
        body = json.dumps(ticket_body(ticket, contact, self._department_id)).encode()
        headers = {**self._auth(), "orgId": self._org_id}
        _, parsed = await post_json(self._http, f"{self._desk}/api/v1/tickets", body=body,
                                    headers=headers, timeout=self._timeout, describe_error=_desk_error)
        ticket_id = parsed.get("id") if isinstance(parsed, dict) else None
        if not ticket_id:
            raise IntegrationError(False, f"Zoho Desk answered without id: {str(parsed)[:200]}")
        return str(ticket_id)
