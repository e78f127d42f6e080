"""The integration outbox: pushes of leads and tickets, recorded first, sent by a worker.

An operator's click (or the bot's lead form) only inserts an `IntegrationJob` in
the same transaction as the lead or ticket; `run_integration_jobs_once` pushes due
jobs. A job is claimed with a conditional UPDATE and a lease (`locked_until`), so
two desk workers never push the same job at the same time; a job whose worker died
mid-push is taken again when its lease has run out (at-least-once: the webhook's
`X-Tsunagi-Delivery` lets a receiver drop that rare repeat).

Retryable failures (network, timeout, 408, 429, 5xx) are tried again after
30 s, 1, 2, 4 ... minutes (capped at 1 hour, or later if the service sent
Retry-After) until `MAX_ATTEMPTS`; other failures stop at once. Either way
`last_error` says why, and the lead's `crm_state` becomes `failed`.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Mapping

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from desk.integrations.base import Adapter, IntegrationError
from desk.models import Contact, IntegrationJob, JobState, Lead, Ticket, utcnow

log = logging.getLogger(__name__)

KINDS = ("lead", "ticket")
LEASE = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 8
RETRY_BASE = dt.timedelta(seconds=30)
RETRY_CAP = dt.timedelta(hours=1)
BATCH = 20


def backoff(attempts: int, retry_after: float | None = None) -> dt.timedelta:
    """Wait before attempt `attempts + 1`: 30 s, 1 min, 2 min, ... ≤ 1 h (≥ Retry-After)."""
    delay = min(RETRY_BASE * 2 ** max(0, attempts - 1), RETRY_CAP)
    if retry_after:
        delay = max(delay, min(dt.timedelta(seconds=retry_after), RETRY_CAP))
    return delay


async def enqueue(session: AsyncSession, kind: str, ref_id: int, adapter: str) -> IntegrationJob:
    """A push of lead/ticket `ref_id` through `adapter`; an unfinished or finished
    push of the same thing is returned instead of a second one (double clicks)."""
    if kind not in KINDS:
        raise ValueError(f"kind is lead or ticket, not {kind!r}")
    existing = (await session.execute(select(IntegrationJob).where(
        IntegrationJob.kind == kind, IntegrationJob.ref_id == ref_id, IntegrationJob.adapter == adapter,
        IntegrationJob.state.in_([JobState.pending, JobState.sending, JobState.sent]),
    ).order_by(IntegrationJob.id.desc()).limit(1))).scalar_one_or_none()
    if existing is not None:
        return existing
    job = IntegrationJob(kind=kind, ref_id=ref_id, adapter=adapter, state=JobState.pending,
                         attempts=0, next_attempt_at=utcnow())
    session.add(job)
    await session.flush()
    return job


def _claimable(now: dt.datetime, adapters: list[str]):
    return and_(
        IntegrationJob.adapter.in_(adapters),
        or_(and_(IntegrationJob.state == JobState.pending, IntegrationJob.next_attempt_at <= now),
            # a worker died mid-push: its lease has run out
            and_(IntegrationJob.state == JobState.sending, IntegrationJob.locked_until <= now)))


async def _claim(sessions, job_id: int, now: dt.datetime, adapters: list[str]):
    """Win one job (or not) and load what its push needs, in one short transaction."""
    async with sessions() as session, session.begin():
        won = await session.execute(update(IntegrationJob).where(
            IntegrationJob.id == job_id, _claimable(now, adapters)).values(
            state=JobState.sending, locked_until=now + LEASE,
            attempts=IntegrationJob.attempts + 1).execution_options(synchronize_session=False))
        if won.rowcount != 1:
            return None
        job = await session.get(IntegrationJob, job_id)
        model = Lead if job.kind == "lead" else Ticket
        ref = await session.get(model, job.ref_id)
        contact = await session.get(Contact, ref.contact_id) if ref is not None else None
        return job, ref, contact


async def _finish(sessions, job: IntegrationJob, now: dt.datetime, *, external_id: str | None = None,
                  error: IntegrationError | None = None, max_attempts: int = MAX_ATTEMPTS) -> JobState:
    async with sessions() as session, session.begin():
        row = await session.get(IntegrationJob, job.id, with_for_update=True)
        if row is None or row.state != JobState.sending:
            return row.state if row is not None else JobState.failed
        if error is None:
            row.state, row.external_id, row.done_at = JobState.sent, external_id, now
            row.last_error, row.locked_until = None, None
        elif error.retryable and row.attempts < max_attempts:
            row.state, row.last_error, row.locked_until = JobState.pending, error.message, None
            row.next_attempt_at = now + backoff(row.attempts, error.retry_after)
        else:
            gave_up = error.retryable  # out of attempts
            row.state, row.done_at, row.locked_until = JobState.failed, now, None
            row.last_error = (f"gave up after {row.attempts} attempts: " if gave_up else "") + error.message
        if row.kind == "lead":
            lead = await session.get(Lead, row.ref_id)
            if lead is not None:
                if row.state == JobState.sent:
                    lead.crm_id, lead.crm_state, lead.crm_pushed_at = external_id, "pushed", now
                elif row.state == JobState.failed:
                    lead.crm_state = "failed"
                    if lead.task_state is None:  # the CRM will not take it: a person must (Sales)
                        from desk.services.leads import queue_as_task

                        await queue_as_task(session, lead)
        elif row.state == JobState.sent:
            ticket = await session.get(Ticket, row.ref_id)
            if ticket is not None:
                ticket.external_id = external_id
        return row.state


async def run_integration_jobs_once(sessions, adapters: Mapping[str, Adapter],
                                    now: dt.datetime | None = None, *, limit: int = BATCH,
                                    max_attempts: int = MAX_ATTEMPTS) -> int:
    """Push the due jobs of the given adapters (up to `limit`); returns how many this call pushed
    or tried. `sessions` is an async session factory; `now` is for tests."""
    names = sorted(adapters)
    if not names:
        return 0
    now = now or utcnow()
    async with sessions() as session:
        due = (await session.execute(select(IntegrationJob.id).where(_claimable(now, names))
                                     .order_by(IntegrationJob.next_attempt_at, IntegrationJob.id)
                                     .limit(limit))).scalars().all()
    done = 0
    for job_id in due:
        claimed = await _claim(sessions, job_id, now, names)
        if claimed is None:
            continue  # another worker has it
        job, ref, contact = claimed
        done += 1
        adapter = adapters[job.adapter]
        external_id = error = None
        try:
            if ref is None or contact is None:
                raise IntegrationError(False, f"{job.kind} {job.ref_id} no longer exists")
            push = adapter.push_lead if job.kind == "lead" else adapter.push_ticket
            external_id = await push(ref, contact, delivery_id=str(job.id))
        except IntegrationError as exc:
            error = exc
        except Exception as exc:  # a bug or an unexpected answer: bounded retries, then a visible error
            log.exception("integration job %s (%s via %s) failed", job.id, job.kind, job.adapter)
            error = IntegrationError(True, f"{type(exc).__name__}: {exc}")
        state = await _finish(sessions, job, now, external_id=external_id, error=error,
                              max_attempts=max_attempts)
        if error is not None:
            log.warning("integration job %s (%s %s via %s) attempt %s: %s -> %s", job.id, job.kind,
                        job.ref_id, job.adapter, job.attempts, error.message, state.value)
    return done
