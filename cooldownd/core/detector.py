"""Live workout detection from heart-rate samples: a transition table, no clock, no I/O.

Rule 1 (as in h11's ``_state.py``): everything that decides when a live workout starts and ends
lives in this file (its knobs and events are plain values in ``detection.py``). As much as possible is in the ``_TRANSITIONS`` table; the bookkeeping that
does not fit (timers, the sample buffer, link gaps) is in ``Detector`` below and nowhere else.
Rule 2: this file does not know where samples come from or what time it is. The caller (the
BLE edge) passes ``now`` with every call, sleeps until ``deadline`` and then calls ``tick``.

Theory of operation. Each call becomes one ``Input``: a sample is classified against the
thresholds (HIGH >= start_hr, MID >= end_hr, LOW below, NO_CONTACT for a contact-lost or 0 bpm
packet); the link reports LINK_LOST / LINK_BACK; a timer running out is TIMEOUT. The table
maps (state, input) to the next state; a pair missing from it is a caller bug and raises
``DetectorMisuse`` (feeding samples while the link is reported lost is the one that can happen).

- A workout starts when HR stays at or above ``start_hr`` for ``start_s``; its start is the first
  sample of that run (WorkoutStarted(t) is emitted when the run is long enough).
- It ends when HR stays below ``end_hr`` for ``end_s``, contact is lost for ``contact_lost_s``,
  or the link is lost and not back within ``reconnect_grace_s``. The end is the last active
  sample (HR >= end_hr with contact), not the moment of detection.
- Link gaps inside a workout are recorded as ``Workout.pauses`` and are not exercise time.
- After a reconnect the sub-timers (cooling, contact lost) restart with the next sample, but the
  grace is counted from the first loss since the last sample: a strap that reconnects and
  sends nothing cannot keep a workout open forever.
- ``now`` earlier than a previous call is taken as that previous time (wall clocks step back).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable

from cooldownd.core.detection import (DetectKnobs, EndCause, Event, WorkoutDiscarded, WorkoutEnded,
                                      WorkoutStarted)
from cooldownd.core.metrics import hrr60
from cooldownd.core.model import Contact, HrSample, Record, Workout

__all__ = ["IN_WORKOUT", "DetectKnobs", "Detector", "DetectorMisuse", "EndCause", "Event", "Input", "State",
           "WorkoutDiscarded", "WorkoutEnded", "WorkoutStarted"]

class State(enum.Enum):
    """Where the detector is; OFFLINE and IDLE are outside a workout, WARMING is before one."""

    OFFLINE = "offline"  # link down, no workout
    IDLE = "idle"  # link up, HR below start_hr
    WARMING = "warming"  # HR at or above start_hr for less than start_s
    ACTIVE = "active"  # in a workout, HR at or above end_hr
    COOLING = "cooling"  # in a workout, HR below end_hr for less than end_s
    CONTACT_LOST = "contact_lost"  # in a workout, no contact for less than contact_lost_s
    LINK_LOST = "link_lost"  # in a workout, link down for less than reconnect_grace_s


class Input(enum.Enum):
    """What a call told the detector."""

    HIGH = "sample at or above start_hr"
    MID = "sample between end_hr and start_hr"
    LOW = "sample below end_hr"
    NO_CONTACT = "sample without skin contact"
    LINK_LOST = "link lost"
    LINK_BACK = "link back"
    TIMEOUT = "timer ran out"


S, In = State, Input
_OUTSIDE = {In.LINK_LOST: S.OFFLINE, In.LINK_BACK: S.IDLE}
_TRANSITIONS: dict[State, dict[Input, State]] = {
    S.OFFLINE: {**_OUTSIDE},
    S.IDLE: {In.HIGH: S.WARMING, In.MID: S.IDLE, In.LOW: S.IDLE, In.NO_CONTACT: S.IDLE, **_OUTSIDE},
    S.WARMING: {In.HIGH: S.WARMING, In.MID: S.IDLE, In.LOW: S.IDLE, In.NO_CONTACT: S.IDLE,
                In.LINK_LOST: S.OFFLINE, In.LINK_BACK: S.WARMING, In.TIMEOUT: S.ACTIVE},
    S.ACTIVE: {In.HIGH: S.ACTIVE, In.MID: S.ACTIVE, In.LOW: S.COOLING, In.NO_CONTACT: S.CONTACT_LOST,
               In.LINK_LOST: S.LINK_LOST, In.LINK_BACK: S.ACTIVE},
    S.COOLING: {In.HIGH: S.ACTIVE, In.MID: S.ACTIVE, In.LOW: S.COOLING, In.NO_CONTACT: S.CONTACT_LOST,
                In.LINK_LOST: S.LINK_LOST, In.LINK_BACK: S.COOLING, In.TIMEOUT: S.IDLE},
    S.CONTACT_LOST: {In.HIGH: S.ACTIVE, In.MID: S.ACTIVE, In.LOW: S.COOLING,
                     In.NO_CONTACT: S.CONTACT_LOST, In.LINK_LOST: S.LINK_LOST,
                     In.LINK_BACK: S.CONTACT_LOST, In.TIMEOUT: S.IDLE},
    # No samples here: the caller reports link_back first. Back, the next sample decides.
    S.LINK_LOST: {In.LINK_LOST: S.LINK_LOST, In.LINK_BACK: S.ACTIVE, In.TIMEOUT: S.OFFLINE},
}
#: The knob that times each timed state; TIMEOUT out of it ends the workout unless WARMING.
_TIMERS = {S.WARMING: "start_s", S.COOLING: "end_s", S.CONTACT_LOST: "contact_lost_s",
           S.LINK_LOST: "reconnect_grace_s"}
_END_CAUSES = {S.COOLING: EndCause.SETTLED, S.CONTACT_LOST: EndCause.CONTACT_LOST,
               S.LINK_LOST: EndCause.LINK_LOST}
_SAMPLES = frozenset({In.HIGH, In.MID, In.LOW, In.NO_CONTACT})
IN_WORKOUT = frozenset({S.ACTIVE, S.COOLING, S.CONTACT_LOST, S.LINK_LOST})


class DetectorMisuse(RuntimeError):
    """The caller sent an input the current state cannot take (a bug in the caller)."""

    def __init__(self, state: State, event: Input) -> None:
        hint = " (call link_back(now) when the strap reconnects, before feed)" if event in _SAMPLES else ""
        super().__init__(f"detector: cannot take '{event.value}' in state {state.name}{hint}")
        self.state = state
        self.event = event



class Detector:
    """Turns samples, link changes and timer ticks into workout events (see the module doc)."""

    def __init__(self, knobs: DetectKnobs) -> None:
        self.knobs = knobs
        self._state = S.OFFLINE  # the link starts down: call link_back(now) on every connect
        self._now = -math.inf
        self._since = 0.0  # when the current state's timer started
        self._lost_at: float | None = None  # first link loss since the last sample
        self._start: float | None = None  # first sample of the warm-up / workout
        self._last_active: float | None = None
        self._samples: list[tuple[float, int | None, tuple[float, ...]]] = []
        self._gaps: list[tuple[float, float]] = []
        self._gap_from: float | None = None  # last sample before a lost link, until the next one

    @property
    def state(self) -> State:
        """The current state."""
        return self._state

    @property
    def deadline(self) -> float | None:
        """The next time ``tick`` can change anything; None = only an input can."""
        timer = _TIMERS.get(self._state)
        return None if timer is None else self._since + getattr(self.knobs, timer)

    @property
    def workout_start(self) -> float | None:
        """Start of the workout in progress, or None outside one."""
        return self._start if self._state in IN_WORKOUT else None

    def feed(self, sample: HrSample, now: float) -> list[Event]:
        """Take one decoded packet received at ``now``."""
        return self._input(self._classify(sample), now, sample)

    def link_lost(self, now: float) -> list[Event]:
        """The link dropped (or went quiet for ble.quiet_s, whatever BlueZ says)."""
        return self._input(In.LINK_LOST, now)

    def link_back(self, now: float) -> list[Event]:
        """The strap is connected (the first time too) and notifications are on."""
        return self._input(In.LINK_BACK, now)

    def tick(self, now: float) -> list[Event]:
        """Let timers that ran out by ``now`` fire; harmless at any time."""
        return self._expire(self._clock(now))

    @classmethod
    def resume(cls, knobs: DetectKnobs, records: Iterable[Record], now: float) -> tuple[Detector, list[Event]]:
        """Rebuild a detector from journaled records (hr None = no reading); see ``replay``."""
        return cls.replay(knobs, ((r.t, HrSample(r.hr or 0)) for r in records), now)

    @classmethod
    def replay(cls, knobs: DetectKnobs, samples: Iterable[tuple[float, HrSample]],
               now: float) -> tuple[Detector, list[Event]]:
        """Replay journaled (t, sample) pairs after a restart; return the detector and replayed events.

        A gap longer than ``quiet_s`` between samples is replayed as a lost link; the daemon's own
        downtime is a lost link from the last sample, so a workout resumes if the strap is back
        within the grace and ends otherwise (with ``tick(now)`` already applied). The returned
        detector is OFFLINE or LINK_LOST: call ``link_back`` when the strap connects. Events
        include a WorkoutStarted for a session the dead daemon had already announced; pass only
        samples since the last workout the store closed.
        """
        det = cls(knobs)
        events: list[Event] = []
        prev: float | None = None
        for t, sample in sorted(samples, key=lambda pair: pair[0]):
            if prev is None:
                events += det.link_back(t)
            elif t - prev > knobs.quiet_s:
                events += det.link_lost(prev + knobs.quiet_s)
                events += det.link_back(t)
            events += det.feed(sample, t)
            prev = t
        if prev is not None:
            events += det.link_lost(min(prev + knobs.quiet_s, now))
        events += det.tick(now)
        return det, events

    # -- the machinery ------------------------------------------------------------------------

    def _clock(self, now: float) -> float:
        self._now = max(self._now, now)
        return self._now

    def _classify(self, sample: HrSample) -> Input:
        if sample.contact is Contact.NOT_DETECTED or sample.bpm <= 0:
            return In.NO_CONTACT
        if sample.bpm >= self.knobs.start_hr:
            return In.HIGH
        return In.MID if sample.bpm >= self.knobs.end_hr else In.LOW

    def _input(self, event: Input, now: float, sample: HrSample | None = None) -> list[Event]:
        if event not in _TRANSITIONS[self._state]:
            # Before the clock and timers move, so a misuse loses no event a timer would emit.
            raise DetectorMisuse(self._state, event)
        now = self._clock(now)
        out = self._expire(now)
        out += self._fire(event, now, sample)
        out += self._expire(now)  # e.g. a grace that began before an empty reconnect
        return out

    def _expire(self, now: float) -> list[Event]:
        out: list[Event] = []
        while (deadline := self.deadline) is not None and now >= deadline:
            out += self._fire(In.TIMEOUT, deadline)
        return out

    def _fire(self, event: Input, t: float, sample: HrSample | None = None) -> list[Event]:
        old = self._state
        try:
            new = _TRANSITIONS[old][event]
        except KeyError:
            raise DetectorMisuse(old, event) from None
        self._state = new
        out: list[Event] = []
        if new is not old:
            out += self._enter(old, event, new, t)
        if sample is not None:
            self._record(event, new, t, sample)
        return out

    def _enter(self, old: State, event: Input, new: State, t: float) -> list[Event]:
        if new is S.WARMING:
            self._start, self._since, self._samples, self._gaps = t, t, [], []
        elif new in (S.COOLING, S.CONTACT_LOST):
            self._since = t
        elif new is S.LINK_LOST:
            self._lost_at = t if self._lost_at is None else self._lost_at
            self._since = self._lost_at
            if self._gap_from is None and self._samples:
                self._gap_from = self._samples[-1][0]
        elif new is S.ACTIVE and old is S.WARMING:
            return [WorkoutStarted(self._start)]
        elif new in (S.IDLE, S.OFFLINE):
            ended = [self._finish(_END_CAUSES[old])] if old in _END_CAUSES and event is In.TIMEOUT else []
            self._start = self._last_active = self._lost_at = self._gap_from = None
            self._samples, self._gaps = [], []
            return ended
        return []

    def _record(self, event: Input, new: State, t: float, sample: HrSample) -> None:
        self._lost_at = None
        if self._gap_from is not None:
            self._gaps.append((self._gap_from, t))
            self._gap_from = None
        if new is S.WARMING or new in IN_WORKOUT:
            reading = None if event is In.NO_CONTACT else sample.bpm
            self._samples.append((t, reading, sample.rr_ms if reading is not None else ()))
            if event in (In.HIGH, In.MID):
                self._last_active = t

    def _finish(self, cause: EndCause) -> WorkoutEnded | WorkoutDiscarded:
        start, end, knobs = self._start, self._last_active, self.knobs
        assert start is not None and end is not None  # set by the WARMING entry and its sample
        pauses = tuple((max(a, start), min(b, end)) for a, b in self._gaps if min(b, end) > max(a, start))
        elapsed = end - start
        duration = elapsed - sum(b - a for a, b in pauses)
        if duration < knobs.min_duration_s:
            reason = (f"live session {duration:.0f} s of exercise is shorter than "
                      f"detect.min_duration_s ({knobs.min_duration_s:.0f} s): not a workout")
            return WorkoutDiscarded(reason, start, end, cause)
        inside = [s for s in self._samples if start <= s[0] <= end and s[1] is not None]
        workout = Workout(
            sport=knobs.sport, sub_sport="generic", start=start, end=end, duration_s=duration,
            elapsed_s=elapsed, records=tuple(Record(t, hr) for t, hr, _ in inside), pauses=pauses,
            rr_ms=tuple(ms for _, _, rr in inside for ms in rr), source="ble",
            hrr60=hrr60(((t, hr) for t, hr, _ in self._samples), end),
        )
        return WorkoutEnded(workout, cause)
