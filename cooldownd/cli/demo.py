"""A synthetic workout for `cooldownd demo`: a 45-minute hard ride, generated in code, deterministic."""

from __future__ import annotations

import math
import random

from cooldownd.core.model import Athlete, DeviceSummary, Record, Workout

DEMO_ATHLETE = Athlete(max_hr=185, resting_hr=55, lthr=165, ftp=250, sex="male")
DEMO_MINUTES = 45


def _effort(second: int) -> float:
    """Target effort 0..1.3 (fraction of FTP): warm-up, 5 x 4 min hard / 2 min easy, cool-down."""
    minute = second / 60
    if minute < 10:
        return 0.55 + 0.25 * minute / 10
    if minute < 40:
        return 1.3 if (minute - 10) % 6 < 4 else 0.6
    return 0.7 - 0.2 * (minute - 40) / 5


def synthetic_ride(end: float, minutes: int = DEMO_MINUTES, seed: int = 7) -> Workout:
    """A ride ending at ``end`` (POSIX s) with 1 Hz heart rate and power from the athlete above."""
    rng = random.Random(seed)
    ftp, rest, hrmax = DEMO_ATHLETE.ftp or 250, DEMO_ATHLETE.resting_hr or 55, DEMO_ATHLETE.max_hr or 185
    start = end - minutes * 60
    hr = float(rest + 30)
    records = []
    distance = 0.0
    for s in range(minutes * 60):
        effort = _effort(s)
        power = max(0, round(ftp * effort + rng.gauss(0, 12)))
        # Heart rate follows effort with a ~40 s lag, as a real heart does.
        target = rest + (hrmax - rest) * min(0.95, 0.32 + 0.43 * effort)
        hr += (target - hr) / 40 + rng.gauss(0, 0.4)
        speed = 4.0 + 6.5 * math.sqrt(effort)
        distance += speed
        records.append(Record(t=start + s, hr=round(hr), power=power, cadence=85 + rng.randint(-4, 4),
                              speed=round(speed, 3), distance=round(distance, 1)))
    return Workout(
        sport="cycling", sub_sport="road", start=start, end=end, duration_s=minutes * 60.0,
        elapsed_s=minutes * 60.0, records=tuple(records), device=DeviceSummary(), source="demo", hrr60=31,
    )
