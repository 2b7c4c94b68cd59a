"""Drive a Coach with a Notifier: show its cards, feed it presses and its own timers."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

from cooldownd.core.coach import Card, Coach, Effect, Hide, Outcome
from cooldownd.desktop.notify import Notifier, Press

log = logging.getLogger(__name__)


async def walk(coach: Coach, notifier: Notifier, *, clock: Callable[[], float] = time.time,
               on_effect: Callable[[Effect, Coach], None] | None = None) -> Outcome:
    """Run one walk-through to its end and return the outcome.

    Sleeps until the coach's deadline or a press, whichever comes first (no polling).
    A press on a card that is no longer shown (a race with auto-advance) is ignored.
    ``on_effect`` hears every card shown or hidden (the daemon's status for status bars).
    """
    while not notifier.presses.empty():  # presses left over from an earlier walk
        notifier.presses.get_nowait()
    effect = coach.start(clock())
    shown = await _apply(notifier, effect, None)
    if on_effect is not None:
        on_effect(effect, coach)
    while not coach.done:
        press = await _next_press(notifier.presses, coach.deadline, clock)
        if press is None:
            effect = coach.tick(clock())
        elif press.card != shown:
            log.debug("walk: ignoring %r pressed on an older card", press.button)
            continue
        else:
            log.info("walk: %r pressed on %r", press.button, press.card.title)
            effect = coach.press(press.button, clock())
        shown = await _apply(notifier, effect, shown)
        if on_effect is not None and effect is not None:
            on_effect(effect, coach)
    outcome = coach.outcome
    log.info("walk: %s ended %s after %d steps", coach.routine.name,
             outcome.result.value if outcome.result else "?", outcome.steps_done)
    return outcome


async def _next_press(
    presses: asyncio.Queue[Press], deadline: float | None, clock: Callable[[], float]
) -> Press | None:
    """The next press, or None once ``deadline`` (clock time) has passed."""
    if deadline is None:
        return await presses.get()
    wait = deadline - clock()
    if wait <= 0:
        return None
    try:
        async with asyncio.timeout(wait):
            return await presses.get()
    except TimeoutError:
        return None


async def _apply(notifier: Notifier, effect: Effect | None, shown: Card | None) -> Card | None:
    """Show or hide; returns the card now on screen."""
    if effect is None:
        return shown
    if isinstance(effect, Hide):
        await notifier.close()
        return None
    await notifier.show(effect)
    return effect
