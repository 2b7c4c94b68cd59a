"""`cooldownd start|next|later|stop` against a foreground `routine` / `demo`, and their endings (issue 14).

Real processes on a private bus with the fake notification server: the commands drive a whole walk
with no button pressed; Ctrl-C and SIGTERM of the foreground command leave no card with buttons.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli
from fake_notifications import ctl, private_bus, running

ROUTINES = """
[exercises.a]
title = "Knees to chest"
text = "Hug both knees."
hold = 30
[exercises.cat]
title = "The cat"
text = "Sink, then round."
hold = 30
reps = 5
[routines.any]
light = ["a", "cat", "a"]
moderate = ["a"]
hard = ["a"]
very_hard = ["a"]
"""


@pytest.fixture
def desktop(tmp_path: Path):
    with private_bus(tmp_path) as address, running(address):
        yield address, {"DBUS_SESSION_BUS_ADDRESS": address}


def config(tmp: Path) -> Path:
    (tmp / "routines.toml").write_text(ROUTINES)
    path = tmp / "config.toml"
    path.write_text(f"[routines]\nfile = \"{tmp / 'routines.toml'}\"\n[notify]\nbackend = \"desktop\"\n")
    return path


def foreground(cfg: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cooldownd", "--config", str(cfg), *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, **env))


def wait_card(address: str, prefix: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hits = [c for c in ctl(address, "Calls") if c["summary"].startswith(prefix)]
        if hits:
            return hits[-1]
        time.sleep(0.05)
    raise AssertionError(f"no card {prefix!r}: {[c['summary'] for c in ctl(address, 'Calls')]}")


def test_a_whole_routine_driven_by_commands_with_no_button_pressed(desktop, tmp_path):
    address, env = desktop
    cfg = config(tmp_path)
    proc = foreground(cfg, env, "routine", "--level", "light")
    try:
        wait_card(address, "1/3")
        said = []
        for expect in ("2/3", "3/3", "Cool-down"):
            result = run_cli("next", env=env)
            assert result.returncode == 0, result.stderr
            said.append(result.stdout.strip())
            assert any(c["summary"].startswith(expect) for c in ctl(address, "Calls"))  # shown before the answer
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert said[0] == "next: 2/3 The cat" and said[-1].startswith("next: Cool-down")
    assert ctl(address, "WithActions") == []
    cat = next(c for c in ctl(address, "Calls") if c["summary"] == "2/3 The cat")
    assert "Slowly, 5 times." in cat["body"] and "Hold" not in cat["body"]
    after = run_cli("next", env=env)
    assert (after.returncode, after.stdout) == (1, "")
    assert after.stderr.strip() == ("cooldownd: next: cooldownd is not running in this desktop session, so there is "
                                    "nothing to act on (start it: systemctl --user start cooldownd)")


@pytest.mark.parametrize("command, how", [("routine", signal.SIGINT), ("routine", signal.SIGTERM),
                                          ("demo", signal.SIGINT)])
def test_ctrl_c_or_sigterm_of_a_foreground_walk_leaves_no_card_with_buttons(desktop, tmp_path, command, how):
    address, env = desktop
    cfg = config(tmp_path)
    proc = foreground(cfg, env, *([command, "--level", "light"] if command == "routine" else [command]))
    try:
        if command == "demo":  # its offer waits 15 s for a press, then starts by itself
            offer = wait_card(address, "Cool-down after")
            time.sleep(0.7)
            assert run_cli("start", env=env).returncode == 0
        wait_card(address, "1/")
        assert ctl(address, "WithActions") != []
        proc.send_signal(how)
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 128 + how, err
    assert "Traceback" not in err
    assert ctl(address, "WithActions") == [] and ctl(address, "Open") == []
    if command == "demo":
        assert offer["icon"].endswith(".png") or offer["icon"].endswith(".svg")


def test_a_command_without_a_session_bus_says_so_in_one_line(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    result = run_cli("stop")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "cooldownd: stop: no session bus to reach cooldownd; run this inside your desktop session\n"
