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

Throttling: failed sign-ins are rows of `login_attempts`, shared by every console
instance like the sessions (see LoginThrottle).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import delete, func, or_, select, update

from desk.models import ConsoleSession, LoginAttempt, utcnow

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
    """Failed sign-ins per (email, address) and per address in a sliding window,
    counted in the desk database (`login_attempts`) so every console instance
    shares the same counts.

    A sign-in first *reserves* its attempt: it inserts a row (committed at once),
    then counts the window's rows including it. Over a limit, the row is deleted
    again and the caller is told how long to wait; within the limits the password is
    checked, and a failure simply keeps the row. So parallel guesses on several
    instances cannot all slip past the check before any of them is counted: at most
    5 (or 50) are ever checked per window. A success deletes its own row and detaches
    the account's earlier failures from the email (they keep counting for the
    address, as before). The same happens for emails that exist and those that do
    not, so the throttle does not tell which exist.
    """

    def __init__(self, sessions, clock: Callable[[], dt.datetime] = utcnow):
        self.sessions = sessions  # async_sessionmaker of the desk database
        self.clock = clock

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str]:
        return token_hash(email.strip().lower()), (address or "unknown")[:64]

    async def _wait(self, session, condition, limit: int, now: dt.datetime, exclude: int | None) -> float:
        """Seconds until fewer than `limit` of the matching rows are in the window (0: now)."""
        window_start = now - dt.timedelta(seconds=THROTTLE_WINDOW)
        query = select(LoginAttempt.attempted_at).where(condition, LoginAttempt.attempted_at > window_start)
        if exclude is not None:
            query = query.where(LoginAttempt.id != exclude)
        nth = (await session.execute(query.order_by(LoginAttempt.attempted_at.desc())
                                     .offset(limit - 1).limit(1))).scalar_one_or_none()
        if nth is None:
            return 0.0
        return max(1.0, (nth + dt.timedelta(seconds=THROTTLE_WINDOW) - now).total_seconds())

    async def _waits(self, session, email_key: str, address: str, now: dt.datetime,
                     exclude: int | None = None) -> int:
        account = await self._wait(session, (LoginAttempt.email_hash == email_key)
                                   & (LoginAttempt.address == address), THROTTLE_MAX_PER_ACCOUNT, now, exclude)
        per_address = await self._wait(session, LoginAttempt.address == address,
                                       THROTTLE_MAX_PER_ADDRESS, now, exclude)
        wait = max(account, per_address)
        return int(wait) + 1 if wait else 0

    async def retry_after(self, email: str, address: str) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now (reads only)."""
        email_key, address = self._keys(email, address)
        async with self.sessions() as session:
            return await self._waits(session, email_key, address, self.clock())

    async def reserve(self, email: str, address: str) -> tuple[int | None, int]:
        """Count this attempt before checking the password: `(attempt id, 0)` when it
        may go on, `(None, seconds to wait)` when a limit is reached."""
        email_key, address = self._keys(email, address)
        now = self.clock()
        async with self.sessions() as session, session.begin():
            row = LoginAttempt(email_hash=email_key, address=address, attempted_at=now)
            session.add(row)
            await session.flush()
            attempt_id = row.id
        async with self.sessions() as session, session.begin():
            window_start = now - dt.timedelta(seconds=THROTTLE_WINDOW)
            recent = LoginAttempt.attempted_at > window_start
            account = (await session.execute(select(func.count()).select_from(LoginAttempt).where(
                LoginAttempt.email_hash == email_key, LoginAttempt.address == address, recent))).scalar_one()
            per_address = (await session.execute(select(func.count()).select_from(LoginAttempt).where(
                LoginAttempt.address == address, recent))).scalar_one()
            if account <= THROTTLE_MAX_PER_ACCOUNT and per_address <= THROTTLE_MAX_PER_ADDRESS:
                return attempt_id, 0
            await session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))
            wait = await self._waits(session, email_key, address, now, exclude=attempt_id)
        return None, max(1, wait)

    async def succeeded(self, attempt_id: int, email: str, address: str) -> None:
        """A right password: the attempt was no failure, and the account's earlier
        failures from this address no longer count against it (they still count for
        the address)."""
        email_key, address = self._keys(email, address)
        async with self.sessions() as session, session.begin():
            await session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))
            await session.execute(update(LoginAttempt).where(
                LoginAttempt.email_hash == email_key, LoginAttempt.address == address)
                .values(email_hash=None).execution_options(synchronize_session=False))

    async def release(self, attempt_id: int) -> None:
        """The attempt could not be checked (an error): it does not count."""
        async with self.sessions() as session, session.begin():
            await session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))

    async def prune(self) -> int:
        """Delete failures older than the window (every instance calls it periodically)."""
        cut = self.clock() - dt.timedelta(seconds=THROTTLE_WINDOW)
        async with self.sessions() as session, session.begin():
            result = await session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at <= cut))
        return result.rowcount or 0
