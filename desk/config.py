"""Desk settings, read from the environment once per process."""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'desk.db'}"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(value: str | None) -> tuple[IPNetwork, ...]:
    """DESK_TRUSTED_PROXIES: comma-separated IP addresses or CIDR networks of the
    reverse proxies whose `X-Forwarded-For` the console believes (e.g.
    `127.0.0.1,10.0.0.0/8`); empty: none (the peer address is the client).
    A bad entry raises ValueError naming it, so the process does not start."""
    networks = []
    for item in (value or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"DESK_TRUSTED_PROXIES: {item!r} is not an IP address or CIDR network "
                             f"(expected e.g. 127.0.0.1,10.0.0.0/8)") from None
        networks.append(network)
    return tuple(networks)


@dataclass(frozen=True)
class DeskSettings:
    database_url: str
    host: str
    port: int
    media_dir: Path
    # Reverse proxies whose X-Forwarded-For is believed (sign-in throttling); () trusts no one.
    trusted_proxies: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "DeskSettings":
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("DESK_DATABASE_URL", DEFAULT_DATABASE_URL),
            host=env.get("DESK_HOST", "127.0.0.1"),
            port=int(env.get("DESK_PORT", "8000")),
            media_dir=Path(env.get("DESK_MEDIA_DIR", str(PROJECT_ROOT / "var" / "media"))),
            trusted_proxies=parse_trusted_proxies(env.get("DESK_TRUSTED_PROXIES")),
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
