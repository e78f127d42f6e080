"""Template sends from the bot: thin over desk.billing.templates.

`action_follow_up_lead` follows up a captured lead with the approved template
`lead_follow_up` (body: {{1}} the lead's first name, {{2}} their interest) — e.g.
the next day, when the 24-hour window has closed and only a template may open a
conversation. The template goes through the desk's outbox, so it passes the same
checks as every send: approved, right parameters, and the billing check (free tier
or enough credit for a business-initiated conversation). The result is in the
slots `follow_up_status` (queued | refused) and `follow_up_reason`.

The user is read from the Rasa conversation id `<phone_number_id>_<wa_id>` (also
present when the action is triggered without a user message). Template name:
LEAD_FOLLOW_UP_TEMPLATE (default lead_follow_up). Language: the approved variant in the
lead's language (their chat's, else the brand's default) when the template has one,
else LEAD_FOLLOW_UP_LANGUAGE (default en_US).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from cloudapi.ids import split_conversation_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FollowUp:
    status: str            # queued | refused
    reason: str | None
    message_id: int | None = None


def _first_name(name: str | None) -> str | None:
    name = " ".join((name or "").split())
    return name.split(" ")[0] if name else None


def configured_language() -> str:
    return os.environ.get("LEAD_FOLLOW_UP_LANGUAGE", "").strip() or "en_US"


async def lead_language(session, phone_number_id: str, wa_id: str, lead=None) -> str:
    """The language the lead wrote in: their lead chat's, else their latest chat's on this
    number with a language, else the brand's default (desk.services.settings)."""
    from sqlalchemy import select

    from desk.language import LANGUAGES
    from desk.models import Chat, Contact
    from desk.services.settings import default_language_of_number

    if lead is not None and lead.chat_id:
        chat = await session.get(Chat, lead.chat_id)
        if chat is not None and chat.language in LANGUAGES:
            return chat.language
    latest = (await session.execute(
        select(Chat.language).join(Contact, Contact.id == Chat.contact_id)
        .where(Contact.wa_id == wa_id, Chat.phone_number_id == phone_number_id, Chat.language.isnot(None))
        .order_by(Chat.id.desc()).limit(1))).scalar_one_or_none()
    if latest in LANGUAGES:
        return latest
    return await default_language_of_number(session, phone_number_id)


async def follow_up_language(session, template: str, phone_number_id: str, wa_id: str, lead=None) -> str:
    """Meta's code of the follow-up template to send: its approved variant in the lead's
    language when there is one, else LEAD_FOLLOW_UP_LANGUAGE (default en_US)."""
    from desk.billing import templates
    from desk.services import variants

    configured = configured_language()
    wanted = await lead_language(session, phone_number_id, wa_id, lead)
    if variants.desk_language(configured) == wanted:
        return configured
    same_language = [t for t in await templates.approved_for_number(session, phone_number_id)
                     if t.name == template and variants.desk_language(t.language) == wanted]
    if not same_language:
        return configured
    return variants.ordered(same_language, (wanted,))[0].language


async def follow_up_lead(session, phone_number_id: str, wa_id: str, *, name: str | None = None,
                         interest: str | None = None, template: str | None = None,
                         language: str | None = None) -> FollowUp:
    """Queue the follow-up template to a lead; refusals come back with their reason."""
    from desk.billing import templates
    from desk.services import outbox
    from desk.services.leads import leads_of

    template = template or os.environ.get("LEAD_FOLLOW_UP_TEMPLATE", "lead_follow_up")
    leads = await leads_of(session, wa_id)
    lead = leads[-1] if leads else None
    if not language:
        language = await follow_up_language(session, template, phone_number_id, wa_id, lead)
    first = _first_name(name or (lead.name if lead else None))
    topic = " ".join((interest or (lead.interest if lead else None) or "").split())
    if not first or not topic:
        return FollowUp("refused", "no lead to follow up: the name and the interest are unknown")
    if lead is not None and not lead.consent:
        return FollowUp("refused", "the lead did not consent to be contacted")
    try:
        msg = await templates.send_template(session, phone_number_id=phone_number_id, wa_id=wa_id,
                                            name=template, language=language,
                                            body_params=[first, topic[:200]], by="action_follow_up_lead")
    except (templates.TemplateError, outbox.CannotSend) as exc:
        return FollowUp("refused", str(exc))
    return FollowUp("queued", None, msg.id)


class ActionFollowUpLead(Action):
    def name(self) -> str:
        return "action_follow_up_lead"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        from actions.desk_access import desk_transaction

        try:
            phone_number_id, wa_id = split_conversation_id(tracker.sender_id)
        except ValueError:
            result = FollowUp("refused", "not a WhatsApp conversation")
        else:
            async with desk_transaction() as session:
                result = await follow_up_lead(session, phone_number_id, wa_id,
                                              name=tracker.get_slot("lead_name"),
                                              interest=tracker.get_slot("lead_interest"))
        if result.status == "queued":
            log.info("follow-up: template queued for %s (message %s)", tracker.sender_id, result.message_id)
        else:
            log.warning("follow-up: not sent to %s: %s", tracker.sender_id, result.reason)
        return [SlotSet("follow_up_status", result.status), SlotSet("follow_up_reason", result.reason)]
