"""The simulator's behaviour, independent of HTTP: accepting outbound
messages, emitting status webhooks, and users writing to a business."""
from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import pricing
from .clock import Clock
from .config import SimConfig
from .errors import status_error
from .ratelimit import SlidingWindow, TokenBucket
from .state import Fault, MessageRecord, Number, Settings, State, new_wamid, user_id_of
from .templates import Template
from .templates import CATEGORIES, HELLO_WORLD, STATUSES, components_from_control, validate_definition
from .validation import Outbound, is_bsuid
from .webhooks import Dispatcher, envelope

log = logging.getLogger("simulator")


@dataclass
class Plan:
    """What will happen to an accepted outbound message."""

    fail_code: int | None = None
    fail_details: str | None = None


class Simulator:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.clock = Clock()
        self.state = State(Settings(
            webhook_url=config.webhook_url,
            auto_read=config.auto_read,
            status_delay_ms=config.status_delay_ms,
            window_error=config.window_error,
            webhook_max_attempts=config.webhook_max_attempts,
            webhook_retry_base_ms=config.webhook_retry_base_ms,
            webhook_retry_max_ms=config.webhook_retry_max_ms,
            user_ids=config.user_ids,
        ))
        self.dispatcher = Dispatcher(self.state, config.app_secret, config.webhook_timeout_s, self.clock.now)
        self.throughput = SlidingWindow(config.throughput_per_second, 1.0)
        self.pair_rate = TokenBucket(config.pair_rate_burst, config.pair_rate_interval_s)
        self.seed()

    # -- setup -------------------------------------------------------------
    def seed(self) -> None:
        """Register the default number (and any from SIM_NUMBERS_FILE), Meta's
        sample ``hello_world`` template, and any from SIM_TEMPLATES_FILE."""
        cfg = self.config
        self.state.add_number(Number(cfg.phone_number_id, cfg.access_token, cfg.display_phone_number,
                                     cfg.waba_id, cfg.verified_name))
        if cfg.numbers_file:
            for item in json.loads(Path(cfg.numbers_file).read_text()):
                self.register_number(item)
        self.register_template({**HELLO_WORLD, "waba_id": cfg.waba_id})
        if cfg.templates_file:
            for item in json.loads(Path(cfg.templates_file).read_text()):
                self.register_template(item)

    def reset(self) -> None:
        self.dispatcher.cancel_all()
        self.state.reset()
        self.clock.reset()
        self.throughput.reset()
        self.pair_rate.reset()
        self.seed()

    def register_number(self, body: dict[str, Any]) -> Number:
        missing = [k for k in ("phone_number_id", "access_token") if not body.get(k)]
        if missing:
            raise ValueError(f"missing: {', '.join(missing)}")
        number = Number(
            phone_number_id=str(body["phone_number_id"]),
            access_token=str(body["access_token"]),
            display_phone_number=str(body.get("display_phone_number") or body["phone_number_id"]),
            waba_id=str(body.get("waba_id") or self.config.waba_id),
            verified_name=str(body.get("verified_name") or "Tsunagi Demo"),
        )
        return self.state.add_number(number)

    def register_template(self, body: dict[str, Any]) -> Template:
        """Add a template, or change one (e.g. its status: Meta's review). For an
        existing template, fields left out keep their values."""
        waba_id = str(body.get("waba_id") or self.config.waba_id)
        name, language = body.get("name"), body.get("language", "en_US")
        if isinstance(language, dict):
            language = language.get("code")
        existing = self.state.find_template(waba_id, name, language) if isinstance(name, str) else None
        category = str(body.get("category") or (existing.category if existing else "UTILITY")).upper()
        status = str(body.get("status") or (existing.status if existing else "APPROVED")).upper()
        if existing is not None and not isinstance(body.get("components"), list) and "body" not in body:
            components = existing.components
        else:
            components = components_from_control(body)
        reason = body.get("reason")
        if reason is None:
            reason = existing.rejected_reason if existing and existing.status == status else "NONE"
        if category not in CATEGORIES:
            raise ValueError(f"category must be one of {sorted(CATEGORIES)}")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {sorted(STATUSES)}")
        validate_definition(name, language, category, components)
        return self.state.upsert_template(waba_id, name, language, category, status, components, str(reason))

    async def template_status_changed(self, template: Template):
        """Meta tells the business about a review (or pause, disable ...): a signed
        ``message_template_status_update`` webhook of the template's WABA."""
        return await self.dispatcher.deliver(None, template.status_update(self.clock.now()),
                                             kind="template_status", settings=self.state.settings,
                                             status=template.status)

    # -- outbound (business -> user) ---------------------------------------
    def accept_outbound(self, number: Number, out: Outbound, request: dict[str, Any],
                        rendered: dict[str, Any] | None, async_fault: Fault | None) -> MessageRecord:
        """Record an accepted message and start its status pipeline."""
        now = self.clock.now()
        plan = Plan()
        if async_fault is not None:
            plan = Plan(async_fault.code or 131000, async_fault.details)
        elif not self.window_allows(number, out, now):
            # The 24-hour customer service window is closed.  Meta's Cloud API
            # accepts the request (200 + wamid) and then reports the failure
            # asynchronously as a ``failed`` status webhook with error 131047
            # "Re-engagement message" ("More than 24 hours have passed since
            # the recipient last replied to the sender number").  See "Error
            # codes" (Receiving Errors: Synchronous and Asynchronous) and the
            # Status messages webhook reference:
            # https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
            # Only templates may open a conversation outside the window.
            plan = Plan(131047)
        rec = self.state.add_message(
            wamid=new_wamid(out.wa_id), direction="outbound", phone_number_id=number.phone_number_id,
            wa_id=out.wa_id, type=out.type, content=out.content, timestamp=int(now), status="accepted",
            context={"message_id": out.context_message_id} if out.context_message_id else None,
            rendered=rendered, biz_opaque_callback_data=out.biz_opaque_callback_data, request=request,
        )
        self.dispatcher.spawn(self._pipeline(rec, number, plan))
        return rec

    def window_allows(self, number: Number, out: Outbound, now: float | None = None) -> bool:
        """Templates go anytime; anything else needs the user's 24-hour window."""
        now = self.clock.now() if now is None else now
        return out.type == "template" or self.state.window_open(number.phone_number_id, out.wa_id, now)

    async def _sleep(self) -> None:
        delay = self.state.settings.status_delay_ms
        await asyncio.sleep(max(delay, 0) / 1000)

    async def _pipeline(self, rec: MessageRecord, number: Number, plan: Plan) -> None:
        try:
            if plan.fail_code is not None:
                await self._sleep()
                await self.emit_status(rec, number, "failed",
                                       errors=[status_error(plan.fail_code, plan.fail_details)])
                return
            settings = self.state.settings
            now = self.clock.now()
            in_window = self.state.window_open(number.phone_number_id, rec.wa_id, now)
            conv, _ = pricing.conversation_for(self.state, number.phone_number_id, rec.wa_id,
                                               pricing.template_category(rec), now)
            order = ["sent", "delivered"] + (["read"] if settings.auto_read else [])
            if settings.status_order == "reversed":
                order.reverse()
            elif settings.status_order == "shuffled":
                random.shuffle(order)
            for status in order:
                await self._sleep()
                await self.emit_status(rec, number, status, conv=conv, in_window=in_window)
        except asyncio.CancelledError:
            raise
        except Exception:  # pragma: no cover - a bug here must not kill the loop
            log.exception("status pipeline failed for %s", rec.wamid)

    async def emit_status(self, rec: MessageRecord, number: Number, status: str, *,
                          errors: list[dict[str, Any]] | None = None,
                          conv: pricing.Conversation | None = None, in_window: bool = True) -> None:
        """Record a status and POST its webhook (duplicated if configured)."""
        settings = self.state.settings
        ts = int(self.clock.now())
        item: dict[str, Any] = {"id": rec.wamid, "status": status, "timestamp": str(ts)}
        if is_bsuid(rec.wa_id):  # a username-only user: no phone number in the status
            item["recipient_user_id"] = rec.wa_id
        else:
            item["recipient_id"] = rec.wa_id
            if settings.user_ids:
                item["recipient_user_id"] = user_id_of(number.waba_id, rec.wa_id)
        extra: dict[str, Any] = {}
        if conv is not None:
            pmp = (pricing.pmp_pricing(self.state, rec, number.phone_number_id, in_window, self.clock.now())
                   if self.config.pricing_model.upper() == "PMP" and status in ("sent", "delivered") else None)
            extra = pricing.status_objects(conv, status, self.config.pricing_model,
                                           self.config.status_conversation, in_window, pmp)
            item.update(extra)
        if rec.biz_opaque_callback_data is not None:
            item["biz_opaque_callback_data"] = rec.biz_opaque_callback_data
        if errors:
            item["errors"] = errors
        self.state.set_status(rec.wamid, status, ts, errors=errors,
                              conversation=extra.get("conversation"), pricing=extra.get("pricing"))
        body = envelope(number, {"statuses": [item]})
        for _ in range(max(1, settings.status_duplicates)):
            await self.dispatcher.deliver(number, body, kind="status", settings=settings,
                                          wa_id=rec.wa_id, wamid=rec.wamid, status=status)

    async def user_reads(self, number: Number, wa_id: str, wamids: list[str] | None = None) -> list[str]:
        """The user opens the chat: ``read`` statuses for delivered messages."""
        done = []
        for rec in self.state.thread(number.phone_number_id, wa_id):
            if rec.direction != "outbound" or rec.status not in ("sent", "delivered"):
                continue
            if wamids is not None and rec.wamid not in wamids:
                continue
            await self.emit_status(rec, number, "read")
            done.append(rec.wamid)
        return done

    # -- inbound (user -> business) -----------------------------------------
    async def system_message(self, number: Number, wa_id: str, system: dict[str, Any]) -> dict[str, Any]:
        """A ``system`` message (the user changed number or BSUID), no contacts array.
        Signed and delivered like any message; the user then writes under the new
        identity (a new path in the control API)."""
        now = self.clock.now()
        wamid = new_wamid(wa_id)
        message = {"from_user_id" if is_bsuid(wa_id) else "from": wa_id, "id": wamid,
                   "timestamp": str(int(now)), "type": "system", "system": system}
        body = envelope(number, {"messages": [message]})
        d = await self.dispatcher.deliver(number, body, kind="message", settings=self.state.settings,
                                          wa_id=wa_id, wamid=wamid)
        return {"wamid": wamid, "payload": body,
                "webhook_status": d.attempts[-1]["http_status"] if d.attempts else None}

    async def user_message(self, number: Number, wa_id: str, profile_name: str,
                           mtype: str, type_obj: Any, context: dict[str, Any] | None,
                           duplicate: int = 1, delay_ms: int = 0,
                           extra: dict[str, Any] | None = None,
                           username: str | None = None) -> dict[str, Any]:
        """A WhatsApp user writes to a business number: record it, open the
        customer service window, and POST Meta's inbound webhook.

        A user whose ``wa_id`` is a BSUID is a username-only user ("Business-scoped
        user IDs"): the message has ``from_user_id`` and no ``from``; the contact has
        ``user_id`` and ``profile.username`` and no ``wa_id``."""
        now = self.clock.now()
        wamid = new_wamid(wa_id)
        bsuid = is_bsuid(wa_id)
        message: dict[str, Any] = {"from_user_id" if bsuid else "from": wa_id, "id": wamid,
                                   "timestamp": str(int(now)), "type": mtype}
        user_id = None
        if not bsuid and self.state.settings.user_ids:  # Meta names phone users by BSUID too
            user_id = user_id_of(number.waba_id, wa_id)
            self.state.remember_user_id(user_id, wa_id)
            message["from_user_id"] = user_id
        if context:
            message["context"] = context
        if type_obj is not None:
            message[mtype] = type_obj
        if extra:
            message.update(extra)
        self.state.add_message(
            wamid=wamid, direction="inbound", phone_number_id=number.phone_number_id, wa_id=wa_id,
            type=mtype, content=type_obj if type_obj is not None else extra, timestamp=int(now),
            status="received", context=context, profile_name=profile_name,
        )
        self.state.record_inbound(number.phone_number_id, wa_id, now)
        profile: dict[str, Any] = {"name": profile_name}
        if username:
            profile["username"] = username
        contact: dict[str, Any] = {"profile": profile, "user_id" if bsuid else "wa_id": wa_id}
        if user_id:
            contact["user_id"] = user_id
        body = envelope(number, {"contacts": [contact], "messages": [message]})
        settings = self.state.settings
        result: dict[str, Any] = {"wamid": wamid, "payload": body, "webhook_status": None,
                                  "deliveries": []}

        async def send_all() -> list[int | None]:
            statuses = []
            for _ in range(max(1, duplicate)):
                d = await self.dispatcher.deliver(number, body, kind="message", settings=settings,
                                                  wa_id=wa_id, wamid=wamid)
                statuses.append(d.attempts[-1]["http_status"] if d.attempts else None)
            return statuses

        if delay_ms > 0:
            async def later() -> None:
                await asyncio.sleep(delay_ms / 1000)
                await send_all()
            self.dispatcher.spawn(later())
            result["scheduled_in_ms"] = delay_ms
            return result
        statuses = await send_all()
        result["webhook_status"] = statuses[0]
        result["deliveries"] = statuses
        return result

    def business_reads(self, number: Number, wamid: str, typing: bool = False) -> bool:
        """Mark-as-read from the business: the inbound message becomes read; with a
        typing indicator the user sees "typing…" (kept in ``state.typing``: when, per user)."""
        rec = self.state.get_message(wamid)
        if rec is None or rec.direction != "inbound" or rec.phone_number_id != number.phone_number_id:
            return False
        self.state.set_status(wamid, "read", int(self.clock.now()))
        if typing:
            self.state.typing[(number.phone_number_id, rec.wa_id)] = self.clock.now()
        return True
