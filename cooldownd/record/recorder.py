"""The one recorder: an ended workout, from a file or from the strap, becomes a stored row.

Both sources go through here: ``summarise`` (assess -> choose the routine -> summary with its
headline) where the CPU work is (an import's worker process, the live store thread), and
``record`` where the store is: the same-session rule (``core/sessions.py``) against what is
stored, then the richer copy wins. A poorer copy of the same session is never deleted: it is
marked superseded, and its offer and walk-through outcome carry over to the richer row (so a
session is offered once, and an unanswered offer follows the complete workout). An HRR60 only
the poorer copy measured (a strap kept on after the file's timer stopped) carries over too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cooldownd.core import series
from cooldownd.core.line import Line
from cooldownd.core.model import Athlete, Workout
from cooldownd.core.series import Series
from cooldownd.core.sessions import richness, same_session, start_window
from cooldownd.record.summary import Result, Summary

if TYPE_CHECKING:
    from cooldownd.core.intensity import Knobs
    from cooldownd.core.routines import Library
    from cooldownd.ports import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rules:
    """What turning a workout into a summary needs: ``[athlete]``, ``[intensity]``, the routines."""

    athlete: Athlete
    knobs: Knobs
    library: Library
    this_year: int | None = None  # today's year (age-based estimates use the workout's own year)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An assessed workout on its way to the store (no records: cheap to pickle)."""

    summary: Summary
    source: str  # fit | ble | demo
    richness: float
    series: Series | None = None  # its compact time line, for the report's and the done card's charts


# The device's numbers kept next to ours: summary key -> DeviceSummary field.
DEVICE_KEYS = {"duration_s": "timer_s", "elapsed_s": "elapsed_s", "avg_hr": "avg_hr", "max_hr": "max_hr",
               "np": "np", "if": "if_", "tss": "tss", "avg_power": "avg_power", "distance_m": "distance_m",
               "training_effect": "training_effect", "calories": "calories"}


def device_numbers(workout: Workout) -> dict[str, float | int]:
    """What the recording device itself reported (``{}`` for a live workout), rounded like ours."""
    out: dict[str, float | int] = {}
    for key, attr in DEVICE_KEYS.items():
        value = getattr(workout.device, attr)
        if value is not None:
            out[key] = value if isinstance(value, int) else _r(value, 2 if key == "if" else 1)
    return out


def year_of(t: float) -> int:
    """The calendar year (UTC) at ``t``: an age-based estimate uses the age at the workout, not today's."""
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.timezone.utc).year


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


def summarise(workout: Workout, rules: Rules, history_max_hr: int | None, *, file: str | None = None,
              sha256: str | None = None) -> Candidate:
    """Assess, choose the routine, word the headline: the summary of one ended workout."""
    from cooldownd.core.intensity import assess
    from cooldownd.core.routines import choose
    from cooldownd.core.wording import headline, reason_words

    line = Line(workout.records)  # the records' columns, read once for the assessment and the series
    a = assess(workout, rules.athlete, rules.knobs, history_max_hr=history_max_hr, this_year=year_of(workout.start),
               line=line)
    routine = choose(rules.library, a.level, workout.sport, workout.sub_sport)
    summary = Summary(
        sport=workout.sport, sub_sport=workout.sub_sport, start=workout.start, end=workout.end,
        duration_s=_r(workout.duration_s), elapsed_s=_r(workout.elapsed_s), avg_hr=_r(a.avg_hr), max_hr=a.max_hr,
        trimp=_r(a.trimp), hrss=_r(a.hrss), np=_r(a.np), if_=_r(a.if_, 2), tss=_r(a.tss), rmssd_ms=_r(a.rmssd_ms),
        hrr60=a.hrr60, load=_r(a.load), load_source=a.load_source, level=a.level, routine=routine.name,
        profile_source=a.profile_source, note=workout.note, reason=reason_words(a.level, a.reason), facts=a.facts,
        device=device_numbers(workout),
        headline=headline(a.level, workout.sport, workout.sub_sport, a.duration_s, a.load), file=file, sha256=sha256)
    timeline = series.build(workout, a, rules.knobs.zone_bounds_hrr, rules.knobs.power_hold_s, line)
    return Candidate(summary, workout.source, richness(workout), timeline)


def rejudge(s: Summary, rules: Rules, history_max_hr: int | None) -> Summary:
    """``s`` judged again from its facts with ``rules`` and this as-of history (unchanged without facts)."""
    from cooldownd.core.intensity import judge
    from cooldownd.core.routines import choose
    from cooldownd.core.wording import headline, reason_words

    if s.facts is None:
        return s
    a = judge(s.facts, rules.athlete, rules.knobs, history_max_hr, year_of(s.start))
    return replace(s, trimp=_r(a.trimp), hrss=_r(a.hrss), if_=_r(a.if_, 2), tss=_r(a.tss), load=_r(a.load),
                   load_source=a.load_source, level=a.level,
                   routine=choose(rules.library, a.level, s.sport, s.sub_sport).name,
                   profile_source=a.profile_source, reason=reason_words(a.level, a.reason),
                   headline=headline(a.level, s.sport, s.sub_sport, a.duration_s, a.load))


def record(store: Store, c: Candidate, *, file_sha256: str | None = None, rules: Rules | None = None) -> Result:
    """Store ``c`` unless a copy of its session at least as rich is stored; supersede poorer copies.

    With ``rules``, ``c`` is first judged again with its as-of history: the highest HR of the stored
    workouts that started before it (record/asof.py keeps the later ones right).
    One transaction (joining the caller's). Records of one file (``file_sha256``) never supersede
    each other: a multisport file's sessions are separate workouts even where a leg spans others.
    """
    s = c.summary
    with store.transaction():
        if rules is not None:
            s = rejudge(s, rules, store.history_max_hr(before=s.start))
        same = [r for r in store.starting_between(*start_window(s.span()))
                if not (file_sha256 and r.file_sha256 == file_sha256) and same_session(r.summary.span(), s.span())]
        keep = max((r for r in same if r.richness >= c.richness), key=lambda r: r.richness, default=None)
        if keep is not None:
            if keep.summary.hrr60 is None and s.hrr60 is not None:  # only this copy saw the recovery
                store.set_summary(keep.id, replace(keep.summary, hrr60=s.hrr60))
            why = f"same workout as #{keep.id} ({keep.source}), which is as rich"
            return Result(s.file, s.sha256, "duplicate", why, s)
        if s.hrr60 is None:
            s = replace(s, hrr60=next((r.summary.hrr60 for r in same if r.summary.hrr60 is not None), None))
        new_id = store.add_workout(s, source=c.source, richness=c.richness, file_sha256=file_sha256)
        if c.series is not None:
            store.put_series(new_id, c.series)
        for r in same:
            log.info("%s: supersedes workout #%d (%s), a poorer record of the same session",
                     s.file or c.source, r.id, r.source)
            store.supersede(r.id, new_id)
    return Result(s.file, s.sha256, "imported", None, s, new_id)
