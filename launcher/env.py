"""The environment every process gets: the user's settings over safe local defaults.

Order: the real environment wins, then a `.env` file at the project root (never
committed), then generated demo secrets kept in `var/demo.env` (so a restart keeps
them), then defaults that point the channel at the local Cloud API simulator.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"

GENERATED_SECRETS = ("WHATSAPP_VERIFY_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_ACCESS_TOKEN",
                     "DEMO_OPERATOR_PASSWORD", "ACTION_ENDPOINT_TOKEN")


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def _demo_secrets() -> dict[str, str]:
    path = VAR / "demo.env"
    values = read_env_file(path)
    missing = [k for k in GENERATED_SECRETS if k not in values]
    if missing:
        VAR.mkdir(parents=True, exist_ok=True)
        values.update({k: secrets.token_urlsafe(24) for k in missing})
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        path.chmod(0o600)
    return values


# The ports browsers refuse to connect to (the Fetch standard's "bad ports", which
# Chromium's and Firefox's restricted lists follow): a console or simulator page there
# fails with ERR_UNSAFE_PORT, so the launcher refuses them up front.
BROWSER_BLOCKED_PORTS = frozenset({
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103,
    104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513,
    514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720,
    1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
})
PORT_SETTINGS = {"rasa": "RASA_PORT", "actions": "ACTIONS_PORT", "desk": "DESK_PORT", "simulator": "SIM_PORT"}
DEFAULT_PORTS = {"rasa": 5005, "actions": 5055, "desk": 8000, "simulator": 8090}


class PortError(ValueError):
    """A configured port the stack cannot use; the message says which and why."""


def ports(base: dict[str, str] | None = None) -> dict[str, int]:
    """The four processes' ports; PortError for a port that is not a number in 1-65535 or
    one that browsers block (they are all opened in a browser or called by one)."""
    env = base or {}
    found = {}
    for name, key in PORT_SETTINGS.items():
        raw = env.get(key, DEFAULT_PORTS[name])
        try:
            port = int(raw)
        except (TypeError, ValueError):
            raise PortError(f"{key}={raw!r} is not a port number") from None
        if not 1 <= port <= 65535:
            raise PortError(f"{key}={port} is not a port number (1-65535)")
        if port in BROWSER_BLOCKED_PORTS:
            raise PortError(f"{key}={port}: browsers refuse this port (Chromium: ERR_UNSAFE_PORT, Firefox: "
                            f"'This address is restricted'), so the pages there could not be opened; "
                            f"choose another, e.g. {DEFAULT_PORTS[name]}")
        found[name] = port
    return found


def build_env(overrides: dict[str, str] | None = None, *, var_dir: Path = VAR) -> dict[str, str]:
    """The full environment for the stack; `overrides` (tests) win over everything."""
    env: dict[str, str] = {}
    env.update(_demo_secrets())
    env.update(read_env_file(ROOT / ".env"))
    env.update(os.environ)
    env.update(overrides or {})
    p = ports(env)
    defaults = {
        "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
        "WHATSAPP_WABA_ID": "200000000000001",
        "SIM_DISPLAY_PHONE_NUMBER": "15550000001",
        "WHATSAPP_GRAPH_API_URL": f"http://127.0.0.1:{p['simulator']}/v25.0",
        "SIM_WEBHOOK_URL": f"http://127.0.0.1:{p['rasa']}/webhooks/whatsapp/webhook",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{p['actions']}/webhook",
        "RASA_TRACKER_DB": str(var_dir / "rasa_tracker.db"),
        "DESK_DATABASE_URL": f"sqlite+aiosqlite:///{var_dir / 'desk.db'}",
        "DESK_MEDIA_DIR": str(var_dir / "media"),
        "RASA_INTERFACE": "127.0.0.1",
    }
    for key, value in defaults.items():
        env.setdefault(key, value)
    env.setdefault("SIM_WABA_ID", env["WHATSAPP_WABA_ID"])
    # The simulator knows the demo's templates, as the desk does (desk/demo.py).
    env.setdefault("SIM_TEMPLATES_FILE", str(ROOT / "desk" / "billing" / "demo_templates.json"))
    env.setdefault("SIM_PORT", str(p["simulator"]))
    env.setdefault("DESK_PORT", str(p["desk"]))
    # The desk as Rasa's model server (deploy/endpoints.model-server.yml), when a token is set.
    if env.get("BOT_MODEL_TOKEN") and not env.get("BOT_MODEL_URL"):
        env["BOT_MODEL_URL"] = f"http://127.0.0.1:{p['desk']}/bot/model"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # Rasa: no telemetry prompts or calls from a closed network, quiet TensorFlow.
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    return env


def scale_out_env(desk_dsn: str, tracker_db: str, *, pg_host: str = "127.0.0.1", pg_port: int = 5432,
                  pg_user: str = "postgres", pg_password: str = "",
                  redis: tuple[str, int] = ("127.0.0.1", 6379), redis_db: int = 0) -> dict[str, str]:
    """The settings of several Rasa servers sharing one conversation state: the desk on
    PostgreSQL, Rasa's tracker store on PostgreSQL and its lock store on Redis
    (deploy/endpoints.scale-out.yml reads them; docs/scaling.md)."""
    return {
        "DESK_DATABASE_URL": desk_dsn,
        "RASA_ENDPOINTS": "deploy/endpoints.scale-out.yml",
        "RASA_TRACKER_DB_HOST": pg_host, "RASA_TRACKER_DB_PORT": str(pg_port),
        "RASA_TRACKER_DB_NAME": tracker_db, "RASA_TRACKER_DB_USER": pg_user,
        "RASA_TRACKER_DB_PASSWORD": pg_password,
        "REDIS_HOST": redis[0], "REDIS_PORT": str(redis[1]), "REDIS_DB": str(redis_db),
    }
