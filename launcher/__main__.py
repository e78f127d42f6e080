"""`python -m launcher demo`: migrate, train if the data changed, run everything.

`python -m launcher serve`: the same three product processes (desk, action server,
Rasa) against the real Cloud API, configured by the environment or `.env`.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from launcher.env import ROOT, VAR, PortError, build_env, ports, read_env_file
from launcher.stack import VENV_BIN, Stack, migrate

MODEL = ROOT / "models" / "tsunagi.tar.gz"


REAL_META = ("WHATSAPP_GRAPH_API_URL", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_WABA_ID",
             "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN")


def prepare(env: dict[str, str], *, seed_demo: bool = True) -> None:
    migrate(env)
    if seed_demo:
        subprocess.run([sys.executable, "-m", "desk", "seed-demo"], cwd=ROOT, env=env, check=True)
    # Rasa fingerprints config, domain and data: when nothing changed it keeps the model.
    log_path = VAR / "logs" / "train.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"tsunagi: training the bot if its data changed (first time: about a minute; log: {log_path}) ...",
          flush=True)
    with open(log_path, "wb") as log:
        done = subprocess.run([str(VENV_BIN / "rasa"), "train", "--fixed-model-name", "tsunagi",
                               "--out", "models"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f"tsunagi: training failed; the end of {log_path}:\n"
                 + "\n".join(log_path.read_text(errors="replace").splitlines()[-20:]))


def demo() -> None:
    env = build_env()
    prepare(env)
    p = ports(env)
    stack = Stack(env, MODEL, VAR / "logs")
    print("tsunagi: starting simulator, desk, action server and Rasa (about 30 s) ...", flush=True)
    stack.start()
    print(f"""
tsunagi is running (logs in {VAR / 'logs'}):

  Chat as a WhatsApp user:  http://127.0.0.1:{p['simulator']}/
  Operator console:         http://127.0.0.1:{p['desk']}/
      sign in as admin@tsunagi.local with the password DEMO_OPERATOR_PASSWORD
      in {VAR / 'demo.env'}: {env['DEMO_OPERATOR_PASSWORD']}
      (set yourself Online to receive handoffs; `python -m desk admin --help` adds more)
  WhatsApp webhook (Rasa):  http://127.0.0.1:{p['rasa']}/webhooks/whatsapp/webhook

Press Ctrl-C to stop everything.""", flush=True)
    run_until_stopped(stack)


def serve() -> None:
    """Desk, action server and Rasa for the real Cloud API (no simulator, no demo data)."""
    given = {**read_env_file(ROOT / ".env"), **os.environ}
    missing = [k for k in REAL_META if not given.get(k)]
    if missing:
        sys.exit("tsunagi: set " + ", ".join(missing) + " in the environment or .env for the real "
                 "Cloud API (README, 'Pointing it at the real Meta Cloud API'); `make demo` runs the simulator.")
    env = build_env()
    prepare(env, seed_demo=False)
    p = ports(env)
    stack = Stack(env, MODEL, VAR / "logs", only={"desk", "actions", "rasa"})
    print("tsunagi: starting desk, action server and Rasa ...", flush=True)
    stack.start()
    print(f"""
tsunagi is running against {env['WHATSAPP_GRAPH_API_URL']} (logs in {VAR / 'logs'}):

  Operator console:         http://{env.get('DESK_HOST', '127.0.0.1')}:{p['desk']}/
  WhatsApp webhook (Rasa):  http://{env['RASA_INTERFACE']}:{p['rasa']}/webhooks/whatsapp/webhook

Press Ctrl-C to stop everything.""", flush=True)
    run_until_stopped(stack)


def run_until_stopped(stack: Stack) -> None:
    stopping = False

    def _stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stopping:
            for svc in stack.services:
                if svc.process.poll() is not None:
                    print(f"tsunagi: {svc.name} stopped unexpectedly:\n{stack.tail(svc)}", flush=True)
                    stopping = True
            time.sleep(1)
    finally:
        print("tsunagi: stopping ...", flush=True)
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m launcher")
    parser.add_argument("command", choices=["demo", "serve", "prepare"])
    args = parser.parse_args()
    try:
        if args.command == "demo":
            demo()
        elif args.command == "serve":
            serve()
        else:
            prepare(build_env())
    except PortError as exc:
        sys.exit(f"tsunagi: {exc}")


if __name__ == "__main__":
    main()
