"""The desk's background work: the outbox, queued-chat assignment and the timers.

Runs inside each `python -m desk serve` process (and alone with `python -m desk
worker`). Several can run against one database: every claim and every close is a
conditional UPDATE. `kick()` wakes it at once, so an operator's reply does not wait
for the next tick.
"""
from __future__ import annotations

import asyncio
import logging
import os

from aiohttp import web
from sqlalchemy.orm import sessionmaker

from cloudapi.graph import META_GRAPH_API_URL, GraphClient
from desk.attachments import MediaStore
from desk.config import DeskSettings
from desk.models import utcnow
from desk.services import csat, customer_notices, operators, outbox, routing, timers

log = logging.getLogger(__name__)

WORKER_KICK = web.AppKey("worker_kick", object)  # a callable: wake the worker now


class DeskWorker:
    def __init__(self, sessions: sessionmaker, graph: GraphClient, default_token: str, *,
                 interval: float = 1.0, timer_interval: float = 15.0, extra_jobs=(),
                 media_store: MediaStore | None = None):
        self.sessions = sessions
        self.media_store = media_store  # operator attachments are uploaded from here
        self.graph = graph
        self.default_token = default_token
        self.interval = interval
        self.timer_interval = timer_interval
        self.extra_jobs = list(extra_jobs)  # async callables, e.g. CRM/helpdesk pushes
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None

    @classmethod
    def from_env(cls, sessions: sessionmaker) -> "DeskWorker":
        graph = GraphClient(os.environ.get("WHATSAPP_GRAPH_API_URL") or META_GRAPH_API_URL,
                            messages_per_second=float(os.environ.get("WHATSAPP_MESSAGES_PER_SECOND", 80)))
        from desk.billing.template_sync import PeriodicSync

        token = os.environ.get("WHATSAPP_ACCESS_TOKEN", "")
        return cls(sessions, graph, token, media_store=MediaStore(DeskSettings.from_env().media_dir),
                   extra_jobs=PeriodicSync.jobs_from_env(sessions, graph, token))  # TEMPLATE_SYNC_MINUTES

    def kick(self) -> None:
        self._wake.set()

    async def run_once(self, *, timers_too: bool = True) -> dict:
        async with self.sessions() as session, session.begin():
            assigned = await routing.assign_waiting(session)
            await customer_notices.joined(session, assigned)
        report = None
        if timers_too:
            async with self.sessions() as session, session.begin():
                await operators.expire_presence(session, utcnow())  # ghosts: their console went away
            async with self.sessions() as session, session.begin():
                report = await timers.run_once(session)
            async with self.sessions() as session, session.begin():
                await csat.run_once(session)  # after the timers: surveys of what they closed
        sent = await outbox.run_once(self.sessions, self.graph, self.default_token, media_store=self.media_store)
        for job in self.extra_jobs:
            await job()
        return {"assigned": assigned, "timers": report, "sent": sent}

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        next_timers = 0.0
        while not self._stopping:
            try:
                due = loop.time() >= next_timers
                result = await self.run_once(timers_too=due)
                if due:
                    next_timers = loop.time() + self.timer_interval
                if result["sent"] and not self._stopping:
                    continue  # more may be waiting behind what was just sent
            except Exception:  # noqa: BLE001 - keep running; the database may be briefly away
                log.exception("desk worker: a pass failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except asyncio.TimeoutError:
                pass

    def start(self) -> None:
        self._task = asyncio.create_task(self.run_with_integrations())
        self._training = asyncio.create_task(self.train_forever())

    async def train_forever(self, every: float = 5.0) -> None:
        """The bot's training runs (desk.services.bot_models), beside the passes: a run
        takes minutes in subprocesses and must not hold the outbox back."""
        from desk.services import bot_models

        while not self._stopping:
            try:
                if await bot_models.run_next_training(self.sessions) is not None:
                    continue
            except Exception:  # noqa: BLE001 - logged; the run is marked by the next start
                log.exception("desk worker: a training run failed")
            await asyncio.sleep(every)

    async def run_with_integrations(self) -> None:
        """run_forever, plus CRM/helpdesk pushes when an adapter is configured."""
        from desk.integrations.config import open_adapters
        from desk.integrations.jobs import run_integration_jobs_once

        async with open_adapters() as adapters:
            if adapters:
                async def push() -> None:
                    await run_integration_jobs_once(self.sessions, adapters)
                self.extra_jobs.append(push)
            await self.run_forever()

    async def stop(self) -> None:
        """Let the current pass finish (a cancelled database call would leave its
        connection behind), then stop; cancel only if it does not end in time."""
        self._stopping = True
        self._wake.set()
        training = getattr(self, "_training", None)
        if training is not None:
            training.cancel()
            await asyncio.gather(training, return_exceptions=True)
        if self._task:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 20)
            except asyncio.TimeoutError:
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.graph.close()


def attach(app: web.Application, sessions_key) -> None:
    """Run a worker beside the web app (started after the app's database is up)."""

    async def worker_ctx(app: web.Application):
        worker = DeskWorker.from_env(app[sessions_key])
        app[WORKER_KICK] = worker.kick
        worker.start()
        yield
        await worker.stop()

    app.cleanup_ctx.append(worker_ctx)
