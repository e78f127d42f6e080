"""Departments of a brand: where a number's handed-over chats queue.

A department has a name (`name`, the one the desk shows when no language is asked for)
and may have a name per language (`names`, {language: name}: "Support" and "サポート"):
the bot's department buttons and handoff texts and the customer notices use the chat's
language (`name_in`). Every name of a department, in any language, is its own within the
brand (case ignored), so a name typed or tapped in either language finds it (`find`),
in the admin API, the CLI and the bot.
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from desk.language import LANGUAGES
from desk.models import Department

NAME_MAX = 200
_KEEP = object()


class DepartmentError(ValueError):
    """A department name the desk refuses; the message says why."""


def _name(value) -> str:
    name = " ".join(str(value or "").split())
    if not name or len(name) > NAME_MAX:
        raise DepartmentError("the department name must have 1 to 200 characters")
    return name


def _key(name: str) -> str:
    return " ".join(str(name or "").split()).casefold()


def parse_names(value: Any) -> dict[str, str] | None:
    """{language: name} as an admin gives it; an empty name drops that language.

    None or {} means no other names. A language the desk does not speak, or a name too
    long, is refused with the reason."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DepartmentError("the department names must be an object of language: name")
    names: dict[str, str] = {}
    for language, raw in value.items():
        if language not in LANGUAGES:
            raise DepartmentError(f"unknown language {language!r} for a department name "
                                  f"(one of {', '.join(LANGUAGES)})")
        if raw is None or not " ".join(str(raw).split()):
            continue
        names[language] = _name(raw)
    return names or None


def name_in(dept: Any, language: str | None) -> str:
    """The department's name in `language`, else its name."""
    names = getattr(dept, "names", None) or {}
    return names.get(language or "") or dept.name


def all_names(dept: Any) -> list[str]:
    """Every name of the department, its name first."""
    names = [dept.name, *(getattr(dept, "names", None) or {}).values()]
    return list(dict.fromkeys(names))


def matches(dept: Any, name: str | None) -> bool:
    """Whether `name` is one of the department's names (case and spacing ignored)."""
    key = _key(name or "")
    return bool(key) and any(_key(n) == key for n in all_names(dept))


async def _brand_departments(session: AsyncSession, brand_id: int) -> list[Department]:
    return list((await session.execute(select(Department).where(Department.brand_id == brand_id)
                                       .order_by(Department.id))).scalars())


async def find(session: AsyncSession, brand_id: int, name: str | None) -> Department | None:
    """The brand's department with this name in any language (case and spacing ignored)."""
    if not _key(name or ""):
        return None
    return next((d for d in await _brand_departments(session, brand_id) if matches(d, name)), None)


async def find_all(session: AsyncSession, brand_id: int, names: Iterable[str]) -> tuple[list[Department], list[str]]:
    """The departments named (in any language), in the order given, and the names not found."""
    depts = await _brand_departments(session, brand_id)
    found, missing = [], []
    for name in names:
        dept = next((d for d in depts if matches(d, name)), None)
        if dept is None:
            missing.append(name)
        elif dept not in found:
            found.append(dept)
    return found, missing


async def _check_free(session: AsyncSession, brand_id: int, names: Iterable[str], but: int | None = None) -> None:
    for other in await _brand_departments(session, brand_id):
        if other.id == but:
            continue
        for name in names:
            if matches(other, name):
                raise DepartmentError(f"department {name!r} already exists")


def _all(name: str, names: dict[str, str] | None) -> list[str]:
    return list(dict.fromkeys([name, *(names or {}).values()]))


async def add(session: AsyncSession, brand_id: int, name, names: Any = None) -> Department:
    name = _name(name)
    other_names = parse_names(names)
    await _check_free(session, brand_id, _all(name, other_names))
    dept = Department(brand_id=brand_id, name=name, names=other_names)
    try:
        async with session.begin_nested():
            session.add(dept)
    except IntegrityError:
        raise DepartmentError(f"department {name!r} already exists") from None
    return dept


async def rename(session: AsyncSession, brand_id: int, department_id: int, name, names: Any = _KEEP) -> Department:
    """A new name, and (when given) new names per language; `names` left out keeps them."""
    dept = await session.get(Department, department_id)
    if dept is None or dept.brand_id != brand_id:
        raise DepartmentError("no such department in this brand")
    name = _name(name)
    other_names = dept.names if names is _KEEP else parse_names(names)
    await _check_free(session, brand_id, _all(name, other_names), but=dept.id)
    dept.name = name
    dept.names = other_names
    return dept
