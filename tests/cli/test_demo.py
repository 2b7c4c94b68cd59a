"""`cooldownd demo` and `--help` as a new user meets them: no strap, with or without a desktop."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dbus_fast.aio import MessageBus

from conftest import run_cli
from fake_notifications import control, private_bus, start_process


def test_demo_fast_without_a_session_bus_prints_the_whole_walk(monkeypatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    t0 = time.monotonic()
    result = run_cli("demo", "--fast", timeout=60)
    elapsed = time.monotonic() - t0
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "demo: hard: load " in out, out  # the synthetic 45-minute ride is a hard one, said with its reason
    # words a person uses: no routine or level ids (cycling.hard, very_hard), no Python reprs
    for text in (out, re.sub(r"(?m)^\d\d:\d\d:\d\d \w+ [\w.]+: ", "", result.stderr)):  # log lines: their words
        assert not re.search(r"\b[a-z]+[._][a-z]+\b|Level\.|Result\.|'\w+'", text), text
    cards = [line for line in out.splitlines() if line.startswith("== ")]
    assert cards[0] == "== Cool-down after your hard ride"
    steps = [c for c in cards if c[3:4].isdigit()]
    n = int(steps[0].split()[1].split("/")[1])
    assert [c.split()[1] for c in steps] == [f"{i}/{n}" for i in range(1, n + 1)]
    assert cards[-1] == "== Cool-down done"
    assert "walk-through completed" in out
    assert "Traceback" not in result.stderr
    assert elapsed < 20, f"demo --fast took {elapsed:.1f} s"


def test_demo_uses_the_desktop_when_a_notification_server_answers(tmp_path: Path) -> None:
    async def main() -> list[dict]:
        with private_bus(tmp_path) as address:
            server = await start_process(address)
            try:
                env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "cooldownd", "demo", "--fast", env=env,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
                out, err = await asyncio.wait_for(proc.communicate(), 60)
                assert proc.returncode == 0, err.decode()
                assert b"on the desktop" in out and b"== " not in out, out.decode()
                bus = await MessageBus(bus_address=address).connect()
                calls = json.loads(await control(bus, "Calls"))
                bus.disconnect()
                return calls
            finally:
                server.kill()
                await server.wait()

    calls = asyncio.run(main())
    titles = [c["summary"] for c in calls]
    assert titles[0] == "Cool-down after your hard ride"
    assert titles[-1] == "Cool-down done"
    assert len(titles) >= 8
    assert any(a == "start" for a in calls[0]["actions"]), calls[0]["actions"]


def test_help_lists_every_command_and_loads_no_heavy_library() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("run", "import", "scan", "routine", "history", "status", "config", "service", "demo"):
        assert command in result.stdout
    # Speed lives in bench/startup; here the cause: --help must not import the heavy dependencies.
    code = ("import sys, runpy\nsys.argv = ['cooldownd', '--help']\ntry:\n    runpy.run_module('cooldownd', "
            "run_name='__main__')\nexcept SystemExit:\n    pass\nheavy = [m for m in ('bleak', 'fitparse', "
            "'desktop_notifier', 'pydantic', 'dbus_fast') if m in sys.modules]\nprint('HEAVY', heavy)")
    probe = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert "HEAVY []" in probe.stdout, probe.stdout + probe.stderr


def test_every_commands_help_says_what_it_does_and_what_each_option_means() -> None:
    import argparse

    from cooldownd.cli import _parser

    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in sub.choices.items():
        assert parser.description, f"cooldownd {name} --help says nothing about what {name} does"
        unexplained = [a.dest for a in parser._actions if a.help is None]
        assert not unexplained, f"cooldownd {name} --help: {unexplained} without a help text"


@pytest.mark.parametrize("level, sport, first", [
    ("very_hard", "running", "Very hard cool-down after a run: 10 stretches, about 6 min"),
    ("light", "cycling", "Light cool-down after a ride: "), ("moderate", "surfing", "Moderate cool-down after any workout: "),
])
def test_routine_dry_run_names_the_routine_and_its_steps_in_words(level: str, sport: str, first: str) -> None:
    result = run_cli("routine", "--level", level, "--sport", sport, "--dry-run")
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and lines[0].startswith(first), result.stdout + result.stderr
    n = int(lines[0].split(": ")[1].split()[0])
    assert [line.split(".")[0].strip() for line in lines[1:]] == [str(i) for i in range(1, n + 1)], lines
    assert all(re.search(r": (Hold \d+ s|Slowly, (\d+ times|for \d+ s))\. \S", line) for line in lines[1:]), lines
    assert not re.search(r"\b[a-z]+[._][a-z]+\b|\((left|right|both)\)", result.stdout), result.stdout
