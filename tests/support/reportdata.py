"""Workouts for report tests and the report bench: generated FIT files over the last weeks, then outcomes.

    files = workout_files(now, count=24, weeks=6)       # [(name, FIT bytes)], newest last
    set_outcomes(store_path)                             # cycle walk-through results over the stored rows
    filled = fill(root, files)                           # a private store filled through the real CLI
    filled.cli("report", ...); filled.history()          # commands in that store's private environment
    ``filled`` is also a module-scoped pytest fixture (COUNT workouts over WEEKS weeks).

Deterministic: the kinds, loads and outcomes cycle; only ``now`` moves the dates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import fitgen

# (name, fitgen builder, keyword arguments): light to very hard, with and without power and heart rate
KINDS = (
    ("hard-ride", fitgen.ride, dict(minutes=60, power=235, hr=[min(110 + i // 20, 168) for i in range(3600)])),
    ("easy-ride", fitgen.ride, dict(minutes=30, power=130, hr=125)),
    ("run", fitgen.run, dict(minutes=40)),
    ("very-hard-ride", fitgen.ride, dict(minutes=95, hr=[min(120 + i // 25, 176) for i in range(95 * 60)])),
    ("strength", fitgen.strength, dict(minutes=35)),
    ("tempo-ride", fitgen.ride, dict(minutes=50)),
)
# walk-through results cycled over the workouts (None: never offered)
RESULTS = ("completed", "completed", "skipped", "snoozed_out", "completed", "missed", "stopped", None)


def workout_files(now: float, count: int = 24, weeks: float = 6) -> list[tuple[str, bytes]]:
    """``count`` workouts spread over the last ``weeks`` weeks, the newest ending over 6 h before ``now``."""
    span = weeks * 7 * 86400
    out = []
    for i in range(count):
        name, build, kw = KINDS[i % len(KINDS)]
        start = now - 8 * 3600 - span * (count - 1 - i) / max(count - 1, 1) - 3 * 3600
        out.append((f"{i:04d}-{name}.fit", build(start=start, serial=1000 + i, **kw)))
    return out


def write_files(folder: Path, files: list[tuple[str, bytes]]) -> Path:
    """The files in ``folder`` (created); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files:
        (folder / name).write_bytes(data)
    return folder


def set_outcomes(db: Path) -> dict[int, str | None]:
    """Give the stored workouts walk-through outcomes through the Store, cycling RESULTS by start time.

    Returns id -> result. Only on a store no daemon holds (a test's own).
    """
    from cooldownd.store import Store

    store = Store.open(db)
    given: dict[int, str | None] = {}
    try:
        rows = sorted(store.workouts(limit=100_000), key=lambda r: r.start)
        with store.transaction():
            for k, row in enumerate(rows):
                result = RESULTS[k % len(RESULTS)]
                given[row.id] = result
                if result is None:
                    continue
                t = row.end + 600
                started = t + 20 if result in ("completed", "stopped") else None
                ended = started + (480 if result == "completed" else 120) if started else t + 900
                store.record_outcome(row.id, {"offered_at": t, "started_at": started,
                                              "steps_done": 6 if result == "completed" else 2,
                                              "snoozes": 3 if result == "snoozed_out" else 0, "result": result,
                                              "ended_at": ended})
    finally:
        store.close()
    return given


COUNT, WEEKS = 24, 6


@dataclass
class Filled:
    """A config pointing at a filled store, its private environment and what was put in."""

    config: Path
    db: Path
    env: dict[str, str]
    results: dict[int, str | None]

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`python -m cooldownd --config CONFIG ARGS` in this store's private environment only."""
        return subprocess.run([sys.executable, "-m", "cooldownd", "--config", str(self.config), *args],
                              capture_output=True, text=True, env=self.env, timeout=timeout)

    def history(self) -> list[dict]:
        out = self.cli("history", "--json", "--limit", "100000")
        assert out.returncode == 0, out.stderr
        return [json.loads(line) for line in out.stdout.splitlines()]


def fill(root: Path, files: list[tuple[str, bytes]], *, some_fail: bool = False) -> Filled:
    """Import ``files`` into a fresh store under ``root`` and give the workouts outcomes.

    ``some_fail``: device files that are broken on purpose make the import exit 1, not 2 or worse.
    """
    home = root / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COOLDOWND_", "LC_", "NOTIFY_", "WATCHDOG_",
                                                                                "JOURNAL_STREAM"))}
    env |= {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_STATE_HOME": str(home / ".state"),
           "XDG_DATA_HOME": str(home / ".data"), "XDG_RUNTIME_DIR": str(home / "run"),
           "DBUS_SESSION_BUS_ADDRESS": f"unix:path={home}/no-such-bus", "LANG": "C.UTF-8"}
    (home / "run").mkdir(parents=True, mode=0o700)
    db = home / ".state" / "cooldownd" / "cooldownd.db"
    config = root / "config.toml"
    config.write_text(f'[store]\npath = "{db}"\n[notify]\nbackend = "console"\n')
    filled = Filled(config, db, env, {})
    out = filled.cli("import", "--no-notify", str(write_files(root / "in", files)), timeout=300)
    assert out.returncode in ((0, 1) if some_fail else (0,)), out.stderr
    filled.results = set_outcomes(db)
    return filled


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Filled:
    """COUNT generated workouts over the last WEEKS weeks."""
    root = tmp_path_factory.mktemp("report")
    return fill(root, workout_files(time.time(), COUNT, WEEKS))
