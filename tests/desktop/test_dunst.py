"""End to end on a real notification server: dunst under Xvfb on a private session bus.

Needs apt ``xvfb dunst`` (skipped only when the binaries are missing). dunst runs with Debian's own
dunstrc (left click closes, middle click acts), only its ``dmenu`` pointed at a fake. Presses go
through dunst itself: ``dunstctl action 0`` is a plain click (``default``), ``dunstctl context``
runs our fake dmenu, which picks the button whose label is in a file, ``xdotool`` clicks for real.
A person reads a card before pressing: presses wait ``READ_S`` (the walk ignores a press that comes
sooner after a card replaced another, as the second click of a double click does).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cooldownd.core.coach import Coach, CoachKnobs, Result
from cooldownd.core.model import Level, Routine, Step
from cooldownd.desktop.control import serving
from cooldownd.desktop.notify import DesktopBackend, choose_notifier
from cooldownd.desktop.walk import Stage, walk
from fake_notifications import private_bus

pytestmark = pytest.mark.skipif(
    not all(shutil.which(b) for b in ("Xvfb", "dunst", "dunstctl")),
    reason="needs apt packages xvfb and dunst",
)

DEBIAN_DUNSTRC = Path("/etc/xdg/dunst/dunstrc")
MINIMAL_DUNSTRC = """[global]
    markup = full
    format = "<b>%s</b>\\n%b"
    origin = top-right
    offset = 10x50
    width = 300
    mouse_left_click = close_current
    mouse_middle_click = do_action, close_current
    dmenu = {dmenu}
[urgency_normal]
    timeout = 10
"""
# dunst lists each action as a line ("#Start [summary]"); pick the one naming our label.
DMENU = """#!/bin/sh
grep -m1 -F -- "$(cat {label})"
"""
READ_S = 0.7
TITLE = "Cool-down after your hard ride"


def dunstrc(tmp: Path, dmenu: Path) -> Path:
    """Debian's default dunstrc with our fake dmenu (a minimal one with the same mouse rules elsewhere)."""
    rc = tmp / "dunstrc"
    if DEBIAN_DUNSTRC.exists():
        text = re.sub(r"(?m)^(\s*)dmenu\s*=.*$", lambda m: f"{m.group(1)}dmenu = {dmenu}",
                      DEBIAN_DUNSTRC.read_text())
        rc.write_text(text)
    else:
        rc.write_text(MINIMAL_DUNSTRC.format(dmenu=dmenu))
    return rc


@pytest.fixture
def dunst(tmp_path, monkeypatch):
    """Xvfb + dunst on a private bus; yields the file the fake dmenu reads its label from."""
    with private_bus(tmp_path) as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        read, write = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-nolisten", "tcp", "-screen", "0", "1280x800x24"],
                                pass_fds=(write,), stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as pipe:
            display = ":" + pipe.readline().strip()
        monkeypatch.setenv("DISPLAY", display)
        label = tmp_path / "label"
        dmenu = tmp_path / "dmenu"
        dmenu.write_text(DMENU.format(label=label))
        dmenu.chmod(0o755)
        server = subprocess.Popen(["dunst", "-config", str(dunstrc(tmp_path, dmenu))], env=dict(os.environ),
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


async def wait_sent(notifier: DesktopBackend, n: int, timeout: float = 10) -> float:
    """Wait until dunst accepted ``n`` cards; returns when (monotonic)."""
    async with asyncio.timeout(timeout):
        while notifier.sent < n:
            await asyncio.sleep(0.002)
    return time.monotonic()


def routine(n: int, hold: int = 30) -> Routine:
    return Routine("Back basics", Level.HARD, "ride",
                   tuple(Step(f"e{i}", f"Stretch {i}", "Breathe.", hold, "left") for i in range(n)))


async def start_walk(tg, headline: str, n: int, knobs: CoachKnobs = CoachKnobs(), stage: Stage | None = None):
    notifier = await choose_notifier("auto")
    assert isinstance(notifier, DesktopBackend) and notifier.has_buttons and notifier.server.name == "dunst"
    coach = Coach(routine(n), headline, knobs, buttons=True, level=Level.HARD, load=150, title=TITLE,
                  hint=notifier.hint)
    task = tg.create_task(walk(coach, notifier, stage=stage))
    await wait_sent(notifier, 1)
    return notifier, task


def history() -> list[dict]:
    _dunstctl("close-all")
    return json.loads(_dunstctl("history").stdout)["data"][0]


def test_click_offer_then_next_through_six_steps_on_dunst(dunst):
    """Plain click (dunstctl action 0) starts; "Next" via the context menu; one bubble all along."""
    figures: dict[str, list] = {"lat": [], "displayed": []}

    async def main():
        async with asyncio.TaskGroup() as tg:
            notifier, task = await start_walk(tg, "45 min ride, load 85", 6)
            figures["displayed"].append(int(await dunstctl("count", "displayed")))
            await asyncio.sleep(READ_S)
            t0 = time.monotonic()
            await dunstctl("action", "0")
            figures["lat"].append(await wait_sent(notifier, 2) - t0)
            dunst.write_text("Next")
            for i in range(6):
                figures["displayed"].append(int(await dunstctl("count", "displayed")))
                await asyncio.sleep(READ_S)
                t0 = time.monotonic()
                await dunstctl("context")
                figures["lat"].append(await wait_sent(notifier, 3 + i) - t0)
            outcome = await task
        await asyncio.sleep(0.1)
        figures["displayed"].append(int(await dunstctl("count", "displayed")))
        await notifier.aclose()
        return outcome

    outcome = asyncio.run(asyncio.wait_for(main(), 60))
    # Next pressed after a glance at each 30 s hold: gone through, honestly not held through
    assert (outcome.result, outcome.steps_done) == (Result.PARTIAL, 0)
    assert figures["displayed"] == [1] * 8
    lat = sorted(figures["lat"])
    print(f"\ndunst: press->next card accepted, {len(lat)} presses (incl. dunstctl/dmenu): "
          f"median {lat[len(lat) // 2] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
    # each card replaced the last in place, so only the closing card reaches dunst's history
    (done,) = history()
    assert done["summary"]["data"] == "Cool-down over, some stretches cut short"
    assert "0 of 6 stretches held through" in done["message"]["data"]
    assert done["icon_path"]["data"].endswith("icon.svg")  # ours, not the Python logo


def test_a_double_click_advances_one_step_on_dunst(dunst):
    """dunst keeps the bubble after an action: two clicks 200 ms apart must not skip a stretch."""
    async def double_click() -> None:
        await dunstctl("action", "0")
        await asyncio.sleep(0.2)
        await dunstctl("action", "0")

    async def main():
        async with asyncio.TaskGroup() as tg:
            notifier, task = await start_walk(tg, "45 min ride, load 85", 3)
            await asyncio.sleep(READ_S)
            await double_click()  # on the offer: starts, the second click lands on step 1
            await asyncio.sleep(READ_S)
            await double_click()  # on step 1: step 2, the second click lands on step 2
            await asyncio.sleep(0.5)
            task.cancel()
        await notifier.aclose()
        return notifier

    notifier = asyncio.run(asyncio.wait_for(main(), 30))
    assert notifier.sent == 3  # offer, step 1, step 2: nothing more
    assert _dunstctl("count", "displayed").stdout.strip() == "0"  # the cancelled walk closed its bubble


def test_context_menu_start_then_stop_on_dunst(dunst):
    async def main():
        async with asyncio.TaskGroup() as tg:
            notifier, task = await start_walk(tg, "Run done", 3)
            await asyncio.sleep(READ_S)
            dunst.write_text("Start")
            await dunstctl("context")
            await wait_sent(notifier, 2)
            shown = int(await dunstctl("count", "displayed"))
            await asyncio.sleep(READ_S)
            dunst.write_text("Stop")
            await dunstctl("context")
            outcome = await task
        await notifier.aclose()
        return outcome, shown

    outcome, shown = asyncio.run(asyncio.wait_for(main(), 30))
    assert (outcome.result, outcome.steps_done, shown) == (Result.STOPPED, 0, 1)
    assert [h["summary"]["data"] for h in history()] == ["Cool-down stopped"]


def bubble_point() -> tuple[int, int]:
    """A point inside dunst's first bubble (top-right, offset 10x50, 300 px wide)."""
    return 1280 - 10 - 150, 50 + 20


def test_a_left_click_closes_the_offer_for_later_and_it_comes_back_on_dunst(dunst):
    """Debian's dunstrc: a left click closes a bubble. On the offer that is Later, never Skip."""
    if not shutil.which("xdotool"):
        pytest.skip("needs apt xdotool")
    headline = 'Ride with <span foreground="red">TICKR</span> & <b>Co</b>'
    knobs = CoachKnobs(snooze_s=0.5)

    async def main():
        async with asyncio.TaskGroup() as tg:
            notifier, task = await start_walk(tg, headline, 3, knobs)
            await asyncio.sleep(READ_S)
            x, y = bubble_point()
            click = await asyncio.create_subprocess_exec("xdotool", "mousemove", str(x), str(y), "click", "1")
            assert await click.wait() == 0
            await wait_sent(notifier, 2, timeout=5)  # the offer again, after the snooze
            again = int(await dunstctl("count", "displayed"))
            await asyncio.sleep(READ_S)
            dunst.write_text("Skip")
            await dunstctl("context")
            outcome = await task
        await notifier.aclose()
        return outcome, again

    outcome, again = asyncio.run(asyncio.wait_for(main(), 30))
    assert (outcome.result, outcome.snoozes, again) == (Result.SKIPPED, 1, 1)
    offers = history()
    assert [h["summary"]["data"] for h in offers] == [TITLE, TITLE]
    # dunst's formatted text (before Pango) carries the tags as entities: shown as text
    assert offers[0]["message"]["data"].startswith(
        f"<b>{TITLE}</b>\nRide with &lt;span foreground=\"red\"&gt;TICKR"
        "&lt;/span&gt; &amp; &lt;b&gt;Co&lt;/b&gt;: 3 stretches")
    assert "Middle-click goes on" in offers[0]["message"]["data"]  # dunst draws no buttons: the card says how


def test_a_whole_walk_driven_by_cooldownd_next_on_dunst(dunst):
    """No button pressed: `cooldownd start` then `cooldownd next` for each step, as a key binding would."""
    latencies: list[float] = []

    async def command(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "cooldownd", *args, stdout=subprocess.PIPE,
                                                    stderr=subprocess.PIPE)
        out, err = await proc.communicate()
        return proc.returncode, (out + err).decode().strip()

    in_process: list[float] = []

    async def main():
        from cooldownd.cli.control import send

        stage = Stage()
        async with serving(stage, take_over=True), asyncio.TaskGroup() as tg:
            notifier, task = await start_walk(tg, "45 min ride, load 85", 7, CoachKnobs(transition_s=1), stage)
            for i, name in enumerate(["start", "next", "next", "next", "next"]):
                t0 = time.monotonic()
                code, text = await command(name)
                assert code == 0, text
                latencies.append(await wait_sent(notifier, 2 + i) - t0)
            for i in range(3):  # the same request without starting a process: the bus and the walk alone
                t0 = time.monotonic()
                assert (await send("next"))[0]
                in_process.append(await wait_sent(notifier, 7 + i) - t0)
            outcome = await task
            after = await command("next")
        await notifier.aclose()
        return outcome, after

    outcome, (code, text) = asyncio.run(asyncio.wait_for(main(), 60))
    assert (outcome.result, len(outcome.step_seconds)) == (Result.PARTIAL, 7)
    assert code == 1 and text == "cooldownd: next: nothing to act on: no cool-down on screen"
    print(f"\n`cooldownd next` -> card on dunst, {len(latencies)} commands (process start included): "
          f"median {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms; "
          f"the Act call alone (no process start): median {statistics.median(in_process) * 1000:.0f} ms")
    assert max(latencies) < 5
    (done,) = history()
    assert done["summary"]["data"].startswith("Cool-down")
