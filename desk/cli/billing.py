"""The admin command line's billing areas (`python -m desk admin credits|template|billing ...`).

Hooked into desk.cli.admin's parser by `configure()`; handlers take (session, args)
like the other admin commands and refuse bad input with a one-line reason (a
ValueError: AdminError or the billing services' own).
"""
from __future__ import annotations

import argparse
import getpass
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select

from desk.billing import accounts, conversations, ledger, policy, report, template_sync, templates
from desk.cli.common import AdminError, add_action, emit, find_brand, say, whole_number
from desk.models import PhoneNumber, WhatsAppBusinessAccount, utcnow

SYNOPSIS = """\
    credits buy --brand B --credits N [--note TEXT] | credits balance --brand B
    credits ledger --brand B [--month YYYY-MM] | credits set-warning --brand B --usd AMOUNT
    template add --waba W --name N --language en_US --category MARKETING|UTILITY|AUTHENTICATION
                 (--body TEXT [--header TEXT] [--footer TEXT] [--button TEXT ...] | --components-file F)
                 [--no-submit [--status S]]     (submits to Meta unless --no-submit)
    template sync --waba W [--page-size N] [--json]
    template list [--brand B | --waba W] [--status S]
    template set-status --waba W --name N --language L APPROVED|PENDING|REJECTED|PAUSED|DISABLED|... [--reason R]
    template send --number PHONE_NUMBER_ID --to WA_ID --name N --language L [--param P ...] [--header-param P]
    billing report --brand B --month YYYY-MM [--format csv|json]
    billing account --brand B"""


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


def _usd(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError):
        raise argparse.ArgumentTypeError(f"not an amount of USD: {value!r}") from None
    if not amount.is_finite():
        raise argparse.ArgumentTypeError(f"not an amount of USD: {value!r}")
    return amount


def _month(value: str) -> str:
    try:
        policy.month_bounds(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


# --- credits -------------------------------------------------------------------------

async def credits_buy(session, args):
    brand = await find_brand(session, args.brand)
    p = await ledger.buy_credits(session, brand.id, args.credits, by=_who(), note=args.note)
    say("credits_bought", credits=p.credits, brand=brand.name, value=p.value, fee_rate=f"{policy.PURCHASE_FEE_RATE:%}",
        fee=p.fee, total=p.total, balance=policy.usd(p.balance))


async def credits_balance(session, args):
    brand = await find_brand(session, args.brand)
    status = await ledger.status(session, brand.id)
    month = policy.month_of(utcnow())
    wabas = (await session.execute(select(WhatsAppBusinessAccount).where(
        WhatsAppBusinessAccount.brand_id == brand.id).order_by(WhatsAppBusinessAccount.id))).scalars().all()
    tier = [{"waba": w.id, "month": month, "used": (used := await conversations.tier_used(session, w.id, month)),
             "free_left": max(0, policy.FREE_TIER_PER_MONTH - used)} for w in wabas]
    row = {"brand": brand.name, "balance_usd": str(status.balance), "available_credits": str(status.credits),
           "low_balance_below_usd": str(status.low_balance_threshold), "low_balance": status.low_balance,
           "warning": status.warning, "free_tier": tier}
    if args.json:
        print(json.dumps(row, indent=2, ensure_ascii=False))
        return
    print(f"brand              {brand.name}")
    print(f"balance            USD {policy.usd(status.balance)} ({status.credits} credits)")
    print(f"warn below         USD {policy.usd(status.low_balance_threshold)}")
    for t in tier:
        print(f"free tier {t['month']}  WABA {t['waba']}: {t['used']} used, {t['free_left']} left")
    if status.warning:
        print(f"WARNING: {status.warning}")


async def credits_ledger(session, args):
    brand = await find_brand(session, args.brand)
    since = until = None
    if args.month:
        since, until = policy.month_bounds(args.month)
    rows = [{"id": e.id, "at": e.created_at, "kind": e.kind, "credits": e.credits,
             "amount_usd": str(policy.from_micros(e.amount_micros)), "fee_usd": str(policy.from_micros(e.fee_micros)),
             "conversation": e.conversation_id, "by": e.created_by, "note": e.note}
            for e in await ledger.entries(session, brand.id, since=since, until=until)]
    emit(args, rows, ["id", "at", "kind", "credits", "amount_usd", "fee_usd", "conversation", "by", "note"])


async def credits_set_warning(session, args):
    brand = await find_brand(session, args.brand)
    await ledger.set_low_balance_threshold(session, brand.id, args.usd)
    say("warning_set", brand=brand.name, usd=policy.usd(args.usd))


# --- templates -----------------------------------------------------------------------

def _template_row(t) -> dict:
    body = next((c.get("text") for c in t.components if str(c.get("type")).upper() == "BODY"), "")
    return {"waba": t.waba_id, "name": t.name, "language": t.language, "category": t.category,
            "status": t.status, "reason": t.status_reason, "body": body, "components": t.components}


async def template_add(session, args):
    if args.components_file:
        if args.body or args.header or args.footer or args.button:
            raise AdminError("give either --components-file or --body (with --header/--footer/--button)")
        try:
            components = json.loads(Path(args.components_file).read_text())
        except (OSError, ValueError) as exc:
            raise AdminError(f"cannot read components from {args.components_file}: {exc}") from None
    elif args.body:
        components = templates.components_from(args.body, args.header, args.footer, args.button or ())
    else:
        raise AdminError("a template needs --body (or --components-file)")
    if not args.no_submit:
        if args.status:
            raise AdminError("the status of a submitted template is Meta's to set: "
                                  "give --status only with --no-submit")
        async with template_sync.meta_from_env() as (graph, default_token):
            t = await template_sync.submit(session, graph, waba_id=args.waba, name=args.name,
                                           language=args.language, category=args.category,
                                           components=components, default_token=default_token)
        say("template_submitted", name=t.name, language=t.language, category=t.category, waba=t.waba_id,
            status=t.status, meta_id=t.meta_template_id)
        return
    t = await templates.register(session, waba_id=args.waba, name=args.name, language=args.language,
                                 category=args.category, components=components, status=args.status or "PENDING")
    say("template_recorded", name=t.name, language=t.language, category=t.category, waba=t.waba_id, status=t.status)


async def template_sync_cmd(session, args):
    async with template_sync.meta_from_env() as (graph, default_token):
        report = await template_sync.sync_waba(session, graph, args.waba, default_token,
                                               page_size=args.page_size)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        return
    print(f"template sync: {report.summary()}")
    for name in report.deleted:
        print(f"    {name}: not at Meta any more, marked DELETED")


async def template_list(session, args):
    brand_id = (await find_brand(session, args.brand)).id if args.brand else None
    rows = [_template_row(t) for t in await templates.list_templates(
        session, waba_id=args.waba, brand_id=brand_id, status=args.status)]
    if not args.json:
        for r in rows:
            r.pop("components")
    emit(args, rows, ["waba", "name", "language", "category", "status", "reason", "body"])


async def template_set_status(session, args):
    t = await templates.set_status(session, waba_id=args.waba, name=args.name, language=args.language,
                                   status=args.status, reason=args.reason)
    say("template_status", name=t.name, language=t.language, waba=t.waba_id, status=t.status)


async def template_send(session, args):
    if await session.get(PhoneNumber, args.number) is None:
        raise AdminError(f"no number {args.number!r} (see: number list)")
    msg = await templates.send_template(
        session, phone_number_id=args.number, wa_id=args.to, name=args.name, language=args.language,
        body_params=args.param or (), header_params=args.header_param or (), by=_who())
    say("template_queued", name=args.name, to=args.to, id=msg.id)


# --- billing -------------------------------------------------------------------------

async def billing_report(session, args):
    brand = await find_brand(session, args.brand)
    data = await report.monthly_report(session, brand.id, args.month)
    if args.format == "json":
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(report.to_csv(data), end="")


async def billing_account(session, args):
    brand = await find_brand(session, args.brand)
    data = await accounts.overview(session, brand.id)
    if args.json:
        print(json.dumps({"brand": brand.name, **data}, indent=2, ensure_ascii=False))
        return
    print(f"brand {brand.name}: available credits {data['available_credits']} "
          f"(USD {policy.usd(Decimal(data['balance_usd']))})")
    for w in data["wabas"]:
        print(f"WABA {w['id']}  {w['name']}")
        for n in (n for n in data["numbers"] if n["waba"] == w["id"]):
            print(f"    {n['display'] or n['id']}  {n['department'] or '-'}  {n['state']}"
                  + (f" ({n['reason']})" if n["reason"] else ""))
    if data["warning"]:
        print(f"WARNING: {data['warning']}")


# --- parser --------------------------------------------------------------------------

def configure(areas) -> None:
    """Add the billing areas to the admin parser (`areas`: its subparsers)."""
    credits = areas.add_parser("credits", help="prepaid WhatsApp credits of a brand").add_subparsers(
        dest="action", required=True)
    p = add_action(credits, "buy", credits_buy, f"record a purchase of credits "
                   f"(USD {policy.CREDIT_PRICE_USD} each + {policy.PURCHASE_FEE_RATE:%} fee)")
    p.add_argument("--brand", required=True)
    p.add_argument("--credits", type=whole_number, required=True)
    p.add_argument("--note")
    p = add_action(credits, "balance", credits_balance,
                   "balance, available credits, free tier left, low-balance warning", json_out=True)
    p.add_argument("--brand", required=True)
    p = add_action(credits, "ledger", credits_ledger, "the brand's credit ledger", json_out=True)
    p.add_argument("--brand", required=True)
    p.add_argument("--month", type=_month)
    p = add_action(credits, "set-warning", credits_set_warning, "warn admins below this balance (USD)")
    p.add_argument("--brand", required=True)
    p.add_argument("--usd", type=_usd, required=True)

    tpl = areas.add_parser("template", help="message templates of a WABA").add_subparsers(
        dest="action", required=True)
    p = add_action(tpl, "add", template_add, "register a template (as submitted to Meta)")
    p.add_argument("--waba", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--language", required=True)
    p.add_argument("--category", required=True, type=str.upper, choices=templates.CATEGORIES)
    p.add_argument("--body")
    p.add_argument("--header")
    p.add_argument("--footer")
    p.add_argument("--button", action="append", help="a quick-reply button (repeatable)")
    p.add_argument("--components-file", help="Meta's components as a JSON file")
    p.add_argument("--status", type=str.upper, choices=templates.STATUSES,
                   help="with --no-submit only (default PENDING)")
    p.add_argument("--no-submit", action="store_true",
                   help="record in the desk only, without submitting to Meta (e.g. a template Meta already has)")
    p = add_action(tpl, "sync", template_sync_cmd,
                   "bring the WABA's templates from Meta (statuses, reasons, new and deleted ones)", json_out=True)
    p.add_argument("--waba", required=True)
    p.add_argument("--page-size", type=whole_number, help="templates per page asked of Meta (Meta's default otherwise)")
    p = add_action(tpl, "list", template_list, "list templates", json_out=True)
    p.add_argument("--brand")
    p.add_argument("--waba")
    p.add_argument("--status", type=str.upper, choices=templates.STATUSES)
    p = add_action(tpl, "set-status", template_set_status,
                   "override a template's status by hand (the next sync or status webhook wins)")
    p.add_argument("--waba", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--language", required=True)
    p.add_argument("status", type=str.upper, choices=templates.STATUSES)
    p.add_argument("--reason")
    p = add_action(tpl, "send", template_send, "queue an approved template to a user (credit-checked)")
    p.add_argument("--number", required=True, help="the business number's phone_number_id")
    p.add_argument("--to", required=True, help="the user's WhatsApp id (digits with country code)")
    p.add_argument("--name", required=True)
    p.add_argument("--language", required=True)
    p.add_argument("--param", action="append", help="a body parameter, in order (repeatable)")
    p.add_argument("--header-param", action="append")

    billing = areas.add_parser("billing", help="conversation billing reports").add_subparsers(
        dest="action", required=True)
    p = add_action(billing, "report", billing_report,
                   "a brand's month: conversations by market and category, free vs paid, credits bought and spent")
    p.add_argument("--brand", required=True)
    p.add_argument("--month", required=True, type=_month, help="YYYY-MM (UTC)")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p = add_action(billing, "account", billing_account, "a brand's WABAs, numbers and available credits",
                   json_out=True)
    p.add_argument("--brand", required=True)
