"""Departments of a brand: where a number's handed-over chats queue."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Department


class DepartmentError(ValueError):
    """A department name the desk refuses; the message says why."""


def _name(value) -> str:
    name = " ".join(str(value or "").split())
    if not name or len(name) > 200:
        raise DepartmentError("the department name must have 1 to 200 characters")
    return name


async def _taken(session: AsyncSession, brand_id: int, name: str, but: int | None = None) -> bool:
    query = select(Department.id).where(Department.brand_id == brand_id, Department.name == name)
    if but is not None:
        query = query.where(Department.id != but)
    return (await session.execute(query)).first() is not None


async def add(session: AsyncSession, brand_id: int, name) -> Department:
    name = _name(name)
    if await _taken(session, brand_id, name):
        raise DepartmentError(f"department {name!r} already exists")
    dept = Department(brand_id=brand_id, name=name)
    try:
        async with session.begin_nested():
            session.add(dept)
    except IntegrityError:
        raise DepartmentError(f"department {name!r} already exists") from None
    return dept


async def rename(session: AsyncSession, brand_id: int, department_id: int, name) -> Department:
    dept = await session.get(Department, department_id)
    if dept is None or dept.brand_id != brand_id:
        raise DepartmentError("no such department in this brand")
    name = _name(name)
    if await _taken(session, brand_id, name, but=dept.id):
        raise DepartmentError(f"department {name!r} already exists")
    dept.name = name
    return dept
