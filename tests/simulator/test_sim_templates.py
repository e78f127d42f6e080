"""Template sends against the per-WABA registry, and Meta's template endpoints."""
import pytest

from .helpers import TOKEN, USER, V, WABA, cloud_error, graph_error

pytestmark = pytest.mark.asyncio


def tpl(name, lang="en_US", body_params=None, header_params=None, buttons=None):
    t = {"name": name, "language": {"code": lang}}
    comps = []
    if header_params is not None:
        comps.append({"type": "header", "parameters": [{"type": "text", "text": p} for p in header_params]})
    if body_params is not None:
        comps.append({"type": "body", "parameters": [{"type": "text", "text": p} for p in body_params]})
    comps.extend(buttons or [])
    if comps:
        t["components"] = comps
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": USER,
            "type": "template", "template": t}


async def reg(sim, **body):
    body.setdefault("language", "en_US")
    body.setdefault("category", "UTILITY")
    return await sim.control("POST", "/_sim/templates", expect=201, json=body)


async def test_hello_world_is_preloaded_like_a_new_waba(sim):
    status, body = await sim.send(tpl("hello_world"))
    assert status == 200
    assert body["messages"][0]["message_status"] == "accepted"
    rec = sim.core.state.get_message(body["messages"][0]["id"])
    assert rec.rendered["header"] == "Hello World"
    assert rec.rendered["body"].startswith("Welcome and congratulations!!")


async def test_unknown_template_name_or_language_is_132001(sim):
    status, body = await sim.send(tpl("nope"))
    err = cloud_error(status, body, 132001, 404)
    assert err["message"] == "(#132001) Template name does not exist in the translation"
    assert err["error_data"]["details"] == "template name (nope) does not exist in en_US"
    status, body = await sim.send(tpl("hello_world", lang="ja"))
    cloud_error(status, body, 132001, 404)


@pytest.mark.parametrize("tstatus,code", [("PENDING", 132001), ("REJECTED", 132001),
                                           ("PAUSED", 132015), ("DISABLED", 132016)])
async def test_templates_that_are_not_approved_cannot_be_sent(sim, tstatus, code):
    await reg(sim, name="promo", body="Sale", status=tstatus, category="MARKETING")
    status, body = await sim.send(tpl("promo"))
    cloud_error(status, body, code, 404 if code == 132001 else 400)
    assert sim.core.state.outbound_since(0) == []


async def test_parameter_count_must_match_per_component(sim):
    await reg(sim, name="ship", header="Order {{1}}", body="Hi {{1}}, order {{2}} ships {{3}}.")
    status, body = await sim.send(tpl("ship", header_params=["A1"], body_params=["Ann", "A1"]))
    err = cloud_error(status, body, 132000)
    assert err["error_data"]["details"] == \
        "body: number of localizable_params (2) does not match the expected number of params (3)"
    status, body = await sim.send(tpl("ship", body_params=["Ann", "A1", "today"]))
    err = cloud_error(status, body, 132000)
    assert err["error_data"]["details"].startswith("header: number of localizable_params (0)")
    status, body = await sim.send(tpl("ship", header_params=["A1"], body_params=["Ann", "A1", "today"]))
    assert status == 200
    rec = sim.core.state.get_message(body["messages"][0]["id"])
    assert rec.rendered["header"] == "Order A1"
    assert rec.rendered["body"] == "Hi Ann, order A1 ships today."


async def test_repeated_placeholder_counts_once_and_extra_params_fail(sim):
    await reg(sim, name="greet", body="{{1}}! Hello {{1}}")
    status, _ = await sim.send(tpl("greet", body_params=["Ann"]))
    assert status == 200
    status, body = await sim.send(tpl("greet", body_params=["Ann", "Bob"]))
    cloud_error(status, body, 132000)


async def test_templates_are_per_waba(sim):
    await sim.control("POST", "/_sim/numbers", expect=201, json={
        "phone_number_id": "300000000000001", "access_token": "tok-b",
        "display_phone_number": "15550000009", "waba_id": "200000000000009"})
    await reg(sim, name="only_a", body="A")
    status, _ = await sim.send(tpl("only_a"))
    assert status == 200
    status, body = await sim.send(tpl("only_a"), token="tok-b", pnid="300000000000001")
    cloud_error(status, body, 132001, 404)


async def test_quick_reply_payloads_are_kept_for_the_user(sim):
    await reg(sim, name="confirm", body="Confirm {{1}}?", buttons=["Yes", "No"])
    send = tpl("confirm", body_params=["booking"], buttons=[
        {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "YES-17"}]},
        {"type": "button", "sub_type": "quick_reply", "index": "1", "parameters": [{"type": "payload", "payload": "NO-17"}]},
    ])
    status, body = await sim.send(send)
    assert status == 200
    rec = sim.core.state.get_message(body["messages"][0]["id"])
    assert rec.rendered["buttons"] == [
        {"type": "QUICK_REPLY", "text": "Yes", "payload": "YES-17"},
        {"type": "QUICK_REPLY", "text": "No", "payload": "NO-17"},
    ]


async def test_control_template_validation(sim):
    for bad in ({"name": "Bad Name", "body": "x"}, {"name": "ok", "body": "x", "category": "SPAM"},
                {"name": "ok", "body": "x", "status": "MAYBE"}):
        data = await sim.control("POST", "/_sim/templates", expect=400,
                                 json={"language": "en_US", "category": "UTILITY", **bad})
        assert "error" in data
    listing = await sim.control("GET", "/_sim/templates")
    assert [t["name"] for t in listing["templates"]] == ["hello_world"]


async def test_graph_template_management(make_sim):
    sim = await make_sim(template_auto_approve=False)
    h = {"Authorization": f"Bearer {TOKEN}"}
    new = {"name": "welcome_back", "language": "en_US", "category": "MARKETING",
           "components": [{"type": "BODY", "text": "Welcome back {{1}}",
                           "example": {"body_text": [["Ann"]]}}]}
    resp = await sim.client.post(f"/{V}/{WABA}/message_templates", json=new, headers=h)
    created = await resp.json()
    assert resp.status == 200
    assert created["status"] == "PENDING" and created["category"] == "MARKETING" and created["id"].isdigit()
    # a pending template cannot be sent yet
    status, body = await sim.send(tpl("welcome_back", body_params=["Ann"]))
    cloud_error(status, body, 132001, 404)
    # duplicate name + language
    resp = await sim.client.post(f"/{V}/{WABA}/message_templates", json=new, headers=h)
    err = graph_error(resp.status, await resp.json(), 100, 400)
    assert err["error_subcode"] == 2388024
    # list with filters
    resp = await sim.client.get(f"/{V}/{WABA}/message_templates?status=PENDING", headers=h)
    listed = await resp.json()
    assert [t["name"] for t in listed["data"]] == ["welcome_back"]
    assert listed["data"][0]["components"][0]["text"] == "Welcome back {{1}}"
    assert set(listed["paging"]["cursors"]) == {"before", "after"}
    resp = await sim.client.get(f"/{V}/{WABA}/message_templates?name=hello_world", headers=h)
    assert [t["status"] for t in (await resp.json())["data"]] == ["APPROVED"]
    # approve through the control API, then it sends
    await reg(sim, name="welcome_back", category="MARKETING", status="APPROVED", body="Welcome back {{1}}")
    status, _ = await sim.send(tpl("welcome_back", body_params=["Ann"]))
    assert status == 200
    # delete
    resp = await sim.client.delete(f"/{V}/{WABA}/message_templates?name=welcome_back", headers=h)
    assert resp.status == 200 and await resp.json() == {"success": True}
    status, body = await sim.send(tpl("welcome_back", body_params=["Ann"]))
    cloud_error(status, body, 132001, 404)
    # bad definitions and foreign tokens
    resp = await sim.client.post(f"/{V}/{WABA}/message_templates",
                                 json={**new, "name": "x", "category": "OTHER"}, headers=h)
    graph_error(resp.status, await resp.json(), 100, 400)
    resp = await sim.client.get(f"/{V}/999/message_templates", headers=h)
    err = graph_error(resp.status, await resp.json(), 100, 400)
    assert err["error_subcode"] == 33


async def test_graph_created_templates_auto_approve_by_default(sim):
    resp = await sim.client.post(f"/{V}/{WABA}/message_templates", headers={"Authorization": f"Bearer {TOKEN}"},
                                 json={"name": "code", "language": "en", "category": "AUTHENTICATION",
                                       "components": [{"type": "BODY", "text": "Your code is {{1}}"}]})
    assert (await resp.json())["status"] == "APPROVED"
    status, _ = await sim.send(tpl("code", lang="en", body_params=["123456"]))
    assert status == 200


async def test_media_header_needs_one_header_parameter(sim):
    await reg(sim, name="invoice_ready", components=[
        {"type": "HEADER", "format": "DOCUMENT"}, {"type": "BODY", "text": "Your invoice {{1}}"}])
    status, body = await sim.send(tpl("invoice_ready", body_params=["A-1"]))
    err = cloud_error(status, body, 132000)
    assert err["error_data"]["details"] == \
        "header: number of localizable_params (0) does not match the expected number of params (1)"
    send = tpl("invoice_ready", body_params=["A-1"])
    send["template"]["components"].insert(0, {"type": "header", "parameters": [
        {"type": "document", "document": {"link": "https://example.com/a.pdf", "filename": "a.pdf"}}]})
    status, body = await sim.send(send)
    assert status == 200, body
