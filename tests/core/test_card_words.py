"""Every card of every shipped routine reads as words a person uses (issue 14 item 2).

No internal id (``cycling.hard``, ``very_hard``, ``knees_to_chest``), no Python repr (``Level.HARD``,
``None``), whatever the level, the sport, the server's buttons or the way the walk-through ends.
"""

from __future__ import annotations

import re

import pytest

from cooldownd.core.coach import Card, Coach, CoachKnobs
from cooldownd.core.model import Level
from cooldownd.core.routines import choose
from cooldownd.core.wording import HINT_AUTO, offer_title, workout_line
from cooldownd.fit.sports import SPORTS
from cooldownd.routinefile import load_library

KNOBS = CoachKnobs(offer_timeout_s=900, transition_s=5, snooze_s=600, max_snoozes=1)
ID_OR_REPR = re.compile(r"\b[a-z]+[._][a-z_]+\b|\b(Level|Result|Phase)\.|\bNone\b|[{}]|\\n|'\w+'")
# a sport of each routine group, plus ones whose FIT names carry an underscore
SPORTS_SEEN = ("cycling", "running", "training", "swimming", "rowing", "walking", "cross_country_skiing",
               "e_biking", "stand_up_paddleboarding", "generic", SPORTS[53])


def walk(coach: Coach, presses: dict[int, str]) -> list[Card]:
    """Drive ``coach`` to its end: ``presses`` maps the n-th card to a button pressed on it."""
    cards: list[Card] = []
    now, effect = 0.0, coach.start(0.0)
    while True:
        if isinstance(effect, Card):
            cards.append(effect)
        if coach.done or len(cards) > 400:
            return cards
        button = presses.pop(len(cards), None) if isinstance(effect, Card) else None
        if button is not None:
            effect = coach.press(button, now, guard=False)
            continue
        now = max(now, coach.deadline or now)
        effect = coach.tick(now)


@pytest.mark.parametrize("level", list(Level))
@pytest.mark.parametrize("buttons", [True, False])
def test_no_card_carries_an_id_or_a_repr(level: Level, buttons: bool) -> None:
    library = load_library()
    # held through, snoozed then stopped, skipped, Next pressed through, the offer timing out
    endings = ({1: "start"}, {1: "later", 2: "start", 4: "stop"}, {1: "skip"}, {1: "start", 2: "next", 3: "next"}, {})
    for sport in SPORTS_SEEN:
        routine = choose(library, level, sport)
        for presses in endings if buttons else ({},):
            coach = Coach(routine, workout_line(sport, "generic", 2700, 85.4), KNOBS, buttons=buttons, hrr60=31,
                          level=level, load=85.4, title=offer_title(level, sport), hint="" if buttons else HINT_AUTO)
            cards = walk(coach, dict(presses))
            assert coach.done and cards and cards[0].kind == "offer", (sport, presses, cards)
            for card in cards:
                for text in (card.title, card.body):
                    assert not ID_OR_REPR.search(text), (sport, level, presses, text)


def test_an_offer_whose_level_is_above_its_load_says_why_on_the_card() -> None:
    """Issue 18 item 3: "Very hard run: 26 min, load 34" always says why, on the cards as in history."""
    from cooldownd.core.intensity import Knobs, assess
    from cooldownd.core.model import Athlete, Record, Workout
    from cooldownd.core.wording import reason_words

    hrs = [120] * 660 + [185] * 900  # 26 min, 15 of them at >= 90 % of heart-rate reserve
    ride = Workout(sport="running", sub_sport="generic", start=0.0, end=1560.0, duration_s=1560.0, elapsed_s=1560.0,
                   records=tuple(Record(float(t), hr=h) for t, h in enumerate(hrs)))
    a = assess(ride, Athlete(max_hr=190, resting_hr=50, lthr=175))
    assert a.level is Level.VERY_HARD and a.load < Knobs().hard_below
    line = workout_line("running", "generic", a.duration_s, a.load, reason_words(a.level, a.reason))
    assert line == f"26 min run, 15 min above 90 % of heart-rate reserve, load {round(a.load)}"
    coach = Coach(choose(load_library(), a.level, "running"), line, KNOBS, buttons=True, level=a.level, load=a.load,
                  title=offer_title(a.level, "running"))
    offer = coach.start(0.0)
    assert offer.title == "Cool-down after your very hard run" and "above 90 % of heart-rate reserve" in offer.body
    # an ordinary level reads as before
    assert workout_line("running", "generic", 1560, 85.0, "hard: load 85 from heart rate") == "26 min run, load 85"
