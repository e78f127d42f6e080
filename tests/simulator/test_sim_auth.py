"""Authentication, node lookup and routing, as the Graph API answers them."""
import pytest

from .helpers import PNID, TOKEN, USER, V, WABA, cloud_error, graph_error

pytestmark = pytest.mark.asyncio

TEXT = {"messaging_product": "whatsapp", "to": USER, "type": "text", "text": {"body": "hi"}}


async def test_missing_token_is_190_oauth_401(sim):
    status, body = await sim.send(TEXT, token=None)
    err = graph_error(status, body, 190, 401)
    assert err["type"] == "OAuthException"
    assert "error_data" not in err


async def test_wrong_token_is_190_401_with_www_authenticate(sim):
    resp = await sim.client.post(f"/{V}/{PNID}/messages", json=TEXT,
                                 headers={"Authorization": "Bearer nope"})
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith('OAuth "Facebook Platform" "invalid_token"')
    err = graph_error(resp.status, await resp.json(), 190, 401)
    assert err["message"] == "Invalid OAuth access token - Cannot parse access token"


async def test_access_token_query_parameter_is_accepted(sim):
    await sim.user(type="text", text="hi")
    resp = await sim.client.post(f"/{V}/{PNID}/messages?access_token={TOKEN}", json=TEXT)
    assert resp.status == 200


async def test_unknown_phone_number_id_is_graph_method_exception(sim):
    status, body = await sim.send(TEXT, pnid="999")
    err = graph_error(status, body, 100, 400)
    assert err["type"] == "GraphMethodException"
    assert err["error_subcode"] == 33
    assert err["message"].startswith("Unsupported post request. Object with ID '999' does not exist")


async def test_token_of_another_number_cannot_use_this_number(sim):
    await sim.control("POST", "/_sim/numbers", expect=201, json={
        "phone_number_id": "100000000000002", "access_token": "other-token",
        "display_phone_number": "15550000002", "waba_id": WABA})
    status, body = await sim.send(TEXT, token="other-token")
    err = graph_error(status, body, 100, 400)
    assert err["error_subcode"] == 33


async def test_versions_can_be_restricted(make_sim):
    sim = await make_sim(api_versions=("v21.0", "v22.0"))
    await sim.user(type="text", text="hi")
    status, body = await sim.send(TEXT, version="v22.0")
    assert status == 200
    status, body = await sim.send(TEXT, version="v12.0")
    err = graph_error(status, body, 2635, 400)
    assert "v12.0" in err["message"]


async def test_any_version_is_accepted_by_default(chatting):
    for version in ("v17.0", "v24.0", "v99.9"):
        status, _ = await chatting.send(TEXT, version=version)
        assert status == 200


async def test_unknown_graph_path(sim):
    resp = await sim.client.get(f"/{V}/{PNID}/messages/whatever", headers={"Authorization": f"Bearer {TOKEN}"})
    err = graph_error(resp.status, await resp.json(), 2500, 400)
    assert "Unknown path components" in err["message"]


async def test_body_that_is_not_json(sim):
    status, body = await sim.send(raw="{nope")
    cloud_error(status, body, 100)


async def test_phone_number_node_and_waba_phone_numbers(sim):
    h = {"Authorization": f"Bearer {TOKEN}"}
    resp = await sim.client.get(f"/{V}/{PNID}", headers=h)
    node = await resp.json()
    assert resp.status == 200
    assert node["id"] == PNID and node["display_phone_number"] == "15550000001"
    assert node["quality_rating"] == "GREEN"
    resp = await sim.client.get(f"/{V}/{WABA}/phone_numbers", headers=h)
    data = await resp.json()
    assert [n["id"] for n in data["data"]] == [PNID]
    resp = await sim.client.get(f"/{V}/{WABA}/phone_numbers", headers={"Authorization": "Bearer nope"})
    assert resp.status == 401


async def test_health(sim):
    resp = await sim.client.get("/_sim/health")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}
