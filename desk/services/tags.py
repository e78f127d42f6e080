"""Tags of a brand and the tags on its chats.

The one set of rules for them, used by the console (desk.web.api, desk.web.admin)
and the admin command line (desk.cli.admin) alike. A refusal is a TagError whose
message says what to change.
"""
from __future__ import annotations

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Tag, chat_tags

NAME_MAX = 60


class TagError(ValueError):
    """A tag the desk refuses; the message says why."""


def name_of(value) -> str:
    """The tag's name with its spaces collapsed; refused unless 1 to 60 characters."""
    name = " ".join(str(value or "").split())
    if not name or len(name) > NAME_MAX:
        raise TagError(f"a tag has 1 to {NAME_MAX} characters")
    return name


async def add(session: AsyncSession, brand_id: int, name) -> Tag:
    name = name_of(name)
    if (await session.execute(select(Tag.id).where(Tag.brand_id == brand_id, Tag.name == name))).first():
        raise TagError(f"the tag {name!r} already exists")
    tag = Tag(brand_id=brand_id, name=name)
    try:
        async with session.begin_nested():
            session.add(tag)
    except IntegrityError:  # added at the same moment by someone else
        raise TagError(f"the tag {name!r} already exists") from None
    return tag


async def delete(session: AsyncSession, brand_id: int, tag_id: int) -> bool:
    """True if the brand's tag was deleted (and so taken off its chats); False: no such tag."""
    result = await session.execute(sql_delete(Tag).where(Tag.id == tag_id, Tag.brand_id == brand_id))
    return result.rowcount == 1


async def tag_chat(session: AsyncSession, chat_id: int, tag: Tag) -> None:
    """Put `tag` on the chat; a tag already on it stays once."""
    exists = (await session.execute(select(chat_tags.c.tag_id).where(
        chat_tags.c.chat_id == chat_id, chat_tags.c.tag_id == tag.id))).first()
    if exists is None:
        try:
            async with session.begin_nested():
                await session.execute(chat_tags.insert().values(chat_id=chat_id, tag_id=tag.id))
        except IntegrityError:
            pass  # added at the same moment by someone else: same result


async def untag_chat(session: AsyncSession, chat_id: int, tag_id: int) -> None:
    await session.execute(sql_delete(chat_tags).where(chat_tags.c.chat_id == chat_id,
                                                      chat_tags.c.tag_id == tag_id))
