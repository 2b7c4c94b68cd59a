"""Time-line maths behind the intensity metrics: exercise time per sample, 1 Hz power, NP, RMSSD, HRR60.

Pure functions over plain sequences. "Exercise time" is the part of the workout window
``[start, end)`` outside every pause; a sample stands for the time until the next sample, except
across a gap longer than ``max_gap_s``, where it stands for one typical step only (the time in the
gap is unknown, so it is not exercise).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from functools import reduce
from itertools import accumulate, chain, compress, repeat
from operator import add, and_, is_not, le, lt, mul, sub, truediv


def is_sorted(xs: Sequence[float]) -> bool:
    """Whether ``xs`` never decreases."""
    return all(map(le, xs, xs[1:]))


def typical_step(times: Sequence[float]) -> float:
    """Median positive spacing of ``times`` (1 s when there is none)."""
    steps = list(map(sub, times[1:], times))  # b - a for consecutive a, b
    if steps and min(steps) <= 0:
        steps = [d for d in steps if d > 0]
    from statistics import median  # here: statistics costs ~6 ms of every command's start

    return float(median(steps)) if steps else 1.0


def _at_least(xs: Sequence[float], lo: float) -> Sequence[float]:
    """``max(x, lo)`` for each x (``xs`` itself when nothing is below ``lo``)."""
    return xs if not xs or min(xs) >= lo else [x if x >= lo else lo for x in xs]


def _at_most(xs: Sequence[float], hi: float) -> Sequence[float]:
    """``min(x, hi)`` for each x (``xs`` itself when nothing is above ``hi``)."""
    return xs if not xs or max(xs) <= hi else [x if x <= hi else hi for x in xs]


class Pauses:
    """Merged, sorted pause intervals; answers "how much of [a, b) is outside every pause"."""

    def __init__(self, pauses: Sequence[tuple[float, float]]) -> None:
        merged: list[list[float]] = []
        for stop, start in sorted(p for p in pauses if p[1] > p[0]):
            if merged and stop <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], start)
            else:
                merged.append([stop, start])
        self._starts = [p[0] for p in merged]
        self._ends = [p[1] for p in merged]
        self.none = not merged  # no pause: running(a, b) is b - a

    def running(self, a: float, b: float) -> float:
        """Seconds of ``[a, b)`` during which the timer ran."""
        if b <= a:
            return 0.0
        if not self._starts:  # most workouts: no pause at all
            return b - a
        total = b - a
        i = bisect_right(self._ends, a)
        while i < len(self._starts) and self._starts[i] < b:
            total -= min(b, self._ends[i]) - max(a, self._starts[i])
            i += 1
        return max(total, 0.0)

    def intervals(self) -> list[tuple[float, float]]:
        """The merged pauses, (stop, start) in time order."""
        return list(zip(self._starts, self._ends))

    def ran_at(self, times: Sequence[float]) -> list[bool]:
        """``running(t, t + 1e-3) > 0`` for each t (the timer ran at t): worked out only near a pause
        when ``times`` is sorted (elsewhere [t, t + 1e-3) meets no pause)."""
        if not times:
            return []
        if not is_sorted(times) or max(-times[0], times[-1]) >= 2.0 ** 40:  # there, t + 1e-3 may round to t
            return [self.running(t, t + 1e-3) > 0 for t in times]
        out = [True] * len(times)
        for s, e in zip(self._starts, self._ends):
            for i in range(bisect_right(times, s - 1.0), bisect_left(times, e)):
                out[i] = self.running(times[i], times[i] + 1e-3) > 0
        return out

    def each(self, spans: Iterable[tuple[float, float]]) -> list[float]:
        """``running(a, b)`` for each span (same values; see ``between``)."""
        spans = list(spans)
        return self.between([a for a, _ in spans], [b for _, b in spans])

    def between(self, a: Sequence[float], b: Sequence[float]) -> list[float]:
        """``running(a[i], b[i])`` for each i, a column at a time: ``b - a`` (0 where not positive), then
        ``running`` again only for the spans that can meet a pause [s, e): with ``a`` sorted, those
        with ``a < e`` and ``b > s`` lie between two bisections (on ``b``, or its running maximum)."""
        out = list(map(sub, b, a))
        if out and min(out) < 0.0:
            out = [x if x > 0.0 else 0.0 for x in out]
        if not self._starts or not out:
            return out
        if not is_sorted(a):
            return [self.running(x, y) for x, y in zip(a, b)]
        reach = b if is_sorted(b) else list(accumulate(b, max))  # never decreasing, >= b
        near: set[int] = set()
        for s, e in zip(self._starts, self._ends):
            near.update(range(bisect_right(reach, s), bisect_left(a, e)))
        for i in near:
            out[i] = self.running(a[i], b[i])
        return out


def exercise_weights(times: Sequence[float], start: float, end: float, pauses: Pauses,
                     max_gap_s: float) -> list[float]:
    """Seconds of exercise each sample stands for (sample-and-hold, real time steps).

    Per sample: ``running(max(t, start), min(nxt, end))``, ``nxt`` the next sample's time, or
    ``t + typical_step`` after the last sample and across a gap longer than ``max_gap_s``."""
    step = typical_step(times)
    if not times:
        return []
    nexts = list(times[1:])
    nexts.append(times[-1] + step)
    if max(map(sub, nexts, times)) > max_gap_s:
        nexts = [t + step if n - t > max_gap_s else n for t, n in zip(times, nexts)]
    return pauses.between(_at_least(times, start), _at_most(nexts, end))


def hr_average(times: Sequence[float], hrs: Sequence[int | None], start: float, end: float,
               pauses: Pauses) -> float | None:
    """Mean HR over timer-running time, the way devices average: every second counts once.

    Linear between consecutive readings (smart recording writes a point where the signal turns, so
    the straight line is the best guess of the seconds it skipped), over any gap inside
    timer-running time (a device that ran its timer had HR; pauses and live link drops are
    already ``pauses``); up to a record without HR (the strap was lost) the reading holds.
    Readings carrying no running time (one lone sample) are averaged plainly.
    Per reading h0 at t0 followed by h1 at t1: ``run = running(max(t0, start), min(t1, end))``,
    ``acc += run * (h0 if h1 is None else (h0 + h1) / 2)``, ``secs += run``, in time-line order.
    """
    t0s, t1s, h0s, h1s = times[:-1], times[1:], hrs[:-1], hrs[1:]
    if None in h0s:
        keep = list(map(is_not, h0s, repeat(None)))
        t0s, t1s, h0s, h1s = (list(compress(col, keep)) for col in (t0s, t1s, h0s, h1s))
    runs = pauses.between(_at_least(t0s, start), _at_most(t1s, end))
    if None in h1s:
        mids: Iterable[float] = [h0 if h1 is None else (h0 + h1) / 2 for h0, h1 in zip(h0s, h1s)]
    else:
        mids = map(truediv, map(add, h0s, h1s), repeat(2))
    acc = reduce(add, map(mul, runs, mids), 0.0)
    secs = reduce(add, runs, 0.0)
    if secs > 0:
        return acc / secs
    lone = [h for t, h in zip(times, hrs) if h is not None and start <= t <= end]
    return sum(lone) / len(lone) if lone else None


def beat_stats(beats: Sequence[tuple[float, int]], start: float, end: float, pauses: Pauses,
               rests: Pauses) -> tuple[float, int, float] | None:
    """(mean per beat, highest beat, running seconds they span) of the beats in timer-running, non-rest time.

    A strap that stores beats (HRM-Swim/Tri) hands the device every beat, and the device averages
    per beat (checked on 6 swims: within 1 bpm, max exact; a per-second mean reads 1-2 bpm lower).
    """
    inside = [(t, b) for t, b in beats if start <= t <= end]
    times = [t for t, _ in inside]
    kept = list(compress(inside, map(and_, pauses.ran_at(times), rests.ran_at(times))))
    if not kept:
        return None
    span = pauses.running(kept[0][0], kept[-1][0])
    return sum(b for _, b in kept) / len(kept), max(b for _, b in kept), span


def power_segments(times: Sequence[float], watts: Sequence[int | None], start: float, end: float,
                   pauses: Pauses, hold_s: float) -> list[list[int]]:
    """1 Hz power over timer-running seconds, the way head units compute NP, split at each pause.

    A value holds until the next record, for at most ``hold_s`` seconds after its own second
    (smart recording; a record without power does not end the hold, which matched the Wahoo
    files best); seconds past the hold are dropped, not zeroed; zeros (coasting) are kept.
    A new segment starts after each timer stop. Per value w at t (records with power only; ``nxt``
    the next one's time, t + 1 after the last): ``round(running(max(t, start), min(nxt, t + hold_s
    + 1, end)))`` copies of w; a segment ends after it where ``running(t, nxt) < nxt - t``.
    """
    if None in watts:
        keep = list(map(is_not, watts, repeat(None)))
        times, watts = list(compress(times, keep)), list(compress(watts, keep))
    if not times:
        return []
    nexts = list(times[1:])
    nexts.append(times[-1] + 1)
    holds = map(add, map(add, times, repeat(hold_s)), repeat(1))  # t + hold_s + 1
    counts = list(map(round, pauses.between(_at_least(times, start), list(map(min, nexts, holds, repeat(end))))))
    cuts = [] if pauses.none else list(compress(range(len(times)), map(lt, pauses.between(times, nexts),
                                                                          map(sub, nexts, times))))
    segments = []
    bounds = [0] + [c + 1 for c in cuts] + [len(times)]  # a segment ends with each cut's value
    for lo, hi in zip(bounds, bounds[1:]):
        seg = list(chain.from_iterable(map(repeat, watts[lo:hi], counts[lo:hi])))
        if seg:
            segments.append(seg)
    return segments


def normalized_power(segments: Sequence[Sequence[int]], window: int = 30) -> float | None:
    """Coggan NP: fourth-power mean of the ``window`` s rolling mean, counted once the window is full.

    The window never straddles a pause: each segment is rolled on its own (a 30 s mean spanning a
    timer stop would mix two efforts). Checked on 25 device sessions: worst error 1.5 % against
    2.2 % when rolling through pauses (a Wahoo file with 55 auto-pauses moved from -2.1 % to +0.3 %).
    Per segment: the rolling sum starts as ``float(sum(seg[:window]))`` and moves by
    ``seg[i] - seg[i - window]``; ``(run / window) ** 4`` is added up in order.
    """
    acc, count = 0.0, 0
    for seg in segments:
        if len(seg) < window:
            continue
        runs = accumulate(map(sub, seg[window:], seg), add, initial=float(sum(seg[:window])))
        acc = reduce(add, map(pow, map(truediv, runs, repeat(window)), repeat(4)), acc)
        count += len(seg) - window + 1
    return (acc / count) ** 0.25 if count else None


def rmssd(rr_ms: Sequence[float], lo: float, hi: float, max_change: float, min_pairs: int) -> float | None:
    """RMSSD over normal-to-normal pairs: both intervals in [lo, hi] ms and within ``max_change`` of each other.

    The 20 % successive-change rule (the usual default) drops ectopic beats and the spurious
    differences left where the strap lost beats.
    """
    steps = list(map(sub, rr_ms[1:], rr_ms))  # b - a for consecutive a, b
    fine = map(le, map(abs, steps), map(mul, repeat(max_change), rr_ms))  # abs(b - a) <= max_change * a
    if rr_ms and (min(rr_ms) < lo or max(rr_ms) > hi):
        normal = list(map(and_, map(le, repeat(lo), rr_ms), map(le, rr_ms, repeat(hi))))  # lo <= x <= hi
        fine = map(and_, fine, map(and_, normal, normal[1:]))
    diffs = list(compress(steps, fine))
    if len(diffs) < min_pairs:
        return None
    return math.sqrt(sum(map(mul, diffs, diffs)) / len(diffs))


HRR_WINDOW_S = 60.0  # the 60 of HRR60
HRR_PEAK_S = 120.0  # the peak is looked for this far back from the end of the effort
HRR_LATE_S = 5.0  # the reading "60 s after the peak" may be this late (straps send about 1 Hz)


def hrr60(readings: Iterable[tuple[float, int | None]], end: float) -> int | None:
    """Heart-rate recovery: the peak in the last 120 s up to ``end`` minus the HR 60 s after that peak.

    The one HRR60 rule, for live and imported copies of a session alike. Measured from the peak, not
    from ``end``, so two records whose ends differ (a strap's last active second, a file's timer stop)
    give the same number from the same beats. The later reading is the first one at or after the
    peak + 60 s, at most 5 s late; None when the readings do not reach that far.
    """
    beats = sorted((t, hr) for t, hr in readings if hr and t >= end - HRR_PEAK_S)  # nothing earlier counts
    near_end = [(hr, t) for t, hr in beats if end - HRR_PEAK_S <= t <= end]
    if not near_end:
        return None
    peak, peak_t = max(near_end)  # the highest, and of equal ones the latest
    target = peak_t + HRR_WINDOW_S
    later = next(((t, hr) for t, hr in beats if t >= target), None)
    if later is None or later[0] - target > HRR_LATE_S:
        return None
    return peak - later[1]
