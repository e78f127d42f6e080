"""What a failed send means, for people: Meta's error codes as a plain sentence and a next step.

A message that did not reach the customer keeps Meta's own words in `messages.error`
("131047: Re-engagement message", "Graph API error 131026 [HTTP 400]: ..."); the
console shows `explain(error)` instead: what happened, what to do, and which button
fits (`action`: "template" when only an approved template can go now, "retry" when
the same message may well go through later, None when sending it again would fail
the same way). The retry itself is desk.services.outbox.retry_failed.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

TEMPLATE, RETRY = "template", "retry"


@dataclass(frozen=True)
class SendFailure:
    code: int | None
    text: str        # what happened, in a sentence
    next_step: str   # what the operator can do
    action: str | None  # "template" | "retry" | None

    def as_dict(self) -> dict:
        return asdict(self)


_WINDOW = ("The customer's 24-hour window has closed, so WhatsApp did not deliver this message.",
           "Send an approved template instead; free text goes again once the customer replies.", TEMPLATE)
_RATE = ("WhatsApp is limiting how fast this number may send right now, so the message was not delivered.",
         "Wait a minute, then retry.", RETRY)
_TEMPORARY = ("WhatsApp had a temporary problem and did not deliver this message.", "Retry in a moment.", RETRY)
_AUTH = ("WhatsApp refused this number's access token, so nothing can be sent from it.",
         "An admin must reconnect the number (Admin › Numbers), then retry.", RETRY)

MEANINGS: dict[int, tuple[str, str, str | None]] = {
    131047: _WINDOW,
    470: _WINDOW,  # the older code of the same rule
    131026: ("WhatsApp could not deliver this message to the customer's phone (the number may not use "
             "WhatsApp, or their app is out of date or has not accepted WhatsApp's terms).",
             "Retry later, or reach the customer another way.", RETRY),
    130429: _RATE,
    131056: ("Too many messages went to this customer in a short time, so WhatsApp held this one back.",
             "Wait a minute, then retry.", RETRY),
    131048: ("WhatsApp is limiting this number because many of its messages were reported or blocked.",
             "Wait before sending again; retry later.", RETRY),
    131049: ("WhatsApp chose not to deliver this message, to keep the customer's experience healthy "
             "(a limit on marketing messages per user).", "Retry later, e.g. tomorrow.", RETRY),
    131050: ("The customer has stopped marketing messages from this business.",
             "Do not send marketing templates to them; answer only when they write.", None),
    131051: ("WhatsApp does not support this type of message.",
             "Send it as text or as a supported attachment instead.", None),
    131052: ("WhatsApp could not download the attachment of this message.", "Retry, or send the file again.",
             RETRY),
    131053: ("WhatsApp could not process the attachment (an unsupported or broken file).",
             "Send another file, in a supported type.", None),
    131021: ("The message was addressed to the business's own number.", "Nothing to retry.", None),
    131031: ("This number's WhatsApp Business Account is locked by Meta.",
             "An admin must resolve it in Meta's Business Manager.", None),
    131042: ("WhatsApp refused the message because of a payment problem on the business account.",
             "An admin must fix the payment method in Meta's Business Manager, then retry.", RETRY),
    132000: ("The template was sent with the wrong number of parameters.",
             "Send the template again with every placeholder filled in.", TEMPLATE),
    132001: ("WhatsApp does not know this template (or not in this language).",
             "Choose another approved template.", TEMPLATE),
    132015: ("This template is paused by Meta (its quality dropped).", "Choose another approved template.",
             TEMPLATE),
    132016: ("This template is disabled by Meta.", "Choose another approved template.", TEMPLATE),
    368: ("Meta restricted this number for a policy violation.",
          "An admin must check the account's status in Meta's Business Manager.", None),
    131000: _TEMPORARY,
    1: _TEMPORARY,
    2: _TEMPORARY,
    4: _RATE,
    80007: _RATE,
    190: _AUTH,
    10: _AUTH,
}

# Where a code sits in the texts the desk keeps: "131047: Re-engagement message" (a
# status webhook), "Graph API error 131026 [HTTP 400]: ..." (a refused send), or "...
# only an approved template can be sent (131047)" (the outbox's own words).
_CODE_AT = (re.compile(r"Graph API error (\d+)"), re.compile(r"^\s*(\d+)\s*:"), re.compile(r"\((\d+)\)"),
            re.compile(r"(?:^|;\s*)(\d+)\s*:"))


def code_of(error: str | None) -> int | None:
    """Meta's error code in a stored error text, if there is one the desk knows."""
    if not error:
        return None
    for pattern in _CODE_AT:
        for found in pattern.finditer(error):
            code = int(found.group(1))
            if code in MEANINGS or 200 <= code <= 299:
                return code
    return None


def explain(error: str | None) -> SendFailure | None:
    """The plain-words failure of a stored error (None when there is no error)."""
    if not error:
        return None
    code = code_of(error)
    if code is not None and 200 <= code <= 299 and code not in MEANINGS:
        text, step, action = _AUTH
    elif code is not None:
        text, step, action = MEANINGS[code]
    elif "24-hour window" in error:
        text, step, action = _WINDOW
    elif "media store" in error or "attachment's file" in error:
        text, step, action = ("The attachment's file is no longer on the desk, so it could not be sent.",
                              "Attach the file again.", None)
    else:
        text, step, action = ("WhatsApp did not deliver this message.", "Retry; if it fails again, "
                              "tell an admin what the details say.", RETRY)
    return SendFailure(code, text, step, action)
