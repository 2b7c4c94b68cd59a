"""FIT files -> Workouts.

Two steps: ``decode_messages`` turns bytes into ``(name, values)`` pairs exactly as fitparse
gives them (through the fast decoder in fastfit.py, falling back to fitparse itself);
``workouts_from_messages`` turns those into ``Workout`` values (one per sport session;
transitions are not workouts), with the per-message conversions of fitvalues.py.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from cooldownd.core.model import Record, Workout
from cooldownd.errors import FitImportError
from cooldownd.fit.values import (device_summary, file_profile, hr_samples, merge_hr, num, pool_rests, posix, rr_ms,
                                 swum_laps, timer_pauses)

log = logging.getLogger(__name__)

WANTED = frozenset({
    "file_id", "session", "lap", "record", "hr", "hrv", "event",
    "user_profile", "zones_target", "sport", "device_info", "activity",
})

# file_id.type -> the words a user reads in "not an activity: ..."
_KINDS = {"activity": "activity", "monitoring_a": "monitoring file", "monitoring_b": "monitoring file",
          "monitoring_daily": "monitoring file"}
# A record further than this from the session (or from the first record) is garbage
# from a corrupt tail (one Strava file has records dated 2085).
_MAX_SPAN_S = 2 * 86400.0


@dataclass(frozen=True, slots=True)
class Decoded:
    """What a decoder read from one file: wanted messages in file order, and why it stopped early."""

    messages: list[tuple[str, dict]]
    error: str | None = None  # one line, None when the whole file was read
    error_kind: str | None = None  # "truncated" | "bad_crc" | "corrupt"
    read_any: bool = False  # at least one message (wanted or not) was decoded


@dataclass(frozen=True, slots=True)
class FitContent:
    """A decoded file: its kind, its FIT identity and its workouts."""

    kind: str  # "activity", "settings file", "monitoring file", ...
    serial: int | None
    time_created: float | None
    workouts: list[Workout] = field(default_factory=list)


def decode_messages(data: bytes, source: str) -> Decoded:
    """Decode ``data`` with the fast decoder, or fitparse where it cannot (same values by contract).

    ``record`` messages arrive already converted to ``Record`` (see ``_Compact``); the rest as
    fitparse's value dicts. ``workouts_from_messages`` takes either form.
    """
    from cooldownd.fit import fastfit

    return fastfit.decode_messages(data, source, sink=_Compact())


class _Compact(list):
    """A message list that turns each ``record`` into a Record as it is decoded.

    A 100,000-record file otherwise holds 100,000 dicts (about 100 MB) until the workouts are built.
    """

    def append(self, item: tuple[str, dict]) -> None:
        if item[0] == "record":
            rec = _record(item[1])
            if rec is None:
                return
            item = ("record", rec)  # type: ignore[assignment]
        super().append(item)


def decode_with_fitparse(data: bytes, source: str) -> Decoded:
    """Decode ``data`` with fitparse; raise FitImportError only when nothing is readable."""
    import fitparse
    from fitparse.utils import FitCRCError, FitEOFError, FitHeaderError

    if not data:
        raise FitImportError(source, "empty file")
    try:
        fit = fitparse.FitFile(data)
    except FitHeaderError as exc:
        raise FitImportError(source, f"not a FIT file ({exc})") from exc
    except FitEOFError as exc:
        raise FitImportError(source, f"truncated FIT header ({exc})") from exc
    except Exception as exc:  # fitparse raises bare struct/Value errors on garbage
        raise FitImportError(source, f"unreadable FIT header ({exc})") from exc
    messages: list[tuple[str, dict]] = []
    read_any = False
    error = kind = None
    try:
        for msg in fit.get_messages():
            read_any = True
            if msg.name in WANTED:
                messages.append((msg.name, msg.get_values()))
    except FitCRCError as exc:
        error, kind = f"bad CRC ({exc})", "bad_crc"
    except FitEOFError as exc:
        error, kind = f"truncated file ({exc})", "truncated"
    except Exception as exc:  # FitParseError, struct.error, KeyError... on corrupt data
        error, kind = f"corrupt data ({exc})", "corrupt"
    finally:
        fit.close()
    return Decoded(messages, error, kind, read_any)


def file_kind(file_type: object, has_activity_data: bool) -> str:
    """The words for a file_id.type ("activity", "settings file", ...)."""
    if file_type is None:
        return "activity" if has_activity_data else "unknown file"
    if isinstance(file_type, int):  # a value the FIT profile does not name (or a damaged byte)
        return f"file of unknown type {file_type}"
    name = str(file_type)
    return _KINDS.get(name, f"{name.replace('_', ' ')} file")


def workouts_from_messages(messages: Sequence[tuple[str, dict]], source: str) -> FitContent:
    """Build the file's workouts from decoded messages (see module doc)."""
    file_ids = [v for n, v in messages if n == "file_id"]
    sessions = [v for n, v in messages if n == "session"]
    fid = file_ids[0] if file_ids else {}
    has_data = bool(sessions) or any(n == "record" for n, _ in messages)
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

    @classmethod
    def collect(cls, messages: Sequence[tuple[str, dict]]) -> _Parts:
        recs: list[Record] = []
        rr: list[tuple[float, float]] = []
        timer: list[tuple[float, str]] = []
        prof: dict = {}
        sport = ("generic", "generic")
        last_t = 0.0
        for name, v in messages:
            if name == "record":
                rec = v if type(v) is Record else _record(v)
                if rec is not None:
                    recs.append(rec)
                    last_t = rec.t
            elif name == "hrv":
                rr.extend((last_t, ms) for ms in rr_ms((v,)))
            elif name == "event" and v.get("event") == "timer":
                t, et = posix(v.get("timestamp")), str(v.get("event_type"))
                if t is not None and et in ("start", "stop", "stop_all", "stop_disable_all"):
                    timer.append((t, "start" if et == "start" else "stop"))
            elif name in ("user_profile", "zones_target"):
                prof.update({f"{name}.{k}": x for k, x in v.items() if x is not None})
            elif name == "sport" and v.get("sport"):
                sport = (str(v["sport"]), str(v.get("sub_sport") or "generic"))
        recs.sort(key=lambda r: r.t)
        hr = hr_samples(v for n, v in messages if n == "hr")
        return cls(recs, hr, rr, sorted(timer), prof, sport, swum_laps(v for n, v in messages if n == "lap"))

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
        sport = (str(sess.get("sport") or self.sport[0]), str(sess.get("sub_sport") or "generic"))
        return self._workout(sport, start, end, sess)

    def sessionless_workout(self) -> Workout | None:
        """A workout from records alone (a file cut before its session message)."""
        if not self.records:
            return None
        first = self.records[0].t
        ts = [r.t for r in self.records if first <= r.t <= first + _MAX_SPAN_S]
        return self._workout(self.sport, ts[0], ts[-1], {})

    def _workout(self, sport: tuple[str, str], start: float, end: float, sess: dict) -> Workout:
        recs = [r for r in self.records if start - 1.0 <= r.t <= end + 1.0]
        # A strap's stored beats are what the device used where they exist: the records' HR there
        # (wrist or stale live values) read 5 bpm low on a triathlon swim (sports-lib 6788312639-1).
        beats = [(t, b) for t, b in self.hr if start <= t <= end + 1.0]
        if beats:
            recs = merge_hr(recs, beats)
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
            pauses=tuple(pauses), rr_ms=tuple(ms for t, ms in self.rr if start - 1.0 <= t <= end + 1.0),
            device=device_summary(sess), profile=file_profile(self.profile, sess, sport[0]),
            beats=tuple(beats), rests=tuple(rests),
        )


_UNIX = dt.datetime(1970, 1, 1)
_NUMBERS = frozenset({int, float})  # type() test: bool (a subclass of int) is not a number here


def _record(v: dict) -> Record | None:
    """One ``record`` message as a Record; the hot loop of an import, so checks are inlined."""
    t = v.get("timestamp")
    if type(t) is dt.datetime and t.tzinfo is None:  # fitparse's usual naive UTC
        t = (t - _UNIX).total_seconds()
    else:
        t = posix(t)
        if t is None:
            return None
    speed = v.get("enhanced_speed")
    if type(speed) not in _NUMBERS:
        speed = v.get("speed")
    hr, power, cad, dist = v.get("heart_rate"), v.get("power"), v.get("cadence"), v.get("distance")
    return Record(t,
                  int(hr) if type(hr) in _NUMBERS and 20 <= hr <= 250 else None,
                  int(power) if type(power) in _NUMBERS else None,
                  int(cad) if type(cad) in _NUMBERS else None,
                  float(speed) if type(speed) in _NUMBERS else None,
                  float(dist) if type(dist) in _NUMBERS else None)
