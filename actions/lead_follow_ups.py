"""The next-day follow-up of captured leads, run by the action server.

A lead who consented gets the approved template `lead_follow_up` once,
LEAD_FOLLOW_UP_AFTER_HOURS after it was captured (default 24; 0 turns it off),
through `actions.templates.follow_up_lead` (in the lead's language when the template
has an approved variant in it, else LEAD_FOLLOW_UP_LANGUAGE): the outbox, the template checks and
the billing check (a refusal, e.g. no credit left, is stored on the lead with its
reason and not retried). The state lives on the lead row, so a restart neither
loses nor repeats a follow-up; a conditional UPDATE claims each lead, so several
action servers send it once.
"""
from __future__ import annotations

import datetime as dt
import logging
import os

from sqlalchemy import select, update

from actions.desk_access import desk_transaction
from actions.templates import follow_up_lead
from desk.models import Lead, utcnow

log = logging.getLogger(__name__)

DEFAULT_AFTER_HOURS = 24.0
BATCH = 20


def after_from_env() -> dt.timedelta | None:
    """The delay, or None when follow-ups are off."""
    raw = os.environ.get("LEAD_FOLLOW_UP_AFTER_HOURS", "")
    try:
        hours = float(raw) if raw else DEFAULT_AFTER_HOURS
    except ValueError:
        raise SystemExit(f"LEAD_FOLLOW_UP_AFTER_HOURS must be a number of hours, not {raw!r}") from None
    if hours < 0:
        raise SystemExit("LEAD_FOLLOW_UP_AFTER_HOURS must be 0 (off) or more")
    return dt.timedelta(hours=hours) if hours else None


async def _claim(lead_id: int, now: dt.datetime) -> Lead | None:
    async with desk_transaction() as session:
        won = await session.execute(update(Lead).where(Lead.id == lead_id, Lead.follow_up_state.is_(None))
                                    .values(follow_up_state="sending", followed_up_at=now)
                                    .execution_options(synchronize_session=False))
        if won.rowcount != 1:
            return None
        return await session.get(Lead, lead_id)


async def run_once(after: dt.timedelta | None = None, now: dt.datetime | None = None) -> dict[str, int]:
    """Follow up the leads that are due; returns how many were queued and refused."""
    after = after_from_env() if after is None else after
    counts = {"queued": 0, "refused": 0}
    if after is None:
        return counts
    now = now or utcnow()
    async with desk_transaction() as session:
        due = (await session.execute(
            select(Lead.id).where(Lead.consent.is_(True), Lead.follow_up_state.is_(None),
                                  Lead.phone_number_id.isnot(None), Lead.created_at <= now - after)
            .order_by(Lead.id).limit(BATCH))).scalars().all()
    for lead_id in due:
        lead = await _claim(lead_id, now)
        if lead is None:
            continue  # another action server has it
        # Its own transaction: a refused send leaves nothing behind but the reason.
        try:
            async with desk_transaction() as session:
                result = await follow_up_lead(session, lead.phone_number_id, lead.contact.wa_id,
                                              name=lead.name, interest=lead.interest)
        except Exception:
            # Not a refusal (e.g. the database went away): release it for the next round.
            async with desk_transaction() as session:
                await session.execute(update(Lead).where(Lead.id == lead_id).values(
                    follow_up_state=None, followed_up_at=None).execution_options(synchronize_session=False))
            raise
        async with desk_transaction() as session:
            await session.execute(update(Lead).where(Lead.id == lead_id).values(
                follow_up_state=result.status, follow_up_reason=result.reason)
                .execution_options(synchronize_session=False))
        counts[result.status] = counts.get(result.status, 0) + 1
        if result.status == "refused":
            log.warning("lead %s: follow-up not sent: %s", lead_id, result.reason)
    return counts
