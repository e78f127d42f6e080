"""Admin command line: `python -m desk admin AREA ACTION ...`, for people and scripts.

    brand create NAME | brand list
    waba add --brand B --id WABA_ID --name NAME | waba list [--brand B]
    number add --waba W --id PHONE_NUMBER_ID --display +15550001111 --department D
               [--token-env VAR | --token-stdin]
    number list [--brand B] | number reconnect ID [--token-env VAR | --token-stdin]
    department add --brand B NAME [--name-in ja=サポート] | department list [--brand B]
    operator add --brand B --email E --name N [--role operator|admin] [--departments D1,D2]
                 [--max-chats 5] [--password-stdin]
    operator list [--brand B] | operator set-status EMAIL online|away|offline
    operator passwd EMAIL [--password-stdin] | operator set-departments EMAIL D1,D2
    operator deactivate EMAIL
    settings show --brand B | settings set --brand B [--unattended-close-minutes N]
                 [--idle-close-minutes N] [--bot-enabled yes|no]
    canned add --brand B --shortcut S --title T --text TEXT [--language en|ja] | canned list [--brand B]
    tag add --brand B NAME | tag list [--brand B]
    credits buy --brand B --credits N [--note TEXT] | credits balance --brand B
    credits ledger --brand B [--month YYYY-MM] | credits set-warning --brand B --usd AMOUNT
    template add --waba W --name N --language en_US --category MARKETING|UTILITY|AUTHENTICATION
                 (--body TEXT [--header TEXT] [--footer TEXT] [--button TEXT ...] | --components-file F)
                 [--status PENDING|APPROVED|REJECTED]
    template list [--brand B | --waba W] [--status S]
    template set-status --waba W --name N --language L APPROVED|PENDING|REJECTED|PAUSED|DISABLED [--reason R]
    template send --number PHONE_NUMBER_ID --to WA_ID --name N --language L [--param P ...] [--header-param P]
    billing report --brand B --month YYYY-MM [--format csv|json]
    billing account --brand B

List and show commands take `--json`. Exit status 0 on success; otherwise 1 (or 2
for a usage error) with a one-line reason on stderr.

Secrets never come from the command line (it lands in shell history and in `ps`):
a number's access token is read from an environment variable (`--token-env VAR`) or
from standard input (`--token-stdin`); an operator's password from standard input
(`--password-stdin`) or an interactive prompt. Listings never show tokens.

The database is DESK_DATABASE_URL; run `python -m desk migrate` first.
"""
from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import Sequence

from sqlalchemy import inspect, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from desk import i18n
from desk.cli import billing
from desk.cli.common import (AdminError, Parser, add_action, cli_locale, emit, emit_one, find_brand, find_brand_id,
                             said, say, whole_number)
from desk.config import DeskSettings
from desk.db import create_engine, session_factory
from desk.models import (Brand, CannedResponse, Department, NumberState, Operator, OperatorStatus,
                         PhoneNumber, Role, Tag, WhatsAppBusinessAccount)
from desk.services import canned as canned_service
from desk.services import departments, numbers
from desk.services import operators as operator_service
from desk.services import settings as settings_service
from desk.services import tags as tag_service
# The source document: unattended chats close after "15 minutes to 1 month"; a month is
# taken as 31 days so that every calendar month fits. Idle chats: at most 24 hours.
from desk.services.settings import (IDLE_MAX_MINUTES, IDLE_MIN_MINUTES, UNATTENDED_MAX_MINUTES,
                                    UNATTENDED_MIN_MINUTES, SettingsError)

PROG = "python -m desk admin"


def validate_timeouts(unattended_close_minutes: int | None = None,
                      idle_close_minutes: int | None = None) -> None:
    """The service's bounds (desk.services.settings), as a refused command."""
    try:
        settings_service.validate_timeouts(unattended_close_minutes, idle_close_minutes)
    except SettingsError as exc:
        raise AdminError(str(exc)) from None


# --- secrets -------------------------------------------------------------------------

def _stdin_line(what: str) -> str:
    line = sys.stdin.readline()
    value = line.rstrip("\r\n")
    if not value:
        raise AdminError(f"no {what} on standard input")
    return value


def read_token(args) -> str | None:
    """The access token from --token-env VAR or --token-stdin; None: the default token."""
    if getattr(args, "token_env", None):
        value = os.environ.get(args.token_env, "").strip()
        if not value:
            raise AdminError(f"environment variable {args.token_env} is not set or empty")
        return value
    if getattr(args, "token_stdin", False):
        return _stdin_line("token").strip()
    return None


def read_password(args) -> str:
    if args.password_stdin:
        return _stdin_line("password")
    if not sys.stdin.isatty():
        raise AdminError("no password: pass --password-stdin and write it to standard input, "
                         "or run the command in a terminal")
    first = getpass.getpass("Password (10 characters or more): ")
    if first != getpass.getpass("Repeat the password: "):
        raise AdminError("the passwords differ")
    return first


# --- lookups -------------------------------------------------------------------------

async def _department(session: AsyncSession, brand_id: int, name: str) -> Department:
    dept = await departments.find(session, brand_id, name)  # its name in any language
    if dept is None:
        raise AdminError(f"no department {name!r} in this brand (see: department list)")
    return dept


async def _operator(session: AsyncSession, email: str) -> Operator:
    op = await operator_service.find_by_email(session, email)
    if op is None:
        raise AdminError(f"no operator with email {email!r}")
    return op


def _names(csv: str | None) -> list[str]:
    return [n.strip() for n in (csv or "").split(",") if n.strip()]


def _name(value: str, what: str, max_len: int) -> str:
    value = " ".join((value or "").split())
    if not value or len(value) > max_len:
        raise AdminError(f"the {what} must have 1 to {max_len} characters")
    return value


# --- brands, WABAs, numbers, departments ----------------------------------------------

async def brand_create(session, args):
    name = _name(args.name, "brand name", 200)
    if (await session.execute(select(Brand.id).where(Brand.name == name))).first():
        raise AdminError(f"brand {name!r} already exists")
    brand = Brand(name=name)
    session.add(brand)
    await session.flush()
    say("brand_created", id=brand.id, name=brand.name)


async def brand_list(session, args):
    brands = (await session.execute(select(Brand).order_by(Brand.id))).scalars().all()
    emit(args, [{"id": b.id, "name": b.name, "created_at": b.created_at} for b in brands],
         ["id", "name", "created_at"])


async def waba_add(session, args):
    brand = await find_brand(session, args.brand)
    waba = await numbers.add_waba(session, brand.id, args.id, args.name)
    await session.flush()
    say("waba_added", id=waba.id, name=waba.name, brand=brand.name)


async def waba_list(session, args):
    query = (select(WhatsAppBusinessAccount, Brand.name).join(Brand, Brand.id == WhatsAppBusinessAccount.brand_id)
             .order_by(Brand.name, WhatsAppBusinessAccount.id))
    if args.brand:
        query = query.where(WhatsAppBusinessAccount.brand_id == await find_brand_id(session, args.brand))
    rows = (await session.execute(query)).all()
    emit(args, [{"id": w.id, "name": w.name, "brand": b} for w, b in rows], ["id", "name", "brand"])


async def number_add(session, args):
    waba = await session.get(WhatsAppBusinessAccount, args.waba)
    if waba is None:
        raise AdminError(f"no WABA {args.waba!r} (see: waba list)")
    numbers.e164(args.display)  # the number's own errors before the department's
    dept = await _department(session, waba.brand_id, args.department)
    number = await numbers.add_number(session, waba_id=waba.id, phone_number_id=args.id, display=args.display,
                                      department_id=dept.id, access_token=args.token)
    await session.flush()
    say("number_added_own_token" if args.token else "number_added", id=number.id,
        display=number.display_phone_number, waba=waba.id, department=dept.name)


async def number_list(session, args):
    query = (select(PhoneNumber, WhatsAppBusinessAccount, Brand.name, Department.name)
             .join(WhatsAppBusinessAccount, WhatsAppBusinessAccount.id == PhoneNumber.waba_id)
             .join(Brand, Brand.id == WhatsAppBusinessAccount.brand_id)
             .outerjoin(Department, Department.id == PhoneNumber.department_id)
             .order_by(Brand.name, PhoneNumber.display_phone_number))
    if args.brand:
        query = query.where(WhatsAppBusinessAccount.brand_id == await find_brand_id(session, args.brand))
    rows = (await session.execute(query)).all()
    emit(args, [{"id": n.id, "display": n.display_phone_number, "waba": w.id, "brand": b,
                 "department": d, "state": n.state, "reason": n.state_reason,
                 "state_changed_at": n.state_changed_at,
                 "token": "own" if n.access_token else "default"} for n, w, b, d in rows],
         ["id", "display", "brand", "department", "state", "reason", "token"])


async def number_reconnect(session, args):
    number, was = await numbers.reconnect(session, args.id, args.token)
    say("number_connected" + ("_already" if was == NumberState.connected else "") + ("_token" if args.token else ""),
        id=number.id, display=number.display_phone_number)


async def department_add(session, args):
    brand = await find_brand(session, args.brand)
    try:
        names = dict(item.split("=", 1) if "=" in item else (item, "") for item in args.name_in or [])
        dept = await departments.add(session, brand.id, args.name, names or None)
    except departments.DepartmentError as exc:
        raise AdminError(f"{exc} in brand {brand.name}") from None
    await session.flush()
    say("department_created", id=dept.id, name=dept.name, brand=brand.name)


async def department_list(session, args):
    query = (select(Department, Brand.name).join(Brand, Brand.id == Department.brand_id)
             .order_by(Brand.name, Department.name))
    if args.brand:
        query = query.where(Department.brand_id == await find_brand_id(session, args.brand))
    rows = (await session.execute(query)).all()
    emit(args, [{"id": d.id, "name": d.name, "names": ", ".join(f"{k}={v}" for k, v in sorted((d.names or {}).items())),
                 "brand": b} for d, b in rows], ["id", "name", "names", "brand"])


# --- operators -----------------------------------------------------------------------

def _operator_row(op: Operator, brand: str) -> dict:
    return {"id": op.id, "email": op.email, "name": op.name, "brand": brand, "role": op.role,
            "status": op.status, "active": op.active, "max_chats": op.max_concurrent_chats,
            "departments": sorted(d.name for d in op.departments)}


async def operator_add(session, args):
    brand = await find_brand(session, args.brand)
    op = await operator_service.create_operator(
        session, brand_id=brand.id, email=args.email, name=args.name, password=args.password,
        role=args.role, departments=_names(args.departments), max_concurrent_chats=args.max_chats)
    if op.departments:
        say("operator_created_departments", id=op.id, email=op.email, role=op.role.value, brand=brand.name,
            departments=", ".join(d.name for d in op.departments))
    else:
        say("operator_created", id=op.id, email=op.email, role=op.role.value, brand=brand.name)


async def operator_list(session, args):
    brand_id = await find_brand_id(session, args.brand)
    brands = dict((await session.execute(select(Brand.id, Brand.name))).all())
    ops = await operator_service.list_operators(session, brand_id)
    rows = [_operator_row(op, brands.get(op.brand_id)) for op in ops]
    if not args.json:
        for row in rows:
            row["departments"] = ",".join(row["departments"])
    emit(args, rows, ["id", "email", "name", "brand", "role", "status", "active", "max_chats", "departments"])


async def operator_set_status(session, args):
    op = await _operator(session, args.email)
    await operator_service.set_status(session, op.id, args.status)
    say("operator_status", email=op.email, status=args.status)


async def operator_passwd(session, args):
    op = await _operator(session, args.email)
    await operator_service.set_password(session, op.id, args.password)
    say("password_changed", email=op.email)


async def operator_set_departments(session, args):
    op = await _operator(session, args.email)
    op = await operator_service.set_departments(session, op.id, _names(args.departments))
    say("operator_departments", email=op.email,
        departments=", ".join(d.name for d in op.departments) or i18n.t(cli_locale(), "cli.none"))


async def operator_deactivate(session, args):
    op = await _operator(session, args.email)
    await operator_service.deactivate(session, op.id)
    say("operator_deactivated", email=op.email)


# --- settings, canned responses (desk.services.canned), tags (desk.services.tags) ------

async def settings_show(session, args):
    brand = await find_brand(session, args.brand)
    s = await settings_service.get(session, brand.id)
    emit_one(args, {"brand": brand.name, "unattended_close_minutes": s.unattended_close_minutes,
                    "idle_close_minutes": s.idle_close_minutes, "bot_enabled": s.bot_enabled,
                    "bot_idle_rules": [{"after_minutes": r.after_minutes, "action": r.action, "text": r.text}
                                       for r in s.bot_idle_rules] if args.json else len(s.bot_idle_rules)})


async def settings_set(session, args):
    validate_timeouts(args.unattended_close_minutes, args.idle_close_minutes)
    if args.unattended_close_minutes is None and args.idle_close_minutes is None and args.bot_enabled is None:
        raise AdminError("nothing to set: give --unattended-close-minutes, --idle-close-minutes "
                         "or --bot-enabled")
    brand = await find_brand(session, args.brand)
    s = await settings_service.update(
        session, brand.id, unattended_close_minutes=args.unattended_close_minutes,
        idle_close_minutes=args.idle_close_minutes,
        bot_enabled=None if args.bot_enabled is None else args.bot_enabled == "yes")
    say("settings_on" if s.bot_enabled else "settings_off", brand=brand.name,
        unattended=s.unattended_close_minutes, idle=s.idle_close_minutes)


async def canned_add(session, args):
    brand = await find_brand(session, args.brand)
    canned = await canned_service.add(session, brand.id, args.shortcut, args.title, args.text, args.language)
    say("canned_created", shortcut=canned.shortcut, brand=brand.name)


async def canned_list(session, args):
    query = (select(CannedResponse, Brand.name).join(Brand, Brand.id == CannedResponse.brand_id)
             .order_by(Brand.name, CannedResponse.shortcut, CannedResponse.language))
    if args.brand:
        query = query.where(CannedResponse.brand_id == await find_brand_id(session, args.brand))
    rows = (await session.execute(query)).all()
    emit(args, [{"id": c.id, "brand": b, "shortcut": c.shortcut, "language": c.language, "title": c.title,
                 "text": c.text} for c, b in rows], ["id", "brand", "shortcut", "language", "title"])


async def tag_add(session, args):
    brand = await find_brand(session, args.brand)
    tag = await tag_service.add(session, brand.id, args.name)
    say("tag_created", id=tag.id, name=tag.name, brand=brand.name)


async def tag_list(session, args):
    query = select(Tag, Brand.name).join(Brand, Brand.id == Tag.brand_id).order_by(Brand.name, Tag.name)
    if args.brand:
        query = query.where(Tag.brand_id == await find_brand_id(session, args.brand))
    rows = (await session.execute(query)).all()
    emit(args, [{"id": t.id, "name": t.name, "brand": b} for t, b in rows], ["id", "name", "brand"])


# --- parser --------------------------------------------------------------------------

def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the admin commands to `parser` (the `admin` subcommand of `python -m desk`)."""
    areas = parser.add_subparsers(dest="area", required=True, metavar="AREA", parser_class=Parser)
    def token_options(p):
        group = p.add_mutually_exclusive_group()
        group.add_argument("--token-env", metavar="VAR",
                           help="read the number's access token from this environment variable")
        group.add_argument("--token-stdin", action="store_true",
                           help="read the number's access token from standard input")

    brand = areas.add_parser("brand", help="brands").add_subparsers(dest="action", required=True)
    p = add_action(brand, "create", brand_create, "create a brand")
    p.add_argument("name")
    add_action(brand, "list", brand_list, "list brands", json_out=True)

    waba = areas.add_parser("waba", help="WhatsApp Business Accounts").add_subparsers(dest="action", required=True)
    p = add_action(waba, "add", waba_add, "register a WABA of a brand")
    p.add_argument("--brand", required=True)
    p.add_argument("--id", required=True, help="Meta's WABA id")
    p.add_argument("--name", required=True)
    p = add_action(waba, "list", waba_list, "list WABAs (id, name)", json_out=True)
    p.add_argument("--brand")

    number = areas.add_parser("number", help="business phone numbers").add_subparsers(dest="action", required=True)
    p = add_action(number, "add", number_add, "register a phone number of a WABA, tied to a department")
    p.add_argument("--waba", required=True)
    p.add_argument("--id", required=True, help="Meta's phone number id")
    p.add_argument("--display", required=True, help="the number, e.g. +15550001111")
    p.add_argument("--department", required=True)
    token_options(p)
    p = add_action(number, "list", number_list, "list numbers with their department and state", json_out=True)
    p.add_argument("--brand")
    p = add_action(number, "reconnect", number_reconnect,
                   "mark a disconnected number connected again (optionally with a new token)")
    p.add_argument("id")
    token_options(p)

    dept = areas.add_parser("department", help="departments").add_subparsers(dest="action", required=True)
    p = add_action(dept, "add", department_add, "create a department in a brand")
    p.add_argument("--brand", required=True)
    p.add_argument("name")
    p.add_argument("--name-in", action="append", metavar="LANG=NAME",
                   help="its name for customers in a language, e.g. ja=サポート (repeatable)")
    p = add_action(dept, "list", department_list, "list departments", json_out=True)
    p.add_argument("--brand")

    op = areas.add_parser("operator", help="operators and admins").add_subparsers(dest="action", required=True)
    p = add_action(op, "add", operator_add, "create an operator (password from stdin or a prompt)")
    p.add_argument("--brand", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=[r.value for r in Role], default=Role.operator.value)
    p.add_argument("--departments", default="", help="comma-separated department names")
    p.add_argument("--max-chats", type=whole_number, default=5, help="concurrent chats (default 5)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p = add_action(op, "list", operator_list, "list operators", json_out=True)
    p.add_argument("--brand")
    p = add_action(op, "set-status", operator_set_status, "set an operator online, away or offline")
    p.add_argument("email")
    p.add_argument("status", choices=[s.value for s in OperatorStatus])
    p = add_action(op, "passwd", operator_passwd, "change an operator's password")
    p.add_argument("email")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p = add_action(op, "set-departments", operator_set_departments, "replace an operator's departments")
    p.add_argument("email")
    p.add_argument("departments", help="comma-separated department names ('' for none)")
    p = add_action(op, "deactivate", operator_deactivate, "disable an operator's sign-in and routing")
    p.add_argument("email")

    st = areas.add_parser("settings", help="a brand's timeouts and bot switch").add_subparsers(
        dest="action", required=True)
    p = add_action(st, "show", settings_show, "show a brand's settings", json_out=True)
    p.add_argument("--brand", required=True)
    p = add_action(st, "set", settings_set, f"change a brand's settings (unattended close "
                   f"{UNATTENDED_MIN_MINUTES}-{UNATTENDED_MAX_MINUTES} min = 15 min to 31 days; "
                   f"idle close {IDLE_MIN_MINUTES}-{IDLE_MAX_MINUTES} min)")
    p.add_argument("--brand", required=True)
    p.add_argument("--unattended-close-minutes", type=whole_number)
    p.add_argument("--idle-close-minutes", type=whole_number)
    p.add_argument("--bot-enabled", choices=["yes", "no"])

    canned = areas.add_parser("canned", help="canned responses").add_subparsers(dest="action", required=True)
    p = add_action(canned, "add", canned_add, "add a canned response (typed as /shortcut)")
    p.add_argument("--brand", required=True)
    p.add_argument("--shortcut", required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--text", required=True)
    p.add_argument("--language", help="en or ja (default en): the same shortcut may exist once per language")
    p = add_action(canned, "list", canned_list, "list canned responses", json_out=True)
    p.add_argument("--brand")

    tag = areas.add_parser("tag", help="chat tags").add_subparsers(dest="action", required=True)
    p = add_action(tag, "add", tag_add, "add a tag")
    p.add_argument("--brand", required=True)
    p.add_argument("name")
    p = add_action(tag, "list", tag_list, "list tags", json_out=True)
    p.add_argument("--brand")

    billing.configure(areas)  # credits, templates, billing reports


def build_parser() -> argparse.ArgumentParser:
    synopsis = __doc__.split("\n\n")[1]
    parser = Parser(prog=PROG, description="Manage brands, numbers, operators and settings of the desk.",
                     epilog="commands:\n" + synopsis + "\n\nSecrets are never arguments: --token-env VAR, "
                     "--token-stdin, --password-stdin.", formatter_class=argparse.RawDescriptionHelpFormatter)
    configure_parser(parser)
    return parser


# --- running -------------------------------------------------------------------------

def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


async def _run(args, database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            migrated = await conn.run_sync(lambda c: all(inspect(c).has_table(t) for t in (
                "brands", "phone_numbers", "operators", "brand_settings", "integration_jobs")))
        if not migrated:
            raise AdminError("the desk tables are missing: run `python -m desk migrate` first")
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            await args.handler(session, args)
    finally:
        await engine.dispose()


def run(args, database_url: str | None = None) -> int:
    """Run parsed admin arguments; returns the exit status."""
    url = database_url or DeskSettings.from_env().database_url
    try:
        # Secrets first: no database transaction stays open while a person types.
        if hasattr(args, "token_env"):
            args.token = read_token(args)
        if hasattr(args, "password_stdin"):
            args.password = read_password(args)
        asyncio.run(_run(args, url))
    except ValueError as exc:  # AdminError, OperatorError, SettingsError, ...: refused with a reason
        print(f"desk admin: error: {said(str(exc))}", file=sys.stderr)
        return 1
    except IntegrityError as exc:
        print(f"desk admin: error: conflicts with existing data: {_one_line(exc)}", file=sys.stderr)
        return 1
    except (DBAPIError, OSError) as exc:
        print(f"desk admin: error: database: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(i18n.t(cli_locale(), "cli.interrupted"), file=sys.stderr)
        return 130
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
