"""``bench/idle --phases``: one daemon's idle RSS at ready, after an import, after a walk-through with
pictures and sound, and after the corpus; each against a bare interpreter measured in the same run.

The daemon is ``bench/idle``'s ``media`` variant (BLE on against the fake BlueZ with the strap out of
range, a private session bus with the fake notification server of tests/support, a private PulseAudio,
``notify.sound`` and ``notify.voice`` on) started with ``MALLOC_ARENA_MAX=2`` as the unit starts it.
Phases, each measured once the daemon has used no CPU for ``QUIET_S`` and then ``--settle`` s more:
1. ready;
2. an import: a ride that ended three days ago (recorded, not offered: no card);
3. a walk-through: a ride that just ended, offered and walked through to the end (pictures rendered,
   chimes played, steps spoken) on the fake server;
4. the corpus: every file of ``--corpus`` (../shared/fit) dropped into the watched folder.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

QUIET_S = 3.0


def status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def with_children(cpu: Callable[[int], float]) -> Callable[[int], float]:
    """CPU seconds of ``pid`` and its living children (the decoding process: daemon/importworker.py)."""
    def total(pid: int) -> float:
        kids = [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]
        return cpu(pid) + sum(_or_zero(cpu, k) for k in kids)
    return total


def _or_zero(cpu: Callable[[int], float], pid: int) -> float:
    try:
        return cpu(pid)
    except OSError:  # it exited meanwhile
        return 0.0


def wait_quiet(pid: int, cpu: Callable[[int], float], timeout: float = 900) -> None:
    """Until ``pid`` (and its children) used no CPU (beyond 20 ms) for ``QUIET_S``."""
    deadline = time.monotonic() + timeout
    last, since = cpu(pid), time.monotonic()
    while time.monotonic() - since < QUIET_S:
        if time.monotonic() > deadline:
            sys.exit("bench: the daemon is still busy after the timeout")
        time.sleep(0.5)
        now = cpu(pid)
        if now - last > 0.02:
            last, since = now, time.monotonic()


def wait_log(log: Path, needle: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while needle not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            sys.exit(f"bench: no {needle!r} in the daemon's log: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.3)


def run(idle, args: argparse.Namespace, tmp: Path) -> None:  # noqa: ANN001 - bench/idle, loaded as a module
    """Start the baseline and the media daemon, go through the phases and print the figures."""
    import fitgen
    from bluez_harness import STRAP, BluezHarness

    stack = contextlib.ExitStack()
    with stack:
        base = subprocess.Popen([sys.executable, "-c", idle.BASELINE], cwd=idle.ROOT)
        stack.callback(_stop, base)
        (tmp / "bus").mkdir()
        h = stack.enter_context(BluezHarness(tmp / "bus"))
        h.start_fake(bpm=[60, 61, 60, 59], interval=1.0, adapter=True)
        h.control("SetInRange", "sb", STRAP, False)
        env = dict(idle.media_env(tmp / "media", stack), MALLOC_ARENA_MAX="2")
        daemon = idle.start_daemon(tmp, "media", h.env, env, cues=True)
        stack.callback(_stop, daemon)
        home, log = tmp / "media", tmp / "media" / "stderr.txt"
        rows: list[tuple[str, float, float]] = []

        def measure(name: str) -> None:
            wait_quiet(daemon.pid, with_children(lambda pid: idle.sample(pid)["cpu"]))
            time.sleep(args.settle)
            if daemon.poll() is not None:
                sys.exit(f"bench: the daemon exited: {log.read_text(errors='replace')[-2000:]}")
            rows.append((name, status_mb(daemon.pid, "VmRSS"), status_mb(base.pid, "VmRSS")))
            print(f"  {name:58} {rows[-1][1]:6.1f} MB", flush=True)

        wait_log(log, "cooldownd: ready")
        measure("1. ready")
        (home / "in" / "old.fit").write_bytes(fitgen.ride(start=time.time() - 3 * 86400, minutes=60))
        wait_log(log, "old.fit: imported")
        measure("2. after an import (a ride of 3 days ago: no card)")
        idle.walk_through(tmp, "media")
        measure("3. after a walk-through (pictures, chimes, voice)")
        corpus = sorted(p for p in args.corpus.glob("*") if p.suffix.lower() in (".fit", ".gz", ".zip"))
        for n, path in enumerate(corpus):
            shutil.copyfile(path, home / "in" / f".c{n:04d}")
            (home / "in" / f".c{n:04d}").rename(home / "in" / f"c{n:04d}-{path.name}")
        measure(f"4. after the corpus ({len(corpus)} files)")
        peak = status_mb(daemon.pid, "VmHWM")
    report(rows, peak, args)


def _stop(p: subprocess.Popen) -> None:
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def report(rows: list[tuple[str, float, float]], peak: float, args: argparse.Namespace) -> None:
    base = rows[0][2]
    print(f"\nidle RSS of one `cooldownd run` (media variant, MALLOC_ARENA_MAX=2), quiet {QUIET_S:g} s + settle "
          f"{args.settle:g} s before each figure; baseline (bare import of bleak, desktop_notifier, fitparse, "
          f"pydantic_settings) {base:.1f} MB in the same run")
    for name, rss, _ in rows:
        verdict = "meets" if rss <= args.goal else "MISSES"
        print(f"  {name:58} {rss:6.1f} MB  {rss / base:5.2f}x baseline  {verdict} the {args.goal:g} MB budget")
    print(f"  peak (VmHWM) over the run: {peak:.1f} MB")
