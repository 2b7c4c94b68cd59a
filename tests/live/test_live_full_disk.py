"""A live workout survives a full disk (issue 13 item 2): a real full file system under the store.

The state folder is a small tmpfs (mounting needs root: CI runs as root; elsewhere the test skips
and says why). The disk fills mid-workout, the workout ends while it is full, then space comes
back: the whole workout is stored once and offered once.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bluez_harness import STRAP
from test_live_daemon import HARD, INTERVAL, Live, live, started  # noqa: F401 (live is a fixture)


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``folder`` (0700), unmounted afterwards."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for the state folder ({done.stderr.strip()}); needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a filler file until the file system says ENOSPC; returns it (delete it to free the space)."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        for size in (1 << 16, 4096, 512, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler


def test_full_disk_when_the_workout_ends_keeps_it_until_space_returns_then_offers_it(live: Live, home: Path) -> None:
    with small_disk(home / ".local" / "state" / "cooldownd") as state:
        live.bluez.start_fake(bpm=[HARD], interval=INTERVAL)
        d = live.start()
        started(live)
        time.sleep(1.5)
        filler = fill(state)
        began_full = time.time()
        time.sleep(5)  # more riding while no journal batch can be written
        live.ctl("SetContact", "sb", STRAP, False)  # the strap comes off: the workout ends on a full disk
        live.wait_log("cannot store the live workout", timeout=10)
        time.sleep(2)
        assert live.offers() == 0
        os.unlink(filler)  # space returns
        freed = time.time()
        live.wait_until("one cool-down offer", lambda: live.offers() >= 1, 20)
        rows = live.history()
        assert len(rows) == 1, rows
        row = rows[0]
        assert row["source"] == "ble" and row["offered_at"] is not None and row["offered_at"] >= freed
        # the samples of the full-disk minutes are in it: the workout did not shrink to its journaled part
        assert row["duration_s"] >= 5 + 1, row
        assert "not a workout" not in live.log()
        print(f"full disk: workout of {row['duration_s']} s kept {freed - began_full:.1f} s in memory, "
              "stored and offered once space returned")
        assert d.stop() == 0
        live.assert_clean()
