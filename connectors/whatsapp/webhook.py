"""The webhook's HTTP rules as plain functions; channel.py maps them onto Sanic.

GET: `hub.mode=subscribe` with the right `hub.verify_token` answers `hub.challenge`
as plain text, anything else 403. POST: size, then signature (401 before any
parsing), then shape (400), then a durable record, then 200.
"""
from __future__ import annotations

import hmac
import json
import logging
from typing import Mapping

from connectors.whatsapp import signature
from connectors.whatsapp.payloads import MalformedPayload
from connectors.whatsapp.processor import InboxProcessor

log = logging.getLogger(__name__)


def verify(args: Mapping[str, str], verify_token: str) -> tuple[int, str]:
    challenge = args.get("hub.challenge")
    if (args.get("hub.mode") == "subscribe" and challenge is not None and verify_token
            and hmac.compare_digest(args.get("hub.verify_token") or "", verify_token)):
        return 200, challenge
    return 403, "verification failed"


async def receive(body: bytes, signature_header: str | None, *, app_secret: str,
                  max_body_bytes: int, processor: InboxProcessor) -> tuple[int, dict]:
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
