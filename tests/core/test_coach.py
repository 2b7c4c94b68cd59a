"""The coach state machine, driven directly: no loop, no clock, no notifier."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from cooldownd.core.coach import (
    Card, Coach, CoachKnobs, Hide, QuietHours, Result, plan_offer,
)
from cooldownd.core.model import Level, Routine, Step
from cooldownd.errors import ConfigError

KNOBS = CoachKnobs(offer_timeout_s=900, transition_s=5, snooze_s=600, max_snoozes=3)


def routine(n: int = 3, hold: int = 30) -> Routine:
    sides = ("left", "right", "both", None)
    steps = tuple(Step(f"ex{i}", f"Stretch {i}", f"Do stretch {i}.", hold, sides[i % 4])
                  for i in range(n))
    return Routine("Back basics", Level.HARD, "ride", steps)


def coach(buttons: bool = True, **kw) -> Coach:
    kw.setdefault("hrr60", 31)
    return Coach(routine(), "Ride done: hard", KNOBS, buttons=buttons, level=Level.HARD,
                 load=142.4, **kw)


def test_offer_card_has_the_contract_buttons_and_the_deadline_is_the_offer_timeout():
    c = coach()
    card = c.start(1000)
    assert isinstance(card, Card) and card.kind == "offer"
    assert [b for b, _ in card.buttons] == ["start", "later", "skip"]
    assert card.title == "Cool-down: Back basics"
    assert card.body.startswith("Ride done: hard\n")
    assert "3 stretches" in card.body
    assert c.deadline == 1000 + 900 and not c.done


@pytest.mark.parametrize("button", ["start", "default"])
def test_start_or_plain_click_shows_step_one_with_next_and_stop(button):
    c = coach()
    c.start(0)
    card = c.press(button, 10)
    assert card.kind == "step" and card.step_index == 0
    assert [b for b, _ in card.buttons] == ["next", "stop"]
    assert card.title == "1/3 Stretch 0 (left side)"
    assert "Hold 30 s" in card.body
    assert c.deadline == 10 + 30 + 5
    assert c.outcome.started_at == 10


def test_full_walk_with_next_presses_completes_with_a_done_card():
    c = coach()
    c.start(0)
    cards = [c.press("start", 1)] + [c.press("next", 1 + 40 * i) for i in range(1, 4)]
    assert [k.kind for k in cards] == ["step", "step", "step", "done"]
    assert [k.step_index for k in cards[:3]] == [0, 1, 2]
    done = cards[-1]
    assert done.title == "Cool-down done" and done.buttons == ()
    assert "Level: hard" in done.body and "load 142" in done.body
    assert "2 min stretched" in done.body and "HRR60 31 bpm" in done.body
    o = c.outcome
    assert c.done and c.deadline is None
    assert (o.result, o.steps_done, o.offered_at, o.ended_at) == (Result.COMPLETED, 3, 0, 121)


def test_no_presses_auto_advance_after_hold_plus_transition():
    c = coach()
    c.start(0)
    c.press("start", 0)
    assert c.tick(34.9) is None  # not yet
    card = c.tick(35)
    assert card.step_index == 1 and c.deadline == 70
    c.tick(70)
    done = c.tick(105)
    assert done.kind == "done" and c.outcome.steps_done == 3


def test_stop_ends_with_a_stopped_card_counting_steps_done():
    c = coach(hrr60=None)
    c.start(0)
    c.press("start", 0)
    c.press("next", 10)
    card = c.press("stop", 20)
    assert card.kind == "done" and card.title == "Cool-down stopped"
    assert "HRR60" not in card.body and "under a minute" in card.body
    assert (c.outcome.result, c.outcome.steps_done) == (Result.STOPPED, 1)


def test_later_hides_then_offers_again_after_snooze_then_start():
    c = coach()
    c.start(0)
    assert c.press("later", 5) == Hide("snoozed")
    assert c.deadline == 605 and c.tick(604) is None
    again = c.tick(605)
    assert again.kind == "offer" and c.deadline == 605 + 900
    assert c.press("start", 610).kind == "step"
    assert c.outcome.snoozes == 1 and c.outcome.offered_at == 0


def test_fourth_later_is_snoozed_out_and_the_last_offer_says_so():
    c = coach()
    card = c.start(0)
    t = 0
    for _ in range(3):
        assert "Last reminder" not in card.body
        c.press("later", t)
        t = c.deadline
        card = c.tick(t)
    assert "Last reminder" in card.body
    assert c.press("later", t) == Hide("snoozed_out")
    assert (c.outcome.result, c.outcome.snoozes, c.outcome.started_at) == (Result.SNOOZED_OUT, 3, None)


@pytest.mark.parametrize("button", ["skip", "dismissed"])
def test_skip_or_dismissing_the_offer_is_skipped(button):
    c = coach()
    c.start(0)
    assert c.press(button, 3) == Hide("skipped")
    assert c.done and c.outcome.result is Result.SKIPPED and c.outcome.steps_done == 0


def test_offer_timeout_is_missed():
    c = coach()
    c.start(0)
    assert c.tick(899) is None
    assert c.tick(900) == Hide("missed")
    assert c.outcome.result is Result.MISSED and c.outcome.ended_at == 900


def test_without_buttons_offer_auto_starts_after_transition_and_cards_have_no_buttons():
    c = coach(buttons=False)
    offer = c.start(0)
    assert offer.buttons == () and "Starting in 5 s" in offer.body
    assert c.deadline == 5
    step = c.tick(5)
    assert step.kind == "step" and step.buttons == ()
    c.tick(40)
    c.tick(75)
    assert c.tick(110).kind == "done"
    assert c.outcome.result is Result.COMPLETED


@pytest.mark.parametrize("state_presses, button", [
    ([], "next"), ([], "stop"), (["start"], "start"), (["start"], "later"), (["start"], "bogus"),
])
def test_presses_that_do_not_belong_to_the_card_change_nothing(state_presses, button):
    c = coach()
    c.start(0)
    for p in state_presses:
        c.press(p, 1)
    before = (c.outcome, c.deadline)
    assert c.press(button, 2) is None
    assert (c.outcome, c.deadline) == before


def test_a_routine_without_steps_is_refused():
    with pytest.raises(ValueError, match="no steps"):
        Coach(Routine("empty", Level.LIGHT, "x", ()), "h", buttons=True)


@given(st.lists(st.sampled_from(["start", "later", "skip", "next", "stop", "default",
                                 "dismissed", "tick"]), max_size=40))
def test_any_sequence_keeps_invariants(events):
    c = coach()
    c.start(0)
    t = 0.0
    for e in events:
        if c.done:
            break
        t += 1
        if e == "tick":
            t = max(t, c.deadline)
            c.tick(t)
        else:
            c.press(e, t)
        o = c.outcome
        assert 0 <= o.steps_done <= 3 and o.snoozes <= KNOBS.max_snoozes
        assert (c.deadline is None) == c.done == (o.result is not None)
        if o.result is Result.COMPLETED:
            assert o.steps_done == 3


@pytest.mark.parametrize("spec, hhmm, wait_min", [
    ("22:00-07:00", "23:00", 8 * 60),
    ("22:00-07:00", "22:00", 9 * 60),
    ("22:00-07:00", "03:30", 3 * 60 + 30),
    ("22:00-07:00", "07:00", 0),
    ("22:00-07:00", "12:00", 0),
    ("13:00-14:00", "13:15", 45),
    ("13:00-14:00", "14:00", 0),
    ("13:00-14:00", "12:59", 0),
    ("00:00-24:00", "12:00", 12 * 60),
    ("08:00-08:00", "08:00", 0),
])
def test_quiet_hours_wait(spec, hhmm, wait_min):
    h, m = map(int, hhmm.split(":"))
    assert QuietHours.parse(spec).wait_s(h * 3600 + m * 60) == wait_min * 60


@pytest.mark.parametrize("spec", ["22-07", "22:00", "25:00-07:00", "22:60-07:00", "a:b-c:d",
                                  "22:00-07:00-09:00", "22:0-07:00"])
def test_bad_quiet_hours_are_a_config_error_with_an_example(spec):
    with pytest.raises(ConfigError, match="22:00-07:00"):
        QuietHours.parse(spec)


def test_empty_quiet_hours_mean_none():
    assert QuietHours.parse("  ") is None


@pytest.mark.parametrize("local, ended_ago, max_age, expect_wait", [
    ("12:00", 60, 6 * 3600, 0),            # not quiet: offer now
    ("23:00", 60, 6 * 3600, None),         # deferred 8 h > max age: drop
    ("23:00", 60, 10 * 3600, 8 * 3600),    # deferred to 07:00
    ("12:00", 7 * 3600, 6 * 3600, None),   # too old already
])
def test_plan_offer(local, ended_ago, max_age, expect_wait):
    now = 1_700_000_000.0
    h, m = map(int, local.split(":"))
    at = plan_offer(now, now - ended_ago, h * 3600 + m * 60, QuietHours.parse("22:00-07:00"),
                    max_age)
    assert at == (None if expect_wait is None else now + expect_wait)


@given(st.integers(0, 1439), st.integers(0, 1439), st.floats(0, 86399.9))
def test_quiet_wait_ends_exactly_at_the_window_end(start, end, t):
    q = QuietHours(start, end)
    wait = q.wait_s(t)
    assert 0 <= wait <= 86400
    if wait:
        assert ((t + wait) % 86400) == pytest.approx(end * 60)
