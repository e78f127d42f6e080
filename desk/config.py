"""Desk settings, read from the environment once per process."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'desk.db'}"


@dataclass(frozen=True)
class DeskSettings:
    database_url: str
    host: str
    port: int
    media_dir: Path

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "DeskSettings":
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("DESK_DATABASE_URL", DEFAULT_DATABASE_URL),
            host=env.get("DESK_HOST", "127.0.0.1"),
            port=int(env.get("DESK_PORT", "8000")),
            media_dir=Path(env.get("DESK_MEDIA_DIR", str(PROJECT_ROOT / "var" / "media"))),
        )


DEFAULT_LEAD_FOLLOW_UP_AFTER_HOURS = 24.0


def lead_follow_up_after(env: dict[str, str] | None = None) -> dt.timedelta | None:
    """How long after capture a consenting lead is followed up (LEAD_FOLLOW_UP_AFTER_HOURS,
    default 24; 0: off → None). The action server sends the follow-ups
    (actions/lead_follow_ups.py, which refuses to start on a bad value); the console
    only shows when one is due, so here a bad value falls back to the default."""
    env = os.environ if env is None else env
    try:
        hours = float(env.get("LEAD_FOLLOW_UP_AFTER_HOURS") or DEFAULT_LEAD_FOLLOW_UP_AFTER_HOURS)
    except ValueError:
        hours = DEFAULT_LEAD_FOLLOW_UP_AFTER_HOURS
    if hours < 0 or hours != hours:
        hours = DEFAULT_LEAD_FOLLOW_UP_AFTER_HOURS
    return dt.timedelta(hours=hours) if hours else None
