#!/usr/bin/env python
"""Signed-webhook acknowledgement latency and rate of tsunagi's WhatsApp channel,
beside stock Rasa's REST channel on the same model, in the same run.

tsunagi: Meta-shaped `messages` webhooks (unique wamids, several users; the
bodies are built beforehand by the Cloud API simulator, so it knows the messages
and the replies to them succeed), signed with HMAC-SHA256 over the raw body
(`X-Hub-Signature-256: sha256=<hex>`), POSTed by the bench straight to Rasa's
`/webhooks/whatsapp/webhook` by N concurrent senders; the time to the 200 is
measured. The channel answers 200 once the message is durably
recorded in the desk's `webhook_events`; the bot turn runs afterwards. Then the
bench re-delivers a sample (Meta retries), and checks in the desk database that
every message was recorded exactly once and processed (done/ignored) within a
bounded wait; the time until then gives the processing (drain) rate. A second
tsunagi column sends the same webhooks for a number the desk does not know: they
are recorded and ignored, no bot turn: the cost of intake alone.

Baseline: stock Rasa's REST channel (`rest:`), same model, same action server,
`POST /webhooks/rest/webhook`, same counts and concurrency. The REST channel
answers only after the whole bot turn (its body is the bot's reply), so its
latency is a full turn while tsunagi's is an acknowledgement.

    PYTHONPATH=. .venv/bin/python bench/bench_webhook_ack.py [--quick]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

from cloudapi import signature  # noqa: E402
from bench._common import (APP_SECRET, BASELINES, TEXTS, BenchStack,  # noqa: E402
                           Run, cleanup, closed_loop, load, model_info, lanes_round_robin,
                           latency_rows, machine, print_errors, table, temp_var)
from bench._profile import print_profile  # noqa: E402

WEBHOOK = "/webhooks/whatsapp/webhook"
REST = "/webhooks/rest/webhook"
UNKNOWN_NUMBER = "100000000009999"  # not registered in the desk: recorded, then ignored


def webhook_body(phone_number_id: str, wa_id: str, wamid: str, text: str, name: str) -> bytes:
    """One inbound text message in the shape of Meta's Cloud API webhook."""
    return json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{"id": "200000000000009", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000009", "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": text}}],
        }}]}],
    }, separators=(",", ":")).encode()


def sign(body: bytes) -> str:
    return signature.sign(body, APP_SECRET)


class AckBench:
    def __init__(self, stack: BenchStack, http: aiohttp.ClientSession, args):
        self.stack, self.http, self.args = stack, http, args
        self.phase_ids: dict[str, int] = {}
        self.wamids: dict[str, list[str]] = {}

    # -- tsunagi -------------------------------------------------------------------
    async def messages(self, phase: str, n: int, users: int,
                       intake_only: bool = False) -> list[tuple[str, str, bytes]]:
        """(wa_id, wamid, signed body) for n messages spread over `users` users.

        The simulator builds each body (Meta's shape, a real wamid) as a user's
        message whose own delivery is scheduled 10 minutes later (after the bench):
        it knows the message, so the channel's mark-as-read and reply succeed as
        they would with Meta. The bench delivers the bodies itself.

        `intake_only`: the bench builds the bodies for a business number the desk does
        not know; the channel records them and then ignores them (no bot turn).
        """
        k = self.phase_ids.setdefault(phase, len(self.phase_ids) + 1)
        sim = self.stack.urls["simulator"]
        if intake_only:
            out = []
            for i in range(n):
                wa_id = f"4476{k:04d}{i % users:04d}"
                wamid = f"wamid.bench-{phase}-{i:06d}"
                out.append((wa_id, wamid, webhook_body(UNKNOWN_NUMBER, wa_id, wamid,
                                                       TEXTS[i % len(TEXTS)], f"Bench User {i % users}")))
            self.wamids[phase] = [w for _, w, _ in out]
            return out

        async def make(i: int) -> tuple[str, str, bytes]:
            u = i % users
            wa_id = f"4477{k:04d}{u:04d}"  # a UK mobile number, new users per phase
            async with self.http.post(f"{sim}/_sim/users/{wa_id}/messages", json={
                    "type": "text", "text": TEXTS[i % len(TEXTS)],
                    "profile_name": f"Bench User {u}", "delay_ms": 600_000}) as resp:
                result = await resp.json()
                if resp.status not in (200, 202):
                    raise RuntimeError(f"simulator: HTTP {resp.status} {result}")
            body = json.dumps(result["payload"], separators=(",", ":")).encode()
            return wa_id, result["wamid"], body

        out: list[tuple[str, str, bytes]] = []
        for start in range(0, n, 16):  # per user in order: message i before i + users
            out += await asyncio.gather(*(make(i) for i in range(start, min(n, start + 16))))
        self.wamids[phase] = [w for _, w, _ in out]
        return out

    async def post_webhook(self, job) -> None:
        _, _, body = job
        async with self.http.post(self.stack.urls["rasa"] + WEBHOOK, data=body, headers={
                "Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")

    def inbox_state(self, phase: str) -> dict[str, int]:
        """Rows of this phase's messages in the desk's webhook_events, by state."""
        out = {"rows": 0, "distinct": 0}
        wamids = self.wamids[phase]
        for start in range(0, len(wamids), 500):
            chunk = wamids[start:start + 500]
            rows = self.stack.desk_query(
                "SELECT state, count(*), count(DISTINCT dedupe_key) FROM webhook_events "
                f"WHERE kind = 'message' AND dedupe_key IN ({','.join('?' * len(chunk))}) "
                "GROUP BY state", tuple(chunk))
            for state, count, distinct in rows:
                out[str(state)] = out.get(str(state), 0) + count
                out["rows"] += count
                out["distinct"] += distinct
        return out

    def bot_replies(self, wa_ids: set[str]) -> int:
        marks = ",".join("?" * len(wa_ids))
        [(n,)] = self.stack.desk_query(
            "SELECT count(*) FROM messages m JOIN chats c ON m.chat_id = c.id "
            f"JOIN contacts ct ON c.contact_id = ct.id WHERE ct.wa_id IN ({marks}) "
            "AND m.sender = 'bot'", tuple(wa_ids))
        return n

    async def run_tsunagi(self, phase: str, n: int, concurrency: int,
                          intake_only: bool = False) -> Run:
        jobs = await self.messages(phase, n, self.args.users, intake_only)
        cpu0 = self.stack.cpu()
        run = await closed_loop(f"tsunagi {phase}", lanes_round_robin(jobs, concurrency),
                                self.post_webhook, time_limit=self.args.time_limit,
                                cpu=self.stack.cpu)
        sent = run.ok + len(run.errors)
        # Meta redelivers: send ~5% again (concurrently); none may become a new row.
        again = jobs[:sent:20]
        redelivery = await closed_loop("redelivery", lanes_round_robin(again, concurrency),
                                       self.post_webhook, time_limit=self.args.time_limit)
        # Wait (bounded) until every recorded message is processed.
        drain_start = time.perf_counter()
        processed_at = None
        state = self.inbox_state(phase)
        while time.perf_counter() - drain_start < self.args.drain_timeout:
            state = self.inbox_state(phase)
            finished = state.get("done", 0) + state.get("ignored", 0)
            if state["rows"] >= run.ok and finished == state["rows"]:
                processed_at = time.perf_counter()
                break
            await asyncio.sleep(0.2)
        cpu1 = self.stack.cpu()
        run.notes["cpu_phase"] = {k: cpu1[k] - cpu0.get(k, 0.0) for k in cpu1}
        run.notes["redelivered"] = f"{redelivery.ok}/{len(again)} (200)"
        run.notes["state"] = state
        run.notes["exactly_once"] = state["rows"] == state["distinct"] == run.ok
        run.notes["replies"] = self.bot_replies({j[0] for j in jobs})
        if processed_at is not None:
            total = run.wall + redelivery.wall + (processed_at - drain_start)
            run.notes["drain_s"] = total
            run.notes["processed_rate"] = state["rows"] / total
        # A clean simulator for the next phase (also cancels the scheduled deliveries).
        async with self.http.post(self.stack.urls["simulator"] + "/_sim/reset") as resp:
            await resp.read()
        return run

    # -- stock REST ----------------------------------------------------------------
    async def run_rest(self, name: str, phase: str, n: int, concurrency: int) -> Run:
        url = self.stack.urls[name] + REST
        jobs = [(f"bench-{phase}-{i % self.args.users}", TEXTS[i % len(TEXTS)])
                for i in range(n)]

        replies = [0]

        async def call(job) -> None:
            sender, text = job
            async with self.http.post(url, json={"sender": sender, "message": text}) as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"HTTP {resp.status}")
                replies[0] += bool(json.loads(body))

        run = await closed_loop(f"{name} c={concurrency}", lanes_round_robin(jobs, concurrency),
                                call, time_limit=self.args.time_limit, cpu=self.stack.cpu)
        run.notes["replies"] = replies[0]
        run.notes["cpu_phase"] = run.cpu
        return run


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a short run, to check the bench works")
    p.add_argument("--messages", type=int, help="messages per concurrency level (default 300; quick 30)")
    p.add_argument("--concurrency", default="1,16", help="comma list of concurrent senders")
    p.add_argument("--users", type=int, default=20, help="distinct WhatsApp users per phase")
    p.add_argument("--time-limit", type=float, help="seconds per load phase (default 120; quick 30)")
    p.add_argument("--drain-timeout", type=float, help="max wait for processing (default 240; quick 90)")
    p.add_argument("--baselines", default="rest-sql",
                   help=f"comma list of {', '.join(BASELINES)} (or 'none')")
    p.add_argument("--no-intake-only", dest="intake_only", action="store_false",
                   help="skip the unknown-number (intake only) column")
    p.add_argument("--profile", action="store_true",
                   help="sample tsunagi's Rasa server's stacks and print where its time goes")
    p.add_argument("--what-if", action="append", default=[], choices=["sqlite-pool", "serial-writes"],
                   help="run tsunagi's Rasa server with a bench-only experiment (bench/_sampler.py); "
                        "not the product as committed")
    p.add_argument("--sustained", type=float, metavar="SECONDS",
                   help="only the intake: unknown-number webhooks from the senders of --concurrency, "
                        "as fast as they are acknowledged, for SECONDS (Meta's top tier is 1,000/s)")
    p.add_argument("--model", type=Path, help="trained model (default models/tsunagi.tar.gz)")
    p.add_argument("--keep", action="store_true", help="keep the temporary var dir and logs")
    a = p.parse_args(argv)
    if a.sustained:
        a.time_limit, a.intake_only = a.sustained, True
        a.messages = a.messages or int(a.sustained * 3000)  # more than can be sent in the time
        a.baselines = "none"
    a.messages = a.messages or (30 if a.quick else 300)
    a.time_limit = a.time_limit or (30.0 if a.quick else 120.0)
    a.drain_timeout = a.drain_timeout or (90.0 if a.quick else 240.0)
    a.concurrency = [int(c) for c in a.concurrency.split(",")]
    a.baselines = [] if a.baselines == "none" else a.baselines.split(",")
    unknown = set(a.baselines) - set(BASELINES)
    if unknown:
        p.error(f"unknown baselines {unknown}")
    return a


async def bench(stack: BenchStack, args) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        b = AckBench(stack, http, args)
        if args.sustained:
            results = []
            for c in args.concurrency:
                print(f"... {args.sustained:.0f} s of intake at concurrency {c}", flush=True)
                results.append((c, [await b.run_tsunagi(f"sustained-c{c}", args.messages, c, intake_only=True)]))
            report(results, args, stack, only_intake=True)
            return
        # Warm-up (first turns compile TensorFlow graphs): not measured.
        await b.run_tsunagi("warm", 6, 2)
        for name in args.baselines:
            await b.run_rest(name, "warm", 6, 2)
        stack.profile_command("reset")
        results: list[tuple[int, list[Run]]] = []
        for c in args.concurrency:
            print(f"... concurrency {c}: tsunagi", flush=True)
            runs = [await b.run_tsunagi(f"c{c}", args.messages, c)]
            stack.profile_command(f"dump ack-c{c}")
            if args.intake_only:
                print(f"... concurrency {c}: tsunagi, unknown number (intake only)", flush=True)
                runs.append(await b.run_tsunagi(f"intake-c{c}", args.messages, c, intake_only=True))
            stack.profile_command("reset")
            for name in args.baselines:
                print(f"... concurrency {c}: {name}", flush=True)
                runs.append(await b.run_rest(name, f"c{c}", args.messages, c))
            results.append((c, runs))
    report(results, args, stack)


def report(results, args, stack: BenchStack, only_intake: bool = False) -> None:
    print()
    print("Webhook acknowledgement: tsunagi's WhatsApp channel vs stock Rasa REST, same model")
    print(f"{args.messages} messages per level, {args.users} users, unique wamids; client and "
          "servers share this machine.")
    print("NB: tsunagi answers 200 once the message is durably recorded; the bot turn runs after,\n"
          "    in the same process. Stock REST answers after the whole bot turn (its body is the "
          "reply).\n    'unknown number': the same webhooks for a number the desk does not know: "
          "recorded, then ignored (no bot turn).")
    if args.what_if:
        print(f"WHAT-IF RUN: tsunagi's Rasa server ran with bench-only patches {args.what_if}")
    heads = [] if only_intake else ["tsunagi WhatsApp (ack)"]
    if args.intake_only:
        heads.append("tsunagi, unknown number (ack)")
    heads += [f"{BASELINES[n]} (full turn)" for n in args.baselines]
    for c, runs in results:
        print(f"\nconcurrent senders: {c}")
        rows = latency_rows(runs, "requests/s")

        def note(r: Run, key: str) -> str:
            n = r.notes
            if "state" not in n:  # REST
                return {"replies": f"{n.get('replies', '-')} (in responses)"}.get(key, "-")
            st = n["state"]
            other = {k: v for k, v in st.items() if k not in ("rows", "distinct", "done", "ignored")}
            return {
                "recorded": f"{st['rows']}/{st['distinct']}",
                "once": "yes" if n["exactly_once"] else "NO",
                "redelivered": n["redelivered"],
                "processed": f"{st.get('done', 0)}+{st.get('ignored', 0)}" + (f" {other}" if other else ""),
                "drain": f"{n['drain_s']:.1f}" if "drain_s" in n else f">{args.drain_timeout:.0f}",
                "rate": f"{n['processed_rate']:.1f}" if "processed_rate" in n else "-",
                "replies": str(n["replies"]),
            }[key]

        for key, label in [("recorded", "rows in webhook_events / distinct wamids"),
                           ("once", "recorded exactly once"),
                           ("redelivered", "redeliveries (5%) answered"),
                           ("processed", "processed: done+ignored"),
                           ("drain", "all processed after s (from first POST)"),
                           ("rate", "processed msgs/s, end to end"),
                           ("replies", "bot replies")]:
            rows.append([label] + [note(r, key) for r in runs])
        for proc in ["rasa", *args.baselines, "actions", "simulator"]:
            if any(r.notes.get("cpu_phase", {}).get(proc, 0) >= 0.05 for r in runs):
                rows.append([f"CPU s: {proc}"] + [f"{r.notes.get('cpu_phase', {}).get(proc, 0.0):.1f}"
                                                  for r in runs])
        print(table([""] + heads, rows))
        print_errors(runs)
    print("\n(CPU s: per process, tsunagi from the first POST until all processed; REST during its "
          "requests.\n 'bot replies': recorded in the desk for tsunagi, non-empty responses for REST.)")
    if args.profile:
        print_profile(stack.profile_dir, [f"ack-c{c}" for c, _ in results])


def main(argv=None) -> int:
    args = parse_args(argv)
    var = temp_var("tsunagi-bench-ack-")
    stack = BenchStack(var, baselines=args.baselines,
                       profile_dir=var / "profile" if args.profile else None,
                       patches=args.what_if, model=args.model,
                       # Statuses arrive a little later, as from Meta.
                       extra_env={"SIM_STATUS_DELAY_MS": "50"})
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
