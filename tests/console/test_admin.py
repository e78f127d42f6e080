"""The admin pages' API: what the admin CLI can change, an admin can change from the
console (SQLite and PostgreSQL); admins only, CSRF on every change, one brand only."""
from __future__ import annotations

from sqlalchemy import select

from desk.models import Brand, ConsoleSession, Department, NumberState, Operator, WhatsAppBusinessAccount
from desk.services import numbers as number_service
from tests.console.conftest import PASSWORD, SUPPORT_NUMBER, signed_in


async def test_wabas_and_numbers(make_console, desk):
    admin = await signed_in(make_console, "ada")
    resp = await admin.post("/api/admin/wabas", {"id": "200000000000009", "name": "Acme Japan"})
    assert resp.status == 201, await resp.text()
    assert (await admin.post("/api/admin/wabas", {"id": "200000000000009", "name": "again"})).status == 422
    bad = await admin.post("/api/admin/wabas", {"id": "abc", "name": "x"})
    assert bad.status == 422 and "numeric" in (await bad.json())["error"]
    wabas = await (await admin.get("/api/admin/wabas")).json()
    assert {(w["id"], w["name"], w["numbers"]) for w in wabas} == {
        ("200000000000001", "Acme WABA", 2), ("200000000000009", "Acme Japan", 0)}

    sales = desk.departments["Sales"]
    new = {"waba_id": "200000000000009", "id": "100000000000009", "display": "+81 3-1234-5678",
           "department_id": sales, "access_token": "own-secret-token"}
    for field, value, reason in (("display", "12345", "international form"), ("id", "x1", "numeric"),
                                 ("waba_id", "999", "no waba"), ("department_id", 999999, "no such department")):
        resp = await admin.post("/api/admin/numbers", {**new, field: value})
        assert resp.status == 422 and reason in (await resp.json())["error"].lower(), (field, await resp.text())
    resp = await admin.post("/api/admin/numbers", new)
    assert resp.status == 201, await resp.text()
    added = await resp.json()
    assert (added["display"], added["department"], added["state"], added["own_token"]) == (
        "+81 3-1234-5678", "Sales", "connected", True)
    assert "own-secret-token" not in await (await admin.get("/api/admin/numbers")).text()
    # Move it to Support.
    resp = await admin.put("/api/admin/numbers/100000000000009", {"department_id": desk.departments["Support"]})
    assert resp.status == 200 and (await resp.json())["department"] == "Support"


async def test_a_disconnected_number_is_shown_and_reconnected(make_console, desk):
    async with desk.sessions() as session, session.begin():
        await number_service.mark_disconnected(session, SUPPORT_NUMBER, "Graph API error 190: partner removed")
    admin = await signed_in(make_console, "ada")
    [n] = [n for n in await (await admin.get("/api/admin/numbers")).json() if n["id"] == SUPPORT_NUMBER]
    assert (n["state"], n["reason"]) == ("disconnected", "Graph API error 190: partner removed")
    resp = await admin.post(f"/api/admin/numbers/{SUPPORT_NUMBER}/reconnect", {"access_token": "fresh-token"})
    assert resp.status == 200
    body = await resp.json()
    assert (body["state"], body["was"], body["reason"], body["own_token"]) == ("connected", "disconnected", None, True)
    async with desk.sessions() as session:
        from desk.models import PhoneNumber
        number = await session.get(PhoneNumber, SUPPORT_NUMBER)
        assert (number.state, number.access_token) == (NumberState.connected, "fresh-token")


async def test_departments_and_operators(make_console, desk):
    admin = await signed_in(make_console, "ada")
    resp = await admin.post("/api/admin/departments", {"name": "  Billing  "})
    assert resp.status == 201
    billing = (await resp.json())["id"]
    assert (await admin.post("/api/admin/departments", {"name": "Billing"})).status == 422
    resp = await admin.put(f"/api/admin/departments/{billing}", {"name": "Billing & Refunds"})
    assert resp.status == 200 and (await resp.json())["name"] == "Billing & Refunds"

    new = {"email": "Dan@Acme.test", "name": "Dan Billing", "password": "short", "role": "operator",
           "department_ids": [billing], "max_chats": 3}
    weak = await admin.post("/api/admin/operators", new)
    assert weak.status == 422 and "at least 10 characters" in (await weak.json())["error"]
    resp = await admin.post("/api/admin/operators", {**new, "password": "a long enough passphrase"})
    assert resp.status == 201, await resp.text()
    dan = await resp.json()
    assert (dan["email"], dan["role"], dan["max_chats"], [d["name"] for d in dan["departments"]]) == (
        "dan@acme.test", "operator", 3, ["Billing & Refunds"])
    assert "a long enough passphrase" not in await resp.text() and "argon2" not in await resp.text()
    dup = await admin.post("/api/admin/operators", {**new, "password": "a long enough passphrase"})
    assert dup.status == 422 and "already exists" in (await dup.json())["error"]

    # Dan signs in and sees his department.
    console = await make_console()
    assert (await console.login("dan@acme.test", "a long enough passphrase")).status == 200
    assert (await console.put("/api/me/status", {"status": "online"})).status == 200

    resp = await admin.put(f"/api/admin/operators/{dan['id']}", {
        "name": "Dan B.", "department_ids": [billing, desk.departments["Support"]], "max_chats": 4})
    assert resp.status == 200
    dan = await resp.json()
    assert (dan["name"], dan["max_chats"], sorted(d["name"] for d in dan["departments"])) == (
        "Dan B.", 4, ["Billing & Refunds", "Support"])
    assert (await admin.put(f"/api/admin/operators/{dan['id']}/password",
                            {"password": "another long passphrase"})).status == 200

    # Deactivated: signed out at once, cannot sign in, offline.
    resp = await admin.put(f"/api/admin/operators/{dan['id']}", {"active": False})
    assert resp.status == 200 and (await resp.json())["active"] is False
    assert (await console.get("/api/me")).status == 401
    again = await make_console()
    assert (await again.login("dan@acme.test", "another long passphrase")).status == 401
    async with desk.sessions() as session:
        assert (await session.execute(select(ConsoleSession).where(
            ConsoleSession.operator_id == dan["id"]))).first() is None
        assert (await session.get(Operator, dan["id"])).status.value == "offline"
    resp = await admin.put(f"/api/admin/operators/{dan['id']}", {"active": True})
    assert resp.status == 200 and (await resp.json())["active"] is True
    assert (await again.login("dan@acme.test", "another long passphrase")).status == 200

    team = await (await admin.get("/api/admin/team")).json()
    assert {d["name"]: d["members"] for d in team["departments"]}["Billing & Refunds"] == ["Dan B."]


async def test_a_department_has_a_name_per_language_and_either_name_is_its_own(make_console, desk):
    admin = await signed_in(make_console, "ada")
    resp = await admin.post("/api/admin/departments", {"name": "Billing", "names": {"ja": " 請求 ", "en": ""}})
    assert resp.status == 201, await resp.text()
    billing = await resp.json()
    assert billing["names"] == {"ja": "請求"}  # an empty name: that language sees the name
    # A name in any language is the department's own in the brand, case ignored.
    for taken in ({"name": "請求"}, {"name": "billing"}, {"name": "Accounts", "names": {"ja": "Billing"}}):
        refused = await admin.post("/api/admin/departments", taken)
        assert refused.status == 422 and "already exists" in (await refused.json())["error"], taken
    bad = await admin.post("/api/admin/departments", {"name": "Returns", "names": {"xx": "返品"}})
    assert bad.status == 422 and "unknown language 'xx'" in (await bad.json())["error"]

    # Renaming keeps the names per language unless they are given.
    resp = await admin.put(f"/api/admin/departments/{billing['id']}", {"name": "Billing & Refunds"})
    assert (await resp.json())["names"] == {"ja": "請求"}
    resp = await admin.put(f"/api/admin/departments/{billing['id']}",
                           {"name": "Billing & Refunds", "names": {"ja": "請求・返金"}})
    assert (await resp.json())["names"] == {"ja": "請求・返金"}
    # Operators join it by either name's department id; the team page shows both names.
    team = await (await admin.get("/api/admin/team")).json()
    [row] = [d for d in team["departments"] if d["id"] == billing["id"]]
    assert (row["name"], row["names"]) == ("Billing & Refunds", {"ja": "請求・返金"})
    assert set(team["languages"]) <= {"en", "ja"} and team["languages"]


async def test_the_last_admin_stays_an_admin(make_console, desk):
    admin = await signed_in(make_console, "ada")
    ada = desk.operators["ada"]
    resp = await admin.put(f"/api/admin/operators/{ada}", {"active": False})
    assert resp.status == 409 and "own account" in (await resp.json())["error"]
    resp = await admin.put(f"/api/admin/operators/{ada}", {"role": "operator"})
    assert resp.status == 422 and "last active admin" in (await resp.json())["error"]
    # With a second admin, the first may step down.
    alice = desk.operators["alice"]
    assert (await admin.put(f"/api/admin/operators/{alice}", {"role": "admin"})).status == 200
    resp = await admin.put(f"/api/admin/operators/{ada}", {"role": "operator"})
    assert resp.status == 200
    assert (await admin.get("/api/admin/team")).status == 403  # no longer an admin, at once


async def test_bot_idle_rules_and_timeouts(make_console, desk):
    admin = await signed_in(make_console, "ada")
    rules = [{"after_minutes": 5, "action": "nudge", "text": "Still there?"},
             {"after_minutes": 10, "action": "close", "text": "Closing for now."}]
    resp = await admin.put("/api/admin/settings", {"unattended_close_minutes": 44640, "idle_close_minutes": 1440,
                                                   "bot_enabled": False, "bot_idle_rules": rules})
    assert resp.status == 200, await resp.text()
    saved = await (await admin.get("/api/admin/settings")).json()
    assert (saved["unattended_close_minutes"], saved["idle_close_minutes"], saved["bot_enabled"]) == (44640, 1440, False)
    # A plain text is the brand's default language's (English here).
    assert saved["bot_idle_rules"] == [{**r, "text": {"en": r["text"]}} for r in rules]
    for bad, reason in (({"unattended_close_minutes": 44641}, "15 minutes to 1 month"),
                        ({"idle_close_minutes": 1441}, "at most 24 hours"),
                        ({"bot_idle_rules": [{"after_minutes": 5, "action": "close", "text": ""}, rules[0]]},
                         "only the last")):
        resp = await admin.put("/api/admin/settings", bad)
        assert resp.status == 422 and reason in (await resp.json())["error"]


async def test_canned_responses_can_be_edited(make_console, desk):
    admin = await signed_in(make_console, "ada")
    first = await (await admin.post("/api/admin/canned", {"shortcut": "hi", "title": "Hi", "text": "Hello!"})).json()
    await admin.post("/api/admin/canned", {"shortcut": "bye", "title": "Bye", "text": "Goodbye!"})
    resp = await admin.put(f"/api/admin/canned/{first['id']}", {"shortcut": "/hello", "title": "Greeting",
                                                                  "text": "Hello, how can I help?"})
    assert resp.status == 200 and (await resp.json())["shortcut"] == "hello"
    taken = await admin.put(f"/api/admin/canned/{first['id']}", {"shortcut": "bye", "title": "x", "text": "y"})
    assert taken.status == 422 and "already used" in (await taken.json())["error"]
    alice = await signed_in(make_console, "alice")
    assert [c["shortcut"] for c in await (await alice.get("/api/canned")).json()] == ["bye", "hello"]


async def test_admin_changes_need_an_admin_the_csrf_token_and_the_same_brand(make_console, desk):
    async with desk.sessions() as session, session.begin():
        other = Brand(name="Other brand")
        session.add(other)
        await session.flush()
        session.add_all([WhatsAppBusinessAccount(id="299", brand_id=other.id, name="Other WABA"),
                         Department(brand_id=other.id, name="Elsewhere")])
        await session.flush()
        elsewhere = (await session.execute(select(Department.id).where(Department.name == "Elsewhere"))).scalar()
    changes = [("post", "/api/admin/wabas", {"id": "1", "name": "x"}),
               ("post", "/api/admin/numbers", {}), ("put", f"/api/admin/numbers/{SUPPORT_NUMBER}", {}),
               ("post", f"/api/admin/numbers/{SUPPORT_NUMBER}/reconnect", {}),
               ("post", "/api/admin/departments", {"name": "x"}),
               ("post", "/api/admin/operators", {}), ("put", f"/api/admin/operators/{desk.operators['bob']}", {}),
               ("put", f"/api/admin/operators/{desk.operators['bob']}/password", {"password": PASSWORD}),
               ("put", "/api/admin/settings", {}), ("put", "/api/admin/canned/1", {})]
    alice = await signed_in(make_console, "alice")
    for method, path, data in changes:
        assert (await getattr(alice, method)(path, data)).status == 403, path
    admin = await signed_in(make_console, "ada")
    for method, path, data in changes:
        resp = await getattr(admin.client, method)(path, json=data)  # no CSRF token
        assert resp.status == 403 and "CSRF" in (await resp.json())["error"], path
    # Another brand's WABA and department are out of reach.
    resp = await admin.post("/api/admin/numbers", {"waba_id": "299", "id": "123", "display": "+15550001234",
                                                   "department_id": desk.departments["Support"]})
    assert resp.status == 422 and "no waba" in (await resp.json())["error"].lower()
    resp = await admin.put(f"/api/admin/numbers/{SUPPORT_NUMBER}", {"department_id": elsewhere})
    assert resp.status == 422
    resp = await admin.put(f"/api/admin/departments/{elsewhere}", {"name": "mine now"})
    assert resp.status == 404
    resp = await admin.post("/api/admin/operators", {"email": "e@x.test", "name": "E", "password": PASSWORD,
                                                     "department_ids": [elsewhere]})
    assert resp.status == 422


async def test_the_numbers_page_shows_metas_quality_and_warns_of_a_flagged_number(make_console, desk):
    from desk.models import PhoneNumber
    from tests.console.conftest import SUPPORT_NUMBER
    async with desk.sessions() as s, s.begin():
        number = await s.get(PhoneNumber, SUPPORT_NUMBER)
        number.quality_event, number.messaging_limit = "FLAGGED", "1K"
    ada = await signed_in(make_console, "ada")
    rows = {n["id"]: n for n in await (await ada.get("/api/admin/numbers")).json()}
    assert (rows[SUPPORT_NUMBER]["quality"], rows[SUPPORT_NUMBER]["messaging_limit"]) == ("FLAGGED", "1K")
    assert "quality as flagged" in rows[SUPPORT_NUMBER]["warning"]
    assert [n["warning"] for i, n in rows.items() if i != SUPPORT_NUMBER] == [None]
