"""The Rasa side of the WhatsApp channel: thin over processor and cloudapi (outbound, graph).

Webhook: GET|POST /webhooks/whatsapp/webhook (Rasa mounts the blueprint under
/webhooks/<name>/). A POST is checked (signature over the raw bytes, before any
parsing), recorded durably, answered 200, then processed in the background.

Two event loops: Sanic's only verifies, records and answers webhooks (`Intake`);
bot turns run on their own thread and loop (`TurnThread`), because a Rasa turn
(TensorFlow inference, the synchronous SQL tracker store) blocks its loop for tens
of milliseconds at a time and would hold every acknowledgement back behind it.
"""
from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import logging
import threading
from typing import Any, Awaitable, Callable

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from cloudapi import outbound, signature
from cloudapi.graph import GraphClient, GraphError
from cloudapi.ids import conversation_id, split_conversation_id
from cloudapi.payloads import InboundMessage
from connectors.whatsapp import rasa_speedups, webhook
from connectors.whatsapp.processor import InboxProcessor, Lane, TurnFailed, lanes_of, webhook_rows
from connectors.whatsapp.settings import ChannelSettings
from desk.attachments import MediaStore
from desk.billing import conversations as billing
from desk.db import create_engine, session_factory
from desk.models import NumberState, Sender
from desk.services import bot_misses, contacts, conversations, inbox, notices, numbers, outbox
from nlp.japanese import pipeline_language

log = logging.getLogger(__name__)

# The action-server calls that failed during the current turn (None outside a turn).
# Rasa logs such a failure, drops the action's events and carries on; the channel
# needs to know, so that the turn is rewound and retried instead of counted as done.
_action_failures: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "whatsapp_action_failures", default=None)
# What the NLU made of the current turn's message (None outside a turn): a turn the bot
# went on with although its intent was unsure is noted for the trainer once it is done.
_turn_parses: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "whatsapp_turn_parses", default=None)


def sender_id_of(item: InboundMessage) -> str:
    """Rasa's sender id of a user's message: the number and the contact's key (its
    first-known identity, set by the processor), so it does not change when the user
    becomes known by their other identity or changes number."""
    return conversation_id(item.phone_number_id, item.contact_key or item.user_key)


class ChannelRuntime:
    """What lives from server start to stop: database engine, HTTP client, processor."""

    def __init__(self, settings: ChannelSettings, *, pooled: bool = False):
        self.settings = settings
        # Pooled in the server (TurnThread), which stops its tasks before disposing the
        # engine; unpooled where a caller's loop may cancel tasks mid-query (tests).
        self.engine = create_engine(settings.database_url, writer=True, pooled=pooled)
        self.sessions = session_factory(self.engine)
        self.graph = GraphClient(settings.graph_api_url,
                                 messages_per_second=settings.messages_per_second)
        self.processor: InboxProcessor | None = None

    async def start(self, deliver) -> None:
        async with self.sessions() as session, session.begin():
            await numbers.ensure_number(session, phone_number_id=self.settings.phone_number_id,
                                        waba_id=self.settings.waba_id)
        self.processor = InboxProcessor(self.sessions, self.graph, self.settings.access_token,
                                        deliver, notify=self.notify,
                                        bot_down_handoff=dt.timedelta(
                                            seconds=self.settings.bot_down_handoff_seconds),
                                        max_concurrent=self.settings.concurrent_turns,
                                        media_store=MediaStore(self.settings.media_dir),
                                        mark_read=self.settings.mark_read)
        await self.processor.start()

    async def notify(self, item: InboundMessage, chat_id: int, key: str, closed=None) -> None:
        """Send a desk notice to the user, keyed to the message it is about (`closed`: a
        department's business_hours.Closed, its words and its *Leave a message* button)."""
        out = WhatsAppOutput(self, cause=f"{item.wamid}#{key}")
        if closed is not None:
            await out.send_text_with_buttons(sender_id_of(item), closed.text(item.language),
                                             closed.buttons(item.language))
            return
        await out.send_text_message(sender_id_of(item), notices.text(key, item.language))

    async def stop(self) -> None:
        if self.processor:
            await self.processor.stop()
        await self.graph.close()
        try:
            await asyncio.wait_for(self.engine.dispose(), timeout=10)
        except asyncio.TimeoutError:
            log.warning("whatsapp: desk connections did not close within 10 s")


class TurnThread:
    """The ChannelRuntime (processor, Graph client, output) and the bot turns, on their
    own thread and event loop. Started and stopped from Sanic's loop."""

    def __init__(self, settings: ChannelSettings, deliver):
        self.settings = settings
        self.deliver = deliver
        self.runtime: ChannelRuntime | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="whatsapp-turns", daemon=True)

    async def start(self, timeout: float = 120.0) -> None:
        self._thread.start()
        ready = await asyncio.get_running_loop().run_in_executor(None, self._ready.wait, timeout)
        if self._failure is not None:
            raise RuntimeError("whatsapp: the turn thread did not start") from self._failure
        if not ready:
            raise TimeoutError(f"whatsapp: the turn thread did not start within {timeout:.0f}s")

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            self.runtime = ChannelRuntime(self.settings, pooled=True)
            await self.runtime.start(self.deliver)
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stopping.wait()
        await self.runtime.stop()

    def kick(self, phone_number_id: str, wa_id: str, kind: str = "message") -> None:
        """Wake the lane's processing on the turn thread (called from Sanic's loop)."""
        self.loop.call_soon_threadsafe(self.runtime.processor.kick, phone_number_id, wa_id, kind)

    async def stop(self, timeout: float = 30.0) -> None:
        if self.loop is not None and self._stopping is not None:
            self.loop.call_soon_threadsafe(self._stopping.set)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join, timeout)


class Intake:
    """Sanic's side: records webhooks with its own engine (engines and connections
    belong to one loop) through one group-commit writer, then hands the lanes to the
    turn thread."""

    def __init__(self, settings: ChannelSettings, turns: TurnThread):
        self.engine = create_engine(settings.database_url, writer=True, pooled=True)
        self.writer = inbox.GroupWriter(self.engine)
        self.turns = turns

    async def start(self) -> None:
        await self.writer.start()

    async def accept(self, body: object) -> list[Lane]:
        rows = webhook_rows(body)  # MalformedPayload before anything is written
        await self.writer.record(rows)
        return lanes_of(rows)

    def kick(self, phone_number_id: str, wa_id: str, kind: str = "message") -> None:
        self.turns.kick(phone_number_id, wa_id, kind)

    async def close(self) -> None:
        await self.writer.stop()
        await self.engine.dispose()


class WhatsAppOutput(OutputChannel):
    """Sends Rasa's responses through the Cloud API and records them in the desk.

    `recipient_id` is the Rasa conversation id `<phone_number_id>_<wa_id>`, so one
    instance serves every number (see `get_output_channel`). A turn's instance knows
    the user's message that caused it (`cause`, its wamid): its n-th reply is keyed
    `<cause>#<n>`, and a retried turn skips the replies Meta already accepted.
    """

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, runtime: ChannelRuntime, cause: str | None = None, first_attempt: bool = False):
        self.runtime = runtime
        self.cause = cause
        self.first_attempt = first_attempt  # the cause's first turn: no reply of it exists yet
        self._replies = 0

    def _next_reply_key(self) -> str | None:
        if self.cause is None:
            return None
        self._replies += 1
        return f"{self.cause}#{self._replies}"

    async def _send(self, recipient_id: str, message_without_to: dict) -> None:
        phone_number_id, wa_id = split_conversation_id(recipient_id)  # wa_id: the contact's key
        if _action_failures.get():
            # An action of this turn failed (e.g. action_session_start with the action
            # server away): Rasa goes on predicting from a state without that action's
            # events; the turn is rewound and retried (TurnFailed), so what it says now
            # would be wrong. Nothing is sent and no reply key is used.
            log.info("whatsapp: a reply to %s held back: an action of this turn failed", wa_id)
            return
        reply_key = self._next_reply_key()
        sessions = self.runtime.sessions
        async with sessions() as session, session.begin():
            creds = await self.runtime.processor.credentials.get(session, phone_number_id,
                                                                 self.runtime.settings.access_token)
            if creds is None:
                log.error("whatsapp: cannot send from unknown number %s", phone_number_id)
                return
            chat = await conversations.current_chat(session, phone_number_id, wa_id)
            # `to` the phone when known, else `recipient` the BSUID (a username-only user).
            message = outbound.addressed(message_without_to, contacts.phone_of(chat.contact),
                                         contacts.bsuid_of(chat.contact))
            record = await conversations.record_bot_reply(
                session, chat_id=chat.id, type=message["type"], body=outbound.summary(message),
                payload=message, reply_key=reply_key, first_attempt=self.first_attempt)
            if record is None:  # a retried turn: Meta accepted this reply the first time
                log.info("whatsapp: reply %s already sent; not sending it again", reply_key)
                return
            # Meta echoes this in the reply's status webhooks, which can arrive before the
            # wamid below is committed: the processor links them by it instead of dropping them.
            message = {**message, "biz_opaque_callback_data": outbox.message_callback_data(record.id)}
            if creds.state == NumberState.disconnected:
                # Meta refused this number's token: sending again cannot work until
                # an admin reconnects it, so say so instead of calling Meta.
                await conversations.mark_failed(session, record.id,
                                                "number disconnected: reconnect it in the desk")
                return
            # After the chat's row is written: chat, then brand billing lock, as everywhere.
            decision = await billing_check(session, phone_number_id, wa_id, message, chat.contact)
            if isinstance(decision, str):  # e.g. no free tier or credit left: recorded, not sent
                log.warning("whatsapp: bot reply to %s not sent: %s", wa_id, decision)
                await conversations.mark_failed(session, record.id, f"not sent: {decision}")
                return
            await decision.attach(session, record.id)
        receipt = self.runtime.processor.read_receipts.get(self.cause) if self.cause else None
        if receipt is not None:  # the ticks (and "typing…") of the user's message go first
            await asyncio.shield(receipt)
        try:
            wamid = await self.runtime.graph.send(phone_number_id, creds.access_token, message)
        except GraphError as exc:
            log.warning("whatsapp: send to %s failed: %s", wa_id, exc)
            async with sessions() as session, session.begin():
                await outbox.record_send_failure(session, record.id, outbox.failure_reason(exc))
                if exc.auth:
                    await numbers.mark_disconnected(session, phone_number_id, str(exc))
            if exc.auth:
                self.runtime.processor.credentials.forget(phone_number_id)
            return
        async with sessions() as session, session.begin():
            await conversations.mark_sent(session, record.id, wamid)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in outbound.split_text(text):
            await self._send(recipient_id, {"type": "text", "text": {"body": part}})

    async def send_text_with_buttons(self, recipient_id: str, text: str,
                                     buttons: list[dict[str, Any]], **kwargs: Any) -> None:
        try:
            message = outbound.buttons_message("", text, buttons)
        except outbound.OutboundError as exc:
            log.error("whatsapp: bad buttons in a bot response (%s); sending text only", exc)
            await self.send_text_message(recipient_id, text)
            return
        message.pop("to")
        await self._send(recipient_id, message)

    async def send_quick_replies(self, recipient_id: str, text: str,
                                 quick_replies: list[dict[str, Any]], **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        message = outbound.image_message("", image)
        message.pop("to")
        await self._send(recipient_id, message)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, attachment)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any],
                               **kwargs: Any) -> None:
        """A `custom` response is a Cloud API message object, passed through as is."""
        if not isinstance(json_message, dict) or "type" not in json_message:
            log.error("whatsapp: custom payload without a 'type' ignored: %r", json_message)
            return
        await self._send(recipient_id, {k: v for k, v in json_message.items() if k != "to"})


async def billing_check(session, phone_number_id: str, wa_id: str, message: dict, contact=None):
    """The desk's checks for a bot reply (an approved template with the right
    parameters; the billing check): the decision, or the refusal's reason."""
    from desk.billing import templates

    try:
        if message.get("type") == "template":
            await templates.check_message(session, phone_number_id, message, contact)
        return await billing.authorize_send(session, phone_number_id=phone_number_id, wa_id=wa_id,
                                            is_template=message.get("type") == "template", sender="bot",
                                            message=message)
    except (billing.SendRefused, templates.TemplateError) as exc:
        return str(exc)


async def resume_if_paused(agent, sender_id: str) -> None:
    """The desk gave the chat back to the bot (the handed-off chat was closed, or an
    operator handed it back): if Rasa's conversation is still paused from the
    handoff, resume it, as `POST /conversations/{id}/tracker/events` with
    ConversationResumed would — in-process, so Rasa's HTTP API can stay off. A form
    an operator's takeover interrupted is left, as the handoff action leaves one."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, ConversationResumed, SlotSet

    async with agent.lock_store.lock(sender_id):
        tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is not None and not tracker.is_paused() and tracker.active_loop_name:
            tracker.update(ActiveLoop(None))
            tracker.update(SlotSet(REQUESTED_SLOT, None))
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            await agent.tracker_store.save(tracker)
            log.info("whatsapp: left the form the operator interrupted for %s", sender_id)
        elif tracker is not None and tracker.is_paused():
            tracker.update(ConversationResumed())
            # The pause stopped the turn before its action_listen: without one, the
            # next user message would follow the handoff action and the policies
            # (memoization) would predict action_listen instead of answering.
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            await agent.tracker_store.save(tracker)
            log.info("whatsapp: resumed the bot for %s", sender_id)


def track_action_failures(agent) -> None:
    """Note in `_action_failures` every failed call to the agent's action server (a
    400 is the action rejecting, e.g. a form's validation: a normal outcome)."""
    endpoint = getattr(agent, "action_endpoint", None)
    if endpoint is None or getattr(endpoint, "_whatsapp_tracked", False):
        return
    request = endpoint.request

    async def tracked_request(*args: Any, **kwargs: Any) -> Any:
        try:
            return await request(*args, **kwargs)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            failures = _action_failures.get()
            if failures is not None and getattr(exc, "status", None) != 400:
                failures.append(f"{type(exc).__name__}: {exc}")
            raise

    endpoint.request = tracked_request
    endpoint._whatsapp_tracked = True


def track_parses(agent) -> None:
    """Note in `_turn_parses` the parse data of each message the agent's processor
    reads. A new model (the desk's model server) comes with a new processor, wrapped
    again at its first turn."""
    processor = getattr(agent, "processor", None)
    if processor is None or getattr(processor, "_whatsapp_parses", False):
        return
    parse = processor.parse_message

    async def tracked_parse(*args: Any, **kwargs: Any) -> Any:
        data = await parse(*args, **kwargs)
        parses = _turn_parses.get()
        if parses is not None and isinstance(data, dict):
            parses.append(data)
        return data

    processor.parse_message = tracked_parse
    processor._whatsapp_parses = True


async def note_unsure_turn(sessions, parse_data: dict | None, item: InboundMessage, chat_id: int | None) -> None:
    """A `low_confidence` miss for the trainer when the turn's intent was unsure
    (desk.services.bot_misses.unsure_intent); never fails the turn."""
    try:
        async with sessions() as session, session.begin():
            await bot_misses.note_turn(session, parse_data, threshold=bot_misses.faq_confidence_threshold(
                pipeline_language(str((parse_data or {}).get("text") or ""))),
                                       phone_number_id=item.phone_number_id, wa_id=item.wa_id or item.user_id,
                                       chat_id=chat_id)
    except Exception:  # noqa: BLE001 - the user's reply matters more than the trainer's note
        log.warning("whatsapp: the unsure turn of %s was not noted for the trainer", item.wamid, exc_info=True)


async def turn_is_recorded(agent, sender_id: str, wamid: str) -> bool:
    """Whether Rasa's tracker holds this user message as a turn that counts (one that
    was rewound does not)."""
    from rasa.shared.core.events import UserUttered

    tracker = await agent.tracker_store.retrieve(sender_id)
    return tracker is not None and any(
        isinstance(e, UserUttered) and e.message_id == wamid for e in tracker.applied_events())


async def rewind_turn(agent, sender_id: str) -> None:
    """Undo the last user message and what followed it in Rasa's tracker (as Rasa's
    `UserUtteranceReverted` does), so the same message can be given to the bot again."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, UserUtteranceReverted

    async with agent.lock_store.lock(sender_id):
        tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is None:
            return
        tracker.update(UserUtteranceReverted())
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        await agent.tracker_store.save(tracker)


class WhatsAppInput(InputChannel):
    """Custom channel `connectors.whatsapp.WhatsAppInput` for the WhatsApp Cloud API."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "WhatsAppInput":
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(ChannelSettings.from_credentials(credentials))

    def __init__(self, settings: ChannelSettings):
        self.settings = settings
        self.runtime: ChannelRuntime | None = None  # lives on the turn thread
        self.turns: TurnThread | None = None
        self.intake: Intake | None = None

    def get_output_channel(self, cause: str | None = None, first_attempt: bool = False) -> OutputChannel:
        if self.runtime is None:
            raise RuntimeError("whatsapp channel not started")
        return WhatsAppOutput(self.runtime, cause, first_attempt)

    def _deliver_to(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], app=None):
        async def deliver(item: InboundMessage, chat_id: int, opens_chat: bool, retry: bool = False) -> None:
            sender_id = sender_id_of(item)
            agent = getattr(getattr(app, "ctx", None), "agent", None)
            if retry and agent is not None and await turn_is_recorded(agent, sender_id, item.wamid):
                # The process died after Rasa saved this turn, before the inbox row was
                # finished: its replies went out (or are skipped by reply_key); running
                # it again would put the user's message into the dialogue twice.
                log.info("whatsapp: turn of %s already in the tracker; not run again", item.wamid)
                return
            if opens_chat and agent is not None:  # a chat after a handoff may find Rasa paused
                await resume_if_paused(agent, sender_id)
            # A reply button's id is its payload: "/intent{...}" triggers an intent
            # directly; any other id is read as the text the user tapped.
            text = item.payload if (item.payload or "").startswith("/") else (item.text or item.payload)
            if text is None:
                text = f"/whatsapp_{item.type}"  # media etc. without caption
            if agent is not None:
                track_action_failures(agent)
                track_parses(agent)
            failures: list[str] = []
            parses: list[dict] = []
            token = _action_failures.set(failures)
            parsed = _turn_parses.set(parses)
            try:
                await on_new_message(UserMessage(
                    text=text, output_channel=self.get_output_channel(cause=item.wamid, first_attempt=not retry),
                    sender_id=sender_id,
                    input_channel=self.name(), message_id=item.wamid,
                    metadata={"whatsapp": {"type": item.type, "profile_name": item.profile_name,
                                           "wa_id": item.wa_id, "user_id": item.user_id,
                                           "username": item.username, "phone_number_id": item.phone_number_id,
                                           "media_id": item.media_id, "desk_chat_id": chat_id,
                                           # WhatsApp's own time of the message (business hours)
                                           "timestamp": int(item.timestamp.timestamp()),
                                           # the bot's first language (actions/session.py)
                                           "language": item.language}}))
            finally:
                _action_failures.reset(token)
                _turn_parses.reset(parsed)
            if failures:
                if agent is not None:
                    await rewind_turn(agent, sender_id)
                raise TurnFailed(failures[0])
            if parses and self.runtime is not None:
                await note_unsure_turn(self.runtime.sessions, parses[-1], item, chat_id)
        return deliver

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("whatsapp_webhook", __name__)
        settings = self.settings

        @bp.listener("after_server_start")
        async def _start(app, loop) -> None:
            rasa_speedups.cache_action_result_schema()
            turns = TurnThread(settings, self._deliver_to(on_new_message, app))
            await turns.start()
            self.turns, self.runtime = turns, turns.runtime
            intake = Intake(settings, turns)
            await intake.start()
            self.intake = intake
            log.info("whatsapp: channel ready (Graph API %s)", settings.graph_api_url)

        @bp.listener("before_server_stop")
        async def _stop(app, loop) -> None:
            if self.turns:
                await self.turns.stop()
            if self.intake:
                await self.intake.close()

        # Sanic accepts requests while after_server_start listeners (Rasa's model
        # loading, then ours) still run: until the channel is ready, say so with a
        # 503, which Meta retries, instead of failing.
        @bp.route("/", methods=["GET"])
        async def health(request: Request):
            if self.intake is None:
                return response.json({"status": "starting"}, status=503)
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request):
            status, text = webhook.verify(request.args, settings.verify_token)
            return response.text(text, status=status)

        # Streamed: Sanic would otherwise read up to its 100 MB default before we see the
        # size. A declared or actual body over the limit is refused as it arrives.
        @bp.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request):
            if self.intake is None:
                return response.json({"error": "starting, retry later"}, status=503)
            raw = await webhook.read_limited(request.headers.get("content-length"), request.stream.read,
                                             settings.max_body_bytes)
            if raw is None:
                return response.json({"error": "payload too large"}, status=413)
            status, body = await webhook.receive(
                raw, request.headers.get(signature.HEADER),
                app_secret=settings.app_secret, max_body_bytes=settings.max_body_bytes,
                processor=self.intake)
            return response.json(body, status=status)

        return bp
