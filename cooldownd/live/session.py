"""The live pipeline: strap events -> detector -> journal -> stored workout -> offer.

Samples are journaled to SQLite in batches at most ``FLUSH_S`` apart while a session is in
progress (warming up or in a workout), so a kill -9 loses at most that much. A restarted daemon
replays the unfinished journal: the workout resumes if the strap is back within the grace and
ends otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from cooldownd.clock import Timeline
from cooldownd.core.detector import (IN_WORKOUT, DetectKnobs, Detector, State, WorkoutDiscarded, WorkoutEnded,
                                     WorkoutStarted)
from cooldownd.core.model import Contact, HrSample, Workout
from cooldownd.errors import StoreError
from cooldownd.live.backlog import FLUSH_S, Backlog
from cooldownd.live.events import Connected, Disconnected, HrSource, Sample, Unavailable
from cooldownd.record import lines
from cooldownd.record.recorder import Rules, record, summarise
from cooldownd.record.summary import Result

if TYPE_CHECKING:
    from cooldownd.ports import StatusSink, Store
    from cooldownd.settings import BleSettings, DetectSettings
    from cooldownd.asyncstore import AsyncStore

log = logging.getLogger(__name__)
STATUS_EVERY_S = 10.0
_SESSION_STATES = IN_WORKOUT | {State.WARMING}
Row = tuple[float, int, str | None, tuple[float, ...]]


def detect_knobs(d: DetectSettings, quiet_s: float, rules: Rules, history_max_hr: int | None) -> DetectKnobs:
    """Detection thresholds from ``[detect]``, ``ble.quiet_s`` and the athlete's heart rates.

    Max and resting heart rate come from the core's one profile rule (config, else estimates from
    the birth year and history, else ``[intensity]`` fallbacks), as before any workout of the day.
    """
    from cooldownd.core.intensity import resolve_profile

    before = Workout("generic", "generic", 0.0, 0.0, 0.0, 0.0)  # no session yet: nothing of its own to raise to
    p = resolve_profile(before, rules.athlete, rules.knobs, history_max_hr, rules.this_year)
    return DetectKnobs.for_athlete(
        p.resting_hr, p.max_hr, start_hr=d.start_hr, end_hr=d.end_hr, start_s=d.start_s, end_s=d.end_s,
        contact_lost_s=d.contact_lost_s, reconnect_grace_s=d.reconnect_grace_s, min_duration_s=d.min_duration_s,
        quiet_s=quiet_s)


def _sample(row: Row) -> HrSample:
    t, bpm, contact, rr = row
    return HrSample(bpm, Contact(contact) if contact else Contact.UNSUPPORTED, None, tuple(rr))


class LiveSession:
    """One strap, one detector, one journal.

    Given what it uses: the store, ``[ble]`` and ``[detect]``, the recorder's rules (as configured
    at the moment a workout ends), where to report status, and the offers queue to nudge. ``source``
    is the heart-rate source (default: ``HrLink`` on ``[ble]``, the strap remembered in the store).

    Times: samples, the detector and the journal run on a :class:`Timeline` (steady, in POSIX
    seconds), so a wall-clock step mid-workout changes no duration and no deadline; a finished
    workout is stamped on the wall clock as it tells time at the end. Outside a session the timeline
    follows the wall clock again.

    A store that cannot be written (full disk) loses nothing: samples stay in ``buffer``, a finished
    workout and a journal session to close in the ``backlog``, all retried every ``FLUSH_S`` until the
    disk takes them; the workout is then stored and offered (``notify.max_age`` still decides whether
    it is fresh enough).
    """

    def __init__(self, store: AsyncStore, ble: BleSettings, detect: DetectSettings, rules: Callable[[], Rules],
                 status: StatusSink, offers: asyncio.Queue[int | None], *, source: HrSource | None = None,
                 timeline: Timeline | None = None) -> None:
        self.store, self.ble, self.detect, self.rules = store, ble, detect, rules
        self.status, self.offers, self.source = status, offers, source
        self.timeline = timeline or Timeline()
        self.clock = self.timeline.now
        self.buffer: list[Row] = []
        self.session: int | None = None
        self.device: str | None = None
        self.backlog = Backlog(store, self.clock)  # what a full disk could not take yet
        self._want_session = False  # in a session: the journal must be open
        self._status_at = 0.0
        self._in_workout = False  # what the status says (published on every change)
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        """Connect, detect and journal until cancelled."""
        history = await self.store.call(lambda s: s.history_max_hr())
        detector = await self._resume(detect_knobs(self.detect, self.ble.quiet_s, self.rules(), history))
        queue: asyncio.Queue[Any] = asyncio.Queue()
        source = self.source or await self._strap()
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(source.run(queue.put_nowait))
                await self._loop(detector, queue)
        finally:
            await asyncio.shield(self.flush())

    async def _strap(self) -> HrSource:
        """The real source: one strap through bleak, remembering the one it found."""
        from cooldownd.live.ble import HrLink

        store, ble = self.store, self.ble
        return HrLink(ble.devices, remembered=await store.call(lambda s: s.get_kv("ble.device")),
                      on_remember=lambda address: store.submit(lambda s: s.set_kv("ble.device", address)),
                      quiet_s=ble.quiet_s, scan_s=ble.scan_s, backoff_cap_s=ble.backoff_cap_s, adapter=ble.adapter,
                      clock=self.clock)

    async def _resume(self, knobs: DetectKnobs) -> Detector:
        unfinished = await self.store.call(lambda s: s.journal_unfinished())
        if unfinished is None:
            return Detector(knobs)
        self.session, self.device, rows = unfinished
        if rows:  # journaled before a backward clock step: the timeline does not go back behind them
            self.timeline.not_before(rows[-1][0])
        now = self.clock()
        detector, events = Detector.replay(knobs, [(r[0], _sample(r)) for r in rows], now)
        log.info("journal: resuming a live session of %d samples (%s)", len(rows), detector.state.value)
        # The dead daemon already announced this workout: replay its end (if any), not its start.
        await self._handle([e for e in events if not isinstance(e, WorkoutStarted)], detector)
        return detector

    async def _loop(self, detector: Detector, queue: asyncio.Queue[Any]) -> None:
        while True:
            detector = self._follow_wall_clock(detector)
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
            if (due := self._flush_due()) is not None and due <= now:
                await self.flush()

    def _follow_wall_clock(self, detector: Detector) -> Detector:
        """Outside a session, re-anchor the timeline to a wall clock that stepped (with a fresh detector)."""
        if detector.state in _SESSION_STATES or self.session is not None or self.buffer or self.backlog:
            return detector
        if not self.timeline.resync():
            return detector
        log.info("clock: the wall clock stepped; live timing follows it from now on")
        fresh = Detector(detector.knobs)
        if detector.state is not State.OFFLINE:
            fresh.link_back(self.clock())
        return fresh

    def _flush_due(self) -> float | None:
        if self.backlog or (self._want_session and self.session is None):
            return self.backlog.retry_at
        return max(self.buffer[0][0] + FLUSH_S, self.backlog.retry_at) if self.buffer else None

    async def _on_ble(self, event: Any, detector: Detector, now: float) -> None:
        if isinstance(event, Sample):
            t = min(event.t, now)  # a packet queued before the timeline was re-anchored
            if detector.state in (State.OFFLINE, State.LINK_LOST):
                await self._handle(detector.link_back(t), detector)
            events = detector.feed(event.sample, t)
            if detector.state in _SESSION_STATES or self.session is not None or events:
                s = event.sample
                self.buffer.append((t, s.bpm, s.contact.value, tuple(s.rr_ms)))
            await self._handle(events, detector)
            if now - self._status_at >= STATUS_EVERY_S:
                self._status_at = now
                self._device(hr=event.sample.bpm)
        elif isinstance(event, Connected):
            self.device = event.address
            self._device(address=event.address, name=event.name, battery=event.battery, state="connected",
                         location=event.location)
            self.status.update(ble=None)
            await self._handle(detector.link_back(now), detector)
        elif isinstance(event, Disconnected):
            self._device(state=f"reconnecting ({event.reason.value})", hr=None)
            await self._handle(detector.link_lost(now), detector)
        elif isinstance(event, Unavailable):
            self.status.update(device=None, ble=f"Bluetooth unavailable: {event.reason.value}")
            await self._handle(detector.link_lost(now), detector)

    def _device(self, **changes: Any) -> None:
        self.status.device(**changes)

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
        in_session = detector.state in _SESSION_STATES
        if in_session and not self._want_session:
            self._want_session = True
            async with self._lock:
                await self._open_journal()
        elif not in_session:
            self._want_session = False
            if self.session is not None:
                await self._close()  # a warm-up that fizzled out, or a discarded session
        self._publish_workout(detector, events)
        if any(isinstance(e, WorkoutStarted) for e in events):
            await self.flush()  # the warm-up now belongs to a workout: a kill -9 must not lose it

    def _publish_workout(self, detector: Detector, events: Sequence[Any]) -> None:
        """``workout`` in the status ({"since": wall time} or None) whenever the detector enters or leaves one."""
        in_workout = detector.state in IN_WORKOUT
        if in_workout != self._in_workout:
            self._in_workout = in_workout
            since = next((e.t for e in events if isinstance(e, WorkoutStarted)), time.time())
            self.status.update(workout={"since": since} if in_workout else None)

    async def _open_journal(self) -> None:
        if self.session is not None or not self._want_session:
            return
        with contextlib.suppress(StoreError):
            device = self.device
            self.session = await self.backlog.call(lambda s: s.journal_open(device, time.time()))

    async def flush(self) -> None:
        """Store what waits in memory: journal closes, ended workouts, then the sample batch."""
        async with self._lock:
            try:
                await self._store_backlog()
                await self._open_journal()
                if not self.buffer:
                    return
                if self.session is None:
                    if not self._want_session:
                        self.buffer.clear()  # samples of no session
                    return
                rows, self.buffer = self.buffer, []
                try:
                    session = self.session
                    await self.backlog.call(lambda s: s.journal_append(session, rows))
                except StoreError:
                    self.buffer[:0] = rows  # memory is cheap next to a lost workout
            except StoreError:
                pass  # logged by the backlog; retried at its retry_at

    async def _store_backlog(self) -> None:
        rules = self.rules()
        await self.backlog.drain(lambda s, w, session, now: save_live_workout(s, w, session, rules, now), self._saved)

    def _saved(self, saved: Result) -> None:
        if saved.id is not None and saved.summary is not None:
            self.status.note_workout(saved.summary)
            self.offers.put_nowait(None)

    async def _close(self) -> None:
        async with self._lock:
            self.buffer.clear()
            if self.session is not None:
                self.backlog.unclosed.append(self.session)
                self.session = None
                with contextlib.suppress(StoreError):
                    await self._store_backlog()

    async def _finish(self, workout: Workout) -> None:
        """Assess and store the workout and close the journal, in one transaction; then offer.

        On a full disk the workout waits in the backlog (retried by ``flush``), not lost.
        """
        async with self._lock:
            self.buffer.clear()  # the workout carries its samples
            session, self.session = self.session, None
            self.backlog.unsaved.append((self.timeline.stamped(workout), session))
            try:
                await self._store_backlog()
            except StoreError as exc:
                log.warning("cannot store the live workout that ended at %s yet (%s); it is kept in memory and "
                            "stored once the disk takes it", lines.iso(self.timeline.to_wall(workout.end)), exc)


def save_live_workout(store: Store, workout: Workout, session: int | None, rules: Rules, now: float) -> Result:
    """On the store thread: record the workout and close the journal in one transaction.

    The result is a ``duplicate`` when a copy of the same session at least as rich is stored already.
    """
    candidate = summarise(workout, rules, store.history_max_hr(before=workout.start))
    with store.transaction():
        if session is not None:
            store.journal_close(session, now)
        result = record(store, candidate, rules=rules)
    if result.id is None:
        log.info("live workout %s: already recorded from a richer source (%s)", lines.iso(workout.start), result.error)
    return result
