"""The adapter interface and the HTTP plumbing the adapters share.

An adapter pushes a lead or a ticket to one external system and returns the id
that system gave it. Failures raise `IntegrationError`, saying whether trying
again later can help: network errors, timeouts, 408, 429 and 5xx can; any other
4xx (bad data, bad token, no permission) cannot until a person fixes something.
"""
from __future__ import annotations

import abc
import asyncio
import json
from typing import Any

import aiohttp

from desk.models import Contact, Lead, Ticket

RETRYABLE_STATUSES = frozenset({408, 429})
MAX_ERROR_TEXT = 500


class IntegrationError(Exception):
    """A failed push. `retryable` says whether the same request may succeed later."""

    def __init__(self, retryable: bool, message: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.message = message
        self.status = status
        self.retry_after = retry_after  # seconds, from a Retry-After header

    def __repr__(self) -> str:
        return f"IntegrationError(retryable={self.retryable}, {self.message!r})"


class Adapter(abc.ABC):
    """One CRM / helpdesk. `delivery_id` is stable across retries of one job
    (adapters that support idempotency keys pass it on)."""

    name: str

    @abc.abstractmethod
    async def push_lead(self, lead: Lead, contact: Contact, *, delivery_id: str | None = None) -> str:
        """Create the lead; return its external id."""

    @abc.abstractmethod
    async def push_ticket(self, ticket: Ticket, contact: Contact, *, delivery_id: str | None = None) -> str:
        """Create the ticket; return its external id."""


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare; the exponential backoff applies


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_TEXT else text[:MAX_ERROR_TEXT] + "…"


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


async def post_json(http: aiohttp.ClientSession, url: str, *, body: bytes, headers: dict[str, str],
                    timeout: aiohttp.ClientTimeout, describe_error=None) -> tuple[int, Any]:
    """POST raw JSON bytes; return (status, parsed body) for a 2xx, raise IntegrationError otherwise.

    `describe_error(status, parsed_body)` turns a service's error body into a short
    text (its error code and message).
    """
    headers = {"Content-Type": "application/json", "Accept": "application/json", **headers}
    try:
        async with http.post(url, data=body, headers=headers, timeout=timeout,
                             allow_redirects=False) as resp:
            raw = await resp.read()
            status = resp.status
            retry_after = _retry_after(resp.headers)
    except asyncio.TimeoutError:
        raise IntegrationError(True, f"timed out after {timeout.total}s: POST {url}") from None
    except aiohttp.ClientError as exc:
        raise IntegrationError(True, f"{type(exc).__name__}: {exc}") from None
    try:
        parsed = json.loads(raw) if raw.strip() else None
    except ValueError:
        parsed = None
    if 200 <= status < 300:
        return status, parsed
    detail = describe_error(status, parsed) if describe_error and parsed is not None else None
    if not detail:
        detail = _short(raw.decode("utf-8", "replace")) or "no body"
    raise IntegrationError(is_retryable_status(status), f"HTTP {status}: {detail}", status=status,
                           retry_after=retry_after)
