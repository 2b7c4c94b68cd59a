"""The coach state machine, driven directly: no loop, no clock, no notifier."""

from __future__ import annotations

import pytest
from hypothesis import example, given, strategies as st

from cooldownd.core.coach import (
    Card, Coach, CoachKnobs, Hide, QuietHours, Result, plan_offer,
)
from cooldownd.core.model import Level, Routine, Step
from cooldownd.core.wording import SAFETY
from cooldownd.errors import ConfigError

KNOBS = CoachKnobs(offer_timeout_s=900, transition_s=5, snooze_s=600, max_snoozes=3)


def routine(n: int = 3, hold: int = 30) -> Routine:
    sides = ("left", "right", "both", None)
    steps = tuple(Step(f"ex{i}", f"Stretch {i}", f"Do stretch {i}.", hold, sides[i % 4])
                  for i in range(n))
    return Routine("Back basics", Level.HARD, "ride", steps)


def coach(buttons: bool = True, **kw) -> Coach:
    kw.setdefault("hrr60", 31)
    return Coach(routine(), "45 min ride, load 142", KNOBS, buttons=buttons, level=Level.HARD,
                 load=142.4, title="Cool-down after your hard ride", **kw)


def test_offer_card_has_the_contract_buttons_and_the_deadline_is_the_offer_timeout():
    c = coach()
    card = c.start(1000)
    assert isinstance(card, Card) and card.kind == "offer"
    assert [b for b, _ in card.buttons] == ["start", "later", "skip"]
    assert card.title == "Cool-down after your hard ride"
    assert card.body == "45 min ride, load 142: 3 stretches, about 2 min."
    assert c.deadline == 1000 + 900 and not c.done


@pytest.mark.parametrize("button", ["start", "default"])
def test_start_or_plain_click_shows_step_one_with_next_and_stop(button):
    c = coach()
    c.start(0)
    card = c.press(button, 10)
    assert card.kind == "step" and card.step_index == 0 and not card.update
    assert [b for b, _ in card.buttons] == ["next", "stop"]
    assert card.title == "1/3 Stretch 0 (left side)"
    assert card.body.splitlines() == ["Do stretch 0.", SAFETY, "Hold 30 s.", "Next: Stretch 1, right side."]
    assert card.progress == 0
    assert c.deadline == 10 + 10  # the first in-place update: 20 s left
    assert c.outcome.started_at == 10


def test_a_step_counts_down_in_place_then_rests_then_the_next_step_rings_in():
    c = coach()
    c.start(0)
    first = c.press("start", 0)
    assert c.tick(9.9) is None
    ten = c.tick(10)
    twenty = c.tick(20)
    assert [u.body.splitlines()[2] for u in (ten, twenty)] == ["Hold 30 s: 20 s left.", "Hold 30 s: 10 s left."]
    assert all(u.update and u.seq == first.seq and u.step_index == 0 for u in (ten, twenty))
    assert [u.progress for u in (ten, twenty)] == [33, 67]
    rest = c.tick(30)
    assert rest.update and rest.progress == 100 and "Well done" in rest.body and c.deadline == 35
    second = c.tick(35)
    assert second.step_index == 1 and not second.update and second.seq > first.seq
    assert SAFETY not in second.body  # once per routine
    assert second.body.splitlines()[-1] == "Next: Stretch 2, both sides."


def test_movement_steps_say_slowly_not_hold():
    steps = (Step("cat", "The cat", "Sink, then round.", 40, None, True, 5),
             Step("turns", "Arm turns", "Circle.", 20, "right", True),
             Step("child", "Child's pose", "Fold.", 30))
    c = Coach(Routine("r", Level.LIGHT, "any", steps), "", KNOBS, buttons=True)
    c.start(0)
    cat = c.press("start", 0)
    assert "Slowly, 5 times." in cat.body and "Hold" not in cat.body
    assert "Slowly, 5 times: 30 s left." in c.tick(10).body
    c.tick(40)
    turns = c.tick(45)
    assert "Slowly, for 20 s." in turns.body and turns.body.endswith("Last one.") is False
    assert turns.body.splitlines()[-1] == "Next: Child's pose."


def test_full_walk_held_through_completes_honestly_timed():
    c = coach()
    c.start(0)
    cards = [c.press("start", 1)] + [c.press("next", 1 + 30 * i) for i in range(1, 4)]
    assert [k.kind for k in cards] == ["step", "step", "step", "done"]
    assert [k.step_index for k in cards[:3]] == [0, 1, 2]
    done = cards[-1]
    assert done.title == "Cool-down done" and done.buttons == ()
    assert done.body.splitlines()[0] == "1 min 30 s of stretching, 3 of 3 stretches held through."
    assert "fell 31 bpm in the first minute" in done.body
    o = c.outcome
    assert c.done and c.deadline is None
    assert (o.result, o.steps_done, o.offered_at, o.ended_at) == (Result.COMPLETED, 3, 0, 91)
    assert o.step_seconds == (30, 30, 30) and o.stretched_s == 90


def test_next_pressed_through_every_step_is_not_completed():
    """Eight presses in 14 s once recorded "completed, 8/8": a step counts only when held (or nearly)."""
    c = Coach(routine(8), "", KNOBS, buttons=True)
    c.start(0)
    t = 1.0
    c.press("start", t)
    for _ in range(8):
        t += 1.7
        last = c.press("next", t)
    o = c.outcome
    assert (o.result, o.steps_done) == (Result.PARTIAL, 0)
    assert last.title == "Cool-down over, some stretches cut short"
    assert "0 of 8 stretches held through" in last.body and "14 s of stretching" in last.body


def test_nearly_held_counts():
    c = coach()
    c.start(0)
    c.press("start", 0)
    c.press("next", 24)  # 80 % of 30 s
    c.press("next", 24 + 23.9)  # just under
    c.press("next", 100)
    assert c.outcome.steps_done == 2 and c.outcome.result is Result.PARTIAL


def test_no_presses_auto_advance_after_hold_plus_transition():
    c = coach()
    c.start(0)
    c.press("start", 0)
    t = 0.0
    seen = []
    while not c.done:
        t = c.deadline
        card = c.tick(t)
        seen.append((t, card.kind, card.step_index, card.update))
    assert [(t, i) for t, k, i, u in seen if k == "step" and not u] == [(35, 1), (70, 2)]
    assert seen[-1][:2] == (100, "done")  # the last hold ends the walk: no rest after it
    assert c.outcome.result is Result.COMPLETED and c.outcome.steps_done == 3
    assert c.outcome.step_seconds == (35, 35, 30)


def test_stop_ends_with_a_stopped_card_counting_the_seconds_of_the_step_cut_short():
    c = coach(hrr60=None)
    c.start(0)
    c.press("start", 0)
    c.press("next", 30)
    card = c.press("stop", 40)
    assert card.kind == "done" and card.title == "Cool-down stopped"
    assert "heart rate" not in card.body and card.body.startswith("40 s of stretching, 1 of 3")
    assert (c.outcome.result, c.outcome.steps_done, c.outcome.step_seconds) == (Result.STOPPED, 1, (30, 10))


def test_a_second_press_200_ms_after_the_first_changes_nothing():
    """dunst keeps the bubble after a press: the second click of a double click lands on the next card."""
    c = coach()
    c.start(0)
    step = c.press("default", 5.0)
    assert c.press("default", 5.2) is None  # 200 ms later: meant for the offer, which is gone
    assert c.press("next", 5.4) is None
    assert c.outcome.step_seconds == () and c.deadline == 15.0
    assert c.press("next", 5.0 + KNOBS.press_guard_s + 0.01).step_index == 1  # a deliberate press counts
    assert step.step_index == 0


def test_the_guard_spares_commands_the_first_card_and_in_place_updates():
    c = coach()
    assert c.start(0).kind == "offer"
    assert c.press("start", 0.1).kind == "step"  # the offer replaced nothing on screen
    assert c.press("next", 0.2, guard=False).step_index == 1  # `cooldownd next` acts on what is shown
    c.tick(c.deadline)  # an in-place update does not restart the guard
    assert c.press("next", 10.5).step_index == 2


def test_later_hides_then_offers_again_after_snooze_then_start():
    c = coach()
    c.start(0)
    assert c.press("later", 5) == Hide("snoozed")
    assert c.deadline == 605 and c.tick(604) is None and c.snoozed_until == 605
    again = c.tick(605)
    assert again.kind == "offer" and c.deadline == 605 + 900 and c.snoozed_until is None
    assert c.press("start", 610).kind == "step"  # a new bubble: no guard against the hidden offer
    assert c.outcome.snoozes == 1 and c.outcome.offered_at == 0


def test_closing_the_offer_is_later_while_snoozes_remain():
    c = coach()
    c.start(0)
    t = 0
    for _ in range(3):
        assert c.press("dismissed", t) == Hide("snoozed")
        t = c.deadline
        c.tick(t)
    assert c.press("dismissed", t) == Hide("snoozed_out")
    assert (c.outcome.result, c.outcome.snoozes) == (Result.SNOOZED_OUT, 3)


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


def test_an_offer_is_checked_for_freshness_on_the_wall_clock_each_time_it_would_appear():
    knobs = CoachKnobs(snooze_s=600, max_age_s=900)
    stale = Coach(routine(), "", knobs, buttons=True, ended_at=0)
    assert stale.start(10, wall=901) == Hide("expired")
    assert stale.outcome.result is Result.EXPIRED and stale.outcome.offered_at == 901
    c = Coach(routine(), "", knobs, buttons=True, ended_at=0)
    c.start(10, wall=100)
    c.press("later", 20, wall=110)
    # a suspend: the steady clock counted it, the wall clock says the workout is now too old
    assert c.tick(620, wall=1000) == Hide("expired")
    assert c.outcome.result is Result.EXPIRED and c.outcome.snoozes == 1


def test_skip_ends_the_offer():
    c = coach()
    c.start(0)
    assert c.press("skip", 3) == Hide("skipped")
    assert c.done and c.outcome.result is Result.SKIPPED and c.outcome.steps_done == 0


def test_offer_timeout_is_missed():
    c = coach()
    c.start(0)
    assert c.tick(899) is None
    assert c.tick(900) == Hide("missed")
    assert c.outcome.result is Result.MISSED and c.outcome.ended_at == 900


@pytest.mark.parametrize("presses, steps_seconds", [([], ()), (["start"], (7,))])
def test_interrupt_hides_and_records_interrupted(presses, steps_seconds):
    c = coach()
    c.start(0, wall=1000)
    for p in presses:
        c.press(p, 3, wall=1003)
    assert c.interrupt(10, wall=1010) == Hide("interrupted")
    o = c.outcome
    assert (o.result, o.ended_at, o.step_seconds) == (Result.INTERRUPTED, 1010, steps_seconds)
    assert c.interrupt(11) is None


def test_a_closed_step_gets_no_updates_until_the_next_step():
    c = coach()
    c.start(0)
    c.press("start", 0)
    assert c.press("dismissed", 2) is None
    assert c.tick(10) is None and c.tick(20) is None and c.tick(30) is None
    nxt = c.tick(35)
    assert nxt.step_index == 1 and not nxt.update
    assert c.tick(45).update  # the new step is on screen again


def test_without_buttons_offer_auto_starts_after_transition_and_cards_have_no_buttons():
    c = coach(buttons=False, hint="Runs by itself.")
    offer = c.start(0)
    assert offer.buttons == () and "Starting in 5 s." in offer.body and offer.body.endswith("Runs by itself.")
    assert c.deadline == 5
    step = c.tick(5)
    assert step.kind == "step" and step.buttons == () and step.body.endswith("Runs by itself.")
    while not c.done:
        c.tick(c.deadline)
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
                                 "dismissed", "tick", "tick", "interrupt"]), max_size=40),
       st.floats(0.1, 40))
@example(["start", "start", "next", "start", "next", "start", "next"], 16.0)  # steps up 32 s, holds 30 s
def test_any_sequence_keeps_invariants(events, gap):
    c = coach()
    c.start(0)
    t = 0.0
    seqs: list[int] = []
    for e in events:
        if c.done:
            break
        t += gap
        if e == "tick":
            t = max(t, c.deadline)
            effect = c.tick(t)
        elif e == "interrupt":
            effect = c.interrupt(t)
        else:
            effect = c.press(e, t)
        if isinstance(effect, Card):
            assert effect.update == (bool(seqs) and effect.seq == seqs[-1])
            seqs.append(effect.seq)
        o = c.outcome
        assert 0 <= o.steps_done <= 3 and o.snoozes <= KNOBS.max_snoozes
        assert (c.deadline is None) == c.done == (o.result is not None)
        assert o.steps_done <= len(o.step_seconds) <= 3
        if o.result is Result.COMPLETED:  # every step held through (80 % of its hold), honestly timed
            assert o.steps_done == 3 and all(s >= 0.8 * 30 for s in o.step_seconds)
            # a card left up past its hold (a press, not the tick, moved on) counts its hold, not the rest after it
            assert o.stretched_s == pytest.approx(sum(min(s, 30) for s in o.step_seconds), abs=0.05) and o.stretched_s <= 90


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
