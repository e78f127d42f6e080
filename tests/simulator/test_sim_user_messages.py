"""Each kind of user message, in Meta's exact inbound webhook shape."""
import base64
import hashlib

import pytest

from .helpers import DISPLAY, PDF, PNG, PNID, TOKEN, USER, V, WABA, WEBP_ANIMATED, cloud_error

pytestmark = pytest.mark.asyncio

B64 = lambda b: base64.b64encode(b).decode()  # noqa: E731


def only_message(sim):
    (value,) = sim.receiver.values()
    (msg,) = value["messages"]
    return value, msg


async def test_text_message_payload_is_exactly_metas(sim):
    data = await sim.user(type="text", text="hello there", profile_name="Alex")
    assert data["webhook_status"] == 200
    body = sim.receiver.received[0]["body"]
    ts = body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"]
    assert body == {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": WABA,
            "changes": [{
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": DISPLAY, "phone_number_id": PNID},
                    "contacts": [{"profile": {"name": "Alex"}, "wa_id": USER}],
                    "messages": [{"from": USER, "id": data["wamid"], "timestamp": ts, "type": "text",
                                  "text": {"body": "hello there"}}],
                },
                "field": "messages",
            }],
        }],
    }
    assert data["payload"] == body
    assert ts.isdigit()
    assert data["wamid"].startswith("wamid.")


async def test_image_with_caption(sim):
    await sim.user(type="image", data=B64(PNG), mime_type="image/png", caption="look")
    _, msg = only_message(sim)
    assert msg["type"] == "image"
    assert msg["image"] == {"caption": "look", "mime_type": "image/png",
                            "sha256": hashlib.sha256(PNG).hexdigest(), "id": msg["image"]["id"]}
    resp = await sim.client.get(f"/{V}/{msg['image']['id']}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert (await resp.json())["file_size"] == len(PNG)


async def test_document_audio_video_sticker(sim):
    await sim.user(type="document", data=B64(PDF), mime_type="application/pdf", filename="a.pdf")
    await sim.user(type="audio", data=B64(b"OggS..."), mime_type="audio/ogg; codecs=opus", voice=True)
    await sim.user(type="video", data=B64(b"\0\0\0\x18ftypmp42"), mime_type="video/mp4", caption="clip")
    await sim.user(type="sticker", data=B64(WEBP_ANIMATED), mime_type="image/webp")
    doc, audio, video, sticker = sim.receiver.messages()
    assert doc["document"]["filename"] == "a.pdf" and doc["document"]["mime_type"] == "application/pdf"
    assert "caption" not in doc["document"]
    assert audio["audio"] == {"mime_type": "audio/ogg", "sha256": audio["audio"]["sha256"],
                              "id": audio["audio"]["id"], "voice": True}
    assert video["video"]["caption"] == "clip"
    assert sticker["sticker"]["animated"] is True and sticker["sticker"]["mime_type"] == "image/webp"


async def test_location_and_contacts(sim):
    await sim.user(type="location", location={"latitude": 35.6812, "longitude": 139.7671,
                                              "name": "Tokyo Station", "address": "Marunouchi"})
    contacts = [{"name": {"formatted_name": "Ann Lee", "first_name": "Ann"},
                 "phones": [{"phone": "+1 555 000 1111", "wa_id": "15550001111", "type": "CELL"}]}]
    await sim.user(type="contacts", contacts=contacts)
    loc, con = sim.receiver.messages()
    assert loc["location"] == {"latitude": 35.6812, "longitude": 139.7671, "name": "Tokyo Station",
                               "address": "Marunouchi"}
    assert con["type"] == "contacts" and con["contacts"] == contacts


async def interactive(sim, kind):
    if kind == "button":
        inter = {"type": "button", "body": {"text": "Sure?"},
                 "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                                        {"type": "reply", "reply": {"id": "no", "title": "No"}}]}}
    else:
        inter = {"type": "list", "body": {"text": "Pick"}, "action": {"button": "Menu", "sections": [
            {"title": "Plans", "rows": [{"id": "basic", "title": "Basic", "description": "USD 2"},
                                        {"id": "pro", "title": "Pro"}]}]}}
    status, body = await sim.send({"messaging_product": "whatsapp", "to": USER, "type": "interactive",
                                   "interactive": inter})
    assert status == 200
    return body["messages"][0]["id"]


async def test_button_reply_answers_the_interactive_message(chatting):
    sim = chatting
    wamid = await interactive(sim, "button")
    await sim.user(type="button_reply", button_reply={"id": "no"})
    msg = sim.receiver.messages()[-1]
    assert msg["type"] == "interactive"
    assert msg["interactive"] == {"type": "button_reply", "button_reply": {"id": "no", "title": "No"}}
    assert msg["context"] == {"from": DISPLAY, "id": wamid}
    # an id the message did not offer
    data = await sim.user(expect=400, type="button_reply", button_reply={"id": "maybe"})
    assert "not an option" in data["error"]


async def test_list_reply_with_explicit_context(chatting):
    sim = chatting
    first = await interactive(sim, "list")
    await interactive(sim, "button")
    await sim.user(type="list_reply", list_reply={"id": "basic"}, context_message_id=first)
    msg = sim.receiver.messages()[-1]
    assert msg["interactive"] == {"type": "list_reply",
                                  "list_reply": {"id": "basic", "title": "Basic", "description": "USD 2"}}
    assert msg["context"] == {"from": DISPLAY, "id": first}
    await sim.user(type="list_reply", list_reply={"id": "pro"})
    assert sim.receiver.messages()[-1]["interactive"]["list_reply"] == {"id": "pro", "title": "Pro"}


async def test_reply_without_anything_to_reply_to(sim):
    data = await sim.user(expect=400, type="button_reply", button_reply={"id": "yes"})
    assert "no button message" in data["error"]
    data = await sim.user(expect=404, type="list_reply", list_reply={"id": "x"}, context_message_id="wamid.nope")
    assert "not in this chat" in data["error"]


async def test_template_quick_reply_button(sim):
    await sim.control("POST", "/_sim/templates", expect=201, json={
        "name": "confirm", "language": "en_US", "category": "UTILITY", "body": "Confirm?", "buttons": ["Yes", "No"]})
    _, body = await sim.send({"messaging_product": "whatsapp", "to": USER, "type": "template",
                              "template": {"name": "confirm", "language": {"code": "en_US"}}})
    wamid = body["messages"][0]["id"]
    await sim.user(type="button", button={"text": "Yes", "payload": "YES-1"})
    msg = sim.receiver.messages()[-1]
    assert msg["type"] == "button"
    assert msg["button"] == {"payload": "YES-1", "text": "Yes"}
    assert msg["context"] == {"from": DISPLAY, "id": wamid}


async def test_reaction_and_context_reply(chatting):
    sim = chatting
    _, body = await sim.text("how was it?")
    wamid = body["messages"][0]["id"]
    await sim.user(type="reaction", reaction={"message_id": wamid, "emoji": "\u2764\ufe0f"})
    await sim.user(type="text", text="great", context_message_id=wamid)
    reaction, reply = sim.receiver.messages()[-2:]
    assert reaction["type"] == "reaction" and reaction["reaction"] == {"message_id": wamid, "emoji": "\u2764\ufe0f"}
    assert "context" not in reaction
    assert reply["context"] == {"from": DISPLAY, "id": wamid}


async def test_unsupported_message(sim):
    await sim.user(type="unsupported")
    _, msg = only_message(sim)
    assert msg["type"] == "unsupported"
    assert msg["errors"] == [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                              "error_data": {"details": "Message type is currently not supported."}}]


@pytest.mark.parametrize("body,status", [
    ({"type": "fax"}, 400),
    ({"type": "text"}, 400),
    ({"type": "image", "data": "%%%", "mime_type": "image/png"}, 400),
    ({"type": "image", "data": B64(PNG)}, 400),
    ({"type": "location", "location": {"latitude": "x"}}, 400),
    ({"type": "contacts", "contacts": []}, 400),
    ({"type": "reaction", "reaction": {"emoji": "x"}}, 400),
    ({"type": "text", "text": "hi", "phone_number_id": "nope"}, 404),
    ({"type": "text", "text": "hi", "duplicate": 0}, 400),
])
async def test_bad_user_messages(sim, body, status):
    data = await sim.user(expect=status, **body)
    assert "error" in data
    assert sim.receiver.received == []


async def test_bad_wa_id(sim):
    resp = await sim.client.post("/_sim/users/abc/messages", json={"type": "text", "text": "hi"})
    assert resp.status == 400


async def test_business_marks_an_incoming_message_read(sim):
    data = await sim.user(type="text", text="hi")
    h = {"Authorization": f"Bearer {TOKEN}"}
    resp = await sim.client.post(f"/{V}/{PNID}/messages", headers=h, json={
        "messaging_product": "whatsapp", "status": "read", "message_id": data["wamid"],
        "typing_indicator": {"type": "text"}})
    assert resp.status == 200 and await resp.json() == {"success": True}
    assert sim.core.state.get_message(data["wamid"]).status == "read"
    resp = await sim.client.post(f"/{V}/{PNID}/messages", headers=h, json={
        "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.unknown"})
    cloud_error(resp.status, await resp.json(), 100)
    resp = await sim.client.post(f"/{V}/{PNID}/messages", headers=h, json={
        "messaging_product": "whatsapp", "status": "read"})
    cloud_error(resp.status, await resp.json(), 131008)
