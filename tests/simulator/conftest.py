"""Fixtures for the Cloud API simulator tests.

A small aiohttp server plays the business's webhook receiver (see
``helpers.Receiver``); ``make_sim`` builds a simulator app pointed at it.

Async fixtures use ``pytest_asyncio.fixture`` and test modules carry
``pytest.mark.asyncio``, so the suite runs under asyncio_mode strict or auto.
"""
from __future__ import annotations

from typing import Any

import pytest_asyncio
from aiohttp import web

from simulator import SimConfig, create_app

from .helpers import DISPLAY, PNID, SECRET, TOKEN, USER, WABA, Receiver, Sim


@pytest_asyncio.fixture
async def receiver(aiohttp_server) -> Receiver:
    rec = Receiver(SECRET)
    app = web.Application()
    app.router.add_post("/webhook", rec.handle)
    server = await aiohttp_server(app)
    rec.url = str(server.make_url("/webhook"))
    return rec


@pytest_asyncio.fixture
async def make_sim(aiohttp_client, receiver):
    async def factory(**overrides: Any) -> Sim:
        cfg = SimConfig(
            webhook_url=receiver.url,
            app_secret=SECRET,
            access_token=TOKEN,
            phone_number_id=PNID,
            display_phone_number=DISPLAY,
            waba_id=WABA,
            status_delay_ms=2,
            webhook_timeout_s=2.0,
            webhook_max_attempts=3,
            webhook_retry_base_ms=10,
            webhook_retry_max_ms=50,
        ).with_(**overrides)
        client = await aiohttp_client(create_app(cfg))
        return Sim(client, receiver)
    return factory


@pytest_asyncio.fixture
async def sim(make_sim) -> Sim:
    return await make_sim()


@pytest_asyncio.fixture
async def chatting(sim) -> Sim:
    """A simulator where USER has just written (window open)."""
    await sim.user(USER, type="text", text="hi", profile_name="Alex")
    return sim
