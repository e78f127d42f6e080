"""What the admin command's areas share: the refusal, the parser, lookups and output.

Below desk.cli.admin and desk.cli.billing; it imports neither.
"""
from __future__ import annotations

import argparse
import datetime as dt
import enum
import json
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from desk import i18n
from desk.models import Brand


def cli_locale(environ=None) -> str:
    """The command line's language: DESK_LOCALE, else the POSIX locale (LC_ALL, LC_MESSAGES, LANG;
    "ja_JP.UTF-8" is Japanese), else English. Output that scripts parse (--json, CSV, the
    "desk admin: error:" prefix) stays the same in every language."""
    import os

    environ = os.environ if environ is None else environ
    for name in ("DESK_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = (environ.get(name) or "").strip()
        if value:
            base = value.split(".")[0].split("_")[0].split("-")[0].lower()
            return base if base in i18n.LOCALES else i18n.DEFAULT_LOCALE
    return i18n.DEFAULT_LOCALE


def say(key: str, **values) -> None:
    """Print the catalog's `cli.<key>` in the command line's language."""
    print(i18n.t(cli_locale(), f"cli.{key}", **values))


def said(message: str) -> str:
    """A service's (English) refusal in the command line's language."""
    return i18n.translate(cli_locale(), message)



class AdminError(ValueError):
    """A refused command; the message is the one line shown to the admin."""


# --- parser --------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    """Usage errors as one line (scripts read stderr), exit status 2; no abbreviated
    options (`--token` must not quietly mean `--token-env`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def whole_number(text: str) -> int:
    """An argparse type: a whole number, or a usage error saying it is not one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    return value


def add_action(area, name: str, handler, help: str, json_out: bool = False) -> argparse.ArgumentParser:
    """`AREA name`, run as `handler(session, args)`; `json_out`: it takes --json.

    `help` is plain text: argparse %-formats a subcommand's help (not its description),
    so a % in it is escaped there."""
    p = area.add_parser(name, help=help.replace("%", "%%"), description=help)
    p.set_defaults(handler=handler)
    if json_out:
        p.add_argument("--json", action="store_true", help="print JSON")
    return p


# --- lookups -------------------------------------------------------------------------

async def find_brand(session: AsyncSession, ref: str) -> Brand:
    """The brand named `ref` (or with the id `ref`)."""
    found = (await session.execute(select(Brand).where(Brand.name == ref))).scalar_one_or_none()
    if found is None and ref.isdigit():
        found = await session.get(Brand, int(ref))
    if found is None:
        raise AdminError(f"no brand {ref!r} (see: brand list)")
    return found


async def find_brand_id(session: AsyncSession, ref: str | None) -> int | None:
    return (await find_brand(session, ref)).id if ref else None


# --- output --------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def emit(args, rows: list[dict], columns: Sequence[str]) -> None:
    rows = [{k: _plain(v) for k, v in row.items()} for row in rows]
    if getattr(args, "json", False):
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        say("none")
        return
    cells = [[("" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())


def emit_one(args, row: dict) -> None:
    row = {k: _plain(v) for k, v in row.items()}
    if getattr(args, "json", False):
        print(json.dumps(row, indent=2, ensure_ascii=False))
    else:
        width = max(len(k) for k in row)
        for k, v in row.items():
            print(f"{k.ljust(width)}  {v}")
