"""The cards of a walk-through as a person reads them: the offer, a live step, the closing card.

Pure: the coach (``core/coach.py``) decides which card is on screen and when; this file only says
what it reads, with the words from ``core/wording.py``. All strings are plain text; escaping is the
notifier's job (the offer's headline may carry file or device names, so it goes in the body).
"""

from __future__ import annotations

from dataclasses import dataclass

from cooldownd.core import wording
from cooldownd.core.model import Routine, Step

OFFER_BUTTONS = (("start", "Start"), ("later", "Later"), ("skip", "Skip"))
STEP_BUTTONS = (("next", "Next"), ("stop", "Stop"))
SIDES = wording.SIDE_WORDS


@dataclass(frozen=True)
class Card:
    """One bubble: ``kind`` is offer, step or done; ``buttons`` are (id, label) pairs; a step card has its ``step``.

    ``seq`` names the card: an in-place ``update`` (time left on a step) keeps it, so a press made
    on the card before an update still belongs to it. ``progress`` is the hold's 0-100.
    """

    kind: str
    title: str
    body: str
    buttons: tuple[tuple[str, str], ...] = ()
    step_index: int | None = None
    step: Step | None = None  # what a step card shows (its picture, cues and voice come from it)
    seq: int = 0
    update: bool = False
    progress: int | None = None


@dataclass(frozen=True)
class Topic:
    """What an offer is about: its title and first line (``wording.offer_title``/``workout_line``)."""

    title: str = "Time for a cool-down"
    line: str = ""


def offer_card(routine: Routine, topic: Topic, *, seq: int, buttons: bool, start_in: float | None,
               last: bool, hint: str) -> Card:
    """The offer: "Cool-down after your hard ride" / "45 min ride, load 85: 6 stretches, about 4 min."."""
    what = wording.stretches(len(routine.steps), routine.total_s)
    lines = [f"{topic.line}: {what}." if topic.line else f"{what[0].upper()}{what[1:]}."]
    if start_in is not None:
        lines.append(f"Starting in {max(1, round(start_in))} s.")
    elif last:
        lines.append("Last reminder.")
    if hint:
        lines.append(hint)
    return Card("offer", topic.title, "\n".join(lines), OFFER_BUTTONS if buttons else (), seq=seq)


def step_card(routine: Routine, index: int, *, seq: int, buttons: bool, left_s: float | None,
              resting: bool, hint: str) -> Card:
    """A step; ``left_s`` None = just shown, else the time left of the hold; ``resting`` = hold over."""
    steps = routine.steps
    step = steps[index]
    title = f"{index + 1}/{len(steps)} {step.title}"
    if step.side in SIDES:
        title += f" ({SIDES[step.side]})"
    lines = [step.text]
    if index == 0:
        lines.append(wording.SAFETY)
    doing = wording.how_long(step.hold_s, step.moves, step.reps)
    if resting:
        lines.append("Well done. Ease out of it.")
    elif left_s is None:
        lines.append(f"{doing}.")
    else:
        lines.append(f"{doing}: {wording.time_left(left_s)}.")
    after = steps[index + 1] if index + 1 < len(steps) else None
    lines.append(wording.up_next(after.title if after else None, after.side if after else None))
    if hint and index == 0:
        lines.append(hint)
    done_s = step.hold_s if resting else 0 if left_s is None else step.hold_s - left_s
    progress = max(0, min(100, round(100 * done_s / step.hold_s))) if step.hold_s else 100
    return Card("step", title, "\n".join(lines), STEP_BUTTONS if buttons else (), index, step, seq,
                update=resting or left_s is not None, progress=progress)


def done_card(routine: Routine, *, seq: int, stopped: bool, held: int, stretched_s: float,
              hrr60: int | None) -> Card:
    """The closing card, honestly timed: "3 min 10 s of stretching, 6 of 6 stretches held through."."""
    total = len(routine.steps)
    if stopped:
        title = "Cool-down stopped"
    elif held == total:
        title = "Cool-down done"
    else:
        title = "Cool-down over, some stretches cut short"
    lines = [wording.done_line(stretched_s, held, total)]
    if hrr60 is not None and hrr60 > 0:
        lines.append(wording.recovery(hrr60))
    return Card("done", title, "\n".join(lines), seq=seq)


def update_marks(hold_s: float) -> list[float]:
    """Seconds left at which a step's card is updated in place: a few per hold, never a flood."""
    every = max(5, 5 * -(-hold_s // 20))  # a quarter of the hold, in whole 5 s
    marks, left = [], hold_s - every
    while left > 0:
        marks.append(left)
        left -= every
    return marks
