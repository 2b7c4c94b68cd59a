"""How hard a workout was: athlete profile, HR and power metrics, one load scale, a level, a wording.

Formulas and sources: shared/docs/INTENSITY.md. Load is on the TSS scale (100 = an hour at threshold).
Zones are by heart-rate reserve (Karvonen), so they, TRIMP and the ">= 90 % HRR" rule share one axis:
Z1 < 60 %, Z2 60-70 %, Z3 70-80 %, Z4 80-90 %, Z5 >= 90 % HRR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

from cooldownd.core.metrics import (Pauses, beat_stats, exercise_weights, hr_average, normalized_power,
                                    hrr60, power_segments, rmssd)
from cooldownd.core.model import Assessment, Athlete, Level, Profile, Workout

_RANK = {"config": 0, "file": 1, "estimate": 2}
# A metric stands in for the session only when its samples cover this share of the exercise time
# (a power meter that died after 10 minutes must not make a 2 h ride "light").
_MIN_COVERAGE = 0.5


def _default_sport_rates() -> dict[str, float]:
    return {"running": 60.0, "cycling": 50.0, "swimming": 50.0, "walking": 25.0, "hiking": 40.0,
            "training": 40.0, "fitness_equipment": 45.0, "rowing": 55.0, "yoga": 20.0}


@dataclass(frozen=True)
class Knobs:
    """Tunable constants of the intensity model (config section ``[intensity]``)."""

    trimp_factor: float = 0.64
    light_below: float = 40.0
    moderate_below: float = 80.0
    hard_below: float = 150.0
    very_hard_minutes_above_90: float = 10.0
    resting_hr_default: int = 60
    lthr_fraction: float = 0.89
    # A sample holds until the next one for at most this long. 20 s is above the longest steps of
    # smart recording on steady efforts and below the 30-150 s a strap's BLE link drops for, and
    # HR barely moves in 20 s; a longer hole is unknown time, not exercise.
    max_gap_s: float = 20.0
    power_hold_s: float = 5.0  # head units hold the last power value this long (shared/fit README)
    np_window_s: int = 30
    k_male: float = 1.92
    k_female: float = 1.67  # unknown sex uses k_male, as GoldenCheetah does
    max_hr_fallback: int = 185  # no config, file, birth year or history: a population guess
    zone_bounds_hrr: tuple[float, ...] = (0.6, 0.7, 0.8, 0.9)
    rr_min_ms: float = 300.0
    rr_max_ms: float = 2000.0
    rr_max_change: float = 0.2
    rr_min_pairs: int = 30
    # Training effect (0-5) -> load: minor < 2 light, maintaining moderate, improving hard, >= 4 very hard.
    te_to_load: tuple[tuple[float, float], ...] = ((0, 0), (1, 15), (2, 40), (3, 80), (4, 150), (5, 250))
    duration_load_per_hour: float = 45.0
    sport_load_per_hour: dict[str, float] = field(default_factory=_default_sport_rates)


class _Hr(NamedTuple):
    seconds: float
    zones: tuple[float, ...]
    trimp: float | None
    hrss: float | None
    edwards: float | None
    above_90_min: float


def _session_max_hr(workout: Workout) -> int | None:
    seen = [r.hr for r in workout.records if r.hr and workout.start <= r.t <= workout.end]
    if workout.device.max_hr:
        seen.append(workout.device.max_hr)
    return max(seen, default=None)


def _max_hr_estimate(workout: Workout, athlete: Athlete, knobs: Knobs, history_max_hr: int | None,
                     this_year: int | None) -> tuple[int, bool]:
    """Tanaka (or the fallback) raised to history and session peaks; True when the session's own peak won."""
    base = [history_max_hr] if history_max_hr else []
    if athlete.birth_year and this_year:
        base.append(round(208 - 0.7 * (this_year - athlete.birth_year)))
    best = max(base) if base else knobs.max_hr_fallback
    own = _session_max_hr(workout) or 0
    return (own, True) if own > best else (best, False)


def _implied_ftp(workout: Workout) -> int | None:
    """The FTP the device used, from its own NP and IF, when it did not store threshold_power."""
    d = workout.device
    return round(d.np / d.if_) if d.np and d.if_ else None


def _pick(config: int | None, file: int | None, estimate: int) -> tuple[int, str]:
    if config:
        return config, "config"
    if file:
        return file, "file"
    return estimate, "estimate"


def resolve_profile(workout: Workout, athlete: Athlete, knobs: Knobs = Knobs(),
                    history_max_hr: int | None = None, this_year: int | None = None) -> Profile:
    """Athlete values by priority config > file > estimate, each with its source.

    Estimates: HRmax by Tanaka (208 - 0.7 age, needs ``this_year`` and a birth year, else
    ``knobs.max_hr_fallback``), raised to ``history_max_hr`` and to this session's peak when
    higher; resting HR ``knobs.resting_hr_default``; LTHR ``knobs.lthr_fraction`` x HRmax.
    A file HRmax below this session's peak is raised to it (a stale device setting); file values
    that contradict the others (rest >= max, LTHR outside (rest, max)) are ignored.
    FTP: config, else the session's ``threshold_power`` (the value the device used), else the
    file's zones FTP, else the FTP implied by the device's NP / IF, else None (no entry in ``sources``).
    """
    est_max, _ = _max_hr_estimate(workout, athlete, knobs, history_max_hr, this_year)
    # A file's HRmax below what the athlete just did is a stale device setting: raise it.
    file_max = max(workout.profile.max_hr, _session_max_hr(workout) or 0) if workout.profile.max_hr else None
    max_hr, max_src = _pick(athlete.max_hr, file_max, est_max)
    file_rest = workout.profile.resting_hr if (workout.profile.resting_hr or 0) < max_hr else None
    rest, rest_src = _pick(athlete.resting_hr, file_rest, knobs.resting_hr_default)
    file_lthr = workout.profile.lthr if rest < (workout.profile.lthr or 0) < max_hr else None
    lthr, lthr_src = _pick(athlete.lthr, file_lthr, round(knobs.lthr_fraction * max_hr))
    sources = [("max_hr", max_src), ("resting_hr", rest_src), ("lthr", lthr_src)]
    ftp, ftp_src = athlete.ftp, "config"
    if not ftp:
        ftp, ftp_src = workout.device.threshold_power or workout.profile.ftp or _implied_ftp(workout), "file"
    if ftp:
        sources.append(("ftp", ftp_src))
    return Profile(max_hr=max_hr, resting_hr=rest, lthr=lthr, ftp=ftp or None, sources=tuple(sources))


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


def _avg_max_hr(workout: Workout, pauses: Pauses, exercise_s: float) -> tuple[float | None, int | None]:
    """Average and highest HR the way the recording device reports them (see ``assess``)."""
    stats = beat_stats(workout.beats, workout.start, workout.end, pauses, Pauses(workout.rests))
    if stats is not None and stats[2] >= _MIN_COVERAGE * exercise_s:
        avg, peak = stats[0], stats[1]
    else:
        recs = workout.records
        avg = hr_average([r.t for r in recs], [r.hr for r in recs], workout.start, workout.end, pauses)
        peak = max((r.hr for r in recs if r.hr and workout.start <= r.t <= workout.end
                    and pauses.running(r.t, r.t + 1e-3) > 0), default=None)
    if avg is not None and workout.device.max_hr:
        peak = max(peak or 0, workout.device.max_hr)
    return avg, peak


def _power_metrics(workout: Workout, ftp: int | None, knobs: Knobs,
                   pauses: Pauses) -> tuple[float | None, float | None, float | None, float]:
    """(NP, IF, TSS, seconds with power); TSS = 100 x hours x IF^2 in NP's time base."""
    recs = workout.records
    segments = power_segments([r.t for r in recs], [r.power for r in recs], workout.start, workout.end,
                              pauses, knobs.power_hold_s)
    np_ = normalized_power(segments, knobs.np_window_s)
    seconds = sum(map(len, segments))
    if np_ is None or not ftp:
        return np_, None, None, seconds
    if_ = np_ / ftp
    # Devices count one 30 s window less than the timer-running seconds (checked on 18 files).
    hours = max(seconds - knobs.np_window_s + 1, 0) / 3600
    return np_, if_, 100 * hours * if_ * if_, seconds


def _te_load(te: float, knobs: Knobs) -> float:
    pts = knobs.te_to_load
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if te <= x1:
            return y0 + (y1 - y0) * (te - x0) / (x1 - x0)
    return pts[-1][1]


def _duration_load(sport: str, seconds: float, knobs: Knobs) -> float:
    return seconds / 3600 * knobs.sport_load_per_hour.get(sport, knobs.duration_load_per_hour)


def _pick_load(workout: Workout, hr: _Hr | None, tss: float | None, power_s: float, duration_s: float,
               knobs: Knobs) -> tuple[float, str]:
    """TSS > HRSS (each only when it covers half the session) > device TSS / training effect > duration."""
    if tss is not None and power_s >= _MIN_COVERAGE * duration_s:
        return tss, "tss"
    if hr is not None and hr.hrss is not None and hr.seconds >= _MIN_COVERAGE * duration_s:
        return hr.hrss, "hrss"
    if workout.device.tss:
        return workout.device.tss, "device"
    if workout.device.training_effect:
        return _te_load(workout.device.training_effect, knobs), "device"
    return _duration_load(workout.sport, duration_s, knobs), "duration"


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


def assess(workout: Workout, athlete: Athlete, knobs: Knobs = Knobs(), history_max_hr: int | None = None,
           this_year: int | None = None) -> Assessment:
    """Every metric of ``workout``, its load on the TSS scale and its level.

    The ">= N min above 90 % HRR" rule only counts when HRmax is not merely this session's own
    peak (an estimate raised to it): otherwise any steady effort would sit "near max".
    ``profile_source`` is the least authoritative (config > file > estimate) source among the
    profile values the load used: FTP for "tss"; HRmax, resting HR and LTHR for "hrss"; plus
    HRmax and resting HR when the 90 % HRR rule made the level; "file" for a "device" load and
    "estimate" for a "duration" load.

    ``avg_hr`` / ``max_hr`` are the numbers the recording device shows (checked against 80 device
    sessions, all within 1 bpm but three explained in tests/imports/test_corpus_import.py). ``avg_hr`` is
    always ours: from a strap's stored beats (``workout.beats``) when they span half the exercise
    time, per beat and outside ``workout.rests`` (a pool swim's rests); else from the records,
    every timer-running second once, linear between readings (``metrics.hr_average``).
    ``max_hr`` is our highest reading, raised to the device's own ``max_hr`` when the file has
    one: the device saw every second, smart recording stores a subset, so a peak between two
    records only survives in the device's number. Zones, TRIMP and load stay per sample with
    gaps capped (``knobs.max_gap_s``).
    """
    profile = resolve_profile(workout, athlete, knobs, history_max_hr, this_year)
    pauses = Pauses(workout.pauses)
    k = knobs.k_female if athlete.sex == "female" else knobs.k_male
    hr = _hr_metrics(workout, profile, knobs, k, pauses)
    np_, if_, tss, power_s = _power_metrics(workout, profile.ftp, knobs, pauses)
    times = [r.t for r in workout.records]
    duration = sum(exercise_weights(times, workout.start, workout.end, pauses, knobs.max_gap_s))
    duration = duration or workout.duration_s
    avg_hr, max_hr = _avg_max_hr(workout, pauses, duration)
    load, load_source = _pick_load(workout, hr, tss, power_s, duration, knobs)
    own_peak = _max_hr_estimate(workout, athlete, knobs, history_max_hr, this_year)[1]
    trusted_max = dict(profile.sources)["max_hr"] != "estimate" or not own_peak
    above_90 = hr.above_90_min if hr else 0.0
    level = _level(load, above_90 if trusted_max else 0.0, knobs)
    used_rule = level is Level.VERY_HARD and load < knobs.hard_below
    recovery = workout.hrr60
    if recovery is None:
        recovery = hrr60(((r.t, r.hr) for r in workout.records), workout.end)
    return Assessment(
        duration_s=duration, elapsed_s=workout.elapsed_s or workout.end - workout.start,
        avg_hr=avg_hr, max_hr=max_hr,
        zones_s=hr.zones if hr else (0.0,) * (len(knobs.zone_bounds_hrr) + 1),
        trimp=hr.trimp if hr else None, hrss=hr.hrss if hr else None, edwards=hr.edwards if hr else None,
        np=np_, if_=if_, tss=tss,
        rmssd_ms=rmssd(workout.rr_ms, knobs.rr_min_ms, knobs.rr_max_ms, knobs.rr_max_change, knobs.rr_min_pairs),
        hrr60=recovery, minutes_above_90_hrr=above_90, load=load, load_source=load_source, level=level,
        profile=profile, profile_source=_profile_source(profile, load_source, used_rule))
