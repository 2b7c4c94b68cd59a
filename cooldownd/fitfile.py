"""FIT files -> Workouts.

Two steps: ``decode_messages`` turns bytes into ``(name, values)`` pairs exactly as fitparse
gives them (through the fast decoder in fastfit.py, falling back to fitparse itself), ``workouts_from_messages`` turns those
into ``Workout`` values (one per sport session; transitions are not workouts).
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cooldownd.core.model import DeviceSummary, FileProfile, Record, Workout
from cooldownd.errors import FitImportError

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
_FIT_EPOCH = 631065600


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
    from cooldownd import fastfit

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


def posix(value: object) -> float | None:
    """A fitparse timestamp (naive datetime in UTC) as POSIX seconds; None if not a time.

    fitparse leaves FIT "system time" values (< 0x10000000, seconds since the device powered
    on; old Forerunners write only those) as ints: counted from the FIT epoch, they keep
    durations right and date the workout in 1990, so it is never offered as a recent one."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 0x10000000:
        return float(_FIT_EPOCH + value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.timezone.utc).timestamp() if value.tzinfo is None else value.timestamp()
    return None


def _num(value: object, *, zero_unset: bool = False) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if zero_unset and value == 0:
        return None
    return value


def _bpm(value: object) -> int | None:
    v = _num(value)
    return int(v) if v is not None and 20 <= v <= 250 else None


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


def read_bytes(path: str | Path) -> bytes:
    """The FIT bytes of a .fit or .fit.gz file."""
    p = Path(path)
    data = p.read_bytes()
    if p.name.lower().endswith(".gz") or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise FitImportError(str(p), f"bad gzip data ({exc})") from exc
    return data


def read_workouts(path: str | Path) -> FitContent:
    """Decode a .fit or .fit.gz file into its workouts (truncated files: the readable part)."""
    source = str(path)
    decoded = decode_messages(read_bytes(path), source)
    if decoded.error_kind == "bad_crc" or not decoded.messages:
        raise FitImportError(source, decoded.error or "no FIT messages")
    content = workouts_from_messages(decoded.messages, source)
    if decoded.error:
        note = f"{decoded.error}: imported the readable part"
        content.workouts[:] = [_with_note(w, note) for w in content.workouts]
    return content


def _with_note(w: Workout, note: str) -> Workout:
    from dataclasses import replace

    return replace(w, note=note)


def rr_ms(values: Iterable[dict]) -> list[float]:
    """RR intervals (ms) from hrv messages' ``time`` (seconds, None = padding)."""
    out: list[float] = []
    for v in values:
        t = v.get("time")
        for s in t if isinstance(t, tuple) else (t,):
            if isinstance(s, (int, float)) and 0.2 <= s <= 3.0:
                out.append(round(s * 1000.0, 1))
    return out


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
        elapsed = _num(sess.get("total_elapsed_time"))
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
        pauses = _pauses([(t, k) for t, k in self.timer if start - 1.0 <= t <= end + 1.0], end)
        elapsed = _num(sess.get("total_elapsed_time"))
        elapsed = float(elapsed) if elapsed is not None else max(0.0, end - start)
        timer = _num(sess.get("total_timer_time"))
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


def _pauses(timer: list[tuple[float, str]], end: float) -> list[tuple[float, float]]:
    """(stop, start) intervals from timer events; a stop without a restart is the end."""
    out: list[tuple[float, float]] = []
    stopped: float | None = None
    for t, k in timer:
        if k == "stop" and stopped is None:
            stopped = t
        elif k == "start" and stopped is not None:
            if t > stopped:
                out.append((stopped, t))
            stopped = None
    return out


def swum_laps(laps: Iterable[dict]) -> list[tuple[float, float]]:
    """(start, start + timer time) of the laps that covered distance."""
    out = []
    for v in laps:
        start, secs = posix(v.get("start_time")), _num(v.get("total_timer_time"))
        if start is not None and secs and (_num(v.get("total_distance")) or 0) > 0:
            out.append((start, start + float(secs)))
    return sorted(out)


def pool_rests(swum: list[tuple[float, float]], start: float, end: float) -> list[tuple[float, float]]:
    """A pool swim's rests: its time outside the laps that covered distance (the timer keeps running).

    Garmin fills a strap's stored beats into the swum laps only (its rest laps keep one live
    reading, "avg 77, max 77" over 36 s), so those beats are what its averages see."""
    if not swum:
        return []
    out, t = [], start
    for a, b in swum:
        if a > t:
            out.append((t, a))
        t = max(t, b)
    return out + ([(t, end)] if end > t else [])


def hr_samples(values: Iterable[dict]) -> list[tuple[float, int]]:
    """(time, bpm) from ``hr`` messages: an anchor message ties the strap's clock to UTC,
    then each message packs 8 beats' times as 12-bit 1/1024 s counters (fitparse keeps only one)."""
    out: list[tuple[float, int]] = []
    anchor_wall = anchor_units = last = None
    for v in values:
        bpms = v.get("filtered_bpm")
        bpms = bpms if isinstance(bpms, tuple) else (bpms,)
        wall = posix(v.get("timestamp"))
        packed = v.get("event_timestamp_12")
        events = v.get("event_timestamp")
        if isinstance(packed, tuple) and anchor_wall is not None:
            raw = int.from_bytes(bytes(b or 0 for b in packed), "little")
            units = []
            for i in range(len(bpms)):
                last = last + (((raw >> (12 * i)) & 0xFFF) - last) % 4096
                units.append(last)
        elif wall is not None and events is not None:
            units = [round(e * 1024) for e in (events if isinstance(events, tuple) else (events,))
                     if isinstance(e, (int, float))]
            if not units:
                continue
            anchor_wall = wall + (_num(v.get("fractional_timestamp")) or 0.0)
            anchor_units = units[0]
            last = units[-1]
        else:
            continue
        for u, b in zip(units, bpms):
            if _bpm(b) is not None:
                out.append((anchor_wall + (u - anchor_units) / 1024.0, _bpm(b)))
    return sorted(out)


def merge_hr(recs: list[Record], hr: list[tuple[float, int]]) -> list[Record]:
    """Records with HR filled from hr-message samples, resampled to whole seconds."""
    per_s: dict[int, int] = {}
    for t, b in hr:
        per_s[int(t)] = b  # the last beat of each second
    by_t = {int(r.t): r for r in recs}
    for s, b in per_s.items():
        r = by_t.get(s)
        by_t[s] = r._replace(hr=b) if r is not None else Record(float(s), b)
    kept = {int(r.t) for r in recs}
    extra = [r for s, r in by_t.items() if s not in kept]
    merged = [by_t.get(int(r.t), r) if int(r.t) in per_s else r for r in recs] + extra
    return sorted(merged, key=lambda r: r.t)


def device_summary(s: dict) -> DeviceSummary:
    """The numbers the device computed for one session (0 threshold power = unset)."""
    def f(key: str, zero_unset: bool = False) -> float | None:
        return _num(s.get(key), zero_unset=zero_unset)

    def i(key: str, zero_unset: bool = False) -> int | None:
        v = f(key, zero_unset)
        return None if v is None else int(v)

    return DeviceSummary(
        timer_s=f("total_timer_time"), elapsed_s=f("total_elapsed_time"),
        avg_hr=_bpm(s.get("avg_heart_rate")), max_hr=_bpm(s.get("max_heart_rate")),
        np=f("normalized_power", True), tss=f("training_stress_score"), if_=f("intensity_factor"),
        threshold_power=i("threshold_power", True), training_effect=f("total_training_effect"),
        anaerobic_training_effect=f("total_anaerobic_training_effect"),
        calories=i("total_calories"), avg_power=f("avg_power"), distance_m=f("total_distance"),
    )


def file_profile(p: dict, sess: dict, sport: str) -> FileProfile:
    """Athlete values stored in the file; 0 (and 255 for HR) mean "not set"."""
    def hr(*keys: str) -> int | None:
        for k in keys:
            v = _num(p.get(k), zero_unset=True)
            if v is not None and 30 <= v < 255:
                return int(v)
        return None

    sport_max = {"cycling": "user_profile.default_max_biking_heart_rate",
                 "running": "user_profile.default_max_running_heart_rate"}.get(sport, "")
    ftp = _num(p.get("zones_target.functional_threshold_power"), zero_unset=True)
    if ftp is None:
        ftp = _num(sess.get("threshold_power"), zero_unset=True)
    return FileProfile(
        max_hr=hr("zones_target.max_heart_rate", sport_max, "user_profile.default_max_heart_rate"),
        resting_hr=hr("user_profile.resting_heart_rate"),
        lthr=hr("zones_target.threshold_heart_rate"),
        ftp=None if ftp is None or ftp >= 2000 else int(ftp),
    )


__all__ = ["WANTED", "Decoded", "FitContent", "decode_messages", "decode_with_fitparse",
           "workouts_from_messages",
           "read_workouts", "read_bytes", "posix", "DeviceSummary", "FileProfile", "Record"]
