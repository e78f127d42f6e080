"""The channel alone: CPU, desk transactions and SQL statements per bot turn.

No Rasa and no TensorFlow: the bot is a stand-in that answers each message with one
text through the real `WhatsAppOutput`. Everything else is the product's path: the
intake's group-commit writer, the durable inbox, `InboxProcessor` (claim, desk record,
finish) on a real SQLite (or PostgreSQL) desk database, the Graph client, and the
status webhooks (sent, delivered, read) that Meta sends back for every reply. The
Cloud API simulator runs in its own process, so its CPU is not counted.

    PYTHONPATH=. .venv/bin/python bench/bench_channel_cpu.py [--users 8 --turns 20] [--database-url URL]

What it prints is deterministic enough to compare commits (transactions and statements
are counts; CPU is this process's, all threads); it asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import inspect
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import event, func, select

from bench._common import free_port
from cloudapi import signature
from connectors.whatsapp import webhook
from connectors.whatsapp.channel import ChannelRuntime, WhatsAppOutput, sender_id_of
from connectors.whatsapp.processor import lanes_of, webhook_rows
from connectors.whatsapp.settings import ChannelSettings
from desk.db import create_engine, migrate
from desk.models import EventState, WebhookEvent
from desk.services import inbox

SECRET, TOKEN, PNID, WABA = "bench-secret", "bench-token", "100000000000001", "200000000000001"


class Counts:
    """Transactions and statements on the engines of this process, by kind."""

    def __init__(self):
        self.transactions = 0
        self.statements = 0
        self.by_verb: collections.Counter = collections.Counter()
        self.by_text: collections.Counter = collections.Counter()
        self.where: str | None = None  # statements containing this: count their callers
        self.callers: collections.Counter = collections.Counter()

    def watch(self, engine) -> None:
        sync = engine.sync_engine

        @event.listens_for(sync, "begin")
        def _begin(conn):  # noqa: ANN001
            self.transactions += 1

        @event.listens_for(sync, "before_cursor_execute")
        def _execute(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            verb = statement.lstrip().split(None, 1)[0].upper()
            if verb in ("BEGIN", "COMMIT", "ROLLBACK"):
                return
            self.statements += 1
            self.by_verb[verb] += 1
            self.by_text[" ".join(statement.split())[:150]] += 1
            if self.where and self.where in statement:
                import greenlet  # SQLAlchemy runs the statement in a child greenlet:
                frame = greenlet.getcurrent().parent.gr_frame  # the awaiting code is the parent's
                frames = []
                while frame is not None:
                    name = frame.f_code.co_filename
                    if "/desk/" in name or "/connectors/" in name:
                        frames.append(f"{Path(name).stem}:{frame.f_code.co_name}:{frame.f_lineno}")
                    frame = frame.f_back
                self.callers[" < ".join(frames[:4])] += 1

    def snapshot(self) -> tuple[int, int, collections.Counter]:
        return self.transactions, self.statements, collections.Counter(self.by_verb)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--turns", type=int, default=20, help="messages per user, one after the other")
    ap.add_argument("--database-url", default=None, help="default: a new SQLite file")
    ap.add_argument("--profile", metavar="FILE", help="write a cProfile of the measured part")
    ap.add_argument("--statements", action="store_true", help="list the statements run, by count")
    ap.add_argument("--callers-of", metavar="TEXT", help="count where statements containing TEXT come from")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-channel-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'desk.db'}"
    migrate(url)

    channel_port, sim_port = free_port(), free_port()
    env = dict(os.environ, SIM_HOST="127.0.0.1", SIM_PORT=str(sim_port),
               SIM_WEBHOOK_URL=f"http://127.0.0.1:{channel_port}/webhook", WHATSAPP_APP_SECRET=SECRET,
               WHATSAPP_ACCESS_TOKEN=TOKEN, WHATSAPP_PHONE_NUMBER_ID=PNID, SIM_WABA_ID=WABA,
               SIM_STATUS_DELAY_MS="5", SIM_THROUGHPUT_PER_SECOND="1000")
    sim = subprocess.Popen([sys.executable, "-m", "simulator"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    replies: dict[str, asyncio.Queue] = collections.defaultdict(asyncio.Queue)
    try:
        settings = ChannelSettings(verify_token="v", app_secret=SECRET, access_token=TOKEN,
                                   phone_number_id=PNID, waba_id=WABA,
                                   graph_api_url=f"http://127.0.0.1:{sim_port}/v23.0",
                                   database_url=url, media_dir=tmp / "media", messages_per_second=1000)
        runtime = ChannelRuntime(settings, pooled=True)
        intake_engine = create_engine(url, writer=True, pooled=True)
        writer = inbox.GroupWriter(intake_engine)
        counts = Counts()
        counts.watch(runtime.engine)
        counts.watch(intake_engine)
        counts.where = args.callers_of

        # (older commits had no `first_attempt`: the bench runs on them too, to compare)
        first = "first_attempt" in inspect.signature(WhatsAppOutput).parameters

        async def bot(item, chat_id, opens_chat, retry=False):
            await WhatsAppOutput(runtime, cause=item.wamid, **({"first_attempt": not retry} if first else {})
                                 ).send_text_message(
                sender_id_of(item), f"answer to {item.text}")
            replies[item.wa_id].put_nowait(item.wamid)

        class Intake:  # what connectors.whatsapp.channel.Intake does, on this one loop
            async def accept(self, body):
                rows = webhook_rows(body)
                await writer.record(rows)
                return lanes_of(rows)

            def kick(self, phone_number_id, wa_id, kind="message"):
                runtime.processor.kick(phone_number_id, wa_id, kind)

        intake = Intake()

        async def receive(request: web.Request) -> web.Response:
            status, body = await webhook.receive(await request.read(), request.headers.get(signature.HEADER),
                                                 app_secret=SECRET, max_body_bytes=1 << 20, processor=intake)
            return web.json_response(body, status=status)

        app = web.Application()
        app.router.add_post("/webhook", receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", channel_port).start()
        await writer.start()
        await runtime.start(bot)

        async with aiohttp.ClientSession() as http:
            for _ in range(100):  # the simulator's start
                try:
                    async with http.get(f"http://127.0.0.1:{sim_port}/_sim/health"):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)

            async def user(n: int, turns: int, offset: int) -> None:
                wa_id = f"4477009{n:05d}"
                for t in range(turns):
                    async with http.post(f"http://127.0.0.1:{sim_port}/_sim/users/{wa_id}/messages",
                                         json={"type": "text", "text": f"question {offset + t}"}) as resp:
                        assert resp.status == 200, await resp.text()
                    await asyncio.wait_for(replies[wa_id].get(), 30)

            async def settled() -> None:  # every row of the inbox finished (statuses too)
                while True:
                    async with runtime.sessions() as session:
                        left = (await session.execute(select(func.count()).select_from(WebhookEvent).where(
                            WebhookEvent.state.in_([EventState.pending, EventState.processing])))).scalar()
                    if not left:
                        return
                    await asyncio.sleep(0.2)

            await asyncio.gather(*(user(n, 2, 0) for n in range(args.users)))  # warm-up
            await asyncio.sleep(0.5)
            await settled()

            profiler = None
            if args.profile:
                import cProfile
                profiler = cProfile.Profile(time.thread_time)  # this thread's CPU, not waits
                profiler.enable()
            before_cpu, before_wall = time.process_time(), time.perf_counter()
            before = counts.snapshot()
            await asyncio.gather(*(user(n, args.turns, 2) for n in range(args.users)))
            await asyncio.sleep(0.5)  # the last statuses
            await settled()
            after = counts.snapshot()
            cpu, wall = time.process_time() - before_cpu, time.perf_counter() - before_wall
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)

        turns = args.users * args.turns
        tx, st = after[0] - before[0], after[1] - before[1]
        verbs = after[2] - before[2]
        print(f"channel only, {args.users} users x {args.turns} turns on {url.split(':')[0]}, one reply "
              f"and three statuses per turn ({turns} turns in {wall:.1f} s)")
        print(f"  CPU per turn (this process, all threads; includes the settle polls): {1000 * cpu / turns:.1f} ms")
        print(f"  transactions per turn: {tx / turns:.1f}   statements per turn: {st / turns:.1f}")
        print("  statements by verb per turn: " + ", ".join(
            f"{verb} {n / turns:.1f}" for verb, n in verbs.most_common()))
        for where, n in counts.callers.most_common(12):
            print(f"  {n / (turns + 2 * args.users):5.2f}  {where}")
        if args.statements:
            for text, n in counts.by_text.most_common():
                print(f"  {n / (turns + 2 * args.users):5.2f}  {text}")
        await runtime.stop()
        await writer.stop()
        await intake_engine.dispose()
        await runner.cleanup()
    finally:
        sim.terminate()
        sim.wait(10)
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
