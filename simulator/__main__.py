"""``python -m simulator``: serve the Cloud API simulator."""
from __future__ import annotations

import logging

from aiohttp import web

from .app import create_app
from .config import SimConfig


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = SimConfig.from_env()
    log = logging.getLogger("simulator")
    log.info("WhatsApp Cloud API simulator on http://%s:%s (webhooks -> %s%s)", config.host, config.port,
             config.webhook_url, "" if config.app_secret else ", signed with an EMPTY app secret")
    web.run_app(create_app(config), host=config.host, port=config.port, print=None)


if __name__ == "__main__":
    main()
