"""The walk-through as a pure state machine: offer -> steps -> done, plus quiet hours.

Everything that decides what card is on screen lives in this file. It reads no clock and
does no I/O: the caller passes ``now`` (POSIX seconds), shows the returned card, and calls
``tick(now)`` at ``deadline``. All strings are plain text; escaping is the notifier's job.

Button identifiers are a contract: the offer has ``start``, ``later``, ``skip`` (a plain
click, ``default``, starts; a dismissed offer is skipped); a step has ``next`` and ``stop``
(a plain click is ``next``). ``dismissed`` on a step is ignored: the routine carries on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cooldownd.core.model import Level, Routine, Step
from cooldownd.core.wording import level_word
from cooldownd.errors import ConfigError

OFFER_BUTTONS = (("start", "Start"), ("later", "Later"), ("skip", "Skip"))
STEP_BUTTONS = (("next", "Next"), ("stop", "Stop"))
SIDES = {"left": "left side", "right": "right side", "both": "both sides"}


@dataclass(frozen=True)
class CoachKnobs:
    """Timers of a walk-through, in seconds (``notify.*`` settings)."""

    offer_timeout_s: float = 900
    transition_s: float = 5
    snooze_s: float = 600
    max_snoozes: int = 3


@dataclass(frozen=True)
class Card:
    """One bubble: ``kind`` is offer, step or done; ``buttons`` are (id, label) pairs; a step card has its ``step``."""

    kind: str
    title: str
    body: str
    buttons: tuple[tuple[str, str], ...] = ()
    step_index: int | None = None
    step: Step | None = None  # what a step card shows (its picture, cues and voice come from it)


@dataclass(frozen=True)
class Hide:
    """Remove the bubble (snoozed, skipped, missed): nothing on screen until the next card."""

    reason: str


Effect = Card | Hide


class Result(enum.Enum):
    """How a walk-through ended."""

    COMPLETED = "completed"
    STOPPED = "stopped"
    SKIPPED = "skipped"
    MISSED = "missed"
    SNOOZED_OUT = "snoozed_out"


@dataclass(frozen=True)
class Outcome:
    """What happened to one offer; ``result`` is None while the walk-through runs."""

    offered_at: float | None
    started_at: float | None
    steps_done: int
    snoozes: int
    result: Result | None
    ended_at: float | None


class _State(enum.Enum):
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
    ) -> None:
        if not routine.steps:
            raise ValueError(f"routine {routine.name!r}: has no steps")
        self.routine = routine
        self.headline = headline
        self.knobs = knobs
        self.buttons = buttons
        self.hrr60 = hrr60
        self.level = level if level is not None else routine.level
        self.load = load
        self._state = _State.NEW
        self._index = 0
        self._snoozes = 0
        self._offered_at: float | None = None
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self._result: Result | None = None
        self.deadline: float | None = None

    @property
    def done(self) -> bool:
        """True once the walk-through has ended (any result)."""
        return self._state is _State.DONE

    @property
    def outcome(self) -> Outcome:
        """The outcome so far (final once ``done``)."""
        return Outcome(
            self._offered_at, self._started_at, self._index if self._started_at is not None else 0,
            self._snoozes, self._result, self._ended_at,
        )

    def start(self, now: float) -> Effect:
        """Show the offer."""
        if self._state is not _State.NEW:
            raise RuntimeError("coach: start() called twice")
        self._offered_at = now
        return self._offer(now)

    def press(self, button: str, now: float) -> Effect | None:
        """A button (or ``default`` click, or ``dismissed``) on the current card."""
        if self._state is _State.OFFER:
            if button in ("start", "default"):
                return self._begin(now)
            if button in ("skip", "dismissed"):
                return self._end(Result.SKIPPED, now)
            if button == "later":
                if self._snoozes >= self.knobs.max_snoozes:
                    return self._end(Result.SNOOZED_OUT, now)
                self._snoozes += 1
                self._state = _State.SNOOZED
                self.deadline = now + self.knobs.snooze_s
                return Hide("snoozed")
        elif self._state is _State.STEP:
            if button in ("next", "default"):
                return self._advance(now)
            if button == "stop":
                return self._end(Result.STOPPED, now)
        return None  # a stale or unknown press changes nothing

    def tick(self, now: float) -> Effect | None:
        """Time passed; acts only once ``now`` reaches ``deadline``."""
        if self.deadline is None or now < self.deadline:
            return None
        if self._state is _State.SNOOZED:
            return self._offer(now)
        if self._state is _State.OFFER:
            return self._begin(now) if not self.buttons else self._end(Result.MISSED, now)
        if self._state is _State.STEP:
            return self._advance(now)
        return None

    def _offer(self, now: float) -> Card:
        self._state = _State.OFFER
        wait = self.knobs.offer_timeout_s if self.buttons else self.knobs.transition_s
        self.deadline = now + wait
        n, minutes = len(self.routine.steps), _minutes(self.routine.total_s)
        # The headline may carry file or device names: it goes in the body, which the
        # notifier escapes; the summary is plain text on every server, so it stays ours.
        body = f"{self.headline}\n{n} stretches, about {minutes} min."
        if not self.buttons:
            body += f" Starting in {wait:.0f} s."
        elif self._snoozes >= self.knobs.max_snoozes:
            body += " Last reminder."
        buttons = OFFER_BUTTONS if self.buttons else ()
        return Card("offer", f"Cool-down: {self.routine.name}", body, buttons)

    def _begin(self, now: float) -> Card:
        self._started_at = now
        self._index = 0
        return self._step(now)

    def _step(self, now: float) -> Card:
        self._state = _State.STEP
        step = self.routine.steps[self._index]
        self.deadline = now + step.hold_s + self.knobs.transition_s
        return self._step_card(step)

    def _step_card(self, step: Step) -> Card:
        n = len(self.routine.steps)
        title = f"{self._index + 1}/{n} {step.title}"
        if step.side in SIDES:
            title += f" ({SIDES[step.side]})"
        body = f"{step.text}\nHold {step.hold_s} s."
        buttons = STEP_BUTTONS if self.buttons else ()
        return Card("step", title, body, buttons, self._index, step)

    def _advance(self, now: float) -> Effect:
        self._index += 1
        if self._index >= len(self.routine.steps):
            return self._end(Result.COMPLETED, now)
        return self._step(now)

    def _end(self, result: Result, now: float) -> Effect:
        self._state = _State.DONE
        self._result = result
        self._ended_at = now
        self.deadline = None
        if result is Result.COMPLETED or result is Result.STOPPED:
            return self._done_card(now)
        return Hide(result.value)

    def _done_card(self, now: float) -> Card:
        title = "Cool-down done" if self._result is Result.COMPLETED else "Cool-down stopped"
        stretched = now - (self._started_at if self._started_at is not None else now)
        parts = [f"Level: {level_word(self.level)}"]
        if self.load is not None:
            parts.append(f"load {self.load:.0f}")
        parts.append(f"{_minutes(stretched)} min stretched" if stretched >= 60 else
                     "under a minute stretched")
        if self.hrr60 is not None:
            parts.append(f"HRR60 {self.hrr60} bpm")
        body = ", ".join(parts) + f". {self._index}/{len(self.routine.steps)} stretches."
        return Card("done", title, body)


def _minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))


@dataclass(frozen=True)
class QuietHours:
    """A daily quiet window in local minutes since midnight; may wrap past midnight."""

    start_min: int
    end_min: int

    @classmethod
    def parse(cls, spec: str) -> QuietHours | None:
        """Parse ``"22:00-07:00"``; an empty spec means no quiet hours."""
        spec = spec.strip()
        if not spec:
            return None
        try:
            start, end = (_hhmm(part) for part in spec.split("-"))
        except ValueError:
            raise ConfigError(
                f"notify.quiet_hours: {spec!r} is not a time range; write it like \"22:00-07:00\""
            ) from None
        return cls(start, end)

    def wait_s(self, seconds_of_day: float) -> float:
        """Seconds until the window ends if local time ``seconds_of_day`` is inside it, else 0."""
        start, end, t = self.start_min * 60, self.end_min * 60, seconds_of_day % 86400
        if start == end:
            return 0.0
        if start < end:
            return end - t if start <= t < end else 0.0
        if t >= start:
            return 86400 - t + end
        return end - t if t < end else 0.0


def _hhmm(text: str) -> int:
    hours, minutes = text.strip().split(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60 and h * 60 + m <= 1440) or len(minutes) != 2:
        raise ValueError(text)
    return h * 60 + m


def plan_offer(
    now: float, ended_at: float, seconds_of_day: float, quiet: QuietHours | None, max_age_s: float
) -> float | None:
    """When to show the offer for a workout that ended at ``ended_at``; None = drop it.

    ``seconds_of_day`` is the caller's local time of ``now`` (the core reads no clock).
    An offer inside quiet hours is deferred to their end if still within ``max_age_s``.
    """
    wait = quiet.wait_s(seconds_of_day) if quiet else 0.0
    at = now + wait
    return at if at - ended_at <= max_age_s else None
