"""A workout's heart-rate curve, compacted to a few dozen points for the done card's chart.

Pure: records in, ``(offset_s, bpm)`` pairs out. The stored workout keeps this small series
(about 1 KB as JSON) instead of its records, which exist only while it is imported.
"""

from __future__ import annotations

from collections.abc import Iterable

POINTS = 120  # one point per 30 s of an hour's ride: the curve's shape, nothing finer


def compact(samples: Iterable[tuple[float, int | None]], start: float, end: float,
            points: int = POINTS) -> tuple[tuple[int, int], ...]:
    """Mean heart rate per equal slice of [start, end], as (seconds from start, bpm); empty slices left out.

    ``samples`` are (time, bpm or None) in any order; samples outside [start, end] or outside
    20-250 bpm (sensor noise) are ignored. Fewer than two points give () (no curve to draw).
    """
    span = end - start
    if span <= 0 or points < 2:
        return ()
    sums = [0] * points
    counts = [0] * points
    for t, bpm in samples:
        if bpm is None or not 20 <= bpm <= 250 or not start <= t <= end:
            continue
        i = min(points - 1, int((t - start) / span * points))
        sums[i] += bpm
        counts[i] += 1
    out = tuple((round((i + 0.5) * span / points), round(sums[i] / counts[i]))
                for i in range(points) if counts[i])
    return out if len(out) >= 2 else ()
