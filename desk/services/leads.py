"""Leads captured in chats, waiting for (or pushed to) the CRM."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Contact, Lead, utcnow
from desk.services.conversations import upsert_contact


async def save_lead(session: AsyncSession, *, wa_id: str, phone_number_id: str | None,
                    name: str | None, email: str | None, company: str | None,
                    interest: str | None, consent: bool, phone: str | None = None,
                    profile_name: str | None = None, chat_id: int | None = None) -> Lead:
    """Store a lead; `phone` defaults to the user's WhatsApp number in E.164."""
    contact = await upsert_contact(session, wa_id, profile_name)
    lead = Lead(contact_id=contact.id, chat_id=chat_id, phone_number_id=phone_number_id,
                name=name, email=email, company=company, interest=interest,
                phone=phone or f"+{wa_id}", consent=consent,
                consent_at=utcnow() if consent else None)
    session.add(lead)
    await session.flush()
    return lead


async def leads_of(session: AsyncSession, wa_id: str) -> list[Lead]:
    rows = await session.execute(select(Lead).join(Contact, Lead.contact_id == Contact.id)
                                 .where(Contact.wa_id == wa_id).order_by(Lead.id))
    return list(rows.scalars())
