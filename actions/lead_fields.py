"""Plain-Python parsing and validation of what a user types into the lead form.

No Rasa here: actions/leads.py calls these, and tests/bot/test_lead_fields.py tests
them directly. Every `clean_*` returns the normalised value or None when invalid.
"""
from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass

import phonenumbers

NO_COMPANY = "none"  # the company slot's value for private customers
INTEREST_CHOICES = ("Bulk order", "Corporate gifts", "Business account")

# Words that are never a name or a company on their own: chat noise, yes/no, stop.
_CHAT_WORDS = {
    "yes", "yeah", "yep", "no", "nope", "ok", "okay", "sure", "hi", "hello", "hey",
    "thanks", "thank", "you", "bye", "goodbye", "stop", "cancel", "help", "what",
    "why", "how", "hmm", "idk", "dunno", "?", "test",
}
# Words that turn a message into a sentence rather than a name.
_SENTENCE_WORDS = {
    "i", "i'd", "i'm", "me", "my", "we", "our", "you", "your", "want", "would", "like",
    "need", "please", "quote", "order", "how", "what", "when", "where", "why", "is",
    "are", "can", "do", "does", "the", "a", "an", "to", "for", "of", "with", "not",
    "don't", "dont",
}
_QUESTION_STARTERS = {
    "what", "what's", "whats", "when", "where", "why", "how", "who", "which", "do",
    "does", "did", "can", "could", "will", "would", "should", "is", "are", "am", "was",
    "were", "have", "has", "may", "shall", "any",
}
_NAME_PREFIX = re.compile(r"^(?:(?:my|full)\s+name\s+is|name\s*[:=]|i\s*'?\s*a?m|it\s*'?\s*s|"
                          r"this\s+is|call\s+me|you\s+can\s+call\s+me)\s+", re.I)
_COMPANY_PREFIX = re.compile(
    r"^(?:(?:my|our|the)\s+company(?:\s+name)?\s+is|company\s*[:=]|i\s+work\s+(?:at|for)|"
    r"we\s*'?\s*re|we\s+are|it\s*'?\s*s|from)\s+", re.I)
_NO_COMPANY = re.compile(r"^(?:none|no|n/?a|-+|nothing|no company|not a company|private|"
                         r"just me|myself|it'?s (?:just )?for me|personal|individual)$", re.I)
_NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[\s'’.\-][^\W\d_]*)*$")
_EMAIL_IN_TEXT = re.compile(r"[^\s<>(),;:\"]+@[^\s<>(),;:\"]+")
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")

# "actually my email is …", "sorry, the company name should be …", "change my phone to …"
_FIELD_WORDS = {
    "name": "lead_name", "full name": "lead_name",
    "email": "lead_email", "e-mail": "lead_email", "email address": "lead_email",
    "e-mail address": "lead_email", "mail": "lead_email",
    "company": "lead_company", "company name": "lead_company", "business": "lead_company",
    "phone": "lead_phone", "phone number": "lead_phone", "number": "lead_phone",
    "mobile": "lead_phone", "mobile number": "lead_phone",
    "interest": "lead_interest",
}
_FIELD = "|".join(sorted((re.escape(w) for w in _FIELD_WORDS), key=len, reverse=True))
_CORRECTION = re.compile(
    rf"^(?:(?:no|oh|oops|sorry|wait|actually|correction|hang on)\b[\s,.:!-]*)*"
    rf"(?:(?:my|the|our)\s+(?P<f1>{_FIELD})\s+(?:is|was|should\s+be|=|:)|"
    rf"(?P<f2>{_FIELD})\s*[:=]|"
    rf"(?:change|update|set|correct)\s+(?:my|the|our)\s+(?P<f3>{_FIELD})\s+to)"
    rf"\s*(?P<value>.+?)\s*[.!]*$", re.I)


@dataclass(frozen=True)
class Correction:
    slot: str
    value: str


def parse_correction(text: str) -> Correction | None:
    """`actually my email is x@y.com` → Correction("lead_email", "x@y.com")."""
    match = _CORRECTION.match((text or "").strip())
    if not match:
        return None
    field = (match["f1"] or match["f2"] or match["f3"]).lower()
    field = " ".join(field.split())
    return Correction(_FIELD_WORDS[field], match["value"].strip())


def is_question(text: str) -> bool:
    """Does the message read like a question (and so not like a form answer)?"""
    text = (text or "").strip().lower()
    if not text:
        return False
    if text.endswith("?"):
        return True
    first = re.split(r"[\s,]+", text, maxsplit=1)[0]
    return first in _QUESTION_STARTERS


def _tidy(text: str) -> str:
    return " ".join((text or "").split()).strip(" .,!;:\"'")


def clean_name(text: str) -> str | None:
    """A person's name as typed, without "my name is"; None if it isn't one."""
    name = _tidy(_NAME_PREFIX.sub("", _tidy(text)))
    words = name.lower().split()
    if not words or len(name) > 80 or len(words) > 5:
        return None
    if not _NAME_CHARS.match(name):
        return None
    if all(w in _CHAT_WORDS for w in words) or any(w in _SENTENCE_WORDS for w in words):
        return None
    return name


def clean_company(text: str) -> str | None:
    """The company name, NO_COMPANY for private customers; None if unusable."""
    company = _tidy(_COMPANY_PREFIX.sub("", _tidy(text)))
    if _NO_COMPANY.match(company):
        return NO_COMPANY
    words = company.lower().split()
    if not words or len(company) > 120 or "@" in company:
        return None
    if all(w in _CHAT_WORDS for w in words):
        return None
    return company


def clean_interest(text: str) -> str | None:
    """What the lead wants, a few words to a paragraph."""
    interest = _tidy(text)
    for choice in INTEREST_CHOICES:
        if interest.lower() == choice.lower():
            return choice
    words = interest.lower().split()
    if len(interest) < 3 or len(interest) > 500 or all(w in _CHAT_WORDS for w in words):
        return None
    return interest


def clean_email(text: str) -> str | None:
    """The first well-formed address in `text` (domain lower-cased), else None.

    `email.utils.parseaddr` handles "Kerry <kerry@acme.com>"; the checks after it
    are what a mail server would refuse: an empty or dotted-wrong local part, a
    domain without a dot, labels with bad characters, a numeric top-level domain.
    """
    text = (text or "").strip()
    candidates = _EMAIL_IN_TEXT.findall(text) or [text]
    for candidate in candidates:
        _, address = email.utils.parseaddr(candidate.strip("'").rstrip(".,;:!?'"))
        address = address.strip().rstrip(".")
        if address.count("@") != 1:
            continue
        local, domain = address.split("@")
        domain = domain.lower()
        if not local or len(local) > 64 or not _LOCAL_PART.match(local):
            continue
        labels = domain.split(".")
        if len(domain) > 253 or len(labels) < 2:
            continue
        if not all(_DOMAIN_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
            continue
        return f"{local}@{domain}"
    return None


def region_of(wa_id: str | None, default: str = "GB") -> str:
    """The region of a WhatsApp number, to read numbers typed without a country code."""
    if wa_id:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + wa_id.lstrip("+")))
            if region and region != "ZZ":
                return region
        except phonenumbers.NumberParseException:
            pass
    return default


def clean_phone(text: str, region: str = "GB") -> str | None:
    """A valid phone number in E.164 (+447700900123), read in `region` if it has no +."""
    raw = (text or "").strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def whatsapp_phone(wa_id: str | None) -> str | None:
    """The user's WhatsApp number in E.164 (wa_id is the number without '+')."""
    if not wa_id or not str(wa_id).isdigit():
        return None
    return clean_phone("+" + str(wa_id)) or f"+{wa_id}"
