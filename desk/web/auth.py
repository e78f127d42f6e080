"""Console sign-in: server-side sessions, CSRF tokens and login throttling.

Sessions live in this process's memory, keyed by a random token in an HttpOnly
cookie: one console instance only (several instances need a shared session table).
A session ends after 30 minutes without a request the operator made, or 12 hours
after sign-in, whichever comes first; signing in always issues a new token.

CSRF: every state-changing request carries the session's own token in the
`X-CSRF-Token` header (the page reads it from `GET /api/me`). The sign-in request,
which has no session yet, uses a double-submit cookie set by the sign-in page.
"""
from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

SESSION_COOKIE = "tsunagi_session"
LOGIN_CSRF_COOKIE = "tsunagi_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
# Requests the page makes by itself (refreshes after a live event) do not count as
# the operator being active: they must not keep an abandoned session alive.
BACKGROUND_HEADER = "X-Background"

IDLE_TIMEOUT = 30 * 60
ABSOLUTE_TIMEOUT = 12 * 60 * 60

THROTTLE_WINDOW = 15 * 60
THROTTLE_MAX_PER_ACCOUNT = 5     # failures per email and address
THROTTLE_MAX_PER_ADDRESS = 50    # failures per address, whatever the email (password spraying)


@dataclass
class ConsoleSession:
    token: str
    operator_id: int
    csrf: str
    created: float
    last_seen: float

    def expired(self, now: float) -> bool:
        return now - self.last_seen > IDLE_TIMEOUT or now - self.created > ABSOLUTE_TIMEOUT


@dataclass
class SessionStore:
    """In-memory sessions of this process (see the module docstring)."""

    clock: callable = time.monotonic
    _sessions: dict[str, ConsoleSession] = field(default_factory=dict)
    _expired_operators: set[int] = field(default_factory=set)  # found expired since the last sweep

    def create(self, operator_id: int) -> ConsoleSession:
        now = self.clock()
        session = ConsoleSession(secrets.token_urlsafe(32), operator_id, secrets.token_urlsafe(32), now, now)
        self._sessions[session.token] = session
        return session

    def get(self, token: str | None, *, touch: bool = True) -> ConsoleSession | None:
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        now = self.clock()
        if session.expired(now):
            self._sessions.pop(token, None)
            self._expired_operators.add(session.operator_id)
            return None
        if touch:
            session.last_seen = now
        return session

    def valid(self, token: str | None) -> bool:
        return self.get(token, touch=False) is not None

    def drop(self, token: str | None) -> ConsoleSession | None:
        return self._sessions.pop(token, None) if token else None

    def drop_operator(self, operator_id: int) -> None:
        for token in [t for t, s in self._sessions.items() if s.operator_id == operator_id]:
            self._sessions.pop(token, None)

    def has_operator(self, operator_id: int) -> bool:
        now = self.clock()
        return any(s.operator_id == operator_id and not s.expired(now) for s in self._sessions.values())

    def sweep(self) -> set[int]:
        """Forget expired sessions; the operators who have no session left."""
        now = self.clock()
        gone = {t: s.operator_id for t, s in self._sessions.items() if s.expired(now)}
        for token in gone:
            del self._sessions[token]
        ended = set(gone.values()) | self._expired_operators
        self._expired_operators = set()
        return {op for op in ended if not self.has_operator(op)}


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
