"""Graph API / Cloud API errors, in Meta's envelope.

Reference: "Error codes", WhatsApp Business Platform,
https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
and Graph API "Handling errors",
https://developers.facebook.com/docs/graph-api/guides/error-handling

Envelope (Cloud API errors)::

    {"error": {"message": "(#<code>) <title>", "type": "OAuthException",
               "code": <code>,
               "error_data": {"messaging_product": "whatsapp", "details": "..."},
               "error_subcode": <int, deprecated, only some Graph errors>,
               "fbtrace_id": "..."}}

Graph-level errors (bad token 190, unknown object 100/33) come from the Graph
layer itself and carry no ``error_data``, as Meta's Graph API answers them.

HTTP statuses follow the "HTTP Status Code" column of Meta's table: 400 for
parameter errors (100, 131008, 131009, 132000), 401 for 190, 403 for
permission errors (10, 200), 404 for 132001, 429 for the throttling errors
130429 and 131056 (older copies of the table said 400 for these; the current
one says 429), 500 for 131000, 503 for 2 and 131016.
"""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Any

WHATSAPP_ERRORS_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# code -> (title, http status, default details)
CATALOG: dict[int, tuple[str, int, str]] = {
    0: ("AuthException", 401, "We were unable to authenticate the app user."),
    1: ("API Unknown", 400, "Invalid request or possible server error."),
    2: ("API Service", 503, "Temporary due to downtime or due to being overloaded."),
    3: ("API Method", 500, "Capability or permissions issue."),
    4: ("API Too Many Calls", 400, "The app has reached its API call rate limit."),
    10: ("Permission Denied", 403, "Permission is either not granted or has been removed."),
    100: ("Invalid parameter", 400, "The request included one or more unsupported or misspelled parameters."),
    190: ("Access token has expired", 401, "Your access token has expired."),
    200: ("API Permission", 403, "Permission is either not granted or has been removed."),
    368: ("Temporarily blocked for policies violations", 403,
          "The WhatsApp Business Account associated with the app has been restricted or disabled for violating a platform policy."),
    130429: ("Rate limit hit", 429, "Cloud API message throughput has been reached."),
    131000: ("Something went wrong", 500, "Message failed to send due to an unknown error."),
    131005: ("Access denied", 403, "Permission is either not granted or has been removed."),
    131008: ("Required parameter is missing", 400, "The request is missing a required parameter."),
    131009: ("Parameter value is not valid", 400, "One or more parameter values are invalid."),
    131016: ("Service unavailable", 503, "A service is temporarily unavailable."),
    131021: ("Recipient cannot be sender", 400, "Sender and recipient phone number is the same."),
    131026: ("Message Undeliverable", 400, "Unable to deliver message."),
    131031: ("Account has been locked", 403, "The WhatsApp Business Account associated with the app has been restricted or disabled."),
    131047: ("Re-engagement message", 400,
             "Message failed to send because more than 24 hours have passed since the customer last replied to this number."),
    131049: ("This message was not delivered to maintain healthy ecosystem engagement.", 400,
             "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."),
    131051: ("Unsupported message type", 400, "Unsupported message type."),
    # "Business-scoped user IDs" (2026): sends by BSUID (`recipient`) are refused for
    # messages that need a phone number (one-tap, zero-tap, copy-code authentication).
    131062: ("Business-scoped User ID (BSUID) recipients are not supported for this message.", 400,
             "Business-scoped User ID (BSUID) recipients are not supported for this message."),
    131052: ("Media download error", 400, "Unable to download the media sent by the user."),
    131053: ("Media upload error", 400, "Unable to upload the media used in the message."),
    131056: ("(Business Account, Consumer Account) pair rate limit hit", 429,
             "Too many messages sent from the sender phone number to the same recipient phone number in a short period of time."),
    132000: ("Number of parameters does not match the expected number of params", 400,
             "The number of variable parameter values included in the request did not match the number of variable parameters defined in the template."),
    132001: ("Template name does not exist in the translation", 404,
             "The template does not exist in the specified language or the template has not been approved."),
    132005: ("Translated text too long", 400, "Translated text is too long."),
    132012: ("Parameter format does not match format in the created template", 400,
             "Variable parameter values formatted incorrectly."),
    132015: ("Template is Paused", 400, "Template is paused due to low quality so it cannot be sent in a template message."),
    132016: ("Template is Disabled", 400, "Template has been paused too many times due to low quality and is now permanently disabled."),
    133010: ("Phone number Not Registered", 400, "The phone number is not registered on the WhatsApp Business Platform."),
}


def fbtrace_id() -> str:
    alphabet = string.ascii_letters + string.digits + "_-"
    return "".join(secrets.choice(alphabet) for _ in range(23))


@dataclass
class GraphError(Exception):
    """An error answered synchronously by the Graph API."""

    code: int
    details: str | None = None
    http_status: int | None = None
    message: str | None = None
    type: str = "OAuthException"
    error_subcode: int | None = None
    with_error_data: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        Exception.__init__(self, self.code, self.details)

    @property
    def title(self) -> str:
        return CATALOG.get(self.code, ("Unknown error", 400, ""))[0]

    @property
    def status(self) -> int:
        if self.http_status is not None:
            return self.http_status
        return CATALOG.get(self.code, ("", 400, ""))[1]

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {
            "message": self.message or f"(#{self.code}) {self.title}",
            "type": self.type,
            "code": self.code,
        }
        if self.with_error_data:
            err["error_data"] = {
                "messaging_product": "whatsapp",
                "details": self.details or CATALOG.get(self.code, ("", 0, ""))[2],
            }
        if self.error_subcode is not None:
            err["error_subcode"] = self.error_subcode
        err.update(self.extra)
        err["fbtrace_id"] = fbtrace_id()
        return {"error": err}


# --- constructors for the Graph-level errors --------------------------------

def invalid_token(reason: str = "Invalid OAuth access token - Cannot parse access token") -> GraphError:
    """190 from Graph's auth layer (missing, unknown or malformed token)."""
    return GraphError(190, message=reason, with_error_data=False)


def expired_token() -> GraphError:
    """190 / subcode 463: the token's session has expired (Graph error handling guide)."""
    return GraphError(
        190,
        message="Error validating access token: Session has expired. The current time is later than the token's expiry.",
        error_subcode=463,
        with_error_data=False,
    )


def unknown_object(object_id: str, method: str = "post") -> GraphError:
    """100 / subcode 33: the node does not exist or the token cannot see it."""
    return GraphError(
        100,
        message=(
            f"Unsupported {method} request. Object with ID '{object_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation. "
            "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        ),
        type="GraphMethodException",
        error_subcode=33,
        with_error_data=False,
    )


def deprecated_version(version: str) -> GraphError:
    return GraphError(
        2635,
        message=f"(#2635) You are calling a deprecated or unsupported version of the Graph API ({version}).",
        http_status=400,
        with_error_data=False,
    )


def unknown_path(path: str) -> GraphError:
    return GraphError(
        2500,
        message=f"Unknown path components: {path}",
        http_status=400,
        with_error_data=False,
    )


def status_error(code: int, details: str | None = None) -> dict[str, Any]:
    """The ``errors[]`` item of a ``failed`` status webhook (Status messages
    webhook reference: code, title, message, error_data.details, href)."""
    title = CATALOG.get(code, ("Unknown error", 400, ""))[0]
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or CATALOG.get(code, ("", 0, ""))[2]},
        "href": WHATSAPP_ERRORS_HREF,
    }
