"""Brands are tenants: an admin of another brand reaches nothing of Acme's, on any route.

The walk enumerates the app's routes, so a new route fails here until it is
classified below (and, if it takes an id, shown to answer 404 for Acme's).
The same WhatsApp user writes to both brands, so the shared contact must not
carry Acme's leads or chats into Globex's view.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from desk.attachments import MediaStore
from desk.models import (BotMiss, BotModel, Brand, CannedResponse, Chat, ChatNote, Department, Message, MessageTemplate, Operator,
                         OutboxMessage, PhoneNumber, Role, Tag, WhatsAppBusinessAccount, chat_tags, utcnow)
from desk.services import conversations, leads, outbox, routing, tickets
from desk.services.outbox import CannotSend
from desk.services.routing import RoutingError
from tests.console.conftest import SALES_NUMBER, SUPPORT_NUMBER, password_hash

KERRY = "447700900123"  # writes to both brands
GLOBEX_WABA, GLOBEX_NUMBER = "299000000000001", "199000000000001"
ACME_WABA = "200000000000001"
# Text that only Acme's data contains: none of it may appear in a Globex response.
ACME_MARKERS = ("Acme", "acme.test", "Alice Support", "Where is my parcel", "vip-acme", "/refund-acme",
                "order_update_acme", "kerry@acme-lead.example", "acme-note", "acme-miss", "acme-model-note", SUPPORT_NUMBER, ACME_WABA, "+1 555 0100", "+1 5550100")


async def _acme_world(desk, media_dir) -> dict:
    """Acme's chat (media, lead, tag), canned response and template; Globex with its admin
    and its own chat with the same WhatsApp user."""
    chat_id = await desk.seed_chat(KERRY, texts=("Where is my parcel?", "I want a person"))
    stored = MediaStore(media_dir).save(b"\x89PNG\r\n\x1a\nacme", "image/png")
    async with desk.sessions() as s, s.begin():
        _, photo = await conversations.record_inbound(
            s, phone_number_id=SUPPORT_NUMBER, wa_id=KERRY, profile_name="Kerry", wamid="wamid.acme.photo",
            type="image", body=None, payload={}, wa_timestamp=utcnow().replace(microsecond=0), media=stored,
            media_filename="parcel.png")
        lead = await leads.save_lead(s, wa_id=KERRY, phone_number_id=SUPPORT_NUMBER, name="Kerry",
                                     email="kerry@acme-lead.example", company="K", interest="refund",
                                     consent=True, chat_id=chat_id)
        tag = Tag(brand_id=desk.brand_id, name="vip-acme")
        canned = CannedResponse(brand_id=desk.brand_id, shortcut="refund-acme", title="Refund", text="We refund.")
        template = MessageTemplate(waba_id=ACME_WABA, name="order_update_acme", language="en", category="UTILITY",
                                   status="APPROVED", components=[{"type": "BODY", "text": "Hi"}])
        s.add_all([tag, canned, template])
        await s.flush()
        await s.execute(chat_tags.insert().values(chat_id=chat_id, tag_id=tag.id))
        s.add(ChatNote(chat_id=chat_id, operator_id=desk.operators["alice"], author="Alice Support",
                       body="acme-note: Kerry prefers email"))
        miss = BotMiss(kind="unsure", question="acme-miss: do u do gift wrap", article="gift_cards",
                       confidence=0.4, phone_number_id=SUPPORT_NUMBER, wa_id=KERRY, chat_id=chat_id)
        s.add(miss)

        globex = Brand(name="Globex")
        s.add(globex)
        await s.flush()
        help_desk = Department(brand_id=globex.id, name="Help")
        s.add_all([help_desk, WhatsAppBusinessAccount(id=GLOBEX_WABA, brand_id=globex.id, name="Globex WABA")])
        await s.flush()
        s.add(PhoneNumber(id=GLOBEX_NUMBER, waba_id=GLOBEX_WABA, display_phone_number="+1 555 0900",
                          department_id=help_desk.id))
        gina = Operator(brand_id=globex.id, email="gina@globex.test", name="Gina Globex", role=Role.admin,
                        password_hash=password_hash(), departments=[help_desk])
        s.add(gina)
        await s.flush()
        own_chat, _ = await conversations.record_inbound(
            s, phone_number_id=GLOBEX_NUMBER, wa_id=KERRY, profile_name="Kerry", wamid="wamid.globex.1",
            type="text", body="Hi Globex", payload={}, wa_timestamp=utcnow().replace(microsecond=0))
        await routing.hand_off(s, own_chat.id)
        ticket = await tickets.create_ticket_from_chat(s, chat_id, "bot", "Where is my parcel?",
                                                       message="Where is my parcel?", adapter="none")
        acme_model = BotModel(brand_id=desk.brand_id, state="trained", requested_by="tess@acme.test",
                              requested_at=utcnow(), note="acme-model-note", path="/nonexistent/model.tar.gz")
        s.add(acme_model)
        await s.flush()
        return {"ticket_id": ticket.id, "chat_id": chat_id, "message_id": photo.id, "lead_id": lead.id, "tag_id": tag.id,
                "canned_id": canned.id, "template_id": template.id, "number_id": SUPPORT_NUMBER,
                "department_id": desk.departments["Support"], "operator_id": desk.operators["alice"],
                "globex_chat": own_chat.id, "globex_department": help_desk.id, "gina": gina.id, "miss_id": miss.id,
                "waba_id": ACME_WABA, "model_id": acme_model.id}


# Every route of the app, classified. "acme" routes take Acme's ids in the path and must
# answer 404 ("acme-body": in the body, so 422 is as good);
# "scoped" ones answer the signed-in admin's own brand and must not contain Acme's data;
# "own" ones write the caller's own brand only (the end state shows Acme untouched);
# "none" ones carry no brand data at all.
def _routes(w: dict) -> dict[tuple[str, str], tuple[str, object]]:
    chat = "/api/chats/{chat_id}"
    return {
        ("GET", "/"): ("none", None), ("GET", "/login"): ("none", None), ("GET", "/health"): ("none", None),
        ("GET", "/static"): ("none", None), ("POST", "/api/login"): ("none", None),
        ("POST", "/api/logout"): ("none", None), ("GET", "/api/events"): ("none", None),
        ("GET", "/api/articles"): ("none", None), ("GET", "/api/attachment-rules"): ("none", None),
        ("GET", "/api/me"): ("scoped", None), ("PUT", "/api/me/status"): ("own", {"status": "online"}),
        # issue 14: the console's words and the operator's language; the brand's languages and time zone
        ("GET", "/i18n/catalogs.js"): ("none", None), ("PUT", "/api/me/locale"): ("own", {"locale": "ja"}),
        ("GET", "/api/admin/languages"): ("scoped", None),
        ("PUT", "/api/admin/languages"): ("own", {"languages": ["en"], "default_language": "en",
                                                  "time_zone": "Asia/Tokyo"}),
        ("GET", "/api/counts"): ("scoped", None), ("GET", "/api/inbox/{list}"): ("scoped", None),
        ("GET", "/api/canned"): ("scoped", None), ("GET", "/api/tags"): ("scoped", None),
        ("GET", "/api/directory"): ("scoped", None),
        ("GET", chat): ("acme", None), ("GET", chat + "/messages"): ("acme", None),
        ("POST", chat + "/notes"): ("acme", {"text": "a note from Globex"}),
        ("POST", chat + "/pick"): ("acme", {}), ("POST", chat + "/reply"): ("acme", {"text": "from Globex"}),
        ("POST", chat + "/typing"): ("acme", {}),
        ("POST", chat + "/messages/{message_id}/retry"): ("acme", {}),
        ("POST", chat + "/attachments"): ("acme", {}),
        ("POST", chat + "/template"): ("acme", {"name": "order_update_acme", "language": "en"}),
        ("POST", chat + "/transfer"): ("acme", {"department_id": w["globex_department"]}),
        ("POST", chat + "/close"): ("acme", {}), ("POST", chat + "/tags"): ("acme", {"name": "stolen"}),
        ("DELETE", chat + "/tags/{tag_id}"): ("acme", None),
        ("POST", chat + "/leads/{lead_id}/push"): ("acme", {}), ("POST", chat + "/ticket"): ("acme", {}),
        ("GET", "/api/messages/{message_id}/media"): ("acme", None),
        # issue 11: take over / hand back, and the lists of tickets, leads and contacts
        ("POST", chat + "/take-over"): ("acme", {}), ("POST", chat + "/hand-back"): ("acme", {}),
        ("GET", "/api/lists/counts"): ("scoped", None), ("GET", "/api/tickets"): ("scoped", None),
        ("GET", "/api/leads"): ("scoped", None), ("GET", "/api/contacts"): ("scoped", None),
        ("GET", "/api/tickets/{ticket_id}"): ("acme", None),
        ("POST", "/api/tickets/{ticket_id}/take"): ("acme", {}),
        ("POST", "/api/tickets/{ticket_id}/reply"): ("acme", {"text": "from Globex"}),
        ("POST", "/api/tickets/{ticket_id}/close"): ("acme", {}),
        ("POST", "/api/tickets/{ticket_id}/reopen"): ("acme", {}),
        ("GET", "/api/leads/{lead_id}"): ("acme", None), ("POST", "/api/leads/{lead_id}/take"): ("acme", {}),
        ("POST", "/api/leads/{lead_id}/done"): ("acme", {}), ("POST", "/api/leads/{lead_id}/reopen"): ("acme", {}),
        ("GET", "/api/admin/numbers"): ("scoped", None),
        ("POST", "/api/admin/numbers"): ("acme-body", {"waba_id": ACME_WABA, "id": "100000000000099",
                                                  "display": "+1 555 0999", "department_id": w["department_id"]}),
        ("PUT", "/api/admin/numbers/{number_id}"): ("acme", {"department_id": w["globex_department"]}),
        ("POST", "/api/admin/numbers/{number_id}/reconnect"): ("acme", {}),
        ("GET", "/api/admin/wabas"): ("scoped", None),
        ("POST", "/api/admin/wabas"): ("own", {"id": ACME_WABA, "name": "Taken"}),
        ("GET", "/api/admin/team"): ("scoped", None),
        ("POST", "/api/admin/departments"): ("own", {"name": "Support"}),
        ("PUT", "/api/admin/departments/{department_id}"): ("acme", {"name": "Pwned"}),
        ("POST", "/api/admin/operators"): ("own", {"email": "new@globex.test", "name": "New", "role": "operator",
                                                   "password": "correct horse battery", "department_ids": []}),
        ("PUT", "/api/admin/operators/{operator_id}"): ("acme", {"name": "Pwned", "active": False}),
        ("PUT", "/api/admin/operators/{operator_id}/password"): ("acme", {"password": "pwned pwned pwned"}),
        ("GET", "/api/admin/settings"): ("scoped", None), ("PUT", "/api/admin/settings"): ("own", {}),
        ("GET", "/api/admin/canned"): ("scoped", None),
        ("POST", "/api/admin/canned"): ("own", {"shortcut": "refund-globex", "title": "Mine", "text": "Mine"}),
        ("PUT", "/api/admin/canned/{canned_id}"): ("acme", {"shortcut": "x", "title": "Pwned", "text": "Pwned"}),
        ("DELETE", "/api/admin/canned/{canned_id}"): ("acme", None),
        ("GET", "/api/admin/credits"): ("scoped", None), ("POST", "/api/admin/credits"): ("own", {"credits": 1}),
        ("PUT", "/api/admin/credits/warning"): ("own", {"usd": "5"}),
        ("GET", "/api/admin/credits/report"): ("scoped", None),
        ("GET", "/api/admin/templates"): ("scoped", None),
        ("POST", "/api/admin/templates"): ("acme-body", {"waba_id": ACME_WABA, "name": "x", "language": "en",
                                                    "category": "UTILITY", "body": "Hi"}),
        ("POST", "/api/admin/templates/sync"): ("acme-body", {"waba_id": ACME_WABA}),
        ("PUT", "/api/admin/templates/{template_id}/status"): ("acme", {"status": "REJECTED"}),
        ("GET", "/api/admin/tags"): ("scoped", None), ("POST", "/api/admin/tags"): ("own", {"name": "vip-globex"}),
        ("DELETE", "/api/admin/tags/{tag_id}"): ("acme", None),
        ("GET", "/api/reports"): ("scoped", None),  # issue 13
        ("GET", "/api/trainer/misses"): ("scoped", None),
        ("POST", "/api/trainer/misses/resolve"): ("own", {"ids": [w["miss_id"]], "action": "out_of_scope"}),
        ("GET", "/api/admin/csat"): ("scoped", None), ("PUT", "/api/admin/csat"): ("own", {"enabled": True}),
        # issue 12: a WABA's pricing model; issue 13: the bot's models (the model server is token-only)
        ("PUT", "/api/admin/wabas/{waba_id}/pricing"): ("acme", {"pricing_model": "pmp"}),
        ("GET", "/api/trainer/models"): ("scoped", None), ("POST", "/api/trainer/models"): ("own", {}),
        ("POST", "/api/trainer/models/{model_id}/publish"): ("acme", {}),
        ("GET", "/bot/model"): ("none", None),
        # issue 13: a department's business hours (the brand's); FAQ articles: the knowledge base
        # is one per deployment (desk/services/trainer.py), only a miss group is the brand's
        ("GET", "/api/admin/departments/{department_id}/hours"): ("acme", None),
        ("PUT", "/api/admin/departments/{department_id}/hours"): ("acme", {"always_open": True}),
        ("GET", "/api/trainer/articles"): ("scoped", None), ("GET", "/api/trainer/articles/new"): ("scoped", None),
        ("GET", "/api/trainer/articles/{article_id}"): ("none", None),
        ("PUT", "/api/trainer/articles/{article_id}"): ("none", None),
        ("POST", "/api/trainer/articles"): ("own", {"area": "returns", "article": {}, "miss_ids": [w["miss_id"]]}),
    }


def _app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue  # aiohttp's automatic twin of each GET
        found.add((route.method, route.resource.canonical))
    return found


async def _acme_state(desk) -> dict:
    async with desk.sessions() as s:
        async def count(q):
            return (await s.execute(q)).scalar_one()
        chat = (await s.execute(select(Chat).where(Chat.phone_number_id == SUPPORT_NUMBER))).scalars().one()
        alice = await s.get(Operator, desk.operators["alice"])
        return {
            "chat": (chat.state, chat.operator_id, chat.department_id, chat.closed_at),
            "messages": await count(select(func.count(Message.id)).where(Message.chat_id == chat.id)),
            # Acme's outbox (Globex's own admin going online may rightly tell Globex's customer)
            "outbox": await count(select(func.count(OutboxMessage.id)).where(
                OutboxMessage.phone_number_id.in_([SUPPORT_NUMBER, SALES_NUMBER]))),
            "tags": await count(select(func.count()).select_from(chat_tags).where(chat_tags.c.chat_id == chat.id)),
            "notes": sorted((await s.execute(select(ChatNote.body).where(ChatNote.chat_id == chat.id))).scalars()),
            "alice": (alice.name, alice.active, alice.password_hash),
            "departments": sorted((await s.execute(select(Department.name).where(
                Department.brand_id == desk.brand_id))).scalars()),
            "numbers": sorted((await s.execute(select(PhoneNumber.id, PhoneNumber.department_id)
                               .join(WhatsAppBusinessAccount).where(
                                   WhatsAppBusinessAccount.brand_id == desk.brand_id))).all()),
            "wabas": sorted((await s.execute(select(WhatsAppBusinessAccount.id, WhatsAppBusinessAccount.brand_id)
                             .where(WhatsAppBusinessAccount.id == ACME_WABA))).all()),
            "canned": sorted((await s.execute(select(CannedResponse.shortcut, CannedResponse.text).where(
                CannedResponse.brand_id == desk.brand_id))).all()),
            "templates": sorted((await s.execute(select(MessageTemplate.name, MessageTemplate.status).where(
                MessageTemplate.waba_id == ACME_WABA))).all()),
            "misses": sorted((await s.execute(select(BotMiss.question, BotMiss.state))).all()),
            "acme_tags": sorted((await s.execute(select(Tag.name).where(Tag.brand_id == desk.brand_id))).scalars()),
            "acme_models": sorted((await s.execute(select(BotModel.state).where(
                BotModel.brand_id == desk.brand_id))).scalars()),
            "pricing": (await s.get(WhatsAppBusinessAccount, ACME_WABA)).pricing_model,
        }


def _path(template: str, w: dict, list_name: str = "waiting") -> str:
    return template.format(list=list_name, **{k: w[k] for k in (
        "chat_id", "tag_id", "lead_id", "message_id", "number_id", "department_id", "operator_id",
        "canned_id", "template_id", "ticket_id", "waba_id", "model_id")})


async def test_an_admin_of_another_brand_reaches_nothing_of_acmes_on_any_route(
        make_console, desk, console_settings, monkeypatch):
    monkeypatch.setenv("CRM_ADAPTER", "webhook")  # so that a lead push would happen if allowed
    w = await _acme_world(desk, console_settings.media_dir)
    gina = await make_console()
    assert (await gina.login("gina@globex.test")).status == 200
    routes = _routes(w)
    unclassified = _app_routes(gina.client.server.app) - set(routes)
    assert not unclassified, f"classify these routes in {__name__} (and check their brand): {sorted(unclassified)}"
    before = await _acme_state(desk)

    refused, leaked = [], []
    for (method, template), (kind, payload) in sorted(routes.items()):
        if kind == "none" or template == "/api/logout":
            continue
        paths = ([_path(template, w, name) for name in ("waiting", "mine", "unattended", "closed", "bot")]
                 if "{list}" in template else [_path(template, w)])
        for path in paths:
            call = getattr(gina, method.lower())
            resp = await (call(path, json=payload) if method in ("POST", "PUT") else call(path))
            text = (await resp.read()).decode("utf-8", "replace")
            if (kind == "acme" and resp.status != 404) or (kind == "acme-body" and resp.status not in (404, 422)):
                refused.append(f"{method} {path} → {resp.status} {text[:120]}")
            if kind in ("scoped", "own") and resp.status >= 500:
                refused.append(f"{method} {path} → {resp.status}")
            asked = json.dumps(payload)  # an error may repeat what the caller typed: not a leak
            found = [m for m in ACME_MARKERS if m in text and m not in asked]
            if found:
                leaked.append(f"{method} {path} shows {found}")
    assert (refused, leaked) == ([], []), "\n".join(refused + leaked)
    assert await _acme_state(desk) == before

    # Globex's own chat with the same WhatsApp user shows none of Acme's leads or chats.
    own = await (await gina.get(f"/api/chats/{w['globex_chat']}")).json()
    assert own["leads"] == [] and own["previous"] == []
    push = await gina.post(f"/api/chats/{w['globex_chat']}/leads/{w['lead_id']}/push")
    assert push.status == 404


async def test_acmes_own_admin_reaches_the_same_data(make_console, desk, console_settings):
    """The control of the walk above: the markers and ids are real, so its 404s mean something."""
    w = await _acme_world(desk, console_settings.media_dir)
    ada = await make_console()
    assert (await ada.login("ada@acme.test")).status == 200
    for path in (f"/api/chats/{w['chat_id']}", f"/api/chats/{w['chat_id']}/messages",
                 f"/api/tickets/{w['ticket_id']}", f"/api/leads/{w['lead_id']}",
                 f"/api/messages/{w['message_id']}/media", "/api/admin/team", "/api/admin/canned"):
        assert (await ada.get(path)).status == 200, path
    detail = await (await ada.get(f"/api/chats/{w['chat_id']}")).json()
    assert [lead["email"] for lead in detail["leads"]] == ["kerry@acme-lead.example"]
    listed = [c["id"] for name in ("waiting", "mine", "unattended", "closed", "bot")
              for c in (await (await ada.get(f"/api/inbox/{name}")).json())["chats"]]
    assert w["chat_id"] in listed and w["globex_chat"] not in listed
    transcript = await (await ada.get(f"/api/chats/{w['chat_id']}/messages")).text()
    assert "Where is my parcel" in transcript and "acme-note: Kerry prefers email" in transcript
    assert "Alice Support" in await (await ada.get("/api/admin/team")).text()


async def test_the_services_refuse_another_brands_chat_without_the_web_layer(desk, console_settings):
    w = await _acme_world(desk, console_settings.media_dir)
    async with desk.sessions() as s, s.begin():
        gina = await s.get(Operator, w["gina"])
        with pytest.raises(RoutingError, match="no chat"):
            await routing.pick(s, w["chat_id"], gina)
        assert (await s.get(Chat, w["chat_id"])).operator_id is None
    async with desk.sessions() as s, s.begin():
        ada = await s.get(Operator, desk.operators["ada"])
        await routing.pick(s, w["chat_id"], ada)
    async with desk.sessions() as s, s.begin():
        gina = await s.get(Operator, w["gina"])
        with pytest.raises(CannotSend, match="no chat"):
            await outbox.send_operator_text(s, w["chat_id"], gina, "from Globex")
