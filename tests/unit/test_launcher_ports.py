"""The launcher refuses ports browsers block (Chromium's ERR_UNSAFE_PORT), before anything starts."""
from __future__ import annotations

import sys

import pytest

from launcher.env import BROWSER_BLOCKED_PORTS, PortError, build_env, ports


@pytest.mark.parametrize("key", ["DESK_PORT", "SIM_PORT", "RASA_PORT", "ACTIONS_PORT"])
@pytest.mark.parametrize("port", ["6000", "10080", "5060", "6667"])
def test_a_port_browsers_block_is_refused_with_the_reason(key, port, tmp_path):
    with pytest.raises(PortError, match=rf"{key}={port}: browsers refuse this port \(Chromium: ERR_UNSAFE_PORT"):
        build_env({key: port}, var_dir=tmp_path)


@pytest.mark.parametrize("raw,why", [("abc", "is not a port number"), ("0", r"\(1-65535\)"),
                                     ("70000", r"\(1-65535\)")])
def test_a_port_that_is_no_port_is_refused(raw, why):
    with pytest.raises(PortError, match=why):
        ports({"DESK_PORT": raw})


def test_ordinary_ports_are_kept():
    assert ports({"DESK_PORT": "6001", "SIM_PORT": "5999"}) == {
        "rasa": 5005, "actions": 5055, "desk": 6001, "simulator": 5999}
    assert ports() == {"rasa": 5005, "actions": 5055, "desk": 8000, "simulator": 8090}
    assert {6000, 10080, 6665, 6669, 1719, 4190} <= BROWSER_BLOCKED_PORTS
    assert not {5005, 5055, 8000, 8090, 8080, 3000, 5432} & BROWSER_BLOCKED_PORTS


def test_the_launcher_says_so_and_stops_before_starting_anything(monkeypatch, capsys):
    import launcher.__main__ as cli
    import launcher.env

    started = []
    monkeypatch.setattr(launcher.env, "_demo_secrets", lambda: {})  # writes nothing under var/
    monkeypatch.setattr(cli, "prepare", lambda *a, **k: started.append("prepare"))
    monkeypatch.setattr(cli, "Stack", lambda *a, **k: started.append("stack"))
    monkeypatch.setenv("DESK_PORT", "6000")
    monkeypatch.setattr(sys, "argv", ["launcher", "demo"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert str(stop.value).startswith("tsunagi: DESK_PORT=6000: browsers refuse this port")
    assert started == []
