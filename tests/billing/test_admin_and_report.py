"""`python -m desk admin credits|template|billing`, as a script runs it, and the monthly
report's figures (SQLite and PostgreSQL)."""
import csv
import io
import json
from decimal import Decimal

import pytest

from desk.billing import conversations as billing
from desk.billing import ledger, report
from tests.billing.helpers import DE_USER, NA_USER, PNID_A, PNID_C, WABA_1, at, brand, fill_tier, user_wrote
from tests.desk.test_admin_cli import cli, ok


async def _month_of_traffic(sessions):
    """November 2026: 999 free conversations already, then a DE reply (the 1,000th, free),
    a paid DE reply and a paid NA template; credits bought in October and November."""
    async with sessions() as s, s.begin():
        b = await brand(s)
        await ledger.buy_credits(s, b["brand_id"], 5, by="admin", at=at("2026-10-15T00:00:00Z"))
        await ledger.buy_credits(s, b["brand_id"], 2, by="admin", at=at("2026-11-02T00:00:00Z"))
        await fill_tier(s, b["brand_id"], 999, at("2026-11-01T00:00:00Z"))
        now = at("2026-11-20T10:00:00Z")
        await user_wrote(s, DE_USER, now)
        await user_wrote(s, "4915199999999", now)
        for wa_id, template in ((DE_USER, False), ("4915199999999", False), (NA_USER, True)):
            await billing.authorize_send(s, phone_number_id=PNID_A, wa_id=wa_id, is_template=template,
                                         sender="bot", now=now)
        await billing.authorize_send(s, phone_number_id=PNID_C, wa_id=NA_USER, is_template=True,  # WABA 2: free
                                     sender="template", now=now)
        return b["brand_id"]


async def test_the_monthly_report_counts_by_market_and_category_and_balances_the_credits(sessions):
    brand_id = await _month_of_traffic(sessions)
    async with sessions() as s:
        data = await report.monthly_report(s, brand_id, "2026-11")
        october = await report.monthly_report(s, brand_id, "2026-10")
    rows = {(r["market"], r["category"]): r for r in data["conversations"]["by_market"]}
    assert rows[("Germany", "user_initiated")] == {
        "market": "Germany", "category": "user_initiated", "conversations": 2, "free": 1, "paid": 1,
        "not_billable": 0, "cost_usd": "0.081900"}
    assert rows[("North America", "business_initiated")]["paid"] == 1
    assert rows[("North America", "business_initiated")]["free"] == 1       # WABA 2's own tier
    assert rows[("North America", "user_initiated")]["free"] == 999
    c = data["conversations"]
    assert (c["total"], c["free"], c["paid"]) == (1003, 1001, 2)
    assert Decimal(c["cost_usd"]) == Decimal("0.0819") + Decimal("0.0147")
    cr = data["credits"]
    assert (cr["bought"], cr["bought_usd"], cr["fees_usd"], cr["paid_usd"]) == (2, "4.000000", "0.120000", "4.120000")
    assert cr["opening_balance_usd"] == "10.000000"
    assert Decimal(cr["spent_usd"]) == Decimal("0.0966")
    assert Decimal(cr["closing_balance_usd"]) == Decimal("14.00") - Decimal("0.0966")
    assert october["conversations"]["total"] == 0 and october["credits"]["bought"] == 5
    table = list(csv.DictReader(io.StringIO(report.to_csv(data))))
    assert table[0].keys() == set(report.CSV_COLUMNS)
    total = next(r for r in table if r["section"] == "conversations_total")
    assert (total["conversations"], total["free"], total["paid"]) == ("1003", "1001", "2")
    assert next(r for r in table if r["section"] == "fees")["amount_usd"] == "0.120000"


async def test_the_admin_cli_buys_credits_manages_templates_and_reports(sessions, database_url):
    async with sessions() as s, s.begin():
        await brand(s, "Kumo")
    out = ok(database_url, "credits", "buy", "--brand", "Kumo", "--credits", "2", "--note", "PO-7")
    assert "2 credits bought for Kumo: USD 4.00 + 3% fee 0.12 = USD 4.12 to pay; balance USD 4.00" in out
    bal = json.loads(ok(database_url, "credits", "balance", "--brand", "Kumo", "--json"))
    assert (bal["balance_usd"], bal["available_credits"], bal["low_balance"]) == ("4.000000", "2.0000", True)
    assert "low balance" in bal["warning"] and bal["free_tier"][0]["free_left"] == 1000
    assert "WARNING: low balance" in ok(database_url, "credits", "balance", "--brand", "Kumo")
    ok(database_url, "credits", "set-warning", "--brand", "Kumo", "--usd", "1.50")
    assert json.loads(ok(database_url, "credits", "balance", "--brand", "Kumo", "--json"))["warning"] is None
    [entry] = json.loads(ok(database_url, "credits", "ledger", "--brand", "Kumo", "--json"))
    assert (entry["kind"], entry["credits"], entry["amount_usd"], entry["fee_usd"], entry["note"]) == (
        "purchase", 2, "4.000000", "0.120000", "PO-7")

    ok(database_url, "template", "add", "--waba", WABA_1, "--name", "lead_follow_up", "--language", "en_US",
       "--category", "marketing", "--body", "Hi {{1}}, about {{2}}?", "--button", "Yes", "--button", "No",
       "--no-submit")  # submitting to Meta: tests/billing/test_template_sync.py
    ok(database_url, "template", "set-status", "--waba", WABA_1, "--name", "lead_follow_up",
       "--language", "en_US", "approved")
    [tpl] = json.loads(ok(database_url, "template", "list", "--brand", "Kumo", "--json"))
    assert (tpl["name"], tpl["category"], tpl["status"], len(tpl["components"])) == (
        "lead_follow_up", "MARKETING", "APPROVED", 2)
    sent = ok(database_url, "template", "send", "--number", PNID_A, "--to", NA_USER, "--name", "lead_follow_up",
              "--language", "en_US", "--param", "Aiko", "--param", "tea")
    assert "queued" in sent

    csv_out = ok(database_url, "billing", "report", "--brand", "Kumo", "--month", at("2026-11-01T00:00:00Z")
                 .strftime("%Y-%m"), "--format", "csv")
    assert csv_out.splitlines()[0] == ",".join(report.CSV_COLUMNS)
    from desk.billing import policy
    from desk.models import utcnow
    this_month = policy.month_of(utcnow())
    data = json.loads(ok(database_url, "billing", "report", "--brand", "Kumo", "--month", this_month,
                         "--format", "json"))
    assert data["conversations"]["total"] == 1 and data["credits"]["bought"] == 2
    account = json.loads(ok(database_url, "billing", "account", "--brand", "Kumo", "--json"))
    assert [w["id"] for w in account["wabas"]] == [WABA_1, "200000000000002"]
    assert {n["state"] for n in account["numbers"]} == {"connected"} and len(account["numbers"]) == 3
    assert account["available_credits"] == "2.0000"


@pytest.mark.parametrize("args,error", [
    (["credits", "buy", "--brand", "Kumo", "--credits", "0"], "between 1 and"),
    (["credits", "buy", "--brand", "Nope", "--credits", "1"], "no brand 'Nope'"),
    (["billing", "report", "--brand", "Kumo", "--month", "2026-13"], "YYYY-MM"),
    (["template", "add", "--waba", WABA_1, "--name", "Bad Name", "--language", "en_US", "--category",
      "UTILITY", "--body", "x"], "lowercase letters"),
    (["template", "add", "--waba", WABA_1, "--name", "x", "--language", "en_US", "--category", "UTILITY"],
     "needs --body"),
    (["template", "send", "--number", PNID_A, "--to", NA_USER, "--name", "ghost", "--language", "en_US"],
     "not registered"),
    (["credits", "set-warning", "--brand", "Kumo", "--usd", "lots"], "not an amount"),
])
async def test_bad_admin_input_gets_a_one_line_reason(sessions, database_url, args, error):
    async with sessions() as s, s.begin():
        await brand(s, "Kumo")
    result = cli(database_url, *args)
    assert result.returncode in (1, 2) and error in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
