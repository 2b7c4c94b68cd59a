"""Time at the edges: stamps on the wall clock, durations and deadlines on a clock that never steps.

The wall clock (``time.time``) steps: NTP corrects a wrong clock by an hour, a user sets it back
ten minutes. A duration measured on it is then off by the step. :class:`Timeline` is a steady
clock (``CLOCK_BOOTTIME``: never steps, and unlike ``CLOCK_MONOTONIC`` it counts suspended time)
expressed in POSIX seconds: anchored to the wall clock once, it then runs at the real rate
whatever the wall clock does. Measure on the timeline; convert a moment to a wall-clock stamp with
:meth:`Timeline.to_wall` when it is written down (the wall clock's latest word wins).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from cooldownd.core.model import Workout

log = logging.getLogger(__name__)

#: A wall clock this far from the timeline has stepped (drift between the two is far smaller).
STEP_TOLERANCE_S = 1.0


def steady() -> float:
    """Seconds since boot, suspended time included; never steps."""
    try:
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    except (AttributeError, OSError):  # not Linux
        return time.monotonic()


class Timeline:
    """A steady clock in POSIX seconds, anchored to the wall clock at creation (and at ``resync``).

    ``wall`` and ``steady`` are the two clocks it reads (tests replaying recorded time pass the same
    function for both).
    """

    def __init__(self, *, wall: Callable[[], float] = time.time, steady: Callable[[], float] = steady) -> None:
        self._wall, self._steady = wall, steady
        self._offset = 0.0
        self.resync(force=True)

    def now(self) -> float:
        """The timeline's time: the wall clock at the anchor plus steady time since."""
        return self._steady() + self._offset

    def shift(self) -> float:
        """How far the wall clock stepped since the anchor (0 while it did not)."""
        return self._wall() - self.now()

    def to_wall(self, t: float) -> float:
        """A moment of the timeline as a wall-clock stamp, as the wall clock tells time now."""
        return t + self.shift()

    def resync(self, *, force: bool = False) -> bool:
        """Re-anchor to the wall clock if it stepped (or ``force``); True when the timeline moved."""
        shift = self.shift()
        if not force and abs(shift) <= STEP_TOLERANCE_S:
            return False
        self._offset += shift
        return True

    def stamped(self, workout: Workout) -> Workout:
        """A workout measured on the timeline with its times as wall-clock stamps (moved only when the
        wall clock stepped since the anchor: its duration stays what the steady clock measured)."""
        shift = self.shift()
        if abs(shift) <= STEP_TOLERANCE_S:
            return workout
        log.info("clock: the wall clock stepped by %+.0f s during the workout; its duration is measured without it",
                 shift)
        return replace(workout, start=workout.start + shift, end=workout.end + shift,
                       records=tuple(r._replace(t=r.t + shift) for r in workout.records),
                       pauses=tuple((a + shift, b + shift) for a, b in workout.pauses))

    def not_before(self, t: float) -> None:
        """Move the timeline forward so that ``now()`` is at least ``t`` (times saved before a backward step)."""
        lag = t - self.now()
        if lag > 0:
            self._offset += lag
