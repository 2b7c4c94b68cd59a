"""End to end on a real notification server: dunst under Xvfb on a private session bus.

Needs apt ``xvfb dunst`` (skipped only when the binaries are missing). Presses go through
dunst itself: ``dunstctl action 0`` is a plain click (``default``), ``dunstctl context`` runs
our fake dmenu, which picks the button whose label is in a file.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time

import pytest

from cooldownd.core.coach import Coach, CoachKnobs, Result
from cooldownd.core.model import Level, Routine, Step
from cooldownd.desktop.notify import DesktopBackend, choose_notifier
from cooldownd.desktop.walk import walk
from fake_notifications import private_bus

pytestmark = pytest.mark.skipif(
    not all(shutil.which(b) for b in ("Xvfb", "dunst", "dunstctl")),
    reason="needs apt packages xvfb and dunst",
)

DUNSTRC = """[global]
    markup = full
    format = "<b>%s</b>\\n%b"
    dmenu = {dmenu}
[urgency_normal]
    timeout = 10
"""
# dunst lists each action as a line ("#Start [summary]"); pick the one naming our label.
DMENU = """#!/bin/sh
grep -m1 -F -- "$(cat {label})"
"""


@pytest.fixture
def dunst(tmp_path, monkeypatch):
    """Xvfb + dunst on a private bus; yields the file the fake dmenu reads its label from."""
    with private_bus(tmp_path) as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        read, write = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-nolisten", "tcp"],
                                pass_fds=(write,), stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as pipe:
            display = ":" + pipe.readline().strip()
        label = tmp_path / "label"
        dmenu = tmp_path / "dmenu"
        dmenu.write_text(DMENU.format(label=label))
        dmenu.chmod(0o755)
        rc = tmp_path / "dunstrc"
        rc.write_text(DUNSTRC.format(dmenu=dmenu))
        env = dict(os.environ, DISPLAY=display)
        server = subprocess.Popen(["dunst", "-config", str(rc)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while _dunstctl("count", "displayed").returncode != 0:
                assert time.monotonic() < deadline, "dunst did not come up"
                time.sleep(0.05)
            yield label
        finally:
            server.terminate()
            server.wait(5)
            xvfb.terminate()
            xvfb.wait(5)


def _dunstctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["dunstctl", *args], capture_output=True, text=True, timeout=5)


async def dunstctl(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec("dunstctl", *args, stdout=subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0, f"dunstctl {args}: exit {proc.returncode}"
    return out.decode()


async def wait_sent(notifier: DesktopBackend, n: int, timeout: float = 5) -> float:
    """Wait until dunst accepted ``n`` cards; returns when (monotonic)."""
    async with asyncio.timeout(timeout):
        while notifier.sent < n:
            await asyncio.sleep(0.002)
    return time.monotonic()


def routine(n: int) -> Routine:
    return Routine("Back basics", Level.HARD, "ride",
                   tuple(Step(f"e{i}", f"Stretch {i}", "Breathe.", 30, "left") for i in range(n)))


async def start_walk(tg, headline: str, n: int):
    notifier = await choose_notifier("auto")
    assert isinstance(notifier, DesktopBackend) and notifier.has_buttons
    coach = Coach(routine(n), headline, CoachKnobs(), buttons=True, level=Level.HARD, load=150)
    task = tg.create_task(walk(coach, notifier))
    await wait_sent(notifier, 1)
    return notifier, task


def test_click_offer_then_next_through_six_steps_on_dunst(dunst):
    """Plain click (dunstctl action 0) starts; "Next" via the context menu; one bubble at the end."""
    figures: dict[str, list] = {"lat": [], "displayed": []}

    async def main():
        async with asyncio.TaskGroup() as tg:
            notifier, task = await start_walk(tg, "Ride done", 6)
            figures["displayed"].append(int(await dunstctl("count", "displayed")))
            t0 = time.monotonic()
            await dunstctl("action", "0")
            figures["lat"].append(await wait_sent(notifier, 2) - t0)
            dunst.write_text("Next")
            for i in range(6):
                figures["displayed"].append(int(await dunstctl("count", "displayed")))
                t0 = time.monotonic()
                await dunstctl("context")
                figures["lat"].append(await wait_sent(notifier, 3 + i) - t0)
            outcome = await task
        await asyncio.sleep(0.1)
        figures["displayed"].append(int(await dunstctl("count", "displayed")))
        await notifier.aclose()
        return outcome

    outcome = asyncio.run(asyncio.wait_for(main(), 60))
    assert (outcome.result, outcome.steps_done) == (Result.COMPLETED, 6)
    assert figures["displayed"] == [1] * 8
    lat = sorted(figures["lat"])
    print(f"\ndunst: press->next card accepted, {len(lat)} presses (incl. dunstctl/dmenu): "
          f"median {lat[len(lat) // 2] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
    # each card replaced the last in place, so only the done card reaches dunst's history
    _dunstctl("close")
    history = json.loads(_dunstctl("history").stdout)["data"][0]
    assert [h["summary"]["data"] for h in history] == ["Cool-down done"]
    assert "6/6 stretches" in history[0]["message"]["data"]


def test_context_menu_start_then_stop_on_dunst(dunst):
    async def main():
        async with asyncio.TaskGroup() as tg:
            notifier, task = await start_walk(tg, "Run done", 3)
            dunst.write_text("Start")
            await dunstctl("context")
            await wait_sent(notifier, 2)
            shown = int(await dunstctl("count", "displayed"))
            dunst.write_text("Stop")
            await dunstctl("context")
            outcome = await task
        await notifier.aclose()
        return outcome, shown

    outcome, shown = asyncio.run(asyncio.wait_for(main(), 30))
    assert (outcome.result, outcome.steps_done, shown) == (Result.STOPPED, 0, 1)
    _dunstctl("close")
    history = json.loads(_dunstctl("history").stdout)["data"][0]
    assert [h["summary"]["data"] for h in history] == ["Cool-down stopped"]


def test_closing_the_offer_skips_and_markup_in_a_name_stays_text_on_dunst(dunst):
    headline = 'Ride with <span foreground="red">TICKR</span> & <b>Co</b>'

    async def main():
        async with asyncio.TaskGroup() as tg:
            notifier, task = await start_walk(tg, headline, 3)
            await dunstctl("close")
            outcome = await task
        await notifier.aclose()
        return outcome

    outcome = asyncio.run(asyncio.wait_for(main(), 30))
    assert outcome.result is Result.SKIPPED
    history = json.loads(_dunstctl("history").stdout)["data"][0]
    assert [h["summary"]["data"] for h in history] == ["Cool-down: Back basics"]
    # dunst's formatted text (before Pango) carries the tags as entities: shown as text
    assert history[0]["message"]["data"].startswith(
        "<b>Cool-down: Back basics</b>\nRide with &lt;span foreground=\"red\"&gt;TICKR"
        "&lt;/span&gt; &amp; &lt;b&gt;Co&lt;/b&gt;\n3 stretches")
