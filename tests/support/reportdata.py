"""Workouts for report tests and the report bench: generated FIT files over the last weeks, then outcomes.

    files = workout_files(now, count=24, weeks=6)       # [(name, FIT bytes)], newest last
    set_outcomes(store_path)                             # cycle walk-through results over the stored rows

Deterministic: the kinds, loads and outcomes cycle; only ``now`` moves the dates.
"""

from __future__ import annotations

from pathlib import Path

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
