#!/usr/bin/env python
"""End-to-end bot turns through tsunagi's WhatsApp channel, beside stock Rasa's
REST channel on the same model, in the same run.

tsunagi: a simulated WhatsApp user writes through the Cloud API simulator
(`POST /_sim/users/{wa_id}/messages`: the simulator signs and delivers Meta's
webhook to the channel); the turn ends when the bot's reply reaches the simulator
(`POST /{phone-number-id}/messages`), seen through one long-poll of
`GET /_sim/events`. Between the two: signature check, durable inbox, desk records,
mark-as-read, the Rasa turn (NLU, policies, tracker store, action server for the
greeting), the reply's record and Graph API call; the simulator then sends
sent/delivered/read status webhooks, which the channel also records and applies.

Baseline: stock Rasa's REST channel (`rest:`), same model and action server,
`POST /webhooks/rest/webhook`, whose response body is the bot's reply; with the
SQLite tracker store like tsunagi's and, for design.md's reference figures, with
Rasa's default in-memory tracker store.

Each measured as one turn at a time (several users taking turns) and with 16
users writing concurrently (each waits for its reply before writing again).

    PYTHONPATH=. .venv/bin/python bench/bench_bot_turns.py [--quick]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

from bench._common import (BASELINES, TEXTS, BenchStack, Run, cleanup, closed_loop, load, model_info,  # noqa: E402
                           cpu_rows, latency_rows, machine, print_errors, table, temp_var)
from bench._profile import print_profile  # noqa: E402

REST = "/webhooks/rest/webhook"

# Stages of a WhatsApp turn, between consecutive recorded timestamps.
STAGES = [
    ("intake", "user writes -> webhook row recorded (simulator signs + POSTs; channel "
               "checks signature, parses, records)"),
    ("claim", "row recorded -> user message in desk (ack, kick, claim row, number, "
              "contact/chat/message records)"),
    ("nlu", "desk message -> Rasa has parsed it (mark-as-read call, lock, tracker "
            "retrieve, NLU)"),
    ("policy", "parsed -> reply queued in desk (policies, actions, reply record)"),
    ("send", "reply queued -> reply at the simulator (Graph API send, long-poll)"),
]


def _ts(text: str) -> float:
    """A desk timestamp (naive UTC text on SQLite) as epoch seconds."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()


class ReplyWatch:
    """One long-poll loop over the simulator's events; hands each outbound message
    (the business's reply) to the waiting user, stamped with its arrival time."""

    def __init__(self, http: aiohttp.ClientSession, sim: str):
        self.http, self.sim = http, sim
        self.queues: dict[str, asyncio.Queue] = {}
        self.cursor = 0
        self.task: asyncio.Task | None = None

    def queue(self, wa_id: str) -> asyncio.Queue:
        return self.queues.setdefault(wa_id, asyncio.Queue())

    async def start(self) -> None:
        async with self.http.get(f"{self.sim}/_sim/events", params={"since": "0", "timeout": "0"}) as r:
            self.cursor = (await r.json())["cursor"]
        self.task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            try:
                async with self.http.get(f"{self.sim}/_sim/events",
                                         params={"since": str(self.cursor), "timeout": "20"}) as r:
                    data = await r.json()
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                await asyncio.sleep(0.1)  # the turns waiting on a reply time out on their own
                continue
            now, wall = time.perf_counter(), time.time()
            for event in data["events"]:
                msg = event["message"]
                if event["type"] == "message" and msg["direction"] == "outbound":
                    self.queue(msg["wa_id"]).put_nowait((now, wall, msg))
            self.cursor = data["cursor"]

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


class TurnBench:
    def __init__(self, stack: BenchStack, http: aiohttp.ClientSession, args):
        self.stack, self.http, self.args = stack, http, args
        self.sim = stack.urls["simulator"]
        self.watch: ReplyWatch | None = None
        self.phase_ids: dict[str, int] = {}
        self.texts = list(TEXTS)
        self.turns: list[tuple[str, str, float, str, float]] = []

    async def sim_reset(self) -> None:
        """A clean simulator per phase (its long-poll scans its whole event list)."""
        if self.watch:
            await self.watch.stop()
        async with self.http.post(f"{self.sim}/_sim/reset") as r:
            await r.read()
        self.watch = ReplyWatch(self.http, self.sim)
        await self.watch.start()

    def wa_id(self, phase: str, user: int) -> str:
        k = self.phase_ids.setdefault(phase, len(self.phase_ids) + 1)
        return f"4478{k:04d}{user:04d}"  # a UK mobile number, new users per phase

    # -- one turn -----------------------------------------------------------------------
    async def whatsapp_turn(self, job) -> float:
        """One turn; its latency runs to the reply's arrival in the long-poll."""
        wa_id, text = job
        q = self.watch.queue(wa_id)
        t0, wall0 = time.perf_counter(), time.time()
        async with self.http.post(f"{self.sim}/_sim/users/{wa_id}/messages", json={
                "type": "text", "text": text, "profile_name": "Bench User"}) as r:
            result = await r.json()
            if r.status != 200 or result.get("webhook_status") != 200:
                raise RuntimeError(f"simulator {r.status}, webhook {result.get('webhook_status')}")
        try:
            at, wall, reply = await asyncio.wait_for(q.get(), self.args.turn_timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f"no reply within {self.args.turn_timeout:.0f}s") from None
        self.turns.append((wa_id, result["wamid"], wall0, reply["wamid"], wall))
        return at - t0

    def rest_turn(self, name: str):
        url = self.stack.urls[name] + REST

        async def call(job) -> None:
            sender, text = job
            async with self.http.post(url, json={"sender": sender, "message": text}) as r:
                body = await r.read()
                if r.status != 200:
                    raise RuntimeError(f"HTTP {r.status}")
                if not json.loads(body):
                    raise RuntimeError("no reply in the REST response")
        return call

    # -- which texts to use --------------------------------------------------------------
    async def probe(self) -> None:
        """Warm up every server and keep the texts each answers with exactly one message
        (the model, the action server and the data may be mid-change in a working tree)."""
        await self.sim_reset()
        keep = []
        for i, text in enumerate(TEXTS):
            wa_id = self.wa_id("probe", i)
            q = self.watch.queue(wa_id)
            ok = True
            try:
                async with self.http.post(f"{self.sim}/_sim/users/{wa_id}/messages", json={
                        "type": "text", "text": text, "profile_name": "Bench User"}) as r:
                    await r.read()
                await asyncio.wait_for(q.get(), 20)
                await asyncio.sleep(1.0)  # a second message would show up by now
                ok = q.empty()
                why = "more than one reply" if not ok else ""
            except asyncio.TimeoutError:
                ok, why = False, "no reply"
            for name in self.args.baselines:
                async with self.http.post(self.stack.urls[name] + REST, json={
                        "sender": f"probe-{i}", "message": text}) as r:
                    replies = json.loads(await r.read()) if r.status == 200 else []
                if len(replies) != 1:
                    ok, why = False, f"{name}: {len(replies)} replies"
            if ok:
                keep.append(text)
            else:
                print(f"  (not used: {text!r}: {why})", flush=True)
        if not keep:
            raise SystemExit("no text got exactly one reply; is the model trained for this data?")
        self.texts = keep

    # -- phases ------------------------------------------------------------------------
    def lanes(self, phase: str, users: int, turns_per_user: int, whatsapp: bool,
              sequential: bool) -> list[list[tuple[str, str]]]:
        """Each user's conversation cycles through the texts from its own offset."""
        convs = []
        for u in range(users):
            who = self.wa_id(phase, u) if whatsapp else f"bench-{phase}-{u}"
            convs.append([(who, self.texts[(u + t) % len(self.texts)]) for t in range(turns_per_user)])
        if sequential:  # one lane: user 0 turn 0, user 1 turn 0, ..., user 0 turn 1, ...
            return [[conv[t] for t in range(turns_per_user) for conv in convs]]
        return convs

    async def run_whatsapp(self, phase: str, users: int, turns: int, sequential: bool) -> Run:
        await self.sim_reset()
        self.turns = []
        lanes = self.lanes(phase, users, turns, True, sequential)
        run = await closed_loop(f"tsunagi {phase}", lanes, self.whatsapp_turn,
                                time_limit=self.args.time_limit, cpu=self.stack.cpu)
        await asyncio.sleep(0.5)  # a stray second reply would show up by now
        users_ = {lane_job[0] for lane in lanes for lane_job in lane}
        async with self.http.get(f"{self.sim}/_sim/messages", params={"since": "0"}) as r:
            run.notes["replies_seen"] = sum(m["wa_id"] in users_ for m in (await r.json())["messages"])
        run.notes["timeline"] = self.timeline()
        return run

    def timeline(self) -> list[tuple[str, float]]:
        """Median time of each stage of a turn, from the timestamps the simulator's
        user (this client), the desk database and Rasa's tracker store recorded."""
        import statistics

        stages: dict[str, list[float]] = {k: [] for k, _ in STAGES}
        tracker = self.stack.var / "rasa_tracker.db"
        for wa_id, wamid, t_post, reply_wamid, t_reply in self.turns:
            try:
                [(received,)] = self.stack.desk_query(
                    "SELECT received_at FROM webhook_events WHERE dedupe_key = ?", (wamid,))
                [(inbound,)] = self.stack.desk_query(
                    "SELECT created_at FROM messages WHERE wamid = ?", (wamid,))
                [(queued,)] = self.stack.desk_query(
                    "SELECT created_at FROM messages WHERE wamid = ?", (reply_wamid,))
                con = sqlite3.connect(f"file:{tracker}?mode=ro", uri=True, timeout=30)
                try:
                    [(nlu_done,)] = con.execute(
                        "SELECT timestamp FROM events WHERE type_name = 'user' AND data LIKE ?",
                        (f'%"message_id": "{wamid}"%',)).fetchall()
                finally:
                    con.close()
            except ValueError:  # a row missing (or twice): leave this turn out
                continue
            points = [t_post, _ts(received), _ts(inbound), float(nlu_done), _ts(queued), t_reply]
            for (key, _), a, b in zip(STAGES, points, points[1:]):
                stages[key].append(b - a)
        return [(label, statistics.median(stages[key]) if stages[key] else float("nan"))
                for key, label in STAGES]

    async def run_rest(self, name: str, phase: str, users: int, turns: int, sequential: bool) -> Run:
        return await closed_loop(f"{name} {phase}", self.lanes(phase, users, turns, False, sequential),
                                 self.rest_turn(name), time_limit=self.args.time_limit,
                                 cpu=self.stack.cpu)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a short run, to check the bench works")
    p.add_argument("--seq-users", type=int, help="users taking turns one at a time (default 12; quick 3)")
    p.add_argument("--seq-turns", type=int, help="turns per user, one at a time (default 10; quick 3)")
    p.add_argument("--concurrency", type=int, default=16, help="concurrent users (default 16)")
    p.add_argument("--conc-turns", type=int, help="turns per concurrent user (default 15; quick 2)")
    p.add_argument("--time-limit", type=float, help="seconds per phase (default 150; quick 40)")
    p.add_argument("--turn-timeout", type=float, default=30.0, help="max wait for one reply")
    p.add_argument("--baselines", default="rest-sql,rest-mem",
                   help=f"comma list of {', '.join(BASELINES)} (or 'none')")
    p.add_argument("--profile", action="store_true",
                   help="sample tsunagi's Rasa server's stacks and print where its time goes")
    p.add_argument("--what-if", action="append", default=[], choices=["sqlite-pool", "serial-writes"],
                   help="run tsunagi's Rasa server with a bench-only experiment (bench/_sampler.py); "
                        "not the product as committed")
    p.add_argument("--model", type=Path, help="trained model (default models/tsunagi.tar.gz)")
    p.add_argument("--keep", action="store_true", help="keep the temporary var dir and logs")
    a = p.parse_args(argv)
    a.seq_users = a.seq_users or (3 if a.quick else 12)
    a.seq_turns = a.seq_turns or (3 if a.quick else 10)
    a.conc_turns = a.conc_turns or (2 if a.quick else 15)
    a.time_limit = a.time_limit or (40.0 if a.quick else 150.0)
    a.baselines = [] if a.baselines == "none" else a.baselines.split(",")
    unknown = set(a.baselines) - set(BASELINES)
    if unknown:
        p.error(f"unknown baselines {unknown}")
    return a


async def bench(stack: BenchStack, args) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        b = TurnBench(stack, http, args)
        print("... probing texts and warming up", flush=True)
        await b.probe()
        stack.profile_command("reset")
        plans = [("one at a time", "seq", args.seq_users, args.seq_turns, True),
                 (f"{args.concurrency} concurrent users", f"c{args.concurrency}",
                  args.concurrency, args.conc_turns, False)]
        results = []
        for title, phase, users, turns, sequential in plans:
            print(f"... {title}: tsunagi", flush=True)
            mine = await b.run_whatsapp(phase, users, turns, sequential)
            stack.profile_command(f"dump turns-{phase}")
            stack.profile_command("reset")
            theirs = []
            for name in args.baselines:
                print(f"... {title}: {name}", flush=True)
                theirs.append(await b.run_rest(name, phase, users, turns, sequential))
            results.append((title, phase, mine, theirs))
        await b.watch.stop()
    report(results, args, stack, b.texts)


def report(results, args, stack: BenchStack, texts) -> None:
    print()
    print("Bot turns: tsunagi's WhatsApp channel (through the Cloud API simulator) vs stock "
          "Rasa REST, same model")
    print(f"texts: {texts}")
    print("tsunagi: user's message to the simulator -> signed webhook -> channel -> Rasa -> "
          "reply at the simulator;\nREST: POST /webhooks/rest/webhook -> reply in the response. "
          "Client and servers share this machine.")
    if args.what_if:
        print(f"WHAT-IF RUN: tsunagi's Rasa server ran with bench-only patches {args.what_if}")
    names = [BASELINES[n] for n in args.baselines]
    for title, phase, mine, theirs in results:
        runs = [mine] + theirs
        print(f"\n{title}")
        head = ["", "tsunagi WhatsApp"] + names
        rows = latency_rows(runs, "turns/s")
        rows[0][0] = "turns ok / planned"
        rows.append(["replies seen at the simulator", str(mine.notes.get("replies_seen", "-"))]
                    + ["-"] * len(theirs))
        rows += cpu_rows(runs, ["rasa", "actions", "simulator", "desk", *args.baselines,
                                "bench client"])
        cpu_turn = ["CPU ms per turn, server side"]
        for r, own in zip(runs, ["rasa"] + list(args.baselines)):
            server = sum(v for k, v in r.cpu.items() if k in (own, "actions", "desk")
                         or (own == "rasa" and k == "simulator"))
            cpu_turn.append(f"{1000 * server / r.ok:.0f}" if r.ok else "-")
        rows.append(cpu_turn)
        print(table(head, rows))
        print_errors(runs)
        if mine.notes.get("timeline"):
            print(f"  where a tsunagi turn's time goes ({title}; medians of each stage, ms):")
            for label, seconds in mine.notes["timeline"]:
                print(f"    {seconds * 1000:7.1f}  {label}")
    print("\n(CPU ms per turn: tsunagi = its Rasa server + action server + desk + the simulator "
          "standing in for Meta; REST = that Rasa server + action server + desk.)")
    if args.profile:
        print_profile(stack.profile_dir, [f"turns-{phase}" for _, phase, _, _ in results])


def main(argv=None) -> int:
    args = parse_args(argv)
    var = temp_var("tsunagi-bench-turns-")
    stack = BenchStack(var, baselines=args.baselines,
                       profile_dir=var / "profile" if args.profile else None,
                       patches=args.what_if, model=args.model)
    print(machine())
    print(model_info(args.model))
    print(f"starting simulator, desk, action server, tsunagi's Rasa server and "
          f"{', '.join(args.baselines) or 'no baseline'} (var dir {var}) ...", flush=True)
    t0 = time.perf_counter()
    try:
        stack.start()
        print(f"all up after {time.perf_counter() - t0:.0f}s", flush=True)
        asyncio.run(bench(stack, args))
        print(f"\n{load()} at the end")
        print("warnings and errors logged during the run:")
        print(stack.log_summary())
    finally:
        stack.stop()
        cleanup(var, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
