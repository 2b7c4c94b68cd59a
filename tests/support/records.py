"""Recorded-workout values for store tests: a plain ``Summary`` with the fields a test cares about."""

from __future__ import annotations

from typing import Any

from cooldownd.core.model import Level
from cooldownd.record.summary import Summary


def summary(sport: str = "cycling", start: float = 0.0, end: float = 3600.0, **fields: Any) -> Summary:
    """A summary of a ``sport`` workout from ``start`` to ``end``; other fields None unless given."""
    values: dict[str, Any] = dict(
        sub_sport="generic", duration_s=end - start, elapsed_s=end - start, avg_hr=None, max_hr=None, trimp=None,
        hrss=None, np=None, if_=None, tss=None, rmssd_ms=None, hrr60=None, load=50.0, load_source="duration",
        level=Level.MODERATE, routine="moderate", profile_source="estimate", headline="Moderate ride: 1 h")
    values.update(fields)
    return Summary(sport=sport, start=start, end=end, **values)
