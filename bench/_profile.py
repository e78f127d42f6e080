"""Summaries of the stack samples written by bench/_sampler.py.

tsunagi's Rasa process runs two asyncio event loops: Sanic's on the main thread
(webhook intake) and the channel's turn thread (bot turns, statuses, replies);
stock Rasa has only the first. What keeps a loop busy is what limits it. A sample
of a loop's thread is "idle" when the loop is waiting for I/O. SQLite work runs in
aiosqlite's threads (with the GIL released inside sqlite3), TensorFlow's kernels
in its own C++ threads, which this sampler does not see: a TensorFlow call shows
up as time in the Python frame that made it.
"""
from __future__ import annotations

import collections
from pathlib import Path
from typing import Iterable

# Leaf frames of a thread that is waiting, not working.
IDLE_LEAVES = (
    "selectors:", "threading:Condition.wait", "threading:Event.wait", "queue:Queue.get",
    "threading:Thread._wait_for_tstate_lock", "concurrent.futures.thread:_worker",
    "asyncio.base_events:BaseEventLoop.run_forever", "asyncio.base_events:BaseEventLoop._run_once",
    "aiosqlite:idle", "bench._sampler", "threading:Thread.join",
)
# The main thread's stack while uvloop waits (its loop is C code, so the leaf is
# the Python frame that started it).
# Anything else on the main thread, waiting on a lock included, holds the loop up.
IDLE_MAIN_LEAVES = ("sanic.server.runners:serve", "selectors:",
                    "asyncio.base_events:BaseEventLoop._run_once",
                    "asyncio.base_events:BaseEventLoop.run_forever")

# Steps of the pipeline, by their frame label (inclusive: nested steps overlap).
STEPS = [
    ("webhook POST handler (whole)", "connectors.whatsapp.webhook:receive"),
    ("  signature check", "cloudapi.signature:is_valid"),
    ("  parse + record in inbox", "connectors.whatsapp.channel:Intake.accept"),
    ("inbox processing (whole, incl. bot turn)", "connectors.whatsapp.processor:InboxProcessor.drain"),
    ("  claim inbox row", "desk.services.inbox:claim_next"),
    ("  batch of statuses", "connectors.whatsapp.processor:InboxProcessor._apply_statuses"),
    ("  finish inbox row", "desk.services.inbox:finish"),
    ("  record inbound in desk", "desk.services.conversations:record_inbound"),
    ("  apply status webhook", "desk.services.conversations:apply_status"),
    ("  mark as read (Graph call)", "cloudapi.graph:GraphClient.mark_read"),
    ("Rasa: handle_message (whole turn)", "rasa.core.agent:Agent.handle_message"),
    ("  Rasa: NLU parse", "rasa.core.processor:MessageProcessor.parse_message"),
    ("  Rasa: policy prediction", "rasa.core.processor:MessageProcessor._predict_next_with_tracker"),
    ("  Rasa: tracker store retrieve", "rasa.core.tracker_store:SQLTrackerStore.retrieve"),
    ("  Rasa: tracker store save", "rasa.core.tracker_store:SQLTrackerStore.save"),
    ("  Rasa: tracker store (any)", "rasa.core.tracker_store:"),
    ("  Rasa: run actions", "rasa.core.processor:MessageProcessor._run_action"),
    ("  bot reply: record + send (channel)", "connectors.whatsapp.channel:WhatsAppOutput._send"),
    ("    Graph API send", "cloudapi.graph:GraphClient.send"),
    ("desk DB: async SQLAlchemy (any)", "sqlalchemy.ext.asyncio."),
    ("desk DB: open aiosqlite connection (starts a thread)", "aiosqlite.core:Connection.__await__"),
    ("loop blocked waiting on a thread/lock", "threading:Condition.wait"),
    ("TensorFlow (any)", "tensorflow."),
    ("Keras (any)", "keras."),
    ("SQLAlchemy (any)", "sqlalchemy."),
    ("json (any)", "json."),
    ("aiohttp client (any)", "aiohttp."),
    ("Sanic (any)", "sanic."),
    ("logging (any)", "logging:"),
]


def load(path: Path) -> collections.Counter:
    samples: collections.Counter = collections.Counter()
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        samples[tuple(stack.split(";"))] += int(n)
    return samples


LOOPS = {"main": "main thread (Sanic's event loop: intake)",
         "turns": "turn thread (the channel's event loop: bot turns, statuses, replies)"}


def is_idle(stack: tuple[str, ...]) -> bool:
    leaf = stack[-1] if len(stack) > 1 else ""
    if stack[0] in LOOPS:
        return len(stack) == 1 or leaf.startswith(IDLE_MAIN_LEAVES) or leaf.startswith(IDLE_LEAVES)
    return leaf.startswith(IDLE_LEAVES)


def summarise(samples: collections.Counter, top: int = 15) -> str:
    return "\n".join(summarise_loop(samples, loop, top) for loop in LOOPS
                     if any(s[0] == loop for s in samples))


def summarise_loop(samples: collections.Counter, loop: str, top: int = 15) -> str:
    main_total = sum(n for s, n in samples.items() if s[0] == loop)
    busy = {s: n for s, n in samples.items() if s[0] == loop and not is_idle(s)}
    busy_total = sum(busy.values())
    sqlite: collections.Counter = collections.Counter()
    for s, n in samples.items():
        if s[0] == "thread" and s[-1].startswith("sqlite3:"):
            sqlite[s[-1].split(":", 1)[1]] += n
    in_sqlite = sum(sqlite.values())
    lines = [f"{LOOPS[loop]}: {busy_total} busy of {main_total} samples "
             f"({100 * busy_total / max(1, main_total):.0f}% busy)",
             f"desk DB (aiosqlite threads) inside sqlite3 calls, running SQL or waiting for "
             f"SQLite's write lock: {in_sqlite / max(1, main_total):.2f} threads on average "
             f"({', '.join(f'{k} {100 * v / max(1, in_sqlite):.0f}%' for k, v in sqlite.most_common(4))})"]
    if not busy_total:
        return "\n".join(lines)

    def share(pred) -> float:
        return 100 * sum(n for s, n in busy.items() if any(pred(f) for f in s[1:])) / busy_total

    lines.append("  share of the event loop's busy samples (inclusive; nested steps overlap):")
    for label, prefix in STEPS:
        pct = share(lambda f, p=prefix: f.startswith(p))
        if pct >= 0.5:
            lines.append(f"    {pct:5.1f}%  {label}")
    incl: collections.Counter = collections.Counter()
    leaf: collections.Counter = collections.Counter()
    for s, n in busy.items():
        for f in set(s[1:]):
            incl[f] += n
        leaf[s[-1]] += n
    lines.append(f"  top {top} functions by own (leaf) samples:")
    for f, n in leaf.most_common(top):
        lines.append(f"    {100 * n / busy_total:5.1f}%  {f}")
    project = [(f, n) for f, n in incl.most_common()
               if f.startswith(("cloudapi.", "connectors.", "desk.", "actions."))][:top]
    lines.append("  project functions by inclusive samples:")
    for f, n in project:
        lines.append(f"    {100 * n / busy_total:5.1f}%  {f}")
    return "\n".join(lines)


def print_profile(profile_dir: Path | None, labels: Iterable[str]) -> None:
    if profile_dir is None:
        return
    for label in labels:
        path = profile_dir / f"rasa.{label}.txt"
        print(f"\nwhere tsunagi's Rasa server spent its time: {label}")
        if not path.exists():
            print("  (no samples written)")
            continue
        print(summarise(load(path)))
