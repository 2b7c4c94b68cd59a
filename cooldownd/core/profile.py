"""The athlete profile a workout is assessed with: each value by priority config > file > estimate.

Sources: shared/docs/INTENSITY.md ("Athlete profile"). The estimates use only what cannot change
with import order: the workout itself, the birth year, and ``history_max_hr``, the highest HR of
the workouts that started before this one (the caller's as-of history, record/asof.py).
"""

from __future__ import annotations

from cooldownd.core.knobs import Knobs
from cooldownd.core.line import Line
from cooldownd.core.model import Athlete, FileProfile, Profile, Workout


def session_max_hr(workout: Workout, line: Line | None = None) -> int | None:
    """The highest heart rate of this session: its records' and the device's own figure
    (``line``: the records' columns, when the caller has them)."""
    peak = (line or Line(workout.records)).hr_peak(workout.start, workout.end)
    seen = [x for x in (peak, workout.device.max_hr) if x]
    return max(seen, default=None)


def file_ftp(workout: Workout) -> int | None:
    """The FTP the file carries: session threshold_power (what the device used), else the zones FTP,
    else the one implied by the device's own NP / IF."""
    d = workout.device
    return d.threshold_power or workout.profile.ftp or (round(d.np / d.if_) if d.np and d.if_ else None)


def max_hr_estimate(peak: int | None, athlete: Athlete, knobs: Knobs, history_max_hr: int | None,
                    this_year: int | None) -> tuple[int, bool]:
    """Tanaka (or the fallback) raised to history and session peaks; True when the session's own peak won."""
    base = [history_max_hr] if history_max_hr else []
    if athlete.birth_year and this_year:
        base.append(round(208 - 0.7 * (this_year - athlete.birth_year)))
    best = max(base) if base else knobs.max_hr_fallback
    own = peak or 0
    return (own, True) if own > best else (best, False)


def _pick(config: int | None, file: int | None, estimate: int) -> tuple[int, str]:
    if config:
        return config, "config"
    if file:
        return file, "file"
    return estimate, "estimate"


def resolve(file: FileProfile, peak: int | None, ftp_in_file: int | None, athlete: Athlete, knobs: Knobs = Knobs(),
            history_max_hr: int | None = None, this_year: int | None = None) -> Profile:
    """Athlete values by priority config > file > estimate, each with its source.

    Estimates: HRmax by Tanaka (208 - 0.7 age, needs ``this_year`` and a birth year, else
    ``knobs.max_hr_fallback``), raised to ``history_max_hr`` and to this session's ``peak`` when
    higher; resting HR ``knobs.resting_hr_default``; LTHR ``knobs.lthr_fraction`` x HRmax.
    A file HRmax below this session's peak is raised to it (a stale device setting); file values
    that contradict the others (rest >= max, LTHR outside (rest, max)) are ignored.
    FTP: config, else ``ftp_in_file`` (``file_ftp``), else None (no entry in ``sources``).
    """
    est_max, own_peak = max_hr_estimate(peak, athlete, knobs, history_max_hr, this_year)
    # A file's HRmax below what the athlete just did is a stale device setting: raise it.
    file_max = max(file.max_hr, peak or 0) if file.max_hr else None
    max_hr, max_src = _pick(athlete.max_hr, file_max, est_max)
    file_rest = file.resting_hr if (file.resting_hr or 0) < max_hr else None
    rest, rest_src = _pick(athlete.resting_hr, file_rest, knobs.resting_hr_default)
    file_lthr = file.lthr if rest < (file.lthr or 0) < max_hr else None
    lthr, lthr_src = _pick(athlete.lthr, file_lthr, round(knobs.lthr_fraction * max_hr))
    sources = [("max_hr", max_src), ("resting_hr", rest_src), ("lthr", lthr_src)]
    ftp, ftp_src = (athlete.ftp, "config") if athlete.ftp else (ftp_in_file, "file")
    if ftp:
        sources.append(("ftp", ftp_src))
    return Profile(max_hr=max_hr, resting_hr=rest, lthr=lthr, ftp=ftp or None, sources=tuple(sources),
                   own_peak=own_peak and max_src == "estimate")


def resolve_profile(workout: Workout, athlete: Athlete, knobs: Knobs = Knobs(),
                    history_max_hr: int | None = None, this_year: int | None = None) -> Profile:
    """``resolve`` for a whole workout."""
    return resolve(workout.profile, session_max_hr(workout), file_ftp(workout), athlete, knobs, history_max_hr,
                   this_year)
