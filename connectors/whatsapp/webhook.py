"""The webhook's HTTP rules as plain functions; channel.py maps them onto Sanic.

GET: `hub.mode=subscribe` with the right `hub.verify_token` answers `hub.challenge`
as plain text, anything else 403. POST: size, then signature (401 before any
parsing), then shape (400), then a durable record, then 200.
"""
from __future__ import annotations

import hmac
import json
import logging
from typing import Mapping, Protocol

from cloudapi import signature
from cloudapi.payloads import MalformedPayload
from connectors.whatsapp.processor import Lane

log = logging.getLogger(__name__)


class Intake(Protocol):
    """Records a body (the 200 waits for it) and schedules the processing of its lanes."""

    async def accept(self, body: object) -> list[Lane]: ...

    def kick(self, phone_number_id: str, wa_id: str, kind: str = "message") -> None: ...


def verify(args: Mapping[str, str], verify_token: str) -> tuple[int, str]:
    challenge = args.get("hub.challenge")
    if (args.get("hub.mode") == "subscribe" and challenge is not None and verify_token
            and hmac.compare_digest((args.get("hub.verify_token") or "").encode("utf-8", "replace"),
                                    verify_token.encode("utf-8", "replace"))):  # bytes: any text compares
        return 200, challenge
    return 403, "verification failed"


async def read_limited(content_length: str | None, read_chunk, max_body_bytes: int) -> bytes | None:
    """The body, read chunk by chunk; None as soon as it (or its declared length) is too big."""
    if content_length and content_length.strip().isdigit() and int(content_length) > max_body_bytes:
        log.warning("whatsapp: refused a webhook declaring %s bytes", content_length.strip())
        return None
    body = bytearray()
    while (chunk := await read_chunk()) is not None:
        body += chunk
        if len(body) > max_body_bytes:
            log.warning("whatsapp: refused a webhook body over %d bytes", max_body_bytes)
            return None
    return bytes(body)


async def receive(body: bytes, signature_header: str | None, *, app_secret: str,
                  max_body_bytes: int, processor: Intake) -> tuple[int, dict]:
    """Check, record and schedule one webhook POST; returns (HTTP status, JSON body)."""
    if len(body) > max_body_bytes:
        log.warning("whatsapp: refused a %d-byte webhook body", len(body))
        return 413, {"error": "payload too large"}
    if not signature.is_valid(body, signature_header, app_secret):
        log.warning("whatsapp: refused a webhook with a missing or wrong signature")
        return 401, {"error": "invalid signature"}
    try:
        lanes = await processor.accept(json.loads(body))
    except (ValueError, MalformedPayload) as exc:  # JSONDecodeError is a ValueError
        log.warning("whatsapp: refused a malformed webhook: %s", exc)
        return 400, {"error": f"malformed payload: {exc}"}
    for lane in lanes:
        processor.kick(*lane)
    return 200, {"status": "received"}
