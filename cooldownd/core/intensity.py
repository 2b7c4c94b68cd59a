"""How hard a workout was: athlete profile, HR and power metrics, one load scale, a level, a wording.

Formulas and sources: shared/docs/INTENSITY.md. Load is on the TSS scale (100 = an hour at threshold).
Zones are by heart-rate reserve (Karvonen), so they, TRIMP and the ">= 90 % HRR" rule share one axis:
Z1 < 60 %, Z2 60-70 %, Z3 70-80 %, Z4 80-90 %, Z5 >= 90 % HRR.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from cooldownd.core.knobs import Knobs
from cooldownd.core.metrics import (Pauses, beat_stats, exercise_weights, hr_average, normalized_power,
                                    power_segments, recovery_60s, rmssd)
from cooldownd.core.model import Assessment, Athlete, Level, Profile, Reason, Workout
from cooldownd.core.profile import resolve_profile

__all__ = ["Knobs", "assess", "resolve_profile"]

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


def _hr_metrics(workout: Workout, profile: Profile, knobs: Knobs, k: float, pauses: Pauses) -> _Hr | None:
    samples = [(r.t, r.hr) for r in workout.records if r.hr]
    if not samples:
        return None
    times = [t for t, _ in samples]
    weights = exercise_weights(times, workout.start, workout.end, pauses, knobs.max_gap_s)
    secs = sum(weights)
    if secs <= 0:
        return None
    reserve = max(profile.max_hr - profile.resting_hr, 1)
    zones = [0.0] * (len(knobs.zone_bounds_hrr) + 1)
    trimp = edwards = 0.0
    for (_, hr), w in zip(samples, weights):
        x = min(max((hr - profile.resting_hr) / reserve, 0.0), 1.0)
        zones[sum(x >= b for b in knobs.zone_bounds_hrr)] += w
        trimp += w / 60 * x * knobs.trimp_factor * math.exp(k * x)
        edwards += w / 60 * min(max(hr * 10 // profile.max_hr - 4, 0), 5)  # 50-60 % -> 1 ... >= 90 % -> 5
    x_lt = (profile.lthr - profile.resting_hr) / reserve
    hour_at_lt = 60 * x_lt * knobs.trimp_factor * math.exp(k * x_lt)
    return _Hr(secs, tuple(zones), trimp,
               100 * trimp / hour_at_lt if hour_at_lt > 0 else None, edwards, zones[-1] / 60)


def _own_avg_max_hr(workout: Workout, pauses: Pauses, exercise_s: float,
                    knobs: Knobs) -> tuple[float | None, int | None]:
    """Average and highest HR from our samples alone, by the rules in ``knobs`` (see ``assess``)."""
    counts = knobs.hr_rests == "always" or (knobs.hr_rests == "live" and not workout.beats)
    rests = () if counts else workout.rests
    if knobs.hr_per_beat and workout.beats:
        stats = beat_stats(workout.beats, workout.start, workout.end, pauses, Pauses(rests))
        if stats is not None and stats[2] >= _MIN_COVERAGE * exercise_s:
            return stats[0], stats[1]
    counted = Pauses(list(workout.pauses) + list(rests)) if rests else pauses
    recs = workout.records
    avg = hr_average([r.t for r in recs], [r.hr for r in recs], workout.start, workout.end, counted)
    peak = max((r.hr for r in recs if r.hr and workout.start <= r.t <= workout.end
                and counted.running(r.t, r.t + 1e-3) > 0), default=None)
    return avg, peak


def _avg_max_hr(workout: Workout, pauses: Pauses, exercise_s: float,
                knobs: Knobs) -> tuple[float | None, int | None]:
    """The device's own figures where its session message has them (FIT profile: session
    ``avg_heart_rate`` / ``max_heart_rate``, "excludes pause time"), else ours."""
    avg, peak = _own_avg_max_hr(workout, pauses, exercise_s, knobs)
    d = workout.device
    return (d.avg_hr if d.avg_hr is not None else avg), (d.max_hr if d.max_hr is not None else peak)


def _power_metrics(workout: Workout, ftp: int | None, knobs: Knobs, pauses: Pauses,
                   exercise_s: float) -> tuple[float | None, float | None, float | None, float]:
    """(NP, IF, TSS, seconds with power); TSS = 100 x hours x IF^2, hours per ``knobs.tss_time``."""
    recs = workout.records
    segments = power_segments([r.t for r in recs], [r.power for r in recs], workout.start, workout.end,
                              pauses, knobs.power_hold_s)
    if not knobs.np_split_at_pauses:
        segments = [[w for seg in segments for w in seg]]
    np_ = normalized_power(segments, knobs.np_window_s)
    seconds = sum(map(len, segments))
    if np_ is None or not ftp:
        return np_, None, None, seconds
    if_ = np_ / ftp
    secs = {"np": max(seconds - knobs.np_window_s + 1, 0), "power": seconds, "timer": exercise_s}[knobs.tss_time]
    return np_, if_, 100 * secs / 3600 * if_ * if_, seconds


def _te_load(te: float, knobs: Knobs) -> float:
    pts = knobs.te_to_load
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if te <= x1:
            return y0 + (y1 - y0) * (te - x0) / (x1 - x0)
    return pts[-1][1]


def _per_hour(sport: str, knobs: Knobs) -> float:
    return knobs.sport_load_per_hour.get(sport, knobs.duration_load_per_hour)


def _pick_load(workout: Workout, hr: _Hr | None, tss: float | None, power_s: float, duration_s: float,
               profile: Profile, knobs: Knobs) -> tuple[float, str, tuple[tuple[str, float, str], ...]]:
    """TSS > HRSS (each only when it covers half the session) > device TSS / training effect > duration.

    Returns (load, load_source, the numbers behind it with their sources: see ``model.Reason``)."""
    src = dict(profile.sources)
    if tss is not None and power_s >= _MIN_COVERAGE * duration_s:
        return tss, "tss", (("ftp", profile.ftp or 0, src.get("ftp", "file")),)
    if hr is not None and hr.hrss is not None and hr.seconds >= _MIN_COVERAGE * duration_s:
        return hr.hrss, "hrss", (("lthr", profile.lthr, src["lthr"]), ("max_hr", profile.max_hr, src["max_hr"]))
    d = workout.device
    if d.tss:
        return d.tss, "device", (("device_tss", d.tss, "file"),)
    if d.training_effect:
        return _te_load(d.training_effect, knobs), "device", (("training_effect", d.training_effect, "file"),)
    rate = _per_hour(workout.sport, knobs)
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


def assess(workout: Workout, athlete: Athlete, knobs: Knobs = Knobs(), history_max_hr: int | None = None,
           this_year: int | None = None, profile: Profile | None = None) -> Assessment:
    """Every metric of ``workout``, its load on the TSS scale, its level and the level's reason.

    ``profile``: the athlete values to use (the caller's as-of profile); else ``resolve_profile``.
    The ">= N min above 90 % HRR" rule only counts when HRmax is not merely this session's own
    peak (an estimate raised to it): otherwise any steady effort would sit "near max".
    ``profile_source`` is the least authoritative (config > file > estimate) source among the
    profile values the load used: FTP for "tss"; HRmax, resting HR and LTHR for "hrss"; plus
    HRmax and resting HR when the 90 % HRR rule made the level; "file" for a "device" load and
    "estimate" for a "duration" load.

    ``avg_hr`` / ``max_hr`` are the device's own figures when its session message carries them
    (FIT profile, session fields 16 and 17: what the watch showed); else ours (``_own_avg_max_hr``):
    from a strap's stored beats (``workout.beats``) when they span half the exercise time, per beat
    and outside ``workout.rests`` (a pool swim's rests), per ``knobs.hr_per_beat`` /
    ``knobs.hr_rests``; else from the records (stored beats merged in by the FIT SDK's rule),
    every timer-running second once, linear between readings (``metrics.hr_average``); the peak is
    the highest timer-running reading. Zones, TRIMP and load stay per sample with gaps capped
    (``knobs.max_gap_s``).
    """
    if profile is None:
        profile = resolve_profile(workout, athlete, knobs, history_max_hr, this_year)
    pauses = Pauses(workout.pauses)
    k = knobs.k_female if athlete.sex == "female" else knobs.k_male
    hr = _hr_metrics(workout, profile, knobs, k, pauses)
    times = [r.t for r in workout.records]
    duration = sum(exercise_weights(times, workout.start, workout.end, pauses, knobs.max_gap_s))
    duration = duration or workout.duration_s
    np_, if_, tss, power_s = _power_metrics(workout, profile.ftp, knobs, pauses, duration)
    avg_hr, max_hr = _avg_max_hr(workout, pauses, duration, knobs)
    load, load_source, basis = _pick_load(workout, hr, tss, power_s, duration, profile, knobs)
    above_90 = hr.above_90_min if hr else 0.0
    level = _level(load, 0.0 if profile.own_peak else above_90, knobs)
    used_rule = level is Level.VERY_HARD and load < knobs.hard_below
    hrr60 = workout.hrr60
    if hrr60 is None:
        hr_recs = [r for r in workout.records if r.hr]
        hrr60 = recovery_60s([r.t for r in hr_recs], [r.hr for r in hr_recs], workout.end)
    return Assessment(
        duration_s=duration, elapsed_s=workout.elapsed_s or workout.end - workout.start,
        avg_hr=avg_hr, max_hr=max_hr,
        zones_s=hr.zones if hr else (0.0,) * (len(knobs.zone_bounds_hrr) + 1),
        trimp=hr.trimp if hr else None, hrss=hr.hrss if hr else None, edwards=hr.edwards if hr else None,
        np=np_, if_=if_, tss=tss,
        rmssd_ms=rmssd(workout.rr_ms, knobs.rr_min_ms, knobs.rr_max_ms, knobs.rr_max_change, knobs.rr_min_pairs),
        hrr60=hrr60, minutes_above_90_hrr=above_90, load=load, load_source=load_source, level=level,
        profile=profile, profile_source=_profile_source(profile, load_source, used_rule),
        reason=_reason(load, load_source, basis, used_rule, above_90, profile))
