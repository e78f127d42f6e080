"""Meta's side of template reviews: `message_template_status_update` webhooks when a
template's status changes through the control API, and the paged template list."""
import pytest

from .helpers import TOKEN, V, WABA, graph_error

pytestmark = pytest.mark.asyncio
H = {"Authorization": f"Bearer {TOKEN}"}


def template_changes(receiver):
    return [(d["body"], c) for d in receiver.received for e in d["body"]["entry"] for c in e["changes"]
            if c["field"] == "message_template_status_update"]


async def submit(sim, name, body="Hi {{1}}", category="UTILITY"):
    resp = await sim.client.post(f"/{V}/{WABA}/message_templates", headers=H, json={
        "name": name, "language": "en_US", "category": category,
        "components": [{"type": "BODY", "text": body}]})
    data = await resp.json()
    assert resp.status == 200, data
    return data


async def test_a_review_through_the_control_api_sends_a_signed_status_webhook(make_sim, receiver):
    sim = await make_sim(template_auto_approve=False)
    created = await submit(sim, "order_update")
    assert created["status"] == "PENDING" and template_changes(receiver) == []

    answer = await sim.control("POST", "/_sim/templates", expect=201, json={
        "name": "order_update", "language": "en_US", "status": "APPROVED"})
    assert answer["webhook_status"] == 200 and answer["template"]["components"][0]["text"] == "Hi {{1}}"
    [(body, change)] = template_changes(receiver)
    assert body["object"] == "whatsapp_business_account"
    [entry] = body["entry"]
    assert entry["id"] == WABA and isinstance(entry["time"], int)
    assert change["value"] == {
        "event": "APPROVED", "message_template_id": int(created["id"]),
        "message_template_name": "order_update", "message_template_language": "en_US",
        "reason": "NONE", "message_template_category": "UTILITY"}
    assert receiver.rejected == []  # the receiver checked X-Hub-Signature-256 over the raw body

    await sim.control("POST", "/_sim/templates", expect=201, json={
        "name": "order_update", "language": "en_US", "status": "REJECTED", "reason": "INVALID_FORMAT"})
    await sim.control("POST", "/_sim/templates", expect=201, json={
        "name": "order_update", "language": "en_US", "status": "PAUSED"})
    rejected, paused = [c["value"] for _, c in template_changes(receiver)[1:]]
    assert (rejected["event"], rejected["reason"]) == ("REJECTED", "INVALID_FORMAT")
    assert paused["event"] == "PAUSED" and paused["other_info"]["title"] == "FIRST_PAUSE"

    log = await sim.control("GET", "/_sim/webhooks", params={"kind": "template_status"})
    assert [d["status"] for d in log["deliveries"]] == ["APPROVED", "REJECTED", "PAUSED"]


async def test_no_webhook_without_a_status_change(make_sim, receiver):
    sim = await make_sim()
    new = await sim.control("POST", "/_sim/templates", expect=201, json={
        "name": "fresh", "language": "en_US", "category": "UTILITY", "body": "x", "status": "PENDING"})
    same = await sim.control("POST", "/_sim/templates", expect=201, json={
        "name": "fresh", "language": "en_US", "status": "PENDING", "body": "new text"})
    assert new["webhook_status"] is None and same["webhook_status"] is None
    assert same["template"]["components"][0]["text"] == "new text"
    assert template_changes(receiver) == []


async def test_the_template_list_is_paged_with_cursors_and_next(make_sim):
    sim = await make_sim(template_auto_approve=False)
    for i in range(4):
        await submit(sim, f"t_{i}")  # with hello_world: 5 templates
    await sim.control("POST", "/_sim/templates", expect=201, json={
        "name": "t_2", "language": "en_US", "status": "REJECTED", "reason": "SCAM"})
    names, after, pages = [], None, 0
    while True:
        params = {"limit": "2", "fields": "id,name,status,rejected_reason"}
        if after:
            params["after"] = after
        resp = await sim.client.get(f"/{V}/{WABA}/message_templates", headers=H, params=params)
        page = await resp.json()
        assert resp.status == 200, page
        pages += 1
        names += [(t["name"], t["status"], t["rejected_reason"]) for t in page["data"]]
        assert set(page["data"][0]) == {"id", "name", "status", "rejected_reason"}
        if "next" not in page["paging"]:
            break
        assert f"after={page['paging']['cursors']['after']}" in page["paging"]["next"]
        after = page["paging"]["cursors"]["after"]
    assert pages == 3 and len(names) == 5
    assert ("t_2", "REJECTED", "SCAM") in names and ("t_0", "PENDING", "NONE") in names

    default = await (await sim.client.get(f"/{V}/{WABA}/message_templates", headers=H)).json()
    assert len(default["data"]) == 5 and "next" not in default["paging"]
    assert "rejected_reason" not in default["data"][0]  # not a default field

    resp = await sim.client.get(f"/{V}/{WABA}/message_templates", headers=H, params={"limit": "0"})
    graph_error(resp.status, await resp.json(), 100, 400)
    resp = await sim.client.get(f"/{V}/{WABA}/message_templates", headers=H, params={"fields": "nope"})
    graph_error(resp.status, await resp.json(), 100, 400)
