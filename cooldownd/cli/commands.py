"""The one-shot commands: import, scan, routine, demo (``run`` and ``status`` live in app.py).

asyncio is imported inside the commands that run a loop: ``import`` starts without it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cooldownd.core.model import Level, Routine
from cooldownd.record import lines
from cooldownd.record.summary import Result

if TYPE_CHECKING:
    from cooldownd.core.coach import Outcome
    from cooldownd.settings import Settings
    from cooldownd.core.routines import Library

log = logging.getLogger(__name__)


def _load(explicit: str | None) -> Settings:
    from cooldownd import settings as cfg

    return cfg.load(explicit)[0]


def this_year() -> int:
    """The current year, for age-based estimates (the core reads no clock)."""
    return dt.date.today().year


# -- demo and routine ---------------------------------------------------------------------------
def _shortened(routine: Routine, hold_s: int) -> Routine:
    return replace(routine, steps=tuple(replace(s, hold_s=min(s.hold_s, hold_s)) for s in routine.steps))


def cmd_demo(args: argparse.Namespace) -> int:
    """A synthetic hard ride through the real intensity -> routine -> walk-through path."""
    return _foreground(_demo(_load(args.config), args.fast))


async def _demo(settings: Settings, fast: bool) -> int:
    from cooldownd.core.hrcurve import compact
    from cooldownd.core.wording import (
        format_duration, level_word, offer_title, result_word, sport_word, stretches, workout_line)
    from cooldownd.core.routines import choose
    from cooldownd.cli.demo import DEMO_ATHLETE, synthetic_ride
    from cooldownd.record.recorder import Rules, summarise
    from cooldownd.routinefile import load_library

    library = load_library(settings.routines.file)
    workout = synthetic_ride(end=time.time())
    # the recorder's own assess -> routine -> headline, as for a stored workout (the demo stores nothing)
    a = summarise(workout, Rules(DEMO_ATHLETE, settings.intensity_knobs(), library, this_year()), None).summary
    routine = choose(library, a.level, workout.sport, workout.sub_sport)
    if fast:
        routine = _shortened(routine, 1)
    print(f"demo: a synthetic {format_duration(a.duration_s or 0)} {sport_word(workout.sport, workout.sub_sport)}, "
          f"average heart rate {a.avg_hr:.0f} bpm, normalized power {a.np:.0f} W (intensity {a.if_:.2f}, "
          f"TSS {a.tss:.0f})\ndemo: {level_word(a.level)}: load {a.load:.0f} from power, FTP {DEMO_ATHLETE.ftp} W "
          f"(the demo's rider, not your settings); "
          f"{stretches(len(routine.steps), routine.total_s)}", flush=True)
    outcome = await _walk_here(settings, library, routine, workout_line(workout.sport, workout.sub_sport,
                                                                       a.duration_s, a.load),
                               title=offer_title(a.level, workout.sport, workout.sub_sport), start_after=1.0 if fast
                               else 15.0, fast=fast, load=a.load, hrr60=workout.hrr60, ended_at=workout.end,
                               curve=(workout.start, compact(((r.t, r.hr) for r in workout.records), workout.start,
                                                             workout.end)))
    print(f"demo: walk-through {result_word(outcome.result) if outcome.result else 'ended'}, "
          f"{outcome.steps_done} of {len(routine.steps)} steps held through", flush=True)
    return 0


def cmd_routine(args: argparse.Namespace) -> int:
    """Print a routine, or walk through it now."""
    from cooldownd.core.routines import choose
    from cooldownd.core.wording import SIDE_WORDS, how_long, level_word, routine_line
    from cooldownd.routinefile import load_library

    settings = _load(args.config)
    library = load_library(settings.routines.file)
    routine = choose(library, Level(args.level), args.sport)
    if args.dry_run:
        print(routine_line(routine.level, routine.group, len(routine.steps), routine.total_s))
        for i, step in enumerate(routine.steps, 1):
            side = f" ({SIDE_WORDS.get(step.side, step.side)})" if step.side else ""
            print(f"{i:>2}. {step.title}{side}: {how_long(step.hold_s, step.moves, step.reps)}. {step.text}")
        return 0
    title = f"Cool-down, {level_word(routine.level)} routine"
    return _foreground(_walk_here(settings, library, routine, "", title=title, start_after=0.0))


async def _walk_here(settings: Settings, library: Library, routine: Routine, headline: str, *, title: str,
                     start_after: float, fast: bool = False, curve: tuple[float, Any] | None = None,
                     **about: Any) -> Outcome:
    """Walk through ``routine`` in the foreground; ``cooldownd next`` and the like reach it too.

    ``curve``: the workout's start and compact heart-rate curve, for the done card's chart.
    """
    from cooldownd.desktop.control import serving
    from cooldownd.desktop.cues import WorkoutCurve, notifier_for
    from cooldownd.desktop.offers import AutoStart, coach_knobs, present
    from cooldownd.desktop.walk import Stage

    knobs = coach_knobs(settings.notify)
    if fast:
        knobs = replace(knobs, transition_s=0.3, offer_timeout_s=60)
    notifier = await notifier_for(settings, library)
    if curve is not None:
        notifier.cues.workout = WorkoutCurve(*curve)
    print(f"cooldownd: the cool-down is on the {notifier.name}; Ctrl-C ends it", flush=True)
    stage = Stage()
    try:
        async with serving(stage, take_over=True):
            return await present(routine, headline, AutoStart(notifier, start_after), knobs, title=title,
                                 level=routine.level, stage=stage, **about)
    finally:
        await notifier.aclose()


def _foreground(walk: Coroutine[Any, Any, Any]) -> int:
    """Run a foreground walk-through: Ctrl-C and SIGTERM close its bubble first (no dead buttons left)."""
    import asyncio
    import signal

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            return await walk
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    try:
        result = asyncio.run(main())
    except asyncio.CancelledError:
        return 128 + signal.SIGTERM
    return result if isinstance(result, int) else 0


# -- scan ---------------------------------------------------------------------------------------
def cmd_scan(args: argparse.Namespace) -> int:
    """List heart-rate devices nearby."""
    from cooldownd.live.scan import scan

    settings = _load(args.config)
    import asyncio
    devices = asyncio.run(scan(args.timeout, adapter=settings.ble.adapter))
    if not devices:
        print(f"no heart-rate devices found in {args.timeout:g} s (is the strap worn, or broadcasting?)")
        return 0
    for d in sorted(devices, key=lambda d: -(d.rssi if d.rssi is not None else -999)):
        print(f"{d.address}  {d.rssi if d.rssi is not None else '?':>4} dBm  {d.name or '(no name)'}")
    return 0


# -- import -------------------------------------------------------------------------------------
class _Progress:
    """Live progress on a terminal (count, current file, rate); silent when stderr is not a tty."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.t0 = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int, name: str) -> None:
        now = time.monotonic()
        if not self.tty or now - self.last < 0.2:
            return
        self.last = now
        rate = done / max(now - self.t0, 1e-6)
        short = name if len(name) <= 50 else "..." + name[-47:]
        sys.stderr.write(f"\r\033[K{done} files, {rate:.1f}/s  {short}")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.tty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _human(r: Result) -> str:
    if r.status in ("skipped", "error"):
        return f"{r.status:<9} {r.file}: {r.error}"
    if r.status == "duplicate" or r.summary is None:
        return f"duplicate {r.file}" + (f": {r.error}" if r.error else "")
    from cooldownd.core.wording import format_duration, level_word, sport_word

    s = r.summary
    note = f"  ({s.note})" if s.note else ""
    why = s.reason or (level_word(s.level) + ("" if s.load is None else f", load {round(s.load)}"))
    return f"imported  {r.file}: {format_duration(s.duration_s or 0)} {sport_word(s.sport, s.sub_sport)}, {why}{note}"


def print_result(r: Result, as_json: bool) -> None:
    """One import result: a JSON object (``--json``) or a human line."""
    print(json.dumps(lines.import_line(r)) if as_json else _human(r), flush=True)


def cmd_import(args: argparse.Namespace) -> int:
    """Import files, print one line (or JSON object) each, then offer the newest recent workout."""
    from cooldownd.fit.fastfit import keep_plans
    from cooldownd.imports.bulk import import_many
    from cooldownd.imports.worker import WORKER_PLANS
    from cooldownd.routinefile import load_library
    from cooldownd.quicksettings import snapshot
    from cooldownd.daemon.instance import open_store

    keep_plans(WORKER_PLANS)  # this process ends with the import: as many decoding plans as a worker keeps
    settings = snapshot(args.config)  # no pydantic: the full settings only to offer (offer_after_import)
    library = load_library(settings.routines.file)
    store = open_store(settings)
    progress = _Progress()
    t0 = time.monotonic()
    from cooldownd.cli.reassess import say_changes
    from cooldownd.record.asof import reassess_if_changed, rules_of

    try:
        changed = reassess_if_changed(store, rules_of(settings, library))
        if changed is not None:
            say_changes(changed, "your [athlete] or [intensity] settings changed since they were assessed")
        counts, results = tally(import_many(
            args.paths, store=store, athlete=settings.athlete_profile(),
            knobs=settings.intensity_knobs(), library=library, this_year=this_year(), jobs=args.jobs,
            progress=progress, on_reassessed=lambda c: say_changes(c, "older workouts imported now came before them")),
            args.json, progress.clear)
        progress.clear()
        n = sum(counts.values())
        print(f"{n} input{'s' if n != 1 else ''} in {time.monotonic() - t0:.1f} s: {summary(counts)}", file=sys.stderr)
        if not args.no_notify:
            offer_after_import(store, lambda: _load(args.config), library, results)
    finally:
        store.close()
    return 1 if counts.get("error") else 0


def tally(rows: Iterable[Result], as_json: bool, before_each: Callable[[], None] | None = None
          ) -> tuple[dict[str, int], list[Result]]:
    """Print each import result as it comes; count them by status and keep them for the offer."""
    counts: dict[str, int] = {}
    kept: list[Result] = []
    for r in rows:
        if before_each is not None:
            before_each()
        counts[r.status] = counts.get(r.status, 0) + 1
        kept.append(r)
        print_result(r, as_json)
    return counts, kept


def summary(counts: dict[str, int]) -> str:
    """ "2 imported, 0 duplicate, 1 skipped, 0 error"."""
    return ", ".join(f"{counts.get(k, 0)} {k}" for k in ("imported", "duplicate", "skipped", "error"))


def offer_after_import(store, full: Callable[[], Settings], library, results: list[Result]) -> None:
    """Offer the newest recent workout: hand it to a running daemon, else on this desktop; else say why not.

    ``full()``: the validated settings (built only when something was imported)."""
    from cooldownd.daemon.instance import signal_daemon
    from cooldownd.desktop.offers import newest_unoffered, offer_candidates, offer_workout

    if not any(r.status == "imported" for r in results):
        return
    settings = full()
    now = time.time()
    recent, why = offer_candidates(store.workouts(limit=50), now, settings.notify.max_age)
    if not recent:
        print(f"not offered: {why}", flush=True)
        return
    if signal_daemon(settings):
        print("cool-down offered on the desktop by the running cooldownd "
              "(there, or: cooldownd start | later | stop)", flush=True)
        return
    workout_id = newest_unoffered(store, now, settings.notify.max_age)
    if workout_id is not None:
        _foreground(offer_workout(store, workout_id, settings, library))
