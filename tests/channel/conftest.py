"""The channel (without Rasa) wired to the Cloud API simulator, both in-process.

simulator ──signed webhooks──▶ webhook.receive ▶ InboxProcessor ▶ `bot` ▶ WhatsAppOutput ──▶ simulator

`bot` is the test's stand-in for the Rasa agent (the real agent runs in tests/e2e):
by default it echoes the user's text back through the real output channel.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp import web

from cloudapi import signature
from connectors.whatsapp import webhook
from connectors.whatsapp.channel import ChannelRuntime, WhatsAppOutput, sender_id_of
from connectors.whatsapp.settings import ChannelSettings
from simulator import SimConfig, create_app

SECRET, TOKEN, PNID, WABA = "contract-secret", "contract-token", "100000000000001", "200000000000001"
USER = "447700900001"


class Harness:
    def __init__(self, sim_client, runtime: ChannelRuntime):
        self.sim = sim_client
        self.runtime = runtime
        self.output = WhatsAppOutput(runtime)
        self.turns: list[tuple[str, Any]] = []

        async def echo(item, chat_id):
            await self.output.send_text_message(sender_id_of(item), f"echo: {item.text}")
        self.bot = echo

    async def say(self, wa_id: str = USER, **body) -> dict:
        body.setdefault("type", "text")
        resp = await self.sim.post(f"/_sim/users/{wa_id}/messages", json=body)
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def control(self, method: str, path: str, **json) -> dict:
        resp = await self.sim.request(method, f"/_sim/{path}", json=json or None)
        assert resp.status < 300, await resp.text()
        return await resp.json()

    async def outbound(self, wa_id: str = USER, phone_number_id: str = PNID) -> list[dict]:
        resp = await self.sim.get(f"/_sim/users/{wa_id}/messages", params={"phone_number_id": phone_number_id})
        return [m for m in (await resp.json())["messages"] if m["direction"] == "outbound"]

    async def settle(self, timeout: float = 5.0, until=None):
        """Let webhooks, turns and statuses run; with `until`, wait for it to be true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            await self.runtime.processor.idle()
            if until is not None and await until():
                return True
        return until is None


@pytest.fixture
async def harness(aiohttp_server, aiohttp_client, database_url, sessions, tmp_path):
    holder: dict[str, Harness] = {}

    async def receive(request: web.Request) -> web.Response:
        status, body = await webhook.receive(
            await request.read(), request.headers.get(signature.HEADER), app_secret=SECRET,
            max_body_bytes=4 * 1024 * 1024, processor=holder["h"].runtime.processor)
        return web.json_response(body, status=status)

    channel_app = web.Application()
    channel_app.router.add_post("/webhooks/whatsapp/webhook", receive)
    channel_server = await aiohttp_server(channel_app)

    sim_client = await aiohttp_client(create_app(SimConfig(
        webhook_url=str(channel_server.make_url("/webhooks/whatsapp/webhook")), app_secret=SECRET,
        access_token=TOKEN, phone_number_id=PNID, display_phone_number="15550000001", waba_id=WABA,
        status_delay_ms=5, webhook_retry_base_ms=20, webhook_retry_max_ms=100,
        throughput_per_second=40)))

    settings = ChannelSettings(verify_token="v", app_secret=SECRET, access_token=TOKEN,
                               phone_number_id=PNID, waba_id=WABA,
                               graph_api_url=str(sim_client.make_url("/v21.0")),
                               database_url=database_url, media_dir=tmp_path / "media")
    runtime = ChannelRuntime(settings)
    runtime.graph.backoff = 0.01  # retries in milliseconds, not seconds
    h = Harness(sim_client, runtime)
    holder["h"] = h

    async def deliver(item, chat_id, opens_chat, retry=False):
        h.turns.append((item.type, item))
        await h.bot(item, chat_id)

    await runtime.start(deliver)
    try:
        yield h
    finally:
        await runtime.stop()
