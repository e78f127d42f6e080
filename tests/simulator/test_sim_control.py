"""The control API: threads, cursors, numbers, clock, reset, events, page, config."""
import asyncio

import pytest

from .helpers import PNID, USER, WABA

pytestmark = pytest.mark.asyncio


async def test_thread_has_both_directions_in_order(chatting):
    sim = chatting
    _, a = await sim.text("hello Alex")
    await sim.receiver.wait_statuses(a["messages"][0]["id"], ["read"])
    await sim.user(type="text", text="thanks")
    thread = await sim.control("GET", f"/_sim/users/{USER}/messages?phone_number_id={PNID}")
    assert thread["window_open"] is True
    msgs = thread["messages"]
    assert [(m["direction"], m["type"]) for m in msgs] == [("inbound", "text"), ("outbound", "text"), ("inbound", "text")]
    assert [m["seq"] for m in msgs] == sorted(m["seq"] for m in msgs)
    assert msgs[0]["profile_name"] == "Alex" and msgs[0]["content"] == {"body": "hi"}
    out = msgs[1]
    assert out["status"] == "read"
    assert [s["status"] for s in out["statuses"]] == ["sent", "delivered", "read"]
    assert out["request"]["text"] == {"body": "hello Alex"}
    assert out["conversation"]["origin"]["type"] == "service"
    assert out["pricing"]["category"] == "service"


async def test_outbound_messages_with_since_cursor(chatting):
    sim = chatting
    await sim.text("one")
    first = await sim.control("GET", "/_sim/messages")
    assert [m["content"]["body"] for m in first["messages"]] == ["one"]
    await sim.text("two")
    await sim.text("three")
    rest = await sim.control("GET", f"/_sim/messages?since={first['cursor']}")
    assert [m["content"]["body"] for m in rest["messages"]] == ["two", "three"]
    none = await sim.control("GET", f"/_sim/messages?since={rest['cursor']}")
    assert none == {"messages": [], "cursor": rest["cursor"]}
    other = await sim.control("GET", "/_sim/messages?wa_id=19999999999")
    assert other["messages"] == []


async def test_register_a_number_and_use_it(sim):
    data = await sim.control("POST", "/_sim/numbers", expect=201, json={
        "phone_number_id": "100000000000002", "access_token": "tok-2",
        "display_phone_number": "15550000002", "waba_id": "200000000000002", "verified_name": "Shop B"})
    assert data["number"]["waba_id"] == "200000000000002"
    numbers = await sim.control("GET", "/_sim/numbers")
    assert [n["phone_number_id"] for n in numbers["numbers"]] == [PNID, "100000000000002"]
    assert all("access_token" not in n for n in numbers["numbers"])
    await sim.user(type="text", text="hi B", phone_number_id="100000000000002")
    value = sim.receiver.values()[-1]
    assert value["metadata"] == {"display_phone_number": "15550000002", "phone_number_id": "100000000000002"}
    assert sim.receiver.received[-1]["body"]["entry"][0]["id"] == "200000000000002"
    status, _ = await sim.text("from B", token="tok-2", pnid="100000000000002")
    assert status == 200
    # the window is per business number
    status, body = await sim.text("from A")
    failed = await sim.receiver.wait_statuses(body["messages"][0]["id"], ["failed"])
    assert failed[0]["errors"][0]["code"] == 131047
    await sim.control("POST", "/_sim/numbers", expect=400, json={"phone_number_id": "x"})


async def test_clock(sim):
    before = await sim.control("GET", "/_sim/clock")
    after = await sim.control("POST", "/_sim/clock", json={"advance_hours": 2, "advance_seconds": 5})
    assert after["offset_seconds"] == 7205
    assert after["now"] - before["now"] >= 7205
    await sim.control("POST", "/_sim/clock", expect=400, json={"advance_seconds": -1})
    await sim.user(type="text", text="hi")
    assert int(sim.receiver.messages()[0]["timestamp"]) >= after["now"]


async def test_reset(chatting):
    sim = chatting
    await sim.control("POST", "/_sim/numbers", expect=201, json={"phone_number_id": "9", "access_token": "t9"})
    await sim.control("POST", "/_sim/clock", json={"advance_hours": 5})
    await sim.control("POST", "/_sim/faults", expect=201, json={"code": 131000, "count": -1})
    await sim.control("POST", "/_sim/reset")
    assert (await sim.control("GET", "/_sim/clock"))["offset_seconds"] == 0
    assert [n["phone_number_id"] for n in (await sim.control("GET", "/_sim/numbers"))["numbers"]] == [PNID]
    assert (await sim.control("GET", "/_sim/faults"))["faults"] == {}
    assert (await sim.control("GET", "/_sim/messages"))["messages"] == []
    thread = await sim.control("GET", f"/_sim/users/{USER}/messages")
    assert thread["messages"] == [] and thread["window_open"] is False
    assert [t["name"] for t in (await sim.control("GET", "/_sim/templates"))["templates"]] == ["hello_world"]


async def test_events_long_poll(chatting):
    sim = chatting
    thread = await sim.control("GET", f"/_sim/users/{USER}/messages")
    cursor = thread["event_cursor"]
    assert cursor >= 1
    poll = asyncio.ensure_future(sim.control(
        "GET", f"/_sim/events?since={cursor}&wa_id={USER}&phone_number_id={PNID}&timeout=5"))
    await asyncio.sleep(0.05)
    assert not poll.done()
    _, body = await sim.text("live")
    got = await asyncio.wait_for(poll, 3)
    assert got["events"][0]["type"] == "message"
    assert got["events"][0]["message"]["wamid"] == body["messages"][0]["id"]
    assert got["cursor"] == got["events"][-1]["seq"]
    empty = await sim.control("GET", f"/_sim/events?since={got['cursor']}&wa_id=19999999999&timeout=0")
    assert empty["events"] == [] and empty["cursor"] >= got["cursor"]
    await sim.control("POST", "/_sim/reset")
    after = await sim.control("GET", f"/_sim/events?since={got['cursor']}&timeout=5")
    assert after["reset"] is True and after["cursor"] == 0


async def test_settings(sim):
    data = await sim.control("GET", "/_sim/settings")
    assert data["settings"]["auto_read"] is True
    assert data["config"]["default_phone_number_id"] == PNID and data["config"]["signing"] is True
    await sim.control("POST", "/_sim/settings", expect=400, json={"status_order": "random"})
    await sim.control("POST", "/_sim/settings", expect=400, json={"nonsense": 1})
    await sim.control("POST", "/_sim/settings", expect=400, json={"status_duplicates": 0})
    data = await sim.control("POST", "/_sim/settings", json={"auto_read": False, "status_delay_ms": 0})
    assert data["settings"]["auto_read"] is False and data["settings"]["status_delay_ms"] == 0


async def test_page_is_served_and_escapes_data(sim):
    resp = await sim.client.get("/")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "script-src 'unsafe-inline'" in resp.headers["Content-Security-Policy"]
    html = await resp.text()
    assert "<title>" in html and "/_sim/events" in html
    assert "innerHTML" not in html and "outerHTML" not in html and "insertAdjacentHTML" not in html
    assert "document.write" not in html
    assert "http://" not in html.replace('"http:"', "") and "https://" not in html  # no external assets


async def test_page_media_view(sim):
    import base64
    from .helpers import PNG
    await sim.user(type="image", data=base64.b64encode(PNG).decode(), mime_type="image/png")
    media_id = sim.receiver.messages()[0]["image"]["id"]
    resp = await sim.client.get(f"/_sim/media/{media_id}")
    assert resp.status == 200 and await resp.read() == PNG
    resp = await sim.client.get("/_sim/media/000")
    assert resp.status == 404


async def test_preload_files(make_sim, tmp_path):
    import json
    numbers = tmp_path / "numbers.json"
    numbers.write_text(json.dumps([{"phone_number_id": "7", "access_token": "t7", "display_phone_number": "15557777777",
                                    "waba_id": WABA}]))
    templates = tmp_path / "templates.json"
    templates.write_text(json.dumps([{"name": "lead_followup", "language": "ja", "category": "MARKETING",
                                      "body": "{{1}}様、お問い合わせありがとうございます"}]))
    sim = await make_sim(numbers_file=str(numbers), templates_file=str(templates))
    assert sim.core.state.get_number("7").access_token == "t7"
    t = sim.core.state.find_template(WABA, "lead_followup", "ja")
    assert t.status == "APPROVED" and t.category == "MARKETING"
