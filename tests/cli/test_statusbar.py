"""The status-bar line for each daemon state, the walk's status from a real Coach, and the follower's waking.

The end-to-end run (a daemon driven through a workout by the fake BlueZ, then an offer and its
steps) is tests/live/test_status_follow.py.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cooldownd.cli.statusbar import bar_line, formatter, next_change
from cooldownd.core.coach import Coach, CoachKnobs
from cooldownd.core.model import Level, Routine, Step
from cooldownd.desktop.offers import walk_status

NOW = 1_760_000_000.0
ROUTINE = Routine("any.hard", Level.HARD, "any", (Step("knees_to_chest", "Knees to chest", "Hug it.", 20, "left"),
                                                   Step("cat", "The cat", "Round, then sink.", 40)))


def status(**kw) -> dict:
    base = {"pid": 1, "started": NOW - 3600, "folders": [], "device": None, "last_workout": None,
            "pending_offer": None, "workout": None, "walk": None, "line": "watching 0 folders"}
    return base | kw


def test_every_state_has_its_line() -> None:
    assert bar_line(None, NOW) == {"text": "", "alt": "stopped", "class": "stopped",
                                   "tooltip": "cooldownd is not running"}
    idle = bar_line(status(last_workout={"sport": "cycling", "sub_sport": "road", "level": "hard",
                                         "duration_s": 4320}), NOW)
    assert (idle["text"], idle["class"]) == ("idle", "idle") and "Last: hard ride, 1 h 12 min" in idle["tooltip"]
    work = bar_line(status(workout={"since": NOW - 1500}, device={"hr": 152, "state": "connected"}), NOW)
    assert (work["text"], work["class"]) == ("♥ 152", "workout") and "25 min, heart rate 152" in work["tooltip"]
    offer = bar_line(status(pending_offer={"workout": 3, "at": NOW - 1},
                            walk={"state": "offer", "title": "Hard ride: 1 h 12 min, load 112"}), NOW)
    assert (offer["text"], offer["class"]) == ("cool-down?", "offer")
    assert offer["tooltip"].startswith("Hard ride: 1 h 12 min, load 112 is waiting")
    later = time.strftime("%H:%M", time.localtime(NOW + 3600))
    quiet = bar_line(status(pending_offer={"workout": 3, "at": NOW + 3600}), NOW)
    assert (quiet["text"], quiet["class"]) == (f"cool-down {later}", "waiting")
    snoozed = bar_line(status(pending_offer={"workout": 3, "at": NOW - 60},
                              walk={"state": "snoozed", "title": "Hard ride", "until": NOW + 3600}), NOW)
    assert (snoozed["text"], snoozed["class"]) == (f"cool-down {later}", "snoozed")
    step = bar_line(status(pending_offer={"workout": 3, "at": NOW - 60},
                           walk={"state": "step", "step": 2, "steps": 6, "title": "The cat", "side": None,
                                 "hold_s": 40, "ends_at": NOW + 25.2}), NOW)
    assert step == {"text": "2/6 0:26", "alt": "step", "class": "step", "percentage": 17,
                    "tooltip": "Cool-down, stretch 2 of 6: The cat, 0:26 left"}


def test_the_walk_publishes_offer_snooze_steps_and_done_from_a_real_coach() -> None:
    """``walk_status`` on a real Coach (steady time ``t``, wall time ``NOW + t``) through Later, Start, Next."""
    coach = Coach(ROUTINE, "Hard ride: 1 h", CoachKnobs(snooze_s=600), buttons=True)

    def said(t: float) -> dict | None:  # as the walk calls it: when a card appears or goes
        return walk_status(coach, "Hard ride: 1 h", NOW + t)

    coach.start(0.0, NOW)
    assert said(0.0) == {"state": "offer", "title": "Hard ride: 1 h"}
    coach.press("later", 5.0, NOW + 5, guard=False)
    assert said(5.0) == {"state": "snoozed", "title": "Hard ride: 1 h", "until": NOW + 605}
    coach.tick(605.0, NOW + 605)
    coach.press("start", 610.0, NOW + 610, guard=False)
    first = said(610.0)
    assert first == {"state": "step", "title": "Knees to chest", "side": "left", "step": 1, "steps": 2,
                     "hold_s": 20, "ends_at": NOW + 630}
    line = bar_line(status(walk=first), NOW + 611)
    assert line["text"] == "1/2 0:19" and "(left)" in line["tooltip"]
    coach.press("next", 615.0, NOW + 615, guard=False)
    assert said(615.0)["step"] == 2 and said(615.0)["ends_at"] == NOW + 655
    coach.press("next", 620.0, NOW + 620, guard=False)
    assert said(620.0) == {"state": "done", "title": "Hard ride: 1 h"}
    skip = Coach(ROUTINE, "x", buttons=True)
    skip.start(0.0, NOW)
    skip.press("skip", 1.0, NOW + 1, guard=False)
    assert walk_status(skip, "x", NOW + 1) is None  # the walk ended without a card: nothing to show


def test_a_stretch_counts_down_once_a_second_and_otherwise_the_follower_sleeps() -> None:
    walk = {"state": "step", "step": 1, "steps": 2, "title": "x", "ends_at": NOW + 10.3}
    line = bar_line(status(walk=walk), NOW)
    assert next_change(line, status(walk=walk), NOW) == pytest.approx(0.3)
    idle = status()
    assert next_change(bar_line(idle, NOW), idle, NOW) == 60.0
    assert json.loads(formatter("waybar")(idle, bar_line(idle, NOW)))["class"] == "idle"
    assert formatter("text")(None, bar_line(None, NOW)) == "cooldownd is not running"


def _lines(proc: subprocess.Popen, into: list[tuple[float, dict]]) -> None:
    for raw in proc.stdout:
        into.append((time.monotonic(), json.loads(raw)))


def test_follow_before_the_daemon_starts_and_after_it_is_killed(tmp_path: Path) -> None:
    """No state folder yet: "stopped"; a daemon comes up: "idle"; kill -9: "stopped" again within a second."""
    from daemon_harness import DaemonProcess

    config = f'[store]\npath = "{tmp_path / "state" / "c.db"}"\n[ble]\nenabled = false\n[watch]\nfolders = []\n'
    (tmp_path / "d").mkdir()
    d = DaemonProcess(tmp_path / "d", config)
    follower = subprocess.Popen([sys.executable, "-m", "cooldownd", "--config", str(d.config), "status", "--follow",
                                 "--format", "waybar"], stdout=subprocess.PIPE, text=True)
    seen: list[tuple[float, dict]] = []
    threading.Thread(target=_lines, args=(follower, seen), daemon=True).start()
    try:
        _wait(lambda: seen, 20)
        assert seen[0][1]["class"] == "stopped"
        d.start()
        d.wait_for_datagram("READY=1", timeout=30)
        ready = time.monotonic()
        _wait(lambda: seen[-1][1]["class"] == "idle", 5)
        assert seen[-1][0] - ready < 1.5  # up to a second of polling while the folder did not exist
        time.sleep(1)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(5)
        killed = time.monotonic()
        _wait(lambda: seen[-1][1]["class"] == "stopped", 5)
        assert seen[-1][0] - killed < 1.0, seen[-1][0] - killed
    finally:
        follower.terminate()
        follower.wait(5)
        d.kill()
    assert [c for c in _changes([s["class"] for _, s in seen])] == ["stopped", "idle", "stopped"]


def _changes(items: list) -> list:
    return [x for i, x in enumerate(items) if i == 0 or items[i - 1] != x]


def _wait(pred, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_follow_idles_without_waking(tmp_path: Path) -> None:
    """While nothing changes the follower sleeps in select(): a few wake-ups a minute at most, no CPU."""
    from daemon_harness import DaemonProcess

    config = f'[store]\npath = "{tmp_path / "state" / "c.db"}"\n[ble]\nenabled = false\n[watch]\nfolders = []\n'
    (tmp_path / "d").mkdir()
    d = DaemonProcess(tmp_path / "d", config).start()
    try:
        d.wait_for_datagram("READY=1", timeout=30)
        follower = subprocess.Popen([sys.executable, "-m", "cooldownd", "--config", str(d.config), "status",
                                     "--follow", "--format", "waybar"], stdout=subprocess.PIPE, text=True)
        try:
            assert json.loads(follower.stdout.readline())["class"] == "idle"
            time.sleep(1.0)  # past start-up
            before = _cpu_and_switches(follower.pid)
            time.sleep(5.0)
            after = _cpu_and_switches(follower.pid)
        finally:
            follower.terminate()
            follower.wait(5)
    finally:
        d.stop()
    cpu_ticks, switches = after[0] - before[0], after[1] - before[1]
    print(f"status --follow over 5 s idle: {cpu_ticks} CPU ticks, {switches} context switches")
    assert cpu_ticks <= 1 and switches <= 3, (cpu_ticks, switches)


def _cpu_and_switches(pid: int) -> tuple[int, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    text = Path(f"/proc/{pid}/status").read_text()
    switches = sum(int(line.split()[1]) for line in text.splitlines() if "ctxt_switches" in line)
    return ticks, switches
