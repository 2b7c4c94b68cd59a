"""Drive a Coach with a Notifier: show its cards, feed it presses, commands and its own timers.

Timers run on the steady clock (``CLOCK_BOOTTIME``: never steps, counts suspended time), stamps on
the wall clock. asyncio's own timers stop during a suspend, so no sleep is longer than ``WAKE_S``:
a deadline that passed while the machine slept is acted on soon after it wakes (one wake-up per
``WAKE_S`` only while a long timer runs, such as a snooze; none otherwise).

However the walk ends, it leaves no card with buttons: done and stopped show a closing card without
buttons; a cancellation (Ctrl-C, SIGTERM) closes the bubble and records ``interrupted``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from cooldownd.clock import steady
from cooldownd.core.coach import Card, Coach, Effect, Hide, Outcome
from cooldownd.core.wording import result_word
from cooldownd.desktop.notify import CALL_TIMEOUT_S, Notifier, Press

log = logging.getLogger(__name__)

WAKE_S = 30.0


class Stage:
    """The walk on screen, as commands see it (``cooldownd next``): its card and where presses go."""

    def __init__(self) -> None:
        self.coach: Coach | None = None
        self.card: Card | None = None  # None while snoozed
        self.presses: asyncio.Queue[Press] | None = None

    @property
    def active(self) -> bool:
        """Whether a walk-through is running."""
        return self.coach is not None and not self.coach.done


async def walk(coach: Coach, notifier: Notifier, *, clock: Callable[[], float] = steady,
               wall: Callable[[], float] = time.time, stage: Stage | None = None,
               on_change: Callable[[Coach, Notifier], None] | None = None,
               until: Callable[[Coach], bool] | None = None) -> Outcome:
    """Run one walk-through to its end (or until ``until(coach)``) and return the outcome.

    Sleeps until the coach's deadline or a press, whichever comes first. A press made on a card
    that is no longer shown is ignored. ``on_change`` hears of every new card or hidden bubble.
    """
    while not notifier.presses.empty():  # presses left over from an earlier walk
        notifier.presses.get_nowait()
    stage = stage if stage is not None else Stage()
    stage.coach, stage.card, stage.presses = coach, None, notifier.presses
    try:
        stage.card = await _apply(notifier, coach.start(clock(), wall()), None, coach, on_change)
        while not coach.done and not (until is not None and until(coach)):
            press = await _next_press(notifier.presses, coach.deadline, clock)
            if press is None:
                effect = coach.tick(clock(), wall())
            elif not press.command and (stage.card is None or press.card.seq != stage.card.seq):
                log.debug("walk: ignoring %r pressed on an older card", press.button)
                continue
            else:
                log.info("walk: %s %s on %s", press.button, "asked" if press.command else "pressed",
                         f'"{stage.card.title}"' if stage.card else "the snoozed offer")
                effect = coach.press(press.button, clock(), wall(), guard=not press.command)
            stage.card = await _apply(notifier, effect, stage.card, coach, on_change)
            _answer(press, effect, stage.card)
    except asyncio.CancelledError:
        await _interrupted(coach, notifier, clock, wall, on_change)
        raise
    finally:
        stage.coach, stage.card = None, None
    outcome = coach.outcome
    log.debug("walk: routine %s ended", coach.routine.name)
    log.info("walk-through %s, %d of %d steps held", result_word(outcome.result) if outcome.result else "ended",
             outcome.steps_done, len(coach.routine.steps))
    return outcome


async def _interrupted(coach: Coach, notifier: Notifier, clock: Callable[[], float], wall: Callable[[], float],
                       on_change: Callable[[Coach, Notifier], None] | None) -> None:
    """Cancelled mid-way: close the bubble (bounded) and record ``interrupted``; the caller re-raises."""
    effect = coach.interrupt(clock(), wall())
    if effect is None:
        return
    try:
        async with asyncio.timeout(CALL_TIMEOUT_S):
            await asyncio.shield(notifier.close())
    except (TimeoutError, asyncio.CancelledError):
        log.warning("walk: the bubble could not be closed in time")
    if on_change is not None:
        on_change(coach, notifier)


def _answer(press: Press | None, effect: Effect | None, shown: Card | None) -> None:
    """Tell a command what its press did."""
    if press is None or press.reply is None or press.reply.done():
        return
    if effect is None:
        press.reply.set_result("")
    elif isinstance(effect, Hide):
        press.reply.set_result(effect.reason)
    else:
        press.reply.set_result(shown.title if shown else "")


async def _next_press(
    presses: asyncio.Queue[Press], deadline: float | None, clock: Callable[[], float]
) -> Press | None:
    """The next press, or None once ``deadline`` (steady time) is reached or ``WAKE_S`` passed."""
    wait = WAKE_S if deadline is None else min(WAKE_S, deadline - clock())
    if wait <= 0:
        return None
    try:
        async with asyncio.timeout(wait):
            return await presses.get()
    except TimeoutError:
        return None


async def _apply(notifier: Notifier, effect: Effect | None, shown: Card | None, coach: Coach,
                 on_change: Callable[[Coach, Notifier], None] | None) -> Card | None:
    """Show or hide; returns the card now on screen."""
    if effect is None:
        return shown
    if isinstance(effect, Hide):
        await notifier.close()
        shown = None
    else:
        await notifier.show(effect)
        shown = effect
    if on_change is not None and not (isinstance(effect, Card) and effect.update):
        on_change(coach, notifier)
    return shown
