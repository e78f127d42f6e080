#!/usr/bin/env python
"""Exactly-once under bursts and crashes: many users' signed webhooks at once, on
SQLite or PostgreSQL, optionally with a process killed (SIGKILL) or the action
server stopped in the middle, with one or two Rasa servers.

The burst: `--messages` Meta-shaped text webhooks (default 2,000) from `--users`
users (100) POSTed to `/webhooks/whatsapp/webhook` by `--concurrency` senders
(32). The Cloud API simulator builds each body beforehand (a user's text message
whose own delivery it schedules 10 minutes later, so it knows the message and the
channel's mark-as-read and reply succeed as with Meta); the bench signs the raw
body with the app secret (`X-Hub-Signature-256`) and delivers it itself. The texts
are bench/_common.py's TEXTS, which the bot answers with one message each. A user
sends its next message only after the 200 of its previous one; a webhook answered
with anything else (or not at all) is sent again after 1 s, as Meta retries. About
5% of the webhooks (every 20th) are delivered twice at once: to both Rasa servers
with `--rasa-servers 2` (Meta may deliver to either instance), else twice to the
one. With two servers a user's successive messages alternate between the two
webhook URLs, and a retry goes to the other one. The simulator retries its own
(status) webhooks for about three minutes here, as Meta retries for days.

Faults, at a point of the burst: `--kill rasa|actions|desk` SIGKILLs that
service's process group once half the messages are acknowledged and restarts it
(`Stack.start_service`); `--actions-down S` stops the action server (SIGTERM) at a
third of the burst and starts it again S seconds later.

Afterwards the bench waits (bounded, `--drain-timeout`) until the desk's
`webhook_events` rows of those wamids are all done or ignored, then reads the desk
database (sqlite3, or psycopg2 on PostgreSQL) and the simulator and prints:
acknowledgements (count, non-200, percentiles, retries), rows per wamid and their
states, answers per user message (a bot message whose `reply_key` is
`<user wamid>#<n>`; notices `<wamid>#<key>#1` and messages without a reply_key,
such as idle nudges, are counted apart), cross-checked with the outbound messages
the simulator received (each carries `biz_opaque_callback_data` "message:<desk
id>", so a reply sent twice to Meta shows), "database is locked" and Traceback
counts in every service log, CPU seconds per process and per message, and for a
fault how long until processing resumed and until everything was processed.
Figures are printed, never asserted; the exit status is 1 only when the run could
not be completed (e.g. a service did not start).

    PYTHONPATH=. .venv/bin/python bench/bench_burst.py --quick
    PYTHONPATH=. .venv/bin/python bench/bench_burst.py --db postgres --rasa-servers 2
    PYTHONPATH=. .venv/bin/python bench/bench_burst.py --kill rasa
    PYTHONPATH=. .venv/bin/python bench/bench_burst.py --actions-down 60

PostgreSQL (`--db postgres`): two fresh databases on 127.0.0.1:5432 (user postgres,
trust auth; `TSUNAGI_TEST_POSTGRES` overrides the admin DSN), dropped at the end;
the desk on one, Rasa's tracker store on the other (deploy/endpoints.scale-out.yml)
with the Redis lock store at 127.0.0.1:6379.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

from bench._common import (APP_SECRET, ROOT, TEXTS, BenchStack, cleanup, free_port, load,  # noqa: E402
                           machine, model_info, ms, own_cpu, percentile, table, temp_var)
from launcher.stack import Stack  # noqa: E402
from launcher.env import scale_out_env  # noqa: E402
from cloudapi import signature  # noqa: E402

WEBHOOK = "/webhooks/whatsapp/webhook"
PG_ADMIN_DSN = os.environ.get("TSUNAGI_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = ("127.0.0.1", 6379)
REDIS_DB = 5  # not the e2e tests' 3; sender ids are unique per run anyway
FINISHED = ("done", "ignored")
REPLY_SUFFIX = re.compile(r"^\d+$")


# -- databases ----------------------------------------------------------------------

class Postgres:
    """Two fresh databases (desk, tracker store), dropped in `drop()`."""

    def __init__(self) -> None:
        import psycopg2

        self.admin = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
        self.admin.autocommit = True
        suffix = uuid.uuid4().hex[:10]
        self.desk_db, self.tracker_db = f"tsunagi_burst_desk_{suffix}", f"tsunagi_burst_tracker_{suffix}"
        self.created: list[str] = []
        with self.admin.cursor() as cur:
            for db in (self.desk_db, self.tracker_db):
                cur.execute(f'CREATE DATABASE "{db}"')
                self.created.append(db)

    def dsn(self, db: str) -> str:
        return PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + db

    def env(self) -> dict[str, str]:
        from urllib.parse import urlsplit

        admin = urlsplit(PG_ADMIN_DSN)
        return scale_out_env(self.dsn(self.desk_db).replace("postgresql://", "postgresql+asyncpg://"),
                             self.tracker_db, pg_host=admin.hostname or "127.0.0.1",
                             pg_port=admin.port or 5432, pg_user=admin.username or "postgres",
                             redis=REDIS, redis_db=REDIS_DB)

    def drop(self) -> None:
        with self.admin.cursor() as cur:
            for db in self.created:
                cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        self.admin.close()


class DeskDB:
    """Read-only queries on the desk database (SQL written with `?` placeholders)."""

    def __init__(self, sqlite_path: Path | None = None, pg_dsn: str | None = None):
        self.sqlite_path, self.pg_dsn = sqlite_path, pg_dsn

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        if self.pg_dsn:
            import psycopg2

            con = psycopg2.connect(self.pg_dsn, connect_timeout=10)
            try:
                con.autocommit = True
                with con.cursor() as cur:
                    cur.execute(sql.replace("?", "%s"), args)
                    return cur.fetchall()
            finally:
                con.close()
        con = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    async def aquery(self, sql: str, args: tuple = ()) -> list[tuple]:
        return await asyncio.to_thread(self.query, sql, args)


def marks(values) -> str:
    return ",".join("?" * len(values))


# -- CPU ------------------------------------------------------------------------------

def groups_cpu(pgids: set[int]) -> dict[int, float]:
    """User+system CPU seconds of the live processes of each process group (one /proc scan)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields_ = stat[stat.rfind(")") + 2:].split()
        pgrp = int(fields_[2])
        if pgrp in pgids:
            out[pgrp] = out.get(pgrp, 0.0) + (int(fields_[11]) + int(fields_[12])) / tick
    return out


class CpuBook:
    """CPU seconds per service over the measured window, summed over its incarnations
    (a killed process's CPU is kept from its last sample, taken just before the kill;
    a restarted one counts from 0, its start-up included)."""

    def __init__(self, procs: Callable[[], list[tuple[str, int]]]):
        self.procs = procs
        self.last: dict[tuple[str, int], float] = {}
        self.base: dict[tuple[str, int], float] = {}
        self.client0 = 0.0
        self.client1: float | None = None
        self.frozen: dict[str, float] | None = None

    def sample(self) -> None:
        procs = self.procs()
        found = groups_cpu({pid for _, pid in procs})
        for label, pid in procs:
            if pid in found:
                self.last[(label, pid)] = max(found[pid], self.last.get((label, pid), 0.0))

    def start(self) -> None:
        self.sample()
        self.base = dict(self.last)
        self.client0 = own_cpu()

    def freeze(self) -> None:
        """The end of the measured window."""
        self.sample()
        totals: dict[str, float] = collections.defaultdict(float)
        for key, value in self.last.items():
            totals[key[0]] += value - self.base.get(key, 0.0)
        totals["bench client"] = own_cpu() - self.client0
        self.frozen = dict(totals)

    def incarnations(self, label: str) -> int:
        return sum(1 for key in self.last if key[0] == label)


# -- the burst ------------------------------------------------------------------------

@dataclass
class Job:
    i: int
    user: int
    wa_id: str
    wamid: str
    body: bytes
    signature: str
    twice: bool = False


def sign(body: bytes) -> str:
    return signature.sign(body, APP_SECRET)


class Burst:
    def __init__(self, stack: BenchStack, second: Stack | None, db: DeskDB,
                 http: aiohttp.ClientSession, args):
        self.stack, self.second, self.db, self.http, self.args = stack, second, db, http, args
        self.sim = stack.urls["simulator"]
        self.urls = [stack.urls["rasa"] + WEBHOOK]
        if second is not None:
            self.urls.append(second.services[0].base_url + WEBHOOK)
        self.run_id = random.randint(1000, 9999)
        self.tracker_dsn: str | None = None  # PostgreSQL tracker store
        self.cpu = CpuBook(self.processes)
        # sender figures
        self.posts = 0
        self.ack_latencies: list[float] = []
        self.failures: collections.Counter = collections.Counter()
        self.retries = 0
        self.twice = 0
        self.acked: set[str] = set()
        self.given_up: list[str] = []
        self.first_post = 0.0
        self.last_ack = 0.0
        self.milestones: list[tuple[int, asyncio.Event]] = []
        # monitor
        self.users: list[str] = []
        self.progress: list[tuple[float, int, int]] = []  # (t, processed, rows)
        self.latest: tuple[float, dict[str, int]] = (0.0, {})
        self.monitor_errors: collections.Counter = collections.Counter()
        self.inflight: list[int] | None = None
        self.inflight_done_at: float | None = None
        self.all_processed_at: float | None = None
        self.fault: dict[str, object] = {}

    def processes(self) -> list[tuple[str, int]]:
        out = [(s.name, s.process.pid) for s in self.stack.stack.services if s.process is not None]
        if self.second is not None:
            out += [("rasa-b", s.process.pid) for s in self.second.services if s.process is not None]
        return out

    # -- webhooks ------------------------------------------------------------------
    async def build(self, prefix: str, n: int, users: int, texts=TEXTS) -> list[Job]:
        """n webhooks from `users` users, built by the simulator (message i is user
        i % users'), in order: a user's k-th message before its k+1-th."""
        async def make(i: int) -> Job:
            u = i % users
            wa_id = f"{prefix}{self.run_id:04d}{u:04d}"
            async with self.http.post(f"{self.sim}/_sim/users/{wa_id}/messages", json={
                    "type": "text", "text": texts[i % len(texts)],
                    "profile_name": f"Burst User {u}", "delay_ms": 600_000}) as resp:
                result = await resp.json()
                if resp.status not in (200, 202):
                    raise RuntimeError(f"simulator: HTTP {resp.status} {result}")
            body = json.dumps(result["payload"], separators=(",", ":")).encode()
            return Job(i, u, wa_id, result["wamid"], body, sign(body), twice=(i % 20 == 19))

        jobs: list[Job] = []
        for start in range(0, n, 16):
            jobs += await asyncio.gather(*(make(i) for i in range(start, min(n, start + 16))))
        return jobs

    async def until_200(self, job: Job, server: int) -> bool:
        """POST the webhook until it is answered 200 (again after 1 s, alternating the
        servers when there are two); False after `--give-up` seconds."""
        give_up_at = time.perf_counter() + self.args.give_up
        k = 0
        while True:
            url = self.urls[(server + k) % len(self.urls)]
            t0 = time.perf_counter()
            try:
                async with self.http.post(url, data=job.body, headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": job.signature}) as resp:
                    await resp.read()
                    outcome = str(resp.status)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                outcome = type(exc).__name__
            self.posts += 1
            if outcome == "200":
                self.ack_latencies.append(time.perf_counter() - t0)
                return True
            self.failures[outcome] += 1
            if time.perf_counter() >= give_up_at:
                return False
            self.retries += 1
            await asyncio.sleep(1.0)
            k += 1

    async def deliver(self, job: Job) -> None:
        n = len(self.urls)
        # A user's k-th message goes to server (user + k) % n: each user alternates.
        server = (job.user + job.i // self.args.users) % n
        if job.twice:  # at once: to both servers, or twice to the one
            self.twice += 1
            results = await asyncio.gather(self.until_200(job, server),
                                           self.until_200(job, (server + 1) % n))
            ok = any(results)
        else:
            ok = await self.until_200(job, server)
        if not ok:
            self.given_up.append(job.wamid)
            return
        self.acked.add(job.wamid)
        self.last_ack = time.perf_counter()
        for count, event in self.milestones:
            if len(self.acked) >= count:
                event.set()

    async def send_all(self, jobs: list[Job], concurrency: int) -> None:
        lanes: list[list[Job]] = [[] for _ in range(concurrency)]
        for job in jobs:  # all of one user's messages in one lane, in order
            lanes[job.user % concurrency].append(job)

        async def lane(items: list[Job]) -> None:
            for job in items:
                await self.deliver(job)

        await asyncio.gather(*(lane(items) for items in lanes if items))

    # -- the desk's view -------------------------------------------------------------
    async def states(self, users: list[str]) -> dict[str, int]:
        rows = await self.db.aquery(
            "SELECT state, count(*) FROM webhook_events WHERE kind = 'message' "
            f"AND wa_id IN ({marks(users)}) GROUP BY state", tuple(users))
        return {str(state): int(count) for state, count in rows}

    async def monitor(self) -> None:
        cpu_at = 0.0
        while True:
            try:
                states = await self.states(self.users)
            except Exception as exc:  # noqa: BLE001 - counted, the next tick retries
                self.monitor_errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
                await asyncio.sleep(0.5)
                continue
            t = time.perf_counter()
            processed = sum(states.get(s, 0) for s in FINISHED)
            self.progress.append((t, processed, sum(states.values())))
            self.latest = (t, states)
            if self.inflight and self.inflight_done_at is None:
                try:
                    left = await self.db.aquery(
                        f"SELECT count(*) FROM webhook_events WHERE id IN ({marks(self.inflight)}) "
                        "AND state IN ('pending', 'processing')", tuple(self.inflight))
                    if left[0][0] == 0:
                        self.inflight_done_at = time.perf_counter()
                except Exception as exc:  # noqa: BLE001
                    self.monitor_errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
            if t - cpu_at >= 1.0:
                self.cpu.sample()
                cpu_at = t
            await asyncio.sleep(0.25)

    async def processed_now(self) -> int:
        states = await self.states(self.users)
        return sum(states.get(s, 0) for s in FINISHED)

    async def wait_processed(self, users: list[str], count: int, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            states = await self.states(users)
            rows = sum(states.values())
            if rows >= count and sum(states.get(s, 0) for s in FINISHED) == rows:
                return True
            await asyncio.sleep(0.3)
        return False

    # -- faults ------------------------------------------------------------------------
    def milestone(self, count: int) -> asyncio.Event:
        event = asyncio.Event()
        self.milestones.append((max(1, count), event))
        return event

    async def kill(self, name: str, at: asyncio.Event) -> None:
        await at.wait()
        stack = self.stack.stack
        self.cpu.sample()  # keep the CPU the process used until now
        t_kill = time.perf_counter()
        killed_at_acked = len(self.acked)
        await asyncio.to_thread(stack.stop_service, name, signal.SIGKILL)
        processed_at_fault = await self.processed_now()
        held = await self.db.aquery(
            f"SELECT id FROM webhook_events WHERE kind = 'message' AND wa_id IN ({marks(self.users)}) "
            "AND state = 'processing'", tuple(self.users))
        self.inflight = [r[0] for r in held]
        print(f"... killed {name} (SIGKILL) after {killed_at_acked} acknowledged messages; "
              f"{len(self.inflight)} rows were processing; restarting it", flush=True)
        t_spawn = time.perf_counter()
        await asyncio.to_thread(stack.start_service, name, 300.0)
        t_up = time.perf_counter()
        print(f"... {name} healthy again {t_up - t_kill:.1f}s after the kill", flush=True)
        self.fault = {"kind": f"kill -9 {name}", "t_fault": t_kill, "t_spawn": t_spawn, "t_up": t_up,
                      "acked_at_fault": killed_at_acked, "processed_at_fault": processed_at_fault,
                      "inflight": len(self.inflight)}

    async def actions_down(self, seconds: float, at: asyncio.Event) -> None:
        await at.wait()
        stack = self.stack.stack
        self.cpu.sample()
        t_stop = time.perf_counter()
        stopped_at_acked = len(self.acked)
        await asyncio.to_thread(stack.stop_service, "actions")
        t_stopped = time.perf_counter()
        processed_at_fault = await self.processed_now()
        print(f"... action server stopped (SIGTERM) after {stopped_at_acked} acknowledged messages; "
              f"starting it again in {seconds:.0f}s", flush=True)
        await asyncio.sleep(seconds)
        t_spawn = time.perf_counter()
        await asyncio.to_thread(stack.start_service, "actions", 300.0)
        t_up = time.perf_counter()
        print(f"... action server healthy again {t_up - t_stop:.1f}s after it was stopped", flush=True)
        self.fault = {"kind": f"action server down {seconds:.0f}s", "t_fault": t_stop,
                      "t_stopped": t_stopped, "t_spawn": t_spawn, "t_up": t_up,
                      "acked_at_fault": stopped_at_acked, "processed_at_fault": processed_at_fault}

    # -- the run -------------------------------------------------------------------------
    async def warm_up(self) -> None:
        """A few turns on every Rasa server first (TensorFlow builds its graphs on the
        first turns): not measured, not counted."""
        jobs = await self.build("4478", 3 * 2 * len(self.urls), 2 * len(self.urls),
                                texts=["hello there", "what are your opening hours?", "are you a bot?"])
        for job in jobs:
            job.twice = False
        lanes: dict[int, list[Job]] = collections.defaultdict(list)
        for job in jobs:
            lanes[job.user].append(job)

        async def lane(items: list[Job]) -> None:
            for job in items:
                await self.until_200(job, job.user % len(self.urls))

        await asyncio.gather(*(lane(items) for items in lanes.values()))
        warm_users = sorted({j.wa_id for j in jobs})
        if not await self.wait_processed(warm_users, len(jobs), 180):
            raise RuntimeError("the warm-up messages were not processed within 180 s")
        # the warm-up's figures do not count
        self.posts, self.ack_latencies, self.retries = 0, [], 0
        self.failures.clear()

    async def run(self) -> dict:
        args = self.args
        print("... warm-up", flush=True)
        await self.warm_up()
        print(f"... building {args.messages} webhooks at the simulator", flush=True)
        jobs = await self.build("4479", args.messages, args.users)
        self.users = sorted({j.wa_id for j in jobs})
        faults = []
        if args.kill != "none":
            faults.append(self.kill(args.kill, self.milestone(args.messages // 2)))
        if args.actions_down:
            faults.append(self.actions_down(args.actions_down, self.milestone(args.messages // 3)))
        monitor = asyncio.create_task(self.monitor())
        try:
            await asyncio.sleep(0.3)  # a first sample
            print(f"... burst: {args.messages} messages, {args.users} users, {args.concurrency} senders, "
                  f"{len(self.urls)} Rasa server(s)", flush=True)
            self.cpu.start()
            self.first_post = time.perf_counter()
            fault_tasks = [asyncio.create_task(f) for f in faults]
            await self.send_all(jobs, args.concurrency)
            sends_done = time.perf_counter()
            for _, event in self.milestones:  # (a fault whose point was never reached runs now)
                event.set()
            print(f"... all sent after {sends_done - self.first_post:.1f}s; waiting for processing "
                  f"(at most {args.drain_timeout:.0f}s)", flush=True)
            for task in fault_tasks:  # a fault may outlast the sends; a failed restart raises here
                await task
            drain_from = time.perf_counter()
            while time.perf_counter() - drain_from < args.drain_timeout:
                t, states = self.latest
                rows = sum(states.values())
                processed = sum(states.get(s, 0) for s in FINISHED)
                if t > sends_done and rows >= len(self.acked) and processed == rows:
                    self.all_processed_at = t
                    break
                await asyncio.sleep(0.25)
            self.cpu.freeze()
            if self.all_processed_at is None:
                print(f"... NOT all processed within {args.drain_timeout:.0f}s: {self.latest[1]}", flush=True)
            else:
                print(f"... all processed {self.all_processed_at - self.first_post:.1f}s after the first POST",
                      flush=True)
            await asyncio.sleep(2.0)  # late duplicates would show by now
        finally:
            monitor.cancel()
            await asyncio.gather(monitor, return_exceptions=True)
        return await self.collect(jobs)

    # -- afterwards --------------------------------------------------------------------
    async def collect(self, jobs: list[Job]) -> dict:
        users = self.users
        wamids = {j.wamid for j in jobs}
        rows = await self.db.aquery(
            "SELECT id, dedupe_key, state, attempts, last_error FROM webhook_events "
            f"WHERE kind = 'message' AND wa_id IN ({marks(users)})", tuple(users))
        per_wamid = collections.Counter(r[1] for r in rows)
        states = collections.Counter(str(r[2]) for r in rows)
        errors = collections.Counter(str(r[4])[:160] for r in rows if str(r[2]) not in FINISHED and r[4])
        retried = [r for r in rows if (r[3] or 0) > 1]
        other_rows = await self.db.aquery(
            "SELECT kind, state, count(*) FROM webhook_events WHERE kind <> 'message' "
            "GROUP BY kind, state")
        out_msgs = await self.db.aquery(
            "SELECT m.id, m.reply_key, m.status, m.sender, m.wamid, ct.wa_id FROM messages m "
            "JOIN chats c ON m.chat_id = c.id JOIN contacts ct ON c.contact_id = ct.id "
            f"WHERE m.direction = 'out' AND ct.wa_id IN ({marks(users)})", tuple(users))
        chats = await self.db.aquery(
            "SELECT c.state, count(*) FROM chats c JOIN contacts ct ON c.contact_id = ct.id "
            f"WHERE ct.wa_id IN ({marks(users)}) GROUP BY c.state", tuple(users))
        answers: dict[str, list[int]] = collections.defaultdict(list)
        answer_status: collections.Counter = collections.Counter()
        notices: collections.Counter = collections.Counter()
        other: collections.Counter = collections.Counter()
        cause_of: dict[int, str] = {}
        for mid, key, status, sender, _wamid, _wa in out_msgs:
            if key:
                cause, _, suffix = key.partition("#")
                if cause in wamids and REPLY_SUFFIX.match(suffix):
                    answers[cause].append(mid)
                    answer_status[str(status)] += 1
                    cause_of[mid] = cause
                    continue
                if cause in wamids:
                    notices[suffix.split("#")[0]] += 1
                    continue
            other[f"{sender} (no reply_key)" if not key else f"{sender} (other key)"] += 1
        accepted = sum(1 for m in out_msgs if m[4])

        # The simulator: what reached "Meta"
        sim_out = 0
        sim_by_cb: collections.Counter = collections.Counter()
        sim_unlinked = 0
        sim_status: collections.Counter = collections.Counter()

        async def thread(wa_id: str) -> dict:
            async with self.http.get(f"{self.sim}/_sim/users/{wa_id}/messages") as resp:
                return await resp.json()

        for start in range(0, len(users), 16):
            for data in await asyncio.gather(*(thread(u) for u in users[start:start + 16])):
                for m in data["messages"]:
                    if m["direction"] != "outbound":
                        continue
                    sim_out += 1
                    sim_status[str(m.get("status"))] += 1
                    cb = m.get("biz_opaque_callback_data") or (m.get("request") or {}).get(
                        "biz_opaque_callback_data")
                    if cb:
                        sim_by_cb[cb] += 1
                    else:
                        sim_unlinked += 1
        sim_answers: collections.Counter = collections.Counter()
        for cb, count in sim_by_cb.items():
            if cb.startswith("message:") and cb[8:].isdigit() and int(cb[8:]) in cause_of:
                sim_answers[cause_of[int(cb[8:])]] += count
        async with self.http.get(f"{self.sim}/_sim/webhooks") as resp:
            deliveries = (await resp.json())["deliveries"]
        own_fired = sum(1 for d in deliveries if d["kind"] == "message" and d.get("wamid") in wamids)
        sim_gave_up = collections.Counter(d["kind"] for d in deliveries if d.get("done") and not d.get("delivered"))
        sim_retried = collections.Counter(d["kind"] for d in deliveries if len(d.get("attempts") or []) > 1)
        del deliveries

        # Rasa's tracker store: the user turns each wamid left (a rewound attempt, as when
        # the action server is down, is undone by its UserUtteranceReverted)
        tracker = await asyncio.to_thread(self.tracker_turns, wamids)

        return {
            "jobs": len(jobs), "wamids": wamids, "rows": len(rows), "per_wamid": per_wamid,
            "states": states, "errors": errors, "retried": retried, "other_rows": other_rows,
            "answers": answers, "answer_status": answer_status, "notices": notices, "other": other,
            "accepted": accepted, "chats": chats, "sim_out": sim_out, "sim_by_cb": sim_by_cb,
            "sim_unlinked": sim_unlinked, "sim_status": sim_status, "sim_answers": sim_answers,
            "sim_own_fired": own_fired, "sim_gave_up": sim_gave_up, "sim_retried": sim_retried,
            "tracker": tracker,
        }

    def tracker_turns(self, wamids: set[str]) -> dict[str, object]:
        senders = [f"{self.stack.env['WHATSAPP_PHONE_NUMBER_ID']}_{u}" for u in self.users]
        sql = (f"SELECT sender_id, type_name, data FROM events WHERE sender_id IN ({marks(senders)}) "
               "ORDER BY id")
        try:
            if self.args.db == "postgres":
                rows = DeskDB(pg_dsn=self.tracker_dsn).query(sql, tuple(senders))
            else:
                rows = DeskDB(sqlite_path=Path(self.stack.env["RASA_TRACKER_DB"])).query(sql, tuple(senders))
        except Exception as exc:  # noqa: BLE001 - reported, the rest of the report stands
            return {"error": f"{type(exc).__name__}: {exc}"[:200]}
        raw: collections.Counter = collections.Counter()
        applied: dict[str, list[str]] = collections.defaultdict(list)
        for sender, type_name, data in rows:
            if type_name == "user":
                try:
                    mid = json.loads(data).get("message_id")
                except (TypeError, ValueError):
                    mid = None
                raw[mid] += 1
                applied[sender].append(mid)
            elif type_name == "rewind" and applied[sender]:
                applied[sender].pop()
            elif type_name == "restart":
                applied[sender] = []
        turns = collections.Counter(m for ms_ in applied.values() for m in ms_)
        return {
            "once": sum(1 for w in wamids if turns.get(w, 0) == 1),
            "none": sum(1 for w in wamids if turns.get(w, 0) == 0),
            "more": sum(1 for w in wamids if turns.get(w, 0) > 1),
            "raw_more": sum(1 for w in wamids if raw.get(w, 0) > 1),
            "other": sum(c for m, c in turns.items() if m not in wamids),
        }


# -- report -------------------------------------------------------------------------------

def git_commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    return head + (" + working tree" if dirty else "")


def counts(c: collections.Counter | dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(c.items())) or "0"


def log_stats(var: Path) -> tuple[list[list[object]], list[str]]:
    rows, top = [], []
    for path in sorted(var.glob("logs*/*.log")):
        label = f"{path.parent.name}/{path.name}"
        text = path.read_text(errors="replace").splitlines()
        freq: collections.Counter = collections.Counter()
        n_locked = n_tb = n_err = n_warn = 0
        for line in text:
            if "database is locked" in line:
                n_locked += 1
            if line.startswith("Traceback"):
                n_tb += 1
            if " ERROR " in line:
                n_err += 1
            if " WARNING " in line:
                n_warn += 1
            if " WARNING " in line or " ERROR " in line or line.startswith("Traceback") \
                    or "database is locked" in line:
                t = re.sub(r"^[\d:,. -]+", "", line)
                t = re.sub(r"wamid\.[\w=+/-]+|\d+", "#", t)[:170]
                freq[t] += 1
        rows.append([label, len(text), n_locked, n_tb, n_err, n_warn])
        for t, n in freq.most_common(6):
            top.append(f"  {label}: {n} x {t}")
    return rows, top


def report(b: Burst, r: dict, args, var: Path, argv: list[str]) -> None:
    n = r["jobs"]
    t_all = b.all_processed_at
    print()
    print(f"## Burst: {n} messages, {args.users} users, {args.concurrency} senders, "
          f"{args.db}, {args.rasa_servers} Rasa server(s)"
          + (f", kill -9 {args.kill}" if args.kill != "none" else "")
          + (f", action server down {args.actions_down:.0f}s" if args.actions_down else ""))
    print()
    print(table(["run", ""], [
        ["command", "PYTHONPATH=. .venv/bin/python " + shlex.join(argv)],
        ["commit", git_commit()],
        ["machine", f"nproc {len(os.sched_getaffinity(0))}; {load()} (at the end)"],
        ["databases", "SQLite (desk + tracker store), in-memory lock store" if args.db == "sqlite" else
         "PostgreSQL (desk + tracker store), Redis lock store"],
    ]))

    lat = b.ack_latencies
    send_s = (b.last_ack - b.first_post) if b.last_ack else float("nan")
    e2e = (t_all - b.first_post) if t_all else None
    print("\n### Acknowledgements\n")
    print(table(["", "value"], [
        ["webhook POSTs (all attempts, both copies)", b.posts],
        ["answered 200", len(lat)],
        ["not 200 (by outcome)", counts(b.failures)],
        ["retries by the senders (after 1 s)", b.retries],
        ["messages delivered twice at once", f"{b.twice} ({'one to each server' if len(b.urls) > 1 else 'same server'})"],
        ["messages acknowledged / sent", f"{len(b.acked)}/{n}"],
        ["given up (no 200 within --give-up)", len(b.given_up)],
        ["ack p50 / p95 / p99 / max ms", " / ".join(ms(v) for v in (
            percentile(lat, 50), percentile(lat, 95), percentile(lat, 99), max(lat) if lat else float("nan")))],
        ["send duration s (first POST to last 200)", f"{send_s:.1f}"],
        ["all processed after s (from first POST)", f"{e2e:.1f}" if e2e else f"not within {args.drain_timeout:.0f}s of the end"],
        ["messages/s end to end", f"{n / e2e:.1f}" if e2e else "-"],
    ]))

    per = r["per_wamid"]
    once = sum(1 for w in r["wamids"] if per.get(w, 0) == 1)
    missing = sum(1 for w in r["wamids"] if per.get(w, 0) == 0)
    more = sum(1 for w in r["wamids"] if per.get(w, 0) > 1)
    foreign = sum(c for w, c in per.items() if w not in r["wamids"])
    st = r["states"]
    retried = r["retried"]
    print("\n### Rows in webhook_events (these users' messages)\n")
    rows = [
        ["wamids recorded exactly once", f"{once}/{n}"],
        ["not recorded / recorded more than once", f"{missing} / {more}"],
        ["rows of other wamids for these users", foreign],
        ["done / ignored", f"{st.get('done', 0)} / {st.get('ignored', 0)}"],
        ["left pending / processing / failed",
         f"{st.get('pending', 0)} / {st.get('processing', 0)} / {st.get('failed', 0)}"],
        ["rows claimed more than once (attempts > 1)",
         f"{len(retried)}" + (f" (max attempts {max(x[3] for x in retried)})" if retried else "")],
    ]
    other_rows = collections.Counter()
    for kind, state, count in r["other_rows"]:
        other_rows[f"{kind} {state}"] += count
    rows.append(["other rows (statuses etc., every user) by state", counts(other_rows)])
    print(table(["", "value"], rows))
    for err, c in r["errors"].most_common(5):
        print(f"  unfinished row error ({c}x): {err}")

    answers, sim_answers = r["answers"], r["sim_answers"]
    hist = collections.Counter(min(len(answers.get(w, [])), 2) for w in r["wamids"])
    sim_hist = collections.Counter(min(sim_answers.get(w, 0), 2) for w in r["wamids"])
    dup_sends = sum(c - 1 for c in r["sim_by_cb"].values() if c > 1)
    print("\n### Answers (bot messages keyed <user wamid>#<n>)\n")
    print(table(["", "desk (messages.reply_key)", "simulator (received by 'Meta')"], [
        ["user messages answered exactly once", f"{hist.get(1, 0)}/{n}", f"{sim_hist.get(1, 0)}/{n}"],
        ["answered not at all", hist.get(0, 0), sim_hist.get(0, 0)],
        ["answered more than once", hist.get(2, 0), sim_hist.get(2, 0)],
        ["answers by status", counts(r["answer_status"]), counts(r["sim_status"]) + " (all outbound)"],
        ["notices (<wamid>#<key>#1)", counts(r["notices"]), "-"],
        ["other outbound to these users", counts(r["other"]), f"{r['sim_unlinked']} without callback data"],
        ["outbound messages in total", f"{sum(len(v) for v in answers.values()) + sum(r['notices'].values()) + sum(r['other'].values())}"
         f" ({r['accepted']} accepted by Meta: wamid set)", r["sim_out"]],
        ["one desk message sent to Meta more than once", "-", dup_sends],
        ["chats of these users by state", counts({str(s): c for s, c in r["chats"]}), "-"],
        ["simulator's own delayed deliveries that fired", "-", r["sim_own_fired"]],
        ["webhooks the simulator retried / gave up on", "-",
         f"{counts(r['sim_retried'])} / {counts(r['sim_gave_up'])}"],
    ]))
    tr = r["tracker"]
    print("\n### Rasa's tracker store (user turns per wamid, rewound attempts undone)\n")
    if "error" in tr:
        print(f"could not read it: {tr['error']}")
    else:
        print(table(["", "value"], [
            ["wamids with exactly one user turn", f"{tr['once']}/{n}"],
            ["with none / with more than one", f"{tr['none']} / {tr['more']}"],
            ["wamids given to Rasa more than once (incl. rewound attempts)", tr["raw_more"]],
            ["user turns of other message ids for these users", tr["other"]],
        ]))

    if b.fault:
        f = b.fault
        t0 = f["t_fault"]
        prog = b.progress
        base = f["processed_at_fault"]  # queried once the kill / stop had returned
        first_after = next((p[0] for p in prog if p[0] > t0 and p[1] > base), None)
        at_up = [p[1] for p in prog if p[0] <= f["t_up"]]
        during = (at_up[-1] - base) if at_up else 0
        window = [p for p in prog if p[0] >= t0 and (t_all is None or p[0] <= t_all)]
        stall, last_t, last_v = 0.0, t0, None
        for t, v, _ in window:
            if last_v is None or v > last_v:
                stall = max(stall, t - last_t)
                last_t, last_v = t, v
        fr = [
            ["fault", f["kind"]],
            ["messages acknowledged at the fault", f["acked_at_fault"]],
            ["service healthy again after s", f"{f['t_up'] - t0:.1f}"],
            ["rows processed while it was down (after the fault, until healthy)", during],
            ["first row processed after the fault, s after the fault",
             f"{first_after - t0:.1f}" if first_after else "-"],
            ["all processed, s after the fault", f"{t_all - t0:.1f}" if t_all else "not within the wait"],
            ["all processed, s after healthy again", f"{t_all - f['t_up']:.1f}" if t_all else "-"],
            ["longest time without a row processed, s (fault to all processed)", f"{stall:.1f}"],
        ]
        if "inflight" in f:
            fr.append(["rows processing at the kill", f["inflight"]])
            fr.append(["... all of them finished, s after the kill",
                       f"{b.inflight_done_at - t0:.1f}" if b.inflight_done_at else
                       ("-" if not f["inflight"] else "not seen")])
        print("\n### Fault and recovery\n")
        print(table(["", "value"], fr))

    cpu = b.cpu.frozen or {}
    print("\n### CPU (first POST to all processed)\n")
    crows = []
    for name in ["rasa", "rasa-b", "actions", "desk", "simulator", "bench client"]:
        if name in cpu:
            runs = b.cpu.incarnations(name)
            label = name + (f" ({runs} processes: restart incl. start-up)" if runs > 1 else "")
            crows.append([label, f"{cpu[name]:.1f}", f"{cpu[name] * 1000 / n:.1f}"])
    rasa = cpu.get("rasa", 0.0) + cpu.get("rasa-b", 0.0)
    server = rasa + cpu.get("actions", 0.0) + cpu.get("desk", 0.0)
    crows.append(["Rasa server(s)", f"{rasa:.1f}", f"{rasa * 1000 / n:.1f}"])
    crows.append(["server side (Rasa + actions + desk)", f"{server:.1f}", f"{server * 1000 / n:.1f}"])
    print(table(["process", "CPU s", "CPU ms / message"], crows))

    lrows, top = log_stats(var)
    print("\n### Logs\n")
    print(table(["log", "lines", "database is locked", "Traceback", "ERROR", "WARNING"],
                lrows or [[f"(no logs found under {var}: removed during the run?)", 0, 0, 0, 0, 0]]))
    if top:
        print("\nmost frequent warning/error lines (numbers and wamids blanked):")
        print("\n".join(top))
    if b.monitor_errors:
        print(f"\nbench monitor query errors: {counts(b.monitor_errors)}")
    if b.given_up:
        print(f"\ngiven up wamids (first 5): {b.given_up[:5]}")


# -- main ------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--messages", type=int, help="messages in the burst (default 2000; quick 200)")
    p.add_argument("--users", type=int, help="distinct WhatsApp users (default 100; quick 20)")
    p.add_argument("--concurrency", type=int, help="concurrent senders (default 32; quick 8)")
    p.add_argument("--quick", action="store_true", help="a short run, to check the bench works")
    p.add_argument("--kill", choices=["rasa", "actions", "desk", "none"], default="none",
                   help="SIGKILL this service's process group at half the burst, then restart it")
    p.add_argument("--actions-down", type=float, default=0.0, metavar="SECONDS",
                   help="stop the action server at a third of the burst, start it again after SECONDS")
    p.add_argument("--rasa-servers", type=int, choices=[1, 2], default=1,
                   help="2: a second Rasa server (requires --db postgres)")
    p.add_argument("--drain-timeout", type=float, default=300.0,
                   help="max wait for processing after the sends (and the fault) are over")
    p.add_argument("--give-up", type=float, default=300.0,
                   help="a sender stops retrying a webhook after this many seconds")
    p.add_argument("--model", type=Path, help="trained model (default models/tsunagi.tar.gz)")
    p.add_argument("--keep", action="store_true", help="keep the temporary var dir and logs")
    a = p.parse_args(argv)
    a.messages = a.messages or (200 if a.quick else 2000)
    a.users = a.users or (20 if a.quick else 100)
    a.concurrency = a.concurrency or (8 if a.quick else 32)
    if a.rasa_servers == 2 and a.db != "postgres":
        p.error("--rasa-servers 2 requires --db postgres")
    if a.messages < 1 or a.users < 1 or a.concurrency < 1:
        p.error("--messages, --users and --concurrency must be at least 1")
    return a


def redis_up() -> bool:
    try:
        socket.create_connection(REDIS, timeout=2).close()
        return True
    except OSError:
        return False


async def bench(stack: BenchStack, second: Stack | None, db: DeskDB, args, tracker_dsn: str | None):
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        b = Burst(stack, second, db, http, args)
        b.tracker_dsn = tracker_dsn
        result = await b.run()
    return b, result


def main(argv=None) -> int:
    argv_list = list(sys.argv if argv is None else ["bench/bench_burst.py", *argv])
    args = parse_args(argv)
    var = temp_var("tsunagi-bench-burst-")
    pg: Postgres | None = None
    stack: BenchStack | None = None
    second: Stack | None = None
    print(machine())
    print(model_info(args.model))
    print(f"commit {git_commit()}")
    try:
        # Meta retries a webhook for days: the simulator's default (5 attempts, ~8 s) would
        # drop status webhooks during a restart, so it retries for about three minutes here.
        extra = {"RASA_TELEMETRY_ENABLED": "false", "SIM_WEBHOOK_MAX_ATTEMPTS": "40",
                 "SIM_WEBHOOK_RETRY_MAX_MS": "5000"}
        if args.db == "postgres":
            if not redis_up():
                raise RuntimeError(f"Redis is not running at {REDIS[0]}:{REDIS[1]}")
            pg = Postgres()
            extra.update(pg.env())
        stack = BenchStack(var, baselines=(), model=args.model, extra_env=extra)
        print(f"starting simulator, desk, action server and Rasa server on {args.db} "
              f"(var dir {var}) ...", flush=True)
        t0 = time.perf_counter()
        stack.start()
        if args.rasa_servers == 2:
            env_b = {**stack.env, "RASA_PORT": str(free_port())}
            second = Stack(env_b, var / "model.tar.gz", var / "logs-b", only={"rasa"})
            second.start(timeout=300)
        print(f"all up after {time.perf_counter() - t0:.0f}s", flush=True)
        db = DeskDB(pg_dsn=pg.dsn(pg.desk_db)) if pg else DeskDB(sqlite_path=stack.desk_db)
        b, result = asyncio.run(bench(stack, second, db, args, pg.dsn(pg.tracker_db) if pg else None))
        report(b, result, args, var, argv_list)
        return 0
    except Exception:  # noqa: BLE001 - the run could not be completed
        traceback.print_exc()
        print("\nthe run could not be completed", file=sys.stderr)
        if var.exists():
            for path in sorted(var.glob("logs*/*.log")):
                tail = path.read_text(errors="replace").splitlines()[-15:]
                print(f"--- last lines of {path}:\n" + "\n".join(tail), file=sys.stderr)
        return 1
    finally:
        if second is not None:
            second.stop()
        if stack is not None:
            stack.stop()
        if pg is not None:
            try:
                pg.drop()
            except Exception as exc:  # noqa: BLE001
                print(f"could not drop the PostgreSQL databases {pg.created}: {exc}", file=sys.stderr)
        cleanup(var, args.keep)


if __name__ == "__main__":
    sys.exit(main())
