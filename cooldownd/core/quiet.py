"""When an offer may appear: quiet hours and freshness (``notify.quiet_hours``, ``notify.max_age``).

Pure: the caller passes the wall-clock time and the local time of day (the core reads no clock).
"""

from __future__ import annotations

from dataclasses import dataclass

from cooldownd.errors import ConfigError


def fresh(ended_at: float | None, wall: float, max_age_s: float | None) -> bool:
    """Whether a workout that ended at ``ended_at`` may still be offered at wall time ``wall``."""
    return ended_at is None or max_age_s is None or wall - ended_at <= max_age_s


@dataclass(frozen=True)
class QuietHours:
    """A daily quiet window in local minutes since midnight; may wrap past midnight."""

    start_min: int
    end_min: int

    @classmethod
    def parse(cls, spec: str) -> QuietHours | None:
        """Parse ``"22:00-07:00"``; an empty spec means no quiet hours."""
        spec = spec.strip()
        if not spec:
            return None
        try:
            start, end = (_hhmm(part) for part in spec.split("-"))
        except ValueError:
            raise ConfigError(
                f"notify.quiet_hours: {spec!r} is not a time range; write it like \"22:00-07:00\""
            ) from None
        return cls(start, end)

    def wait_s(self, seconds_of_day: float) -> float:
        """Seconds until the window ends if local time ``seconds_of_day`` is inside it, else 0."""
        start, end, t = self.start_min * 60, self.end_min * 60, seconds_of_day % 86400
        if start == end:
            return 0.0
        if start < end:
            return end - t if start <= t < end else 0.0
        if t >= start:
            return 86400 - t + end
        return end - t if t < end else 0.0


def _hhmm(text: str) -> int:
    hours, minutes = text.strip().split(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60 and h * 60 + m <= 1440) or len(minutes) != 2:
        raise ValueError(text)
    return h * 60 + m


def plan_offer(
    now: float, ended_at: float, seconds_of_day: float, quiet: QuietHours | None, max_age_s: float
) -> float | None:
    """When to show the offer for a workout that ended at ``ended_at``; None = drop it.

    ``seconds_of_day`` is the caller's local time of ``now`` (the core reads no clock).
    An offer inside quiet hours is deferred to their end if still within ``max_age_s``.
    """
    wait = quiet.wait_s(seconds_of_day) if quiet else 0.0
    at = now + wait
    return at if fresh(ended_at, at, max_age_s) else None
