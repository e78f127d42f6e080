"""The layers: cloudapi ← desk ← connectors/whatsapp (the Rasa adapter) and actions.

- `cloudapi/` is the Meta WhatsApp Cloud API, framework-free: it imports neither
  Rasa, Sanic nor the desk (nor the Rasa adapter).
- the desk (its worker, its web app, its command line) runs without Rasa or Sanic
  and without the Rasa adapter in `connectors/`;
- the action server runs on rasa_sdk (and so Sanic), never on Rasa itself or on
  the Rasa adapter.

Each module is imported in a fresh interpreter, and what it pulled in is read
from `sys.modules`. A static pass over the sources also catches imports inside
functions, which importing a module does not run.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DESK_MODULES = ("desk.worker", "desk.web.app", "desk.__main__")  # __main__: `python -m desk`
ACTION_MODULES = tuple(dict.fromkeys(["actions.server"] + [  # the server, and every actions/*.py
    f"actions.{p.stem}" for p in sorted((ROOT / "actions").glob("*.py")) if p.stem != "__init__"]))
CLOUDAPI_MODULES = ("cloudapi",) + tuple(
    f"cloudapi.{p.stem}" for p in sorted((ROOT / "cloudapi").glob("*.py")) if p.stem != "__init__")

# What each layer must not load (a package name covers its submodules).
DESK_FORBIDDEN = ("rasa", "rasa_sdk", "sanic", "connectors")
ACTIONS_FORBIDDEN = ("rasa", "connectors")  # rasa_sdk (and its Sanic) is the action server's framework
CLOUDAPI_FORBIDDEN = ("rasa", "rasa_sdk", "sanic", "desk", "connectors")

PROBE = "import importlib, json, sys\nimportlib.import_module(sys.argv[1])\nprint(json.dumps(sorted(sys.modules)))"


def _in(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _loaded_by(module: str) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false",
               TF_CPP_MIN_LOG_LEVEL="2", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    proc = subprocess.run([sys.executable, "-c", PROBE, module], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"import {module} failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _offending(module: str, forbidden: tuple[str, ...]) -> str | None:
    """None, or which forbidden modules `import module` loads, by package (first-party
    ones in full: they show the path that pulls the rest in)."""
    loaded = _loaded_by(module)
    lines = []
    for package in forbidden:
        bad = [m for m in loaded if _in(m, (package,))]
        if bad:
            shown = bad if package in ("connectors", "desk") else bad[:12]
            more = f", ... and {len(bad) - len(shown)} more" if len(bad) > len(shown) else ""
            lines.append(f"  {package} ({len(bad)}): {', '.join(shown)}{more}")
    if not lines:
        return None
    return f"import {module} loads what it must not:\n" + "\n".join(lines)


@pytest.mark.parametrize("module", DESK_MODULES)
def test_desk_runs_without_rasa_sanic_or_the_adapter(module):
    problem = _offending(module, DESK_FORBIDDEN)
    assert problem is None, problem


@pytest.mark.parametrize("module", ACTION_MODULES)
def test_action_server_runs_without_rasa_or_the_adapter(module):
    problem = _offending(module, ACTIONS_FORBIDDEN)
    assert problem is None, problem


@pytest.mark.parametrize("module", CLOUDAPI_MODULES)
def test_cloudapi_is_framework_free(module):
    assert (ROOT / "cloudapi").is_dir(), "no cloudapi/ package"
    problem = _offending(module, CLOUDAPI_FORBIDDEN)
    assert problem is None, problem


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("folder, forbidden", [
    ("cloudapi", CLOUDAPI_FORBIDDEN),
    ("desk", DESK_FORBIDDEN),
    ("actions", ACTIONS_FORBIDDEN),
], ids=["cloudapi", "desk", "actions"])
def test_no_import_anywhere_in_the_sources_crosses_the_layers(folder, forbidden):
    """Also imports inside functions (a lazy import is still a dependency)."""
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"no sources under {folder}/"
    bad = [f"{p.relative_to(ROOT)}:{line}: {name}"
           for p in files for line, name in _imports(p) if _in(name, forbidden)]
    assert not bad, f"{folder}/ imports {', '.join(forbidden)}:\n" + "\n".join(bad)
