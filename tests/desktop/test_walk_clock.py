"""The walk-through's clocks (issue 13 items 5 and 6): holds on a steady clock, stamps on the wall clock.

A wall clock stepped back mid-walk must not freeze it (it once did, for the size of the step); a
suspend must count for the offer's timeout and the snooze (a steady clock that counts suspended time,
and no sleep longer than ``WAKE_S``, since asyncio's own timers stop while the machine sleeps).
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cooldownd.core.coach import Coach, CoachKnobs, Result
from cooldownd.core.model import Level, Routine, Step
from cooldownd.desktop import walk as walk_module
from cooldownd.desktop.notify import ConsoleBackend, Press
from cooldownd.desktop.walk import walk

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
ROUTINES = """
[exercises.a]
title = "Knees to chest"
text = "Hug both knees."
hold = 6
[exercises.b]
title = "Child's pose"
text = "Fold forward."
hold = 6
[routines.any]
light = ["a", "b", "a"]
moderate = ["a"]
hard = ["a"]
very_hard = ["a"]
"""


def test_a_wall_clock_stepped_back_5_min_does_not_freeze_the_walk(tmp_path: Path) -> None:
    """`cooldownd routine` under libfaketime: its wall clock goes back 5 min mid-walk; the walk goes on."""
    if not LIBFAKETIME.exists():
        pytest.skip(f"{LIBFAKETIME} missing: apt-get install libfaketime (tests/run does)")
    (tmp_path / "routines.toml").write_text(ROUTINES)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"[routines]\nfile = \"{tmp_path / 'routines.toml'}\"\n[notify]\nbackend = \"console\"\n"
                   "transition = \"1s\"\n")
    offset = tmp_path / "faketime.rc"
    offset.write_text("+0\n")
    env = {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_TIMESTAMP_FILE": str(offset), "FAKETIME_NO_CACHE": "1",
           "DONT_FAKE_MONOTONIC": "1", "NO_FAKE_STAT": "1", "PYTHONUNBUFFERED": "1"}
    import os

    proc = subprocess.Popen([sys.executable, "-m", "cooldownd", "--config", str(cfg), "routine", "--level", "light"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, **env))
    t0 = time.monotonic()
    time.sleep(4)  # in the first hold
    offset.write_text("-300\n")
    try:
        out, err = proc.communicate(timeout=60)  # a frozen walk would take 5 min more
    finally:
        proc.kill()
    took = time.monotonic() - t0
    assert proc.returncode == 0, err
    titles = [line[3:] for line in out.splitlines() if line.startswith("== ")]
    assert titles[1:] == ["1/3 Knees to chest", "2/3 Child's pose", "3/3 Knees to chest", "Cool-down done"], out
    assert "3 of 3 stretches held through" in out
    assert took < 6 * 3 + 2 + 1 + 15, f"walk took {took:.0f} s"  # three holds, two rests, the offer, slack


class Sleeper:
    """A steady clock that a test moves on by hand, as a suspend does: asyncio's timers do not see it."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_snooze_counts_suspended_time(monkeypatch) -> None:
    """A 10-minute snooze and a 9-minute suspend: the offer is back a minute after waking, not 10."""
    monkeypatch.setattr(walk_module, "WAKE_S", 0.05)
    steady = Sleeper()
    wall = [1_700_000_000.0]
    steps = (Step("a", "A", "x", 30),)
    coach = Coach(Routine("r", Level.LIGHT, "any", steps), "", CoachKnobs(snooze_s=600, press_guard_s=0),
                  buttons=True, ended_at=wall[0] - 60)
    console = io.StringIO()

    class Buttons(ConsoleBackend):
        has_buttons = True
        hint = ""

    notifier = Buttons(console)

    async def main():
        task = asyncio.create_task(walk(coach, notifier, clock=steady, wall=lambda: wall[0]))
        await asyncio.sleep(0.05)
        notifier.presses.put_nowait(Press("later", None, command=True))
        await asyncio.sleep(0.1)
        steady.t += 540  # suspended for 9 minutes
        wall[0] += 540
        await asyncio.sleep(0.3)
        assert console.getvalue().count("== Time for a cool-down") == 1  # a minute of snooze is left
        steady.t += 61
        wall[0] += 61
        t0 = time.monotonic()
        while console.getvalue().count("== Time for a cool-down") < 2:
            await asyncio.sleep(0.01)
            assert time.monotonic() - t0 < 2, "the snooze's end was not noticed"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(main(), 10))
    assert coach.outcome.snoozes == 1 and coach.outcome.result is Result.INTERRUPTED
