"""`status --follow --format waybar` against a daemon driven through a workout (fake BlueZ) and its offer.

A watcher in the test reads the daemon's status file every 20 ms and notes when the bar's state
changes (idle, workout, offer, each stretch, idle again, stopped); the follower must print the
matching line within 1 s of each. A state the daemon left within 0.3 s (the done card, which the
walk replaces at once) need not be printed: the bar shows where the daemon is, not where it was.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from bluez_harness import STRAP, BluezHarness
from daemon_harness import DaemonProcess

from cooldownd.cli.statusbar import bar_line

INTERVAL = 0.1
ROUTINES = """
[exercises.knees_to_chest]
title = "Knees to chest"
text = "Lie on your back and hug your {side} knee."
hold = 5
sides = ["left"]

[exercises.cat]
title = "The cat"
text = "On hands and knees, round your back, then let it sink."
hold = 5

[routines.any]
light = ["knees_to_chest", "cat"]
moderate = ["knees_to_chest", "cat"]
hard = ["knees_to_chest", "cat"]
very_hard = ["knees_to_chest", "cat"]
"""


def _config(tmp: Path) -> str:
    (tmp / "routines.toml").write_text(ROUTINES)
    return ("[ble]\nenabled = true\nquiet_s = 1.5\nscan_s = 5\nbackoff_cap_s = 5\n"
            "[detect]\nstart_hr = 100\nend_hr = 90\nstart_s = 1\nend_s = 3\ncontact_lost_s = 1.5\n"
            "reconnect_grace_s = 3\nmin_duration_s = 3\n[watch]\nfolders = []\n"
            '[notify]\nbackend = "console"\ntransition = "2s"\n[athlete]\nmax_hr = 190\nresting_hr = 55\n'
            f'[routines]\nfile = "{tmp / "routines.toml"}"\n[store]\npath = "{tmp / "state" / "c.db"}"\n')


def _key(line: dict) -> str:
    """What a bar line says, less the ticking seconds and heart rate: the state (and stretch number)."""
    return line["alt"] + (" " + line["text"].split()[0] if line["alt"] == "step" else "")


class Watcher(threading.Thread):
    """Reads the status file every 20 ms; notes (time, key) whenever the bar's state changes."""

    def __init__(self, status_file: Path, running) -> None:
        super().__init__(daemon=True)
        self.file, self.running, self.changes, self.stop = status_file, running, [], threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.02):
            status = None
            if self.running():
                try:
                    status = json.loads(self.file.read_text())
                except (OSError, ValueError):
                    continue
            key = _key(bar_line(status, time.time()))
            if not self.changes or self.changes[-1][1] != key:
                self.changes.append((time.monotonic(), key))


def test_follow_prints_each_state_of_a_workout_and_its_offer_within_a_second(tmp_path: Path) -> None:
    with BluezHarness(tmp_path) as bluez:
        bluez.start_fake(bpm=[140], interval=INTERVAL)
        env = {k: bluez.env[k] for k in ("DBUS_SYSTEM_BUS_ADDRESS", "PATH")}
        (tmp_path / "d").mkdir()
        d = DaemonProcess(tmp_path / "d", _config(tmp_path), env=env).start()
        state = tmp_path / "state"
        follower = subprocess.Popen([sys.executable, "-m", "cooldownd", "--config", str(d.config), "status",
                                     "--follow", "--format", "waybar"], stdout=subprocess.PIPE, text=True)
        printed: list[tuple[float, dict]] = []
        reader = threading.Thread(target=lambda: printed.extend((time.monotonic(), json.loads(raw))
                                                                  for raw in follower.stdout), daemon=True)
        reader.start()
        watcher = Watcher(state / "status.json", lambda: _locked(state / "daemon.lock"))
        watcher.start()
        try:
            d.wait_for_datagram("READY=1", timeout=30)
            _wait_for(printed, "workout", 30)
            assert any(line["text"] == "♥ 140" for _, line in printed), printed
            time.sleep(2.5)
            bluez.control("SetContact", "sb", STRAP, False)  # strap off: the workout ends and is offered
            _wait_for(printed, "step", 30)
            _wait_for(printed, "idle", 40, after=len(printed))
            time.sleep(1.0)
            d.stop()
            _wait_for(printed, "stopped", 10)
            time.sleep(0.5)
        finally:
            watcher.stop.set()
            follower.terminate()
            follower.wait(5)
            d.kill()
    changes = watcher.changes
    keys = [k for _, k in changes]
    assert keys[:3] == ["stopped", "idle", "workout"] and "offer" in keys and "step 1/2" in keys and "step 2/2" in keys, keys
    assert keys[-2:] == ["idle", "stopped"], keys
    lags = []
    for i, (t0, key) in enumerate(changes):
        t_next = changes[i + 1][0] if i + 1 < len(changes) else float("inf")
        if i == 0 or t_next - t0 < 0.3:
            continue  # the state before the follower started; or one left at once (the done card)
        shown = [t for t, line in printed if _key(line) == key and t >= t0 - 0.2]
        assert shown, f"{key!r} never printed: {[_key(p) for _, p in printed]}; changes {changes}"
        lags.append((key, shown[0] - t0))
    print("follower lag per state:", ", ".join(f"{k} {max(0.0, lag):.2f} s" for k, lag in lags))
    firsts: dict[str, dict] = {}
    for _, line in printed:
        firsts.setdefault(_key(line), line)
    print("\n".join(json.dumps(line, ensure_ascii=False) for line in firsts.values()))
    assert all(lag < 1.0 for _, lag in lags), lags
    steps = [line["text"] for _, line in printed if line["alt"] == "step"]
    assert steps[0].startswith("1/2 0:0") and len(steps) >= 6, steps  # the seconds tick down


def _locked(path: Path) -> bool:
    """Whether a daemon holds its lock (what the kernel says, not what a child's exit status says yet)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _wait_for(printed: list, alt: str, timeout: float, after: int = 0) -> None:
    deadline = time.monotonic() + timeout
    while not any(line["alt"] == alt for _, line in printed[after:]):
        assert time.monotonic() < deadline, f"no {alt!r} line: {[line for _, line in printed]}"
        time.sleep(0.05)
