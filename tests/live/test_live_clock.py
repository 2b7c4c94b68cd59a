"""Wall-clock steps mid-workout (issue 13 item 6, live path): durations and deadlines do not move.

The daemon runs under libfaketime (LD_PRELOAD; Debian's ``libfaketime``, installed by tests/run):
its wall clock (``time.time``, ``CLOCK_REALTIME``) reads an offset from a file the test rewrites,
while ``CLOCK_MONOTONIC``/``CLOCK_BOOTTIME`` stay real (``DONT_FAKE_MONOTONIC``). That steps the very
clock the daemon reads, with no test hook in the daemon. (libfaketime 0.9.10 breaks Python's
``time.sleep`` when monotonic is not faked; the daemon never calls it, asyncio and SQLite work.)
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from bluez_harness import STRAP
from test_live_daemon import HARD, INTERVAL, Live, live, one_workout, started  # noqa: F401 (live is a fixture)

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


def faketime_env(offset_file: Path) -> dict[str, str]:
    """The environment that puts the daemon's wall clock at the offset in ``offset_file`` ("+3600")."""
    if not LIBFAKETIME.exists():
        pytest.skip(f"{LIBFAKETIME} missing: apt-get install libfaketime (tests/run does)")
    offset_file.write_text("+0\n")
    return {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_TIMESTAMP_FILE": str(offset_file), "FAKETIME_NO_CACHE": "1",
            "DONT_FAKE_MONOTONIC": "1", "NO_FAKE_STAT": "1"}


def ts(iso: str) -> float:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("step_s", [3600, -600])
def test_wall_clock_step_mid_workout_changes_neither_duration_nor_end(live: Live, tmp_path: Path, step_s: int) -> None:
    offset = tmp_path / "faketime.rc"
    live.bluez.start_fake(bpm=[HARD], interval=INTERVAL)
    d = live.start(env=faketime_env(offset))
    started(live)
    t0 = time.monotonic()
    time.sleep(2)
    offset.write_text(f"{step_s:+d}\n")  # the wall clock steps (NTP, or the user sets it)
    time.sleep(2)
    ridden = time.monotonic() - t0
    live.ctl("SetContact", "sb", STRAP, False)
    off_at = time.monotonic()
    row = one_workout(live, timeout=15)  # -10 min once delayed the end by 9 min
    assert time.monotonic() - off_at < 8, "the end is detected contact_lost_s after the strap came off"
    assert ridden - 1 <= row["duration_s"] <= ridden + 3, (ridden, row)
    assert row["elapsed_s"] <= ridden + 3, row
    # stamped on the (stepped) wall clock: the daemon's "now" is ours plus the step
    assert abs(ts(row["end"]) - (time.time() + step_s)) < 15, (row["end"], step_s)
    assert ts(row["end"]) - ts(row["start"]) == pytest.approx(row["elapsed_s"], abs=1.5)
    assert d.stop() == 0
    live.assert_clean()


def test_wall_clock_step_while_idle_then_a_workout_is_timed_right(live: Live, tmp_path: Path) -> None:
    """A step back while no workout runs: the next workout starts on time and is stamped in the new time."""
    offset = tmp_path / "faketime.rc"
    live.bluez.start_fake(bpm=[62], interval=INTERVAL)
    d = live.start(env=faketime_env(offset))
    live.streaming()
    time.sleep(1)
    offset.write_text("-600\n")
    time.sleep(1)
    live.hr(HARD)
    t0 = time.monotonic()
    started(live)
    assert time.monotonic() - t0 < 5, "start_s (1 s) counted on a steady clock"
    time.sleep(3)
    live.ctl("SetContact", "sb", STRAP, False)
    row = one_workout(live, timeout=15)
    assert 2 <= row["duration_s"] <= 7, row
    assert abs(ts(row["end"]) - (time.time() - 600)) < 15, row["end"]
    assert d.stop() == 0
    live.assert_clean()
