"""Desk command line: `python -m desk migrate | serve | worker | seed-demo | admin ...`.

The package holds the whole of it: this module parses the first word and runs the
process commands; `admin` goes to desk.cli.admin (brands, WABAs, numbers,
departments, operators, settings, canned responses, tags), whose parser also has
desk.cli.billing's areas (credits, templates, billing reports); desk.cli.common is
what those two share. `python -m desk` is desk/__main__.py calling `main()`.

`serve` and `worker` import the web app and the worker only when they run, so
that `migrate` and `admin` do not load them.
"""
from __future__ import annotations

import argparse
import logging
import sys

from desk.cli import admin
from desk.config import DeskSettings
from desk.db import migrate


def main() -> None:
    if sys.argv[1:2] == ["admin"]:  # its own parser: one-line errors and exit statuses for scripts
        sys.exit(admin.main(sys.argv[2:]))
    parser = argparse.ArgumentParser(prog="python -m desk", description="tsunagi support desk")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database schema up to date")
    serve = sub.add_parser("serve", help="run the console and its API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-worker", action="store_true",
                       help="serve only; run the worker elsewhere (python -m desk worker)")
    sub.add_parser("seed-demo", help="the embedded demo's number, departments and admin operator")
    sub.add_parser("worker", help="run only the desk worker: outbox, assignment, timers, CRM pushes")
    sub.add_parser("admin", help="manage brands, WABAs, numbers, departments, operators, settings "
                                 "(python -m desk admin --help)")
    args = parser.parse_args()
    settings = DeskSettings.from_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "migrate":
        logging.getLogger("alembic").setLevel(logging.WARNING)
        migrate(settings.database_url)
        from desk.cli.common import say
        say("migrated")
    elif args.command == "serve":
        from aiohttp import web

        from desk.web.app import create_app
        from desk.web.context import SESSIONS
        from desk.worker import attach

        app = create_app(settings)
        if not args.no_worker:
            attach(app, SESSIONS)  # after create_app: its database context starts first
        web.run_app(app, host=args.host or settings.host, port=args.port or settings.port, print=None)
    elif args.command == "seed-demo":
        from desk.demo import main as seed_main

        seed_main()
    elif args.command == "worker":
        import asyncio

        from desk.db import create_engine, session_factory
        from desk.worker import DeskWorker

        async def run() -> None:
            engine = create_engine(settings.database_url)
            worker = DeskWorker.from_env(session_factory(engine))
            try:
                await worker.run_with_integrations()
            finally:
                await worker.graph.close()
                await engine.dispose()

        asyncio.run(run())
