"""Templates in step with Meta (desk/billing/template_sync.py), against the simulator as
a real HTTP server and the channel's real webhook intake (SQLite and PostgreSQL):
submit → PENDING; Meta's review as a signed `message_template_status_update`
webhook → APPROVED and sendable, or REJECTED with its reason; sync over several
pages, deletions at Meta marked; Meta's refusals store nothing; a malformed
template change is ignored without losing the rest of its body."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging

import pytest
from sqlalchemy import func, select

from cloudapi.graph import GraphError
from connectors.whatsapp import webhook
from desk.billing import template_sync, templates
from desk.models import EventState, MessageTemplate, OutboxMessage, WebhookEvent
from desk.services import outbox
from simulator import simulator_of
from tests.channel.conftest import PNID, SECRET, TOKEN, WABA
from tests.desk.test_admin_cli import PYTHON, ROOT, _env

USER = "12125550100"
BODY = templates.components_from("Hi {{1}}, your order {{2}} has shipped.")


def no_auto_approve(h) -> None:
    """Meta reviews new templates (PENDING first), as it really does."""
    sim = simulator_of(h.sim.app)
    sim.config = sim.config.with_(template_auto_approve=False)


async def submit(h, name: str, components=BODY, language: str = "en_US") -> MessageTemplate:
    async with h.runtime.sessions() as s, s.begin():
        t = await template_sync.submit(s, h.runtime.graph, waba_id=WABA, name=name, language=language,
                                       category="UTILITY", components=components, default_token=TOKEN)
        s.expunge(t)
        return t


async def stored(h, name: str, language: str = "en_US") -> MessageTemplate | None:
    async with h.runtime.sessions() as s:
        return await templates.find(s, WABA, name, language)


async def review(h, name: str, status: str, **extra) -> dict:
    answer = await h.control("POST", "templates", name=name, language="en_US", waba_id=WABA, status=status, **extra)
    assert answer["webhook_status"] == 200, answer
    return answer


async def status_becomes(h, name: str, status: str) -> MessageTemplate:
    async def done():
        t = await stored(h, name)
        return t is not None and t.status == status
    assert await h.settle(until=done), (await stored(h, name)).status
    return await stored(h, name)


async def test_submitted_pending_then_approved_by_webhook_and_sendable(harness):
    h = harness
    no_auto_approve(h)
    t = await submit(h, "order_update")
    assert t.status == "PENDING" and t.meta_template_id
    at_meta = (await h.control("GET", "templates"))["templates"]
    assert {(x["name"], x["status"], x["id"]) for x in at_meta} >= {("order_update", "PENDING", t.meta_template_id)}
    async with h.runtime.sessions() as s, s.begin():
        with pytest.raises(templates.TemplateError, match="pending, not approved"):
            await templates.send_template(s, phone_number_id=PNID, wa_id=USER, name="order_update",
                                          language="en_US", body_params=["Aiko", "#7"])

    await review(h, "order_update", "APPROVED")
    approved = await status_becomes(h, "order_update", "APPROVED")
    assert approved.status_reason is None and approved.meta_template_id == t.meta_template_id
    async with h.runtime.sessions() as s:
        [event] = (await s.execute(select(WebhookEvent).where(WebhookEvent.kind == "template"))).scalars().all()
    assert (event.state, event.phone_number_id, event.wa_id) == (EventState.done, WABA, "")
    assert event.dedupe_key.startswith(f"template:{WABA}:{t.meta_template_id}:APPROVED:")

    async with h.runtime.sessions() as s, s.begin():  # now an operator or the bot may send it
        await templates.send_template(s, phone_number_id=PNID, wa_id=USER, name="order_update",
                                      language="en_US", body_params=["Aiko", "#7"])
    assert await outbox.run_once(h.runtime.sessions, h.runtime.graph, TOKEN)
    [sent] = await h.outbound(USER)
    assert sent["type"] == "template" and sent["content"]["name"] == "order_update", sent
    async with h.runtime.sessions() as s:
        assert (await s.execute(select(OutboxMessage.state))).scalar_one().value == "sent"


async def test_a_rejection_keeps_metas_reason_and_a_redelivery_is_applied_once(harness):
    h = harness
    no_auto_approve(h)
    await submit(h, "spring_sale")
    answer = await review(h, "spring_sale", "REJECTED", reason="INVALID_FORMAT")
    rejected = await status_becomes(h, "spring_sale", "REJECTED")
    assert rejected.status_reason == "INVALID_FORMAT"

    # Meta redelivers the same webhook (same bytes, same signature): recorded once.
    delivery = next(d for d in (await h.control("GET", "webhooks"))["deliveries"]
                    if d["id"] == answer["delivery_id"])
    status, _ = await webhook.receive(delivery["raw"].encode(), delivery["signature"], app_secret=SECRET,
                                      max_body_bytes=1 << 20, processor=h.runtime.processor)
    assert status == 200
    async with h.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(WebhookEvent).where(
            WebhookEvent.kind == "template")) == 1
    async with h.runtime.sessions() as s, s.begin():
        with pytest.raises(templates.TemplateError, match="rejected, not approved"):
            await templates.send_template(s, phone_number_id=PNID, wa_id=USER, name="spring_sale",
                                          language="en_US", body_params=["a", "b"])

    await review(h, "spring_sale", "PAUSED")  # later events of the WABA apply in order
    paused = await status_becomes(h, "spring_sale", "PAUSED")
    assert "paused" in paused.status_reason


async def test_metas_refusal_on_submit_stores_nothing(harness):
    h = harness
    no_auto_approve(h)
    # Meta already has it (created elsewhere, e.g. in WhatsApp Manager): a duplicate.
    await h.control("POST", "templates", name="welcome", language="en_US", waba_id=WABA, category="UTILITY",
                    body="Welcome!", status="APPROVED")
    with pytest.raises(templates.TemplateError, match=r"Meta refused template welcome \(en_US\): "
                                                       r"Message template already exists.*2388024"):
        await submit(h, "welcome", templates.components_from("Welcome!"))
    # A token Meta does not accept for this WABA.
    async with h.runtime.sessions() as s, s.begin():
        with pytest.raises(templates.TemplateError, match="Meta refused template other"):
            await template_sync.submit(s, h.runtime.graph, waba_id=WABA, name="other", language="en_US",
                                       category="UTILITY", components=BODY, default_token="not-a-token")
    # The desk's own checks refuse before calling Meta.
    with pytest.raises(templates.TemplateError, match="lowercase letters"):
        await submit(h, "Bad Name")
    async with h.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(MessageTemplate)) == 0
    names = {t["name"] for t in (await h.control("GET", "templates"))["templates"]}
    assert "other" not in names and "Bad Name" not in names


async def test_sync_reads_every_page_and_marks_what_meta_no_longer_has(harness):
    h = harness
    no_auto_approve(h)
    mine = await submit(h, "order_update")              # the desk submitted it: matched by Meta's id
    async with h.runtime.sessions() as s, s.begin():    # recorded by hand, never at Meta
        await templates.register(s, waba_id=WABA, name="local_only", language="en", category="UTILITY",
                                 components=templates.components_from("x"), status="APPROVED")
    for i in range(6):                                   # created at Meta outside the desk
        await h.control("POST", "templates", name=f"promo_{i}", language="en_US", waba_id=WABA,
                        category="MARKETING", body=f"Promo {i} for {{{{1}}}}", status="APPROVED")
    # Meta rejects it; its status webhook is recorded but not processed yet (as after a
    # crash right after the 200): the sync is what finds the change.
    processor = h.runtime.processor
    processor._sweeper.cancel()
    kick, processor.kick = processor.kick, lambda *lane: None
    try:
        await h.control("POST", "templates", name="order_update", language="en_US", waba_id=WABA,
                        status="REJECTED", reason="TAG_CONTENT_MISMATCH")
    finally:
        processor.kick = kick
    # hello_world + order_update + 6 promos = 8 at Meta: 3 pages of 3.

    async with h.runtime.sessions() as s, s.begin():
        report = await template_sync.sync_waba(s, h.runtime.graph, WABA, TOKEN, page_size=3)
    assert report.pages == 3 and report.skipped == 0
    assert sorted(report.created) == sorted(["hello_world (en_US)"] + [f"promo_{i} (en_US)" for i in range(6)])
    assert report.updated == ["order_update (en_US)"] and report.deleted == ["local_only (en)"]
    async with h.runtime.sessions() as s:
        rows = {(t.name, t.language): t for t in (await s.execute(select(MessageTemplate))).scalars()}
    assert len(rows) == 9
    assert (rows["order_update", "en_US"].status, rows["order_update", "en_US"].status_reason,
            rows["order_update", "en_US"].meta_template_id) == ("REJECTED", "TAG_CONTENT_MISMATCH",
                                                                mine.meta_template_id)
    await processor.sweep_once()  # the late status webhook, processed now, changes nothing
    await processor.idle()
    async with h.runtime.sessions() as s:
        late = (await s.execute(select(MessageTemplate).where(MessageTemplate.name == "order_update"))).scalar_one()
    assert (late.status, late.status_reason) == ("REJECTED", "TAG_CONTENT_MISMATCH")
    promo = rows["promo_3", "en_US"]
    assert (promo.status, promo.category, promo.meta_template_id is not None) == ("APPROVED", "MARKETING", True)
    assert templates.expected_params(promo) == {"header": 0, "body": 1}
    gone = rows["local_only", "en"]
    assert gone.status == "DELETED" and "not listed by Meta" in gone.status_reason and "was APPROVED" in gone.status_reason

    # Deleted at Meta: marked, not dropped; a second sync with nothing new changes nothing.
    await h.control("DELETE", f"templates?name=promo_0&waba_id={WABA}")
    async with h.runtime.sessions() as s, s.begin():
        again = await template_sync.sync_waba(s, h.runtime.graph, WABA, TOKEN, page_size=3)
    assert (again.created, again.updated, again.deleted, again.unchanged) == ([], [], ["promo_0 (en_US)"], 7)
    async with h.runtime.sessions() as s, s.begin():
        assert (await templates.find(s, WABA, "promo_0", "en_US")).status == "DELETED"
        with pytest.raises(templates.TemplateError, match="deleted, not approved"):
            await templates.send_template(s, phone_number_id=PNID, wa_id=USER, name="promo_0",
                                          language="en_US", body_params=["x"])


async def test_a_failed_page_changes_nothing(harness):
    h = harness
    for i in range(4):
        await h.control("POST", "templates", name=f"promo_{i}", language="en_US", waba_id=WABA,
                        category="MARKETING", body="Promo", status="APPROVED")
    graph = h.runtime.graph
    real, calls = graph.list_templates, []

    async def second_page_fails(*args, **kw):
        calls.append(kw.get("after"))
        if len(calls) == 2:
            raise GraphError(500, 2, "Service temporarily unavailable")
        return await real(*args, **kw)

    graph.list_templates = second_page_fails
    try:
        async with h.runtime.sessions() as s, s.begin():
            with pytest.raises(templates.TemplateError, match="nothing was changed"):
                await template_sync.sync_waba(s, graph, WABA, TOKEN, page_size=2)
    finally:
        graph.list_templates = real
    async with h.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(MessageTemplate)) == 0


async def test_the_periodic_sync_of_the_desk_worker(harness):
    h = harness
    assert template_sync.PeriodicSync.jobs_from_env(h.runtime.sessions, h.runtime.graph, TOKEN,
                                                    {"TEMPLATE_SYNC_MINUTES": "0"}) == []
    [job] = template_sync.PeriodicSync.jobs_from_env(h.runtime.sessions, h.runtime.graph, TOKEN, {})
    assert job.every == 15 * 60
    await job()              # due at start: runs in the background
    await job._task
    task = job._task
    await job()              # not due again for 15 minutes
    assert job._task is task
    assert (await stored(h, "hello_world")).status == "APPROVED"


def _signed(body: dict) -> tuple[bytes, str]:
    raw = json.dumps(body).encode()
    return raw, "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()


async def test_a_malformed_template_change_is_ignored_and_the_rest_of_the_body_is_kept(harness, caplog):
    h = harness
    no_auto_approve(h)
    await submit(h, "order_update")
    message = {"from": USER, "id": "wamid.mixed.1", "timestamp": "1767225600", "type": "text",
               "text": {"body": "hello there"}}
    body = {"object": "whatsapp_business_account", "entry": [
        {"id": WABA, "time": 1767225600, "changes": [
            {"field": "message_template_status_update",   # no message_template_id
             "value": {"event": "APPROVED", "message_template_name": "order_update",
                       "message_template_language": "en_US", "reason": "NONE"}},
            {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}},  # recorded (desk.services.account_events)
            {"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550000001", "phone_number_id": PNID},
                "contacts": [{"wa_id": USER, "profile": {"name": "Aiko"}}], "messages": [message]}},
            {"field": "message_template_status_update", "value": "APPROVED"}]}]}
    raw, sig = _signed(body)
    with caplog.at_level(logging.WARNING, logger="cloudapi.payloads"):
        status, answer = await webhook.receive(raw, sig, app_secret=SECRET, max_body_bytes=1 << 20,
                                               processor=h.runtime.processor)
    assert (status, answer) == (200, {"status": "received"})
    warnings = [r.getMessage() for r in caplog.records if "malformed message_template_status_update" in r.getMessage()]
    assert len(warnings) == 2 and "missing 'message_template_id'" in warnings[0], warnings
    async def delivered():
        return any(item.wamid == "wamid.mixed.1" for _, item in h.turns)
    assert await h.settle(until=delivered)  # the message in the same body reached the bot
    async with h.runtime.sessions() as s:
        kinds = [k for (k,) in await s.execute(select(WebhookEvent.kind))]
    assert sorted(kinds) == ["account", "message"]  # the malformed template changes left no row
    assert (await stored(h, "order_update")).status == "PENDING"


async def test_status_webhooks_for_unknown_templates_or_wabas_are_noted_not_applied(harness, caplog):
    h = harness
    base = {"event": "APPROVED", "message_template_id": 123456789, "message_template_name": "nobody_knows",
            "message_template_language": "en_US", "reason": "NONE"}
    body = {"object": "whatsapp_business_account", "entry": [
        {"id": WABA, "time": 1767225600, "changes": [{"field": "message_template_status_update", "value": base}]},
        {"id": "999999", "time": 1767225600, "changes": [{"field": "message_template_status_update",
                                                          "value": dict(base, message_template_id=5)}]}]}
    raw, sig = _signed(body)
    with caplog.at_level(logging.WARNING, logger="desk.billing.template_sync"):
        status, _ = await webhook.receive(raw, sig, app_secret=SECRET, max_body_bytes=1 << 20,
                                          processor=h.runtime.processor)
        assert status == 200
        await h.settle()
    async with h.runtime.sessions() as s:
        states = sorted(e.value for (e,) in await s.execute(select(WebhookEvent.state)))
    assert states == ["ignored", "ignored"]
    text = caplog.text
    assert "not in the desk's registry" in text and "the WABA is not registered" in text


async def _cli(url: str, *args: str, **env) -> tuple[int, str, str]:
    """`python -m desk admin ...` without blocking the loop that serves the simulator."""
    proc = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "desk", "admin", *args, cwd=ROOT, env=_env(url, **env),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def test_the_admin_cli_submits_and_syncs(harness, database_url):
    h = harness
    no_auto_approve(h)
    env = {"WHATSAPP_GRAPH_API_URL": str(h.sim.make_url("/v21.0")), "WHATSAPP_ACCESS_TOKEN": TOKEN}
    add = ("template", "add", "--waba", WABA, "--name", "lead_follow_up", "--language", "en_US",
           "--category", "marketing", "--body", "Hi {{1}}, about {{2}}?", "--button", "Yes")
    code, out, err = await _cli(database_url, *add, **env)
    assert code == 0, err
    assert "submitted to Meta" in out and "PENDING" in out
    code, out, err = await _cli(database_url, *add, **env)
    assert code == 1 and "already registered" in err and len(err.strip().splitlines()) == 1
    code, _, err = await _cli(database_url, *add[:5], "other", *add[6:], "--status", "APPROVED", **env)
    assert code == 1 and "give --status only with --no-submit" in err

    await h.control("POST", "templates", name="lead_follow_up", language="en_US", waba_id=WABA,
                    status="REJECTED", reason="PROMOTIONAL")  # its webhook goes to the channel too
    code, out, err = await _cli(database_url, "template", "sync", "--waba", WABA, "--page-size", "1",
                                "--json", **env)
    assert code == 0, err
    report = json.loads(out)
    assert report["pages"] == 2 and report["created"] == ["hello_world (en_US)"]
    code, out, err = await _cli(database_url, "template", "list", "--waba", WABA, "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert (rows["lead_follow_up"]["status"], rows["lead_follow_up"]["reason"]) == ("REJECTED", "PROMOTIONAL")
    code, _, err = await _cli(database_url, "template", "sync", "--waba", WABA,
                              WHATSAPP_GRAPH_API_URL=env["WHATSAPP_GRAPH_API_URL"], WHATSAPP_ACCESS_TOKEN="wrong")
    assert code == 1 and "nothing was changed" in err


async def test_synced_templates_the_desk_cannot_fill_are_not_offered(harness):
    h = harness
    await h.control("POST", "templates", name="with_image", language="en_US", waba_id=WABA, category="MARKETING",
                    status="APPROVED", components=[{"type": "HEADER", "format": "IMAGE"},
                                                   {"type": "BODY", "text": "New arrivals"}])
    await h.control("POST", "templates", name="named", language="en_US", waba_id=WABA, category="UTILITY",
                    status="APPROVED", components=[{"type": "BODY", "text": "Hi {{first_name}}"}])
    async with h.runtime.sessions() as s, s.begin():
        await template_sync.sync_waba(s, h.runtime.graph, WABA, TOKEN)
    async with h.runtime.sessions() as s, s.begin():
        assert [t.name for t in await templates.approved_for_number(s, PNID)] == ["hello_world"]
        for name, why in (("with_image", "header is image"), ("named", "named parameters")):
            with pytest.raises(templates.TemplateError, match=why):
                await templates.send_template(s, phone_number_id=PNID, wa_id=USER, name=name, language="en_US")


async def _category_change(h, t: MessageTemplate, value: dict) -> int:
    from cloudapi.signature import sign

    raw = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": WABA, "time": 1764700000, "changes": [
        {"field": "template_category_update", "value": {"message_template_id": int(t.meta_template_id),
                                                         "message_template_name": t.name,
                                                         "message_template_language": t.language, **value}}]}]}).encode()
    status, _ = await webhook.receive(raw, sign(raw, SECRET), app_secret=SECRET, max_body_bytes=1 << 20,
                                      processor=h.runtime.processor)
    return status


async def test_metas_recategorisation_reaches_the_registry_and_an_impending_one_is_only_noted(harness, caplog):
    h = harness
    await submit(h, "order_shipped")
    t = await status_becomes(h, "order_shipped", "APPROVED")
    assert t.category == "UTILITY"
    caplog.set_level(logging.WARNING, logger="desk.billing.template_sync")
    assert await _category_change(h, t, {"correct_category": "MARKETING", "new_category": "UTILITY",
                                         "category_update_timestamp": 1764800000}) == 200
    await h.settle()
    assert (await stored(h, "order_shipped")).category == "UTILITY"            # not yet
    assert "will recategorise it as MARKETING" in caplog.text
    assert await _category_change(h, t, {"previous_category": "UTILITY", "new_category": "MARKETING"}) == 200

    async def marketing():
        return (await stored(h, "order_shipped")).category == "MARKETING"
    assert await h.settle(until=marketing)
    assert "recategorised by Meta from UTILITY" in (await stored(h, "order_shipped")).status_reason
