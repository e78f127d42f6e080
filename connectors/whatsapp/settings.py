"""The channel's settings, from credentials.yml (which reads the environment)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudapi.graph import META_GRAPH_API_URL


@dataclass(frozen=True)
class ChannelSettings:
    verify_token: str
    app_secret: str
    access_token: str          # the default number's token
    phone_number_id: str       # the default number
    graph_api_url: str = META_GRAPH_API_URL
    waba_id: str = "default"
    database_url: str = ""
    media_dir: Path = Path("var/media")
    max_body_bytes: int = 3 * 1024 * 1024 + 65536  # Meta: payloads up to 3 MB
    mark_read: bool = True
    messages_per_second: float = 80.0  # per number; Meta's default throughput
    # A message the bot cannot answer (action server down) waits this long, then a person gets it.
    bot_down_handoff_seconds: float = 120.0
    # Events (bot turns, batches of statuses) handled at once. 1 keeps every desk
    # transaction from waiting behind another turn's TensorFlow step while it holds
    # SQLite's write lock (docs/benchmarks.md); more can help on PostgreSQL.
    concurrent_turns: int = 1

    REQUIRED = ("verify_token", "app_secret", "access_token", "phone_number_id")

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> "ChannelSettings":
        from desk.config import DeskSettings

        desk = DeskSettings.from_env()
        c = {k: v for k, v in (credentials or {}).items() if v not in (None, "")}
        missing = [k for k in cls.REQUIRED if k not in c]
        if missing:
            raise ValueError(f"whatsapp channel: missing credentials {', '.join(missing)} "
                             "(set WHATSAPP_VERIFY_TOKEN, WHATSAPP_APP_SECRET, "
                             "WHATSAPP_ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID)")
        return cls(
            verify_token=str(c["verify_token"]),
            app_secret=str(c["app_secret"]),
            access_token=str(c["access_token"]),
            phone_number_id=str(c["phone_number_id"]),
            graph_api_url=str(c.get("graph_api_url") or META_GRAPH_API_URL),
            waba_id=str(c.get("waba_id") or os.environ.get("WHATSAPP_WABA_ID") or "default"),
            database_url=str(c.get("database_url") or desk.database_url),
            media_dir=desk.media_dir,
            mark_read=str(c.get("mark_read", "true")).lower() not in ("0", "false", "no"),
            messages_per_second=float(c.get("messages_per_second")
                                      or os.environ.get("WHATSAPP_MESSAGES_PER_SECOND") or 80),
            bot_down_handoff_seconds=float(c.get("bot_down_handoff_seconds")
                                           or os.environ.get("WHATSAPP_BOT_DOWN_HANDOFF_SECONDS") or 120),
            concurrent_turns=max(1, int(c.get("concurrent_turns")
                                        or os.environ.get("WHATSAPP_CONCURRENT_TURNS") or 1)),
        )
