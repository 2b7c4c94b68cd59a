"""The quiet-hours syntax: ``"22:00-07:00"``, local minutes since midnight, one parser for all.

``settings/sections.py`` validates ``notify.quiet_hours`` with it and ``core/coach.py`` builds its window
from it, so what the configuration accepts is what the walk-through understands. ``24:00`` is the
end of the day (``"00:00-24:00"`` is all day); a window may wrap past midnight.
"""

from __future__ import annotations

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
