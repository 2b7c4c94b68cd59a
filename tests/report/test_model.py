"""The report's rules, pure: what each cool-down counts as, the streak, the weeks, the locale."""

from __future__ import annotations

import datetime as dt

import pytest

from cooldownd.report.model import Entry, outcome_of, streaks, stretch_seconds, week_start, weeks
from cooldownd.report.units import from_env

NOW = 1_760_000_000.0
SIX_H = 6 * 3600.0


@pytest.mark.parametrize("walkthrough, offered_at, age, want", [
    ({"result": "completed"}, 1.0, 86400, "done"),
    ({"result": "stopped", "steps_done": 2}, 1.0, 86400, "stopped"),
    ({"result": "snoozed_out"}, 1.0, 86400, "snoozed"),
    ({"result": "skipped"}, 1.0, 86400, "skipped"),
    ({"result": "missed"}, 1.0, 86400, "missed"),
    ({"result": "superseded", "offered_at": None}, None, 86400, "none"),
    ({"result": "dropped_quiet_hours"}, None, 86400, "none"),
    (None, None, 86400, "none"),          # an old import: never offered
    (None, None, 600, "pending"),         # just ended: the offer is coming
    ({"offered_at": 5.0, "result": None}, 5.0, 600, "pending"),   # on screen now
    ({"offered_at": 5.0, "result": None}, 5.0, 86400, "missed"),  # the daemon died during the offer
])
def test_what_each_cooldown_counts_as(walkthrough, offered_at, age, want) -> None:
    assert outcome_of(walkthrough, offered_at, NOW - age, NOW, SIX_H)[0] == want


def test_stretch_time_is_start_to_end_of_the_walk() -> None:
    assert stretch_seconds({"started_at": 100.0, "ended_at": 580.0}) == 480
    assert stretch_seconds({"started_at": None, "ended_at": 580.0}) == 0
    assert stretch_seconds({"started_at": 600.0, "ended_at": 580.0}) == 0  # a clock step backwards
    assert stretch_seconds(None) == 0


def entry(i: int, level: str, outcome: str, day: dt.date = dt.date(2024, 5, 6), load: float = 50) -> Entry:
    return Entry(i, NOW + i * 3600, NOW + i * 3600 + 1800, day, {"level": level, "load": load}, outcome, "", 0.0)


def test_the_streak_counts_hard_sessions_followed_by_a_finished_cooldown() -> None:
    history = [entry(1, "hard", "done"), entry(2, "very_hard", "skipped"), entry(3, "hard", "done"),
               entry(4, "light", "none"), entry(5, "very_hard", "done"), entry(6, "moderate", "skipped"),
               entry(7, "hard", "done"), entry(8, "hard", "pending")]
    assert streaks(history) == (3, 3)  # 3, 5, 7 in a row (light and moderate neither count nor break it)
    assert streaks(history + [entry(9, "hard", "stopped")]) == (0, 3)
    assert streaks([]) == (0, 0)


def test_weeks_start_on_the_locales_first_day_and_keep_empty_weeks() -> None:
    tuesday = dt.date(2024, 5, 7)
    assert week_start(tuesday, sunday_first=False) == dt.date(2024, 5, 6)
    assert week_start(tuesday, sunday_first=True) == dt.date(2024, 5, 5)
    assert week_start(dt.date(2024, 5, 5), sunday_first=True) == dt.date(2024, 5, 5)
    es = [entry(1, "hard", "done", dt.date(2024, 5, 7), 80), entry(2, "light", "none", dt.date(2024, 5, 8), 20),
          entry(3, "hard", "done", dt.date(2024, 5, 21), 100)]
    ws = weeks(es, dt.date(2024, 5, 1), dt.date(2024, 5, 22), sunday_first=False)
    assert [w.first for w in ws] == [dt.date(2024, 4, 29), dt.date(2024, 5, 6), dt.date(2024, 5, 13),
                                     dt.date(2024, 5, 20)]
    assert [w.total_load for w in ws] == [0, 100, 0, 100] and ws[1].load["light"] == 20 and ws[1].workouts == 2


@pytest.mark.parametrize("env, imperial, decimal, sunday", [
    ({"LANG": "en_US.UTF-8"}, True, ".", True),
    ({"LANG": "en_GB.UTF-8"}, False, ".", False),
    ({"LANG": "de_DE.UTF-8"}, False, ",", False),
    ({"LANG": "de_DE.UTF-8", "LC_MEASUREMENT": "en_US.UTF-8"}, True, ",", False),
    ({"LANG": "en_US.UTF-8", "LC_ALL": "fr_FR.UTF-8"}, False, ",", False),
    ({}, False, ".", False),
])
def test_units_follow_the_locale_variables_like_glibc(env, imperial, decimal, sunday) -> None:
    u = from_env(env)
    assert (u.imperial, u.decimal, u.sunday_first) == (imperial, decimal, sunday)
    assert u.distance(16093.44) == ("10" + decimal + "0 mi" if imperial else "16" + decimal + "1 km")
