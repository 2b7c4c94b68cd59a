"""The ``import --json`` / ``history --json`` objects: one flat dict per workout or failed input."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cooldownd.core.model import Assessment, Workout

WORKOUT_KEYS = (
    "sport", "sub_sport", "start", "end", "duration_s", "elapsed_s", "avg_hr", "max_hr", "trimp",
    "hrss", "np", "if", "tss", "rmssd_ms", "hrr60", "load", "load_source", "level", "routine",
    "profile_source", "device",
)
KEYS = ("file", "sha256", "status", "error", *WORKOUT_KEYS, "note")
# The recording device's own numbers (FIT session), shown next to ours: summary key -> DeviceSummary field.
DEVICE_KEYS = {"duration_s": "timer_s", "elapsed_s": "elapsed_s", "avg_hr": "avg_hr", "max_hr": "max_hr",
               "np": "np", "if": "if_", "tss": "tss", "avg_power": "avg_power", "distance_m": "distance_m",
               "training_effect": "training_effect", "calories": "calories"}


def iso(t: float) -> str:
    """POSIX seconds as ISO 8601 UTC ("2024-05-04T08:00:00Z")."""
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def summary(workout: Workout, assessment: Assessment, routine_name: str | None, *, file: str | None = None,
            sha256: str | None = None, status: str = "imported", error: str | None = None) -> dict[str, Any]:
    """The summary of one assessed workout (numbers rounded to 1 decimal, IF to 2)."""
    a = assessment
    return {
        "file": file, "sha256": sha256, "status": status, "error": error,
        "sport": workout.sport, "sub_sport": workout.sub_sport,
        "start": iso(workout.start), "end": iso(workout.end),
        "duration_s": _r(workout.duration_s), "elapsed_s": _r(workout.elapsed_s),
        "avg_hr": _r(a.avg_hr), "max_hr": a.max_hr, "trimp": _r(a.trimp), "hrss": _r(a.hrss),
        "np": _r(a.np), "if": _r(a.if_, 2), "tss": _r(a.tss), "rmssd_ms": _r(a.rmssd_ms),
        "hrr60": a.hrr60, "load": _r(a.load), "load_source": a.load_source, "level": a.level.value,
        "routine": routine_name, "profile_source": a.profile_source, "device": device_numbers(workout),
        "note": workout.note,
    }


def device_numbers(workout: Workout) -> dict[str, float | int]:
    """What the device itself reported (``{}`` for a live workout), under the summary's key names."""
    out: dict[str, float | int] = {}
    for key, attr in DEVICE_KEYS.items():
        value = getattr(workout.device, attr)
        if value is not None:
            out[key] = value if isinstance(value, int) else _r(value, 2 if key == "if" else 1)
    return out


def failure(file: str | None, sha256: str | None, status: str, error: str | None) -> dict[str, Any]:
    """The line for an input that gave no new workout (skipped, error, duplicate): workout keys null."""
    out: dict[str, Any] = dict.fromkeys(KEYS)
    out.update(file=file, sha256=sha256, status=status, error=error)
    return out
