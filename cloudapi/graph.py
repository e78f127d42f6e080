"""A small client for the Cloud API's Graph endpoints (`/messages`, media, WABA
management), shared by the Rasa adapter and the desk.

Meta's error codes are mapped to outcomes the caller can act on:
- retried here with backoff: HTTP 5xx, 1/2/131000 (temporary), 130429
  (throughput), 131056 (pair rate), 80007 (WABA rate), network errors and timeouts;
- `GraphError.reengagement` (131047): outside the 24-hour window, send a template;
- `GraphError.auth` (190 token, 10/200-299 permissions): the number lost its
  access (e.g. partner removed on Meta's side) and must be reconnected;
- `GraphError.bsuid_refused` (131062): this message may not go to a business-scoped
  user id (e.g. one-tap, zero-tap and copy-code authentication templates need a phone
  number); final, not retried.
"""
from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

# A current version (v25.0, released 2026-02-18; Meta's Graph API changelog); the
# deployment chooses with WHATSAPP_GRAPH_API_URL.
META_GRAPH_API_URL = "https://graph.facebook.com/v25.0"

RETRYABLE_CODES = {1, 2, 4, 131000, 130429, 131056, 80007}
REENGAGEMENT_CODE = 131047
BSUID_REFUSED_CODE = 131062
BSUID_REFUSED_REASON = ("WhatsApp does not allow this message to a user known only by username "
                        "(business-scoped user id), 131062: it needs their phone number; send another kind "
                        "of message")


@dataclass
class GraphError(Exception):
    http_status: int
    code: int | None
    message: str
    details: str | None = None
    subcode: int | None = None
    user_title: str | None = None  # Meta's `error_user_title` / `error_user_msg`, meant for people
    user_msg: str | None = None

    def __str__(self) -> str:
        extra = f" ({self.details})" if self.details else ""
        return f"Graph API error {self.code} [HTTP {self.http_status}]: {self.message}{extra}"

    @property
    def explanation(self) -> str:
        """The clearest text Meta gave: its message for people, else its message."""
        human = ": ".join(t for t in (self.user_title, self.user_msg) if t)
        return f"{human} ({self.message})" if human and self.message else (human or self.message or str(self))

    @property
    def retryable(self) -> bool:
        return self.http_status >= 500 or self.code in RETRYABLE_CODES

    @property
    def reengagement(self) -> bool:
        return self.code == REENGAGEMENT_CODE

    @property
    def bsuid_refused(self) -> bool:
        return self.code == BSUID_REFUSED_CODE

    @property
    def auth(self) -> bool:
        return self.code == 190 or self.code == 10 or (self.code is not None and 200 <= self.code <= 299)

    @classmethod
    def from_response(cls, http_status: int, body: Any) -> "GraphError":
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            return cls(http_status, None, f"unexpected response: {str(body)[:200]}")
        data = err.get("error_data") if isinstance(err.get("error_data"), dict) else {}
        return cls(http_status, err.get("code"), str(err.get("message", "")),
                   data.get("details"), err.get("error_subcode"),
                   err.get("error_user_title"), err.get("error_user_msg"))


class ThroughputLimiter:
    """At most `rate` sends per second per business number (Meta's default cap is 80).

    Each call reserves the next free slot of its number and sleeps until then, so
    callers keep the order in which they asked; one user's messages, sent one after
    the other, stay in order.
    """

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next: dict[str, float] = {}

    async def wait(self, phone_number_id: str) -> None:
        if not self.interval:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next.get(phone_number_id, now))
        self._next[phone_number_id] = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class GraphClient:
    """One per process; `close()` on shutdown. Every call has an explicit timeout."""

    def __init__(self, base_url: str, *, timeout: float = 15.0, max_attempts: int = 4,
                 backoff: float = 0.5, messages_per_second: float = 80.0):
        self.base_url = base_url.rstrip("/")
        self.limiter = ThroughputLimiter(messages_per_second)
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post_messages(self, phone_number_id: str, token: str, body: dict,
                            max_attempts: int | None = None) -> dict:
        """POST {graph}/{phone_number_id}/messages with retries; returns Meta's JSON."""
        return await self._request_json("POST", f"{phone_number_id}/messages", token, json=body,
                                        max_attempts=max_attempts, throttle=phone_number_id)

    async def _request_json(self, method: str, path: str, token: str, *, json: dict | None = None,
                            params: dict | None = None, max_attempts: int | None = None,
                            throttle: str | None = None) -> dict:
        """One Graph API call answering JSON, retried with backoff on temporary errors;
        `throttle` names the number whose send rate (ThroughputLimiter) each attempt counts
        against. Returns Meta's JSON, raises GraphError."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        headers = {"Authorization": f"Bearer {token}"}
        max_attempts = max_attempts or self.max_attempts
        for attempt in range(1, max_attempts + 1):
            if throttle is not None:
                await self.limiter.wait(throttle)
            try:
                async with self._http().request(method, url, json=json, params=params, headers=headers) as resp:
                    data = await resp.json(content_type=None)
                    if resp.status == 200 and isinstance(data, dict) and "error" not in data:
                        return data
                    error = GraphError.from_response(resp.status, data)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                error = GraphError(599, None, f"{type(exc).__name__}: {exc}")
            if not error.retryable or attempt == max_attempts:
                raise error
            delay = self.backoff * 2 ** (attempt - 1) * (1 + random.random() / 2)
            log.warning("whatsapp: %s %s: %s; retry %d/%d in %.1fs", method, path, error, attempt,
                        max_attempts - 1, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def send(self, phone_number_id: str, token: str, message: dict) -> str:
        """Send one message object (without messaging_product); returns its wamid."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", **message}
        data = await self.post_messages(phone_number_id, token, body)
        try:
            return data["messages"][0]["id"]
        except (KeyError, IndexError, TypeError):
            raise GraphError(200, None, f"no message id in response: {str(data)[:200]}")

    async def _get(self, url: str, token: str) -> aiohttp.ClientResponse:
        return await self._http().get(url, headers={"Authorization": f"Bearer {token}"})

    async def download_media(self, media_id: str, token: str, max_bytes: int) -> tuple[bytes, str]:
        """Fetch an inbound media file: GET {graph}/{media-id} for its URL, then the URL
        with the same token. Returns (bytes, mime type). Media ids expire after 7 days,
        so this runs as soon as the message is processed."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                async with await self._get(f"{self.base_url}/{media_id}", token) as resp:
                    info = await resp.json(content_type=None)
                    if resp.status != 200 or "url" not in (info or {}):
                        raise GraphError.from_response(resp.status, info)
                if int(info.get("file_size") or 0) > max_bytes:
                    raise GraphError(413, None, f"media {media_id} is {info['file_size']} bytes, over {max_bytes}")
                async with await self._get(info["url"], token) as resp:
                    if resp.status != 200:
                        raise GraphError(resp.status, None, f"media download failed: HTTP {resp.status}")
                    data = await resp.content.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise GraphError(413, None, f"media {media_id} is over {max_bytes} bytes")
                return data, str(info.get("mime_type") or resp.content_type)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                error = GraphError(599, None, f"{type(exc).__name__}: {exc}")
            except GraphError as exc:
                error = exc
            if not error.retryable or attempt == self.max_attempts:
                raise error
            await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def upload_media(self, phone_number_id: str, token: str, data: bytes,
                           mime_type: str, filename: str) -> str:
        """POST {graph}/{phone-number-id}/media (multipart); returns the media id."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", data, filename=filename, content_type=mime_type)
        async with self._http().post(f"{self.base_url}/{phone_number_id}/media", data=form,
                                     headers={"Authorization": f"Bearer {token}"}) as resp:
            body = await resp.json(content_type=None)
            if resp.status != 200 or "id" not in (body or {}):
                raise GraphError.from_response(resp.status, body)
            return str(body["id"])

    async def waba_request(self, method: str, path: str, token: str, *, json: dict | None = None,
                           params: dict | None = None, max_attempts: int | None = None) -> dict:
        """A WhatsApp Business Management call, e.g. `GET {graph}/{waba-id}/message_templates`;
        returns Meta's JSON, raises GraphError. Retries temporary errors like
        `post_messages`; give `max_attempts=1` where a retry could repeat a creation."""
        return await self._request_json(method, path, token, json=json, params=params,
                                        max_attempts=max_attempts)

    async def create_template(self, waba_id: str, token: str, template: dict) -> dict:
        """POST {graph}/{waba-id}/message_templates (name, language, category, components);
        Meta answers `{"id", "status", "category"}`. One attempt: after a timeout the
        template may exist, and a retry would be refused as a duplicate."""
        return await self.waba_request("POST", f"{waba_id}/message_templates", token, json=template,
                                       max_attempts=1)

    async def list_templates(self, waba_id: str, token: str, *, after: str | None = None,
                             limit: int | None = None, fields: str | None = None) -> dict:
        """One page of GET {graph}/{waba-id}/message_templates: `{"data": [...], "paging": ...}`."""
        params = {k: str(v) for k, v in (("after", after), ("limit", limit), ("fields", fields)) if v}
        return await self.waba_request("GET", f"{waba_id}/message_templates", token, params=params or None)

    async def mark_read(self, phone_number_id: str, token: str, wamid: str, *, typing: bool = False) -> None:
        """Blue ticks for the user: a courtesy, so one attempt and no retries. With
        `typing`, the user also sees "typing…" until the reply arrives or 25 s pass
        (Meta's typing indicator rides on the mark-as-read request)."""
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        await self.post_messages(phone_number_id, token, body, max_attempts=1)
