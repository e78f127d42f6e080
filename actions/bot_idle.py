"""The bot idle rules, run by the action server (actions/server.py, every
BOT_IDLE_INTERVAL_SECONDS).

Rasa's reminders live in the Rasa server's memory and vanish on a restart, so
the rules are not reminders: every few seconds this loop asks the desk which
steps are due (`desk.services.timers.run_bot_idle_rules`, derived from each
chat's last user message, so a user message cancels them and a restart loses
nothing). Nudges and closing notes go out through the desk's outbox; a
conditional UPDATE per step keeps several action servers from doing a step twice.
"""
from __future__ import annotations

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
