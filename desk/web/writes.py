"""Small writes the console needs that have no service yet: chat tags, tags, canned responses.

Kept here, thin and validated, until they move to `desk/services/` (tags.py, canned.py).
"""
from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import CannedResponse, Tag, chat_tags

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class ConsoleError(ValueError):
    """A value the console refuses; the message says why."""


async def tag_chat(session: AsyncSession, chat_id: int, tag: Tag) -> None:
    exists = (await session.execute(select(chat_tags.c.tag_id).where(
        chat_tags.c.chat_id == chat_id, chat_tags.c.tag_id == tag.id))).first()
    if exists is None:
        try:
            async with session.begin_nested():
                await session.execute(chat_tags.insert().values(chat_id=chat_id, tag_id=tag.id))
        except IntegrityError:
            pass  # added at the same moment by someone else: same result


async def untag_chat(session: AsyncSession, chat_id: int, tag_id: int) -> None:
    await session.execute(delete(chat_tags).where(chat_tags.c.chat_id == chat_id, chat_tags.c.tag_id == tag_id))


def _name(value) -> str:
    name = " ".join(str(value or "").split())
    if not name or len(name) > 60:
        raise ConsoleError("a tag has 1 to 60 characters")
    return name


async def create_tag(session: AsyncSession, brand_id: int, name) -> Tag:
    name = _name(name)
    if (await session.execute(select(Tag).where(Tag.brand_id == brand_id, Tag.name == name))).first():
        raise ConsoleError(f"the tag {name!r} already exists")
    tag = Tag(brand_id=brand_id, name=name)
    try:
        async with session.begin_nested():
            session.add(tag)
    except IntegrityError:
        raise ConsoleError(f"the tag {name!r} already exists") from None
    return tag


async def delete_tag(session: AsyncSession, brand_id: int, tag_id: int) -> bool:
    result = await session.execute(delete(Tag).where(Tag.id == tag_id, Tag.brand_id == brand_id))
    return result.rowcount == 1


def _canned_fields(shortcut, title, text) -> tuple[str, str, str]:
    """A canned response's shortcut, title and text, normalized and checked."""
    shortcut = str(shortcut or "").strip().lstrip("/").lower()
    if not SHORTCUT.match(shortcut):
        raise ConsoleError("a shortcut has 1 to 40 characters: lower-case letters, digits, - and _")
    title = " ".join(str(title or "").split())
    if not title or len(title) > 200:
        raise ConsoleError("a title has 1 to 200 characters")
    text = str(text or "").strip()
    if not text or len(text) > 4096:
        raise ConsoleError("the text has 1 to 4096 characters (WhatsApp's limit)")
    return shortcut, title, text


async def create_canned(session: AsyncSession, brand_id: int, shortcut, title, text) -> CannedResponse:
    shortcut, title, text = _canned_fields(shortcut, title, text)
    if (await session.execute(select(CannedResponse).where(
            CannedResponse.brand_id == brand_id, CannedResponse.shortcut == shortcut))).first():
        raise ConsoleError(f"the shortcut /{shortcut} is already used")
    canned = CannedResponse(brand_id=brand_id, shortcut=shortcut, title=title, text=text)
    try:
        async with session.begin_nested():
            session.add(canned)
    except IntegrityError:
        raise ConsoleError(f"the shortcut /{shortcut} is already used") from None
    return canned


async def update_canned(session: AsyncSession, brand_id: int, canned_id: int, shortcut, title,
                        text) -> CannedResponse | None:
    canned = await session.get(CannedResponse, canned_id)
    if canned is None or canned.brand_id != brand_id:
        return None
    shortcut, title, text = _canned_fields(shortcut, title, text)
    if (await session.execute(select(CannedResponse.id).where(
            CannedResponse.brand_id == brand_id, CannedResponse.shortcut == shortcut,
            CannedResponse.id != canned_id))).first():
        raise ConsoleError(f"the shortcut /{shortcut} is already used")
    canned.shortcut, canned.title, canned.text = shortcut, title, text
    return canned


async def delete_canned(session: AsyncSession, brand_id: int, canned_id: int) -> bool:
    result = await session.execute(delete(CannedResponse).where(
        CannedResponse.id == canned_id, CannedResponse.brand_id == brand_id))
    return result.rowcount == 1
