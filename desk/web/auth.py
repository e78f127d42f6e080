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

Throttling (see LoginThrottle) defends against password guessing without letting
an outsider lock anyone out. Failed sign-ins are rows of `login_attempts`, shared
by every console instance like the sessions. Two rules:

- per account (the email, from any address, failures of the last hour): the first
  5 are free; after that each attempt must wait a delay after the account's latest
  failure that doubles with every further failure (1 s, 2 s, 4 s, ... at most 5
  minutes), and is refused (429 with Retry-After) until then. Guessing one
  account's password stays slow however many addresses the guesser has (about 14
  guesses an hour), yet a stranger's failures only delay the real operator by the
  current delay, never a hard lockout: once it has passed, the right password
  signs in.
- per address: at most 50 failures in 15 minutes, whatever the emails (password
  spraying), then refused until the oldest leaves the window.

The address is the client's (`client_address`): the TCP peer, or, when the peer is
one of the reverse proxies in DESK_TRUSTED_PROXIES, the right-most address of
`X-Forwarded-For` that is not itself such a proxy. So behind the proxy each client
is counted on its own address (the team does not share one 50-failure allowance),
and a client that is not a trusted proxy cannot choose its address with the header.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import math
import secrets
from dataclasses import dataclass
from typing import Callable, Iterable

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

THROTTLE_WINDOW = 15 * 60        # the per-address limit's window
THROTTLE_ACCOUNT_WINDOW = 60 * 60  # the per-account delays' window (see LoginThrottle)
THROTTLE_FREE_PER_ACCOUNT = 5    # failures per email (from any address) before the delays start
THROTTLE_FIRST_DELAY = 1         # seconds after the account's latest failure; doubles with each further one
THROTTLE_MAX_DELAY = 5 * 60      # ...up to this
THROTTLE_MAX_PER_ADDRESS = 50    # failures per address, whatever the email (password spraying)


def _ip(value: str | None):
    """The address in `value` (IPv4-mapped IPv6 as IPv4), or None when it is not one."""
    try:
        ip = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    return (ip.ipv4_mapped or ip) if ip.version == 6 else ip


def client_address(remote: str | None, forwarded_for: Iterable[str], trusted: Iterable) -> str:
    """The client's address for sign-in throttling.

    `remote` is the TCP peer; `forwarded_for` the X-Forwarded-For header values in
    order; `trusted` the networks of trusted reverse proxies (DESK_TRUSTED_PROXIES).
    A peer that is not a trusted proxy is the client, whatever the header says. From a
    trusted proxy: the right-most X-Forwarded-For entry that is not itself a trusted
    proxy (entries left of it were written by the client and prove nothing); if all
    are trusted proxies, the left-most. A malformed entry reached on the way (or no
    header) falls back to the peer."""
    trusted = tuple(trusted)
    peer = _ip(remote)
    if peer is None:
        return (remote or "unknown")[:64]

    def is_proxy(ip) -> bool:
        return any(ip.version == net.version and ip in net for net in trusted)

    if not trusted or not is_proxy(peer):
        return str(peer)
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    client = None
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            return str(peer)
        client = ip
        if not is_proxy(ip):
            break
    return str(client or peer)


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
    """Failed sign-ins per account and per address in a sliding window (see the module
    docstring for the rules), counted in the desk database (`login_attempts`) so
    every console instance shares the same counts.

    Per account, the first THROTTLE_FREE_PER_ACCOUNT failures of THROTTLE_ACCOUNT_WINDOW
    (from any address) are free; with n more, an attempt waits THROTTLE_FIRST_DELAY *
    2**n seconds (at most THROTTLE_MAX_DELAY) after the account's latest failure.
    There is no longer lockout: whoever sends the failures, the right password gets
    through as soon as the current delay has passed, while a guesser is held to
    roughly one guess per delay. (The account window is an hour, not 15 minutes:
    with 5-minute delays failures would leave a 15-minute window about as fast as
    they are allowed, and a patient guesser would get ~11 guesses per 15 minutes
    instead of ~14 per hour.) Per address, at most THROTTLE_MAX_PER_ADDRESS failures
    are checked per THROTTLE_WINDOW, whatever the emails.

    A sign-in first *reserves* its attempt: it inserts a row (committed at once),
    then counts the window's rows, its own and everyone else's, those being checked
    included. Over a limit, or inside the account's delay, the row is deleted again
    and the caller is told how long to wait; otherwise the password is checked, and a
    failure simply keeps the row. So parallel guesses on several instances cannot all
    slip past the check before any of them is counted: of two admitted at once, the
    later one saw the earlier, so at most 5 free ones (50 per address) go on and any
    further one waits its delay (a burst may even be refused whole). An attempt made
    while the stored failures already say "wait" is refused before inserting
    anything, so a flood of refused attempts leaves no rows that would delay others.
    A success deletes its own row, and the account's earlier failures from the same
    address lose their email: they no longer count for the account but still do for
    the address (failures from other addresses still count for the account). Emails
    are stored only as SHA-256 hashes, and the same happens for emails that exist and
    those that do not, so the throttle does not tell which exist.
    """

    def __init__(self, sessions, clock: Callable[[], dt.datetime] = utcnow):
        self.sessions = sessions  # async_sessionmaker of the desk database
        self.clock = clock

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str]:
        return token_hash(email.strip().lower()), (address or "unknown")[:64]

    @staticmethod
    def delay(failures: int) -> float:
        """Seconds an attempt waits after the account's latest failure, given the
        account's failures in the window (0 while they are within the free ones)."""
        extra = failures - THROTTLE_FREE_PER_ACCOUNT
        if extra < 0:
            return 0.0
        return float(min(THROTTLE_MAX_DELAY, THROTTLE_FIRST_DELAY * 2 ** min(extra, 32)))

    async def _wait(self, session, email_key: str, address: str, now: dt.datetime,
                    exclude: int | None = None) -> float:
        """Seconds until an attempt is allowed (0: now), from the window's rows other
        than `exclude`."""
        others = [LoginAttempt.id != exclude] if exclude is not None else []
        failures, latest = (await session.execute(
            select(func.count(), func.max(LoginAttempt.attempted_at)).where(
                LoginAttempt.email_hash == email_key, *others,
                LoginAttempt.attempted_at > now - dt.timedelta(seconds=THROTTLE_ACCOUNT_WINDOW)))).one()
        account = 0.0
        if failures and latest is not None:
            if isinstance(latest, str):  # in case a driver returns the aggregate as stored text
                latest = dt.datetime.fromisoformat(latest)
            if latest.tzinfo is None:
                latest = latest.replace(tzinfo=dt.timezone.utc)
            account = (latest + dt.timedelta(seconds=self.delay(failures)) - now).total_seconds()
        nth = (await session.execute(
            select(LoginAttempt.attempted_at).where(
                LoginAttempt.address == address, *others,
                LoginAttempt.attempted_at > now - dt.timedelta(seconds=THROTTLE_WINDOW))
            .order_by(LoginAttempt.attempted_at.desc())
            .offset(THROTTLE_MAX_PER_ADDRESS - 1).limit(1))).scalar_one_or_none()
        per_address = (nth + dt.timedelta(seconds=THROTTLE_WINDOW) - now).total_seconds() if nth else 0.0
        return max(0.0, account, per_address)

    @staticmethod
    def _seconds(wait: float) -> int:
        return max(1, math.ceil(wait)) if wait > 0 else 0

    async def retry_after(self, email: str, address: str) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now (reads only)."""
        email_key, address = self._keys(email, address)
        async with self.sessions() as session:
            return self._seconds(await self._wait(session, email_key, address, self.clock()))

    async def reserve(self, email: str, address: str) -> tuple[int | None, int]:
        """Count this attempt before checking the password: `(attempt id, 0)` when it
        may go on, `(None, seconds to wait)` when a limit or a delay says no."""
        email_key, address = self._keys(email, address)
        now = self.clock()
        async with self.sessions() as session:
            wait = await self._wait(session, email_key, address, now)
        if wait > 0:  # already refused by the stored failures: no row, nothing to undo
            return None, self._seconds(wait)
        async with self.sessions() as session, session.begin():
            row = LoginAttempt(email_hash=email_key, address=address, attempted_at=now)
            session.add(row)
            await session.flush()
            attempt_id = row.id
        async with self.sessions() as session, session.begin():
            wait = await self._wait(session, email_key, address, now, exclude=attempt_id)
            if wait <= 0:
                return attempt_id, 0
            await session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))
        return None, self._seconds(wait)

    async def succeeded(self, attempt_id: int, email: str, address: str) -> None:
        """A right password: the attempt was no failure, and the account's earlier
        failures from this address no longer count against it (they still count for
        the address; failures from elsewhere still count for the account)."""
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
        """Delete failures that no rule counts any more: older than the account window,
        or older than the address window and detached from their email (every instance
        calls it periodically)."""
        now = self.clock()
        old = or_(LoginAttempt.attempted_at <= now - dt.timedelta(seconds=THROTTLE_ACCOUNT_WINDOW),
                  (LoginAttempt.attempted_at <= now - dt.timedelta(seconds=THROTTLE_WINDOW))
                  & LoginAttempt.email_hash.is_(None))
        async with self.sessions() as session, session.begin():
            result = await session.execute(delete(LoginAttempt).where(old))
        return result.rowcount or 0
