"""How the console API shows an edited or deleted message and a contact card (desk/web/views.py)."""
from __future__ import annotations

import datetime as dt

from desk.models import Direction, Message, Sender
from desk.web.views import message_json

AT = dt.datetime(2026, 6, 17, 10, tzinfo=dt.timezone.utc)


def msg(**kw) -> Message:
    return Message(id=1, chat_id=1, direction=Direction.inbound, sender=Sender.user, wamid="wamid.1", status="received",
                   wa_timestamp=AT, **kw)


def test_an_edited_message_shows_its_text_and_what_it_said_before():
    item = message_json(msg(type="text", body="two mugs", payload={"edits": [{"previous": "three mugs", "at": "x"}]}))
    assert (item["body"], item["edited"]) == ("two mugs", ["three mugs"])


def test_a_deleted_message_says_so():
    item = message_json(msg(type="text", body=None, payload={"revoked_at": AT.isoformat()}))
    assert item["revoked_at"] == AT.isoformat() and item["body"] is None


def test_a_contact_card_shows_names_phones_and_emails():
    item = message_json(msg(type="contacts", body=None, payload={"contacts": [
        {"name": {"formatted_name": "Jane Doe"}, "phones": [{"phone": "+44 7700 900123"}],
         "emails": [{"email": "jane@example.com"}]}]}))
    assert item["contacts"] == [{"name": "Jane Doe", "phones": ["+44 7700 900123"], "emails": ["jane@example.com"]}]
    assert item["body"] == "Jane Doe"
