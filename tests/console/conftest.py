"""The console app on a migrated database (SQLite and PostgreSQL), with a seeded brand.

Brand "Acme": numbers in departments Support and Sales; operators Ada (admin),
Alice and Carol (Support), Bob (Sales). `desk.seed_chat(...)` makes a WhatsApp
user's chat with messages and hands it to a department.
"""
from __future__ import annotations

import datetime as dt
import itertools
import shutil
import socket
from dataclasses import dataclass, field

import pytest

import knowledge
from desk.config import DeskSettings
from desk.models import (Brand, Department, Operator, OperatorStatus, PhoneNumber, Role,
                         WhatsAppBusinessAccount, utcnow)
from desk.passwords import hash_password
from desk.services import conversations, routing

PASSWORD = "correct horse battery"
SUPPORT_NUMBER, SALES_NUMBER = "100000000000001", "100000000000002"
_HASH: dict[str, str] = {}


def password_hash() -> str:
    if "h" not in _HASH:
        _HASH["h"] = hash_password(PASSWORD)
    return _HASH["h"]


@dataclass
class Desk:
    sessions: object
    brand_id: int
    departments: dict[str, int]
    operators: dict[str, int]
    _wamids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def seed_chat(self, wa_id: str, *, name: str | None = "Kerry Fisher", number: str = SUPPORT_NUMBER,
                        texts=("hello", "I want a person"), hand_off: bool = True,
                        user_wrote_at: dt.datetime | None = None) -> int:
        async with self.sessions() as session, session.begin():
            chat = None
            for i, text in enumerate(texts):
                at = (user_wrote_at or utcnow()).replace(microsecond=0) - dt.timedelta(seconds=len(texts) - i)
                chat, _ = await conversations.record_inbound(
                    session, phone_number_id=number, wa_id=wa_id, profile_name=name,
                    wamid=f"wamid.test{next(self._wamids)}", type="text", body=text,
                    payload={"text": {"body": text}}, wa_timestamp=at)
            if hand_off:
                await routing.hand_off(session, chat.id)
            return chat.id

    async def say(self, wa_id: str, text: str, *, name: str | None = "Kerry Fisher",
                  number: str = SUPPORT_NUMBER) -> int:
        async with self.sessions() as session, session.begin():
            chat, msg = await conversations.record_inbound(
                session, phone_number_id=number, wa_id=wa_id, profile_name=name,
                wamid=f"wamid.test{next(self._wamids)}", type="text", body=text,
                payload={"text": {"body": text}}, wa_timestamp=utcnow().replace(microsecond=0))
            return msg.id

    async def set_status(self, operator: str, status: OperatorStatus) -> None:
        async with self.sessions() as session, session.begin():
            (await session.get(Operator, self.operators[operator])).status = status

    async def add_operator(self, key: str, role: Role, name: str, *, locale: str | None = None) -> int:
        """A colleague without departments (a trainer, a manager): `<key>@acme.test`, PASSWORD."""
        async with self.sessions() as session, session.begin():
            person = Operator(brand_id=self.brand_id, email=f"{key}@acme.test", name=name, role=role,
                              password_hash=password_hash(), locale=locale)
            session.add(person)
            await session.flush()
            self.operators[key] = person.id
            return person.id


async def seed(sessions) -> Desk:
    async with sessions() as session, session.begin():
        brand = Brand(name="Acme")
        session.add(brand)
        await session.flush()
        support = Department(brand_id=brand.id, name="Support")
        sales = Department(brand_id=brand.id, name="Sales")
        session.add_all([support, sales, WhatsAppBusinessAccount(id="200000000000001", brand_id=brand.id,
                                                                 name="Acme WABA")])
        await session.flush()
        session.add_all([
            PhoneNumber(id=SUPPORT_NUMBER, waba_id="200000000000001", display_phone_number="+1 555 0100",
                        department_id=support.id),
            PhoneNumber(id=SALES_NUMBER, waba_id="200000000000001", display_phone_number="+1 555 0200",
                        department_id=sales.id),
        ])
        ops = {
            "ada": Operator(brand_id=brand.id, email="ada@acme.test", name="Ada Admin", role=Role.admin,
                            password_hash=password_hash(), departments=[support, sales]),
            "alice": Operator(brand_id=brand.id, email="alice@acme.test", name="Alice Support",
                              password_hash=password_hash(), departments=[support]),
            "carol": Operator(brand_id=brand.id, email="carol@acme.test", name="Carol Support",
                              password_hash=password_hash(), departments=[support]),
            "bob": Operator(brand_id=brand.id, email="bob@acme.test", name="Bob Sales",
                            password_hash=password_hash(), departments=[sales]),
        }
        session.add_all(ops.values())
        await session.flush()
        # The customer notices (an operator joined, transferred, closed) are off here, so that
        # each test's outbox holds what it sent; tests/console/test_customer_notices.py has them on.
        from desk.services import notices, settings
        await settings.update(session, brand.id, notices={k: {lang: "" for lang in texts}
                                                          for k, texts in notices.CUSTOMER_DEFAULTS.items()})
        return Desk(sessions, brand.id, {"Support": support.id, "Sales": sales.id},
                    {k: v.id for k, v in ops.items()})


@pytest.fixture
async def desk(sessions):
    return await seed(sessions)


@pytest.fixture
def console_settings(database_url, tmp_path):
    return DeskSettings(database_url=database_url, host="127.0.0.1", port=0, media_dir=tmp_path / "media")


class Console:
    """A signed-in (or not) test client of the console API."""

    def __init__(self, client):
        self.client = client
        self.csrf: str | None = None

    async def login(self, email: str, password: str = PASSWORD):
        page = await self.client.get("/login")
        assert page.status == 200
        token = self.client.session.cookie_jar.filter_cookies(self.client.make_url("/"))["tsunagi_login_csrf"].value
        resp = await self.client.post("/api/login", json={"email": email, "password": password},
                                      headers={"X-CSRF-Token": token})
        if resp.status == 200:
            me = await (await self.client.get("/api/me")).json()
            self.csrf = me["csrf_token"]
        return resp

    def headers(self, **extra):
        return {"X-CSRF-Token": self.csrf or "", **extra}

    async def get(self, path, **kw):
        return await self.client.get(path, **kw)

    async def post(self, path, json=None, **kw):
        return await self.client.post(path, json=json, headers=self.headers(**kw.pop("headers", {})), **kw)

    async def put(self, path, json=None, **kw):
        return await self.client.put(path, json=json, headers=self.headers(**kw.pop("headers", {})), **kw)

    async def delete(self, path, **kw):
        return await self.client.delete(path, headers=self.headers(**kw.pop("headers", {})), **kw)


@pytest.fixture
async def make_console(aiohttp_client, console_settings, desk):
    """`await make_console()` → a fresh client (own cookies) on one shared app."""
    from desk.web.app import create_app

    app = create_app(console_settings, cookie_secure=False)
    first = await aiohttp_client(app)
    used = [False]

    async def make() -> Console:
        if not used[0]:
            used[0] = True
            return Console(first)
        from aiohttp.test_utils import TestClient

        client = TestClient(first.server)
        await client.start_server()
        clients.append(client)
        return Console(client)

    clients: list = []
    yield make
    for c in clients:
        await c.session.close()


async def signed_in(make_console, who: str) -> Console:
    console = await make_console()
    resp = await console.login(f"{who}@acme.test")
    assert resp.status == 200, await resp.text()
    return console


@pytest.fixture
async def tess(desk):
    """Tess Trainer (tess@acme.test), the brand's trainer: no departments, no chats."""
    return await desk.add_operator("tess", Role.trainer, "Tess Trainer")


@pytest.fixture
def faq(tmp_path, monkeypatch):
    """A copy of knowledge/faq that the console reads and writes (KNOWLEDGE_DIR)."""
    target = tmp_path / "faq"
    shutil.copytree(knowledge.FAQ_DIR, target)
    monkeypatch.setenv("KNOWLEDGE_DIR", str(target))
    return target


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    """The desk's trained models in a temporary directory, the model server on (token `pull-token`)."""
    monkeypatch.setenv("BOT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("BOT_MODEL_TOKEN", "pull-token")
    return tmp_path / "models"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def serve_console(console_settings):
    """`base = await serve_console()`: the console app on a free port, for a real browser."""
    from aiohttp import web

    from desk.web.app import create_app

    runners: list = []

    async def serve() -> str:
        runner = web.AppRunner(create_app(console_settings, cookie_secure=False), shutdown_timeout=1)
        await runner.setup()
        runners.append(runner)
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}"

    yield serve
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def console_url(desk, serve_console):
    """The seeded desk's console on a free port (its base URL)."""
    return await serve_console()


async def sign_in(page, base: str, email: str, lands: str = "/#/inbox/*") -> None:
    """Sign in through the login page and wait for the page the role lands on
    (operators and admins the inbox, trainers `/#/admin/trainer`, managers `/#/admin/reports`)."""
    await page.goto(base + "/")
    assert page.url.endswith("/login")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#submit")
    await page.wait_for_url(base + lands)
