"""Webhook payloads, signatures and delivery with retries.

References:
- Webhooks overview / "Event notifications": payloads are POSTed as JSON
  with ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the payload with the app
  secret>``; the receiver must answer 200, otherwise Meta retries with
  decreasing frequency for up to 7 days, so duplicates happen.
  https://developers.facebook.com/docs/graph-api/webhooks/getting-started
- Messages webhook envelope (``object: whatsapp_business_account``,
  ``entry[].id`` = WABA id, ``changes[].field: messages``,
  ``value.metadata.{display_phone_number, phone_number_id}``), and the
  "Messages" / "Status messages" webhook references for ``value.contacts``,
  ``value.messages`` and ``value.statuses``.
  https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages

Meta signs the escaped-unicode JSON it sends (non-ASCII as ``\\uXXXX``); the
simulator serialises compactly with ``ensure_ascii=True`` and signs exactly the
bytes it sends, so a receiver must verify the raw body, never a re-encoding.
Retries here are bounded (``webhook_max_attempts``) with exponential backoff
from ``webhook_retry_base_ms`` capped at ``webhook_retry_max_ms``, and every
attempt is recorded in the delivery log (``GET /_sim/webhooks``).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any, Callable, Coroutine

import aiohttp

from .state import Delivery, Number, Settings, State


def envelope(number: Number, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": number.waba_id,
            "changes": [{
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": number.display_phone_number,
                        "phone_number_id": number.phone_number_id,
                    },
                    **value,
                },
                "field": "messages",
            }],
        }],
    }


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def sign_sha1(secret: str, raw: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest()


class Dispatcher:
    """POSTs signed webhooks to the configured URL, retrying failures."""

    def __init__(self, state: State, secret: str, timeout_s: float,
                 now: Callable[[], float]) -> None:
        self.state = state
        self.secret = secret
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(timeout_s, 5.0))
        self.now = now
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle ---------------------------------------------------------
    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def cancel_all(self) -> None:
        """Stop every background job now (on reset), without waiting."""
        for t in list(self._tasks):
            t.cancel()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a background job owned by the simulator (cancelled on close)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def idle(self, timeout: float = 5.0) -> None:
        """Wait until no background job is running (tests)."""
        deadline = time.monotonic() + timeout
        while self._tasks and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    # -- delivery ------------------------------------------------------------
    async def deliver(self, number: Number | None, body: dict[str, Any], *, kind: str,
                      settings: Settings, wa_id: str | None = None,
                      wamid: str | None = None, status: str | None = None) -> Delivery:
        """Send one webhook now; on failure, retry in the background. ``number`` is
        None for a WABA's own webhooks (template status updates).

        Returns the delivery record after its first attempt."""
        raw = encode(body)
        delivery = self.state.add_delivery(
            kind=kind, phone_number_id=number.phone_number_id if number else "", wa_id=wa_id, wamid=wamid,
            status=status, body=body, raw=raw.decode("ascii"), signature=sign(self.secret, raw),
            url=settings.webhook_url, created_at=self.now(),
        )
        ok = await self._attempt(delivery, raw, 1, settings.webhook_max_attempts)
        if not ok and settings.webhook_max_attempts > 1:
            self.spawn(self._retry(delivery, raw, settings))
        return delivery

    async def _retry(self, delivery: Delivery, raw: bytes, settings: Settings) -> None:
        for attempt in range(2, settings.webhook_max_attempts + 1):
            backoff = min(settings.webhook_retry_base_ms * 2 ** (attempt - 2), settings.webhook_retry_max_ms)
            await asyncio.sleep(backoff / 1000)
            if await self._attempt(delivery, raw, attempt, settings.webhook_max_attempts):
                return

    async def _attempt(self, delivery: Delivery, raw: bytes, attempt: int, max_attempts: int) -> bool:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
            "X-Hub-Signature-256": delivery.signature,
            "X-Hub-Signature": sign_sha1(self.secret, raw),
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            if self._session is None:
                await self.start()
            assert self._session is not None
            async with self._session.post(delivery.url, data=raw, headers=headers) as resp:
                status = resp.status
                await resp.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status == 200
        self.state.record_attempt(
            delivery,
            {
                "attempt": attempt,
                "at": int(self.now()),
                "http_status": status,
                "error": error,
                "duration_ms": round((time.monotonic() - started) * 1000, 2),
            },
            delivered=ok,
            done=ok or attempt >= max_attempts,
        )
        return ok
