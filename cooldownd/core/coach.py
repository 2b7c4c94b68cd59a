"""The walk-through as a pure state machine: offer -> steps -> done, plus quiet hours.

Everything that decides what card is on screen, and when, lives in this file (what a card says is
``core/cards.py``). It reads no clock and does no I/O. The caller passes two times: ``now`` on a
steady clock that never steps and counts suspended time (every timer and duration runs on it), and
``wall``, the wall clock, for stamps and an offer's freshness (``max_age_s`` is checked on it each
time an offer is about to appear). It shows the returned card and calls ``tick`` at ``deadline``.

Button identifiers are a contract: the offer has ``start``, ``later``, ``skip`` (a plain click,
``default``, starts; closing the offer, ``dismissed``, is Later while snoozes remain); a step has
``next`` and ``stop`` (a plain click is ``next``; closing it hides it until the next step).

A press applies only to the card it was made on: one that reaches a card less than
``press_guard_s`` after it replaced another card on screen was aimed at the card before (a double
click on a server that keeps the bubble after a press) and changes nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from cooldownd.core.cards import (OFFER_BUTTONS, SIDES, STEP_BUTTONS, Card, Topic, done_card, offer_card, step_card,
                                  update_marks)
from cooldownd.core.model import Level, Routine
from cooldownd.core.quiet import QuietHours, fresh, plan_offer

__all__ = ["OFFER_BUTTONS", "SIDES", "STEP_BUTTONS", "Card", "Coach", "CoachKnobs", "Effect", "Hide", "Outcome",
           "Phase", "QuietHours", "Result", "Topic", "fresh", "plan_offer"]

HELD_FRACTION = 0.8  # a step counts as done when its card was up for most of the hold


@dataclass(frozen=True)
class CoachKnobs:
    """Timers of a walk-through, in seconds (``notify.*`` settings); ``max_age_s`` None = never stale."""

    offer_timeout_s: float = 900
    transition_s: float = 5
    snooze_s: float = 600
    max_snoozes: int = 3
    max_age_s: float | None = None
    press_guard_s: float = 0.6


@dataclass(frozen=True)
class Hide:
    """Remove the bubble (snoozed, skipped, missed, interrupted): nothing on screen until the next card."""

    reason: str


Effect = Card | Hide


class Result(enum.Enum):
    """How a walk-through ended."""

    COMPLETED = "completed"  # every step held through
    PARTIAL = "partial"  # went to the end, some steps cut short
    STOPPED = "stopped"
    SKIPPED = "skipped"
    MISSED = "missed"  # the offer timed out
    SNOOZED_OUT = "snoozed_out"
    EXPIRED = "expired"  # too old to offer (notify.max_age) when it was about to appear
    INTERRUPTED = "interrupted"  # the program ended mid-way (Ctrl-C, SIGTERM, a crash found at restart)


@dataclass(frozen=True)
class Outcome:
    """What happened to one offer; ``result`` is None while the walk-through runs.

    ``steps_done`` counts steps held through; ``step_seconds`` is how long each step's card was up.
    """

    offered_at: float | None
    started_at: float | None
    steps_done: int
    snoozes: int
    result: Result | None
    ended_at: float | None
    step_seconds: tuple[float, ...] = field(default=())
    stretched_s: float = 0.0


class Phase(enum.Enum):
    """Where a walk-through is (what a restart needs to know)."""

    NEW = "new"
    OFFER = "offer"
    SNOOZED = "snoozed"
    STEP = "step"
    DONE = "done"


class Coach:
    """Walks one routine: feed it presses and ticks, show what it returns."""

    def __init__(
        self,
        routine: Routine,
        headline: str,
        knobs: CoachKnobs = CoachKnobs(),
        *,
        buttons: bool,
        hrr60: int | None = None,
        level: Level | None = None,
        load: float | None = None,
        title: str | None = None,
        ended_at: float | None = None,
        snoozes: int = 0,
        hint: str = "",
    ) -> None:
        if not routine.steps:
            raise ValueError(f"routine {routine.name!r}: has no steps")
        self.routine = routine
        self.topic = Topic(title or Topic.title, headline)
        self.knobs = knobs
        self.buttons = buttons
        self.hrr60 = hrr60
        self.level = level if level is not None else routine.level
        self.load = load
        self.ended_at = ended_at  # wall clock: the workout's end, for freshness
        self.hint = hint  # how to control the walk where the server draws no buttons
        self.phase = Phase.NEW
        self._index = 0
        self._snoozes = snoozes
        self._offered_at: float | None = None
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self._result: Result | None = None
        self._seq = 0
        self._card_at = 0.0  # steady time the card on screen appeared
        self._replaced = False  # it took the place of another card on screen
        self._on_screen = False
        self._step_at = 0.0
        self._updates: list[float] = []  # steady times of the step's next in-place updates
        self._resting = False
        self._seconds: list[float] = []
        self.snoozed_until: float | None = None  # wall clock, while snoozed
        self.deadline: float | None = None

    @property
    def done(self) -> bool:
        """True once the walk-through has ended (any result)."""
        return self.phase is Phase.DONE

    @property
    def outcome(self) -> Outcome:
        """The outcome so far (final once ``done``)."""
        held = [s for s, step in zip(self._seconds, self.routine.steps) if s >= HELD_FRACTION * step.hold_s]
        stretched = sum(min(s, step.hold_s) for s, step in zip(self._seconds, self.routine.steps))
        return Outcome(self._offered_at, self._started_at, len(held), self._snoozes, self._result, self._ended_at,
                       tuple(round(s, 2) for s in self._seconds), round(stretched, 2))

    def start(self, now: float, wall: float | None = None) -> Effect:
        """Show the offer (or drop it, ``expired``, when it is too old by the wall clock)."""
        if self.phase is not Phase.NEW:
            raise RuntimeError("coach: start() called twice")
        wall = now if wall is None else wall
        self._offered_at = wall
        if not fresh(self.ended_at, wall, self.knobs.max_age_s):
            return self._end(Result.EXPIRED, now, wall)
        return self._offer(now)

    def press(self, button: str, now: float, wall: float | None = None, *, guard: bool = True) -> Effect | None:
        """A button (or ``default`` click, or ``dismissed``) on the current card.

        ``guard=False`` for a deliberate command (``cooldownd next``): it acts on whatever is on screen.
        """
        wall = now if wall is None else wall
        if guard and self._replaced and now - self._card_at < self.knobs.press_guard_s and button != "dismissed":
            return None  # made on the card before this one, which is gone
        if self.phase is Phase.OFFER:
            return self._press_offer(button, now, wall)
        if self.phase is Phase.SNOOZED and button in ("start", "skip"):  # a command: no bubble is up
            return self._press_offer(button, now, wall)
        if self.phase is Phase.STEP:
            if button in ("next", "default"):
                return self._advance(now, wall)
            if button == "stop":
                return self._end(Result.STOPPED, now, wall)
            if button == "dismissed":
                self._on_screen = False  # closed by the person: no updates until the next step
        return None  # a stale or unknown press changes nothing

    def _press_offer(self, button: str, now: float, wall: float) -> Effect | None:
        if button in ("start", "default"):
            return self._begin(now, wall)
        if button == "skip":
            return self._end(Result.SKIPPED, now, wall)
        if button in ("later", "dismissed"):
            if self._snoozes >= self.knobs.max_snoozes:
                return self._end(Result.SNOOZED_OUT, now, wall)
            self._snoozes += 1
            self.phase = Phase.SNOOZED
            self.deadline = now + self.knobs.snooze_s
            self.snoozed_until = wall + self.knobs.snooze_s
            return self._hide("snoozed")
        return None

    def tick(self, now: float, wall: float | None = None) -> Effect | None:
        """Time passed; acts only once ``now`` reaches ``deadline``."""
        wall = now if wall is None else wall
        if self.deadline is None or now < self.deadline:
            return None
        if self.phase is Phase.SNOOZED:
            if not fresh(self.ended_at, wall, self.knobs.max_age_s):
                return self._end(Result.EXPIRED, now, wall)
            return self._offer(now)
        if self.phase is Phase.OFFER:
            return self._begin(now, wall) if not self.buttons else self._end(Result.MISSED, now, wall)
        if self.phase is Phase.STEP:
            return self._step_tick(now, wall)
        return None

    def interrupt(self, now: float, wall: float | None = None) -> Effect | None:
        """The program is ending mid-way (Ctrl-C, SIGTERM): close the bubble, record ``interrupted``."""
        if self.done:
            return None
        return self._end(Result.INTERRUPTED, now, now if wall is None else wall)

    # -- cards --------------------------------------------------------------------------------
    def _card(self, card: Card, now: float) -> Card:
        if not card.update:
            self._replaced, self._card_at = self._on_screen, now
        self._on_screen = True
        return card

    def _hide(self, reason: str) -> Hide:
        self._on_screen = False
        return Hide(reason)

    def _offer(self, now: float) -> Card:
        self.phase = Phase.OFFER
        self.snoozed_until = None
        wait = self.knobs.offer_timeout_s if self.buttons else self.knobs.transition_s
        self.deadline = now + wait
        self._seq += 1
        return self._card(offer_card(self.routine, self.topic, seq=self._seq, buttons=self.buttons,
                                     start_in=None if self.buttons else wait,
                                     last=self._snoozes >= self.knobs.max_snoozes, hint=self.hint), now)

    def _begin(self, now: float, wall: float) -> Card:
        self._started_at = wall
        self._index = 0
        return self._step(now)

    def _step(self, now: float) -> Card:
        self.phase = Phase.STEP
        hold = self.routine.steps[self._index].hold_s
        self._step_at, self._resting = now, False
        self._updates = [now + hold - left for left in update_marks(hold)]
        self.deadline = self._updates[0] if self._updates else now + hold
        self._seq += 1
        return self._card(self._step_card(None), now)

    def _step_card(self, left_s: float | None) -> Card:
        # Where the walk goes on by itself the first step repeats how to steer it; the offer said it already.
        return step_card(self.routine, self._index, seq=self._seq, buttons=self.buttons, left_s=left_s,
                         resting=self._resting, hint="" if self.buttons else self.hint)

    def _step_tick(self, now: float, wall: float) -> Effect | None:
        hold_end = self._step_at + self.routine.steps[self._index].hold_s
        last = self._index + 1 >= len(self.routine.steps)
        if self._resting or (now >= hold_end and (last or self.knobs.transition_s <= 0)):
            return self._advance(now, wall)
        if now >= hold_end:
            self._resting = True
            self.deadline = hold_end + self.knobs.transition_s
            return self._step_card(None) if self._on_screen else None
        while self._updates and self._updates[0] <= now:
            self._updates.pop(0)
        self.deadline = self._updates[0] if self._updates else hold_end
        return self._step_card(hold_end - now) if self._on_screen else None

    def _advance(self, now: float, wall: float) -> Effect:
        self._seconds.append(now - self._step_at)
        self._index += 1
        if self._index >= len(self.routine.steps):
            held = self.outcome.steps_done == len(self.routine.steps)
            return self._end(Result.COMPLETED if held else Result.PARTIAL, now, wall)
        return self._step(now)

    def _end(self, result: Result, now: float, wall: float) -> Effect:
        if self.phase is Phase.STEP and result in (Result.STOPPED, Result.INTERRUPTED):
            self._seconds.append(now - self._step_at)  # the step cut short counts its seconds
        self.phase = Phase.DONE
        self._result = result
        self._ended_at = wall
        self.deadline = None
        if result in (Result.COMPLETED, Result.PARTIAL, Result.STOPPED):
            o = self.outcome
            self._seq += 1
            return self._card(done_card(self.routine, seq=self._seq, stopped=result is Result.STOPPED,
                                        held=o.steps_done, stretched_s=o.stretched_s, hrr60=self.hrr60), now)
        return self._hide(result.value)
