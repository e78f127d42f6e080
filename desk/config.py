"""Desk settings, read from the environment once per process."""
from __future__ import annotations

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
