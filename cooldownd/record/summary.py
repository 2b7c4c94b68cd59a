"""Typed values of a recorded workout, as they travel between modules.

``Summary`` is one assessed workout (what ``import --json`` and ``history --json`` print and the
store keeps); ``Result`` is what one input, or one workout of it, came to; ``WorkoutRow`` is a
stored workout as the store gives it back. The dict shape of
both is built only at the JSON edge, ``record/lines.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cooldownd.core.model import Facts, Level
from cooldownd.core.sessions import Span


@dataclass(frozen=True, slots=True)
class Summary:
    """One assessed workout: numbers rounded as printed (1 decimal, IF 2), times in POSIX seconds."""

    sport: str
    sub_sport: str
    start: float
    end: float
    duration_s: float | None
    elapsed_s: float | None
    avg_hr: float | None
    max_hr: int | None
    trimp: float | None
    hrss: float | None
    np: float | None
    if_: float | None
    tss: float | None
    rmssd_ms: float | None
    hrr60: int | None
    load: float | None
    load_source: str | None
    level: Level
    routine: str | None
    profile_source: str | None
    note: str | None = None  # e.g. "truncated file: imported the readable part"
    reason: str | None = None  # why this level, in words (core/wording.py reason_words)
    facts: Facts | None = None  # what it was judged from: judged again when the as-of profile changes
    # The recording device's own numbers (its FIT session), under the same keys as ours: duration_s,
    # elapsed_s, avg_hr, max_hr, np, if, tss, avg_power, distance_m, training_effect, calories. {} live.
    device: dict[str, float | int] = field(default_factory=dict)
    headline: str = ""  # the offer's first line (core/wording.py)
    file: str | None = None  # the input it came from (None: the strap)
    sha256: str | None = None

    @property
    def partial(self) -> bool:
        """True for a record cut short (a truncated file): its end is where it was cut."""
        return self.note is not None

    def span(self) -> Span:
        """What the same-session rule looks at."""
        return Span(self.start, self.end, self.sport, self.partial)


@dataclass(frozen=True, slots=True)
class Result:
    """What one input (or one workout of it) came to: a stored workout, a duplicate, a refusal.

    ``status``: imported, duplicate, skipped, error. ``summary`` is None for an input that gave no
    workout; ``id`` is the stored row's (None when nothing was stored).
    """

    file: str | None
    sha256: str | None
    status: str
    error: str | None = None
    summary: Summary | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class WorkoutRow:
    """One stored workout: its summary, the walk-through outcome, and the richer copy that superseded it."""

    id: int
    source: str
    start: float
    end: float
    richness: float
    file_sha256: str | None
    summary: Summary
    offered_at: float | None
    outcome: dict[str, Any] | None  # the stored walk-through outcome, printed as is by ``history --json``
    superseded_by: int | None = None
