"""Shared by the benchmarks: start tsunagi's processes plus stock-Rasa baselines on
free ports with a temporary var dir, drive HTTP load from one asyncio client, and
print the figures. Times are measured, never asserted (the machine is noisy).

Only 127.0.0.1 is contacted. Every process started here is stopped in `stop()`
(SIGTERM to its process group, SIGKILL after 15 s), which the scripts call in a
`finally`.
"""
from __future__ import annotations

import asyncio
import math
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from launcher.env import build_env  # noqa: E402
from launcher.stack import VENV_BIN, Service, Stack  # noqa: E402

MODEL = ROOT / "models" / "tsunagi.tar.gz"
APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "100000000000001"

# Texts the current bot answers with exactly one message each (data/nlu/,
# tests/stories/): FAQs (retrieval intent, answered by `action_answer_faq` on the
# action server), a greeting (`action_greet_user`, also there), thanks, bot challenge.
TEXTS = [
    "hello there",
    "what are your opening hours?",
    "do you take paypal",
    "until what time are you open on saturday?",
    "are you a bot?",
    "thanks!",
]

# The stock-Rasa baselines that can run beside tsunagi (same model, REST channel).
BASELINES = {
    # Same endpoints as tsunagi's Rasa server: SQL tracker store on its own SQLite
    # file, in-memory lock store, the same action server.
    "rest-sql": "stock REST (SQLite tracker)",
    # Rasa's defaults (in-memory tracker store), as design.md's reference run;
    # the same action server for the greeting.
    "rest-mem": "stock REST (in-memory tracker)",
}


def ensure_model() -> Path:
    if not MODEL.exists():
        print(f"no model at {MODEL}; training it (a few minutes) ...", flush=True)
        subprocess.run([str(VENV_BIN / "rasa"), "train", "--fixed-model-name", "tsunagi",
                        "--out", "models"], cwd=ROOT, check=True)
    return MODEL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- processes ----------------------------------------------------------------------

def process_group_cpu(pgid: int) -> float:
    """User+system CPU seconds of the live processes in a process group (all threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields_ = stat[stat.rfind(")") + 2:].split()
        # fields after the command: state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
        if int(fields_[2]) == pgid:
            total += (int(fields_[11]) + int(fields_[12])) / tick
    return total


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


class BenchStack:
    """simulator + desk + action server + tsunagi's Rasa server (WhatsApp channel),
    and the chosen stock baselines, all started together on free ports."""

    def __init__(self, var: Path, *, baselines: Sequence[str] = ("rest-sql",),
                 profile_dir: Path | None = None, extra_env: dict[str, str] | None = None,
                 patches: Sequence[str] = (), model: Path | None = None):
        self.var = var
        self.baselines = list(baselines)
        self.profile_dir = profile_dir
        self.extra_env = extra_env or {}
        self.patches = list(patches)
        self.source_model = model
        self.stack: Stack | None = None
        self.env: dict[str, str] = {}
        self.urls: dict[str, str] = {}

    def start(self, timeout: float = 300.0) -> None:
        # A private copy: a `make train` elsewhere during the run must not swap it.
        model = self.var / "model.tar.gz"
        shutil.copyfile(self.source_model or ensure_model(), model)
        self.env = build_env({
            "RASA_PORT": str(free_port()), "ACTIONS_PORT": str(free_port()),
            "DESK_PORT": str(free_port()), "SIM_PORT": str(free_port()),
            "WHATSAPP_VERIFY_TOKEN": "bench-verify", "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_ACCESS_TOKEN": "bench-access-token",
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            **self.extra_env,
        }, var_dir=self.var)
        # The desk's own migration command (as launcher.stack.migrate), output kept quiet.
        done = subprocess.run([sys.executable, "-m", "desk", "migrate"], cwd=ROOT, env=self.env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"desk migrate failed:\n{done.stdout}\n{done.stderr}")
        stack = Stack(self.env, model, self.var / "logs")
        if self.profile_dir is not None or self.patches:
            # Run tsunagi's Rasa server under the bench's wrapper (sampler, what-ifs).
            rasa = next(s for s in stack.services if s.name == "rasa")
            wrap = [sys.executable, str(ROOT / "bench" / "_sampler.py")]
            if self.profile_dir is not None:
                self.profile_dir.mkdir(parents=True, exist_ok=True)
                wrap += ["--sample", str(self.profile_dir / "rasa")]
            for name in self.patches:
                wrap += ["--patch", name]
            rasa.argv = wrap + ["--"] + rasa.argv
        for name in self.baselines:
            stack.services.append(self._baseline_service(name, model))
        self.stack = stack
        stack.start(timeout=timeout)
        self.urls = {svc.name: svc.base_url for svc in stack.services}

    def _baseline_service(self, name: str, model: Path) -> Service:
        port = free_port()
        cfg = self.var / name
        cfg.mkdir(parents=True, exist_ok=True)
        (cfg / "credentials.yml").write_text("rest:\n")
        endpoints = (f"action_endpoint:\n  url: {self.env['ACTION_ENDPOINT_URL']}\n"
                     f"  token: {self.env['ACTION_ENDPOINT_TOKEN']}\n")
        if name == "rest-sql":
            endpoints += (f"tracker_store:\n  type: SQL\n  dialect: sqlite\n"
                          f"  db: {cfg / 'tracker.db'}\nlock_store:\n  type: in_memory\n")
        (cfg / "endpoints.yml").write_text(endpoints)
        argv = [str(VENV_BIN / "rasa"), "run", "--credentials", str(cfg / "credentials.yml"),
                "--endpoints", str(cfg / "endpoints.yml"), "--model", str(model),
                "--interface", "127.0.0.1", "--port", str(port)]
        return Service(name, argv, f"http://127.0.0.1:{port}", "/webhooks/rest/")

    def pid(self, name: str) -> int:
        return next(s.process.pid for s in self.stack.services if s.name == name)

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each process (and by this client)."""
        out = {s.name: process_group_cpu(s.process.pid) for s in self.stack.services
               if s.process is not None}
        out["bench client"] = own_cpu()
        return out

    @property
    def desk_db(self) -> Path:
        url = self.env["DESK_DATABASE_URL"]
        return Path(url.split(":///", 1)[1])

    def desk_query(self, sql: str, args: tuple = ()) -> list[tuple]:
        con = sqlite3.connect(f"file:{self.desk_db}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def profile_command(self, command: str) -> None:
        """Ask the sampler in tsunagi's Rasa server to `reset` or `dump <label>`."""
        if self.profile_dir is None:
            return
        cmd = self.profile_dir / "rasa.cmd"
        cmd.write_text(command)
        deadline = time.monotonic() + 10
        while cmd.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if self.stack is not None:
            self.stack.stop()

    def logs(self) -> Path:
        return self.var / "logs"

    def log_summary(self, names: Sequence[str] = ("rasa", "simulator", "actions"), top: int = 5) -> str:
        """The most frequent WARNING/ERROR lines of the given processes' logs (numbers
        and ids blanked), so that errors in a run can be read next to its figures."""
        import collections
        import re

        out = []
        for name in names:
            path = self.logs() / f"{name}.log"
            if not path.exists():
                continue
            counts: collections.Counter = collections.Counter()
            for line in path.read_text(errors="replace").splitlines():
                if " WARNING " in line or " ERROR " in line or line.startswith("Traceback"):
                    text = re.sub(r"^[\d:, -]+", "", line)
                    text = re.sub(r"wamid\.[\w=+/-]+|\d+", "#", text)[:160]
                    counts[text] += 1
            for text, n in counts.most_common(top):
                out.append(f"  {name}: {n} x {text}")
        return "\n".join(out) if out else "  (no warnings or errors in the logs)"


def temp_var(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def cleanup(var: Path, keep: bool) -> None:
    if keep:
        print(f"(kept {var})")
    else:
        shutil.rmtree(var, ignore_errors=True)


# -- load ---------------------------------------------------------------------------

@dataclass
class Run:
    """The result of one load phase."""
    label: str
    planned: int
    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.ok / self.wall if self.wall > 0 else 0.0

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


async def closed_loop(label: str, lanes: Sequence[Sequence[object]],
                      call: Callable[[object], Awaitable[None]], *, time_limit: float,
                      cpu: Callable[[], dict[str, float]] | None = None) -> Run:
    """One worker per lane; each runs its jobs one after another, timing `call(job)`
    (or taking the latency `call` returns, when it returns a float).

    A job that raises counts as an error (with its message). No new job starts after
    `time_limit` seconds; the run then reports how many of the planned jobs ran.
    """
    run = Run(label, sum(len(lane) for lane in lanes), len(lanes))
    cpu_before = cpu() if cpu else {}
    start = time.perf_counter()
    deadline = start + time_limit

    async def worker(lane: Sequence[object]) -> None:
        for job in lane:
            if time.perf_counter() > deadline:
                run.notes["stopped by time limit"] = True
                return
            t0 = time.perf_counter()
            try:
                measured = await call(job)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                run.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            # A call may return its own latency (e.g. up to an event it waited for).
            run.latencies.append(measured if isinstance(measured, float)
                                 else time.perf_counter() - t0)

    await asyncio.gather(*(worker(lane) for lane in lanes))
    run.wall = time.perf_counter() - start
    if cpu:
        after = cpu()
        run.cpu = {k: after[k] - cpu_before.get(k, 0.0) for k in after}
    return run


def lanes_round_robin(jobs: Sequence[object], n: int) -> list[list[object]]:
    lanes: list[list[object]] = [[] for _ in range(n)]
    for i, job in enumerate(jobs):
        lanes[i % n].append(job)
    return lanes


# -- printing -----------------------------------------------------------------------

def ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{seconds * 1000:.1f}"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    sep = "|" + "|".join("-" * (w + 1) + ("-" if i == 0 else ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([line([str(h) for h in headers]), sep] + [line(r) for r in rows])


def latency_rows(runs: Sequence[Run], rate_label: str) -> list[list[str]]:
    """Rows of a table with one column per run."""
    def errs(r: Run) -> str:
        return str(len(r.errors))
    return [
        ["requests ok / planned"] + [f"{r.ok}/{r.planned}" for r in runs],
        ["errors"] + [errs(r) for r in runs],
        ["p50 ms"] + [ms(r.pct(50)) for r in runs],
        ["p95 ms"] + [ms(r.pct(95)) for r in runs],
        ["p99 ms"] + [ms(r.pct(99)) for r in runs],
        ["max ms"] + [ms(max(r.latencies) if r.latencies else math.nan) for r in runs],
        [rate_label] + [f"{r.rate:.1f}" for r in runs],
    ]


def cpu_rows(runs: Sequence[Run], names: Sequence[str]) -> list[list[str]]:
    rows = []
    for name in names:
        if any(name in r.cpu for r in runs):
            rows.append([f"CPU s: {name}"] + [f"{r.cpu.get(name, 0.0):.1f}" for r in runs])
    return rows


def model_info(path: Path | None) -> str:
    path = path or MODEL
    if not path.exists():
        return f"model: {path} (missing: will be trained)"
    st = path.stat()
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(st.st_mtime))
    return f"model: {path} ({st.st_size / 1e6:.1f} MB, {when})"


def machine() -> str:
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    return f"nproc: {len(os.sched_getaffinity(0))}; {load()}\n{free}"


def load() -> str:
    """The load average: other work on this box skews every figure."""
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def print_errors(runs: Sequence[Run]) -> None:
    for r in runs:
        if r.errors:
            sample = sorted(set(r.errors))[:3]
            print(f"  {r.label}: {len(r.errors)} errors, e.g. {sample}")
