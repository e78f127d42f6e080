"""The real system as processes: simulator, desk, action server and Rasa server,
on free ports with their own SQLite files; always stopped after the module."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from launcher.env import ROOT, build_env
from launcher.stack import Stack, migrate

MODEL = ROOT / "models" / "tsunagi.tar.gz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    """Tiny JSON client over urllib (the tests' own, independent of project code)."""

    def __init__(self, base: str):
        self.base = base

    def _open(self, req: urllib.request.Request):
        return urllib.request.urlopen(req, timeout=30)

    def _headers(self) -> dict[str, str]:
        return {}

    def request(self, method: str, path: str, body=None, headers=None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Content-Type": "application/json", **self._headers(), **(headers or {})})
        try:
            with self._open(req) as resp:
                payload = resp.read()
                status = resp.status
        except urllib.error.HTTPError as err:
            payload, status = err.read(), err.code
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode(errors="replace")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)


class Console(Http):
    """The console's JSON API signed in as an operator: its session cookie and CSRF token,
    as the browser holds them (urllib with a cookie jar)."""

    def __init__(self, base: str, email: str, password: str):
        import http.cookiejar

        super().__init__(base)
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""
        self.opener.open(base + "/login", timeout=30).read()
        token = next(c.value for c in self.jar if c.name == "tsunagi_login_csrf")
        status, me = self.request("POST", "/api/login", {"email": email, "password": password},
                                  headers={"X-CSRF-Token": token})
        assert status == 200, me
        status, me = self.get("/api/me")
        assert status == 200, me
        self.csrf = me["csrf_token"]

    def _open(self, req: urllib.request.Request):
        return self.opener.open(req, timeout=30)   # with the session cookie

    def _headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)


def desk_cli(stack, *args: str) -> subprocess.CompletedProcess:
    """`python -m desk ...` against the running stack's database, as an admin runs it."""
    return subprocess.run([sys.executable, "-m", "desk", *args], cwd=ROOT, env=stack.env,
                          capture_output=True, text=True, timeout=120)


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    return last


def desk_rows(stack, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the desk's SQLite database directly (the console API needs a sign-in)."""
    import sqlite3

    from sqlalchemy.engine import make_url

    conn = sqlite3.connect(make_url(stack.env["DESK_DATABASE_URL"]).database, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def running_stack(var: Path, *, seed_demo: bool = False, env: dict[str, str] | None = None):
    """The four processes on free ports with their own files under `var`, stopped
    when the generator closes; `seed_demo` adds the demo's departments and admin;
    `env` adds settings."""
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` (make test trains first)")
    settings = env
    env = build_env({
        "RASA_PORT": str(free_port()), "ACTIONS_PORT": str(free_port()),
        "DESK_PORT": str(free_port()), "SIM_PORT": str(free_port()),
        "WHATSAPP_VERIFY_TOKEN": "e2e-verify", "WHATSAPP_APP_SECRET": "e2e-app-secret",
        "WHATSAPP_ACCESS_TOKEN": "e2e-access-token",
        "SIM_STATUS_DELAY_MS": "20",
        **(settings or {}),
    }, var_dir=var)
    # build_env fills ports-derived URLs from the values above.
    migrate(env)
    if seed_demo:
        subprocess.run([sys.executable, "-m", "desk", "seed-demo"], cwd=ROOT, env=env, check=True)
    s = Stack(env, MODEL, var / "logs")
    s.start()
    s.http = {svc.name: Http(svc.base_url) for svc in s.services}
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    yield from running_stack(tmp_path_factory.mktemp("var"))
