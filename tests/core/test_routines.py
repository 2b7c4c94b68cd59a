"""Routine library: the packaged file, validation of broken libraries, and the choice per sport."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cooldownd.core.model import Level
from cooldownd.core.routines import (
    GROUPS,
    HOLD_RANGE,
    TEXT_MAX,
    TITLE_MAX,
    RoutineError,
    choose,
    parse_library,
    sport_group,
)
from cooldownd.errors import ConfigError
from cooldownd.routinefile import load_library

REPO = Path(__file__).resolve().parents[2]
PACKAGED = REPO / "config" / "routines.toml"


@pytest.fixture(scope="module")
def raw() -> dict:
    return tomllib.loads(PACKAGED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def library():
    return load_library(None)


def test_packaged_file_is_the_repo_file(library, raw):
    # The installed resource and config/ must be the same document (one source of truth).
    assert library == parse_library(raw)
    assert set(library.exercises) == {
        "knees_to_chest", "cat", "child_pose", "lumbar_press", "trapezius", "turns",
    }


def test_packaged_sides_follow_the_document(library):
    steps = library.exercises["knees_to_chest"].steps(20)
    assert [s.side for s in steps] == ["left", "right", "both"]
    assert "left knee" in steps[0].text and "right knee" in steps[1].text
    assert "both knees" in steps[2].text
    assert library.exercises["trapezius"].sides == ("left", "right")
    assert set(library.exercises["turns"].sides) == {"left", "right"}
    assert library.exercises["cat"].sides == ()


@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("level", list(Level))
def test_every_group_and_level_has_a_valid_routine(library, raw, group, level):
    routine = library.routine(group, level)
    assert routine.group == group and routine.level is level
    assert routine.name == f"{group}.{level.value}"
    assert routine.steps
    scale = raw.get("hold_scale", {}).get(level.value, 1.0)
    for step in routine.steps:
        assert 0 < len(step.title) <= TITLE_MAX
        assert 0 < len(step.text) <= TEXT_MAX and "{side}" not in step.text
        base = library.exercises[step.exercise].hold_s
        assert step.hold_s == round(base * scale)
    expected = sum(len(library.exercises[n].sides) or 1 for n in raw["routines"][group][level.value])
    assert len(routine.steps) == expected


def test_very_hard_is_longest(library):
    for group in GROUPS:
        totals = [library.routine(group, lv).total_s for lv in Level]
        assert totals[-1] == max(totals), group


def test_entry_hold_override_and_scale(raw):
    data = copy.deepcopy(raw)
    data["routines"]["any"]["hard"] = [{"exercise": "cat", "hold": 50}, "child_pose"]
    data["hold_scale"] = {"hard": 2.0}
    steps = parse_library(data).routine("any", Level.HARD).steps
    assert [(s.exercise, s.hold_s) for s in steps] == [
        ("cat", 100), ("child_pose", 2 * raw["exercises"]["child_pose"]["hold"]),
    ]


def test_missing_group_falls_back_to_any(raw):
    data = copy.deepcopy(raw)
    del data["routines"]["cycling"]
    library = parse_library(data)
    routine = choose(library, Level.HARD, "cycling")
    assert routine.group == "any"
    assert routine.steps == library.routine("any", Level.HARD).steps


def _set(path: str, value):
    """A mutation of the packaged document: set the dotted ``path`` (None value = delete)."""

    def mutate(data: dict) -> None:
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is None:
            del node[last]
        else:
            node[last] = value

    return mutate


LONG = "x" * (TEXT_MAX + 1)
BROKEN = [
    # (mutation, key expected at the start of the message, words in the reason)
    (_set("routines.cycling.hard.2", "cobra"), 'routines.cycling.hard[2]: unknown exercise "cobra"', "known"),
    (_set("colour", "blue"), "colour: unknown key", "exercises"),
    (_set("exercises", None), "exercises: missing table", "[exercises]"),
    (_set("exercises", {}), "exercises: no exercises", "add"),
    (_set("routines.any", None), "routines: missing group", "any"),
    (_set("routines.swimming", {}), "routines.swimming: unknown key", "cycling"),
    (_set("routines.running.very_hard", None), "routines.running: missing level", "very_hard"),
    (_set("routines.running.extreme", ["cat"]), "routines.running.extreme: unknown key", "light"),
    (_set("routines.strength.light", []), "routines.strength.light: expected a non-empty list", ""),
    (_set("routines.strength.light", "cat"), "routines.strength.light: expected a non-empty list", ""),
    (_set("routines.any.hard.0", 3), "routines.any.hard[0]: expected an exercise name", "number"),
    (_set("routines.any.hard.0", {"exercise": "cat", "hold": 2}), "routines.any.hard[0].hold:", "5-180"),
    (_set("routines.any.hard.0", {"hold": 20}), "routines.any.hard[0]: missing", "exercise"),
    (_set("routines.any.hard.0", {"exercise": "cat", "reps": 3}), "routines.any.hard[0].reps: unknown key", ""),
    (_set("exercises.cat.title", "T" * (TITLE_MAX + 1)), "exercises.cat.title: too long", "41"),
    (_set("exercises.cat.title", "  "), "exercises.cat.title: must not be empty", ""),
    (_set("exercises.cat.title", None), "exercises.cat: missing", "title"),
    (_set("exercises.cat.text", LONG), "exercises.cat.text: too long", "200"),
    (_set("exercises.cat.text", "Bend {side}"), "exercises.cat.text: uses", "no sides"),
    (_set("exercises.trapezius.text", "y" * 196 + "{side}"), "exercises.trapezius.text: too long", "201"),
    (_set("exercises.knees_to_chest.side_text.both", LONG), "exercises.knees_to_chest.side_text.both: too long", ""),
    (_set("exercises.trapezius.side_text", {"both": "x"}), "exercises.trapezius.side_text.both: unknown key", "left"),
    (_set("exercises.cat.hold", 0), "exercises.cat.hold: 0 s is out of range", "5-180"),
    (_set("exercises.cat.hold", HOLD_RANGE[1] + 1), "exercises.cat.hold: 181 s is out of range", ""),
    (_set("exercises.cat.hold", 12.5), "exercises.cat.hold: expected whole seconds", ""),
    (_set("exercises.cat.hold", True), "exercises.cat.hold: expected whole seconds", "boolean"),
    (_set("exercises.trapezius.sides", ["left", "middle"]), "exercises.trapezius.sides: bad side", "middle"),
    (_set("exercises.trapezius.sides", ["left", "left"]), "exercises.trapezius.sides: a side is listed twice", ""),
    (_set("exercises.trapezius.sides", "left"), "exercises.trapezius.sides: expected a list", ""),
    (_set("exercises.cat.duration", 30), "exercises.cat.duration: unknown key", "hold"),
    (_set("exercises.Cobra", {"title": "C", "text": "t", "hold": 10}), "exercises.Cobra: bad name", ""),
    (_set("hold_scale.very_hard", 10), "hold_scale.very_hard: must be a number", "3.0"),
    (_set("hold_scale.brutal", 1.5), "hold_scale.brutal: unknown key", "very_hard"),
    (_set("exercises.cat.reps", 0), "exercises.cat.reps: expected whole times", "1 to 30"),
    (_set("exercises.cat.reps", 2.5), "exercises.cat.reps: expected whole times", "number"),
    (_set("exercises.cat.moves", "yes"), "exercises.cat.moves: expected true or false", "string"),
    (_set("exercises.cat.moves", False), "exercises.cat.reps: only a movement", "moves = true"),
]


@pytest.mark.parametrize(("mutate", "prefix", "words"), BROKEN, ids=[b[1][:50] for b in BROKEN])
def test_broken_library_names_key_and_reason(raw, mutate, prefix, words):
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(RoutineError) as info:
        parse_library(data)
    message = str(info.value)
    assert message.startswith(prefix)
    assert words in info.value.reason
    assert "\n" not in message
    assert message == f"{info.value.key}: {info.value.reason}"


SPORTS = [
    ("cycling", "road", "cycling"),
    ("cycling", "indoor_cycling", "cycling"),
    ("cycling", "generic", "cycling"),
    ("e_biking", "e_bike_mountain", "cycling"),
    ("fitness_equipment", "indoor_cycling", "cycling"),
    ("training", "spin", "cycling"),
    ("running", "trail", "running"),
    ("running", "treadmill", "running"),
    ("walking", "generic", "running"),
    ("hiking", "generic", "running"),
    ("fitness_equipment", "treadmill", "running"),
    ("fitness_equipment", "elliptical", "running"),
    ("training", "strength_training", "strength"),
    ("training", "cardio_training", "strength"),
    ("training", "generic", "strength"),
    ("fitness_equipment", "generic", "strength"),
    ("Training", " strength_training ", "strength"),
    ("swimming", "lap_swimming", "any"),
    ("rowing", "generic", "any"),
    ("generic", "generic", "any"),
    ("", "", "any"),
    ("254", "0", "any"),  # a sport number fitparse has no name for
]


@pytest.mark.parametrize(("sport", "sub_sport", "group"), SPORTS)
def test_choose_maps_fit_sports_to_groups(library, sport, sub_sport, group):
    assert sport_group(sport, sub_sport) == group
    routine = choose(library, Level.MODERATE, sport, sub_sport)
    assert routine.group == group
    assert routine.steps == library.routine(group, Level.MODERATE).steps


def test_choose_defaults_sub_sport(library):
    assert choose(library, Level.LIGHT, "cycling").name == "cycling.light"


# Values a TOML parser can produce, to show parse_library never fails with anything but RoutineError.
_toml_leaf = st.one_of(
    st.booleans(), st.integers(-10, 400), st.floats(allow_nan=False), st.text(max_size=30)
)
_toml = st.recursive(
    _toml_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(["exercises.cat", "exercises.turns.side_text", "routines.any.hard",
                             "routines.cycling", "hold_scale", "exercises.trapezius.sides"]),
       value=_toml)
def test_any_replaced_value_gives_a_library_or_a_routine_error(raw, path, value):
    data = copy.deepcopy(raw)
    _set(path, value)(data)
    try:
        library = parse_library(data)
    except RoutineError as exc:
        assert str(exc).startswith(exc.key) and "\n" not in str(exc)
    else:
        assert all(library.routine(g, lv).steps for g in GROUPS for lv in Level)


def test_load_library_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(missing))}: cannot read: .*routines.file"):
        load_library(missing)
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[exercises\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(bad_toml))}: invalid TOML"):
        load_library(bad_toml)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(
        PACKAGED.read_text(encoding="utf-8").replace('"cat", "child_pose"]', '"cobra", "child_pose"]', 1),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_library(unknown)
    assert str(info.value).startswith(f'{unknown}: routines.cycling.light[0]: unknown exercise "cobra"')


def test_load_library_reads_a_user_file(tmp_path):
    own = tmp_path / "mine.toml"
    own.write_text(
        '[exercises.cat]\ntitle = "Cat"\ntext = "Arch and round."\nhold = 10\n'
        '[routines.any]\nlight = ["cat"]\nmoderate = ["cat"]\nhard = ["cat"]\nvery_hard = ["cat"]\n',
        encoding="utf-8",
    )
    library = load_library(own)
    routine = choose(library, Level.HARD, "running", "trail")
    assert routine.group == "any"
    assert [(s.title, s.hold_s) for s in routine.steps] == [("Cat", 10)]


def test_movements_are_done_slowly_some_a_number_of_times(library):
    """The cat and arm turns move; the rest hold (the cards say "Slowly, 5 times" or "Hold 30 s")."""
    moving = {(s.exercise, s.moves, s.reps) for r in library.routines.values() for s in r}
    assert ("cat", True, 5) in moving and ("turns", True, 5) in moving
    assert all(not moves for name, moves, _ in moving if name not in ("cat", "turns"))
