"""Every word a person reads about a workout: durations, levels, sports, "ago", the headline.

One home for wording (the core's metrics build no user text): cards, the status line, ``history``,
``import`` and the demo all call these. Pure: no clock; callers pass seconds.
"""

from __future__ import annotations

from cooldownd.core.model import Level, Reason

_SUB_WORDS = {"strength_training": "strength session", "indoor_cycling": "indoor ride",
              "virtual_activity": "virtual ride", "treadmill": "treadmill run", "trail": "trail run",
              "lap_swimming": "pool swim", "open_water": "open-water swim", "yoga": "yoga session",
              "hiit": "HIIT session", "cardio_training": "cardio session", "indoor_rowing": "row",
              "mountain": "mountain-bike ride", "elliptical": "elliptical session"}
_SPORT_WORDS = {"cycling": "ride", "running": "run", "swimming": "swim", "walking": "walk", "hiking": "hike",
                "rowing": "row", "e_biking": "e-bike ride", "cross_country_skiing": "ski",
                "alpine_skiing": "ski", "paddling": "paddle", "stand_up_paddleboarding": "paddle"}
_LEVEL_WORDS = {Level.LIGHT: "light", Level.MODERATE: "moderate", Level.HARD: "hard",
                Level.VERY_HARD: "very hard"}


def sport_word(sport: str, sub_sport: str = "generic") -> str:
    """Friendly noun for a FIT sport: "ride", "run", "strength session", else "workout"."""
    if sub_sport == "virtual_activity" and sport != "cycling":
        return _SPORT_WORDS.get(sport, "workout")
    return _SUB_WORDS.get(sub_sport) or _SPORT_WORDS.get(sport, "workout")


def format_duration(seconds: float) -> str:
    """ "45 s", "42 min", "1 h", "1 h 12 min"."""
    if seconds < 60:
        return f"{round(seconds)} s"
    h, m = divmod(round(seconds / 60), 60)
    if not h:
        return f"{m} min"
    return f"{h} h {m} min" if m else f"{h} h"


def level_word(level: Level | str) -> str:
    """ "very hard" for ``very_hard``: a level as a person says it (lower case)."""
    try:
        return _LEVEL_WORDS[Level(level)]
    except ValueError:
        return str(level).replace("_", " ")


def headline(level: Level | str, sport: str, sub_sport: str, duration_s: float, load: float | None) -> str:
    """One line for the offer card: "Hard ride: 1 h 12 min, load 112"."""
    text = f"{level_word(level).capitalize()} {sport_word(sport, sub_sport)}: {format_duration(duration_s)}"
    return text if load is None else f"{text}, load {round(load)}"


def ago(seconds: float) -> str:
    """ "5 min", "3 h", "12 days": how long ago, in the largest unit that reads naturally."""
    if seconds < 3600:
        return f"{max(0, round(seconds / 60))} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


_SOURCE_WORDS = {"config": "from your settings", "file": "from the file", "estimate": "estimated"}


def _load_words(reason: Reason) -> str:
    """ "load 112 from power, FTP 250 from your settings": where a load came from."""
    basis = {name: (value, source) for name, value, source in reason.basis}
    load = f"load {round(reason.load)}"
    if reason.load_source == "tss" and "ftp" in basis:
        ftp, src = basis["ftp"]
        return f"{load} from power, FTP {round(ftp)} {_SOURCE_WORDS.get(src, src)}"
    if reason.load_source == "hrss" and "lthr" in basis:
        lthr, src = basis["lthr"]
        return f"{load} from heart rate, threshold {round(lthr)} bpm {_SOURCE_WORDS.get(src, src)}"
    if "device_tss" in basis:
        return f"{load}: the device's own training stress score"
    if "training_effect" in basis:
        return f"{load} from the device's training effect {basis['training_effect'][0]:.1f}"
    if "minutes" in basis:
        minutes, per_hour = basis["minutes"][0], basis.get("per_hour", (0, ""))[0]
        return f"{load} from {format_duration(minutes * 60)} at {round(per_hour)} an hour (no power or heart rate)"
    return load


def reason_words(level: Level | str, reason: Reason | None) -> str:
    """Why a workout got its level, in words: "hard: load 112 from power, FTP 250 from your settings".

    A level above its load's bucket ("very hard" with load 34) always says why:
    "very hard: 14 min above 90 % of heart-rate reserve (max HR 185, estimated), though load 34 from ..."."""
    word = level_word(level)
    if reason is None:
        return word
    if reason.kind == "near_max":
        basis = {name: (value, source) for name, value, source in reason.basis}
        max_hr, src = basis.get("max_hr", (0, ""))
        return (f"{word}: {format_duration(reason.minutes_above_90 * 60)} above 90 % of heart-rate reserve "
                f"(max HR {round(max_hr)} {_SOURCE_WORDS.get(src, src)}), though {_load_words(reason)}")
    return f"{word}: {_load_words(reason)}"
