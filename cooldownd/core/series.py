"""A workout's time line kept after import: downsampled heart rate and power, the power curve, the zones.

Pure: a Workout and its Assessment in, a small :class:`Series` out (about 1-3 KB stored, see
``encode``). The records themselves exist only while a workout is recorded; the report's charts and
the done card's picture are drawn from this.

- ``hr`` / ``power``: the mean per ``step_s`` seconds from the workout's start (None where nothing was
  recorded), running on past the end while the strap or file still has readings (up to ``TAIL_S``), so
  the heart-rate recovery after the effort stays visible; ``end_index`` is the first point after it.
- ``mmp``: the mean-maximal power curve, (seconds, best mean watts) for the standard durations, on the
  same 1 Hz timer-running power as NP (``metrics.power_segments``): no window straddles a pause.
- ``zones_bpm``: the heart rates where zones 2..5 begin, from the profile the assessment used.
"""

from __future__ import annotations

import json
import math
import zlib
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, compress, repeat
from operator import floordiv, is_not, sub
from typing import TYPE_CHECKING

from cooldownd.core.model import Assessment, Workout

if TYPE_CHECKING:  # imported by build: readers of stored series (status, history) never load the metrics
    from cooldownd.core.line import Line

MAX_POINTS = 720  # an hour at 5 s, three hours at 15 s: finer than any chart on a laptop screen
MIN_STEP_S = 5
TAIL_S = 180  # readings after the end kept for the recovery (HRR60 is read a minute after the peak)
MMP_DURATIONS = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 5400, 7200)
_VERSION = 1


@dataclass(frozen=True, slots=True)
class Series:
    """The compact time line of one workout (offsets in seconds from its start)."""

    step_s: int
    end_index: int
    hr: tuple[int | None, ...] = ()
    power: tuple[int | None, ...] = ()
    mmp: tuple[tuple[int, int], ...] = ()
    zones_bpm: tuple[int, ...] = ()

    def hr_points(self) -> tuple[tuple[int, int], ...]:
        """(seconds from start, bpm) at each point's middle, gaps left out."""
        return _points(self.hr, self.step_s)

    def power_points(self) -> tuple[tuple[int, int], ...]:
        """(seconds from start, watts) at each point's middle, gaps left out."""
        return _points(self.power, self.step_s)


def _points(values: Sequence[int | None], step: int) -> tuple[tuple[int, int], ...]:
    return tuple((i * step + step // 2, v) for i, v in enumerate(values) if v is not None)


def step_for(span_s: float) -> int:
    """Seconds per point for a workout lasting ``span_s``: at least 5, at most MAX_POINTS points."""
    return max(MIN_STEP_S, math.ceil(max(span_s, 0) / MAX_POINTS))


def build(workout: Workout, assessment: Assessment, zone_bounds_hrr: Sequence[float] = (0.6, 0.7, 0.8, 0.9),
          power_hold_s: float = 5.0, line: Line | None = None) -> Series | None:
    """The Series of an assessed workout; None when it has neither heart rate nor power to draw
    (``line``: the records' columns, shared with the assessment)."""
    from cooldownd.core.line import Line
    from cooldownd.core.metrics import Pauses

    start, end = workout.start, workout.end
    line = line if line is not None else Line(workout.records)
    step = step_for(end - start)
    n_end = max(1, math.ceil((end - start) / step))
    n = n_end + math.ceil(TAIL_S / step)
    hr = _means(line, line.hrs, 20, 250, start, step, n)
    power = _means(line, line.watts, 0, 3000, start, step, n_end)
    if not any(v is not None for v in hr) and not any(v is not None for v in power):
        return None
    last = max((i for i, v in enumerate(hr) if v is not None), default=n_end - 1)
    hr = hr[:max(last + 1, n_end)] if any(v is not None for v in hr) else ()
    if not any(v is not None for v in power):
        power = ()
    segments = line.power_segments(start, end, Pauses(workout.pauses), power_hold_s) if power else []
    p = assessment.profile
    reserve = p.max_hr - p.resting_hr
    zones = tuple(round(p.resting_hr + f * reserve) for f in zone_bounds_hrr) if reserve > 0 else ()
    return Series(step, n_end, tuple(hr), tuple(power), mean_max_power(segments), zones)


def _means(line: Line, values: list, lo: int, hi: int, start: float, step: int, n: int) -> list[int | None]:
    """The mean of the ``values`` in ``[lo, hi]`` (None is none) in each ``step``-second bin
    ``int((t - start) // step)`` of the ``n`` from ``start``, rounded; None for an empty bin."""
    times = line.times
    if line.ordered:  # bins in time order: each one's values are a slice
        if None in values:
            keep = list(map(is_not, values, repeat(None)))
            times, values = list(compress(times, keep)), list(compress(values, keep))
        if values and (min(values) < lo or max(values) > hi):
            times, values = [t for t, v in zip(times, values) if lo <= v <= hi], [v for v in values if lo <= v <= hi]
        bins = list(map(floordiv, map(sub, times, repeat(start)), repeat(step)))  # never decreasing
        edges = [bisect_left(bins, k) for k in range(n + 1)]
        return [round(sum(values[a:b]) / (b - a)) if b > a else None for a, b in zip(edges, edges[1:])]
    sums, counts = [0] * n, [0] * n
    for t, v in zip(times, values):
        if v is not None and lo <= v <= hi:
            i = int((t - start) // step)
            if 0 <= i < n:
                sums[i] += v
                counts[i] += 1
    return [round(s / c) if c else None for s, c in zip(sums, counts)]


def mean_max_power(segments: Sequence[Sequence[int]], durations: Sequence[int] = MMP_DURATIONS
                   ) -> tuple[tuple[int, int], ...]:
    """(duration, best mean watts over any window of that many seconds inside one segment)."""
    sums = [list(accumulate(seg, initial=0)) for seg in segments]
    out = []
    for d in durations:
        best = max((max(map(sub, acc[d:], acc)) for acc in sums if len(acc) > d), default=None)
        if best is None:
            break
        out.append((d, round(best / d)))
    return tuple(out)


# -- stored form ----------------------------------------------------------------------------------
def encode(series: Series) -> bytes:
    """zlib-compressed JSON: readable with any tool, about a third of the plain text."""
    body = {"v": _VERSION, "step": series.step_s, "end": series.end_index, "hr": list(series.hr),
            "power": list(series.power), "mmp": [list(p) for p in series.mmp], "zones": list(series.zones_bpm)}
    return zlib.compress(json.dumps(body, separators=(",", ":")).encode(), 9)


def decode(blob: bytes) -> Series | None:
    """A stored Series back; anything malformed or from a newer version gives None (no chart, no error)."""
    try:
        body = json.loads(zlib.decompress(blob))
        if body.get("v") != _VERSION:
            return None
        series = Series(int(body["step"]), int(body["end"]), _ints(body["hr"]), _ints(body["power"]),
                        tuple((int(d), int(w)) for d, w in body["mmp"]), tuple(int(z) for z in body["zones"]))
    except (zlib.error, ValueError, TypeError, KeyError, AttributeError):
        return None
    return series if series.step_s > 0 else None


def _ints(values: list) -> tuple[int | None, ...]:
    if not isinstance(values, list):
        raise TypeError("not a list")
    return tuple(None if v is None else int(v) for v in values)
