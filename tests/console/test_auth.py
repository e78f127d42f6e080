"""Sign-in, sessions, CSRF and throttling of the console API (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
import datetime as dt
from http.cookies import SimpleCookie

import aiohttp

from desk.models import utcnow
from desk.web import auth
from tests.console.conftest import PASSWORD, signed_in


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


async def test_five_failures_throttle_that_email_from_that_address(make_console):
    console = await make_console()
    for _ in range(5):
        assert (await console.login("alice@acme.test", "wrong password!")).status == 401
    blocked = await console.login("alice@acme.test")  # even the right password now
    assert blocked.status == 429
    body = await blocked.json()
    assert "Too many failed sign-ins" in body["error"] and "minute" in body["error"]
    assert int(blocked.headers["Retry-After"]) > 0
    other = await console.login("carol@acme.test")  # another account is not locked out
    assert other.status == 200


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

    now = [utcnow()]
    throttle = auth.LoginThrottle(desk.sessions, clock=lambda: now[0])
    for _ in range(auth.THROTTLE_MAX_PER_ACCOUNT):
        attempt, wait = await throttle.reserve("a@b.test", "10.0.0.1")
        assert attempt is not None and wait == 0
        now[0] += dt.timedelta(seconds=1)
    assert await throttle.retry_after("A@B.test", "10.0.0.1") > 0   # emails compared lower-cased
    assert await throttle.retry_after("a@b.test", "10.0.0.2") == 0  # another address
    attempt, wait = await throttle.reserve("a@b.test", "10.0.0.1")
    # The oldest of the five failures was 5 s before "now": it leaves the window in 15 min - 5 s.
    assert attempt is None and auth.THROTTLE_WINDOW - 5 <= wait <= auth.THROTTLE_WINDOW - 3
    now[0] += dt.timedelta(seconds=auth.THROTTLE_WINDOW)
    assert await throttle.retry_after("a@b.test", "10.0.0.1") == 0
    await throttle.reserve("x@b.test", "10.0.0.3")
    now[0] += dt.timedelta(seconds=auth.THROTTLE_WINDOW + 1)
    await throttle.reserve("y@b.test", "10.0.0.4")  # a recent one stays
    assert await throttle.prune() == auth.THROTTLE_MAX_PER_ACCOUNT + 1
    async with desk.sessions() as session:
        rows = (await session.execute(select(LoginAttempt))).scalars().all()
        assert [r.address for r in rows] == ["10.0.0.4"]
        # Only a hash of the email is kept.
        assert rows[0].email_hash == auth.token_hash("y@b.test")
        assert (await session.execute(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.email_hash.like("%@%")))).scalar_one() == 0


async def test_throttle_counts_per_address_whatever_the_email(desk):
    throttle = auth.LoginThrottle(desk.sessions)
    for i in range(auth.THROTTLE_MAX_PER_ADDRESS):
        attempt, _ = await throttle.reserve(f"user{i}@b.test", "10.0.0.9")
        assert attempt is not None
    attempt, wait = await throttle.reserve("fresh@b.test", "10.0.0.9")
    assert attempt is None and wait > 0
    attempt, _ = await throttle.reserve("fresh@b.test", "10.0.0.10")
    assert attempt is not None


async def test_a_success_clears_the_account_but_not_the_address(desk):
    throttle = auth.LoginThrottle(desk.sessions)
    for _ in range(auth.THROTTLE_MAX_PER_ACCOUNT - 1):
        await throttle.reserve("a@b.test", "10.0.0.1")
    attempt, _ = await throttle.reserve("a@b.test", "10.0.0.1")
    await throttle.succeeded(attempt, "a@b.test", "10.0.0.1")
    # Five more failures are allowed for the account...
    for _ in range(auth.THROTTLE_MAX_PER_ACCOUNT):
        attempt, _ = await throttle.reserve("a@b.test", "10.0.0.1")
        assert attempt is not None
    assert (await throttle.reserve("a@b.test", "10.0.0.1"))[0] is None
    # ...but the earlier four still count for the address (4 + 5 of 50 used).
    for i in range(auth.THROTTLE_MAX_PER_ADDRESS - 9):
        assert (await throttle.reserve(f"u{i}@b.test", "10.0.0.1"))[0] is not None
    assert (await throttle.reserve("another@b.test", "10.0.0.1"))[0] is None


async def test_parallel_guesses_cannot_slip_past_the_limit(desk):
    """Reservations are counted before any password is checked: of many parallel
    attempts (as from several instances), never more than the limit go on (a burst
    may even be refused whole: each sees the others' reservations)."""
    throttles = [auth.LoginThrottle(desk.sessions) for _ in range(2)]
    results = await asyncio.gather(*(throttles[i % 2].reserve("a@b.test", "10.0.0.1") for i in range(12)))
    admitted = [a for a, _ in results if a is not None]
    assert len(admitted) <= auth.THROTTLE_MAX_PER_ACCOUNT
    assert all(wait > 0 for a, wait in results if a is None)
    # The refused ones left no row behind: one at a time, the rest of the allowance is usable.
    for _ in range(auth.THROTTLE_MAX_PER_ACCOUNT - len(admitted)):
        attempt, _ = await throttles[0].reserve("a@b.test", "10.0.0.1")
        assert attempt is not None
        admitted.append(attempt)
    assert (await throttles[1].reserve("a@b.test", "10.0.0.1"))[0] is None
    # A released attempt (its check failed with an error) does not count.
    await throttles[0].release(admitted[0])
    assert (await throttles[1].reserve("a@b.test", "10.0.0.1"))[0] is not None
    assert (await throttles[1].reserve("a@b.test", "10.0.0.1"))[0] is None


async def test_two_console_instances_share_the_failure_counts(aiohttp_client, console_settings, desk):
    from desk.web.app import create_app
    from tests.console.conftest import Console

    one = Console(await aiohttp_client(create_app(console_settings, cookie_secure=False)))
    two = Console(await aiohttp_client(create_app(console_settings, cookie_secure=False)))
    for i in range(auth.THROTTLE_MAX_PER_ACCOUNT):
        resp = await (one, two)[i % 2].login("alice@acme.test", "wrong password!")
        assert resp.status == 401
    for console in (one, two):  # neither instance lets a sixth guess through, even a right one
        blocked = await console.login("alice@acme.test")
        assert blocked.status == 429
        body = await blocked.json()
        assert body["error"] == "Too many failed sign-ins. Try again in 15 minutes."
        assert 14 * 60 < int(blocked.headers["Retry-After"]) <= auth.THROTTLE_WINDOW + 1
    assert (await two.login("carol@acme.test")).status == 200  # another account is not locked out


async def test_unknown_emails_are_throttled_like_known_ones(make_console, desk):
    from sqlalchemy import select

    from desk.models import LoginAttempt

    console = await make_console()
    for email in ("alice@acme.test", "nobody@acme.test"):
        answers = []
        for _ in range(auth.THROTTLE_MAX_PER_ACCOUNT + 1):
            resp = await console.login(email, "wrong password!")
            answers.append((resp.status, await resp.json()))
        assert [status for status, _ in answers] == [401] * 5 + [429]
        assert answers[-1][1]["error"].startswith("Too many failed sign-ins. Try again in ")
    async with desk.sessions() as session:
        rows = (await session.execute(select(LoginAttempt.email_hash))).scalars().all()
    assert sorted(rows) == sorted([auth.token_hash("alice@acme.test")] * 5 + [auth.token_hash("nobody@acme.test")] * 5)


async def test_a_successful_sign_in_resets_the_account_count(make_console):
    console = await make_console()
    for _ in range(auth.THROTTLE_MAX_PER_ACCOUNT - 1):
        assert (await console.login("alice@acme.test", "wrong password!")).status == 401
    assert (await console.login("alice@acme.test")).status == 200
    for _ in range(auth.THROTTLE_MAX_PER_ACCOUNT):
        assert (await console.login("alice@acme.test", "wrong password!")).status == 401
    assert (await console.login("alice@acme.test")).status == 429