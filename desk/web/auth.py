"""Console sign-in: sessions in the desk database, CSRF tokens and login throttling.

Sessions are rows of `console_sessions`, so several console instances share them
and a restart signs nobody out. The cookie carries a random token; the table
stores only its SHA-256, so a copy of the database does not let anyone in. A
session ends after 30 minutes without a request the operator made, or 12 hours
after sign-in, whichever comes first; signing in always issues a new token and
signing out deletes the row.

CSRF: every state-changing request carries the session's CSRF token in the
`X-CSRF-Token` header (the page reads it from `GET /api/me`). The token is an
HMAC of the session token, so nothing more is stored and it cannot be turned back
into the cookie. The sign-in request, which has no session yet, uses a
double-submit cookie set by the sign-in page.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import delete, func, or_, select, update

from desk.models import ConsoleSession, utcnow

SESSION_COOKIE = "tsunagi_session"
LOGIN_CSRF_COOKIE = "tsunagi_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
# Requests the page makes by itself (refreshes after a live event) do not count as
# the operator being active: they must not keep an abandoned session alive.
BACKGROUND_HEADER = "X-Background"

IDLE_TIMEOUT = 30 * 60
ABSOLUTE_TIMEOUT = 12 * 60 * 60
# last_seen_at is written at most this often per session (not on every request).
TOUCH_EVERY = 30

THROTTLE_WINDOW = 15 * 60
THROTTLE_MAX_PER_ACCOUNT = 5     # failures per email and address
THROTTLE_MAX_PER_ADDRESS = 50    # failures per address, whatever the email (password spraying)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(token: str) -> str:
    return hmac.new(token.encode(), b"tsunagi console csrf", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SessionInfo:
    """A live session as a request sees it (the token only lives in the cookie)."""

    token: str
    operator_id: int
    created: dt.datetime
    last_seen: dt.datetime

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


class SessionStore:
    """Console sessions in the desk database (see the module docstring)."""

    def __init__(self, sessions, clock: Callable[[], dt.datetime] = utcnow):
        self.sessions = sessions  # async_sessionmaker of the desk database
        self.clock = clock

    def _live(self, now: dt.datetime):
        return (ConsoleSession.last_seen_at > now - dt.timedelta(seconds=IDLE_TIMEOUT),
                ConsoleSession.created_at > now - dt.timedelta(seconds=ABSOLUTE_TIMEOUT))

    async def create(self, operator_id: int, *, replaces: str | None = None) -> SessionInfo:
        """A new session (new token); the session of `replaces`, if any, is deleted."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        async with self.sessions() as session, session.begin():
            if replaces:
                await session.execute(delete(ConsoleSession).where(
                    ConsoleSession.token_hash == token_hash(replaces)))
            session.add(ConsoleSession(token_hash=token_hash(token), operator_id=operator_id,
                                       created_at=now, last_seen_at=now))
        return SessionInfo(token, operator_id, now, now)

    async def get(self, token: str | None, *, touch: bool = True) -> SessionInfo | None:
        """The live session of this token; `touch` counts the request as activity.

        An expired row is left for `sweep()`, which also sets its operator offline."""
        if not token or len(token) > 200:
            return None
        now = self.clock()
        key = token_hash(token)
        async with self.sessions() as session, session.begin():
            row = (await session.execute(select(ConsoleSession).where(
                ConsoleSession.token_hash == key, *self._live(now)))).scalar_one_or_none()
            if row is None:
                return None
            if touch and (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY:
                await session.execute(update(ConsoleSession).where(ConsoleSession.token_hash == key)
                                      .values(last_seen_at=now).execution_options(synchronize_session=False))
                row.last_seen_at = now
            return SessionInfo(token, row.operator_id, row.created_at, row.last_seen_at)

    async def valid(self, token: str | None) -> bool:
        return await self.get(token, touch=False) is not None

    async def drop(self, token: str | None) -> None:
        if not token:
            return
        async with self.sessions() as session, session.begin():
            await session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash(token)))

    async def drop_operator(self, operator_id: int, session=None) -> None:
        """Sign an operator out everywhere (in the caller's transaction when given)."""
        stmt = delete(ConsoleSession).where(ConsoleSession.operator_id == operator_id)
        if session is not None:
            await session.execute(stmt)
            return
        async with self.sessions() as own, own.begin():
            await own.execute(stmt)

    async def has_operator(self, operator_id: int) -> bool:
        now = self.clock()
        async with self.sessions() as session:
            n = (await session.execute(select(func.count()).select_from(ConsoleSession).where(
                ConsoleSession.operator_id == operator_id, *self._live(now)))).scalar_one()
        return n > 0

    async def sweep(self) -> set[int]:
        """Delete expired sessions; the operators who have no live session left."""
        now = self.clock()
        idle_cut = now - dt.timedelta(seconds=IDLE_TIMEOUT)
        abs_cut = now - dt.timedelta(seconds=ABSOLUTE_TIMEOUT)
        expired = or_(ConsoleSession.last_seen_at <= idle_cut, ConsoleSession.created_at <= abs_cut)
        async with self.sessions() as session, session.begin():
            ended = set((await session.execute(select(ConsoleSession.operator_id).where(expired))).scalars())
            if not ended:
                return set()
            await session.execute(delete(ConsoleSession).where(expired))
            still = set((await session.execute(select(ConsoleSession.operator_id).where(
                ConsoleSession.operator_id.in_(ended), *self._live(now)))).scalars())
        return ended - still


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())


class LoginThrottle:
    """Failed sign-ins per (email, address) and per address in a sliding window."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._account: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._address: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, q: deque[float], now: float) -> deque[float]:
        while q and now - q[0] > THROTTLE_WINDOW:
            q.popleft()
        return q

    def retry_after(self, email: str, address: str) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        now = self.clock()
        waits = []
        account = self._recent(self._account[(email, address)], now)
        if len(account) >= THROTTLE_MAX_PER_ACCOUNT:
            waits.append(account[-THROTTLE_MAX_PER_ACCOUNT] + THROTTLE_WINDOW - now)
        addr = self._recent(self._address[address], now)
        if len(addr) >= THROTTLE_MAX_PER_ADDRESS:
            waits.append(addr[-THROTTLE_MAX_PER_ADDRESS] + THROTTLE_WINDOW - now)
        if not account:
            self._account.pop((email, address), None)
        if not addr:
            self._address.pop(address, None)
        return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, email: str, address: str) -> None:
        now = self.clock()
        self._account[(email, address)].append(now)
        self._address[address].append(now)

    def succeeded(self, email: str, address: str) -> None:
        self._account.pop((email, address), None)

    def prune(self) -> None:
        """Forget failures older than the window (called periodically: bounded memory)."""
        now = self.clock()
        for table in (self._account, self._address):
            for key in [k for k, q in table.items() if not self._recent(q, now)]:
                del table[key]
