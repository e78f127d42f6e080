"""The action server: rasa_sdk's own app plus the bot idle rules loop.

`python -m actions.server --port 5055` is what the launcher runs. It is
`python -m rasa_sdk --actions actions` (what `rasa run actions` runs) with one
addition: the durable bot idle rules (actions/bot_idle.py) run in this process.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app

from actions import bot_idle

log = logging.getLogger(__name__)


def build_app(interval: float):
    app = create_app("actions")

    @app.after_server_start
    async def start_bot_idle_rules(app, _loop):
        app.ctx.bot_idle = asyncio.create_task(bot_idle.run_forever(interval))
        log.info("bot idle rules: checked every %.0fs", interval)

    @app.before_server_stop
    async def stop_bot_idle_rules(app, _loop):
        task = getattr(app.ctx, "bot_idle", None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="tsunagi's action server")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", "5055")))
    parser.add_argument("--host", default=os.environ.get("SANIC_HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    build_app(bot_idle.interval_from_env()).run(args.host, args.port, workers=1)


if __name__ == "__main__":
    main()
