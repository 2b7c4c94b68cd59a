"""The live detector's values: its knobs, and the events it emits (as h11 keeps ``_events.py``).

Pure values only; every decision about when a workout starts and ends stays in ``detector.py``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from cooldownd.core.model import Workout

#: Default start threshold: this fraction of the heart-rate reserve above resting HR (issue 5).
START_FRACTION_HRR = 0.5
#: Default end threshold: start_hr minus this many bpm, so HR hovering at the threshold does
#: not flap between states (same default as settings.DetectSettings.end_hr).
END_HYSTERESIS_BPM = 10


class EndCause(enum.Enum):
    """Why a workout ended."""

    SETTLED = "heart rate settled"
    CONTACT_LOST = "sensor contact lost"
    LINK_LOST = "strap out of reach"


@dataclass(frozen=True, slots=True)
class WorkoutStarted:
    """A workout began at ``t`` (its first sample at or above start_hr)."""

    t: float


@dataclass(frozen=True, slots=True)
class WorkoutEnded:
    """A workout long enough to keep ended; ``workout.end`` is its last active sample."""

    workout: Workout
    cause: EndCause


@dataclass(frozen=True, slots=True)
class WorkoutDiscarded:
    """A started workout ended shorter than min_duration_s; ``reason`` is one line for the log."""

    reason: str
    start: float
    end: float
    cause: EndCause


Event = WorkoutStarted | WorkoutEnded | WorkoutDiscarded


@dataclass(frozen=True, slots=True)
class DetectKnobs:
    """Thresholds (bpm) and durations (s) of live detection; see ``for_athlete`` for the defaults."""

    start_hr: int
    end_hr: int
    start_s: float = 60.0
    end_s: float = 300.0
    contact_lost_s: float = 120.0
    reconnect_grace_s: float = 180.0
    min_duration_s: float = 600.0
    quiet_s: float = 10.0  # resume: a journal gap longer than this was a lost link (= ble.quiet_s)
    sport: str = "generic"  # FIT's name; a strap does not say what the sport was

    def __post_init__(self) -> None:
        if not 0 < self.end_hr <= self.start_hr:
            raise ValueError(f"detect: end_hr {self.end_hr} must be > 0 and <= start_hr {self.start_hr}")
        for name in ("start_s", "end_s", "contact_lost_s", "reconnect_grace_s", "min_duration_s",
                     "quiet_s"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"detect: {name} = {value} must be a finite number of seconds >= 0")

    @classmethod
    def for_athlete(cls, resting_hr: int, max_hr: int, *, start_hr: int | None = None,
                    end_hr: int | None = None, **seconds: float) -> DetectKnobs:
        """Knobs with start_hr = 50 % of heart-rate reserve and end_hr = start_hr - 10 unless given."""
        if start_hr is None:
            start_hr = round(resting_hr + START_FRACTION_HRR * (max_hr - resting_hr))
        if end_hr is None:
            end_hr = start_hr - END_HYSTERESIS_BPM
        return cls(start_hr=start_hr, end_hr=end_hr, **seconds)
