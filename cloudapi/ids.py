"""One conversation per (business number, WhatsApp user): its id, and back.

A user is known by phone number and/or business-scoped user id (BSUID, e.g.
`US.13491208655302741918`: a country code, a dot, up to 128 letters and digits; a
parent BSUID has `ENT.` after the country). The desk keys each contact by the
identity it was first known by (desk.models.Contact.wa_id); the conversation id is
made of that key, so it stays the same when the other identity becomes known or the
user changes number.
"""
from __future__ import annotations

import re

_BSUID = re.compile(r"^[A-Z]{2}\.[0-9A-Za-z.]{1,140}$")


def is_bsuid(identity: str | None) -> bool:
    """A BSUID (or parent BSUID), as opposed to a phone number (digits only)."""
    return bool(identity) and bool(_BSUID.match(identity))


def bsuid_country(identity: str) -> str | None:
    """The ISO country code a BSUID starts with."""
    return identity[:2] if is_bsuid(identity) else None


def conversation_id(phone_number_id: str, wa_id: str) -> str:
    """Rasa's sender id: a user talking to two of our numbers has two conversations.
    `wa_id` is the contact's key (its first-known identity: a phone or a BSUID)."""
    return f"{phone_number_id}_{wa_id}"


def split_conversation_id(sender_id: str) -> tuple[str, str]:
    phone_number_id, _, wa_id = sender_id.partition("_")
    if not wa_id:
        raise ValueError(f"not a whatsapp conversation id: {sender_id!r}")
    return phone_number_id, wa_id
