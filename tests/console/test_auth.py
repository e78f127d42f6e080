"""Sign-in, sessions, CSRF and throttling of the console API (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
import datetime as dt
from http.cookies import SimpleCookie

import aiohttp
import pytest

from desk.models import utcnow
from desk.web import auth
from tests.console.conftest import PASSWORD, signed_in


class Clock:
    """A fake clock for the sign-in throttle: tests move it, nothing sleeps."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def frozen(*consoles) -> Clock:
    """Run the throttle of these consoles' apps on one fake clock."""
    from desk.web.context import THROTTLE

    clock = Clock()
    for console in consoles:
        console.client.app[THROTTLE].clock = clock
    return clock


async def _login(console, email: str, password: str = PASSWORD, *, forwarded_for: str | None = None):
    """Console.login, with an X-Forwarded-For header (as a reverse proxy would add)."""
    await console.client.get("/login")
    token = console.client.session.cookie_jar.filter_cookies(console.client.make_url("/"))[auth.LOGIN_CSRF_COOKIE].value
    headers = {auth.CSRF_HEADER: token}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    return await console.client.post("/api/login", json={"email": email, "password": password}, headers=headers)


@pytest.fixture
def quick_passwords(monkeypatch):
    """Skip argon2 in tests that send dozens of sign-ins (the throttle is what they test)."""
    from desk import passwords

    monkeypatch.setattr(passwords, "verify_password", lambda password_hash, password: password == PASSWORD)


async def _console(aiohttp_client, console_settings, trusted_proxies: str = ""):
    """A console whose DESK_TRUSTED_PROXIES is `trusted_proxies` (the test client connects from 127.0.0.1)."""
    import dataclasses

    from desk.config import parse_trusted_proxies
    from desk.web.app import create_app
    from tests.console.conftest import Console

    settings = dataclasses.replace(console_settings, trusted_proxies=parse_trusted_proxies(trusted_proxies))
    return Console(await aiohttp_client(create_app(settings, cookie_secure=False)))


async def _status_with_token(client, path: str, token: str) -> int:
    """GET with only this session token (no cookie jar)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as raw:
        async with raw.get(client.make_url(path), headers={"Cookie": f"{auth.SESSION_COOKIE}={token}"}) as resp:
            return resp.status


def _set_cookie(resp, name):
    for header in resp.headers.getall("Set-Cookie", []):
        cookie = SimpleCookie()
        cookie.load(header)
        if name in cookie:
            return header, cookie[name]
    return None, None


async def test_sign_in_sets_a_hardened_session_cookie_and_me_works(make_console):
    console = await make_console()
    assert (await console.get("/api/me")).status == 401
    page = await console.get("/")
    assert page.history and page.history[0].status == 302 and page.url.path == "/login"
    resp = await console.login("Alice@Acme.test")
    assert resp.status == 200, await resp.text()
    header, morsel = _set_cookie(resp, auth.SESSION_COOKIE)
    assert morsel is not None and len(morsel.value) >= 40
    lowered = header.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "secure" not in lowered
    me = await (await console.get("/api/me")).json()
    assert me["email"] == "alice@acme.test" and me["role"] == "operator" and me["csrf_token"]
    assert [d["name"] for d in me["departments"]] == ["Support"]
    page = await console.get("/")
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


async def test_secure_flag_when_configured(aiohttp_client, console_settings, desk, monkeypatch):
    from tests.console.conftest import Console
    from desk.web.app import create_app

    monkeypatch.setenv("DESK_COOKIE_SECURE", "1")
    console = Console(await aiohttp_client(create_app(console_settings)))
    # The jar does not send Secure cookies over http: read the login CSRF token from the header instead.
    resp = await console.client.get("/login")
    header, morsel = _set_cookie(resp, auth.LOGIN_CSRF_COOKIE)
    assert "secure" in header.lower()
    resp = await console.client.post("/api/login", json={"email": "alice@acme.test", "password": PASSWORD},
                                     headers={"X-CSRF-Token": morsel.value,
                                              "Cookie": f"{auth.LOGIN_CSRF_COOKIE}={morsel.value}"})
    assert resp.status == 200, await resp.text()
    header, _ = _set_cookie(resp, auth.SESSION_COOKIE)
    assert "secure" in header.lower() and "httponly" in header.lower()


async def test_wrong_password_and_unknown_email_are_refused_alike(make_console):
    console = await make_console()
    wrong = await console.login("alice@acme.test", "not the password")
    unknown = await console.login("nobody@acme.test", "not the password")
    assert wrong.status == unknown.status == 401
    assert (await wrong.json()) == (await unknown.json()) == {"error": "Wrong email or password."}
    assert (await console.get("/api/me")).status == 401


async def test_after_five_failures_an_email_waits_a_short_delay_not_a_lockout(make_console):
    console = await make_console()
    clock = frozen(console)
    for _ in range(auth.THROTTLE_FREE_PER_ACCOUNT):
        assert (await console.login("alice@acme.test", "wrong password!")).status == 401
    blocked = await console.login("alice@acme.test")  # even the right password, for a second
    assert blocked.status == 429
    assert (await blocked.json())["error"] == "Too many failed sign-ins. Try again in 1 second."
    assert blocked.headers["Retry-After"] == "1"
    other = await console.login("carol@acme.test")  # another account is not delayed
    assert other.status == 200
    clock.advance(1)
    assert (await console.login("alice@acme.test")).status == 200


async def test_login_needs_the_double_submit_token(make_console):
    console = await make_console()
    await console.get("/login")
    resp = await console.client.post("/api/login", json={"email": "alice@acme.test", "password": PASSWORD})
    assert resp.status == 403
    resp = await console.client.post("/api/login", json={"email": "alice@acme.test", "password": PASSWORD},
                                     headers={"X-CSRF-Token": "forged"})
    assert resp.status == 403


async def test_state_changes_need_the_csrf_token(make_console, desk):
    chat_id = await desk.seed_chat("447700900001")
    console = await signed_in(make_console, "alice")
    for headers in ({}, {"X-CSRF-Token": "nope"}):
        resp = await console.client.post(f"/api/chats/{chat_id}/pick", headers=headers)
        assert resp.status == 403 and "CSRF" in (await resp.json())["error"]
        resp = await console.client.put("/api/me/status", json={"status": "online"}, headers=headers)
        assert resp.status == 403
    # A right token from another site is refused too (Origin check).
    resp = await console.post(f"/api/chats/{chat_id}/pick", headers={"Origin": "https://evil.example"})
    assert resp.status == 403
    assert (await console.post(f"/api/chats/{chat_id}/pick")).status == 200


async def test_logout_ends_the_session_and_sets_the_operator_offline(make_console):
    console = await signed_in(make_console, "alice")
    assert (await console.put("/api/me/status", {"status": "online"})).status == 200
    old_cookie = console.client.session.cookie_jar.filter_cookies(console.client.make_url("/"))[auth.SESSION_COOKIE].value
    assert (await console.post("/api/logout")).status == 200
    assert (await console.get("/api/me")).status == 401
    # The old token is dead even if a client kept it.
    assert await _status_with_token(console.client, "/api/me", old_cookie) == 401
    again = await signed_in(make_console, "alice")
    me = await (await again.get("/api/me")).json()
    assert me["status"] == "offline"


async def test_a_new_sign_in_gets_a_new_token(make_console):
    console = await signed_in(make_console, "alice")
    first = console.client.session.cookie_jar.filter_cookies(console.client.make_url("/"))[auth.SESSION_COOKIE].value
    assert (await console.login("alice@acme.test")).status == 200
    second = console.client.session.cookie_jar.filter_cookies(console.client.make_url("/"))[auth.SESSION_COOKIE].value
    assert first != second
    assert await _status_with_token(console.client, "/api/me", first) == 401
    assert await _status_with_token(console.client, "/api/me", second) == 200


async def test_sessions_expire_when_idle_and_after_twelve_hours(sessions, desk):
    import datetime as dt

    now = [dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.timezone.utc)]
    store = auth.SessionStore(sessions, clock=lambda: now[0])
    ada, alice = desk.operators["ada"], desk.operators["alice"]
    s = await store.create(alice)
    other = await store.create(ada)
    tick = dt.timedelta(seconds=auth.IDLE_TIMEOUT - 5)
    now[0] += tick
    assert (await store.get(s.token)).operator_id == alice       # a request keeps it alive...
    assert await store.get(other.token, touch=False) is not None
    now[0] += tick
    assert await store.get(s.token, touch=False) is not None     # ...a background refresh does not
    now[0] += dt.timedelta(seconds=10)
    assert await store.get(s.token) is None                      # 30 minutes after the last real request
    assert await store.get(other.token) is None
    assert await store.sweep() == {alice, ada}
    assert await store.sweep() == set()

    s = await store.create(alice)
    step = dt.timedelta(seconds=auth.IDLE_TIMEOUT - 60)
    for _ in range(int(auth.ABSOLUTE_TIMEOUT // step.total_seconds()) + 1):
        now[0] += step
        await store.get(s.token)
    assert await store.get(s.token) is None                      # never longer than 12 hours
    kept = await store.create(alice)                             # a second sign-in of the same operator
    assert await store.sweep() == set()                          # ...keeps her online
    assert await store.has_operator(alice)
    await store.drop(kept.token)
    assert not await store.has_operator(alice)


async def test_the_database_keeps_only_a_hash_of_the_token(make_console, desk):
    from sqlalchemy import select

    from desk.models import ConsoleSession

    console = await signed_in(make_console, "alice")
    token = console.client.session.cookie_jar.filter_cookies(console.client.make_url("/"))[auth.SESSION_COOKIE].value
    async with desk.sessions() as session:
        rows = (await session.execute(select(ConsoleSession))).scalars().all()
    assert [r.operator_id for r in rows] == [desk.operators["alice"]]
    assert rows[0].token_hash == auth.token_hash(token) != token
    assert console.csrf == auth.csrf_token(token) and token not in console.csrf
    # A request that only knows the stored hash gets nowhere.
    assert await _status_with_token(console.client, "/api/me", rows[0].token_hash) == 401


async def test_sessions_work_across_console_instances_and_restarts(aiohttp_client, console_settings, desk):
    from desk.web.app import create_app
    from tests.console.conftest import Console

    first = Console(await aiohttp_client(create_app(console_settings, cookie_secure=False)))
    assert (await first.login("alice@acme.test")).status == 200
    token = first.client.session.cookie_jar.filter_cookies(first.client.make_url("/"))[auth.SESSION_COOKIE].value
    # A second instance on the same database (another process behind the load balancer).
    second = await aiohttp_client(create_app(console_settings, cookie_secure=False))
    assert await _status_with_token(second, "/api/me", token) == 200
    # A state change on the other instance with the CSRF token the first one handed out.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as raw:
        async with raw.put(second.make_url("/api/me/status"), json={"status": "away"}, headers={
                "Cookie": f"{auth.SESSION_COOKIE}={token}", auth.CSRF_HEADER: first.csrf}) as resp:
            assert resp.status == 200, await resp.text()
    # The first instance restarts: the session is still there.
    await first.client.close()
    restarted = await aiohttp_client(create_app(console_settings, cookie_secure=False))
    assert await _status_with_token(restarted, "/api/me", token) == 200
    # Signing out on one instance ends the session everywhere.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as raw:
        async with raw.post(restarted.make_url("/api/logout"), headers={
                "Cookie": f"{auth.SESSION_COOKIE}={token}", auth.CSRF_HEADER: first.csrf}) as resp:
            assert resp.status == 200
    assert await _status_with_token(second, "/api/me", token) == 401


async def test_admin_pages_are_for_admins_only(make_console):
    operator = await signed_in(make_console, "alice")
    assert (await operator.get("/api/admin/numbers")).status == 403
    admin = await signed_in(make_console, "ada")
    resp = await admin.get("/api/admin/numbers")
    assert resp.status == 200
    numbers = await resp.json()
    assert {n["department"] for n in numbers} == {"Support", "Sales"}


async def test_throttle_forgets_old_failures_and_prunes_them(desk):
    from sqlalchemy import func, select

    from desk.models import LoginAttempt

    clock = Clock()
    throttle = auth.LoginThrottle(desk.sessions, clock=clock)
    for i in range(auth.THROTTLE_FREE_PER_ACCOUNT):
        if i:
            clock.advance(1)
        attempt, wait = await throttle.reserve("a@b.test", "10.0.0.1")
        assert attempt is not None and wait == 0
    assert await throttle.retry_after("A@B.test", "10.0.0.1") == 1  # emails compared lower-cased
    assert await throttle.retry_after("a@b.test", "10.0.0.2") == 1  # from any address
    assert await throttle.retry_after("c@b.test", "10.0.0.1") == 0  # another email
    assert await throttle.reserve("a@b.test", "10.0.0.2") == (None, 1)
    clock.advance(auth.THROTTLE_ACCOUNT_WINDOW)
    assert await throttle.retry_after("a@b.test", "10.0.0.1") == 0
    await throttle.reserve("x@b.test", "10.0.0.3")
    await throttle.reserve("z@b.test", "10.0.0.5")
    attempt, _ = await throttle.reserve("z@b.test", "10.0.0.5")
    await throttle.succeeded(attempt, "z@b.test", "10.0.0.5")  # the earlier failure loses its email
    clock.advance(auth.THROTTLE_WINDOW + 1)
    await throttle.reserve("y@b.test", "10.0.0.4")
    # Gone: a@b's five (older than the account window) and z's detached failure (older
    # than the address window); x's stays, it still counts for the account.
    assert await throttle.prune() == auth.THROTTLE_FREE_PER_ACCOUNT + 1
    clock.advance(auth.THROTTLE_ACCOUNT_WINDOW - auth.THROTTLE_WINDOW)
    assert await throttle.prune() == 1
    async with desk.sessions() as session:
        rows = (await session.execute(select(LoginAttempt))).scalars().all()
        assert [r.address for r in rows] == ["10.0.0.4"]
        # Only a hash of the email is kept.
        assert rows[0].email_hash == auth.token_hash("y@b.test")
        assert (await session.execute(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.email_hash.like("%@%")))).scalar_one() == 0


async def test_account_delays_double_up_to_five_minutes(desk):
    clock = Clock()
    throttle = auth.LoginThrottle(desk.sessions, clock=clock)
    for i in range(auth.THROTTLE_FREE_PER_ACCOUNT):
        assert (await throttle.reserve("a@b.test", f"10.0.1.{i}"))[0] is not None
    waits = []
    for i in range(12):
        attempt, wait = await throttle.reserve("a@b.test", f"10.0.2.{i}")
        assert attempt is None
        assert await throttle.reserve("a@b.test", f"10.0.2.{i}") == (None, wait)  # refusals add nothing
        waits.append(wait)
        clock.advance(wait - 0.5)
        assert (await throttle.reserve("a@b.test", f"10.0.3.{i}"))[0] is None   # not yet...
        clock.advance(0.5)
        assert (await throttle.reserve("a@b.test", f"10.0.4.{i}"))[0] is not None  # ...now: a failure
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert [auth.LoginThrottle.delay(n) for n in (0, 4, 5, 6, 14, 1000)] == [0, 0, 1, 2, 300, 300]


async def test_throttle_counts_per_address_whatever_the_email(desk):
    clock = Clock()
    throttle = auth.LoginThrottle(desk.sessions, clock=clock)
    for i in range(auth.THROTTLE_MAX_PER_ADDRESS):
        attempt, _ = await throttle.reserve(f"user{i}@b.test", "10.0.0.9")
        assert attempt is not None
        clock.advance(1)
    attempt, wait = await throttle.reserve("fresh@b.test", "10.0.0.9")
    # The oldest of the 50 failures was 50 s ago: it leaves the window in 15 min - 50 s.
    assert attempt is None and wait == auth.THROTTLE_WINDOW - 50
    attempt, _ = await throttle.reserve("fresh@b.test", "10.0.0.10")
    assert attempt is not None
    clock.advance(auth.THROTTLE_WINDOW - 50)
    assert (await throttle.reserve("fresh@b.test", "10.0.0.9"))[0] is not None


async def test_a_success_clears_the_account_but_not_the_address(desk):
    clock = Clock()
    throttle = auth.LoginThrottle(desk.sessions, clock=clock)
    for _ in range(auth.THROTTLE_FREE_PER_ACCOUNT - 1):
        await throttle.reserve("a@b.test", "10.0.0.1")
    attempt, _ = await throttle.reserve("a@b.test", "10.0.0.1")
    await throttle.succeeded(attempt, "a@b.test", "10.0.0.1")
    # Five more free failures for the account...
    for _ in range(auth.THROTTLE_FREE_PER_ACCOUNT):
        attempt, _ = await throttle.reserve("a@b.test", "10.0.0.1")
        assert attempt is not None
    assert (await throttle.reserve("a@b.test", "10.0.0.1"))[0] is None
    # ...but the earlier four still count for the address (4 + 5 of 50 used).
    for i in range(auth.THROTTLE_MAX_PER_ADDRESS - 9):
        assert (await throttle.reserve(f"u{i}@b.test", "10.0.0.1"))[0] is not None
    assert (await throttle.reserve("another@b.test", "10.0.0.1"))[0] is None
    # Failures from another address still count for the account after a success here.
    clock.advance(auth.THROTTLE_ACCOUNT_WINDOW)
    for _ in range(auth.THROTTLE_FREE_PER_ACCOUNT - 1):
        assert (await throttle.reserve("a@b.test", "10.0.0.66"))[0] is not None
    attempt, _ = await throttle.reserve("a@b.test", "10.0.0.1")
    await throttle.succeeded(attempt, "a@b.test", "10.0.0.1")
    assert (await throttle.reserve("a@b.test", "10.0.0.66"))[0] is not None
    assert (await throttle.reserve("a@b.test", "10.0.0.1")) == (None, 1)


async def test_parallel_guesses_cannot_slip_past_the_limit(desk):
    """Reservations are counted before any password is checked: of many parallel
    attempts (as from several instances, from any addresses), never more than the
    free ones go on, and past them at most one per delay (a burst may even be refused
    whole: each sees the others' reservations)."""
    clock = Clock()
    throttles = [auth.LoginThrottle(desk.sessions, clock=clock) for _ in range(2)]
    results = await asyncio.gather(*(throttles[i % 2].reserve("a@b.test", f"10.0.0.{i}") for i in range(12)))
    admitted = [a for a, _ in results if a is not None]
    assert len(admitted) <= auth.THROTTLE_FREE_PER_ACCOUNT
    assert all(wait > 0 for a, wait in results if a is None)
    # The refused ones left no row behind: one at a time, the rest of the allowance is usable.
    for _ in range(auth.THROTTLE_FREE_PER_ACCOUNT - len(admitted)):
        attempt, _ = await throttles[0].reserve("a@b.test", "10.0.0.1")
        assert attempt is not None
        admitted.append(attempt)
    assert (await throttles[1].reserve("a@b.test", "10.0.0.1"))[0] is None
    # A released attempt (its check failed with an error) does not count.
    await throttles[0].release(admitted[0])
    assert (await throttles[1].reserve("a@b.test", "10.0.0.1"))[0] is not None
    assert (await throttles[1].reserve("a@b.test", "10.0.0.1"))[0] is None
    # Once the delay has passed, a parallel burst gets at most one guess through.
    clock.advance(auth.THROTTLE_FIRST_DELAY)
    results = await asyncio.gather(*(throttles[i % 2].reserve("a@b.test", f"10.0.1.{i}") for i in range(8)))
    assert len([a for a, _ in results if a is not None]) <= 1
    assert all(wait > 0 for a, wait in results if a is None)


async def test_two_console_instances_share_the_failure_counts(aiohttp_client, console_settings, desk):
    from desk.web.app import create_app
    from tests.console.conftest import Console

    one = Console(await aiohttp_client(create_app(console_settings, cookie_secure=False)))
    two = Console(await aiohttp_client(create_app(console_settings, cookie_secure=False)))
    clock = frozen(one, two)
    for i in range(auth.THROTTLE_FREE_PER_ACCOUNT):
        resp = await (one, two)[i % 2].login("alice@acme.test", "wrong password!")
        assert resp.status == 401
    for console in (one, two):  # neither instance lets a sixth guess through before the delay
        blocked = await console.login("alice@acme.test")
        assert blocked.status == 429 and blocked.headers["Retry-After"] == "1"
    clock.advance(1)
    assert (await one.login("alice@acme.test", "wrong password!")).status == 401
    for console in (one, two):  # the next delay is twice as long, on both
        blocked = await console.login("alice@acme.test")
        assert blocked.status == 429 and blocked.headers["Retry-After"] == "2"
        assert (await blocked.json())["error"] == "Too many failed sign-ins. Try again in 2 seconds."
    assert (await two.login("carol@acme.test")).status == 200  # another account is not delayed
    clock.advance(2)
    assert (await two.login("alice@acme.test")).status == 200


async def test_unknown_emails_are_throttled_like_known_ones(make_console, desk):
    from sqlalchemy import select

    from desk.models import LoginAttempt

    console = await make_console()
    frozen(console)
    for email in ("alice@acme.test", "nobody@acme.test"):
        answers = []
        for _ in range(auth.THROTTLE_FREE_PER_ACCOUNT + 1):
            resp = await console.login(email, "wrong password!")
            answers.append((resp.status, await resp.json(), resp.headers.get("Retry-After")))
        assert [status for status, _, _ in answers] == [401] * 5 + [429]
        assert answers[-1][1:] == ({"error": "Too many failed sign-ins. Try again in 1 second."}, "1")
    async with desk.sessions() as session:
        rows = (await session.execute(select(LoginAttempt.email_hash))).scalars().all()
    assert sorted(rows) == sorted([auth.token_hash("alice@acme.test")] * 5 + [auth.token_hash("nobody@acme.test")] * 5)


async def test_a_successful_sign_in_resets_the_account_count(make_console):
    console = await make_console()
    frozen(console)
    for _ in range(auth.THROTTLE_FREE_PER_ACCOUNT - 1):
        assert (await console.login("alice@acme.test", "wrong password!")).status == 401
    assert (await console.login("alice@acme.test")).status == 200
    for _ in range(auth.THROTTLE_FREE_PER_ACCOUNT):
        assert (await console.login("alice@acme.test", "wrong password!")).status == 401
    assert (await console.login("alice@acme.test")).status == 429


# --- the client's address behind a reverse proxy (DESK_TRUSTED_PROXIES) -------------------

def test_client_address_believes_forwarded_for_only_from_trusted_proxies():
    from desk.config import parse_trusted_proxies

    proxies = parse_trusted_proxies("127.0.0.1, 10.0.0.0/8")
    address = auth.client_address
    assert address("127.0.0.1", ["203.0.113.5"], proxies) == "203.0.113.5"
    # Right-most entry that is not a trusted proxy; what the client wrote on the left is ignored.
    assert address("127.0.0.1", ["198.51.100.1, 203.0.113.5, 10.1.2.3"], proxies) == "203.0.113.5"
    assert address("10.0.0.7", ["garbage, 203.0.113.5", "10.9.9.9"], proxies) == "203.0.113.5"
    assert address("::ffff:127.0.0.1", [" 2001:DB8::1 "], proxies) == "2001:db8::1"
    assert address("127.0.0.1", ["10.0.0.2, 10.0.0.3"], proxies) == "10.0.0.2"  # all proxies: the left-most
    # Invalid or missing header: the peer.
    assert address("127.0.0.1", ["203.0.113.5, not-an-ip"], proxies) == "127.0.0.1"
    assert address("127.0.0.1", ["203.0.113.5:4711"], proxies) == "127.0.0.1"
    assert address("127.0.0.1", [""], proxies) == "127.0.0.1"
    assert address("127.0.0.1", [], proxies) == "127.0.0.1"
    # A peer that is not a trusted proxy, or no proxies configured: the header is ignored.
    assert address("192.0.2.9", ["203.0.113.5"], proxies) == "192.0.2.9"
    assert address("127.0.0.1", ["203.0.113.5"], ()) == "127.0.0.1"
    assert address(None, ["203.0.113.5"], proxies) == "unknown"


def test_trusted_proxies_setting_is_read_and_a_bad_value_stops_the_start():
    import ipaddress

    from desk.config import DeskSettings

    assert DeskSettings.from_env({}).trusted_proxies == ()
    settings = DeskSettings.from_env({"DESK_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1"})
    assert settings.trusted_proxies == (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"),
                                        ipaddress.ip_network("::1/128"))
    for bad in ("10.0.0.0/33", "proxy.internal", "127.0.0.1;10.0.0.1"):
        with pytest.raises(ValueError, match="DESK_TRUSTED_PROXIES"):
            DeskSettings.from_env({"DESK_TRUSTED_PROXIES": bad})


async def test_behind_a_trusted_proxy_other_clients_failures_do_not_lock_anyone_out(
        aiohttp_client, console_settings, desk, quick_passwords):
    console = await _console(aiohttp_client, console_settings, "127.0.0.1")
    frozen(console)
    # More failures than one address may have, each from its own client behind the proxy.
    for i in range(auth.THROTTLE_MAX_PER_ADDRESS + 5):
        resp = await _login(console, f"guess{i}@acme.test", "wrong password!",
                            forwarded_for=f"198.51.100.{i % 3}, 203.0.113.{i}")
        assert resp.status == 401
    resp = await _login(console, "alice@acme.test", forwarded_for="192.0.2.44")
    assert resp.status == 200, await resp.text()


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(aiohttp_client, console_settings, desk, quick_passwords):
    # The test client (127.0.0.1) is not among the trusted proxies: its header proves nothing.
    console = await _console(aiohttp_client, console_settings, "10.0.0.0/8")
    frozen(console)
    for i in range(auth.THROTTLE_MAX_PER_ADDRESS):
        resp = await _login(console, f"guess{i}@acme.test", "wrong password!", forwarded_for=f"203.0.113.{i}")
        assert resp.status == 401
    blocked = await _login(console, "carol@acme.test", forwarded_for="192.0.2.1")
    assert blocked.status == 429
    assert (await blocked.json())["error"] == "Too many failed sign-ins. Try again in 15 minutes."


async def test_an_outsiders_failures_only_delay_the_victim_for_seconds_to_minutes(
        aiohttp_client, console_settings, desk):
    console = await _console(aiohttp_client, console_settings, "127.0.0.1")
    clock = frozen(console)
    waits = []
    # The attacker guesses Alice's password from ever new addresses, as fast as allowed.
    for i in range(14):
        resp = await _login(console, "alice@acme.test", "wrong password!", forwarded_for=f"203.0.113.{i}")
        if resp.status == 429:
            waits.append(int(resp.headers["Retry-After"]))
            clock.advance(waits[-1])
            resp = await _login(console, "alice@acme.test", "wrong password!", forwarded_for=f"203.0.113.{i}")
        assert resp.status == 401
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    # Alice, from her own address, waits the current delay (capped at 5 minutes), not 15 minutes...
    blocked = await _login(console, "alice@acme.test", forwarded_for="192.0.2.10")
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) == auth.THROTTLE_MAX_DELAY == 300
    assert (await blocked.json())["error"] == "Too many failed sign-ins. Try again in 5 minutes."
    clock.advance(auth.THROTTLE_MAX_DELAY)
    # ...and then her right password works.
    resp = await _login(console, "alice@acme.test", forwarded_for="192.0.2.10")
    assert resp.status == 200, await resp.text()


async def test_failures_from_a_shared_address_do_not_lock_out_the_account(make_console):
    """Without DESK_TRUSTED_PROXIES every client behind the proxy has the proxy's address:
    a stranger's five failures delay Alice by a second, not by 15 minutes."""
    stranger, alice = await make_console(), await make_console()
    clock = frozen(stranger)
    for _ in range(auth.THROTTLE_FREE_PER_ACCOUNT):
        assert (await stranger.login("alice@acme.test", "wrong password!")).status == 401
    blocked = await alice.login("alice@acme.test")
    assert blocked.status == 429 and int(blocked.headers["Retry-After"]) <= auth.THROTTLE_FIRST_DELAY
    clock.advance(int(blocked.headers["Retry-After"]))
    assert (await alice.login("alice@acme.test")).status == 200


async def test_spraying_from_one_client_behind_the_proxy_is_refused(
        aiohttp_client, console_settings, desk, quick_passwords):
    console = await _console(aiohttp_client, console_settings, "127.0.0.1")
    clock = frozen(console)
    for i in range(auth.THROTTLE_MAX_PER_ADDRESS):
        resp = await _login(console, f"guess{i}@acme.test", "wrong password!", forwarded_for="203.0.113.66")
        assert resp.status == 401
    # The 51st attempt from that client is refused, even a right password; another client is not.
    blocked = await _login(console, "carol@acme.test", forwarded_for="192.0.2.1, 203.0.113.66")
    assert blocked.status == 429
    assert (await blocked.json())["error"] == "Too many failed sign-ins. Try again in 15 minutes."
    assert int(blocked.headers["Retry-After"]) == auth.THROTTLE_WINDOW
    assert (await _login(console, "carol@acme.test", forwarded_for="192.0.2.1")).status == 200
    clock.advance(auth.THROTTLE_WINDOW)
    assert (await _login(console, "carol@acme.test", forwarded_for="203.0.113.66")).status == 200
