"""The action server's way into the desk database.

One engine per action-server process, created on first use (never at import time)
from DESK_DATABASE_URL, the same variable the desk and the channel read.
"""
from __future__ import annotations

import contextlib
from typing import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from desk.config import DeskSettings
from desk.db import create_engine, session_factory

_factory = None
_url = None


def _sessions():
    global _factory, _url
    url = DeskSettings.from_env().database_url
    if _factory is None or url != _url:  # tests point it at a fresh database
        _factory, _url = session_factory(create_engine(url)), url
    return _factory


@contextlib.asynccontextmanager
async def desk_transaction() -> AsyncIterator[AsyncSession]:
    """`async with desk_transaction() as session:` commits on success, rolls back on error."""
    async with _sessions()() as session, session.begin():
        yield session
