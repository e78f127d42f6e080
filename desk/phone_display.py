"""Phone numbers for people: one format everywhere the desk shows one (issue 11).

WhatsApp ids (`447700900123`), business numbers as stored (`+15550000001`,
`15550000001`, `+1 555 0100`) all come out in the international format of the
`phonenumbers` library (`+44 7700 900123`, `+1 555-000-0001`), so a console page
never shows "15550000001" next to "+15550000002".
"""
from __future__ import annotations

import re

import phonenumbers


def phone_display(value: str | None) -> str:
    """`+44 7700 900123` from a WhatsApp id or a number in any common spelling; an id no
    country can be read from is shown as `+<digits>`; nothing as ``""``."""
    digits = re.sub(r"\D", "", str(value or ""))
    if not digits:
        return str(value or "").strip()
    try:
        return phonenumbers.format_number(phonenumbers.parse("+" + digits),
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return "+" + digits
