"""The canned-response and tag services (desk.services.canned, desk.services.tags): the
one set of rules the console and the admin command line both use. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from desk.models import Brand, CannedResponse, Tag, chat_tags, utcnow
from desk.services import canned, conversations, numbers, tags
from desk.services.canned import CannedError
from desk.services.tags import TagError
from tests.desk.seed import PNID, WABA


async def _brands(sessions) -> tuple[int, int]:
    async with sessions() as s, s.begin():
        acme, globex = Brand(name="Acme"), Brand(name="Globex")
        s.add_all([acme, globex])
        await s.flush()
        return acme.id, globex.id


@pytest.mark.parametrize("shortcut, title, text, reason", [
    ("two words", "T", "x", "a shortcut has 1 to 40 characters"),
    ("-dash", "T", "x", "starting with a letter or a digit"),
    ("_under", "T", "x", "starting with a letter or a digit"),
    ("", "T", "x", "a shortcut has 1 to 40 characters"),
    ("/", "T", "x", "a shortcut has 1 to 40 characters"),
    ("a" * 41, "T", "x", "a shortcut has 1 to 40 characters"),
    ("ok", "  ", "x", "a title has 1 to 200 characters"),
    ("ok", "t" * 201, "x", "a title has 1 to 200 characters"),
    ("ok", "T", " \n ", "the text has 1 to 4096 characters"),
    ("ok", "T", "x" * 4097, "the text has 1 to 4096 characters"),
], ids=["space", "leading-dash", "leading-underscore", "empty", "only-slash", "too-long", "blank-title",
        "long-title", "blank-text", "long-text"])
def test_a_canned_response_is_refused_with_the_reason(shortcut, title, text, reason):
    with pytest.raises(CannedError) as refused:
        canned.fields(shortcut, title, text)
    assert reason in str(refused.value)


def test_a_canned_response_is_normalized():
    assert canned.fields(" /Hours ", "  Opening   hours ", "  9-17 JST \n") == ("hours", "Opening hours", "9-17 JST")
    assert canned.fields("a" * 40, "t" * 200, "x" * 4096)[0] == "a" * 40
    assert canned.fields("order-2_b", "T", "x")[0] == "order-2_b"


async def test_canned_responses_are_added_changed_and_deleted_per_brand(sessions):
    acme, globex = await _brands(sessions)
    async with sessions() as s, s.begin():
        hours = await canned.add(s, acme, "/Hours", "Opening hours", "9-17")
        await canned.add(s, acme, "bye", "Bye", "Goodbye!")
        await canned.add(s, globex, "hours", "Globex hours", "24/7")  # another brand: its own shortcuts
    async with sessions() as s, s.begin():
        with pytest.raises(CannedError, match=r"^the shortcut /hours is already used$"):
            await canned.add(s, acme, "HOURS", "Again", "x")
    async with sessions() as s, s.begin():
        with pytest.raises(CannedError, match="the shortcut /bye is already used"):
            await canned.update(s, acme, hours.id, "bye", "x", "y")
    async with sessions() as s, s.begin():
        assert await canned.update(s, globex, hours.id, "mine", "x", "y") is None  # Acme's: not Globex's
        changed = await canned.update(s, acme, hours.id, "/hours", "Hours", "10-18")  # its own shortcut again
        assert (changed.shortcut, changed.title, changed.text) == ("hours", "Hours", "10-18")
    async with sessions() as s, s.begin():
        assert not await canned.delete(s, globex, hours.id)
        assert await canned.delete(s, acme, hours.id)
        assert not await canned.delete(s, acme, hours.id)
    async with sessions() as s:
        rows = (await s.execute(select(CannedResponse.brand_id, CannedResponse.shortcut)
                                .order_by(CannedResponse.brand_id, CannedResponse.shortcut))).all()
    assert rows == [(acme, "bye"), (globex, "hours")]


@pytest.mark.parametrize("name, reason", [
    ("", "a tag has 1 to 60 characters"),
    ("   ", "a tag has 1 to 60 characters"),
    ("t" * 61, "a tag has 1 to 60 characters"),
], ids=["empty", "blank", "too-long"])
def test_a_tag_name_is_refused_with_the_reason(name, reason):
    with pytest.raises(TagError, match=reason):
        tags.name_of(name)


async def test_tags_are_added_per_brand_and_put_on_a_chat_once(sessions):
    acme, globex = await _brands(sessions)
    async with sessions() as s, s.begin():
        vip = await tags.add(s, acme, "  VIP   customer ")
        await tags.add(s, globex, "VIP customer")
    assert vip.name == "VIP customer"
    async with sessions() as s, s.begin():
        with pytest.raises(TagError, match=r"^the tag 'VIP customer' already exists$"):
            await tags.add(s, acme, "VIP customer")
    async with sessions() as s, s.begin():
        await numbers.ensure_number(s, phone_number_id=PNID, waba_id=WABA, brand_name="Acme")
        chat, _ = await conversations.record_inbound(
            s, phone_number_id=PNID, wa_id="447700900123", profile_name="Kerry", wamid="wamid.t1", type="text",
            body="hi", payload={"text": {"body": "hi"}}, wa_timestamp=utcnow())
        await tags.tag_chat(s, chat.id, vip)
        await tags.tag_chat(s, chat.id, vip)  # twice: once
    count = select(func.count()).select_from(chat_tags)
    async with sessions() as s:
        assert (await s.execute(count)).scalar_one() == 1
    async with sessions() as s, s.begin():
        await tags.untag_chat(s, chat.id, vip.id)
        assert (await s.execute(count)).scalar_one() == 0
        assert not await tags.delete(s, globex, vip.id)
        assert await tags.delete(s, acme, vip.id)
    async with sessions() as s:
        assert (await s.execute(select(Tag.brand_id))).scalars().all() == [globex]
