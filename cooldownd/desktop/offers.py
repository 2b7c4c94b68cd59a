"""From an assessed workout to a finished walk-through: the one path demo, routine, import and run share.

Also the notify rule (``newest_unoffered``, and why a workout is not offered) and offering a stored
workout after quiet hours. An offer's progress is written down as it goes (``record_progress``), so
a restart finds a pending or snoozed offer and a cut-off walk-through (``desktop/pending.py``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from cooldownd.core import wording
from cooldownd.core.coach import Card, Coach, CoachKnobs, Outcome, Phase, QuietHours, plan_offer
from cooldownd.core.model import Level, Routine
from cooldownd.core.routines import Library, choose
from cooldownd.desktop.notify import Notifier, Press
from cooldownd.desktop.pending import Resume
from cooldownd.desktop.walk import WAKE_S, Stage, walk
from cooldownd.ports import StatusSink
from cooldownd.record.summary import Summary
from cooldownd.settings import NotifySettings, Settings
from cooldownd.asyncstore import AsyncStore
from cooldownd.store import Store, WorkoutRow

log = logging.getLogger(__name__)


def coach_knobs(notify: NotifySettings) -> CoachKnobs:
    """The walk-through timers from ``[notify]``."""
    return CoachKnobs(offer_timeout_s=notify.offer_timeout, transition_s=notify.transition,
                      snooze_s=notify.snooze, max_snoozes=notify.max_snoozes, max_age_s=notify.max_age)


def outcome_dict(outcome: Outcome) -> dict[str, Any]:
    """An outcome as stored and shown by ``history --json``."""
    return {"offered_at": outcome.offered_at, "started_at": outcome.started_at, "steps_done": outcome.steps_done,
            "snoozes": outcome.snoozes, "result": outcome.result.value if outcome.result else None,
            "ended_at": outcome.ended_at, "step_seconds": list(outcome.step_seconds),
            "stretched_s": outcome.stretched_s}


def progress_dict(coach: Coach, notifier: Notifier) -> dict[str, Any]:
    """What a restart needs of a walk-through under way: its phase, snoozes, the bubble on screen."""
    state = outcome_dict(coach.outcome)
    state.update(phase=coach.phase.value, snoozed_until=coach.snoozed_until,
                 bubble=getattr(notifier, "on_screen", None))
    return state


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
        self.hint = inner.hint

    async def show(self, card: Card) -> None:
        await self.inner.show(card)
        if card.kind == "offer" and self.has_buttons:
            # A timer callback, not a task: the walk ignores it if another card is up by then.
            asyncio.get_running_loop().call_later(self.delay, self.presses.put_nowait, Press("start", card))

    async def close(self) -> None:
        await self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()


async def present(routine: Routine, headline: str, notifier: Notifier, knobs: CoachKnobs, *,
                  title: str | None = None, ended_at: float | None = None, level: Level | None = None,
                  load: float | None = None, hrr60: int | None = None, snoozes: int = 0,
                  stage: Stage | None = None, on_change: Callable[[Coach, Notifier], None] | None = None,
                  until: Callable[[Coach], bool] | None = None) -> Outcome:
    """Offer ``routine`` and walk through it on ``notifier``; returns how it ended."""
    coach = Coach(routine, headline, knobs, buttons=notifier.has_buttons, hrr60=hrr60, level=level, load=load,
                  title=title, ended_at=ended_at, snoozes=snoozes, hint=notifier.hint)
    return await walk(coach, notifier, stage=stage, on_change=on_change, until=until)


async def present_stored(row: WorkoutRow, library: Library, settings: Settings, notifier: Notifier, *,
                         snoozes: int = 0, stage: Stage | None = None,
                         on_change: Callable[[Coach, Notifier], None] | None = None,
                         until: Callable[[Coach], bool] | None = None) -> Outcome:
    """Offer the cool-down for a stored workout: "Cool-down after your hard ride"."""
    s = row.summary
    line = wording.workout_line(s.sport, s.sub_sport, s.duration_s, s.load, s.reason)
    return await present(routine_for(s, library), line, notifier, coach_knobs(settings.notify),
                         title=wording.offer_title(s.level, s.sport, s.sub_sport),
                         ended_at=s.end, level=s.level, load=s.load, hrr60=s.hrr60, snoozes=snoozes,
                         stage=stage, on_change=on_change, until=until)


def _snoozed(coach: Coach) -> bool:
    return coach.phase is Phase.SNOOZED


def offer_candidates(rows: Sequence[WorkoutRow], now: float, max_age_s: float) -> tuple[list[WorkoutRow], str]:
    """Recent workouts never offered, newest first (rows come newest end first); when none, why not."""
    recent: list[WorkoutRow] = []
    for row in rows:
        if row.offered_at is not None or row.outcome is not None:
            why = "already offered" if not recent else ""
            return recent, why or ""  # never nag about an older workout than one already offered
        if row.end < now - max_age_s:
            why = (f"ended {wording.ago(now - row.end)} ago; notify.max_age is "
                   f"{wording.format_duration(max_age_s)}")
            return recent, "" if recent else why
        if row.end <= now + 60:
            recent.append(row)
    return recent, "" if recent else "no workout recorded yet"


def walk_status(coach: Coach, title: str, wall: float) -> dict[str, Any] | None:
    """The ``walk`` entry of the daemon's status when a card appears or goes (None: the walk is over).

    ``state`` is offer, snoozed (``until``, wall clock), step or done; a step has ``step`` (1-based),
    ``steps``, its ``title`` and ``side``, and ``ends_at``: when its hold ends (a step card appears as its
    hold starts; its in-place updates are not changes). Status bars read these (``status --follow``).
    """
    if coach.phase is Phase.OFFER:
        return {"state": "offer", "title": title}
    if coach.phase is Phase.SNOOZED:
        return {"state": "snoozed", "title": title, "until": coach.snoozed_until}
    if coach.phase is Phase.STEP:
        index = len(coach.outcome.step_seconds)  # one entry per step left behind
        step = coach.routine.steps[index]
        return {"state": "step", "title": step.title, "side": step.side, "step": index + 1,
                "steps": len(coach.routine.steps), "hold_s": step.hold_s, "ends_at": wall + step.hold_s}
    result = coach.outcome.result
    if result is not None and result.value in ("completed", "partial", "stopped"):
        return {"state": "done", "title": title}
    return None


def _publish(status: StatusSink | None, coach: Coach, title: str) -> None:
    if status is not None:
        status.update(walk=walk_status(coach, title, time.time()))


def newest_unoffered(store: Store, now: float, max_age_s: float) -> int | None:
    """The newest recent workout never offered; older unoffered ones are marked superseded (never nagged)."""
    recent, _ = offer_candidates(store.workouts(limit=50), now, max_age_s)
    if not recent:
        return None
    with store.transaction():
        for row in recent[1:]:
            store.record_outcome(row.id, {"offered_at": None, "result": "superseded"})
    return recent[0].id


async def sleep_until(wall_at: float) -> None:
    """Sleep until the wall clock reads ``wall_at`` (quiet hours end), noticing a suspend or a clock step."""
    while (left := wall_at - time.time()) > 0:
        await asyncio.sleep(min(left, WAKE_S))


async def offer_workout_async(store: AsyncStore, workout_id: int, settings: Settings, library: Any,
                              notifier: Any, status: StatusSink | None = None, *, wait: bool = True,
                              stage: Stage | None = None, resume: Resume | None = None) -> None:
    """Wait out quiet hours, offer, walk through, store the outcome. Never offers a workout twice.

    ``wait=False`` (a one-shot command) does not sit through quiet hours: it leaves the offer to the daemon.
    ``resume``: an offer a restart found pending or snoozed (already marked as offered) is made again.
    """
    row = await store.call(lambda s: s.get_workout(s.current(workout_id)))  # a richer copy may have come
    if row is None or (resume is None and await store.call(Store.was_offered, workout_id)):
        return
    at = offer_time(row.end, time.time(), settings.notify)
    if at is None:
        log.info("workout %d: not offered (quiet hours past notify.max_age)", workout_id)
        await store.call(Store.record_outcome, workout_id, {"offered_at": None, "result": "dropped_quiet_hours"})
        return
    if resume is not None and resume.not_before:
        at = max(at, resume.not_before)  # a snooze that was running when the last run ended
    if not wait and at > time.time() + 1:
        until = time.strftime("%H:%M", time.localtime(at))
        print(f"quiet hours until {until}: not offering the cool-down now")
        return
    if status is not None:
        status.update(pending_offer={"workout": workout_id, "at": at})
    await sleep_until(at)
    await store.call(Store.mark_offered, workout_id, time.time())
    cues = getattr(notifier, "cues", None)
    if cues is not None:  # the done card's heart-rate chart
        from cooldownd.desktop.cues import WorkoutCurve

        cues.workout = WorkoutCurve(row.start, await store.call(Store.hr_curve, row.id))  # from its time line

    def record_progress(coach: Coach, shown_on: Notifier) -> None:
        _publish(status, coach, row.summary.headline)
        state = progress_dict(coach, shown_on)
        if state["result"] == "interrupted" and coach.outcome.started_at is None:
            state.update(result=None, ended_at=None, phase=Phase.OFFER.value)  # an offer stays due after a restart
        store.submit(Store.record_outcome, workout_id, state)  # in order, on the store thread, even when cancelled

    try:
        # A one-shot command leaves a snoozed offer to the daemon rather than sit through the snooze.
        outcome = await present_stored(row, library, settings, notifier, snoozes=resume.snoozes if resume else 0,
                                       stage=stage, on_change=record_progress, until=None if wait else _snoozed)
    finally:
        if status is not None:  # one write: a status bar never sees the offer again after the walk
            status.update(walk=None, pending_offer=None)
    if outcome.result is None:
        print("left for later: cooldownd run offers it again after the snooze", flush=True)
        return
    await store.call(Store.record_outcome, workout_id, outcome_dict(outcome))


async def offer_workout(store: Store, workout_id: int, settings: Settings, library: Any) -> None:
    """Offer a stored workout from a one-shot command (no daemon running); commands reach it too."""
    from cooldownd.desktop.control import serving
    from cooldownd.desktop.cues import notifier_for

    astore = AsyncStore(store)
    notifier = await notifier_for(settings, library)
    if notifier.name == "desktop":
        print("cool-down offered on the desktop: Start there, or run cooldownd start. To leave it for later: "
              "Later, or Ctrl-C here (cooldownd run offers it again while the workout is under notify.max_age, "
              f"{wording.format_duration(settings.notify.max_age)})", flush=True)
    stage = Stage()
    try:
        async with serving(stage, take_over=True):
            await offer_workout_async(astore, workout_id, settings, library, notifier, wait=False, stage=stage)
    finally:
        await notifier.aclose()
        astore.stop()  # the caller keeps and closes the store itself
