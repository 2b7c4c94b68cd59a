"""When an offer may appear: quiet hours and freshness (``notify.quiet_hours``, ``notify.max_age``).

The quiet-hours syntax ``"22:00-07:00"`` (local minutes since midnight) has one parser for all:
``settings/sections.py`` validates ``notify.quiet_hours`` with it and the offers build their window from it,
so what the configuration accepts is what the walk-through understands. ``24:00`` is the end of the
day (``"00:00-24:00"`` is all day); a window may wrap past midnight. Pure: the caller passes the
wall-clock time and the local time of day (the core reads no clock).
"""

from __future__ import annotations

from dataclasses import dataclass

from cooldownd.errors import ConfigError

EXAMPLE = "22:00-07:00"


def parse_quiet_hours(spec: str) -> tuple[int, int] | None:
    """(start, end) minutes since midnight, or None for an empty spec; ValueError naming the example."""
    spec = spec.strip()
    if not spec:
        return None
    parts = spec.split("-")
    try:
        if len(parts) != 2:
            raise ValueError(spec)
        start, end = (_minutes(part) for part in parts)
    except ValueError:
        raise ValueError(f"{spec!r} is not a time range; write it like \"{EXAMPLE}\"") from None
    return start, end


def _minutes(text: str) -> int:
    hours, sep, minutes = text.strip().partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(text)
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60 and h * 60 + m <= 1440):
        raise ValueError(text)
    return h * 60 + m


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
        try:
            window = parse_quiet_hours(spec)
        except ValueError as exc:
            raise ConfigError(f"notify.quiet_hours: {exc}") from None
        return None if window is None else cls(*window)

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
