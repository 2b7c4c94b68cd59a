"""A workout's records as columns, read once per workout for its assessment and its series.

The metrics (metrics.py) work a column at a time; a workout's records are turned into lists of
time, heart rate and power once, and its 1 Hz power segments (NP, the power curve) are cut once.
Every answer is the per-record rule's, to the last bit: where the records are not in time order
(the model says they are, nothing checks it) the per-record rule itself runs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from itertools import compress
from operator import itemgetter

from cooldownd.core.metrics import Pauses, is_sorted, power_segments
from cooldownd.core.model import Record

_T, _HR, _W = itemgetter(0), itemgetter(1), itemgetter(2)  # Record.t, .hr, .power


class Line:
    """Time, heart rate and power of ``records`` as lists; ``ordered``: time never goes back."""

    __slots__ = ("records", "times", "hrs", "watts", "ordered", "_segments")

    def __init__(self, records: Sequence[Record]) -> None:
        self.records = records
        self.times: list[float] = list(map(_T, records))
        self.hrs: list[int | None] = list(map(_HR, records))
        self.watts: list[int | None] = list(map(_W, records))
        self.ordered = is_sorted(self.times)
        self._segments: dict[tuple, list[list[int]]] = {}

    def span(self, lo: float, hi: float) -> tuple[int, int]:
        """The index range of the records with ``lo <= t <= hi`` (``ordered`` only)."""
        return bisect_left(self.times, lo), bisect_right(self.times, hi)

    def hr_peak(self, start: float, end: float, pauses: Pauses | None = None) -> int | None:
        """The highest heart rate (0 and None are none) at ``start <= t <= end``; with ``pauses``,
        only where the timer ran (``pauses.running(t, t + 1e-3) > 0``)."""
        if not self.ordered:
            return max((r.hr for r in self.records if r.hr and start <= r.t <= end
                        and (pauses is None or pauses.running(r.t, r.t + 1e-3) > 0)), default=None)
        lo, hi = self.span(start, end)
        hrs = self.hrs[lo:hi]
        if pauses is not None and not pauses.none:
            hrs = list(compress(hrs, pauses.ran_at(self.times[lo:hi])))
        return max(filter(None, hrs), default=None)

    def readings_from(self, lo: float) -> Iterable[tuple[float, int | None]]:
        """(t, hr) of the records from ``t >= lo`` on (all of them when not ``ordered``)."""
        i = bisect_left(self.times, lo) if self.ordered else 0
        return zip(self.times[i:], self.hrs[i:])

    def power_segments(self, start: float, end: float, pauses: Pauses, hold_s: float) -> list[list[int]]:
        """``metrics.power_segments`` of these records, cut once per window, pauses and hold (never
        change the lists: NP and the power curve share them)."""
        key = (start, end, tuple(pauses.intervals()), hold_s)
        if key not in self._segments:
            self._segments[key] = power_segments(self.times, self.watts, start, end, pauses, hold_s)
        return self._segments[key]
