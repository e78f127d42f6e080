"""Tickets, lead pushes and the integration outbox against a local stand-in for
Zoho CRM, Zoho Desk and a webhook receiver (SQLite and PostgreSQL)."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import Counter

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from desk.integrations import jobs
from desk.integrations.base import Adapter, IntegrationError
from desk.integrations.config import (IntegrationConfigError, IntegrationSettings, build_adapters)
from desk.integrations.jobs import run_integration_jobs_once
from desk.integrations.webhook import verify
from desk.models import (Direction, IntegrationJob, JobState, Lead, Message, Sender, Ticket, utcnow)
from desk.services import conversations, leads, numbers, tickets

TOKEN = "1000.zoho-test-token"
ORG_ID = "2389290"
DEPT_ID = "168000000000044"
SECRET = "webhook-shared-secret"
PNID = "100000000000001"


class FakeRemote:
    """Zoho CRM + Zoho Desk + a webhook receiver, checking what the real ones check."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.plan: list[int] = []      # statuses to answer next, one per request
        self.always: int | None = None  # a status for every request
        self.delay_next = 0.0           # seconds before answering the next request
        self.latency = 0.0              # seconds before answering every request
        self.base = ""
        self._n = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/crm/v2/Leads", self.crm_leads)
        app.router.add_post("/api/v1/tickets", self.desk_tickets)
        app.router.add_post("/hook", self.hook)
        return app

    async def _common(self, request: web.Request, kind: str):
        raw = await request.read()
        rec = {"kind": kind, "headers": dict(request.headers), "raw": raw,
               "json": json.loads(raw) if raw else None}
        self.requests.append(rec)
        delay, self.delay_next = self.delay_next, 0.0
        if delay or self.latency:
            await asyncio.sleep(delay or self.latency)
        status = self.plan.pop(0) if self.plan else self.always
        if status is None:
            return rec, None
        if status == 429:
            body = {"code": "TOO_MANY_REQUESTS", "message": "too many requests", "status": "error", "details": {}}
            return rec, web.json_response(body, status=429, headers={"Retry-After": "1"})
        if status == 400:
            body = {"data": [{"code": "MANDATORY_NOT_FOUND", "message": "required field not found",
                              "status": "error", "details": {"api_name": "Last_Name"}}]}
            return rec, web.json_response(body, status=400)
        body = {"code": "INTERNAL_ERROR", "message": "Internal Server Error", "status": "error", "details": {}}
        return rec, web.json_response(body, status=status)

    def _next_id(self) -> str:
        self._n += 1
        return f"57257670000005{self._n:05d}"

    async def crm_leads(self, request: web.Request) -> web.Response:
        rec, failed = await self._common(request, "lead")
        if failed is not None:
            return failed
        if request.headers.get("Authorization") != f"Zoho-oauthtoken {TOKEN}":
            return web.json_response({"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token",
                                      "status": "error"}, status=401)
        body = rec["json"]
        record = body["data"][0]
        if len(body["data"]) != 1 or not record.get("Last_Name"):
            return web.json_response({"data": [{"code": "MANDATORY_NOT_FOUND", "status": "error",
                                                "message": "required field not found",
                                                "details": {"api_name": "Last_Name"}}]}, status=400)
        return web.json_response({"data": [{"code": "SUCCESS", "status": "success", "message": "record added",
                                            "details": {"id": self._next_id(),
                                                        "Created_Time": "2026-11-24T10:00:00+00:00"}}]},
                                 status=201)

    async def desk_tickets(self, request: web.Request) -> web.Response:
        rec, failed = await self._common(request, "ticket")
        if failed is not None:
            return failed
        if request.headers.get("Authorization") != f"Zoho-oauthtoken {TOKEN}":
            return web.json_response({"errorCode": "INVALID_OAUTH", "message": "The OAuth Token you provided is "
                                      "invalid."}, status=401)
        if request.headers.get("orgId") != ORG_ID:
            return web.json_response({"errorCode": "UNAUTHORIZED", "message": "orgId missing"}, status=401)
        body = rec["json"]
        missing = [k for k in ("subject", "departmentId") if not body.get(k)]
        if missing or not (body.get("contactId") or body.get("contact", {}).get("lastName")):
            return web.json_response({"errorCode": "UNPROCESSABLE_ENTITY", "message": "invalid data",
                                      "errors": [{"fieldName": f"/{(missing or ['contact'])[0]}",
                                                  "errorType": "missing"}]}, status=422)
        n = self._next_id()
        return web.json_response({"id": n, "ticketNumber": str(self._n), "subject": body["subject"]})

    async def hook(self, request: web.Request) -> web.Response:
        rec, failed = await self._common(request, "hook")
        if failed is not None:
            return failed
        if not verify(SECRET, rec["raw"], request.headers.get("X-Tsunagi-Signature")):
            return web.json_response({"error": "bad signature"}, status=401)
        return web.json_response({"id": f"hook-{request.headers['X-Tsunagi-Delivery']}"})


@pytest.fixture
async def remote(aiohttp_server):
    fake = FakeRemote()
    server = await aiohttp_server(fake.app())
    fake.base = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


def settings_for(remote: FakeRemote, adapter: str, **env) -> IntegrationSettings:
    values = {"CRM_ADAPTER": adapter, "ZOHO_CRM_BASE_URL": remote.base, "ZOHO_DESK_BASE_URL": remote.base,
              "ZOHO_ACCESS_TOKEN": TOKEN, "ZOHO_DESK_ORG_ID": ORG_ID, "ZOHO_DESK_DEPARTMENT_ID": DEPT_ID,
              "INTEGRATION_WEBHOOK_URL": f"{remote.base}/hook", "INTEGRATION_WEBHOOK_SECRET": SECRET,
              "INTEGRATION_TIMEOUT_SECONDS": "3"}
    values.update(env)
    return IntegrationSettings.from_env(values)


def adapters_for(remote, http, adapter: str, **env) -> dict[str, Adapter]:
    return build_adapters(settings_for(remote, adapter, **env), http)


def at(hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2026, 11, 24, hour, minute, tzinfo=dt.timezone.utc)


async def make_lead(sessions, n: int = 0, **kw) -> int:
    async with sessions() as s, s.begin():
        await numbers.ensure_number(s, phone_number_id=PNID, waba_id="200000000000001",
                                    display_phone_number="+15550001111")
        values = dict(wa_id=f"4477009001{n:02d}", phone_number_id=PNID, name="Kerry Ann Smith",
                      email=f"kerry{n}@example.com", company="Zylker", interest="Pricing for 40 seats",
                      consent=True, profile_name="Kerry")
        values.update(kw)
        lead = await leads.save_lead(s, **values)
        return lead.id


async def make_chat(sessions) -> int:
    """A chat whose messages arrived out of order (Meta does not guarantee order)."""
    async with sessions() as s, s.begin():
        await numbers.ensure_number(s, phone_number_id=PNID, waba_id="200000000000001",
                                    display_phone_number="+15550001111")
        chat, _ = await conversations.record_inbound(
            s, phone_number_id=PNID, wa_id="447700900123", profile_name="Kerry", wamid="wamid.2",
            type="text", body="it was due on Monday", payload={}, wa_timestamp=at(10, 2))
        s.add(Message(chat_id=chat.id, direction=Direction.outbound, sender=Sender.operator, type="text",
                      body="Hello Kerry, I'm looking\ninto it now.", payload={"operator_name": "Aiko"},
                      wa_timestamp=at(10, 3), status="sent"))
        s.add(Message(chat_id=chat.id, direction=Direction.outbound, sender=Sender.bot, type="text",
                      body="Let me find a person for you.", payload={}, wa_timestamp=at(10, 1), status="sent"))
        await conversations.record_inbound(
            s, phone_number_id=PNID, wa_id="447700900123", profile_name="Kerry", wamid="wamid.1",
            type="text", body="my order has not arrived", payload={}, wa_timestamp=at(10, 0))
        await conversations.record_inbound(
            s, phone_number_id=PNID, wa_id="447700900123", profile_name="Kerry", wamid="wamid.3",
            type="image", body=None, payload={}, wa_timestamp=at(10, 4))
        return chat.id


async def job_rows(sessions) -> list[IntegrationJob]:
    async with sessions() as s:
        return list((await s.execute(select(IntegrationJob).order_by(IntegrationJob.id))).scalars())


async def enqueue_lead(sessions, lead_id: int, adapter: str) -> IntegrationJob:
    async with sessions() as s, s.begin():
        return await tickets.enqueue_lead_push(s, lead_id, adapter)


# --- tickets and transcripts ---------------------------------------------------------

async def test_ticket_keeps_the_transcript_in_whatsapp_order_and_queues_its_push(sessions):
    chat_id = await make_chat(sessions)
    async with sessions() as s, s.begin():
        ticket = await tickets.create_ticket_from_chat(s, chat_id, "aiko@example.com", adapter="zoho")
    assert ticket.subject == "WhatsApp chat with Kerry (+447700900123)"
    assert ticket.description.splitlines() == [
        "[2026-11-24 10:00 UTC] Kerry (user): my order has not arrived",
        "[2026-11-24 10:01 UTC] Bot (bot): Let me find a person for you.",
        "[2026-11-24 10:02 UTC] Kerry (user): it was due on Monday",
        "[2026-11-24 10:03 UTC] Aiko (operator): Hello Kerry, I'm looking",
        "    into it now.",
        "[2026-11-24 10:04 UTC] Kerry (user): [image]",
    ]
    [job] = await job_rows(sessions)
    assert (job.kind, job.ref_id, job.adapter, job.state) == ("ticket", ticket.id, "zoho", JobState.pending)


async def test_ticket_is_queued_for_the_configured_adapter_even_if_its_settings_are_incomplete(
        sessions, monkeypatch):
    monkeypatch.setenv("CRM_ADAPTER", "webhook")
    monkeypatch.delenv("INTEGRATION_WEBHOOK_URL", raising=False)
    chat_id = await make_chat(sessions)
    async with sessions() as s, s.begin():
        ticket = await tickets.create_ticket_from_chat(s, chat_id, "aiko@example.com")
    [job] = await job_rows(sessions)
    assert (job.adapter, job.ref_id) == ("webhook", ticket.id)


async def test_ticket_with_no_adapter_configured_is_stored_but_not_pushed(sessions, monkeypatch):
    monkeypatch.setenv("CRM_ADAPTER", "none")
    chat_id = await make_chat(sessions)
    async with sessions() as s, s.begin():
        ticket = await tickets.create_ticket_from_chat(s, chat_id, "bot", subject="  Left   message ")
    assert ticket.subject == "Left message" and await job_rows(sessions) == []
    with pytest.raises(tickets.TicketError, match="no chat"):
        async with sessions() as s, s.begin():
            await tickets.create_ticket_from_chat(s, 999, "bot", adapter="zoho")


async def test_a_second_push_of_a_lead_returns_the_same_job(sessions):
    lead_id = await make_lead(sessions)
    first = await enqueue_lead(sessions, lead_id, "zoho")
    second = await enqueue_lead(sessions, lead_id, "zoho")
    assert first.id == second.id and len(await job_rows(sessions)) == 1
    async with sessions() as s, s.begin():
        (await s.get(IntegrationJob, first.id)).state = JobState.failed
    third = await enqueue_lead(sessions, lead_id, "zoho")
    assert third.id != first.id
    assert await enqueue_lead(sessions, lead_id, "none") is None


# --- the adapters against the fake services -----------------------------------------------

async def test_zoho_crm_gets_the_lead_and_its_id_is_recorded(sessions, remote, http):
    lead_id = await make_lead(sessions)
    job = await enqueue_lead(sessions, lead_id, "zoho")
    assert await run_integration_jobs_once(sessions, adapters_for(remote, http, "zoho")) == 1
    [req] = remote.requests
    assert req["headers"]["Authorization"] == f"Zoho-oauthtoken {TOKEN}"
    assert req["json"] == {"data": [{"Last_Name": "Smith", "First_Name": "Kerry Ann",
                                     "Email": "kerry0@example.com", "Company": "Zylker",
                                     "Phone": "+447700900100", "Lead_Source": "WhatsApp",
                                     "Description": "Pricing for 40 seats"}]}
    async with sessions() as s:
        lead = await s.get(Lead, lead_id)
        row = await s.get(IntegrationJob, job.id)
    assert row.state == JobState.sent and row.attempts == 1 and row.external_id == "5725767000000500001"
    assert (lead.crm_state, lead.crm_id) == ("pushed", "5725767000000500001") and lead.crm_pushed_at


async def test_a_lead_without_a_name_still_has_zoho_last_name(sessions, remote, http):
    lead_id = await make_lead(sessions, name=None, profile_name=None, company=None, email=None)
    await enqueue_lead(sessions, lead_id, "zoho")
    await run_integration_jobs_once(sessions, adapters_for(remote, http, "zoho"))
    record = remote.requests[0]["json"]["data"][0]
    assert record == {"Last_Name": "WhatsApp +447700900100", "Phone": "+447700900100",
                      "Lead_Source": "WhatsApp", "Description": "Pricing for 40 seats"}
    assert (await job_rows(sessions))[0].state == JobState.sent


async def test_zoho_desk_gets_the_ticket_with_org_and_department(sessions, remote, http):
    chat_id = await make_chat(sessions)
    async with sessions() as s, s.begin():
        ticket = await tickets.create_ticket_from_chat(s, chat_id, "aiko@example.com", adapter="zoho")
    assert await run_integration_jobs_once(sessions, adapters_for(remote, http, "zoho")) == 1
    [req] = remote.requests
    assert req["kind"] == "ticket" and req["headers"]["orgId"] == ORG_ID
    assert req["headers"]["Authorization"] == f"Zoho-oauthtoken {TOKEN}"
    body = req["json"]
    assert body["subject"] == ticket.subject and body["departmentId"] == DEPT_ID
    assert body["description"] == ticket.description and body["channel"] == "WhatsApp"
    assert body["contact"] == {"lastName": "Kerry", "phone": "+447700900123"}
    async with sessions() as s:
        assert (await s.get(Ticket, ticket.id)).external_id == "5725767000000500001"


async def test_webhook_is_signed_and_carries_the_job_id(sessions, remote, http):
    lead_id = await make_lead(sessions)
    lead_job = await enqueue_lead(sessions, lead_id, "webhook")
    chat_id = await make_chat(sessions)
    async with sessions() as s, s.begin():
        ticket = await tickets.create_ticket_from_chat(s, chat_id, "aiko@example.com", adapter="webhook")
    assert await run_integration_jobs_once(sessions, adapters_for(remote, http, "webhook")) == 2
    lead_req, ticket_req = remote.requests
    for req in (lead_req, ticket_req):
        assert verify(SECRET, req["raw"], req["headers"]["X-Tsunagi-Signature"])
        assert req["headers"]["X-Tsunagi-Signature"].startswith("sha256=")
    assert lead_req["headers"]["X-Tsunagi-Delivery"] == str(lead_job.id)
    assert lead_req["json"]["event"] == "lead.created"
    assert lead_req["json"]["data"]["email"] == "kerry0@example.com"
    assert lead_req["json"]["data"]["contact"]["wa_id"] == "447700900100"
    assert ticket_req["json"]["event"] == "ticket.created"
    assert ticket_req["json"]["data"]["description"] == ticket.description
    async with sessions() as s:
        assert (await s.get(Lead, lead_id)).crm_id == f"hook-{lead_job.id}"
        assert (await s.get(Ticket, ticket.id)).external_id.startswith("hook-")


async def test_a_wrong_webhook_secret_is_refused_and_not_retried(sessions, remote, http):
    lead_id = await make_lead(sessions)
    await enqueue_lead(sessions, lead_id, "webhook")
    adapters = adapters_for(remote, http, "webhook", INTEGRATION_WEBHOOK_SECRET="not-the-secret")
    await run_integration_jobs_once(sessions, adapters)
    [job] = await job_rows(sessions)
    assert job.state == JobState.failed and "HTTP 401" in job.last_error


# --- failures, retries, giving up ---------------------------------------------------

@pytest.mark.parametrize("adapter, fail, code", [
    ("zoho", "token", "INVALID_TOKEN"),
    ("zoho", 400, "MANDATORY_NOT_FOUND"),
    ("zoho", 404, "HTTP 404"),
    ("webhook", 400, "HTTP 400"),
])
async def test_client_errors_fail_at_once_with_the_reason(sessions, remote, http, adapter, fail, code):
    lead_id = await make_lead(sessions)
    await enqueue_lead(sessions, lead_id, adapter)
    env = {"ZOHO_ACCESS_TOKEN": "1000.expired"} if fail == "token" else {}
    if fail != "token":
        remote.plan = [fail]
    await run_integration_jobs_once(sessions, adapters_for(remote, http, adapter, **env))
    [job] = await job_rows(sessions)
    assert job.state == JobState.failed and job.attempts == 1 and code in job.last_error
    assert "gave up" not in job.last_error
    async with sessions() as s:
        assert (await s.get(Lead, lead_id)).crm_state == "failed"
    later = utcnow() + dt.timedelta(days=1)
    assert await run_integration_jobs_once(sessions, adapters_for(remote, http, adapter), now=later) == 0


@pytest.mark.parametrize("fail", [500, 503, 429, 408, "timeout"])
async def test_server_errors_and_timeouts_are_retried_with_backoff(sessions, remote, http, fail):
    lead_id = await make_lead(sessions)
    await enqueue_lead(sessions, lead_id, "zoho")
    adapters = adapters_for(remote, http, "zoho", INTEGRATION_TIMEOUT_SECONDS="0.3")
    if fail == "timeout":
        remote.delay_next = 1.0
    else:
        remote.plan = [fail]
    now = utcnow()
    assert await run_integration_jobs_once(sessions, adapters, now=now) == 1
    [job] = await job_rows(sessions)
    assert job.state == JobState.pending and job.attempts == 1
    assert job.next_attempt_at >= now + dt.timedelta(seconds=30)
    assert ("timed out" if fail == "timeout" else f"HTTP {fail}") in job.last_error
    async with sessions() as s:
        assert (await s.get(Lead, lead_id)).crm_state == "pending"
    # not due yet: nothing is sent
    assert await run_integration_jobs_once(sessions, adapters, now=now + dt.timedelta(seconds=5)) == 0
    assert await run_integration_jobs_once(sessions, adapters, now=job.next_attempt_at) == 1
    [job] = await job_rows(sessions)
    assert job.state == JobState.sent and job.attempts == 2 and job.last_error is None
    assert len(remote.requests) == 2


async def test_retries_stop_after_max_attempts(sessions, remote, http):
    lead_id = await make_lead(sessions)
    await enqueue_lead(sessions, lead_id, "zoho")
    adapters = adapters_for(remote, http, "zoho")
    remote.always = 500
    now = utcnow()
    for _ in range(5):
        await run_integration_jobs_once(sessions, adapters, now=now, max_attempts=3)
        now += dt.timedelta(hours=2)
    [job] = await job_rows(sessions)
    assert job.state == JobState.failed and job.attempts == 3 and len(remote.requests) == 3
    assert job.last_error.startswith("gave up after 3 attempts: HTTP 500: INTERNAL_ERROR")
    async with sessions() as s:
        assert (await s.get(Lead, lead_id)).crm_state == "failed"


async def test_backoff_doubles_is_capped_and_respects_retry_after():
    assert [jobs.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert jobs.backoff(30) == dt.timedelta(hours=1)
    assert jobs.backoff(1, retry_after=600) == dt.timedelta(minutes=10)


async def test_an_unexpected_adapter_crash_is_retried_not_lost(sessions):
    class Broken(Adapter):
        name = "zoho"

        async def push_lead(self, lead, contact, *, delivery_id=None):
            raise KeyError("surprise")

        async def push_ticket(self, ticket, contact, *, delivery_id=None):
            raise AssertionError

    lead_id = await make_lead(sessions)
    await enqueue_lead(sessions, lead_id, "zoho")
    assert await run_integration_jobs_once(sessions, {"zoho": Broken()}) == 1
    [job] = await job_rows(sessions)
    assert job.state == JobState.pending and "KeyError" in job.last_error


async def test_a_job_whose_worker_died_is_taken_again_after_its_lease(sessions, remote, http):
    lead_id = await make_lead(sessions)
    job = await enqueue_lead(sessions, lead_id, "zoho")
    now = utcnow()
    async with sessions() as s, s.begin():
        row = await s.get(IntegrationJob, job.id)
        row.state, row.attempts, row.locked_until = JobState.sending, 1, now + dt.timedelta(minutes=1)
    adapters = adapters_for(remote, http, "zoho")
    assert await run_integration_jobs_once(sessions, adapters, now=now) == 0  # still leased
    assert await run_integration_jobs_once(sessions, adapters, now=now + dt.timedelta(minutes=2)) == 1
    [row] = await job_rows(sessions)
    assert row.state == JobState.sent and row.attempts == 2


async def test_jobs_of_another_adapter_are_left_alone(sessions, remote, http):
    lead_id = await make_lead(sessions)
    await enqueue_lead(sessions, lead_id, "webhook")
    assert await run_integration_jobs_once(sessions, adapters_for(remote, http, "zoho")) == 0
    assert await run_integration_jobs_once(sessions, {}) == 0
    assert remote.requests == [] and (await job_rows(sessions))[0].state == JobState.pending


# --- two workers at once ---------------------------------------------------------------

@pytest.mark.parametrize("adapter", ["webhook", "zoho"])
async def test_two_workers_racing_push_each_job_exactly_once(database_url, sessions, remote, http, adapter):
    """Two desk workers (each its own engine, as two processes would) over the same due jobs."""
    from desk.db import create_engine, session_factory

    lead_ids = [await make_lead(sessions, n) for n in range(12)]
    for lead_id in lead_ids:
        await enqueue_lead(sessions, lead_id, adapter)
    remote.latency = 0.01  # widen the window between claim and record
    other_engine = create_engine(database_url)
    try:
        other = session_factory(other_engine)
        async with aiohttp.ClientSession() as http2:
            counts = await asyncio.gather(
                run_integration_jobs_once(sessions, adapters_for(remote, http, adapter)),
                run_integration_jobs_once(other, adapters_for(remote, http2, adapter)))
    finally:
        await other_engine.dispose()
    assert sum(counts) == 12 and all(counts), counts  # both took part, neither doubled
    if adapter == "webhook":
        pushed = Counter(r["headers"]["X-Tsunagi-Delivery"] for r in remote.requests)
    else:
        pushed = Counter(r["json"]["data"][0]["Email"] for r in remote.requests)
    assert len(remote.requests) == 12 and set(pushed.values()) == {1}
    rows = await job_rows(sessions)
    assert {r.state for r in rows} == {JobState.sent} and {r.attempts for r in rows} == {1}
    async with sessions() as s:
        crm_ids = [lead.crm_id for lead in (await s.execute(select(Lead))).scalars()]
    assert len(set(crm_ids)) == 12


# --- configuration ---------------------------------------------------------------------

def test_configuration_comes_from_the_environment():
    assert IntegrationSettings.from_env({}).adapter == "none"
    with pytest.raises(IntegrationConfigError, match="ZOHO_ACCESS_TOKEN, ZOHO_DESK_ORG_ID"):
        IntegrationSettings.from_env({"CRM_ADAPTER": "zoho"})
    with pytest.raises(IntegrationConfigError, match="INTEGRATION_WEBHOOK_SECRET"):
        IntegrationSettings.from_env({"CRM_ADAPTER": "webhook", "INTEGRATION_WEBHOOK_URL": "http://x"})
    with pytest.raises(IntegrationConfigError, match="one of zoho, webhook, none"):
        IntegrationSettings.from_env({"CRM_ADAPTER": "salesforce"})
    s = IntegrationSettings.from_env({"CRM_ADAPTER": "Zoho", "ZOHO_ACCESS_TOKEN": "sekrit",
                                      "ZOHO_DESK_ORG_ID": "1", "ZOHO_DESK_DEPARTMENT_ID": "2"})
    assert s.adapter == "zoho" and s.zoho_crm_base_url == "https://www.zohoapis.com"
    assert "sekrit" not in repr(s)
    assert s.client_timeout().total == 20


async def test_integration_error_is_what_adapters_raise():
    err = IntegrationError(True, "HTTP 503: busy", status=503)
    assert err.retryable and err.message == "HTTP 503: busy" and "503" in repr(err)


async def test_a_lead_the_crm_refuses_for_good_becomes_a_task_for_a_person(sessions, remote, http, monkeypatch):
    """Issue 11: with a CRM the lead is not a task at capture; once the push fails for good,
    nobody will receive it unless a person does: it is queued for the sales department."""
    monkeypatch.setenv("CRM_ADAPTER", "webhook")
    lead_id = await make_lead(sessions)
    async with sessions() as s:
        assert (await s.get(Lead, lead_id)).task_state is None
    await enqueue_lead(sessions, lead_id, "webhook")
    remote.plan = [400]
    await run_integration_jobs_once(sessions, adapters_for(remote, http, "webhook"))
    async with sessions() as s:
        lead = await s.get(Lead, lead_id)
        from desk.models import PhoneNumber
        number = await s.get(PhoneNumber, PNID)
        assert (lead.crm_state, lead.task_state, lead.department_id) == ("failed", "open", number.department_id)
