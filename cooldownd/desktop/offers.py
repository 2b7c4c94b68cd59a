"""From an assessed workout to a finished walk-through: the one path demo, routine, import and run share.

Also the notify rule (``newest_unoffered``) and offering a stored workout after quiet hours.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from cooldownd.core.coach import Card, Coach, CoachKnobs, Effect, Hide, Outcome, QuietHours, plan_offer
from cooldownd.core.model import Level, Routine
from cooldownd.core.routines import Library, choose
from cooldownd.desktop.notify import Notifier, Press
from cooldownd.ports import StatusSink
from cooldownd.record.summary import Summary
from cooldownd.settings import NotifySettings, Settings
from cooldownd.store import AsyncStore, Store
from cooldownd.desktop.walk import walk

log = logging.getLogger(__name__)


def coach_knobs(notify: NotifySettings) -> CoachKnobs:
    """The walk-through timers from ``[notify]``."""
    return CoachKnobs(offer_timeout_s=notify.offer_timeout, transition_s=notify.transition,
                      snooze_s=notify.snooze, max_snoozes=notify.max_snoozes)


def outcome_dict(outcome: Outcome) -> dict[str, Any]:
    """An outcome as stored and shown by ``history --json``."""
    return {"offered_at": outcome.offered_at, "started_at": outcome.started_at, "steps_done": outcome.steps_done,
            "snoozes": outcome.snoozes, "result": outcome.result.value if outcome.result else None,
            "ended_at": outcome.ended_at}


def routine_for(summary: Summary, library: Library) -> Routine:
    """The routine matching a stored summary's level and sport."""
    return choose(library, summary.level, summary.sport, summary.sub_sport)


def offer_time(summary_end: float, now: float, notify: NotifySettings) -> float | None:
    """When to show the offer for a workout that ended at ``summary_end``: now, after quiet hours, or None."""
    local = dt.datetime.fromtimestamp(now).astimezone()
    seconds_of_day = local.hour * 3600 + local.minute * 60 + local.second
    quiet = QuietHours.parse(notify.quiet_hours or "")
    return plan_offer(now, summary_end, seconds_of_day, quiet, notify.max_age)


class AutoStart:
    """Presses Start on an offer nobody answered after ``delay`` s (the demo has no user to click)."""

    def __init__(self, inner: Notifier, delay: float) -> None:
        self.inner, self.delay = inner, delay
        self.name, self.has_buttons, self.presses = inner.name, inner.has_buttons, inner.presses

    async def show(self, card: Card) -> None:
        await self.inner.show(card)
        if card.kind == "offer" and self.has_buttons:
            # A timer callback, not a task: the walk ignores it if another card is up by then.
            asyncio.get_running_loop().call_later(self.delay, self.presses.put_nowait, Press("start", card))

    async def close(self) -> None:
        await self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()


async def present(routine: Routine, title: str, notifier: Notifier, knobs: CoachKnobs, *,
                  level: Level | None = None, load: float | None = None, hrr60: int | None = None,
                  clock: Callable[[], float] = time.time, on_effect: Callable[..., None] | None = None) -> Outcome:
    """Offer ``routine`` and walk through it on ``notifier``; returns how it ended."""
    coach = Coach(routine, title, knobs, buttons=notifier.has_buttons, hrr60=hrr60, level=level, load=load)
    return await walk(coach, notifier, clock=clock, on_effect=on_effect)


async def present_stored(summary: Summary, library: Library, settings: Settings, notifier: Notifier,
                         clock: Callable[[], float] = time.time,
                         on_effect: Callable[..., None] | None = None) -> Outcome:
    """Offer the cool-down for a stored workout summary."""
    return await present(routine_for(summary, library), summary.headline, notifier, coach_knobs(settings.notify),
                         level=summary.level, load=summary.load, hrr60=summary.hrr60, clock=clock,
                         on_effect=on_effect)


def walk_status(effect: Effect, coach: Coach, title: str, now: float) -> dict[str, Any] | None:
    """The ``walk`` entry of the daemon's status for the card just shown or hidden (None: the walk ended).

    ``state`` is offer, snoozed, step or done; a step has ``step`` (1-based), ``steps``, its ``title`` and
    ``ends_at`` (wall clock: when its hold ends). Status bars (``status --follow``) read these.
    """
    if isinstance(effect, Hide):
        if effect.reason != "snoozed":
            return None
        return {"state": "snoozed", "title": title, "until": now + coach.knobs.snooze_s}
    if effect.kind == "step" and effect.step_index is not None:
        step = coach.routine.steps[effect.step_index]
        return {"state": "step", "title": step.title, "side": step.side, "step": effect.step_index + 1,
                "steps": len(coach.routine.steps), "hold_s": step.hold_s, "ends_at": now + step.hold_s}
    return {"state": effect.kind, "title": title if effect.kind == "offer" else effect.title}


def newest_unoffered(store: Store, now: float, max_age_s: float) -> int | None:
    """The newest recent workout never offered; older unoffered ones are marked superseded (never nagged)."""
    recent = []
    for row in store.workouts(limit=50):  # newest end first
        if row.end < now - max_age_s or store.was_offered(row.id):
            break  # too old, or a newer workout was already offered: never nag about an older one
        if row.end <= now + 60:
            recent.append(row)
    if not recent:
        return None
    with store.transaction():
        for row in recent[1:]:
            store.record_outcome(row.id, {"offered_at": None, "result": "superseded"})
    return recent[0].id


async def offer_workout_async(store: AsyncStore, workout_id: int, settings: Settings, library: Any,
                              notifier: Any, status: StatusSink | None = None, *, wait: bool = True) -> None:
    """Wait out quiet hours, offer, walk through, store the outcome. Never offers a workout twice.

    ``wait=False`` (a one-shot command) does not sit through quiet hours: it leaves the offer to the daemon.
    """
    row = await store.call(lambda s: s.get_workout(s.current(workout_id)))  # a richer copy may have come
    if row is None or await store.call(Store.was_offered, workout_id):
        return
    at = offer_time(row.end, time.time(), settings.notify)
    if at is None:
        log.info("workout %d: not offered (quiet hours past notify.max_age)", workout_id)
        await store.call(Store.record_outcome, workout_id, {"offered_at": None, "result": "dropped_quiet_hours"})
        return
    if not wait and at > time.time() + 1:
        until = time.strftime("%H:%M", time.localtime(at))
        print(f"quiet hours until {until}: not offering the cool-down now")
        return
    if status is not None:
        status.update(pending_offer={"workout": workout_id, "at": at})
    await asyncio.sleep(max(0.0, at - time.time()))
    await store.call(Store.mark_offered, workout_id, time.time())
    cues = getattr(notifier, "cues", None)
    if cues is not None:  # the done card's chart
        from cooldownd.desktop.cues import WorkoutCurve

        cues.workout = WorkoutCurve(row.start, await store.call(Store.hr_curve, workout_id))
    publish = None
    if status is not None:
        def publish(effect: Effect, coach: Coach) -> None:
            status.update(walk=walk_status(effect, coach, row.summary.headline, time.time()))
    try:
        outcome = await present_stored(row.summary, library, settings, notifier, on_effect=publish)
        await store.call(Store.record_outcome, workout_id, outcome_dict(outcome))
    finally:
        if status is not None:  # one write: a status bar never sees the offer again after the walk
            status.update(walk=None, pending_offer=None)


async def offer_workout(store: Store, workout_id: int, settings: Settings, library: Any) -> None:
    """Offer a stored workout from a one-shot command (no daemon running)."""
    from cooldownd.desktop.cues import notifier_for

    astore = AsyncStore(store)
    notifier = await notifier_for(settings, library)
    try:
        await offer_workout_async(astore, workout_id, settings, library, notifier, wait=False)
    finally:
        await notifier.aclose()
        astore.stop()  # the caller keeps and closes the store itself
