"""How hard a workout was: athlete profile, HR and power metrics, one load scale, a level, a wording.

Formulas and sources: shared/docs/INTENSITY.md. Load is on the TSS scale (100 = an hour at threshold).
Zones are by heart-rate reserve (Karvonen), so they, TRIMP and the ">= 90 % HRR" rule share one axis:
Z1 < 60 %, Z2 60-70 %, Z3 70-80 %, Z4 80-90 %, Z5 >= 90 % HRR.
"""

from __future__ import annotations

import math
from itertools import chain, compress
from typing import NamedTuple

from cooldownd.core.knobs import Knobs
from cooldownd.core.line import Line
from cooldownd.core.metrics import (HRR_PEAK_S, Pauses, beat_stats, exercise_weights, hr_average, hrr60,
                                    normalized_power, rmssd)
from cooldownd.core.model import Assessment, Athlete, Facts, Level, Profile, Reason, Workout
from cooldownd.core.profile import file_ftp, resolve, resolve_profile, session_max_hr

__all__ = ["Knobs", "assess", "judge", "measure", "resolve_profile"]

_RANK = {"config": 0, "file": 1, "estimate": 2}
# A metric stands in for the session only when its samples cover this share of the exercise time
# (a power meter that died after 10 minutes must not make a 2 h ride "light").
_MIN_COVERAGE = 0.5


class _Hr(NamedTuple):
    seconds: float
    zones: tuple[float, ...]
    trimp: float | None
    hrss: float | None
    edwards: float | None
    above_90_min: float


def _hr_seconds(workout: Workout, line: Line, knobs: Knobs, pauses: Pauses,
                every: list[float]) -> tuple[tuple[int, float], ...]:
    """Exercise seconds at each heart rate: every HR sample held for its time (gaps capped).
    ``every``: the weights of all the records (they are the HR samples' when every record has HR)."""
    if all(line.hrs):
        hrs, weights = line.hrs, every
    else:
        keep = list(map(bool, line.hrs))
        hrs = list(compress(line.hrs, keep))
        weights = exercise_weights(list(compress(line.times, keep)), workout.start, workout.end, pauses,
                                   knobs.max_gap_s)
    out: dict[int, float] = {}
    get = out.get
    for hr, w in zip(hrs, weights):
        if w > 0:
            out[hr] = get(hr, 0.0) + w
    return tuple(sorted(out.items()))


def _hr_metrics(hr_seconds: tuple[tuple[int, float], ...], profile: Profile, knobs: Knobs, k: float) -> _Hr | None:
    secs = sum(w for _, w in hr_seconds)
    if secs <= 0:
        return None
    reserve = max(profile.max_hr - profile.resting_hr, 1)
    zones = [0.0] * (len(knobs.zone_bounds_hrr) + 1)
    trimp = edwards = 0.0
    for hr, w in hr_seconds:
        x = min(max((hr - profile.resting_hr) / reserve, 0.0), 1.0)
        zones[sum(x >= b for b in knobs.zone_bounds_hrr)] += w
        trimp += w / 60 * x * knobs.trimp_factor * math.exp(k * x)
        edwards += w / 60 * min(max(hr * 10 // profile.max_hr - 4, 0), 5)  # 50-60 % -> 1 ... >= 90 % -> 5
    x_lt = (profile.lthr - profile.resting_hr) / reserve
    hour_at_lt = 60 * x_lt * knobs.trimp_factor * math.exp(k * x_lt)
    return _Hr(secs, tuple(zones), trimp,
               100 * trimp / hour_at_lt if hour_at_lt > 0 else None, edwards, zones[-1] / 60)


def _own_avg_max_hr(workout: Workout, line: Line, pauses: Pauses, exercise_s: float,
                    knobs: Knobs) -> tuple[float | None, int | None]:
    """Average and highest HR from our samples alone, by the rules in ``knobs`` (see ``assess``)."""
    counts = knobs.hr_rests == "always" or (knobs.hr_rests == "live" and not workout.beats)
    rests = () if counts else workout.rests
    if knobs.hr_per_beat and workout.beats:
        stats = beat_stats(workout.beats, workout.start, workout.end, pauses, Pauses(rests))
        if stats is not None and stats[2] >= _MIN_COVERAGE * exercise_s:
            return stats[0], stats[1]
    counted = Pauses(list(workout.pauses) + list(rests)) if rests else pauses
    avg = hr_average(line.times, line.hrs, workout.start, workout.end, counted)
    return avg, line.hr_peak(workout.start, workout.end, counted)


def _avg_max_hr(workout: Workout, line: Line, pauses: Pauses, exercise_s: float,
                knobs: Knobs) -> tuple[float | None, int | None]:
    """The device's own figures where its session message has them (FIT profile: session
    ``avg_heart_rate`` / ``max_heart_rate``, "excludes pause time"), else ours."""
    avg, peak = _own_avg_max_hr(workout, line, pauses, exercise_s, knobs)
    d = workout.device
    return (d.avg_hr if d.avg_hr is not None else avg), (d.max_hr if d.max_hr is not None else peak)


def _power(workout: Workout, line: Line, knobs: Knobs, pauses: Pauses) -> tuple[float | None, float]:
    """(NP, seconds with power) over timer-running time."""
    segments = line.power_segments(workout.start, workout.end, pauses, knobs.power_hold_s)
    if not knobs.np_split_at_pauses:
        segments = [list(chain.from_iterable(segments))]
    return normalized_power(segments, knobs.np_window_s), float(sum(map(len, segments)))


def _tss(f: Facts, ftp: int | None, knobs: Knobs) -> tuple[float | None, float | None]:
    """(IF, TSS): TSS = 100 x hours x IF^2, hours per ``knobs.tss_time``."""
    if f.np is None or not ftp:
        return None, None
    if_ = f.np / ftp
    secs = {"np": max(f.power_s - knobs.np_window_s + 1, 0), "power": f.power_s, "timer": f.duration_s}[knobs.tss_time]
    return if_, 100 * secs / 3600 * if_ * if_


def _te_load(te: float, knobs: Knobs) -> float:
    pts = knobs.te_to_load
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if te <= x1:
            return y0 + (y1 - y0) * (te - x0) / (x1 - x0)
    return pts[-1][1]


def _per_hour(sport: str, knobs: Knobs) -> float:
    return knobs.sport_load_per_hour.get(sport, knobs.duration_load_per_hour)


def _pick_load(f: Facts, hr: _Hr | None, tss: float | None, profile: Profile,
               knobs: Knobs) -> tuple[float, str, tuple[tuple[str, float, str], ...]]:
    """TSS > HRSS (each only when it covers half the session) > device TSS / training effect > duration.

    Returns (load, load_source, the numbers behind it with their sources: see ``model.Reason``)."""
    src = dict(profile.sources)
    duration_s = f.duration_s
    if tss is not None and f.power_s >= _MIN_COVERAGE * duration_s:
        return tss, "tss", (("ftp", profile.ftp or 0, src.get("ftp", "file")),)
    if hr is not None and hr.hrss is not None and hr.seconds >= _MIN_COVERAGE * duration_s:
        return hr.hrss, "hrss", (("lthr", profile.lthr, src["lthr"]), ("max_hr", profile.max_hr, src["max_hr"]))
    if f.device_tss:
        return f.device_tss, "device", (("device_tss", f.device_tss, "file"),)
    if f.training_effect:
        return _te_load(f.training_effect, knobs), "device", (("training_effect", f.training_effect, "file"),)
    rate = _per_hour(f.sport, knobs)
    return duration_s / 3600 * rate, "duration", (("minutes", duration_s / 60, "timer"), ("per_hour", rate, "sport"))


def _level(load: float, minutes_above_90: float, knobs: Knobs) -> Level:
    if load >= knobs.hard_below or minutes_above_90 >= knobs.very_hard_minutes_above_90:
        return Level.VERY_HARD
    if load >= knobs.moderate_below:
        return Level.HARD
    return Level.MODERATE if load >= knobs.light_below else Level.LIGHT


def _profile_source(profile: Profile, load_source: str, used_hrr_rule: bool) -> str:
    """Least authoritative source among the profile values the load (and the 90 % HRR rule) used."""
    names = {"tss": {"ftp"}, "hrss": {"max_hr", "resting_hr", "lthr"}}.get(load_source, set())
    if used_hrr_rule:
        names |= {"max_hr", "resting_hr"}
    if not names:
        return "file" if load_source == "device" else "estimate"
    return max((src for name, src in profile.sources if name in names), key=_RANK.__getitem__)


def _reason(load: float, load_source: str, basis: tuple, used_rule: bool, above_90: float,
            profile: Profile) -> Reason:
    """The level's reason as data: the load and its basis, or the minutes near max that overrode it."""
    if not used_rule:
        return Reason("load", load, load_source, basis)
    near = (("max_hr", profile.max_hr, dict(profile.sources)["max_hr"]),
            ("resting_hr", profile.resting_hr, dict(profile.sources)["resting_hr"]))
    return Reason("near_max", load, load_source, basis + tuple(b for b in near if b not in basis), above_90)


def measure(workout: Workout, knobs: Knobs = Knobs(), line: Line | None = None) -> Facts:
    """Everything ``workout`` measured that no athlete value changes (the slow part: its records).

    ``avg_hr`` / ``max_hr`` are the device's own figures when its session message carries them
    (FIT profile, session fields 16 and 17: what the watch showed); else ours (``_own_avg_max_hr``):
    from a strap's stored beats (``workout.beats``) when they span half the exercise time, per beat
    and outside ``workout.rests`` (a pool swim's rests), per ``knobs.hr_per_beat`` /
    ``knobs.hr_rests``; else from the records (stored beats merged in by the FIT SDK's rule),
    every timer-running second once, linear between readings (``metrics.hr_average``); the peak is
    the highest timer-running reading. Zones, TRIMP and load use ``hr_seconds``: each sample held
    for its time, gaps capped (``knobs.max_gap_s``).
    """
    pauses = Pauses(workout.pauses)
    line = line if line is not None else Line(workout.records)
    every = exercise_weights(line.times, workout.start, workout.end, pauses, knobs.max_gap_s)
    duration = sum(every) or workout.duration_s
    np_, power_s = _power(workout, line, knobs, pauses)
    avg_hr, max_hr = _avg_max_hr(workout, line, pauses, duration, knobs)
    recovery = workout.hrr60
    if recovery is None:
        recovery = hrr60(line.readings_from(workout.end - HRR_PEAK_S), workout.end)
    return Facts(
        sport=workout.sport, duration_s=duration, elapsed_s=workout.elapsed_s or workout.end - workout.start,
        hr_seconds=_hr_seconds(workout, line, knobs, pauses, every), avg_hr=avg_hr, max_hr=max_hr,
        session_peak=session_max_hr(workout, line), np=np_, power_s=power_s, file_profile=workout.profile,
        file_ftp=file_ftp(workout), device_tss=workout.device.tss, training_effect=workout.device.training_effect,
        rmssd_ms=rmssd(workout.rr_ms, knobs.rr_min_ms, knobs.rr_max_ms, knobs.rr_max_change, knobs.rr_min_pairs),
        hrr60=recovery)


def judge(f: Facts, athlete: Athlete, knobs: Knobs = Knobs(), history_max_hr: int | None = None,
          this_year: int | None = None) -> Assessment:
    """A workout's load on the TSS scale, its level and the level's reason, from its ``Facts``.

    ``history_max_hr``: the highest HR of the workouts before this one (its as-of history).
    The ">= N min above 90 % HRR" rule only counts when HRmax is not merely this session's own
    peak (an estimate raised to it): otherwise any steady effort would sit "near max".
    ``profile_source`` is the least authoritative (config > file > estimate) source among the
    profile values the load used: FTP for "tss"; HRmax, resting HR and LTHR for "hrss"; plus
    HRmax and resting HR when the 90 % HRR rule made the level; "file" for a "device" load and
    "estimate" for a "duration" load.
    """
    profile = resolve(f.file_profile, f.session_peak, f.file_ftp, athlete, knobs, history_max_hr, this_year)
    k = knobs.k_female if athlete.sex == "female" else knobs.k_male
    hr = _hr_metrics(f.hr_seconds, profile, knobs, k)
    if_, tss = _tss(f, profile.ftp, knobs)
    load, load_source, basis = _pick_load(f, hr, tss, profile, knobs)
    above_90 = hr.above_90_min if hr else 0.0
    level = _level(load, 0.0 if profile.own_peak else above_90, knobs)
    used_rule = level is Level.VERY_HARD and load < knobs.hard_below
    return Assessment(
        duration_s=f.duration_s, elapsed_s=f.elapsed_s, avg_hr=f.avg_hr, max_hr=f.max_hr,
        zones_s=hr.zones if hr else (0.0,) * (len(knobs.zone_bounds_hrr) + 1),
        trimp=hr.trimp if hr else None, hrss=hr.hrss if hr else None, edwards=hr.edwards if hr else None,
        np=f.np, if_=if_, tss=tss, rmssd_ms=f.rmssd_ms, hrr60=f.hrr60, minutes_above_90_hrr=above_90,
        load=load, load_source=load_source, level=level, profile=profile,
        profile_source=_profile_source(profile, load_source, used_rule),
        reason=_reason(load, load_source, basis, used_rule, above_90, profile), facts=f)


def assess(workout: Workout, athlete: Athlete, knobs: Knobs = Knobs(), history_max_hr: int | None = None,
           this_year: int | None = None, line: Line | None = None) -> Assessment:
    """Every metric of ``workout``: ``judge(measure(workout))`` (see both; ``line``: its records' columns,
    shared with ``series.build``)."""
    return judge(measure(workout, knobs, line), athlete, knobs, history_max_hr, this_year)
