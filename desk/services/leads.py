"""Leads captured in chats, waiting for (or pushed to) the CRM.

A lead with nobody to push it to (`CRM_ADAPTER=none`) is a task for a person: it
is queued for the brand's sales department (the department named "Sales", else
the number's own), where a colleague takes it and marks it done.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Contact, Lead, Operator, PhoneNumber, Role, WhatsAppBusinessAccount, utcnow
from desk.services import contacts
from desk.services.conversations import upsert_contact

SALES_DEPARTMENT = "sales"  # the department a lead task is queued for, by name (any case)
TASK_STATES = ("open", "done")


class LeadTaskError(ValueError):
    """The lead task cannot make that move; the message says why."""


async def save_lead(session: AsyncSession, *, wa_id: str, phone_number_id: str | None,
                    name: str | None, email: str | None, company: str | None,
                    interest: str | None, consent: bool, phone: str | None = None,
                    profile_name: str | None = None, chat_id: int | None = None) -> Lead:
    """Store a lead; `phone` defaults to the user's WhatsApp number in E.164; its source
    is the ad or post its chat came from (desk.services.referrals)."""
    from desk.services import referrals

    contact = await upsert_contact(session, wa_id, profile_name)
    source = referrals.source_of(await referrals.referral_of_chat(session, chat_id)) if chat_id else None
    lead = Lead(contact_id=contact.id, chat_id=chat_id, phone_number_id=phone_number_id,
                name=name, email=email, company=company, interest=interest,
                phone=phone or (f"+{contacts.phone_of(contact)}" if contacts.phone_of(contact) else None),
                consent=consent, source=source,
                consent_at=utcnow() if consent else None)
    session.add(lead)
    await session.flush()
    if _crm_adapter() == "none":  # nobody to push it to: a task for the sales department
        await queue_as_task(session, lead)
    return lead


def _crm_adapter() -> str:
    from desk.integrations.config import adapter_from_env

    return adapter_from_env()


async def leads_of(session: AsyncSession, wa_id: str) -> list[Lead]:
    rows = await session.execute(select(Lead).join(Contact, Lead.contact_id == Contact.id)
                                 .where(Contact.wa_id == wa_id).order_by(Lead.id))
    return list(rows.scalars())


# --- a lead as a task for the sales department ----------------------------------------

async def sales_department(session: AsyncSession, phone_number_id: str | None) -> int | None:
    """The department a lead of this number is queued for: the brand's "Sales", else the number's."""
    if phone_number_id is None:
        return None
    number = await session.get(PhoneNumber, phone_number_id)
    if number is None:
        return None
    brand_id = (await session.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
    from desk.services import departments

    sales = await departments.find(session, brand_id, SALES_DEPARTMENT)  # "Sales" in any of its names
    return sales.id if sales is not None else number.department_id


async def queue_as_task(session: AsyncSession, lead: Lead) -> Lead:
    """Make the lead an open task in its sales department's queue (nobody owns it yet)."""
    lead.task_state = "open"
    lead.department_id = await sales_department(session, lead.phone_number_id)
    lead.operator_id = None
    await session.flush()
    return lead


def _may_work_on(operator: Operator, lead: Lead) -> bool:
    return operator.role == Role.admin or lead.department_id in {d.id for d in operator.departments}


async def take_task(session: AsyncSession, lead: Lead, operator: Operator) -> Lead:
    """`operator` takes the lead from the queue (the caller checked the brand)."""
    if lead.task_state is None:
        await queue_as_task(session, lead)  # e.g. a lead whose push failed: a person takes it on
    if lead.task_state == "done":
        raise LeadTaskError("this lead is done: reopen it first")
    if not _may_work_on(operator, lead):
        raise LeadTaskError("this lead is queued for another department")
    won = await session.execute(update(Lead).where(
        Lead.id == lead.id, Lead.task_state == "open",
        (Lead.operator_id.is_(None)) | (Lead.operator_id == operator.id))
        .values(operator_id=operator.id).execution_options(synchronize_session=False))
    if won.rowcount != 1:
        raise LeadTaskError("someone else took this lead")
    await session.refresh(lead)
    return lead


async def finish_task(session: AsyncSession, lead: Lead, operator: Operator, *, done: bool = True) -> Lead:
    """Mark the lead's task done (its owner or an admin), or reopen it."""
    if lead.task_state is None:
        raise LeadTaskError("this lead is not a task")
    if lead.operator_id not in (None, operator.id) and operator.role != Role.admin:
        raise LeadTaskError("only the lead's owner or an admin can change it")
    if not _may_work_on(operator, lead):
        raise LeadTaskError("this lead is queued for another department")
    if done:
        if lead.task_state == "done":
            raise LeadTaskError("this lead is already done")
        lead.task_state, lead.task_done_at, lead.task_done_by = "done", utcnow(), operator.email
        lead.operator_id = lead.operator_id or operator.id
    else:
        if lead.task_state != "done":
            raise LeadTaskError("this lead is not done")
        lead.task_state, lead.task_done_at, lead.task_done_by = "open", None, None
    await session.flush()
    return lead
