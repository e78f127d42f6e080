"""Webhook delivery: signatures, retries with backoff, duplicates, delays."""
import asyncio
import hashlib
import hmac
import json

import pytest

from .helpers import SECRET, USER

pytestmark = pytest.mark.asyncio


async def test_signature_is_over_the_exact_escaped_bytes(sim):
    await sim.user(type="text", text="caf\u00e9 \U0001F600", profile_name="J\u00f6rg")
    d = sim.receiver.received[0]
    raw = d["raw"]
    assert b"\\u00e9" in raw and b"\\ud83d\\ude00" in raw  # escaped unicode, like Meta
    assert d["headers"]["X-Hub-Signature-256"] == "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert d["headers"]["X-Hub-Signature"] == "sha1=" + hmac.new(SECRET.encode(), raw, hashlib.sha1).hexdigest()
    assert json.loads(raw)["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] == "caf\u00e9 \U0001F600"
    # re-encoding the parsed JSON differently would not verify: receivers must use the raw body
    reencoded = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    assert hmac.new(SECRET.encode(), reencoded, hashlib.sha256).hexdigest() not in d["headers"]["X-Hub-Signature-256"]


async def test_a_receiver_with_the_wrong_secret_rejects_everything(make_sim):
    sim = await make_sim(app_secret="another-secret")
    data = await sim.user(type="text", text="hi")
    assert data["webhook_status"] == 401
    assert sim.receiver.received == [] and len(sim.receiver.rejected) == 1


async def test_failed_deliveries_are_retried_with_backoff_and_logged(sim):
    sim.receiver.responses = [500, 503]
    data = await sim.user(type="text", text="hi")
    assert data["webhook_status"] == 500
    await sim.receiver.wait_for(lambda: len(sim.receiver.received) == 3)
    await sim.idle()
    bodies = [d["raw"] for d in sim.receiver.received]
    assert bodies[0] == bodies[1] == bodies[2]
    log = await sim.control("GET", "/_sim/webhooks")
    (d,) = log["deliveries"]
    assert d["kind"] == "message" and d["wamid"] == data["wamid"]
    assert [a["http_status"] for a in d["attempts"]] == [500, 503, 200]
    assert [a["attempt"] for a in d["attempts"]] == [1, 2, 3]
    assert d["delivered"] is True and d["done"] is True
    assert d["signature"].startswith("sha256=")


async def test_retries_are_bounded(sim):
    sim.receiver.responses = [500] * 10
    await sim.user(type="text", text="hi")
    await sim.receiver.wait_for(lambda: len(sim.receiver.received) == 3)
    await sim.idle()
    await asyncio.sleep(0.1)
    assert len(sim.receiver.received) == 3  # webhook_max_attempts=3
    d = (await sim.control("GET", "/_sim/webhooks"))["deliveries"][0]
    assert d["delivered"] is False and d["done"] is True and len(d["attempts"]) == 3


async def test_unreachable_webhook_is_recorded(make_sim):
    sim = await make_sim(webhook_url="http://127.0.0.1:9/nothing", webhook_max_attempts=2)
    data = await sim.user(type="text", text="hi")
    assert data["webhook_status"] is None
    await sim.idle()
    d = (await sim.control("GET", "/_sim/webhooks"))["deliveries"][0]
    assert len(d["attempts"]) == 2
    assert all(a["http_status"] is None and a["error"] for a in d["attempts"])


async def test_meta_style_duplicates(sim):
    data = await sim.user(type="text", text="hi", duplicate=3)
    assert data["deliveries"] == [200, 200, 200]
    ids = [m["id"] for m in sim.receiver.messages()]
    assert ids == [data["wamid"]] * 3
    assert len({d["raw"] for d in sim.receiver.received}) == 1


async def test_delayed_delivery(sim):
    resp = await sim.client.post(f"/_sim/users/{USER}/messages", json={"type": "text", "text": "later", "delay_ms": 80})
    assert resp.status == 202
    data = await resp.json()
    assert data["webhook_status"] is None and data["scheduled_in_ms"] == 80
    assert sim.receiver.received == []
    await sim.receiver.wait_for(lambda: sim.receiver.messages())
    assert sim.receiver.messages()[0]["id"] == data["wamid"]


async def test_webhook_log_cursor_and_kind_filter(chatting):
    sim = chatting
    first = await sim.control("GET", "/_sim/webhooks")
    assert [d["kind"] for d in first["deliveries"]] == ["message"]
    _, a = await sim.text("x")
    await sim.receiver.wait_statuses(a["messages"][0]["id"], ["read"])
    rest = await sim.control("GET", f"/_sim/webhooks?since={first['cursor']}")
    assert [d["status"] for d in rest["deliveries"]] == ["sent", "delivered", "read"]
    only = await sim.control("GET", "/_sim/webhooks?kind=message")
    assert len(only["deliveries"]) == 1


async def test_webhook_url_can_change_at_run_time(sim, aiohttp_server):
    from aiohttp import web
    got = []

    async def other(request):
        got.append(await request.read())
        return web.Response()

    app = web.Application()
    app.router.add_post("/other", other)
    server = await aiohttp_server(app)
    await sim.control("POST", "/_sim/settings", json={"webhook_url": str(server.make_url("/other"))})
    await sim.user(type="text", text="hi")
    assert len(got) == 1 and sim.receiver.received == []
