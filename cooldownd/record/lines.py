"""The JSON edge: ``import --json`` / ``history --json`` objects and the stored summary text.

The only place a recorded workout becomes a dict (DESIGN.md's contract: these keys, in this order,
never renamed). Everything else passes the typed ``Summary`` and ``Result`` (record/summary.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from cooldownd.core import wording
from cooldownd.core.model import Facts, FileProfile, Level
from cooldownd.record.summary import Result, Summary, WorkoutRow

WORKOUT_KEYS = (
    "sport", "sub_sport", "start", "end", "duration_s", "elapsed_s", "avg_hr", "max_hr", "trimp",
    "hrss", "np", "if", "tss", "rmssd_ms", "hrr60", "load", "load_source", "level", "routine",
    "profile_source", "reason", "device",
)
KEYS = ("file", "sha256", "status", "error", *WORKOUT_KEYS, "note")
# Summary attributes whose JSON key differs (``if`` is a Python keyword).
_ATTR = {"if": "if_"}
_OWN = frozenset({"sport", "sub_sport", "start", "end", "level", "device"})  # from_stored sets these


def iso(t: float) -> str:
    """POSIX seconds as ISO 8601 UTC ("2024-05-04T08:00:00Z")."""
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def workout(s: Summary, status: str = "imported", error: str | None = None) -> dict[str, Any]:
    """One workout's object: the contract's keys, then ``headline``."""
    out: dict[str, Any] = {"file": s.file, "sha256": s.sha256, "status": status, "error": error}
    for key in WORKOUT_KEYS:
        out[key] = getattr(s, _ATTR.get(key, key))
    out.update(start=iso(s.start), end=iso(s.end), level=s.level.value, device=dict(s.device), note=s.note,
               headline=s.headline)
    return out


def failure(file: str | None, sha256: str | None, status: str, error: str | None) -> dict[str, Any]:
    """The object for an input that gave no workout (skipped, error, duplicate): workout keys null."""
    out: dict[str, Any] = dict.fromkeys(KEYS)
    out.update(file=file, sha256=sha256, status=status, error=error)
    return out


def import_line(r: Result) -> dict[str, Any]:
    """One ``import --json`` object (with the stored row's ``id`` when a workout was stored)."""
    if r.summary is None:
        return failure(r.file, r.sha256, r.status, r.error)
    out = workout(r.summary, r.status, r.error)
    if r.id is not None:
        out["id"] = r.id
    return out


def history_line(row: WorkoutRow, *, marked: bool = False) -> dict[str, Any]:
    """One ``history --json`` object: the workout, its row, and the walk-through outcome.

    ``marked`` (``history --all``) adds ``superseded_by``: the richer copy of the same session.
    """
    out = dict(workout(row.summary), id=row.id, source=row.source, offered_at=row.offered_at,
               walkthrough=row.outcome)
    if marked:
        out["superseded_by"] = row.superseded_by
    return out


def stored(s: Summary) -> str:
    """The text the store keeps for a summary (the same object ``history --json`` starts from, plus
    ``facts``: what it was judged from, so it can be judged again without its file)."""
    out = workout(s)
    if s.facts is not None:
        # dataclasses.asdict's JSON without its deep copy of every (bpm, seconds) pair of hr_seconds
        facts = {f.name: getattr(s.facts, f.name) for f in dataclasses.fields(s.facts)}
        out["facts"] = facts | {"file_profile": dataclasses.asdict(s.facts.file_profile)}
    return json.dumps(out)


def facts_from(d: dict[str, Any] | None) -> Facts | None:
    """``Facts`` back from their stored dict (None: stored before they were kept, or unreadable)."""
    if not isinstance(d, dict):
        return None
    try:
        return Facts(**{**d, "hr_seconds": tuple((int(b), float(w)) for b, w in d.get("hr_seconds") or ()),
                        "file_profile": FileProfile(**(d.get("file_profile") or {}))})
    except (TypeError, ValueError):
        return None


def from_stored(text: str, start: float, end: float) -> Summary:
    """A summary back from the store's text; ``start``/``end`` are the row's exact times."""
    d = json.loads(text)
    try:
        level = Level(d.get("level"))
    except ValueError:
        level = Level.MODERATE
    sport, sub_sport = d.get("sport") or "generic", d.get("sub_sport") or "generic"
    values = {_ATTR.get(k, k): d.get(k) for k in WORKOUT_KEYS if k not in _OWN}
    line = d.get("headline") or wording.headline(level, sport, sub_sport, d.get("duration_s") or 0, d.get("load"))
    return Summary(**values, sport=sport, sub_sport=sub_sport, start=start, end=end, level=level,
                   device=d.get("device") or {}, note=d.get("note"), headline=line, file=d.get("file"),
                   sha256=d.get("sha256"), facts=facts_from(d.get("facts")))
