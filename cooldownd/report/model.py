"""What the report shows, from stored rows: each workout's cool-down, the streak, the weeks. Pure.

Times are POSIX seconds; days and weeks are the user's local calendar (``tz`` given by the caller).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

LEVELS = ("light", "moderate", "hard", "very_hard")
HARD = {"hard", "very_hard"}

# walk-through result -> (what the calendar shows, a few words)
_RESULTS = {
    "completed": ("done", "cool-down done"),
    "partial": ("stopped", "cool-down walked through, some stretches cut short"),
    "stopped": ("stopped", "cool-down stopped part-way"),
    "interrupted": ("stopped", "cool-down interrupted (cooldownd stopped)"),
    "expired": ("none", "not offered: too old by then"),
    "snoozed_out": ("snoozed", "cool-down snoozed until it lapsed"),
    "skipped": ("skipped", "cool-down skipped"),
    "missed": ("missed", "offer missed (no answer)"),
    "superseded": ("none", "not offered: a newer workout was"),
    "dropped_quiet_hours": ("none", "not offered: quiet hours"),
}
OUTCOMES = ("done", "stopped", "snoozed", "skipped", "missed", "pending", "none")
SHORT = {"done": "done", "stopped": "stopped", "snoozed": "snoozed", "skipped": "skipped", "missed": "missed",
         "pending": "pending", "none": "not offered"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One workout as the report shows it."""

    id: int
    start: float
    end: float
    day: dt.date
    summary: dict[str, Any]
    outcome: str  # one of OUTCOMES
    outcome_text: str
    stretch_s: float  # time spent in the walk-through's steps

    @property
    def level(self) -> str:
        return self.summary.get("level") or "light"

    @property
    def load(self) -> float:
        return float(self.summary.get("load") or 0.0)


@dataclass(frozen=True, slots=True)
class Week:
    """One calendar week: its first day, load per level and minutes stretched."""

    first: dt.date
    load: dict[str, float] = field(default_factory=dict)
    stretch_min: float = 0.0
    workouts: int = 0

    @property
    def total_load(self) -> float:
        return sum(self.load.values())


def outcome_of(walkthrough: dict[str, Any] | None, offered_at: float | None, end: float, now: float,
               max_age_s: float) -> tuple[str, str]:
    """(calendar key, words) for a workout's cool-down."""
    result = (walkthrough or {}).get("result")
    if result in _RESULTS:
        key, text = _RESULTS[result]
        if key == "stopped":
            text += f" ({(walkthrough or {}).get('steps_done') or 0} steps)"
        return key, text
    if offered_at is not None or (walkthrough or {}).get("offered_at"):
        return ("pending", "offered, no answer yet") if now - end < max_age_s else ("missed", "offered, never answered")
    if now - end < max_age_s:
        return "pending", "not offered yet"
    return "none", "not offered"


def stretch_seconds(walkthrough: dict[str, Any] | None) -> float:
    """Seconds stretched: the walk-through's own count of seconds held (``stretched_s``), else, for an
    outcome recorded before it kept one, Start to the end of the walk-through (0 when it never started)."""
    w = walkthrough or {}
    if w.get("stretched_s") is not None:
        return float(w["stretched_s"])
    started, ended = w.get("started_at"), w.get("ended_at")
    if started is None or ended is None or ended < started:
        return 0.0
    return min(float(ended - started), 3 * 3600.0)  # a clock step cannot make a day of stretching


def entry(row: Any, now: float, max_age_s: float, tz: dt.tzinfo | None) -> Entry:
    """An Entry from a store WorkoutRow; its summary is the row's ``history --json`` object."""
    from cooldownd.record.lines import history_line

    key, text = outcome_of(row.outcome, row.offered_at, row.end, now, max_age_s)
    day = dt.datetime.fromtimestamp(row.start, tz).date()
    return Entry(row.id, row.start, row.end, day, history_line(row), key, text, stretch_seconds(row.outcome))


def streaks(entries: Sequence[Entry]) -> tuple[int, int]:
    """(current, best): hard sessions in a row, each followed by a finished cool-down.

    Newest first for the current streak: lighter sessions neither count nor break it, and a hard
    session still waiting for its offer (pending) is left out; any other hard session ends it.
    """
    hard = [e for e in sorted(entries, key=lambda e: e.end) if e.level in HARD and e.outcome != "pending"]
    best = run = 0
    for e in hard:
        run = run + 1 if e.outcome == "done" else 0
        best = max(best, run)
    current = 0
    for e in reversed(hard):
        if e.outcome != "done":
            break
        current += 1
    return current, best


def week_start(day: dt.date, sunday_first: bool) -> dt.date:
    """The first day of ``day``'s week."""
    back = (day.weekday() + 1) % 7 if sunday_first else day.weekday()
    return day - dt.timedelta(days=back)


def weeks(entries: Sequence[Entry], first: dt.date, last: dt.date, sunday_first: bool) -> list[Week]:
    """Every week from ``first``'s to ``last``'s, oldest first, with its totals (empty weeks included)."""
    start = week_start(first, sunday_first)
    count = (week_start(last, sunday_first) - start).days // 7 + 1
    load = [dict.fromkeys(LEVELS, 0.0) for _ in range(count)]
    stretch = [0.0] * count
    n = [0] * count
    for e in entries:
        i = (e.day - start).days // 7
        if 0 <= i < count:
            load[i][e.level if e.level in LEVELS else "light"] += e.load
            stretch[i] += e.stretch_s / 60
            n[i] += 1
    return [Week(start + dt.timedelta(weeks=i), load[i], stretch[i], n[i]) for i in range(count)]
