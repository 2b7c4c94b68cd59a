"""Every word a person reads about a workout: durations, levels, sports, "ago", the headline.

One home for wording (the core's metrics build no user text): cards, the status line, ``history``,
``import`` and the demo all call these. Pure: no clock; callers pass seconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from cooldownd.core.model import Level, Reason

# A noun for every sport and sub-sport of the FIT SDK profile (cooldownd/fit/sdk_sports.py; checked by
# tests/core/test_wording.py). A sub-sport's word wins over its sport's; None: the sport's word.
_SPORT_WORDS = {
    "generic": "workout", "running": "run", "cycling": "ride", "transition": "transition",
    "fitness_equipment": "gym session", "swimming": "swim", "basketball": "basketball game", "soccer": "football game",
    "tennis": "tennis match", "american_football": "American football game", "training": "training session",
    "walking": "walk", "cross_country_skiing": "cross-country ski", "alpine_skiing": "ski day",
    "snowboarding": "snowboard session", "rowing": "row", "mountaineering": "climb", "hiking": "hike",
    "multisport": "multisport race", "paddling": "paddle", "flying": "flight", "e_biking": "e-bike ride",
    "motorcycling": "motorcycle ride", "boating": "boat trip", "driving": "drive", "golf": "round of golf",
    "hang_gliding": "hang-gliding flight", "horseback_riding": "horse ride", "hunting": "hunt", "fishing": "fishing trip",
    "inline_skating": "skate", "rock_climbing": "climbing session", "sailing": "sail", "ice_skating": "skate",
    "sky_diving": "skydive", "snowshoeing": "snowshoe hike", "snowmobiling": "snowmobile ride",
    "stand_up_paddleboarding": "paddle", "surfing": "surf", "wakeboarding": "wakeboard session",
    "water_skiing": "water-ski session", "kayaking": "kayak trip", "rafting": "rafting trip", "windsurfing": "windsurf",
    "kitesurfing": "kitesurf", "tactical": "tactical session", "jumpmaster": "jump", "boxing": "boxing session",
    "floor_climbing": "stair climb", "baseball": "baseball game", "diving": "dive", "shooting": "shooting session",
    "winter_sport": "winter-sport session", "grinding": "grinding session", "hiit": "HIIT session",
    "video_gaming": "gaming session", "racket": "racket game", "wheelchair_push_walk": "wheelchair push",
    "wheelchair_push_run": "wheelchair run", "meditation": "meditation", "para_sport": "para-sport session",
    "disc_golf": "disc-golf round", "team_sport": "team game", "cricket": "cricket match", "rugby": "rugby match",
    "hockey": "hockey game", "lacrosse": "lacrosse game", "volleyball": "volleyball game", "water_tubing": "tubing ride",
    "wakesurfing": "wakesurf", "water_sport": "water-sport session", "archery": "archery session",
    "mixed_martial_arts": "MMA session", "motor_sports": "motorsport session", "snorkeling": "snorkel",
    "dance": "dance session", "jump_rope": "jump-rope session", "pool_apnea": "apnea session",
    "mobility": "mobility session", "geocaching": "geocaching walk", "canoeing": "canoe trip", "all": "workout",
}
_SUB_WORDS = {
    "generic": None, "treadmill": "treadmill run", "street": None, "trail": "trail run", "track": "track run",
    "spin": "spin class", "indoor_cycling": "indoor ride", "road": None, "mountain": "mountain-bike ride",
    "downhill": "downhill ride", "recumbent": "recumbent ride", "cyclocross": "cyclocross ride",
    "hand_cycling": "handbike ride", "track_cycling": "track ride", "indoor_rowing": "indoor row",
    "elliptical": "elliptical session", "stair_climbing": "stair climb", "lap_swimming": "pool swim",
    "open_water": "open-water swim", "flexibility_training": "flexibility session",
    "strength_training": "strength session", "warm_up": "warm-up", "match": "match", "exercise": None,
    "challenge": "challenge", "indoor_skiing": "indoor ski", "cardio_training": "cardio session",
    "indoor_walking": "indoor walk", "e_bike_fitness": "e-bike ride", "bmx": "BMX ride", "casual_walking": "walk",
    "speed_walking": "speed walk", "bike_to_run_transition": "transition", "run_to_bike_transition": "transition",
    "swim_to_bike_transition": "transition", "atv": "ATV ride", "motocross": "motocross ride",
    "backcountry": "backcountry tour", "resort": None, "rc_drone": "drone flight", "wingsuit": "wingsuit flight",
    "whitewater": "whitewater trip", "skate_skiing": "skate ski", "yoga": "yoga session", "pilates": "Pilates session",
    "indoor_running": "indoor run", "gravel_cycling": "gravel ride", "e_bike_mountain": "e-MTB ride",
    "commuting": "commute", "mixed_surface": None, "navigate": None, "track_me": None, "map": None,
    "single_gas_diving": None, "multi_gas_diving": None, "gauge_diving": None, "apnea_diving": "apnea dive",
    "apnea_hunting": "spearfishing dive", "virtual_activity": None, "obstacle": "obstacle race",
    "breathing": "breathwork session", "ccr_diving": None, "sail_race": "sailing race", "expedition": "expedition",
    "ultra": "ultra run", "indoor_climbing": "indoor climb", "bouldering": "bouldering session", "hiit": "HIIT session",
    "indoor_grinding": "grinding session", "hunting_with_dogs": None, "amrap": "AMRAP session",
    "emom": "EMOM session", "tabata": "Tabata session", "esport": "e-sport session", "triathlon": "triathlon",
    "duathlon": "duathlon", "brick": "brick session", "swim_run": "swimrun", "adventure_race": "adventure race",
    "trucker_workout": "trucker workout", "pickleball": "pickleball game", "padel": "padel match",
    "indoor_wheelchair_walk": "indoor wheelchair push", "indoor_wheelchair_run": "indoor wheelchair run",
    "indoor_hand_cycling": "indoor handbike ride", "field": "field-hockey game", "ice": "ice-hockey game",
    "ultimate": "ultimate game", "platform": "platform-tennis match", "squash": "squash match",
    "badminton": "badminton match", "racquetball": "racquetball match", "table_tennis": "table-tennis match",
    "overland": "overland trip", "trolling_motor": None, "fly_canopy": None, "fly_paraglide": "paraglide",
    "fly_paramotor": "paramotor flight", "fly_pressurized": None, "fly_navigate": None, "fly_timer": None,
    "fly_altimeter": None, "fly_wx": None, "fly_vfr": None, "fly_ifr": None, "dynamic_apnea": "apnea session",
    "enduro": "enduro ride", "rucking": "ruck", "rally": "rally", "pool_triathlon": "triathlon",
    "e_bike_enduro": "e-enduro ride", "all": None,
}
_LEVEL_WORDS = {Level.LIGHT: "light", Level.MODERATE: "moderate", Level.HARD: "hard",
                Level.VERY_HARD: "very hard"}


def sport_word(sport: str, sub_sport: str = "generic") -> str:
    """Friendly noun for a FIT sport: "ride", "run", "strength session", else "workout"."""
    if sub_sport == "virtual_activity":
        return "virtual ride" if sport == "cycling" else _SPORT_WORDS.get(sport, "workout")
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


THOUGH = ", though "  # in a reason: the level is above what its load alone would give


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
                f"(max HR {round(max_hr)} {_SOURCE_WORDS.get(src, src)}){THOUGH}{_load_words(reason)}")
    return f"{word}: {_load_words(reason)}"


class Judged(Protocol):
    """What the words about a judged workout read: a ``record.summary.Summary`` has these."""

    sport: str
    sub_sport: str
    start: float
    load: float | None
    level: Level


def day_time(t: float) -> str:
    """ "2024-05-04 08:00": when a stored workout started, as ``history`` lists it (UTC)."""
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%d %H:%M")


def reassessed_line(workout_id: int, before: Judged, after: Judged) -> str:
    """ "reassessed #12 2024-05-04 08:00 ride: load 63.9 moderate -> load 80.3 hard": new numbers of a stored workout."""
    def part(s: Judged) -> str:
        return f"load {'-' if s.load is None else s.load} {level_word(s.level)}"

    return (f"reassessed #{workout_id} {day_time(after.start)} {sport_word(after.sport, after.sub_sport)}: "
            f"{part(before)} -> {part(after)}")


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


def workout_line(sport: str, sub_sport: str, duration_s: float | None, load: float | None,
                 reason: str | None = None) -> str:
    """ "45 min ride, load 85": the workout in a few words, for the offer.

    A level above its load (``reason`` says why, "though load 34") says why here too:
    "26 min run, 14 min above 90 % of heart-rate reserve, load 34"."""
    text = f"{format_duration(duration_s or 0)} {sport_word(sport, sub_sport)}"
    if reason and THOUGH in reason:
        text += ", " + reason.split(THOUGH)[0].split(": ", 1)[-1].split(" (")[0]
    return text if load is None else f"{text}, load {round(load)}"


def recovery(hrr60: int) -> str:
    """Heart-rate recovery in one phrase a person understands."""
    return (f"Your heart rate fell {hrr60} bpm in the first minute after you stopped "
            "(heart-rate recovery: the more, the fitter).")


# -- the cards of a cool-down: what a person on the mat reads at a glance --------------------------
SAFETY = "Go gently: a stretch should never hurt, and never force it."
SIDE_WORDS = {"left": "left side", "right": "right side", "both": "both sides"}


_GROUP_WORDS = {"cycling": "a ride", "running": "a run", "strength": "strength training", "any": "any workout"}


def routine_line(level: Level | str, group: str, n: int, total_s: float) -> str:
    """ "Very hard cool-down after a run: 10 stretches, about 6 min": a routine as ``routine --dry-run`` names it."""
    return f"{level_word(level).capitalize()} cool-down after {_GROUP_WORDS.get(group, group)}: {stretches(n, total_s)}"


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


def result_word(result: object) -> str:
    """ "snoozed out" for ``snoozed_out``: how a walk-through ended, in words (a coach Result or its value)."""
    return str(getattr(result, "value", result)).replace("_", " ")


def walkthrough(outcome: dict | None, offered: bool = False) -> str:
    """A stored walk-through in a few words: "completed, 3 min 10 s stretched", "snoozed out", "offered"."""
    if not outcome or not outcome.get("result"):
        return "offered" if offered or (outcome or {}).get("offered_at") else "-"
    text = result_word(outcome["result"])
    if outcome.get("stretched_s"):
        text += f", {format_span(outcome['stretched_s'])} stretched"
    return text
