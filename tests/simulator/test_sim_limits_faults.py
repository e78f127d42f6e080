"""Throughput (130429), pair rate (131056) and injected faults."""
import aiohttp
import pytest

from .helpers import PNG, PNID, TOKEN, USER, V, cloud_error, graph_error

pytestmark = pytest.mark.asyncio


async def test_throughput_per_number_per_second(make_sim):
    sim = await make_sim(throughput_per_second=5)
    for i in range(5):
        await sim.user(wa_id=f"1666000{i:04d}", type="text", text="hi")
    results = [await sim.text("x", to=f"1666000{i % 5:04d}") for i in range(7)]
    assert [s for s, _ in results] == [200] * 5 + [429] * 2
    err = cloud_error(*results[5], 130429, 429)
    assert err["message"] == "(#130429) Rate limit hit"
    assert len(sim.core.state.outbound_since(0)) == 5


async def test_throughput_is_per_number(make_sim):
    sim = await make_sim(throughput_per_second=2)
    await sim.control("POST", "/_sim/numbers", expect=201, json={
        "phone_number_id": "100000000000002", "access_token": "tok-2", "display_phone_number": "15550000002"})
    await sim.user(type="text", text="hi")
    await sim.user(type="text", text="hi", phone_number_id="100000000000002")
    assert [(await sim.text("x"))[0] for _ in range(3)] == [200, 200, 429]
    assert [(await sim.text("x", token="tok-2", pnid="100000000000002"))[0] for _ in range(2)] == [200, 200]


async def test_pair_rate_limit(make_sim):
    sim = await make_sim(pair_rate_burst=3, pair_rate_interval_s=60)
    await sim.user(type="text", text="hi")
    await sim.user(wa_id="15559999999", type="text", text="hi")
    results = [await sim.text("x") for _ in range(4)]
    assert [s for s, _ in results] == [200, 200, 200, 429]
    err = cloud_error(*results[3], 131056, 429)
    assert err["message"] == "(#131056) (Business Account, Consumer Account) pair rate limit hit"
    # another user is not affected
    status, _ = await sim.text("x", to="15559999999")
    assert status == 200


async def test_pair_rate_refills(make_sim):
    sim = await make_sim(pair_rate_burst=1, pair_rate_interval_s=0.05)
    await sim.user(type="text", text="hi")
    assert (await sim.text("a"))[0] == 200
    assert (await sim.text("b"))[0] == 429
    import asyncio
    await asyncio.sleep(0.06)
    assert (await sim.text("c"))[0] == 200


async def test_default_pair_rate_is_lenient(chatting):
    statuses = [(await chatting.text(f"m{i}"))[0] for i in range(60)]
    assert set(statuses) == {200}


async def fault(sim, expect=201, **body):
    return await sim.control("POST", "/_sim/faults", expect=expect, json=body)


@pytest.mark.parametrize("code,http,title", [
    (131000, 500, "Something went wrong"),
    (1, 400, "API Unknown"),
    (2, 503, "API Service"),
    (131016, 503, "Service unavailable"),
    (130429, 429, "Rate limit hit"),
    (131056, 429, "(Business Account, Consumer Account) pair rate limit hit"),
    (200, 403, "API Permission"),
    (10, 403, "Permission Denied"),
])
async def test_sync_faults_answer_metas_envelope_then_recover(chatting, code, http, title):
    sim = chatting
    await fault(sim, code=code, count=2)
    for _ in range(2):
        status, body = await sim.text("x")
        err = cloud_error(status, body, code, http)
        assert err["message"] == f"(#{code}) {title}"
    status, _ = await sim.text("x")
    assert status == 200
    assert len(sim.core.state.outbound_since(0)) == 1


async def test_token_expired_fault(chatting):
    await fault(chatting, code=190)
    status, body = await chatting.text("x")
    err = graph_error(status, body, 190, 401)
    assert err["error_subcode"] == 463
    assert err["message"].startswith("Error validating access token: Session has expired")


async def test_persistent_fault_until_cleared(chatting):
    sim = chatting
    await fault(sim, code=200, count=-1)
    for _ in range(3):
        status, body = await sim.text("x")
        cloud_error(status, body, 200, 403)
    listed = await sim.control("GET", "/_sim/faults")
    assert listed["faults"][PNID][0]["code"] == 200
    await sim.control("DELETE", "/_sim/faults")
    assert (await sim.text("x"))[0] == 200


async def test_bare_http_fault(chatting):
    await fault(chatting, http_status=503)
    resp = await chatting.client.post(f"/{V}/{PNID}/messages", headers={"Authorization": f"Bearer {TOKEN}"},
                                      json={"messaging_product": "whatsapp", "to": USER, "text": {"body": "x"}})
    assert resp.status == 503
    assert await resp.text() == "Service Unavailable"


@pytest.mark.parametrize("code", [131047, 131026])
async def test_async_faults_accept_then_fail_by_webhook(chatting, code):
    sim = chatting
    await fault(sim, code=code)
    status, body = await sim.text("x")
    assert status == 200
    wamid = body["messages"][0]["id"]
    statuses = await sim.receiver.wait_statuses(wamid, ["failed"])
    await sim.idle()
    assert [s["status"] for s in sim.receiver.statuses(wamid)] == ["failed"]
    assert statuses[0]["errors"][0]["code"] == code


async def test_sync_mode_for_a_delivery_error(chatting):
    await fault(chatting, code=131047, mode="sync")
    status, body = await chatting.text("x")
    cloud_error(status, body, 131047, 400)


async def test_fault_only_hits_its_number_and_endpoint(chatting):
    sim = chatting
    await fault(sim, code=131000, endpoint="media")
    assert (await sim.text("x"))[0] == 200
    fd = aiohttp.FormData()
    fd.add_field("messaging_product", "whatsapp")
    fd.add_field("file", PNG, filename="a.png", content_type="image/png")
    resp = await sim.client.post(f"/{V}/{PNID}/media", data=fd, headers={"Authorization": f"Bearer {TOKEN}"})
    cloud_error(resp.status, await resp.json(), 131000, 500)


async def test_fault_requests_are_validated(sim):
    await fault(sim, expect=400, count=1)
    await fault(sim, expect=400, code=131000, mode="later")
    await fault(sim, expect=400, code=131000, endpoint="everything")
    await fault(sim, expect=400, code=131000, count=0)
    await fault(sim, expect=400, code=424242)
    await fault(sim, expect=404, code=131000, phone_number_id="nope")
