"""Decoded FIT messages -> the file's kind, identity and Workouts (one per sport session).

Transitions are not workouts; a chained file holding one session twice gives one workout; a file
cut before its session message gives a workout from its records alone. Per-message conversions
are in values.py; records arrive as Record chunks (decode.py).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter, le

from cooldownd.core.model import Record, Workout
from cooldownd.fit.sports import sport_name, sub_sport_name
from cooldownd.fit.values import (device_summary, file_profile, hr_samples, merge_hr, num, pool_rests, posix,
                                 swum_laps, timer_pauses)

# file_id.type -> the words a user reads in "not an activity: ..."
_KINDS = {"activity": "activity", "monitoring_a": "monitoring file", "monitoring_b": "monitoring file",
          "monitoring_daily": "monitoring file"}
# A record further than this from the session (or from the first record) is garbage
# from a corrupt tail (one Strava file has records dated 2085).
_MAX_SPAN_S = 2 * 86400.0


@dataclass(frozen=True, slots=True)
class FitContent:
    """A decoded file: its kind, its FIT identity and its workouts."""

    kind: str  # "activity", "settings file", "monitoring file", ...
    serial: int | None
    time_created: float | None
    workouts: list[Workout] = field(default_factory=list)


def file_kind(file_type: object, has_activity_data: bool) -> str:
    """The words for a file_id.type ("activity", "settings file", ...)."""
    if file_type is None:
        return "activity" if has_activity_data else "unknown file"
    if isinstance(file_type, int):  # a value the FIT profile does not name (or a damaged byte)
        return f"file of unknown type {file_type}"
    name = str(file_type)
    return _KINDS.get(name, f"{name.replace('_', ' ')} file")


def workouts_from_messages(messages: Sequence[tuple[str, object]], source: str) -> FitContent:
    """Build the file's workouts from decoded messages (see module doc)."""
    file_ids = [v for n, v in messages if n == "file_id"]
    sessions = [v for n, v in messages if n == "session"]
    fid = file_ids[0] if file_ids else {}
    has_data = bool(sessions) or any(n == "records" and v for n, v in messages)
    kind = file_kind(fid.get("type"), has_data)
    serial = fid.get("serial_number")
    content = FitContent(kind, serial if isinstance(serial, int) else None, posix(fid.get("time_created")))
    if kind != "activity":
        return content
    parts = _Parts.collect(messages)
    seen: set[tuple] = set()
    for sess in sessions:
        if sess.get("sport") == "transition":
            continue
        wk = parts.session_workout(sess)
        # A chained file can hold the same session twice (a device re-writing its activity): one workout.
        key = None if wk is None else (wk.sport, wk.sub_sport, wk.start, wk.end, wk.duration_s)
        if wk is not None and key not in seen:
            seen.add(key)
            content.workouts.append(wk)
    if not sessions:
        wk = parts.sessionless_workout()
        if wk is not None:
            content.workouts.append(wk)
    return content


@dataclass(slots=True)
class _Parts:
    """The file's time lines, gathered once and cut per session."""

    records: list[Record]
    hr: list[tuple[float, int]]  # from ``hr`` messages (swim straps store HR there)
    rr: list[tuple[float, float]]  # (time of the last record before it, RR ms)
    timer: list[tuple[float, str]]  # (time, "start" | "stop")
    profile: dict
    sport: tuple[str, str]
    swum_laps: list[tuple[float, float]] = field(default_factory=list)  # laps that covered distance
    times: list[float] = field(default_factory=list)  # records' times (sorted), to cut a session's span
    rr_t: list[float] = field(default_factory=list)  # the RR intervals' times, when in time order

    @classmethod
    def collect(cls, messages: Sequence[tuple[str, dict]]) -> _Parts:
        recs: list[Record] = []
        timer: list[tuple[float, str]] = []
        prof: dict = {}
        sport = ("generic", "generic")
        rr: list[tuple[float, float]] = []
        for name, v in messages:
            if name == "records":
                recs += v
            elif name == "rr":
                rr += v
            elif name == "event" and v.get("event") == "timer":
                t, et = posix(v.get("timestamp")), str(v.get("event_type"))
                if t is not None and et in ("start", "stop", "stop_all", "stop_disable_all"):
                    timer.append((t, "start" if et == "start" else "stop"))
            elif name in ("user_profile", "zones_target"):
                prof.update({f"{name}.{k}": x for k, x in v.items() if x is not None})
            elif name == "sport" and v.get("sport"):
                sport = (sport_name(v["sport"]), sub_sport_name(v.get("sub_sport")))
        recs.sort(key=itemgetter(0))  # Record.t
        hr = hr_samples(v for n, v in messages if n == "hr")
        rr_t = [t for t, _ in rr]
        return cls(recs, hr, rr, sorted(timer), prof, sport, swum_laps(v for n, v in messages if n == "lap"),
                   [r.t for r in recs], rr_t if all(map(le, rr_t, rr_t[1:])) else [])

    def session_workout(self, sess: dict) -> Workout | None:
        """The workout of one session message."""
        elapsed = num(sess.get("total_elapsed_time"))
        start = posix(sess.get("start_time"))
        stamp = posix(sess.get("timestamp"))
        if start is None:
            start = stamp - elapsed if stamp is not None and elapsed is not None else None
        if start is None and self.records:  # a session without times (seen from a Sigma export)
            start = self.records[0].t
        if start is None:
            return None
        end = start + elapsed if elapsed is not None else (stamp if stamp is not None else start)
        sport = (sport_name(sess.get("sport"), self.sport[0]), sub_sport_name(sess.get("sub_sport")))
        return self._workout(sport, start, end, sess)

    def sessionless_workout(self) -> Workout | None:
        """A workout from records alone (a file cut before its session message)."""
        if not self.records:
            return None
        first = self.records[0].t
        ts = [r.t for r in self.records if first <= r.t <= first + _MAX_SPAN_S]
        return self._workout(self.sport, ts[0], ts[-1], {})

    def _workout(self, sport: tuple[str, str], start: float, end: float, sess: dict) -> Workout:
        recs = self.records[bisect_left(self.times, start - 1.0):bisect_right(self.times, end + 1.0)]
        # A strap's stored beats are what the device used where they exist: the records' HR there
        # (wrist or stale live values) read 5 bpm low on a triathlon swim (sports-lib 6788312639-1).
        beats = [(t, b) for t, b in self.hr if start <= t <= end + 1.0]
        if beats:
            recs = merge_hr(recs, self.hr)
        swum = [(a, b) for a, b in self.swum_laps if start - 1.0 <= a <= end]
        rests = pool_rests(swum, start, end) if sport == ("swimming", "lap_swimming") else []
        pauses = timer_pauses([(t, k) for t, k in self.timer if start - 1.0 <= t <= end + 1.0], end)
        elapsed = num(sess.get("total_elapsed_time"))
        elapsed = float(elapsed) if elapsed is not None else max(0.0, end - start)
        timer = num(sess.get("total_timer_time"))
        if timer is None:
            timer = max(0.0, elapsed - sum(b - a for a, b in pauses))
        return Workout(
            sport=sport[0], sub_sport=sport[1], start=start, end=end,
            duration_s=float(timer), elapsed_s=elapsed, records=tuple(recs),
            pauses=tuple(pauses), rr_ms=self.rr_between(start - 1.0, end + 1.0),
            device=device_summary(sess), profile=file_profile(self.profile, sess, sport[0]),
            beats=tuple(beats), rests=tuple(rests),
        )

    def rr_between(self, lo: float, hi: float) -> tuple[float, ...]:
        """The RR intervals (ms) timed ``lo <= t <= hi`` (a slice when their times are in order)."""
        if self.rr_t or not self.rr:
            i, j = bisect_left(self.rr_t, lo), bisect_right(self.rr_t, hi)
            return tuple(ms for _, ms in self.rr[i:j])
        return tuple(ms for t, ms in self.rr if lo <= t <= hi)
