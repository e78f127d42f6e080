"""The bilingual console's API (issue 14), on SQLite and PostgreSQL.

- the operator's console language: saved (PUT /api/me/locale), refused when unknown;
- refusals in the operator's language, else in the one the request asks for;
- the brand's languages, default language and time zone (admins; checked);
- canned responses have a language; /hours once per language;
- the chat's language first: canned order, templates in the composer; a template sent by
  name goes in the language the customer last wrote in (Meta's "ja", "en_US"...).
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from desk.cli.common import cli_locale
from desk.models import Chat, DeskSettingsRow, MessageTemplate, Operator, OutboxMessage
from desk.services import variants
from tests.console.conftest import signed_in


async def test_the_console_language_is_kept_on_the_account(make_console, desk):
    alice = await signed_in(make_console, "alice")
    me = await (await alice.get("/api/me")).json()
    assert (me["locale"], me["locales"], me["time_zone"]) == (None, ["en", "ja"], "UTC")
    resp = await alice.put("/api/me/locale", {"locale": "ja"})
    assert resp.status == 200 and (await resp.json())["locale"] == "ja"
    async with desk.sessions() as s:
        assert (await s.get(Operator, desk.operators["alice"])).locale == "ja"
    bad = await alice.put("/api/me/locale", {"locale": "fr"})
    assert bad.status == 422
    assert (await bad.json())["error"] == "コンソールの言語は en, ja のいずれかです"   # said in her language
    assert (await alice.put("/api/me/locale", {"locale": None})).status == 200          # the browser's again
    assert (await (await alice.get("/api/me")).json())["locale"] is None


async def test_refusals_come_in_the_operators_language(make_console, desk):
    chat_id = await desk.seed_chat("447700900123")
    alice = await signed_in(make_console, "alice")
    async with desk.sessions() as s, s.begin():
        (await s.get(Operator, desk.operators["alice"])).locale = "ja"
    resp = await alice.post(f"/api/chats/{chat_id}/reply", {"text": "hello"})
    assert resp.status == 409
    assert (await resp.json())["error"] == "先にチャットを担当してください。返信できるのは担当オペレーターだけです"
    detail = await (await alice.get(f"/api/chats/{chat_id}")).json()
    assert detail["composer"]["reason"] in ("返信するには、このチャットに対応してください。",
                                            "このチャットは終了しました。終了したチャットには返信できません。")
    async with desk.sessions() as s, s.begin():
        (await s.get(Operator, desk.operators["alice"])).locale = "en"                  # her choice beats the header
    resp = await alice.post(f"/api/chats/{chat_id}/reply", {"text": "hello"},
                            headers=alice.headers(**{"Accept-Language": "ja-JP,ja;q=0.9"}))
    assert (await resp.json())["error"] == "take the chat first: only its operator can answer"


async def test_signed_out_refusals_follow_accept_language(make_console):
    console = await make_console()
    resp = await console.client.get("/api/me", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"})
    assert resp.status == 401 and (await resp.json())["error"] == "セッションが終了しました。もう一度ログインしてください。"
    resp = await console.client.get("/api/me", headers={"Accept-Language": "en-GB"})
    assert (await resp.json())["error"] == "Your session has ended: sign in again."


async def test_the_catalogs_script_is_served_without_the_servers_keys(make_console):
    console = await make_console()
    resp = await console.client.get("/i18n/catalogs.js")
    assert resp.status == 200 and resp.content_type == "application/javascript"
    text = await resp.text()
    assert text.startswith("window.TSUNAGI_CATALOGS = ") and '"待機中"' in text
    assert '"svc.' not in text and '"cli.' not in text


async def test_an_admin_sets_the_brands_languages_and_time_zone(make_console, desk):
    ada = await signed_in(make_console, "ada")
    cfg = await (await ada.get("/api/admin/languages")).json()
    assert cfg == {"languages": ["en", "ja"], "default_language": "en", "time_zone": "UTC", "all": ["en", "ja"]}
    resp = await ada.put("/api/admin/languages", {"languages": ["ja", "en"], "default_language": "ja",
                                                  "time_zone": "Asia/Tokyo"})
    assert resp.status == 200, await resp.text()
    async with desk.sessions() as s:
        row = await s.get(DeskSettingsRow, desk.brand_id)
        assert (row.languages, row.default_language, row.time_zone) == (["ja", "en"], "ja", "Asia/Tokyo")  # in the order the admin gave
    assert (await (await ada.get("/api/me")).json())["time_zone"] == "Asia/Tokyo"
    for bad, words in (({"time_zone": "Mars/Olympus"}, "is not a time zone"), ({"languages": []}, "non-empty list of en, ja"),
                       ({"languages": ["en"], "default_language": "ja"}, "default language"),
                       ({"languages": ["fr"]}, "'fr' is not a language of the desk")):
        resp = await ada.put("/api/admin/languages", bad)
        assert resp.status == 422 and words in (await resp.json())["error"], bad
    alice = await signed_in(make_console, "alice")
    assert (await alice.put("/api/admin/languages", {"languages": ["en"]})).status == 403


async def test_a_shortcut_once_per_language(make_console, desk):
    ada = await signed_in(make_console, "ada")
    assert (await ada.post("/api/admin/canned", {"shortcut": "hours", "title": "Hours", "text": "9 to 6"})).status == 201
    resp = await ada.post("/api/admin/canned", {"shortcut": "hours", "title": "営業時間", "text": "9時〜18時です",
                                                "language": "ja"})
    assert resp.status == 201 and (await resp.json())["language"] == "ja"
    again = await ada.post("/api/admin/canned", {"shortcut": "hours", "title": "x", "text": "y", "language": "ja"})
    assert again.status == 422
    assert (await again.json())["error"] == "the shortcut /hours is already used in Japanese"
    bad = await ada.post("/api/admin/canned", {"shortcut": "bye", "title": "x", "text": "y", "language": "fr"})
    assert bad.status == 422 and "the language is one of en, ja" in (await bad.json())["error"]
    listed = await (await ada.get("/api/canned")).json()
    assert [(c["shortcut"], c["language"]) for c in listed] == [("hours", "en"), ("hours", "ja")]
    ja_id = next(c["id"] for c in listed if c["language"] == "ja")
    clash = await ada.put(f"/api/admin/canned/{ja_id}", {"shortcut": "hours", "title": "x", "text": "y",
                                                         "language": "en"})
    assert clash.status == 422 and (await clash.json())["error"] == "the shortcut /hours is already used"


async def seed_templates(desk):
    async with desk.sessions() as s, s.begin():
        for language, text in (("en_US", "Hi {{1}}, your order shipped."), ("ja", "{{1}}様、ご注文の商品を発送しました。"),
                               ("en_GB", "Hi {{1}}, your order has been dispatched.")):
            s.add(MessageTemplate(waba_id="200000000000001", name="order_shipped", language=language,
                                  category="UTILITY", status="APPROVED", components=[{"type": "BODY", "text": text}]))


@pytest.mark.parametrize("customer_language, sent_in", [("ja", "ja"), ("en", "en_US"), (None, "en_US")])
async def test_a_template_sent_by_name_goes_in_the_customers_language(make_console, desk, customer_language, sent_in):
    await seed_templates(desk)
    chat_id = await desk.seed_chat("819012345678", name="佐藤 陽翔")
    async with desk.sessions() as s, s.begin():
        (await s.get(Chat, chat_id)).language = customer_language
    alice = await signed_in(make_console, "alice")
    assert (await alice.post(f"/api/chats/{chat_id}/pick")).status == 200
    detail = await (await alice.get(f"/api/chats/{chat_id}")).json()
    first = detail["languages_first"]
    assert first == ([customer_language] if customer_language not in (None, "en") else []) + ["en"]
    offered = [t["language"] for t in detail["composer"]["templates"]]
    assert offered[0] == sent_in                                # the customer's language first
    resp = await alice.post(f"/api/chats/{chat_id}/template", {"name": "order_shipped", "body_params": ["Haruto"]})
    assert resp.status == 201, await resp.text()
    async with desk.sessions() as s:
        row = (await s.execute(select(OutboxMessage))).scalars().all()[-1]
        assert row.request["template"]["language"]["code"] == sent_in


def test_variants_rank_the_customers_language_then_the_default_then_meta_codes():
    first = variants.preference("ja", "en")
    assert first == ("ja", "en")
    assert variants.ordered(["en_GB", "ja", "en", "en_US", "fr"], first, language_of=lambda x: x) == [
        "ja", "en", "en_US", "en_GB", "fr"]
    assert variants.preference(None, "ja") == ("ja",) and variants.preference("en", "en") == ("en",)
    assert variants.choose_template(["fr"], "x", first, language_of=lambda x: x, name_of=lambda x: "x") == "fr"
    assert variants.choose_template([], "x", first) is None


@pytest.mark.parametrize("environ, locale", [
    ({"DESK_LOCALE": "ja"}, "ja"), ({"LANG": "ja_JP.UTF-8"}, "ja"), ({"LC_ALL": "C.UTF-8", "LANG": "ja_JP.UTF-8"}, "en"),
    ({"DESK_LOCALE": "en", "LANG": "ja_JP.UTF-8"}, "en"), ({}, "en"), ({"LANG": "fr_FR.UTF-8"}, "en"),
])
def test_the_command_line_speaks_the_users_language(environ, locale):
    assert cli_locale(environ) == locale


async def test_the_command_line_in_japanese(desk, database_url):
    from tests.console.test_canned_and_tags_parity import _cli

    import asyncio
    import os

    def run(*args, **env):
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            return _cli(database_url, *args)
        finally:
            for k, v in old.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)

    ok = await asyncio.to_thread(run, "canned", "add", "--brand", "Acme", "--shortcut", "hours", "--title", "営業時間",
                                 "--text", "9時〜18時です", "--language", "ja", DESK_LOCALE="ja")
    assert ok.returncode == 0 and ok.stdout.strip() == "定型文 /hours を Acme に作成しました", ok.stderr
    again = await asyncio.to_thread(run, "canned", "add", "--brand", "Acme", "--shortcut", "hours", "--title", "x",
                                    "--text", "y", "--language", "ja", DESK_LOCALE="ja")
    assert again.returncode == 1
    assert again.stderr.strip() == "desk admin: error: ショートカット /hours は日本語ですでに使われています"
    english = await asyncio.to_thread(run, "canned", "add", "--brand", "Acme", "--shortcut", "hours", "--title", "x",
                                      "--text", "y", "--language", "ja", DESK_LOCALE="en")
    assert english.stderr.strip() == "desk admin: error: the shortcut /hours is already used in Japanese"


async def test_a_nameless_customer_is_o_kyaku_sama_in_japanese(make_console, desk):
    chat_id = await desk.seed_chat("819011112222", name=None)
    alice = await signed_in(make_console, "alice")
    detail = await (await alice.get(f"/api/chats/{chat_id}")).json()
    by_language = detail["canned_values_by_language"]
    assert (by_language["en"]["name"], by_language["ja"]["name"]) == ("there", "お客")   # "{name}様": お客様
    assert detail["canned_values"]["name"] == "there"
