"""Partial files in a watched folder (issue 13 item 7): wait for the rest, offer the complete workout.

Once a file copied in chunks slower than settle_s was imported as "Light workout: 9 min" and
offered with the wrong routine; the complete copy then replaced it and was never offered. Now a
FIT activity is imported when it is complete (as long as its header says, with its closing
session and activity messages), or once it stayed unchanged and unfinished for
watch.unfinished_wait_s (imported as it is, with a line saying so). Real `cooldownd run`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import fitgen
from conftest import run_cli
from daemon_harness import DaemonProcess


def start(tmp: Path, wait_s: float | None = None) -> tuple[DaemonProcess, Path]:
    inbox = tmp / "in"
    inbox.mkdir()
    wait = "" if wait_s is None else f"unfinished_wait_s = {wait_s}\n"
    config = (f"[ble]\nenabled = false\n[watch]\nfolders = [\"{inbox}\"]\nsettle_s = 0.3\npoll_s = 5\n{wait}"
              "[notify]\nbackend = \"console\"\ntransition = \"1s\"\n[athlete]\nmax_hr = 190\nresting_hr = 50\nftp = 250\n")
    d = DaemonProcess(tmp, config).start()
    d.wait_for_datagram("READY=1", timeout=30)
    return d, inbox


def history() -> list[dict]:
    out = run_cli("history", "--json", "--limit", "50")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def hard_ride() -> bytes:
    """An hour at threshold that ended ten minutes ago: offered, and "hard" or more."""
    return fitgen.ride(minutes=60, hr=165, power=250, start=time.time() - 70 * 60, serial=4242)


def test_file_copied_in_chunks_slower_than_settle_s_is_imported_and_offered_once_complete(tmp_path: Path) -> None:
    data = hard_ride()
    d, inbox = start(tmp_path)
    try:
        with open(inbox / "ride.fit", "wb", buffering=0) as f:  # a slow USB copy: a chunk, a pause, ...
            for i in range(6):
                f.write(data[i * len(data) // 6:(i + 1) * len(data) // 6])
                time.sleep(0.8)  # longer than settle_s
        d.wait_for_output("ride.fit: imported", timeout=20, stream="stderr")
        deadline = time.monotonic() + 15
        while "== Cool-down" not in d.stdout.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)
        assert d.stop() == 0
    finally:
        d.kill()
    log, shown = d.stderr.read_text(), d.stdout.read_text()
    rows = history()
    assert len(rows) == 1 and rows[0]["status"] == "imported", rows
    row = rows[0]
    assert row["duration_s"] >= 59 * 60 and row["level"] in ("hard", "very_hard"), row
    assert shown.count("== Cool-down") == 1, shown
    assert "1 h" in shown or "60 min" in shown, shown  # the offer is about the complete hour, not a part of it
    assert row["offered_at"] is not None
    assert "ride.fit: not finished yet" in log and "Traceback" not in log, log


def test_file_cut_short_for_good_is_imported_after_the_wait_with_a_line(tmp_path: Path) -> None:
    data = hard_ride()
    d, inbox = start(tmp_path, wait_s=3)
    try:
        cut = inbox / ".ride.fit"
        cut.write_bytes(data[:len(data) // 2])  # a full disk stopped the copy half-way
        os.replace(cut, inbox / "ride.fit")
        t0 = time.monotonic()
        d.wait_for_output("ride.fit: imported", timeout=20, stream="stderr")
        waited = time.monotonic() - t0
        assert d.stop() == 0
    finally:
        d.kill()
    log = d.stderr.read_text()
    assert waited >= 3, f"imported after {waited:.1f} s: it did not wait for the rest"
    assert "ride.fit: still unfinished after 3 s unchanged" in log and "importing what is there" in log, log
    (row,) = history()
    assert row["note"] and "readable part" in row["note"], row
