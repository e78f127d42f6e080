"""The action server: rasa_sdk's own app plus the bot's durable background work.

`python -m actions.server --port 5055` is what the launcher runs. It is
`python -m rasa_sdk --actions actions` (what `rasa run actions` runs) with two
loops added, each driven by state in the desk database so that a restart loses
and repeats nothing: the bot idle rules (actions/bot_idle.py) and the next-day
lead follow-ups (actions/lead_follow_ups.py).
"""
from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
from typing import Awaitable, Callable

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from sanic.response import json as sanic_json

from actions import bot_idle, lead_follow_ups

log = logging.getLogger(__name__)


async def periodic(name: str, round_: Callable[[], Awaitable[object]], interval: float) -> None:
    """Run `round_` every `interval` seconds until cancelled; a failing round is logged and retried."""
    while True:
        try:
            result = await round_()
            if result:
                log.info("%s: %s", name, result)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep the loop alive; the next round retries
            log.exception("%s: round failed, retrying in %.0fs", name, interval)
        await asyncio.sleep(interval)


async def _bot_idle_round():
    report = await bot_idle.run_once()
    return report if (report.bot_nudges or report.closed_by_bot_rules) else None


async def _follow_up_round():
    counts = await lead_follow_ups.run_once()
    return counts if any(counts.values()) else None


TOKEN_ENV = "ACTION_ENDPOINT_TOKEN"


def require_token(app, token: str) -> None:
    """Refuse every call but /health without Rasa's `?token=` (endpoints.yml's action_endpoint).

    Without it any local process could run actions (e.g. submit a lead) with a made-up tracker.
    """
    expected = token.encode()

    @app.on_request
    async def check_token(request):
        if request.path == "/health":
            return None
        given = (request.args.get("token") or "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, expected):
            log.warning("actions: refused a call to %s without the action endpoint token", request.path)
            return sanic_json({"error": "missing or wrong action endpoint token"}, status=401)
        return None


def build_app(interval: float, token: str):
    app = create_app("actions")
    require_token(app, token)

    @app.after_server_start
    async def start_background_work(app, _loop):
        app.ctx.background = [asyncio.create_task(periodic("bot idle rules", _bot_idle_round, interval)),
                              asyncio.create_task(periodic("lead follow-ups", _follow_up_round, interval))]
        log.info("bot idle rules and lead follow-ups: checked every %.0fs", interval)

    @app.before_server_stop
    async def stop_background_work(app, _loop):
        tasks = getattr(app.ctx, "background", [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="tsunagi's action server")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", "5055")))
    parser.add_argument("--host", default=os.environ.get("SANIC_HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    lead_follow_ups.after_from_env()  # a bad value stops the start with its reason
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise SystemExit(f"{TOKEN_ENV} is not set: the action server only answers Rasa, which sends "
                         f"this token (endpoints.yml). `make demo` generates one in var/demo.env.")
    build_app(bot_idle.interval_from_env(), token).run(args.host, args.port, workers=1)


if __name__ == "__main__":
    main()
