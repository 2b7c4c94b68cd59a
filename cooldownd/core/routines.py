"""The routine library (validated from plain data) and the choice of a routine for a workout.

Pure: takes the dict a TOML parser produced; reading the file is ``cooldownd.routinefile``'s job.
The format is documented at the top of ``config/routines.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cooldownd.core.model import Level, Routine, Step
from cooldownd.core.sport_groups import sport_group  # noqa: F401 - part of the choice API

GROUPS = ("cycling", "running", "strength", "any")
SIDES = ("left", "right", "both")
TITLE_MAX = 40
TEXT_MAX = 200
HOLD_RANGE = (5, 180)  # seconds; shorter is not a stretch, longer is not a cool-down
SCALE_RANGE = (0.5, 3.0)

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_TOP_KEYS = frozenset({"exercises", "routines", "hold_scale"})
_EXERCISE_KEYS = frozenset({"title", "text", "hold", "sides", "side_text", "image", "moves", "reps"})
REPS_RANGE = (1, 30)
IMAGE_PATH_MAX = 1024
_ENTRY_KEYS = frozenset({"exercise", "hold"})

class RoutineError(ValueError):
    """A routine library is invalid: ``key`` is where (``routines.cycling.hard[2]``), ``reason`` why."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class Exercise:
    """One exercise of the library, before it is expanded into steps."""

    name: str
    title: str
    text: str
    hold_s: int
    sides: tuple[str, ...] = ()
    side_text: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    image: str | None = None  # a picture file named by the routines file (checked by routinefile)
    moves: bool = False  # done slowly, not held (the cat, arm turns)
    reps: int | None = None  # how many times, for a movement

    def steps(self, hold_s: int) -> tuple[Step, ...]:
        """One step per side (or a single step without sides), each held ``hold_s`` seconds."""
        if not self.sides:
            return (Step(self.name, self.title, self.text, hold_s, None, self.moves, self.reps),)
        return tuple(
            Step(self.name, self.title, self.text_for(side), hold_s, side, self.moves, self.reps)
            for side in self.sides
        )

    def text_for(self, side: str) -> str:
        """The instruction for one side, with ``{side}`` filled in."""
        return self.side_text.get(side, self.text).replace("{side}", side)


@dataclass(frozen=True)
class Library:
    """A validated set of exercises and the expanded routine for every (group, level) it defines."""

    exercises: Mapping[str, Exercise]
    routines: Mapping[tuple[str, Level], tuple[Step, ...]]
    hold_scale: Mapping[Level, float]

    def routine(self, group: str, level: Level) -> Routine:
        """The routine of ``group`` at ``level``, or the ``any`` one when the group is not defined."""
        if (group, level) not in self.routines:
            group = "any"
        return Routine(f"{group}.{level.value}", level, group, self.routines[(group, level)])


def parse_library(data: Mapping[str, Any]) -> Library:
    """Validate a routines document (as parsed from TOML) into a Library; raises RoutineError."""
    _check_table(data, "", _TOP_KEYS)
    raw_exercises = _table(data, "exercises")
    if not raw_exercises:
        raise RoutineError("exercises", "no exercises defined; add at least one [exercises.NAME]")
    exercises = {
        name: _parse_exercise(name, value, f"exercises.{name}") for name, value in raw_exercises.items()
    }
    scale = _parse_scale(data.get("hold_scale", {}))
    raw_routines = _table(data, "routines")
    _check_table(raw_routines, "routines", frozenset(GROUPS))
    if "any" not in raw_routines:
        raise RoutineError("routines", 'missing group "any"; it is the fallback for every sport')
    routines: dict[tuple[str, Level], tuple[Step, ...]] = {}
    for group, levels in raw_routines.items():
        key = f"routines.{group}"
        _check_table(levels, key, frozenset(lv.value for lv in Level))
        for level in Level:
            if level.value not in levels:
                raise RoutineError(key, f'missing level "{level.value}"')
            entries = levels[level.value]
            routines[(group, level)] = _parse_entries(
                entries, f"{key}.{level.value}", exercises, scale.get(level, 1.0)
            )
    return Library(
        MappingProxyType(exercises), MappingProxyType(routines), MappingProxyType(scale)
    )


def choose(library: Library, level: Level, sport: str, sub_sport: str = "generic") -> Routine:
    """The routine for a workout of ``sport``/``sub_sport`` at ``level`` (falls back to ``any``)."""
    return library.routine(sport_group(sport, sub_sport), level)


def _check_table(value: Any, key: str, allowed: frozenset[str]) -> None:
    if not isinstance(value, Mapping):
        raise RoutineError(key or "(top)", f"expected a table, got {_kind(value)}")
    for name in value:
        if name not in allowed:
            shown = str(name) if str(name).isprintable() else repr(name)  # an error is one line
            where = f"{key}.{shown}" if key else shown
            raise RoutineError(where, f"unknown key; expected one of {', '.join(sorted(allowed))}")


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    if key not in data:
        raise RoutineError(key, f"missing table [{key}]")
    value = data[key]
    if not isinstance(value, Mapping):
        raise RoutineError(key, f"expected a table, got {_kind(value)}")
    return value


def _parse_exercise(name: str, value: Any, key: str) -> Exercise:
    if not _NAME.fullmatch(name):
        raise RoutineError(key, "bad name; use lower case letters, digits and _ (at most 40)")
    _check_table(value, key, _EXERCISE_KEYS)
    for required in ("title", "text", "hold"):
        if required not in value:
            raise RoutineError(key, f'missing "{required}"')
    sides = _sides(value.get("sides", []), f"{key}.sides")
    side_text = value.get("side_text", {})
    _check_table(side_text, f"{key}.side_text", frozenset(sides))
    exercise = Exercise(
        name,
        _string(value["title"], f"{key}.title", TITLE_MAX),
        _string(value["text"], f"{key}.text", None),
        _hold(value["hold"], f"{key}.hold"),
        sides,
        MappingProxyType({s: _string(t, f"{key}.side_text.{s}", None) for s, t in side_text.items()}),
        _string(value["image"], f"{key}.image", IMAGE_PATH_MAX) if "image" in value else None,
        *_movement(value, key),
    )
    # Lengths are checked on the text the user will read, with {side} filled in.
    if not sides and "{side}" in exercise.text:
        raise RoutineError(f"{key}.text", 'uses "{side}" but the exercise has no sides')
    for side in sides:
        where = f"{key}.side_text.{side}" if side in side_text else f"{key}.text"
        _string(exercise.text_for(side), where, TEXT_MAX)
    if not sides:
        _string(exercise.text, f"{key}.text", TEXT_MAX)
    return exercise


def _movement(value: Mapping[str, Any], key: str) -> tuple[bool, int | None]:
    """``moves`` (a boolean) and ``reps`` (whole times, only for a movement)."""
    moves = value.get("moves", "reps" in value)
    if not isinstance(moves, bool):
        raise RoutineError(f"{key}.moves", f"expected true or false, got {_kind(moves)}")
    if "reps" not in value:
        return moves, None
    reps, (lo, hi) = value["reps"], REPS_RANGE
    if not moves:
        raise RoutineError(f"{key}.reps", "only a movement has repetitions; drop reps or set moves = true")
    if isinstance(reps, bool) or not isinstance(reps, int) or not lo <= reps <= hi:
        raise RoutineError(f"{key}.reps", f"expected whole times from {lo} to {hi}, got {_kind(reps)}")
    return moves, reps


def _parse_scale(value: Any) -> dict[Level, float]:
    _check_table(value, "hold_scale", frozenset(lv.value for lv in Level))
    scale = {}
    for name, factor in value.items():
        lo, hi = SCALE_RANGE
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not lo <= factor <= hi:
            raise RoutineError(f"hold_scale.{name}", f"must be a number from {lo} to {hi}, got {factor!r}")
        scale[Level(name)] = float(factor)
    return scale


def _parse_entries(
    entries: Any, key: str, exercises: Mapping[str, Exercise], scale: float
) -> tuple[Step, ...]:
    if not isinstance(entries, list) or not entries:
        raise RoutineError(key, "expected a non-empty list of exercise names")
    steps: list[Step] = []
    for i, entry in enumerate(entries):
        where = f"{key}[{i}]"
        hold = None
        if isinstance(entry, Mapping):
            _check_table(entry, where, _ENTRY_KEYS)
            if "exercise" not in entry:
                raise RoutineError(where, 'missing "exercise"')
            if "hold" in entry:
                hold = _hold(entry["hold"], f"{where}.hold")
            entry = entry["exercise"]
        if not isinstance(entry, str):
            raise RoutineError(where, f"expected an exercise name, got {_kind(entry)}")
        if entry not in exercises:
            known = ", ".join(sorted(exercises))
            raise RoutineError(where, f'unknown exercise "{entry}"; known: {known}')
        exercise = exercises[entry]
        steps.extend(exercise.steps(round((hold or exercise.hold_s) * scale)))
    return tuple(steps)


def _string(value: Any, key: str, limit: int | None) -> str:
    if not isinstance(value, str):
        raise RoutineError(key, f"expected a string, got {_kind(value)}")
    if not value.strip():
        raise RoutineError(key, "must not be empty")
    if limit is not None and len(value) > limit:
        raise RoutineError(key, f"too long: {len(value)} characters, at most {limit}")
    return value


def _hold(value: Any, key: str) -> int:
    lo, hi = HOLD_RANGE
    if isinstance(value, bool) or not isinstance(value, int):
        raise RoutineError(key, f"expected whole seconds, got {_kind(value)}")
    if not lo <= value <= hi:
        raise RoutineError(key, f"{value} s is out of range; use {lo}-{hi} s")
    return value


def _sides(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise RoutineError(key, f"expected a list of sides, got {_kind(value)}")
    for side in value:
        if side not in SIDES:
            raise RoutineError(key, f"bad side {side!r}; use {', '.join(SIDES)}")
    if len(set(value)) != len(value):
        raise RoutineError(key, "a side is listed twice")
    return tuple(value)


def _kind(value: Any) -> str:
    """A TOML-ish name for a value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f'a string ("{value[:20]}")'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__
