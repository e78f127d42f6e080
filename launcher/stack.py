"""The four processes of the embedded default, started and always stopped together."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from desk.db import private_sqlite_file
from launcher.env import ROOT, ports

VENV_BIN = Path(sys.executable).parent


@dataclass
class Service:
    name: str
    argv: list[str]
    base_url: str
    health_path: str
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def health_url(self) -> str:
        return self.base_url + self.health_path


def services(env: dict[str, str], model: Path) -> list[Service]:
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports(env).items()}
    p = ports(env)
    py = sys.executable
    return [
        Service("simulator", [py, "-m", "simulator"], url["simulator"], "/_sim/health"),
        Service("desk", [py, "-m", "desk", "serve"], url["desk"], "/health"),
        # rasa_sdk's app (what `rasa run actions` serves) plus the bot idle rules.
        Service("actions", [py, "-m", "actions.server", "--port", str(p["actions"])],
                url["actions"], "/health"),
        Service("rasa", [str(VENV_BIN / "rasa"), "run", "--credentials", "credentials.yml",
                         "--endpoints", env.get("RASA_ENDPOINTS", "endpoints.yml"), "--model", str(model),
                         "--interface", env.get("RASA_INTERFACE", "127.0.0.1"),
                         "--port", str(p["rasa"])],
                url["rasa"], "/webhooks/whatsapp/"),
    ]


def migrate(env: dict[str, str]) -> None:
    """Bring the desk database of `env` up to date (a separate process, like the services)."""
    subprocess.run([sys.executable, "-m", "desk", "migrate"], cwd=ROOT, env=env, check=True)


class Stack:
    def __init__(self, env: dict[str, str], model: Path, log_dir: Path, only: set[str] | None = None):
        self.env = env
        self.log_dir = log_dir
        self.services = [s for s in services(env, model) if only is None or s.name in only]

    def start(self, timeout: float = 180.0) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.env.get("RASA_TRACKER_DB"):  # Rasa would create it world-readable
            private_sqlite_file(self.env["RASA_TRACKER_DB"])
        try:
            for svc in self.services:
                svc.log_path = self.log_dir / f"{svc.name}.log"
                log = open(svc.log_path, "ab")
                svc.process = subprocess.Popen(svc.argv, cwd=ROOT, env=self.env, stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True)
                log.close()
            for svc in self.services:
                self._wait_healthy(svc, timeout)
        except BaseException:
            self.stop()
            raise

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def stop_service(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Stop one process (SIGKILL for a crash), e.g. to test what the others do then."""
        svc = self.service(name)
        if svc.process and svc.process.poll() is None:
            os.killpg(svc.process.pid, sig)
            try:
                svc.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(svc.process.pid, signal.SIGKILL)
                svc.process.wait()

    def start_service(self, name: str, timeout: float = 180.0) -> None:
        svc = self.service(name)
        log = open(svc.log_path, "ab")
        svc.process = subprocess.Popen(svc.argv, cwd=ROOT, env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self._wait_healthy(svc, timeout)

    def _wait_healthy(self, svc: Service, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if svc.process.poll() is not None:
                raise RuntimeError(f"{svc.name} exited with {svc.process.returncode}; "
                                   f"see {svc.log_path}:\n{self.tail(svc)}")
            try:
                with urllib.request.urlopen(svc.health_url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{svc.name} not healthy after {timeout:.0f}s; see {svc.log_path}:\n"
                           f"{self.tail(svc)}")

    @staticmethod
    def tail(svc: Service, lines: int = 30) -> str:
        if not svc.log_path or not svc.log_path.exists():
            return ""
        return "\n".join(svc.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM each process group, then SIGKILL what is still alive."""
        running = [s for s in self.services if s.process and s.process.poll() is None]
        for svc in running:
            try:
                os.killpg(svc.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 15
        for svc in running:
            try:
                svc.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(svc.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                svc.process.wait()

    def __enter__(self) -> "Stack":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
