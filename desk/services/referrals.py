"""Where a chat came from: the `referral` Meta puts on a user's message that followed a
click-to-WhatsApp ad or a Facebook/Instagram post's button (kept in the message's
payload as sent). Shown in the console's side pane, given to the chat's leads as
their source, and (desk.billing.per_message) what opens a free entry point window."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import Direction, Message


async def referral_of_chat(session: AsyncSession, chat_id: int) -> dict | None:
    """The referral on one of the chat's first user messages, as Meta sent it."""
    payloads = (await session.execute(select(Message.payload).where(
        Message.chat_id == chat_id, Message.direction == Direction.inbound).order_by(Message.id).limit(20))).scalars()
    for payload in payloads:
        if isinstance(payload, dict) and isinstance(payload.get("referral"), dict):
            return payload["referral"]
    return None


def source_of(referral: dict | None) -> dict | None:
    """A lead's or a chat's source, in the desk's words: the ad or post, never its media."""
    if not referral:
        return None
    source = {"type": referral.get("source_type"), "id": referral.get("source_id"),
              "headline": referral.get("headline"), "url": referral.get("source_url"),
              "body": referral.get("body"), "ctwa_clid": referral.get("ctwa_clid")}
    return {k: str(v)[:500] for k, v in source.items() if v}


def describe(source: dict | None) -> str:
    """One line for a CRM's lead source field: "WhatsApp ad: Spring sale" or "WhatsApp"."""
    if not source:
        return "WhatsApp"
    kind = {"ad": "ad", "post": "post"}.get(source.get("type") or "", "referral")
    what = source.get("headline") or source.get("id") or source.get("url")
    return f"WhatsApp {kind}: {what}" if what else f"WhatsApp {kind}"
