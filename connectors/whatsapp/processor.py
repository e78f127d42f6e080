"""What happens to a webhook after its 200: plain Python, testable without Rasa.

`accept()` parses and records a body durably (the 200 is sent after it returns);
`kick()` schedules processing of one user's backlog; a sweep picks up anything left
over, such as rows recorded before a crash. One user's messages are processed in
order, one at a time; different users run concurrently.
"""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import logging
from typing import Awaitable, Callable

from sqlalchemy.orm import sessionmaker

from cloudapi.graph import GraphClient, GraphError
from cloudapi.payloads import AccountUpdate, InboundMessage, StatusUpdate, TemplateStatusUpdate, parse_webhook
from desk.attachments import INBOUND_SAFETY_CAP, MediaStore, StoredMedia
from desk.models import Chat, ChatState, EventState, HandoffReason, utcnow
from desk.services import account_events, contacts, conversations, csat, inbox, notices, numbers, outbox
from desk.services import business_hours, echoes, message_changes, routing, settings, takeover

log = logging.getLogger(__name__)

# Called with the message, the desk chat id, whether it opens that chat and (keyword
# `retry`) whether an earlier attempt may have run the turn already; runs the bot turn.
Deliver = Callable[..., Awaitable[None]]
# Called with the message, the desk chat id and a notice key (desk/services/notices.py):
# sends that notice to the user, once per message and key (idempotent under retries).
# notices.OUTSIDE_HOURS comes with `closed=` (business_hours.Closed: its text and its
# *Leave a message* button).
Notify = Callable[..., Awaitable[None]]
Lane = tuple[str, str, str]  # (phone_number_id, wa_id, kind): one user's messages, or statuses

# A message the bot could not answer (its action server is down) is retried this long,
# then its chat goes to a person.
BOT_DOWN_HANDOFF = dt.timedelta(minutes=2)
BOT_DOWN_RETRY_MAX = dt.timedelta(seconds=15)
# Statuses only move ticks forward: a lane waits this long before it applies them, so
# that a reply's sent/delivered/read are applied together.
STATUS_GATHER_SECONDS = 0.1
RECONCILED_MEMO = 10_000


class TurnFailed(Exception):
    """The bot's turn did not run to its end (an action server call failed). The
    deliverer has rewound Rasa's tracker, so the same message can be given again."""


class RetryLater(Exception):
    def __init__(self, delay: dt.timedelta, error: str):
        super().__init__(error)
        self.delay = delay


class InboxProcessor:
    def __init__(self, sessions: sessionmaker, graph: GraphClient, default_token: str,
                 deliver: Deliver, *, notify: Notify | None = None, media_store: MediaStore | None = None,
                 mark_read: bool = True, sweep_seconds: float = 5.0, lease: dt.timedelta = inbox.LEASE,
                 bot_down_handoff: dt.timedelta = BOT_DOWN_HANDOFF, max_concurrent: int = 1,
                 status_gather: float = STATUS_GATHER_SECONDS):
        self.sessions = sessions
        # Lanes run concurrently, but at most this many events at a time: on one loop, a
        # desk transaction of one event waits while another event's turn computes, and
        # on SQLite it holds the write lock meanwhile, where the intake has to wait.
        self._running = asyncio.Semaphore(max_concurrent)
        self.credentials = numbers.CredentialsCache()
        self.notify = notify
        self.bot_down_handoff = bot_down_handoff
        self.media_store = media_store
        self.graph = graph
        self.default_token = default_token
        self.deliver = deliver
        self.mark_read = mark_read
        self.sweep_seconds = sweep_seconds
        self.lease = lease
        self._locks: dict[Lane, asyncio.Lock] = {}
        self.status_gather = status_gather
        self._gathering: set[Lane] = set()
        self._reconciled = ReconciledMemo()
        # wamid -> its mark-as-read call in flight: the reply to it waits for the call.
        self.read_receipts: dict[str, asyncio.Task] = {}
        self._tasks: set[asyncio.Task] = set()
        self._sweeper: asyncio.Task | None = None
        self._stopping = False

    # -- intake -----------------------------------------------------------------
    async def accept(self, body: object) -> list[Lane]:
        """Record every item of a parsed JSON body; returns the lanes to process."""
        return await record_webhook(self.sessions, body)

    def kick(self, phone_number_id: str, wa_id: str, kind: str = "message") -> None:
        if kind == "status":
            # A reply's sent, delivered and read come milliseconds apart: gathered for a
            # moment they are one transaction, not three. One wait per lane at a time; a
            # status recorded during the wait is claimed by the drain that follows it.
            key = (phone_number_id, wa_id, kind)
            if key in self._gathering:
                return
            self._gathering.add(key)
            coro = self._drain_after(key, self.status_gather)
        else:
            coro = self.drain(phone_number_id, wa_id, kind)
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain_after(self, key: Lane, seconds: float) -> None:
        try:
            await asyncio.sleep(seconds)
        finally:
            self._gathering.discard(key)
        await self.drain(*key)

    # -- processing ---------------------------------------------------------------
    async def drain(self, phone_number_id: str, wa_id: str, kind: str = "message") -> None:
        key = (phone_number_id, wa_id, kind)
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                await self._drain_lane(key)
        except Exception:  # noqa: BLE001 - e.g. "database is locked": the sweep retries
            log.exception("whatsapp: processing %s/%s (%s) stopped; the sweep will retry", *key)
        finally:
            if not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
                self._locks.pop(key, None)

    async def _drain_lane(self, key: Lane) -> None:
        # A lane stops when it claimed its last row (no empty claim to find that out):
        # a row recorded meanwhile has its own kick, queued behind this lane's lock.
        while not self._stopping:
            async with self._running:
                more = await self._apply_statuses(key) if key[2] == "status" else None
                if more is None:  # messages, or a failed batch: one event at a time
                    more = await self._run_next(key)
                if not more:
                    return

    async def _apply_statuses(self, key: Lane, limit: int = 200) -> bool | None:
        """A lane's due statuses, claimed, applied and finished in one transaction
        (they need no outside call and only move forward). Whether more may be due
        (a full batch); None when the batch failed: then they go one by one, each with
        its own retries (so no savepoint per status is needed here)."""
        try:
            async with self.sessions() as session, session.begin():
                events = await inbox.claim_batch(session, *key, limit=limit)
                if not events:
                    return False
                known = await self.credentials.get(session, key[0], self.default_token) is not None
                outcomes = []
                items = [_from_envelope("status", event.payload) for event in events]
                messages = await conversations.messages_by_wamid(session, [i.wamid for i in items]) if known else {}
                for event, item in zip(events, items):
                    state = EventState.ignored
                    if known:
                        state = await apply_status(session, item, reconciled=self._reconciled, known=messages)
                    outcomes.append((event.id, state))
                await inbox.finish_batch(session, outcomes)
            self._reconciled.committed()
            return len(events) == limit
        except Exception:  # noqa: BLE001 - e.g. a locked database: one by one, with retries
            self._reconciled.rolled_back()
            log.warning("whatsapp: a batch of statuses for %s/%s failed; applying them one by one",
                        key[0], key[1], exc_info=True)
            return None

    async def _run_next(self, key: Lane) -> bool:
        """Claim and handle the lane's next event; whether the lane should go on (more
        rows behind it, and this one done: a failed head waits for its retry)."""
        phone_number_id, wa_id, kind = key
        async with self.sessions() as session, session.begin():
            if kind == "message" and await self.credentials.get(
                    session, phone_number_id, self.default_token) is None:
                # Not our number: the lane's rows are finished in one statement (a flood
                # for someone else's number costs a transaction per user, not per row).
                ignored = await inbox.ignore_lane(session, *key)
                log.warning("whatsapp: ignored %s message(s) for unknown phone_number_id %s",
                            ignored, phone_number_id)
                return False
            event = await inbox.claim_next(session, phone_number_id, wa_id, kind, self.lease)
        if event is None:
            return False
        state, error, retry_in = EventState.done, None, None
        heartbeat = asyncio.create_task(self._keep_lease(event.id))
        try:
            state = await self._handle(event)
        except RetryLater as exc:
            state, error, retry_in = EventState.pending, str(exc), exc.delay
        except Exception as exc:  # noqa: BLE001 - recorded, retried by the sweep
            log.exception("whatsapp: event %s failed", event.dedupe_key)
            state, error = EventState.failed, f"{type(exc).__name__}: {exc}"
        finally:
            heartbeat.cancel()
        await self._finish(event, state, error, retry_in=retry_in)
        # Not done: keep this lane's order, retry from here after the backoff.
        return event.more_behind and state in (EventState.done, EventState.ignored)

    async def _keep_lease(self, event_id: int) -> None:
        """Renew the row's short lease while it is worked on (a slow turn keeps it; a
        dead process loses it within one lease)."""
        every = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                async with self.sessions() as session, session.begin():
                    await inbox.renew(session, event_id, self.lease)
            except Exception as exc:  # noqa: BLE001 - e.g. "database is locked": next beat
                log.warning("whatsapp: could not renew the lease of event %s: %s", event_id, exc)

    async def _finish(self, event, state: EventState, error: str | None, attempts: int = 6,
                      retry_in: dt.timedelta | None = None) -> None:
        """Record the outcome, retrying a database error a few times (logged once): the
        turn already ran, so giving up here would run it again after the lease."""
        for attempt in range(attempts):
            try:
                async with self.sessions() as session, session.begin():
                    if retry_in is not None:
                        await inbox.retry_later(session, event.id, retry_in, error)
                    else:
                        await inbox.finish(session, event.id, state, error, attempts=event.attempts)
                return
            except Exception as exc:  # noqa: BLE001
                if attempt == 0:
                    log.warning("whatsapp: recording the outcome of %s failed (%s); retrying",
                                event.dedupe_key, exc)
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.2 * 2 ** attempt)

    async def _handle(self, event) -> EventState:
        kind = event.kind
        item = _from_envelope(kind, event.payload)
        if isinstance(item, AccountUpdate):
            async with self.sessions() as session, session.begin():
                applied = await account_events.apply(session, item)
            return EventState.done if applied else EventState.ignored
        if isinstance(item, TemplateStatusUpdate):
            from desk.billing import template_sync

            async with self.sessions() as session, session.begin():
                applied = await template_sync.apply_status_event(session, item)
            return EventState.done if applied else EventState.ignored
        if isinstance(item, StatusUpdate):  # one by one: a batch of them failed
            try:
                async with self.sessions() as session, session.begin():
                    if await self.credentials.get(session, item.phone_number_id, self.default_token) is None:
                        log.warning("whatsapp: ignoring a status for unknown phone_number_id %s",
                                    item.phone_number_id)
                        return EventState.ignored
                    state = await apply_status(session, item, reconciled=self._reconciled)
            except BaseException:
                self._reconciled.rolled_back()
                raise
            self._reconciled.committed()
            return state
        async with self.sessions() as session, session.begin():
            creds = await self.credentials.get(session, item.phone_number_id, self.default_token)
            if creds is None:
                log.warning("whatsapp: ignoring %s for unknown phone_number_id %s",
                            kind, item.phone_number_id)
                return EventState.ignored
            if item.type == "system":
                # The user changed number or BSUID: the contact learns it, keeps its chats
                # and its key (so Rasa's sender id stays); a system line, no bot turn.
                await conversations.record_system_change(
                    session, phone_number_id=item.phone_number_id, wa_id=item.wa_id,
                    user_id=item.user_id, system_type=item.system_type, new_wa_id=item.new_wa_id,
                    new_user_id=item.new_user_id, wamid=item.wamid, body=item.text,
                    payload=item.raw, wa_timestamp=item.timestamp)
                return EventState.done
            if item.type in ("edit", "revoke"):
                # An earlier message edited or deleted (by the user, or by the business app on a
                # coexistence number): the transcript follows; no new turn for the bot.
                await message_changes.apply(session, kind=item.type, original_wamid=item.original_wamid,
                                            text=item.text, at=item.timestamp)
                return EventState.done
            if item.echo:
                # Sent by the business from the WhatsApp Business app (coexistence): the
                # transcript shows it; no bot turn, no read receipt, the window unchanged.
                await echoes.record_echo(session, phone_number_id=item.phone_number_id, wa_id=item.wa_id,
                                         user_id=item.user_id, wamid=item.wamid, type=item.type, body=item.text,
                                         payload=item.raw, wa_timestamp=item.timestamp)
                return EventState.done
        # Outside the transaction: a download may take a while. A failure raises and
        # the event is retried (media ids stay valid for 7 days).
        media = await self._store_media(item, creds.access_token)
        async with self.sessions() as session, session.begin():
            if await csat.take_reply(session, phone_number_id=item.phone_number_id, wa_id=item.wa_id,
                                     type=item.type, text=item.text, reply_payload=item.payload,
                                     wamid=item.wamid, raw=item.raw, at=item.timestamp, user_id=item.user_id):
                return EventState.done  # a satisfaction rating or its comment: not for the bot
            chat, _ = await conversations.record_inbound(
                session, phone_number_id=item.phone_number_id, wa_id=item.wa_id,
                profile_name=item.profile_name, wamid=item.wamid, type=item.type,
                body=item.text, payload=item.raw, wa_timestamp=item.timestamp,
                media=media, media_filename=item.filename, user_id=item.user_id,
                parent_user_id=item.parent_user_id, username=item.username,
                first_attempt=event.attempts == 1)
            # Rasa's sender id is made of the contact's key, its first-known identity
            # (cloudapi.ids): the same whether this message names it by phone or BSUID.
            # The language to answer in: the customer's (conversations.record_inbound), else
            # the brand's default (one query, only until the customer has written text).
            language = chat.language or await settings.default_language_of_number(session, item.phone_number_id)
            item = dataclasses.replace(item, contact_key=chat.contact.wa_id, language=language)
            chat_id, bot_has_it = chat.id, chat.state == ChatState.bot
            # A first message, or the first since an operator handed the chat back to the
            # bot (desk.services.takeover): Rasa may still be paused and is resumed first.
            handed_back = bool(chat.bot_resume_pending)
            opens_chat = handed_back or getattr(chat, "opened_now", False) or (
                event.attempts > 1 and await conversations.message_count(session, chat_id) == 1)
        if item.type == "reaction":  # shown on the reacted message in the console; nothing to answer
            bot_has_it = False
        if item.type == "order" and bot_has_it:  # a cart from the catalog: Sales (else the number's team) confirms it
            try:
                async with self.sessions() as session, session.begin():
                    sales = await routing.sales_department(session, item.phone_number_id)
                    closed = await self._closed(session, item, event, chat_id, sales)
                    if closed is None:
                        await routing.hand_off(session, chat_id, sales, reason=HandoffReason.lead)
            except routing.RoutingError as refused:
                log.error("whatsapp: the order %s could not be handed to a person: %s", item.wamid, refused)
            else:
                if closed is not None:  # outside Sales' hours: when it is back, and *Leave a message*
                    await self._notify(item, chat_id, notices.OUTSIDE_HOURS, closed=closed)
                else:
                    await self._notify(item, chat_id, notices.ORDER_RECEIVED)
                bot_has_it = False
        if item.type == "unsupported":  # WhatsApp could not pass it on: say so, once; the bot has nothing to read
            log.warning("whatsapp: %s from %s is of a type WhatsApp does not support: %.300r",
                        item.wamid, item.user_key, item.raw.get("errors"))
            await self._notify(item, chat_id, notices.UNSUPPORTED)
            bot_has_it = False
        if item.group_id:  # recorded for the desk; the bot does not answer groups
            log.info("whatsapp: %s in group %s recorded, not given to the bot", item.wamid, item.group_id)
            bot_has_it = False
        receipt = None
        if self.mark_read:  # blue ticks; "typing…" while the bot composes its answer
            receipt = asyncio.create_task(self._mark_read(item, creds.access_token, typing=bot_has_it))
            # The turn starts at once, beside the call; the turn's first reply waits for
            # it (WhatsAppOutput), so the user still sees the ticks before the answer.
            self.read_receipts[item.wamid] = receipt
        try:
            if bot_has_it:
                try:
                    await self.deliver(item, chat_id, opens_chat, retry=event.attempts > 1)
                except TurnFailed as exc:
                    return await self._bot_unavailable(event, item, chat_id, exc)
                if handed_back:
                    async with self.sessions() as session, session.begin():
                        await takeover.bot_resumed(session, chat_id)
            return EventState.done
        finally:
            self.read_receipts.pop(item.wamid, None)
            if receipt is not None:
                await receipt

    async def _mark_read(self, item: InboundMessage, token: str, typing: bool) -> None:
        try:
            await self.graph.mark_read(item.phone_number_id, token, item.wamid, typing=typing)
        except Exception as exc:  # noqa: BLE001 - ticks are a courtesy: never fail the turn for them
            log.warning("whatsapp: mark-as-read of %s failed: %s", item.wamid, exc)

    async def _bot_unavailable(self, event, item: InboundMessage, chat_id: int, exc: TurnFailed) -> EventState:
        """The bot could not answer: tell the user at once, retry the turn while its
        action server is away, and after a bounded wait give the chat to a person."""
        waited = utcnow() - event.received_at
        log.warning("whatsapp: the bot could not answer %s (attempt %s, %.0f s): %s",
                    item.wamid, event.attempts, waited.total_seconds(), exc)
        if event.attempts == 1:
            await self._notify(item, chat_id, notices.BOT_UNAVAILABLE)
        if waited >= self.bot_down_handoff:
            try:
                async with self.sessions() as session, session.begin():
                    closed = await self._closed(session, item, event, chat_id)
                    if closed is None:
                        result = await routing.hand_off(session, chat_id, reason=HandoffReason.bot_down)
            except routing.RoutingError as refused:
                log.error("whatsapp: chat %s could not be handed to a person: %s", chat_id, refused)
            else:
                if closed is not None:  # nobody would come: when the team is back, and *Leave a message*
                    log.warning("whatsapp: chat %s not handed over while the bot is unavailable: %s is closed",
                                chat_id, closed.department)
                    await self._notify(item, chat_id, notices.OUTSIDE_HOURS, closed=closed)
                    return EventState.done
                log.warning("whatsapp: chat %s handed to a person (%s): the bot is unavailable",
                            chat_id, result.state.value)
                await self._notify(item, chat_id, notices.BOT_DOWN_HANDOFF)
                return EventState.done
        delay = min(inbox.RETRY_BACKOFF * 2 ** max(event.attempts - 1, 0), BOT_DOWN_RETRY_MAX)
        raise RetryLater(delay, f"bot unavailable: {exc}")

    async def _closed(self, session, item: InboundMessage, event, chat_id: int,
                      department_id: int | None = None) -> business_hours.Closed | None:
        """Is the department the chat would go to closed when the user wrote? (The same decision
        as the bot's own handoff: business_hours.closed_for_handoff.) The time is WhatsApp's
        timestamp of the message, else when its webhook was recorded; never the desk's clock."""
        at = item.timestamp
        if at is None:
            at = event.received_at
            log.info("whatsapp: %s has no timestamp; business hours are checked at its arrival", item.wamid)
        department_id = await routing.handoff_department(session, chat_id, department_id)
        return await business_hours.closed_for_handoff(session, department_id, at)

    async def _notify(self, item: InboundMessage, chat_id: int, key: str, **extra) -> None:
        if self.notify is None:
            return
        try:
            await self.notify(item, chat_id, key, **extra)
        except Exception:  # noqa: BLE001 - a notice must not stop the retry or the handoff
            log.exception("whatsapp: notice %s to %s failed", key, item.user_key)

    async def _store_media(self, item: InboundMessage, token: str) -> StoredMedia | None:
        if not item.media_id or self.media_store is None:
            return None
        try:
            data, mime = await self.graph.download_media(item.media_id, token, INBOUND_SAFETY_CAP)
        except GraphError as exc:
            if exc.retryable:
                raise
            # Gone or refused for good: keep the message, note what happened to the file.
            log.warning("whatsapp: media %s of %s not stored: %s", item.media_id, item.wamid, exc)
            return None
        return self.media_store.save(data, item.mime_type or mime)

    # -- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def sweep_once(self) -> None:
        async with self.sessions() as session:
            lanes = await inbox.lanes_with_work(session)
        for lane in lanes:
            if lane not in self._locks:
                self.kick(*lane)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except Exception:  # noqa: BLE001 - the database may be briefly unavailable
                log.exception("whatsapp: inbox sweep failed")
            await asyncio.sleep(self.sweep_seconds)

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Let running drains finish their current event (a lane stops before its
        next claim), then cancel what is still running after the grace period. What
        is left is in the inbox: the next start's sweep takes it up."""
        self._stopping = True
        if self._sweeper:
            self._sweeper.cancel()
        tasks = list(self._tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=grace_seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def idle(self) -> None:
        """Wait until every scheduled drain has finished (for tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


async def record_webhook(sessions: sessionmaker, body: object) -> list[Lane]:
    """Record every item of a parsed JSON body durably; returns the lanes to process.

    Raises MalformedPayload (nothing recorded) when the body has a bad shape.
    """
    rows = webhook_rows(body)
    async with sessions() as session, session.begin():
        await inbox.record(session, rows)
    return lanes_of(rows)


def webhook_rows(body: object) -> list[dict]:
    """The inbox rows of a parsed JSON body (MalformedPayload when it has a bad shape)."""
    rows = []
    for item in parse_webhook(body):
        if isinstance(item, InboundMessage):
            rows.append(dict(dedupe_key=item.dedupe_key, kind="message",
                             phone_number_id=item.phone_number_id, wa_id=item.user_key,
                             payload=_envelope(item)))
        elif isinstance(item, TemplateStatusUpdate):
            # No number: the lane is the WABA's (its id in phone_number_id, no wa_id),
            # so one WABA's template events are applied in arrival order.
            rows.append(dict(dedupe_key=item.dedupe_key, kind="template",
                             phone_number_id=item.waba_id, wa_id="",
                             payload=_envelope(item)))
        elif isinstance(item, AccountUpdate):  # the WABA's lane too, in arrival order
            rows.append(dict(dedupe_key=item.dedupe_key, kind="account",
                             phone_number_id=item.waba_id, wa_id="", payload=_envelope(item)))
        else:
            rows.append(dict(dedupe_key=item.dedupe_key, kind="status",
                             phone_number_id=item.phone_number_id, wa_id=item.user_key,
                             payload=_envelope(item)))
    return rows


def lanes_of(rows: list[dict]) -> list[Lane]:
    return sorted({(r["phone_number_id"], r["wa_id"], r["kind"]) for r in rows})


async def apply_status(session, item: StatusUpdate, reconciled: "ReconciledMemo | None" = None,
                       known: dict | None = None) -> EventState:
    """Move a sent message's status forward (statuses only move forward, so their
    order does not matter); `ignored` when the message is not ours. `reconciled`
    skips billing for pricing objects already reconciled; `known`, the batch's
    messages read by wamid."""
    error = "; ".join(f"{e.get('code')}: {e.get('title') or e.get('message')}"
                      for e in item.errors if isinstance(e, dict)) or None
    msg = await conversations.apply_status(session, wamid=item.wamid, status=item.status,
                                           at=item.timestamp, error=error, known=known)
    if msg is None and await outbox.link_status(
            session, item.raw.get("biz_opaque_callback_data"), item.wamid):
        msg = await conversations.apply_status(session, wamid=item.wamid, status=item.status,
                                               at=item.timestamp, error=error)
        if known is not None and msg is not None:
            known[item.wamid] = msg  # the batch's later statuses of it
    if item.status == "failed":
        log.warning("whatsapp: message %s failed: %s", item.wamid, error)
    if msg is not None and item.recipient_id and item.recipient_user_id:
        # Meta named the recipient by phone and BSUID: the contact learns what it lacked.
        chat = await session.get(Chat, msg.chat_id)
        if chat is not None and (not chat.contact.phone or not chat.contact.bsuid
                                 or (item.username and chat.contact.username != item.username)):
            await contacts.learn(session, chat.contact, phone=item.recipient_id, bsuid=item.recipient_user_id,
                                 username=item.username)
    if msg is not None:
        if item.status == "failed" or reconciled is None or not reconciled.already(item):
            await billing_status(session, item, msg)
            if reconciled is not None and item.status != "failed":
                reconciled.note(item)
    return EventState.done if msg is not None else EventState.ignored


class ReconciledMemo:
    """Which messages' pricing objects billing has reconciled (committed): a later
    status of the same message with the same `conversation` and `pricing` changes
    nothing (Meta wins, and it already has), so billing is not asked again. Notes
    count only once their transaction committed; the oldest are forgotten."""

    def __init__(self, size: int = RECONCILED_MEMO):
        self.size = size
        self._done: collections.OrderedDict[str, list] = collections.OrderedDict()
        self._pending: list[tuple[str, list]] = []

    @staticmethod
    def _objects(item: StatusUpdate) -> list:
        return [item.conversation, item.pricing]

    def already(self, item: StatusUpdate) -> bool:
        """Reconciled with these objects, or with more of them (Meta's `delivered` repeats
        the `sent` status's conversation without its expiry)."""
        objects = self._objects(item)
        # Notes of this same transaction count: they commit or roll back together.
        return any(wamid == item.wamid and _covered(objects, seen) for wamid, seen in self._pending) or (
            item.wamid in self._done and _covered(objects, self._done[item.wamid]))

    def note(self, item: StatusUpdate) -> None:
        self._pending.append((item.wamid, self._objects(item)))

    def committed(self) -> None:
        for wamid, objects in self._pending:
            self._done[wamid] = objects
            self._done.move_to_end(wamid)
        self._pending.clear()
        while len(self._done) > self.size:
            self._done.popitem(last=False)

    def rolled_back(self) -> None:
        self._pending.clear()


def _covered(new: object, old: object) -> bool:
    """Every member of `new` is in `old` with the same value (None: nothing new)."""
    if new is None:
        return True
    if isinstance(new, dict):
        return isinstance(old, dict) and all(k in old and _covered(v, old[k]) for k, v in new.items())
    if isinstance(new, list):
        return isinstance(old, list) and len(new) == len(old) and all(map(_covered, new, old))
    return new == old


async def billing_status(session, item: StatusUpdate, msg) -> None:
    """Billing's side of a status: a failed opening message is not charged; Meta's
    conversation and pricing objects are reconciled with the desk's record."""
    from desk.billing import conversations as billing

    if item.status == "failed":
        await billing.message_failed(session, msg.id)
    elif item.conversation or item.pricing:
        chat = await session.get(Chat, msg.chat_id)  # billing knows the user by the contact's key
        key = chat.contact.wa_id if chat is not None else item.user_key
        await billing.reconcile_status(session, msg, phone_number_id=item.phone_number_id,
                                       wa_id=key, conversation=item.conversation,
                                       pricing=item.pricing, at=item.timestamp)


def _envelope(item: InboundMessage | StatusUpdate | TemplateStatusUpdate) -> dict:
    data = dataclasses.asdict(item)
    data["timestamp"] = item.timestamp.isoformat() if item.timestamp else None
    return data


def _from_envelope(kind: str, data: dict) -> InboundMessage | StatusUpdate | TemplateStatusUpdate:
    data = dict(data, timestamp=dt.datetime.fromisoformat(data["timestamp"]) if data.get("timestamp") else None)
    if kind == "template":
        return TemplateStatusUpdate(**data)
    if kind == "account":
        return AccountUpdate(**data)
    return InboundMessage(**data) if kind == "message" else StatusUpdate(**data)
