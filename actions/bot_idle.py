"""The bot idle rules, run by the action server (see actions/server.py).

Rasa's reminders live in the Rasa server's memory and vanish on a restart, so
the rules are not reminders: every few seconds this loop asks the desk which
steps are due (`desk.services.timers.run_bot_idle_rules`, derived from each
chat's last user message, so a user message cancels them and a restart loses
nothing). Nudges and closing notes go out through the desk's outbox; a
conditional UPDATE per step keeps several action servers from doing a step twice.
"""
from __future__ import annotations

import asyncio
import logging
import os

from actions.desk_access import desk_transaction
from desk.services import timers

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 15.0


def interval_from_env() -> float:
    raw = os.environ.get("BOT_IDLE_INTERVAL_SECONDS", "")
    try:
        value = float(raw) if raw else DEFAULT_INTERVAL_SECONDS
    except ValueError:
        raise SystemExit(f"BOT_IDLE_INTERVAL_SECONDS must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise SystemExit("BOT_IDLE_INTERVAL_SECONDS must be more than 0")
    return value


async def run_once() -> timers.TimerReport:
    async with desk_transaction() as session:
        return await timers.run_bot_idle_rules(session)


async def run_forever(interval: float) -> None:
    """Until cancelled; a failing round (database down) is logged and retried."""
    while True:
        try:
            report = await run_once()
            if report.bot_nudges or report.closed_by_bot_rules:
                log.info("bot idle rules: %d nudge(s), %d chat(s) closed",
                         report.bot_nudges, report.closed_by_bot_rules)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the loop alive; the next round retries
            log.exception("bot idle rules: round failed, retrying in %.0fs", interval)
        await asyncio.sleep(interval)
