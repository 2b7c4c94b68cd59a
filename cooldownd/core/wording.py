"""Every word a person reads about a workout: durations, levels, sports, "ago", the headline.

One home for wording (the core's metrics build no user text): cards, the status line, ``history``,
``import`` and the demo all call these. Pure: no clock; callers pass seconds.
"""

from __future__ import annotations

from cooldownd.core.model import Level

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


def format_span(seconds: float) -> str:
    """ "40 s", "3 min 10 s", "1 h 2 min": a measured time, to the second under an hour."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        m, s = divmod(s, 60)
        return f"{m} min {s} s" if s else f"{m} min"
    return format_duration(s)


def offer_title(level: Level | str, sport: str, sub_sport: str = "generic") -> str:
    """ "Cool-down after your hard ride"."""
    return f"Cool-down after your {level_word(level)} {sport_word(sport, sub_sport)}"


def workout_line(sport: str, sub_sport: str, duration_s: float | None, load: float | None) -> str:
    """ "45 min ride, load 85": the workout in a few words, for the offer."""
    text = f"{format_duration(duration_s or 0)} {sport_word(sport, sub_sport)}"
    return text if load is None else f"{text}, load {round(load)}"


def recovery(hrr60: int) -> str:
    """Heart-rate recovery in one phrase a person understands."""
    return (f"Your heart rate fell {hrr60} bpm in the first minute after you stopped "
            "(heart-rate recovery: the more, the fitter).")


# -- the cards of a cool-down: what a person on the mat reads at a glance --------------------------
SAFETY = "Go gently: a stretch should never hurt, and never force it."
SIDE_WORDS = {"left": "left side", "right": "right side", "both": "both sides"}


def stretches(n: int, total_s: float) -> str:
    """ "6 stretches, about 4 min"."""
    return f"{n} stretch{'es' if n != 1 else ''}, about {format_duration(max(60, total_s))}"


def how_long(hold_s: int, moves: bool, reps: int | None) -> str:
    """What to do for how long: "Hold 30 s", "Slowly, 5 times", "Slowly, for 40 s"."""
    if reps:
        return f"Slowly, {reps} times"
    return f"Slowly, for {hold_s} s" if moves else f"Hold {hold_s} s"


def spoken_step(title: str, side: str | None, hold_s: int, moves: bool, reps: int | None) -> str:
    """What the voice says as a step starts: "Knees to chest, left side. Hold for 20 seconds."."""
    about = f"{title}, {SIDE_WORDS[side]}" if side in SIDE_WORDS else title
    if reps:
        return f"{about}. Slowly, {reps} times."
    return f"{about}. {'Slowly, for' if moves else 'Hold for'} {hold_s} seconds."


def time_left(seconds: float) -> str:
    """ "15 s left"."""
    return f"{max(0, round(seconds))} s left"


def up_next(title: str | None, side: str | None = None) -> str:
    """ "Next: Child's pose", or "Last one." at the end."""
    if title is None:
        return "Last one."
    return f"Next: {title}" + (f", {SIDE_WORDS[side]}" if side in SIDE_WORDS else "") + "."


def done_line(stretched_s: float, held: int, total: int) -> str:
    """ "3 min 10 s of stretching, 6 of 6 stretches held through"."""
    return f"{format_span(stretched_s)} of stretching, {held} of {total} stretches held through."


# How to steer a walk-through where the server draws no buttons (said on the offer and the first step).
HINT_AUTO = "It goes on by itself; to steer it: cooldownd next / later / stop."
HINT_DUNST = "Middle-click goes on; closing asks again later. Or: cooldownd start / next / later / stop."
HINT_MAKO = "makoctl menu goes on. Or: cooldownd start / next / later / stop."


def walkthrough(outcome: dict | None, offered: bool = False) -> str:
    """A stored walk-through in a few words: "completed, 3 min 10 s stretched", "snoozed out", "offered"."""
    if not outcome or not outcome.get("result"):
        return "offered" if offered or (outcome or {}).get("offered_at") else "-"
    text = str(outcome["result"]).replace("_", " ")
    if outcome.get("stretched_s"):
        text += f", {format_span(outcome['stretched_s'])} stretched"
    return text
