"""Words and routine groups for every sport of the current FIT SDK profile."""

from __future__ import annotations

import pytest

from cooldownd.core import routines, sport_groups, wording
from cooldownd.fit.sports import SDK_PROFILE_VERSION, SPORTS, SUB_SPORTS, sport_name, sub_sport_name


def test_the_table_is_a_current_sdk_profile() -> None:
    major, minor, _ = map(int, SDK_PROFILE_VERSION.split("."))
    assert (major, minor) >= (21, 205) and max(SPORTS) == 254 and len(SPORTS) >= 80 and len(SUB_SPORTS) >= 110


def test_every_sdk_sport_and_sub_sport_has_a_word_and_a_group() -> None:
    assert set(SPORTS.values()) == set(wording._SPORT_WORDS)
    assert set(SUB_SPORTS.values()) == set(wording._SUB_WORDS)
    assert set(SPORTS.values()) == set(sport_groups._SPORT_GROUPS)
    assert set(sport_groups._SUB_SPORT_GROUPS) <= set(SUB_SPORTS.values())
    for name in SPORTS.values():
        assert wording.sport_word(name) == wording._SPORT_WORDS[name]


@pytest.mark.parametrize("number, name, word, group", [
    (53, "diving", "dive", "any"), (75, "volleyball", "volleyball game", "running"),
    (82, "snorkeling", "snorkel", "any"), (62, "hiit", "HIIT session", "strength"),
])
def test_numbers_fitparse_leaves_get_the_sdk_name_a_word_and_a_group(number, name, word, group) -> None:
    assert sport_name(number) == name and sport_name(name) == name
    assert wording.sport_word(sport_name(number)) == word
    assert routines.sport_group(sport_name(number)) == group


@pytest.mark.parametrize("sport, sub, word, group", [
    ("cycling", "virtual_activity", "virtual ride", "cycling"), ("training", "virtual_activity", "training session", "cycling"),
    ("training", "strength_training", "strength session", "strength"), ("fitness_equipment", "treadmill", "treadmill run", "running"),
    ("diving", "multi_gas_diving", "dive", "any"), ("generic", "indoor_cycling", "indoor ride", "cycling"),
    ("running", "ultra", "ultra run", "running"), ("swimming", "lap_swimming", "pool swim", "any"),
])
def test_sub_sports_refine_words_and_groups(sport, sub, word, group) -> None:
    assert wording.sport_word(sport, sub) == word and routines.sport_group(sport, sub) == group


def test_unknown_numbers_stay_numbers() -> None:
    assert sport_name(200) == "200" and sub_sport_name(None) == "generic" and wording.sport_word("200") == "workout"


def test_a_reassessed_workout_is_one_line_in_words() -> None:
    """The line ``import``, ``reassess`` and the daemon's log share: no level or sport id in it."""
    from cooldownd.core.model import Level
    from cooldownd.record.summary import Summary

    def judged(load: float | None, level: Level) -> Summary:
        none = dict.fromkeys(("duration_s", "elapsed_s", "avg_hr", "max_hr", "trimp", "hrss", "np", "if_", "tss",
                              "rmssd_ms", "hrr60", "load_source", "routine", "profile_source"))
        return Summary(sport="cycling", sub_sport="virtual_activity", start=1626979949.0, end=1626983130.0,
                       load=load, level=level, **none)

    line = wording.reassessed_line(4, judged(69.6, Level.MODERATE), judged(None, Level.VERY_HARD))
    assert line == "reassessed #4 2021-07-22 18:52 virtual ride: load 69.6 moderate -> load - very hard"
