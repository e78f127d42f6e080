"""Every message validation rule of the Messages reference, with its code."""
import copy

import pytest

from .helpers import USER, cloud_error

pytestmark = pytest.mark.asyncio


def msg(mtype, obj, **extra):
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": USER, "type": mtype}
    if obj is not None:
        body[mtype] = obj
    body.update(extra)
    return body


def buttons(*titles, ids=None):
    ids = ids or [f"b{i}" for i in range(len(titles))]
    return {"type": "button", "body": {"text": "Pick one"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": i, "title": t}} for i, t in zip(ids, titles)]}}


def a_list(sections=None, label="Options", **extra):
    sections = sections if sections is not None else [
        {"title": "Main", "rows": [{"id": "r1", "title": "One", "description": "First"}]}]
    return {"type": "list", "body": {"text": "Choose"}, "action": {"button": label, "sections": sections}, **extra}


def rows(n, prefix="r"):
    return [{"id": f"{prefix}{i}", "title": f"Row {i}"} for i in range(n)]


CTA = {"type": "cta_url", "body": {"text": "See"},
       "action": {"name": "cta_url", "parameters": {"display_text": "Open site", "url": "https://example.com/x"}}}

VALID = [
    msg("text", {"body": "hello", "preview_url": True}),
    {"messaging_product": "whatsapp", "to": USER, "text": {"body": "type defaults to text"}},
    msg("text", {"body": "x" * 4096}),
    msg("image", {"link": "https://example.com/a.jpg", "caption": "c" * 1024}),
    msg("video", {"link": "https://example.com/a.mp4", "caption": "v"}),
    msg("audio", {"link": "https://example.com/a.mp3"}),
    msg("document", {"link": "https://example.com/a.pdf", "filename": "a.pdf", "caption": "doc"}),
    msg("sticker", {"link": "https://example.com/a.webp"}),
    msg("location", {"latitude": 35.68, "longitude": 139.76, "name": "Tokyo", "address": "Chiyoda"}),
    msg("contacts", [{"name": {"formatted_name": "Ann Lee", "first_name": "Ann"},
                      "phones": [{"phone": "+15550001111", "type": "CELL"}]}]),
    msg("interactive", buttons("Yes")),
    msg("interactive", buttons("A" * 20, "B", "C", ids=["x" * 256, "y", "z"])),
    msg("interactive", {**buttons("Yes", "No"), "header": {"type": "text", "text": "h" * 60},
                        "footer": {"text": "f" * 60}}),
    msg("interactive", {**buttons("Yes"), "header": {"type": "image", "image": {"link": "https://e.com/i.png"}}}),
    msg("interactive", {**buttons("Yes"), "body": {"text": "b" * 1024}}),
    msg("interactive", a_list()),
    msg("interactive", a_list(label="L" * 20, sections=[
        {"title": "S" * 24, "rows": [{"id": "i" * 200, "title": "t" * 24, "description": "d" * 72}]}])),
    msg("interactive", a_list(sections=[{"title": f"S{i}", "rows": rows(1, f"s{i}r")} for i in range(10)])),
    msg("interactive", a_list(sections=[{"title": "A", "rows": rows(5, "a")}, {"title": "B", "rows": rows(5, "b")}])),
    msg("interactive", a_list(sections=[{"rows": rows(3)}])),  # one section: title optional
    msg("interactive", CTA),
    msg("reaction", {"message_id": "wamid.X", "emoji": "\U0001F44D"}),
    msg("reaction", {"message_id": "wamid.X", "emoji": ""}),
    msg("text", {"body": "reply"}, context={"message_id": "wamid.ABC"}),
    msg("text", {"body": "tracked"}, biz_opaque_callback_data="order-17"),
    {**msg("text", {"body": "formatted number"}), "to": "+1 555-123-4567"},
]


@pytest.mark.parametrize("body", VALID, ids=range(len(VALID)))
async def test_valid_messages_are_accepted_with_meta_shape(chatting, body):
    status, resp = await chatting.send(body)
    assert status == 200, resp
    assert resp["messaging_product"] == "whatsapp"
    assert resp["contacts"] == [{"input": body["to"], "wa_id": USER}]
    assert len(resp["messages"]) == 1
    assert resp["messages"][0]["id"].startswith("wamid.")
    assert "message_status" not in resp["messages"][0]


def mutate(body, path, value):
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


TEXT = msg("text", {"body": "hello"})
BUTTONS = msg("interactive", buttons("Yes", "No"))
LIST = msg("interactive", a_list())
CTA_MSG = msg("interactive", CTA)

INVALID = [
    # (body, code) — top level
    (mutate(TEXT, ["messaging_product"], KeyError), 100),
    (mutate(TEXT, ["messaging_product"], "sms"), 100),
    (mutate(TEXT, ["recipient_type"], "group_chat"), 100),
    (mutate(TEXT, ["to"], KeyError), 131008),
    (mutate(TEXT, ["to"], "not-a-number"), 131009),
    (mutate(TEXT, ["type"], "fax"), 100),
    (mutate(TEXT, ["text"], KeyError), 131008),
    (mutate(TEXT, ["text"], "hello"), 100),
    (mutate(TEXT, ["context"], {}), 131008),
    (mutate(TEXT, ["biz_opaque_callback_data"], "x" * 513), 131009),
    # text
    (mutate(TEXT, ["text", "body"], "x" * 4097), 100),
    (mutate(TEXT, ["text", "body"], ""), 131008),
    (mutate(TEXT, ["text", "body"], "   "), 131008),
    (mutate(TEXT, ["text", "preview_url"], "yes"), 100),
    # media
    (msg("image", {}), 131008),
    (msg("image", {"id": "1", "link": "https://e.com/a.png"}), 100),
    (msg("image", {"id": "123456"}), 131009),
    (msg("image", {"link": "ftp://e.com/a.png"}), 131009),
    (msg("image", {"link": "https://e.com/a.png", "caption": "c" * 1025}), 131009),
    (msg("audio", {"link": "https://e.com/a.mp3", "caption": "no"}), 100),
    (msg("sticker", {"link": "https://e.com/a.webp", "caption": "no"}), 100),
    (msg("image", {"link": "https://e.com/a.png", "filename": "a.png"}), 100),
    # location / contacts / reaction / template
    (msg("location", {"latitude": 1}), 131008),
    (msg("location", {"latitude": "north", "longitude": 2}), 100),
    (msg("location", {"latitude": 91, "longitude": 2}), 131009),
    (msg("contacts", []), 100),
    (msg("contacts", [{"phones": []}]), 131008),
    (msg("contacts", [{"name": {"first_name": "A"}}]), 131008),
    (msg("reaction", {"emoji": "x"}), 131008),
    (msg("reaction", {"message_id": "wamid.X"}), 131008),
    (msg("template", {"language": {"code": "en_US"}}), 131008),
    (msg("template", {"name": "hello_world"}), 131008),
    (msg("template", {"name": "hello_world", "language": {}}), 131008),
    # interactive: common
    (msg("interactive", {"body": {"text": "x"}, "action": {}}), 131008),
    (mutate(BUTTONS, ["interactive", "type"], "carousel"), 100),
    (mutate(BUTTONS, ["interactive", "body"], KeyError), 131008),
    (mutate(BUTTONS, ["interactive", "body", "text"], "b" * 1025), 131009),
    (mutate(BUTTONS, ["interactive", "footer"], {"text": "f" * 61}), 131009),
    (mutate(BUTTONS, ["interactive", "header"], {"type": "text", "text": "h" * 61}), 131009),
    (mutate(BUTTONS, ["interactive", "header"], {"type": "gif"}), 100),
    (mutate(BUTTONS, ["interactive", "action"], KeyError), 131008),
    # reply buttons
    (msg("interactive", {**buttons("A"), "action": {"buttons": []}}), 131009),
    (msg("interactive", buttons("A", "B", "C", "D")), 131009),
    (msg("interactive", buttons("A" * 21)), 131009),
    (msg("interactive", buttons("")), 131008),
    (msg("interactive", buttons("Same", "Same")), 131009),
    (msg("interactive", buttons("A", "B", ids=["dup", "dup"])), 131009),
    (msg("interactive", buttons("A", ids=["x" * 257])), 131009),
    (mutate(BUTTONS, ["interactive", "action", "buttons", 0, "type"], "url"), 100),
    (mutate(BUTTONS, ["interactive", "action", "buttons", 0, "reply", "id"], KeyError), 131008),
    # lists
    (msg("interactive", a_list(label="L" * 21)), 131009),
    (mutate(LIST, ["interactive", "action", "button"], KeyError), 131008),
    (msg("interactive", a_list(sections=[])), 131009),
    (msg("interactive", a_list(sections=[{"title": f"S{i}", "rows": rows(1, f"s{i}")} for i in range(11)])), 131009),
    (msg("interactive", a_list(sections=[{"title": "A", "rows": rows(6, "a")}, {"title": "B", "rows": rows(5, "b")}])), 131009),
    (msg("interactive", a_list(sections=[{"title": "S" * 25, "rows": rows(1)}])), 131009),
    (msg("interactive", a_list(sections=[{"rows": rows(1, "a")}, {"title": "B", "rows": rows(1, "b")}])), 131008),
    (msg("interactive", a_list(sections=[{"title": "A", "rows": []}])), 131009),
    (msg("interactive", a_list(sections=[{"title": "A", "rows": [{"id": "i" * 201, "title": "t"}]}])), 131009),
    (msg("interactive", a_list(sections=[{"title": "A", "rows": [{"id": "i", "title": "t" * 25}]}])), 131009),
    (msg("interactive", a_list(sections=[{"title": "A", "rows": [{"id": "i", "title": "t", "description": "d" * 73}]}])), 131009),
    (msg("interactive", a_list(sections=[{"title": "A", "rows": [{"id": "i", "title": "t"}, {"id": "i", "title": "u"}]}])), 131009),
    (msg("interactive", a_list(header={"type": "image", "image": {"link": "https://e.com/i.png"}})), 100),
    # cta_url
    (mutate(CTA_MSG, ["interactive", "action", "name"], "url"), 100),
    (mutate(CTA_MSG, ["interactive", "action", "parameters", "display_text"], "d" * 21), 131009),
    (mutate(CTA_MSG, ["interactive", "action", "parameters", "url"], "javascript:alert(1)"), 131009),
    (mutate(CTA_MSG, ["interactive", "action", "parameters", "url"], KeyError), 131008),
]


@pytest.mark.parametrize("body,code", INVALID, ids=range(len(INVALID)))
async def test_invalid_messages_are_rejected_with_metas_code(chatting, body, code):
    status, resp = await chatting.send(body)
    cloud_error(status, resp, code, 400)
    # nothing was accepted
    assert chatting.core.state.outbound_since(0) == []


async def test_length_errors_use_metas_wording(chatting):
    status, resp = await chatting.send(msg("interactive", buttons("A" * 21)))
    err = cloud_error(status, resp, 131009)
    assert err["message"] == "(#131009) Parameter value is not valid"
    assert err["error_data"]["details"] == "Button title length invalid. Min length: 1, Max length: 20"
    status, resp = await chatting.send(mutate(TEXT, ["text", "body"], "x" * 4097))
    err = cloud_error(status, resp, 100)
    assert err["message"] == "(#100) Invalid parameter"
    assert err["error_data"]["details"] == "Param text['body'] must be at most 4096 characters long."


async def test_recipient_cannot_be_sender(chatting):
    status, resp = await chatting.send(mutate(TEXT, ["to"], "15550000001"))
    cloud_error(status, resp, 131021)
