import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudapi.payloads import InboundMessage, MalformedPayload, StatusUpdate, parse_webhook


def envelope(value: dict, phone_number_id="111") -> dict:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
             **value}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]}


def message(kind: str, body: dict, **extra) -> dict:
    return envelope({
        "contacts": [{"profile": {"name": "Kerry Fisher"}, "wa_id": "16315551234"}],
        "messages": [{"from": "16315551234", "id": f"wamid.{kind}", "timestamp": "1700000000",
                      "type": kind, kind: body, **extra}]})


def test_text_message_with_profile_name():
    [item] = parse_webhook(message("text", {"body": "Hello"}))
    assert isinstance(item, InboundMessage)
    assert (item.phone_number_id, item.wa_id, item.profile_name) == ("111", "16315551234", "Kerry Fisher")
    assert (item.wamid, item.type, item.text) == ("wamid.text", "text", "Hello")
    assert item.timestamp.timestamp() == 1700000000


@pytest.mark.parametrize("kind,body,text,payload", [
    ("image", {"id": "m1", "mime_type": "image/jpeg", "sha256": "x", "caption": "look"}, "look", None),
    ("document", {"id": "m2", "mime_type": "application/pdf", "filename": "a.pdf"}, None, None),
    ("interactive", {"type": "button_reply", "button_reply": {"id": "/faq", "title": "FAQ"}}, "FAQ", "/faq"),
    ("interactive", {"type": "list_reply", "list_reply": {"id": "r2", "title": "Sales", "description": "d"}}, "Sales", "r2"),
    ("button", {"payload": "YES", "text": "Yes please"}, "Yes please", "YES"),
    ("location", {"latitude": 1.5, "longitude": 2.5, "name": "HQ", "address": "1 Main St"}, "HQ 1 Main St", None),
    ("reaction", {"message_id": "wamid.x", "emoji": "👍"}, "👍", None),
])
def test_other_message_types(kind, body, text, payload):
    [item] = parse_webhook(message(kind, body))
    assert (item.type, item.text, item.payload) == (kind, text, payload)


def test_media_fields_and_reply_context():
    [item] = parse_webhook(message("document", {"id": "m2", "mime_type": "application/pdf",
                                                "filename": "a.pdf"}, context={"from": "1555", "id": "wamid.prev"}))
    assert (item.media_id, item.mime_type, item.filename, item.context_wamid) == (
        "m2", "application/pdf", "a.pdf", "wamid.prev")


def test_status_with_conversation_and_pricing():
    body = envelope({"statuses": [{
        "id": "wamid.out", "status": "delivered", "timestamp": "1700000100", "recipient_id": "16315551234",
        "conversation": {"id": "c1", "origin": {"type": "service"}},
        "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"}}]})
    [item] = parse_webhook(body)
    assert isinstance(item, StatusUpdate)
    assert (item.status, item.dedupe_key) == ("delivered", "wamid.out:delivered")
    assert item.pricing["category"] == "service" and item.conversation["id"] == "c1"


def test_several_numbers_in_one_body_keep_their_own_number():
    a, b = message("text", {"body": "a"}), message("text", {"body": "b"})
    b["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "222"
    a["entry"].append(b["entry"][0])
    assert [i.phone_number_id for i in parse_webhook(a)] == ["111", "222"]


def test_non_message_fields_are_skipped():
    body = {"object": "whatsapp_business_account",
            "entry": [{"id": "W", "changes": [{"field": "message_template_status_update", "value": {}}]}]}
    assert parse_webhook(body) == []


@pytest.mark.parametrize("body", [
    None, [], {"object": "page", "entry": []}, {"object": "whatsapp_business_account"},
    {"object": "whatsapp_business_account", "entry": "x"},
    {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {}}]}]},
    message("text", {}),
    message("text", {"body": 5}),
    message("text", {"body": "x"}, timestamp="yesterday"),
])
def test_malformed_bodies_raise_malformed_payload(body):
    with pytest.raises(MalformedPayload):
        parse_webhook(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_fuzz_arbitrary_json_never_crashes(value):
    try:
        parse_webhook(value)
    except MalformedPayload:
        pass


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["from", "id", "timestamp", "type", "text", "image",
                                        "interactive", "context", "button"]),
                       json_values, max_size=9))
def test_fuzz_message_objects_inside_a_valid_envelope(msg):
    body = envelope({"messages": [msg]})
    try:
        items = parse_webhook(json.loads(json.dumps(body)))
    except MalformedPayload:
        return
    assert all(isinstance(i.wamid, str) and isinstance(i.wa_id, str) for i in items)


def template_change(value, waba="200000000000001", time=1767225600):
    return {"object": "whatsapp_business_account",
            "entry": [{"id": waba, "time": time,
                       "changes": [{"field": "message_template_status_update", "value": value}]}]}


APPROVED = {"event": "APPROVED", "message_template_id": 1689556908129832, "message_template_name": "order_update",
            "message_template_language": "en_US", "reason": "NONE", "message_template_category": "UTILITY"}


def test_a_template_status_update_is_a_typed_item_with_a_stable_dedupe_key():
    from cloudapi.payloads import TemplateStatusUpdate

    [item] = parse_webhook(template_change(APPROVED))
    assert isinstance(item, TemplateStatusUpdate)
    assert (item.waba_id, item.template_id, item.name, item.language, item.event, item.reason, item.category) == (
        "200000000000001", "1689556908129832", "order_update", "en_US", "APPROVED", "NONE", "UTILITY")
    assert item.timestamp.isoformat() == "2026-01-01T00:00:00+00:00"
    [again] = parse_webhook(json.loads(json.dumps(template_change(APPROVED))))  # a redelivery
    assert again.dedupe_key == item.dedupe_key
    [rejected] = parse_webhook(template_change(dict(APPROVED, event="REJECTED", reason="SCAM")))
    [later] = parse_webhook(template_change(APPROVED, time=1767229200))  # approved again after a pause
    assert len({item.dedupe_key, rejected.dedupe_key, later.dedupe_key}) == 3
    [no_time] = parse_webhook(template_change(dict(APPROVED, reason=None), time=None))
    assert no_time.timestamp is None and no_time.reason is None and ":-:" in no_time.dedupe_key


@pytest.mark.parametrize("value", [
    {}, "APPROVED", dict(APPROVED, message_template_id=None), dict(APPROVED, message_template_id=True),
    dict(APPROVED, event=""), dict(APPROVED, message_template_name=5), dict(APPROVED, reason=["x"]),
])
def test_a_malformed_template_change_is_skipped_with_a_log_and_the_rest_kept(value, caplog):
    body = message("text", {"body": "still here"})
    body["entry"].insert(0, template_change(value)["entry"][0])
    with caplog.at_level("WARNING", logger="cloudapi.payloads"):
        items = parse_webhook(body)
    assert [type(i).__name__ for i in items] == ["InboundMessage"] and items[0].text == "still here"
    assert "ignored a malformed message_template_status_update change" in caplog.text
