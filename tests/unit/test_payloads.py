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
@given(st.dictionaries(st.sampled_from(["from", "from_user_id", "id", "timestamp", "type", "text", "image",
                                        "interactive", "context", "button", "system"]),
                       json_values, max_size=9))
def test_fuzz_message_objects_inside_a_valid_envelope(msg):
    body = envelope({"messages": [msg]})
    try:
        items = parse_webhook(json.loads(json.dumps(body)))
    except MalformedPayload:
        return
    assert all(isinstance(i.wamid, str) and isinstance(i.user_key, str) and i.user_key for i in items)


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


# -- business-scoped user ids (BSUID) and usernames (Meta's webhooks since 2026-03-31) ----------

BSUID = "US.13491208655302741918"


def bsuid_message(kind="text", body=None, *, phone=None, user_id=BSUID, username="mika", parent=None):
    contact = {"profile": {"name": "Mika"}}
    if username:
        contact["profile"]["username"] = username
    msg = {"id": f"wamid.{kind}", "timestamp": "1700000000", "type": kind, kind: body or {"body": "hi"}}
    if phone:
        contact["wa_id"], msg["from"] = phone, phone
    if user_id:
        contact["user_id"], msg["from_user_id"] = user_id, user_id
    if parent:
        contact["parent_user_id"], msg["from_parent_user_id"] = parent, parent
    return envelope({"contacts": [contact], "messages": [msg]})


def test_a_username_only_user_without_from_or_wa_id_parses():
    [item] = parse_webhook(bsuid_message(parent="US.ENT.11815799212886844830"))
    assert (item.wa_id, item.user_id, item.username, item.profile_name) == (None, BSUID, "mika", "Mika")
    assert item.parent_user_id == "US.ENT.11815799212886844830"
    assert item.user_key == BSUID and item.text == "hi"


def test_phone_and_bsuid_together_keep_both_and_the_phone_names_the_user():
    [item] = parse_webhook(bsuid_message(phone="16315551234"))
    assert (item.wa_id, item.user_id, item.user_key) == ("16315551234", BSUID, "16315551234")


def test_a_message_with_neither_phone_nor_bsuid_is_malformed():
    with pytest.raises(MalformedPayload, match="from_user_id"):
        parse_webhook(bsuid_message(user_id=None))


def test_a_status_to_a_bsuid_only_user_parses():
    body = envelope({"statuses": [{"id": "wamid.out", "status": "read", "timestamp": "1700000100",
                                   "recipient_user_id": BSUID}]})
    [item] = parse_webhook(body)
    assert (item.recipient_id, item.recipient_user_id, item.user_key) == (None, BSUID, BSUID)
    with pytest.raises(MalformedPayload):
        parse_webhook(envelope({"statuses": [{"id": "w", "status": "read", "timestamp": "1700000100"}]}))


def test_system_messages_carry_the_new_identity():
    changed_number = envelope({"messages": [{
        "from": "16505551234", "from_user_id": BSUID, "id": "wamid.sys1", "timestamp": "1739321024",
        "type": "system", "system": {"body": "User Mika changed from 16505551234 to 12195555358",
                                     "wa_id": "12195555358", "type": "user_changed_number"}}]})
    [item] = parse_webhook(changed_number)
    assert (item.type, item.system_type, item.new_wa_id, item.wa_id) == (
        "system", "user_changed_number", "12195555358", "16505551234")
    assert item.text.startswith("User Mika changed")
    changed_id = envelope({"messages": [{
        "from_user_id": BSUID, "id": "wamid.sys2", "timestamp": "1739321024", "type": "system",
        "system": {"body": "User Mika changed their user id", "user_id": "US.99", "type": "user_changed_user_id"}}]})
    [item] = parse_webhook(changed_id)
    assert (item.system_type, item.new_user_id, item.new_wa_id, item.user_key) == (
        "user_changed_user_id", "US.99", None, BSUID)


identities = st.from_regex(r"\A[0-9]{7,15}\Z", fullmatch=True)
bsuids = st.from_regex(r"\A[A-Z]{2}\.(ENT\.)?[0-9A-Za-z]{1,128}\Z", fullmatch=True)
usernames = st.from_regex(r"\A[a-z0-9._]{3,30}\Z", fullmatch=True)
bodies = st.sampled_from([
    ("text", {"body": "hello"}),
    ("image", {"id": "m1", "mime_type": "image/jpeg", "caption": "look"}),
    ("interactive", {"type": "button_reply", "button_reply": {"id": "/faq", "title": "FAQ"}}),
    ("button", {"payload": "YES", "text": "Yes"}),
    ("location", {"latitude": 1.5, "longitude": 2.5}),
    ("reaction", {"message_id": "wamid.x", "emoji": "👍"}),
    ("unsupported", {}),
    # every other type Meta documents for the messages webhook
    ("document", {"id": "m2", "mime_type": "application/pdf", "filename": "a.pdf", "caption": "doc"}),
    ("audio", {"id": "m3", "mime_type": "audio/ogg; codecs=opus", "voice": True}),
    ("video", {"id": "m4", "mime_type": "video/mp4"}),
    ("sticker", {"id": "m5", "mime_type": "image/webp", "animated": False}),
    ("interactive", {"type": "list_reply", "list_reply": {"id": "row1", "title": "Row", "description": "d"}}),
    ("interactive", {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{}"}}),
    ("contacts", [{"name": {"formatted_name": "Pablo Morales", "first_name": "Pablo"},
                   "phones": [{"phone": "+1 650-555-1234", "wa_id": "16505551234", "type": "CELL"}]}]),
    ("order", {"catalog_id": "c1", "text": "gift", "product_items": [
        {"product_retailer_id": "MUG-01", "quantity": 2, "item_price": 9.5, "currency": "USD"}]}),
    ("edit", {"original_message_id": "wamid.orig", "message": {"type": "text", "text": {"body": "fixed"}}}),
    ("revoke", {"original_message_id": "wamid.orig"}),
    ("request_welcome", {}),
])


@st.composite
def valid_messages(draw):
    """A valid Cloud API message with every identity field optional (at least one of phone and BSUID)."""
    phone = draw(st.none() | identities)
    user_id = draw(bsuids) if phone is None else draw(st.none() | bsuids)
    parent = draw(st.none() | bsuids)
    username = draw(st.none() | usernames)
    name = draw(st.none() | st.text(min_size=1, max_size=30))
    kind, body = draw(bodies)
    msg = {"id": "wamid." + draw(st.from_regex(r"\A[A-Za-z0-9=]{4,40}\Z", fullmatch=True)),
           "timestamp": str(draw(st.integers(1_600_000_000, 1_900_000_000))), "type": kind, kind: body}
    contact: dict = {}
    profile = {k: v for k, v in (("name", name), ("username", username)) if v is not None}
    if profile:
        contact["profile"] = profile
    for key, ckey, value in (("from", "wa_id", phone), ("from_user_id", "user_id", user_id),
                             ("from_parent_user_id", "parent_user_id", parent)):
        if value is not None:
            msg[key] = value
            if draw(st.booleans()):
                contact[ckey] = value
    value = {"messages": [msg]}
    if contact and draw(st.booleans()):
        value["contacts"] = [contact]
    return envelope(value), phone, user_id, parent, value.get("contacts", [{}])[0]


@settings(max_examples=300, deadline=None)
@given(valid_messages())
def test_any_valid_message_with_optional_identity_fields_parses(case):
    body, phone, user_id, parent, contact = case
    [item] = parse_webhook(json.loads(json.dumps(body)))
    assert (item.wa_id, item.user_id) == (phone, user_id)
    assert item.parent_user_id == parent
    assert item.user_key == (phone or user_id)
    profile = contact.get("profile", {})
    matched = (user_id and contact.get("user_id") == user_id) or (phone and contact.get("wa_id") == phone) \
        or not (contact.get("wa_id") or contact.get("user_id"))
    assert item.username == (profile.get("username") if matched and contact else None)


def test_fields_not_acted_on_are_acknowledged_not_refused():
    """Fields Meta adds later, and echoes of a shape we cannot read: a 200, logged."""
    from cloudapi.payloads import parse_webhook
    for field in ("smb_message_echoes", "a_field_from_2027"):
        body = {"object": "whatsapp_business_account", "entry": [{"id": "W1", "changes": [
            {"field": field, "value": {"anything": [1, 2, {"nested": True}]}}]}]}
        assert parse_webhook(body) == []


def test_a_template_category_update_becomes_a_template_item():
    from cloudapi.payloads import CATEGORY_CHANGED, CATEGORY_IMPENDING, parse_webhook

    def body(value):
        return {"object": "whatsapp_business_account", "entry": [{"id": "W1", "time": 1764700000, "changes": [
            {"field": "template_category_update", "value": {"message_template_id": 77, "message_template_name": "t",
                                                             "message_template_language": "en_US", **value}}]}]}
    [done] = parse_webhook(body({"previous_category": "UTILITY", "new_category": "MARKETING"}))
    [soon] = parse_webhook(body({"correct_category": "MARKETING", "new_category": "UTILITY",
                                 "category_update_timestamp": 1764800000}))
    assert (done.event, done.category, done.template_id) == (CATEGORY_CHANGED, "MARKETING", "77")
    assert (soon.event, soon.category) == (CATEGORY_IMPENDING, "MARKETING")
    assert done.dedupe_key != soon.dedupe_key
    assert parse_webhook(body({})) == []          # malformed: logged and skipped, never a 400


def test_a_group_message_carries_its_group():
    from cloudapi.payloads import parse_webhook
    body = message("text", {"body": "hi all"})
    body["entry"][0]["changes"][0]["value"]["messages"][0]["group_id"] = "GROUP.1"
    [item] = parse_webhook(body)
    assert item.group_id == "GROUP.1"


def test_account_fields_become_account_items_with_stable_dedupe_keys():
    from cloudapi.payloads import AccountUpdate, parse_webhook
    value = {"display_phone_number": "15550000001", "event": "FLAGGED", "max_daily_conversations_per_business": "1K"}
    body = {"object": "whatsapp_business_account", "entry": [{"id": "W1", "time": 1764700000, "changes": [
        {"field": "phone_number_quality_update", "value": value},
        {"field": "account_update", "value": {"event": "ACCOUNT_RESTRICTION", "restriction_info": []}},
        {"field": "user_preferences", "value": {"user_preferences": []}},
        {"field": "account_update", "value": "not an object"}]}]}
    items = parse_webhook(body)
    assert [(type(i), i.field, i.waba_id) for i in items] == [
        (AccountUpdate, "phone_number_quality_update", "W1"), (AccountUpdate, "account_update", "W1"),
        (AccountUpdate, "user_preferences", "W1")]
    assert items[0].dedupe_key == parse_webhook(body)[0].dedupe_key and len({i.dedupe_key for i in items}) == 3


def echoes(*echo: dict) -> dict:
    """A `smb_message_echoes` change (coexistence), as Meta's webhook reference shows it."""
    body = envelope({"message_echoes": list(echo)})
    body["entry"][0]["changes"][0]["field"] = "smb_message_echoes"
    return body


def test_an_echo_of_the_business_app_is_a_flagged_message_of_the_user_s_lane():
    [item] = parse_webhook(echoes({"from": "15550001111", "to": "16315551234", "id": "wamid.echo1",
                                   "timestamp": "1700000100", "type": "text", "text": {"body": "On its way!"}}))
    assert isinstance(item, InboundMessage) and item.echo
    assert (item.wa_id, item.user_key, item.text, item.wamid) == ("16315551234", "16315551234", "On its way!", "wamid.echo1")
    assert item.raw["from"] == "15550001111"   # kept as Meta sent it


def test_an_echo_to_a_username_only_user_names_them_by_bsuid():
    [item] = parse_webhook(echoes({"from": "15550001111", "to_user_id": "US.13491208655302741918", "id": "wamid.echo2",
                                   "timestamp": "1700000100", "type": "image", "image": {"id": "m9", "mime_type": "image/jpeg"}}))
    assert (item.wa_id, item.user_id, item.media_id, item.echo) == (None, "US.13491208655302741918", "m9", True)


def test_a_malformed_echo_is_skipped_and_the_rest_of_the_body_kept():
    body = echoes({"from": "15550001111", "id": "wamid.e", "timestamp": "1", "type": "text", "text": {"body": "x"}})
    body["entry"][0]["changes"].append(message("text", {"body": "still here"})["entry"][0]["changes"][0])
    [item] = parse_webhook(body)
    assert (item.text, item.echo) == ("still here", False)


def test_an_edit_carries_the_new_text_and_the_original_message():
    [item] = parse_webhook(message("edit", {"original_message_id": "wamid.orig",
                                            "message": {"type": "text", "text": {"body": "two mugs, not three"}}}))
    assert (item.type, item.original_wamid, item.text) == ("edit", "wamid.orig", "two mugs, not three")
    [item] = parse_webhook(message("edit", {"original_message_id": "wamid.pic",
                                            "message": {"type": "image", "image": {"caption": "the broken one"}}}))
    assert (item.original_wamid, item.text) == ("wamid.pic", "the broken one")


def test_a_revoke_names_the_deleted_message_and_a_bad_one_is_refused():
    [item] = parse_webhook(message("revoke", {"original_message_id": "wamid.orig"}))
    assert (item.type, item.original_wamid, item.text) == ("revoke", "wamid.orig", None)
    with pytest.raises(MalformedPayload):
        parse_webhook(message("revoke", {}))


def test_contact_cards_keep_their_cards_and_no_text_for_the_bot():
    cards = [{"name": {"formatted_name": "Jane Doe", "first_name": "Jane"},
              "phones": [{"phone": "+44 7700 900123", "wa_id": "447700900123", "type": "CELL"}]}]
    body = message("text", {"body": "x"})
    body["entry"][0]["changes"][0]["value"]["messages"][0] = {
        "from": "16315551234", "id": "wamid.c", "timestamp": "1700000000", "type": "contacts", "contacts": cards}
    [item] = parse_webhook(body)
    assert (item.type, item.text, item.raw["contacts"]) == ("contacts", None, cards)


def history(*chunks: dict) -> dict:
    """A coexistence `history` change, shaped as Meta's history webhook reference shows it."""
    body = envelope({"history": list(chunks)})
    body["entry"][0]["changes"][0]["field"] = "history"
    return body


def chunk(*threads: dict, phase=0, order=1, progress=100) -> dict:
    return {"metadata": {"phase": phase, "chunk_order": order, "progress": progress}, "threads": list(threads)}


def test_history_messages_are_past_messages_of_the_user_s_lane_the_business_s_flagged():
    body = history(chunk({"id": "16315551234", "messages": [
        {"from": "16315551234", "id": "wamid.H1", "timestamp": "1699990000", "type": "text",
         "text": {"body": "Do you ship to Osaka?"}, "history_context": {"status": "READ"}},
        {"from": "15550001111", "to": "16315551234", "id": "wamid.H2", "timestamp": "1699990060", "type": "text",
         "text": {"body": "We do!"}, "history_context": {"status": "DELIVERED"}},
        {"from": "16315551234", "id": "wamid.H3", "timestamp": "1699990120", "type": "media_placeholder",
         "history_context": {"status": "READ"}}]}))
    asked, answered, photo = parse_webhook(body)
    assert all(isinstance(i, InboundMessage) and i.history for i in (asked, answered, photo))
    assert (asked.wa_id, asked.echo, asked.text, asked.history_status) == ("16315551234", False, "Do you ship to Osaka?", "READ")
    assert (answered.wa_id, answered.user_key, answered.echo, answered.history_status) == (
        "16315551234", "16315551234", True, "DELIVERED")
    assert answered.raw["from"] == "15550001111" and answered.timestamp.timestamp() == 1699990060
    assert (photo.type, photo.text, photo.dedupe_key) == ("media_placeholder", None, "wamid.H3")


def test_a_malformed_history_chunk_is_skipped_and_logged_and_the_other_chunks_kept(caplog):
    good = chunk({"id": "16315551234", "messages": [
        {"from": "16315551234", "id": "wamid.OK", "timestamp": "1699990000", "type": "text", "text": {"body": "hi"}}]},
        order=2)
    bad = chunk({"id": "16315551234", "messages": [{"from": "16315551234", "id": "wamid.BAD", "type": "text",
                                                    "timestamp": "not a time", "text": {"body": "x"}}]})
    declined = {"errors": [{"code": 2593109, "title": "History sync is turned off by the business"}]}
    with caplog.at_level("WARNING", logger="cloudapi.payloads"):
        items = parse_webhook(history(bad, "not a chunk", good, declined))
    assert [i.wamid for i in items] == ["wamid.OK"]
    assert sum("malformed history chunk" in r.message for r in caplog.records) == 2


def test_a_template_quality_update_becomes_a_template_item_and_a_bad_one_is_skipped():
    from cloudapi.payloads import QUALITY_CHANGED, TemplateStatusUpdate
    value = {"previous_quality_score": "GREEN", "new_quality_score": "RED", "message_template_id": 1234567,
             "message_template_name": "spring_sale", "message_template_language": "en_US"}
    body = {"object": "whatsapp_business_account", "entry": [{"id": "W1", "time": 1764700000, "changes": [
        {"field": "message_template_quality_update", "value": value},
        {"field": "message_template_quality_update", "value": {**value, "new_quality_score": "PURPLE"}}]}]}
    [item] = parse_webhook(body)
    assert isinstance(item, TemplateStatusUpdate)
    assert (item.event, item.quality, item.template_id, item.name, item.waba_id) == (
        QUALITY_CHANGED, "RED", "1234567", "spring_sale", "W1")
    assert item.dedupe_key == parse_webhook(body)[0].dedupe_key


def test_a_contacts_sync_is_an_account_item_of_the_waba():
    from cloudapi.payloads import AccountUpdate
    sync = [{"type": "contact", "contact": {"full_name": "Kerry Fisher", "first_name": "Kerry",
                                            "phone_number": "16315551234"},
             "action": "add", "metadata": {"timestamp": "1700000000"}}]
    body = envelope({"state_sync": sync})
    body["entry"][0]["changes"][0]["field"] = "smb_app_state_sync"
    [item] = parse_webhook(body)
    assert isinstance(item, AccountUpdate) and (item.field, item.waba_id) == ("smb_app_state_sync", "WABA")
    assert item.value["state_sync"] == sync and item.value["metadata"]["phone_number_id"] == "111"


@st.composite
def valid_history_messages(draw):
    """A history thread's message of any documented type: the user's (`from` the thread's
    id) or the business's (`from` the business, `to` the user)."""
    user = draw(identities)
    kind, content = draw(bodies | st.just(("media_placeholder", None)))
    msg = {"id": "wamid." + draw(st.from_regex(r"\A[A-Za-z0-9=]{4,40}\Z", fullmatch=True)),
           "timestamp": str(draw(st.integers(1_600_000_000, 1_900_000_000))), "type": kind,
           "history_context": {"status": draw(st.sampled_from(["DELIVERED", "ERROR", "PENDING", "PLAYED", "READ", "SENT"]))}}
    if content is not None:
        msg[kind] = content
    by_business = draw(st.booleans())
    msg.update({"from": "15550001111", "to": user} if by_business else {"from": user})
    return history(chunk({"id": user, "messages": [msg]}, phase=draw(st.sampled_from([0, 1, 2])))), user, by_business


@settings(max_examples=200, deadline=None)
@given(valid_history_messages())
def test_any_valid_history_message_parses_as_a_past_message_of_its_user(case):
    body, user, by_business = case
    [item] = parse_webhook(json.loads(json.dumps(body)))
    assert item.history and item.echo == by_business
    assert (item.wa_id, item.user_key) == (user, user)
