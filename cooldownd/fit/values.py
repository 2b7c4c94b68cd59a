"""Values of single FIT messages as cooldownd's: times, numbers, heart rate, RR, laps, pauses, summaries.

fitfile.py assembles workouts from these; each takes fitparse-style value dicts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from cooldownd.core.model import DeviceSummary, FileProfile, Record

_new = tuple.__new__
_FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z


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


def num(value: object, *, zero_unset: bool = False) -> float | None:
    """A number from a FIT value (bools and sentinels-as-None are not numbers; 0 may mean unset)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if zero_unset and value == 0:
        return None
    return value


def bpm(value: object) -> int | None:
    """A plausible heart rate (20-250 bpm) or None."""
    v = num(value)
    return int(v) if v is not None and 20 <= v <= 250 else None


def rr_ms(values: Iterable[dict]) -> list[float]:
    """RR intervals (ms) from hrv messages' ``time`` (seconds, None = padding)."""
    return [ms for _, ms in rr_at((0.0, v) for v in values)]


def rr_at(messages: Iterable[tuple[float, dict]]) -> list[tuple[float, float]]:
    """(t, RR ms) for each interval of each (t, hrv message): the rule of ``rr_ms``, one loop for a file."""
    pairs: list[tuple[float, float]] = []
    for t0, v in messages:
        t = v.get("time")
        for s in t if isinstance(t, tuple) else (t,):
            if isinstance(s, (int, float)):
                pairs.append((t0, s))
    return rr_kept(pairs)


def rr_kept(pairs: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """(t, RR ms) of the (t, interval in s) that are plausible (0.2-3 s; a None is padding, dropped before).

    fastfit reads ``hrv`` messages' raw columns into this (fit/rrplan.py); rr_at reads value dicts."""
    return [(t, round(s * 1000.0, 1)) for t, s in pairs if 0.2 <= s <= 3.0]


def timer_pauses(timer: list[tuple[float, str]], end: float) -> list[tuple[float, float]]:
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
        start, secs = posix(v.get("start_time")), num(v.get("total_timer_time"))
        if start is not None and secs and (num(v.get("total_distance")) or 0) > 0:
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
            anchor_wall = wall + (num(v.get("fractional_timestamp")) or 0.0)
            anchor_units = units[0]
            last = units[-1]
        else:
            continue
        for u, b in zip(units, bpms):
            if (h := bpm(b)) is not None:
                out.append((anchor_wall + (u - anchor_units) / 1024.0, h))
    return sorted(out)


# The FIT SDK's rule for a strap's stored heart rate (``hr`` messages) in the activity's records
# (garmin/fit-python-sdk hr_mesg_utils.py, ``merge_heart_rates``; the SDK decoder's
# ``merge_heart_rates=True``): beats are expanded to a 250 ms grid, each value carried forward over
# a gap for at most 5 s; a record's heart rate is the rounded mean of the grid values in
# (previous record, this record]. A record whose span holds none keeps its own reading.
_HR_STEP_S, _HR_CARRY_STEPS = 0.25, 20


def expand_beats(beats: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """Stored beats on the SDK's 250 ms grid (a value carried across a gap for at most 5 s)."""
    out: list[tuple[float, int]] = []
    for t, b in beats:
        if out:
            pt, pb = out[-1]
            gap_ms, step = abs(t - pt) * 1000, 1
            while gap_ms > _HR_STEP_S * 1000 and step <= _HR_CARRY_STEPS:
                out.append((pt + _HR_STEP_S * step, pb))
                gap_ms -= _HR_STEP_S * 1000
                step += 1
        out.append((t, b))
    return out


def merge_hr(recs: list[Record], beats: list[tuple[float, int]]) -> list[Record]:
    """Records with HR from a strap's stored beats, by the FIT SDK's ``merge_heart_rates`` rule (above)."""
    grid = expand_beats(beats)
    out, j, lo = [], 0, None
    for r in recs:
        hi = r.t
        if lo is None or lo == hi:  # the first record, or one stamped like the one before: its last second
            lo = hi - 1
            j = max(j - 1, 0)
        acc = n = 0
        new = r.hr
        while j < len(grid):
            t, b = grid[j]
            if t > hi:
                if n:
                    new = int(acc / n + 0.5)
                lo = hi
                break
            if t > lo:
                acc += b
                n += 1
            j += 1
        out.append(_new(Record, (hi, new, *r[2:])) if new != r.hr else r)  # r._replace(hr=new), faster
    return out


def device_summary(s: dict) -> DeviceSummary:
    """The numbers the device computed for one session (0 threshold power = unset)."""
    def f(key: str, zero_unset: bool = False) -> float | None:
        return num(s.get(key), zero_unset=zero_unset)

    def i(key: str, zero_unset: bool = False) -> int | None:
        v = f(key, zero_unset)
        return None if v is None else int(v)

    return DeviceSummary(
        timer_s=f("total_timer_time"), elapsed_s=f("total_elapsed_time"),
        avg_hr=bpm(s.get("avg_heart_rate")), max_hr=bpm(s.get("max_heart_rate")),
        np=f("normalized_power", True), tss=f("training_stress_score"), if_=f("intensity_factor"),
        threshold_power=i("threshold_power", True), training_effect=f("total_training_effect"),
        anaerobic_training_effect=f("total_anaerobic_training_effect"),
        calories=i("total_calories"), avg_power=f("avg_power"), distance_m=f("total_distance"),
    )


def file_profile(p: dict, sess: dict, sport: str) -> FileProfile:
    """Athlete values stored in the file; 0 (and 255 for HR) mean "not set"."""
    def hr(*keys: str) -> int | None:
        for k in keys:
            v = num(p.get(k), zero_unset=True)
            if v is not None and 30 <= v < 255:
                return int(v)
        return None

    sport_max = {"cycling": "user_profile.default_max_biking_heart_rate",
                 "running": "user_profile.default_max_running_heart_rate"}.get(sport, "")
    ftp = num(p.get("zones_target.functional_threshold_power"), zero_unset=True)
    if ftp is None:
        ftp = num(sess.get("threshold_power"), zero_unset=True)
    return FileProfile(
        max_hr=hr("zones_target.max_heart_rate", sport_max, "user_profile.default_max_heart_rate"),
        resting_hr=hr("user_profile.resting_heart_rate"),
        lthr=hr("zones_target.threshold_heart_rate"),
        ftp=None if ftp is None or ftp >= 2000 else int(ftp),
    )
