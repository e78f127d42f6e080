"""The simulator's in-memory state (it is a simulator: nothing is persisted).

All mutations go through :class:`State` methods that hold one re-entrant lock,
so the state stays consistent whether it is touched from the event loop or
from a test's thread.  Methods never ``await`` while holding the lock.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import secrets
import threading
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from .templates import Template

WINDOW_SECONDS = 24 * 60 * 60
MAX_EVENTS = 20_000
MAX_DELIVERIES = 20_000


@dataclass
class Number:
    """A business phone number registered on the simulated Cloud API."""

    phone_number_id: str
    access_token: str
    display_phone_number: str
    waba_id: str
    verified_name: str = "Tsunagi Demo"

    def public(self) -> dict[str, Any]:
        return asdict(self)

    def graph_node(self) -> dict[str, Any]:
        """``GET /<PHONE_NUMBER_ID>`` fields (WhatsApp Business Phone Number node)."""
        return {
            "verified_name": self.verified_name,
            "code_verification_status": "VERIFIED",
            "display_phone_number": self.display_phone_number,
            "quality_rating": "GREEN",
            "platform_type": "CLOUD_API",
            "throughput": {"level": "STANDARD"},
            "id": self.phone_number_id,
        }


@dataclass
class Media:
    id: str
    phone_number_id: str
    mime_type: str
    data: bytes
    sha256: str
    filename: str | None = None
    origin: str = "upload"  # "upload" (business) or "inbound" (from a user)
    created_at: float = 0.0

    @property
    def file_size(self) -> int:
        return len(self.data)


@dataclass
class Conversation:
    id: str
    phone_number_id: str
    wa_id: str
    category: str  # service | marketing | utility | authentication
    opened_at: float
    expires_at: float


@dataclass
class Fault:
    """An injected failure for the next ``remaining`` calls (-1 = until cleared)."""

    code: int | None
    remaining: int
    http_status: int | None = None
    mode: str = "sync"  # sync (Graph error), async (failed status), http (bare HTTP error)
    endpoint: str = "messages"  # messages | media | any
    details: str | None = None

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MessageRecord:
    seq: int
    wamid: str
    direction: str  # "outbound" (business -> user) or "inbound" (user -> business)
    phone_number_id: str
    wa_id: str
    type: str
    content: Any
    timestamp: int
    status: str
    statuses: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] | None = None
    rendered: dict[str, Any] | None = None
    conversation: dict[str, Any] | None = None
    pricing: dict[str, Any] | None = None
    profile_name: str | None = None
    biz_opaque_callback_data: str | None = None
    request: dict[str, Any] | None = None

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Delivery:
    """One webhook (a signed POST body) and every attempt to deliver it."""

    id: int
    kind: str  # "message" | "status" | "template_status"
    phone_number_id: str
    wa_id: str | None
    wamid: str | None
    status: str | None
    body: dict[str, Any]
    raw: str
    signature: str
    url: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False
    done: bool = False
    created_at: float = 0.0

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Settings:
    """Run-time knobs (``POST /_sim/settings``), seeded from the config."""

    webhook_url: str
    auto_read: bool
    status_delay_ms: int
    # How a free-form message outside the 24-hour window fails: "async" (200 +
    # wamid, then a failed status with 131047 — what Meta's Cloud API does) or
    # "sync" (400 with 131047 at once, which Meta documents as also possible).
    window_error: str = "async"
    status_order: str = "in_order"  # in_order | reversed | shuffled
    status_duplicates: int = 1
    webhook_max_attempts: int = 5
    webhook_retry_base_ms: int = 500
    webhook_retry_max_ms: int = 30_000
    user_ids: bool = False  # phone users have a BSUID too (Meta, since 2026-03-31)

    def public(self) -> dict[str, Any]:
        return asdict(self)


def new_wamid(wa_id: str) -> str:
    """A unique id in the shape of Meta's: ``wamid.`` + base64 bytes."""
    digits = wa_id.encode()[:255]
    raw = (b"\x1c\x18" + bytes([len(digits)]) + digits + b"\x15\x02\x00\x11\x18\x12"
           + uuid.uuid4().hex[:18].upper().encode() + b"\x00")
    return "wamid." + base64.b64encode(raw).decode()


_media_counter = itertools.count(1)


_BSUID_COUNTRIES = (("1", "US"), ("44", "GB"), ("49", "DE"), ("33", "FR"), ("34", "ES"), ("39", "IT"),
                    ("55", "BR"), ("52", "MX"), ("91", "IN"), ("62", "ID"), ("81", "JP"), ("27", "ZA"))


def user_id_of(waba_id: str, wa_id: str) -> str:
    """The business-scoped user id of a phone user for one business (stable, per WABA
    here): the country's ISO code, a period and digits, like US.13491208655302741918."""
    country = next((iso for code, iso in _BSUID_COUNTRIES if wa_id.startswith(code)), "US")
    digits = str(int(hashlib.sha256(f"{waba_id}:{wa_id}".encode()).hexdigest(), 16))[:20]
    return f"{country}.{digits}"


def new_media_id() -> str:
    # Meta's media ids are 15-16 digit numbers.
    return str(10 ** 15 + secrets.randbelow(10 ** 14) * 100 + next(_media_counter) % 100)


class State:
    def __init__(self, settings: Settings) -> None:
        self._lock = threading.RLock()
        self._initial_settings = settings
        self._changed: asyncio.Event | None = None
        self._clear(settings)

    # -- lifecycle ---------------------------------------------------------
    def phone_of_user_id(self, user_id: str) -> str | None:
        """The phone user a derived BSUID belongs to (``user_ids`` on), if any wrote."""
        with self._lock:
            return self.user_id_phones.get(user_id)

    def remember_user_id(self, user_id: str, wa_id: str) -> None:
        with self._lock:
            self.user_id_phones[user_id] = wa_id

    def _clear(self, settings: Settings) -> None:
        self.settings = Settings(**asdict(settings))
        self.numbers: dict[str, Number] = {}
        self.media: dict[str, Media] = {}
        self.templates: dict[tuple[str, str, str], Template] = {}
        self.messages: list[MessageRecord] = []
        self.by_wamid: dict[str, MessageRecord] = {}
        self.last_inbound: dict[tuple[str, str], float] = {}
        self.user_id_phones: dict[str, str] = {}  # derived BSUID -> phone user (user_ids on)
        self.conversations: dict[tuple[str, str], list[Conversation]] = {}
        # Per-message pricing: service messages sent per (number, "YYYY-MM") and the
        # wamids priced so far (a message is priced once, on its first sent/delivered).
        self.service_sent: dict[tuple[str, str], int] = {}
        self.typing: dict[tuple[str, str], float] = {}  # (number, user) -> when the business showed "typing…"
        self.priced: dict[str, dict[str, Any]] = {}
        self.faults: dict[str, deque[Fault]] = {}
        self.deliveries: list[Delivery] = []
        self.events: deque[dict[str, Any]] = deque(maxlen=MAX_EVENTS)
        self._seq = 0
        self._event_seq = 0
        self._delivery_seq = 0
        self._template_seq = 0

    def reset(self) -> None:
        with self._lock:
            self._clear(self._initial_settings)
        self._notify()

    # -- numbers -----------------------------------------------------------
    def add_number(self, number: Number) -> Number:
        with self._lock:
            self.numbers[number.phone_number_id] = number
            return number

    def list_numbers(self) -> list[Number]:
        with self._lock:
            return list(self.numbers.values())

    def get_number(self, phone_number_id: str) -> Number | None:
        with self._lock:
            return self.numbers.get(phone_number_id)

    def token_known(self, token: str) -> bool:
        with self._lock:
            return any(secrets.compare_digest(n.access_token, token) for n in self.numbers.values())

    def waba_ids(self) -> set[str]:
        with self._lock:
            return {n.waba_id for n in self.numbers.values()}

    def numbers_of_waba(self, waba_id: str) -> list[Number]:
        with self._lock:
            return [n for n in self.numbers.values() if n.waba_id == waba_id]

    def token_for_waba(self, token: str, waba_id: str) -> bool:
        return any(secrets.compare_digest(n.access_token, token) for n in self.numbers_of_waba(waba_id))

    # -- media -------------------------------------------------------------
    def add_media(self, phone_number_id: str, mime_type: str, data: bytes, sha256: str,
                  filename: str | None = None, origin: str = "upload", now: float = 0.0) -> Media:
        with self._lock:
            mid = new_media_id()
            while mid in self.media:
                mid = new_media_id()
            m = Media(mid, phone_number_id, mime_type, data, sha256, filename, origin, now)
            self.media[mid] = m
            return m

    def get_media(self, media_id: str) -> Media | None:
        with self._lock:
            return self.media.get(media_id)

    def delete_media(self, media_id: str) -> bool:
        with self._lock:
            return self.media.pop(media_id, None) is not None

    # -- templates ---------------------------------------------------------
    def upsert_template(self, waba_id: str, name: str, language: str, category: str,
                        status: str, components: list[dict[str, Any]],
                        rejected_reason: str = "NONE") -> Template:
        with self._lock:
            key = (waba_id, name, language)
            existing = self.templates.get(key)
            if existing:
                tid = existing.id
            else:
                self._template_seq += 1
                tid = str(300000000000000 + self._template_seq)
            t = Template(tid, waba_id, name, language, category.upper(), status.upper(), components,
                         rejected_reason or "NONE")
            self.templates[key] = t
            return t

    def find_template(self, waba_id: str, name: str, language: str) -> Template | None:
        with self._lock:
            return self.templates.get((waba_id, name, language))

    def list_templates(self, waba_id: str | None = None) -> list[Template]:
        with self._lock:
            return [t for (w, _, _), t in self.templates.items() if waba_id is None or w == waba_id]

    def delete_template(self, waba_id: str, name: str, language: str | None = None) -> int:
        with self._lock:
            keys = [k for k in self.templates if k[0] == waba_id and k[1] == name
                    and (language is None or k[2] == language)]
            for k in keys:
                del self.templates[k]
            return len(keys)

    # -- messages ----------------------------------------------------------
    def add_message(self, **fields: Any) -> MessageRecord:
        with self._lock:
            self._seq += 1
            rec = MessageRecord(seq=self._seq, **fields)
            self.messages.append(rec)
            self.by_wamid[rec.wamid] = rec
            self._event("message", rec)
        self._notify()
        return rec

    def get_message(self, wamid: str) -> MessageRecord | None:
        with self._lock:
            return self.by_wamid.get(wamid)

    def set_status(self, wamid: str, status: str, timestamp: int,
                   errors: list[dict[str, Any]] | None = None,
                   conversation: dict[str, Any] | None = None,
                   pricing: dict[str, Any] | None = None) -> MessageRecord | None:
        """Record a status change; the record's ``status`` only moves forward
        (sent < delivered < read), so out-of-order webhooks don't regress it."""
        rank = {"accepted": 0, "received": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
        with self._lock:
            rec = self.by_wamid.get(wamid)
            if rec is None:
                return None
            rec.statuses.append({"status": status, "timestamp": timestamp})
            if rank.get(status, 0) >= rank.get(rec.status, 0):
                rec.status = status
            if errors:
                rec.errors = errors
            if conversation is not None:
                rec.conversation = conversation
            if pricing is not None:
                rec.pricing = pricing
            self._event("status", rec)
        self._notify()
        return rec

    def thread(self, phone_number_id: str, wa_id: str) -> list[MessageRecord]:
        with self._lock:
            return [m for m in self.messages
                    if m.phone_number_id == phone_number_id and m.wa_id == wa_id]

    def outbound_since(self, since: int = 0, phone_number_id: str | None = None,
                       wa_id: str | None = None) -> list[MessageRecord]:
        with self._lock:
            return [m for m in self.messages
                    if m.seq > since and m.direction == "outbound"
                    and (phone_number_id is None or m.phone_number_id == phone_number_id)
                    and (wa_id is None or m.wa_id == wa_id)]

    # -- the customer service window ----------------------------------------
    def record_inbound(self, phone_number_id: str, wa_id: str, at: float) -> None:
        with self._lock:
            key = (phone_number_id, wa_id)
            self.last_inbound[key] = max(at, self.last_inbound.get(key, 0.0))

    def window_open(self, phone_number_id: str, wa_id: str, now: float) -> bool:
        with self._lock:
            last = self.last_inbound.get((phone_number_id, wa_id))
            return last is not None and now - last < WINDOW_SECONDS

    # -- faults ------------------------------------------------------------
    def add_fault(self, phone_number_id: str, fault: Fault) -> None:
        with self._lock:
            self.faults.setdefault(phone_number_id, deque()).append(fault)

    def take_fault(self, phone_number_id: str, endpoint: str) -> Fault | None:
        with self._lock:
            q = self.faults.get(phone_number_id)
            if not q:
                return None
            for fault in list(q):
                if fault.endpoint in (endpoint, "any"):
                    if fault.remaining > 0:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            q.remove(fault)
                    return Fault(**asdict(fault))
            return None

    def list_faults(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {k: [f.public() for f in q] for k, q in self.faults.items() if q}

    def clear_faults(self, phone_number_id: str | None = None) -> None:
        with self._lock:
            if phone_number_id is None:
                self.faults.clear()
            else:
                self.faults.pop(phone_number_id, None)

    # -- webhook delivery log ---------------------------------------------
    def add_delivery(self, **fields: Any) -> Delivery:
        with self._lock:
            self._delivery_seq += 1
            d = Delivery(id=self._delivery_seq, **fields)
            self.deliveries.append(d)
            if len(self.deliveries) > MAX_DELIVERIES:
                del self.deliveries[: len(self.deliveries) - MAX_DELIVERIES]
            return d

    def record_attempt(self, delivery: Delivery, attempt: dict[str, Any], delivered: bool, done: bool) -> None:
        with self._lock:
            delivery.attempts.append(attempt)
            delivery.delivered = delivery.delivered or delivered
            delivery.done = done

    def deliveries_since(self, since: int = 0) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries if d.id > since]

    # -- events (for the page's long-poll) --------------------------------
    def _event(self, etype: str, rec: MessageRecord) -> None:
        self._event_seq += 1
        self.events.append({"seq": self._event_seq, "type": etype, "message": rec.public()})

    @property
    def event_seq(self) -> int:
        with self._lock:
            return self._event_seq

    def events_since(self, since: int, phone_number_id: str | None = None,
                     wa_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e["seq"] > since
                    and (phone_number_id is None or e["message"]["phone_number_id"] == phone_number_id)
                    and (wa_id is None or e["message"]["wa_id"] == wa_id)]

    def _notify(self) -> None:
        ev = self._changed
        if ev is not None:
            self._changed = None
            ev.set()

    async def wait_changed(self, timeout: float) -> None:
        if self._changed is None:
            self._changed = asyncio.Event()
        ev = self._changed
        try:
            await asyncio.wait_for(ev.wait(), timeout)
        except asyncio.TimeoutError:
            pass

