"""A user's edit or deletion of an earlier message (Meta's `edit` and `revoke` webhooks;
for a business app on a coexistence number, its own edits and deletions come as echoes).

The transcript shows what the customer now says: an edit replaces the text and keeps
the previous one beside it (operators may have read it), a deletion leaves a "deleted"
line in its place. Neither is a new message for the bot."""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Message

log = logging.getLogger(__name__)


async def apply(session: AsyncSession, *, kind: str, original_wamid: str | None, text: str | None,
                at: dt.datetime) -> Message | None:
    """Edit (`kind` "edit", the new `text`) or delete ("revoke") the message of
    `original_wamid`; None when the desk never had it (logged)."""
    msg = (await session.execute(select(Message).where(Message.wamid == original_wamid))).scalar_one_or_none() \
        if original_wamid else None
    if msg is None:
        log.info("whatsapp: %s of %s, a message the desk does not have: ignored", kind, original_wamid)
        return None
    payload = dict(msg.payload) if isinstance(msg.payload, dict) else {}
    if kind == "edit":
        history = list(payload.get("edits") or [])
        history.append({"previous": msg.body, "at": at.isoformat()})
        payload["edits"] = history
        msg.body = text
    elif kind == "revoke":
        payload["revoked_at"] = at.isoformat()
        msg.body = None
    else:
        raise ValueError(f"not a change of a message: {kind!r}")
    msg.payload = payload   # a new dict: SQLAlchemy sees the JSON change
    await session.flush()
    return msg
