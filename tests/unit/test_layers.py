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

DESK_MODULES = ("desk.worker", "desk.web.app", "desk.__main__", "desk.cli")  # `python -m desk`, desk/cli/
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


# --- desk/web: its modules import one way ----------------------------------------------------

WEB = ROOT / "desk" / "web"


def _web_modules() -> dict[str, Path]:
    return {f"desk.web.{p.stem}": p for p in sorted(WEB.glob("*.py")) if p.stem != "__init__"}


def _web_imports(path: Path, modules) -> list[tuple[int, str]]:
    """The desk.web modules `path` imports, at module level or inside functions:
    `import desk.web.x`, `from desk.web.x import y`, `from desk.web import x`, and
    the relative forms (`from . import x`, `from .x import y`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative to desk.web (a module of the package)
                base = "desk.web" + (f".{base}" if base else "")
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:  # desk.web.app.SESSIONS -> desk.web.app
                name = name.rpartition(".")[0]
            if name:
                found.append((node.lineno, name))
    return found


def _import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported desk.web module: first line}."""
    modules = _web_modules()
    graph = {}
    for name, path in modules.items():
        edges = {}
        for line, target in _web_imports(path, modules):
            if target != name:
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def _cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, {})):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_desk_web_modules_import_each_other_without_a_cycle():
    """context/views at the bottom, the routes (api, admin) on them, the app factory on
    top: no module of desk/web imports one that imports it back, directly or not,
    at module level or inside a function."""
    graph = _import_graph()
    assert "desk.web.app" in graph and "desk.web.api" in graph
    cycle = _cycle(graph)
    if cycle:
        steps = [f"{a} imports {b} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])]
        raise AssertionError("import cycle in desk/web: " + " -> ".join(cycle) + "\n  " + "\n  ".join(steps))


def test_the_cycle_check_finds_a_cycle_and_none_where_there_is_none():
    assert _cycle({"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}}) == ["a", "b", "c", "a"]
    assert _cycle({"app": {"api": 1, "context": 2}, "api": {"context": 3}, "context": {}}) is None
