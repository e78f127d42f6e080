"""Helpers for the Cloud API simulator tests: constants, small valid files,
the business's webhook receiver and a client wrapper.

The receiver verifies ``X-Hub-Signature-256`` over the raw body (401 and
nothing recorded when it is wrong, as the real channel must do) and records
every delivery."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any, Callable

from aiohttp import web

from simulator import simulator_of

SECRET = "test-app-secret"
TOKEN = "test-token-1"
PNID = "100000000000001"
DISPLAY = "15550000001"
WABA = "200000000000001"
USER = "15551234567"
V = "v21.0"

# Small valid files.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WEBP_STATIC = b"RIFF" + (22).to_bytes(4, "little") + b"WEBPVP8 " + b"\x00" * 14
WEBP_ANIMATED = (b"RIFF" + (30).to_bytes(4, "little") + b"WEBPVP8X" + (10).to_bytes(4, "little")
                 + bytes([0x02]) + b"\x00" * 9 + b"ANIM" + b"\x00" * 6)


class Receiver:
    """The business's webhook endpoint."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[dict[str, Any]] = []
        self.rejected: list[bytes] = []
        self.responses: list[int] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        sig = request.headers.get("X-Hub-Signature-256", "")
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, expected):
            self.rejected.append(raw)
            return web.Response(status=401)
        status = self.responses.pop(0) if self.responses else 200
        self.received.append({"body": json.loads(raw), "raw": raw, "headers": dict(request.headers),
                              "answered": status})
        return web.Response(status=status)

    # -- views -------------------------------------------------------------
    def values(self, answered_ok: bool = False) -> list[dict[str, Any]]:
        out = []
        for d in self.received:
            if answered_ok and d["answered"] != 200:
                continue
            for entry in d["body"]["entry"]:
                for change in entry["changes"]:
                    out.append(change["value"])
        return out

    def statuses(self, wamid: str | None = None) -> list[dict[str, Any]]:
        return [s for v in self.values() for s in v.get("statuses", [])
                if wamid is None or s["id"] == wamid]

    def messages(self) -> list[dict[str, Any]]:
        return [m for v in self.values() for m in v.get("messages", [])]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 3.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            await asyncio.sleep(0.01)
        raise AssertionError(f"timed out; received {json.dumps([d['body'] for d in self.received])[:2000]}")

    async def wait_statuses(self, wamid: str, names: list[str], timeout: float = 3.0) -> list[dict[str, Any]]:
        await self.wait_for(lambda: {s["status"] for s in self.statuses(wamid)} >= set(names), timeout)
        return self.statuses(wamid)


class Sim:
    """A test client of the simulator with shortcuts."""

    def __init__(self, client, receiver: Receiver) -> None:
        self.client = client
        self.receiver = receiver
        self.core = simulator_of(client.app)

    async def send(self, body: dict[str, Any] | None = None, *, token: str | None = TOKEN,
                   pnid: str = PNID, version: str = V, raw: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        if raw is not None:
            headers["Content-Type"] = "application/json"
            resp = await self.client.post(f"/{version}/{pnid}/messages", data=raw, headers=headers)
        else:
            resp = await self.client.post(f"/{version}/{pnid}/messages", json=body, headers=headers)
        return resp.status, await resp.json()

    async def text(self, body: str = "hello", to: str = USER, **kw: Any) -> tuple[int, dict[str, Any]]:
        return await self.send({"messaging_product": "whatsapp", "recipient_type": "individual",
                                "to": to, "type": "text", "text": {"body": body}}, **kw)

    async def user(self, wa_id: str = USER, expect: int = 200, **body: Any) -> dict[str, Any]:
        resp = await self.client.post(f"/_sim/users/{wa_id}/messages", json=body)
        data = await resp.json()
        assert resp.status == expect, data
        return data

    async def control(self, method: str, path: str, expect: int | None = 200, **kw: Any) -> dict[str, Any]:
        resp = await self.client.request(method, path, **kw)
        data = await resp.json()
        if expect is not None:
            assert resp.status == expect, data
        return data

    async def idle(self) -> None:
        await self.core.dispatcher.idle()


def graph_error(status: int, body: dict[str, Any], code: int, http: int) -> dict[str, Any]:
    """Assert Meta's error envelope and return ``error``."""
    assert status == http, body
    err = body["error"]
    assert err["code"] == code, body
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["type"], str) and err["type"]
    assert isinstance(err["fbtrace_id"], str) and err["fbtrace_id"]
    return err


def cloud_error(status: int, body: dict[str, Any], code: int, http: int = 400) -> dict[str, Any]:
    """A Cloud API error: also ``(#code)`` message and ``error_data``."""
    err = graph_error(status, body, code, http)
    assert err["type"] == "OAuthException"
    assert err["message"].startswith(f"(#{code}) ")
    assert err["error_data"]["messaging_product"] == "whatsapp"
    assert isinstance(err["error_data"]["details"], str) and err["error_data"]["details"]
    return err
