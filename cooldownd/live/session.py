"""The live pipeline: strap events -> detector -> journal -> stored workout -> offer.

Samples are journaled to SQLite in batches at most ``FLUSH_S`` apart while a session is in
progress (warming up or in a workout), so a kill -9 loses at most that much. A restarted daemon
replays the unfinished journal: the workout resumes if the strap is back within the grace and
ends otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cooldownd.live.ble import Connected, Disconnected, HrLink, Sample, Unavailable
from cooldownd.core.detector import (IN_WORKOUT, DetectKnobs, Detector, State, WorkoutDiscarded, WorkoutEnded,
                                     WorkoutStarted)
from cooldownd.core.model import Contact, HrSample, Workout
from cooldownd.errors import StoreError
from cooldownd.store import Store

if TYPE_CHECKING:
    from cooldownd.daemon.app import Daemon

log = logging.getLogger(__name__)
FLUSH_S = 4.0  # journal batches; with the store thread's latency a kill -9 loses < 5 s
STATUS_EVERY_S = 10.0
_SESSION_STATES = IN_WORKOUT | {State.WARMING}
Row = tuple[float, int, str | None, tuple[float, ...]]


def detect_knobs(settings: Any, history_max_hr: int | None) -> DetectKnobs:
    """Detection thresholds from ``[detect]``, ``[ble]`` and the athlete's heart rates."""
    a, d = settings.athlete, settings.detect
    max_hr = a.max_hr or max(history_max_hr or 0, 185)
    resting = a.resting_hr or 60
    return DetectKnobs.for_athlete(
        resting, max_hr, start_hr=d.start_hr, end_hr=d.end_hr, start_s=d.start_s, end_s=d.end_s,
        contact_lost_s=d.contact_lost_s, reconnect_grace_s=d.reconnect_grace_s, min_duration_s=d.min_duration_s,
        quiet_s=settings.ble.quiet_s)


def _sample(row: Row) -> HrSample:
    t, bpm, contact, rr = row
    return HrSample(bpm, Contact(contact) if contact else Contact.UNSUPPORTED, None, tuple(rr))


class LiveSession:
    """One strap, one detector, one journal."""

    def __init__(self, daemon: Daemon, clock: Any = time.time) -> None:
        self.d = daemon
        self.clock = clock
        self.buffer: list[Row] = []
        self.session: int | None = None
        self.device: str | None = None
        self._status_at = 0.0
        self._retry_at = 0.0  # after a failed journal write: not before this
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        """Connect, detect and journal until cancelled."""
        store = self.d.store
        knobs = detect_knobs(self.d.settings, await store.call(Store.history_max_hr))
        detector = await self._resume(knobs)
        queue: asyncio.Queue[Any] = asyncio.Queue()
        ble = self.d.settings.ble
        link = HrLink(ble.devices, remembered=await store.call(Store.get_kv, "ble.device"),
                      on_remember=lambda address: store.submit(Store.set_kv, "ble.device", address),
                      quiet_s=ble.quiet_s, scan_s=ble.scan_s, backoff_cap_s=ble.backoff_cap_s, adapter=ble.adapter)
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(link.run(queue.put_nowait))
                await self._loop(detector, queue)
        finally:
            await asyncio.shield(self.flush())

    async def _resume(self, knobs: DetectKnobs) -> Detector:
        unfinished = await self.d.store.call(Store.journal_unfinished)
        if unfinished is None:
            return Detector(knobs)
        self.session, self.device, rows = unfinished
        now = self.clock()
        detector, events = Detector.replay(knobs, [(r[0], _sample(r)) for r in rows], now)
        log.info("journal: resuming a live session of %d samples (%s)", len(rows), detector.state.value)
        # The dead daemon already announced this workout: replay its end (if any), not its start.
        await self._handle([e for e in events if not isinstance(e, WorkoutStarted)], detector)
        return detector

    async def _loop(self, detector: Detector, queue: asyncio.Queue[Any]) -> None:
        while True:
            wake = [t for t in (detector.deadline, self._flush_due()) if t is not None]
            timeout = max(0.0, min(wake) - self.clock()) if wake else None
            try:
                async with asyncio.timeout(timeout):
                    event = await queue.get()
            except TimeoutError:
                event = None
            now = self.clock()
            if event is not None:
                await self._on_ble(event, detector, now)
            await self._handle(detector.tick(now), detector)
            if self._flush_due() is not None and self._flush_due() <= now:
                await self.flush()

    def _flush_due(self) -> float | None:
        return max(self.buffer[0][0] + FLUSH_S, self._retry_at) if self.buffer else None

    async def _on_ble(self, event: Any, detector: Detector, now: float) -> None:
        if isinstance(event, Sample):
            if detector.state in (State.OFFLINE, State.LINK_LOST):
                await self._handle(detector.link_back(event.t), detector)
            events = detector.feed(event.sample, event.t)
            if detector.state in _SESSION_STATES or self.session is not None or events:
                s = event.sample
                self.buffer.append((event.t, s.bpm, s.contact.value, tuple(s.rr_ms)))
            await self._handle(events, detector)
            if now - self._status_at >= STATUS_EVERY_S:
                self._status_at = now
                self._device(hr=event.sample.bpm)
        elif isinstance(event, Connected):
            self.device = event.address
            self._device(address=event.address, name=event.name, battery=event.battery, state="connected",
                         location=event.location)
            self.d.update_status(ble=None)
            await self._handle(detector.link_back(now), detector)
        elif isinstance(event, Disconnected):
            self._device(state=f"reconnecting ({event.reason.value})", hr=None)
            await self._handle(detector.link_lost(now), detector)
        elif isinstance(event, Unavailable):
            self.d.update_status(device=None, ble=f"Bluetooth unavailable: {event.reason.value}")
            await self._handle(detector.link_lost(now), detector)

    def _device(self, **changes: Any) -> None:
        device = dict(self.d.status.get("device") or {})
        device.update(changes)
        self.d.update_status(device=device)

    async def _handle(self, events: Sequence[Any], detector: Detector) -> None:
        for event in events:
            if isinstance(event, WorkoutStarted):
                log.info("%s: workout started", self.device or "strap")
            elif isinstance(event, WorkoutEnded):
                await self._finish(event.workout)
                log.info("%s: workout ended (%s)", self.device or "strap", event.cause.value)
            elif isinstance(event, WorkoutDiscarded):
                log.info("%s: %s", self.device or "strap", event.reason)
                await self._close()
        if self.session is None and detector.state in _SESSION_STATES:
            self.session = await self.d.store.call(Store.journal_open, self.device, self.clock())
        elif self.session is not None and detector.state not in _SESSION_STATES:
            await self._close()  # a warm-up that fizzled out, or a discarded session
        if any(isinstance(e, WorkoutStarted) for e in events):
            await self.flush()  # the warm-up now belongs to a workout: a kill -9 must not lose it

    async def flush(self) -> None:
        """Write buffered samples to the journal (one transaction)."""
        async with self._lock:
            if not self.buffer:
                return
            if self.session is None:
                self.buffer.clear()
                return
            rows, self.buffer = self.buffer, []
            try:
                await self.d.store.call(Store.journal_append, self.session, rows)
            except StoreError as exc:
                # Keep the samples (memory is cheap next to a lost workout) and try again later.
                self.buffer[:0] = rows
                self._retry_at = self.clock() + FLUSH_S
                log.warning("journal: %s; keeping %d samples in memory, retrying", exc, len(self.buffer))
            else:
                self._retry_at = 0.0

    async def _close(self) -> None:
        async with self._lock:
            self.buffer.clear()
            if self.session is not None:
                await self.d.store.call(Store.journal_close, self.session, self.clock())
                self.session = None

    async def _finish(self, workout: Workout) -> None:
        """Assess and store the workout and close the journal, in one transaction; then offer."""
        async with self._lock:
            self.buffer.clear()
            session, self.session = self.session, None
            saved = await self.d.store.call(save_live_workout, workout, session, self.d.settings, self.d.library,
                                            self.clock())
        if saved is not None:
            self.d.note_workout(saved, workout.end)
            self.d.offers.put_nowait(None)


def save_live_workout(store: Store, workout: Workout, session: int | None, settings: Any, library: Any,
                      now: float) -> dict[str, Any] | None:
    """On the store thread: assess, store and close the journal in one transaction; None if a richer copy exists."""
    import datetime as dt

    from cooldownd.record import lines
    from cooldownd.core import series as timeline
    from cooldownd.core.intensity import assess
    from cooldownd.core.wording import headline
    from cooldownd.core.routines import choose
    from cooldownd.imports.importer import richness

    knobs = settings.intensity_knobs()
    a = assess(workout, settings.athlete_profile(), knobs, history_max_hr=store.history_max_hr(),
               this_year=dt.date.today().year)
    routine = choose(library, a.level, workout.sport, workout.sub_sport)
    summary = lines.summary(workout, a, routine.name)
    summary["headline"] = headline(a.level, workout.sport, workout.sub_sport, a.duration_s, a.load)
    mine = richness(workout)
    with store.transaction():
        if session is not None:
            store.journal_close(session, now)
        if any(row.richness >= mine for row in store.find_overlapping(workout.start, workout.end)):
            log.info("live workout %s: already recorded from a richer source", summary["start"])
            return None
        summary["id"] = store.add_workout(summary, source=workout.source, start=workout.start, end=workout.end,
                                          richness=mine)
        line = timeline.build(workout, a, knobs.zone_bounds_hrr, knobs.power_hold_s)
        if line is not None:
            store.put_series(summary["id"], line)
    return summary
