"""Live workout detection: scenario tables driven like a real caller, and hypothesis properties."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cooldownd.core.detector import (
    _TRANSITIONS,
    DetectKnobs,
    Detector,
    DetectorMisuse,
    EndCause,
    Input,
    State,
    WorkoutEnded,
    WorkoutStarted,
)
from cooldownd.core.model import Contact, HrSample, Record

KNOBS = DetectKnobs(start_hr=120, end_hr=110)  # the default durations of issue 5


def drive(det: Detector, steps) -> list:
    """Run a script like the BLE edge would: sleep until ``deadline`` and tick, else deliver inputs.

    Steps: ("hr", t, bpm) | ("off", t) | ("lost", t) | ("back", t); a final ("until", t) ticks to t.
    """
    events: list = []
    for op, t, *arg in steps:
        while (d := det.deadline) is not None and d <= t:
            events += det.tick(d)
            assert det.deadline is None or det.deadline > d
        if op == "hr":
            events += det.feed(HrSample(arg[0], Contact.DETECTED), t)
        elif op == "off":
            events += det.feed(HrSample(0, Contact.NOT_DETECTED), t)
        elif op == "lost":
            events += det.link_lost(t)
        elif op == "back":
            events += det.link_back(t)
        else:
            events += det.tick(t)
    return events


def hr(t0: int, t1: int, bpm) -> list:
    """One sample a second from t0 to t1 inclusive; ``bpm`` is a number or a function of t."""
    f = bpm if callable(bpm) else (lambda _t: bpm)
    return [("hr", t, f(t)) for t in range(t0, t1 + 1)]


def off(t0: int, t1: int) -> list:
    return [("off", t) for t in range(t0, t1 + 1)]


def kinds(events) -> list[str]:
    return [type(e).__name__ for e in events]


def run(steps, knobs=KNOBS) -> tuple[Detector, list]:
    det = Detector(knobs)
    return det, drive(det, [("back", steps[0][1]), *steps])


# -- scenarios ------------------------------------------------------------------------------


def test_rest_never_starts_a_workout():
    rng = random.Random(5)
    # Two hours at rest, with short bursts (stairs) above start_hr that last less than start_s.
    steps = [("hr", t, rng.randint(55, 105)) for t in range(7200)]
    for burst in range(600, 7200, 900):
        steps[burst:burst + 50] = hr(burst, burst + 49, 130)
    det, events = run(steps + [("until", 9000)])
    assert events == []
    assert det.state is State.IDLE


def test_ride_then_strap_off_ends_at_last_active_sample():
    steps = hr(0, 299, 100) + hr(300, 3900, 150) + off(3901, 4100)
    det, events = run(steps)
    assert kinds(events) == ["WorkoutStarted", "WorkoutEnded"]
    assert events[0].t == 300
    ended = events[1]
    assert ended.cause is EndCause.CONTACT_LOST
    w = ended.workout
    assert (w.start, w.end, w.duration_s, w.elapsed_s) == (300, 3900, 3600, 3600)
    assert w.source == "ble" and w.pauses == () and w.hrr60 is None
    assert [r.t for r in w.records] == list(range(300, 3901))
    assert det.state is State.IDLE


def test_ride_then_strap_goes_silent_ends_after_grace():
    steps = hr(0, 3600, 150) + [("lost", 3610), ("until", 3610 + 179)]
    det, events = run(steps)
    assert kinds(events) == ["WorkoutStarted"]
    assert det.state is State.LINK_LOST and det.deadline == 3610 + 180
    events = drive(det, [("until", 3790)])
    assert kinds(events) == ["WorkoutEnded"]
    assert events[0].cause is EndCause.LINK_LOST
    assert events[0].workout.end == 3600
    assert det.state is State.OFFLINE


def settle(t: int) -> int:
    """150 bpm until 3600, then down 0.5 bpm/s to 90 bpm."""
    return 150 if t <= 3600 else max(90, round(150 - (t - 3600) / 2))


def test_ride_then_heart_rate_settles_end_is_last_active_and_hrr60():
    steps = hr(0, 4400, settle)
    det, events = run(steps)
    assert kinds(events) == ["WorkoutStarted", "WorkoutEnded"]
    w = events[1].workout
    last_active = max(t for t in range(4401) if settle(t) >= KNOBS.end_hr)
    assert w.end == last_active
    assert (w.start, w.duration_s) == (0, last_active)
    assert events[1].cause is EndCause.SETTLED
    # Peak at the end of effort (3600) minus HR 60 s later.
    assert w.hrr60 == settle(3600) - settle(3660)
    assert w.hrr60 > 0


@pytest.mark.parametrize("drops", [[(1000, 1100)], [(1000, 1100), (2000, 2150)]])
def test_link_drops_within_grace_are_one_workout(drops):
    steps, t = [], 0
    for gap_from, gap_to in drops:
        steps += hr(t, gap_from, 150) + [("lost", gap_from + 10), ("back", gap_to - 10)]
        t = gap_to
    steps += hr(t, 3600, 150) + off(3601, 3800)
    det, events = run(steps)
    assert kinds(events) == ["WorkoutStarted", "WorkoutEnded"]
    w = events[1].workout
    assert w.pauses == tuple(drops)
    assert w.elapsed_s == 3600
    assert w.duration_s == 3600 - sum(b - a for a, b in drops)
    assert not any(a < r.t < b for r in w.records for a, b in drops)


def test_link_drop_while_cooling_is_after_the_end_not_a_pause():
    steps = hr(0, 1800, 150) + hr(1801, 1900, 90) + [("lost", 1910), ("back", 2000)] + hr(2000, 2400, 90)
    _, events = run(steps)
    assert kinds(events) == ["WorkoutStarted", "WorkoutEnded"]
    w = events[1].workout
    assert (w.end, w.pauses, w.duration_s) == (1800, (), 1800)


def test_link_drop_beyond_grace_ends_then_a_second_workout_starts():
    steps = hr(0, 1800, 150) + [("lost", 1810), ("back", 2100)] + hr(2100, 3000, 150) + off(3001, 3200)
    det, events = run(steps)
    assert kinds(events) == ["WorkoutStarted", "WorkoutEnded", "WorkoutStarted", "WorkoutEnded"]
    first, second = events[1].workout, events[3].workout
    assert (first.start, first.end, events[1].cause) == (0, 1800, EndCause.LINK_LOST)
    assert (second.start, second.end) == (2100, 3000)
    assert events[2].t == 2100


def test_reconnects_without_samples_do_not_extend_the_grace():
    steps = hr(0, 1800, 150)
    for k in range(20):  # connects, sends nothing, the edge's quiet watchdog fires: every 30 s
        steps += [("lost", 1810 + 30 * k), ("back", 1830 + 30 * k)]
    det, events = run(steps)
    ended = [e for e in events if isinstance(e, WorkoutEnded)]
    assert len(ended) == 1 and ended[0].workout.end == 1800
    assert ended[0].cause is EndCause.LINK_LOST


def test_brief_contact_loss_keeps_the_workout():
    steps = hr(0, 1000, 150) + off(1001, 1100) + hr(1101, 1800, 150) + off(1801, 2000)
    _, events = run(steps)
    assert kinds(events) == ["WorkoutStarted", "WorkoutEnded"]
    w = events[1].workout
    assert (w.start, w.end, w.duration_s) == (0, 1800, 1800)
    assert all(r.hr == 150 for r in w.records)


def test_too_short_is_discarded():
    steps = hr(0, 400, 150) + hr(401, 800, 80)
    _, events = run(steps)
    assert kinds(events) == ["WorkoutStarted", "WorkoutDiscarded"]
    d = events[1]
    assert (d.start, d.end, d.cause) == (0, 400, EndCause.SETTLED)
    assert "shorter than detect.min_duration_s (600 s)" in d.reason and "\n" not in d.reason


def test_warm_up_interrupted_restarts_the_start_timer():
    steps = hr(0, 50, 130) + hr(51, 55, 115) + hr(56, 200, 130)
    det, events = run(steps)
    assert [e.t for e in events] == [56]
    assert det.state is State.ACTIVE and det.workout_start == 56


def test_start_fires_exactly_at_the_deadline():
    det = Detector(KNOBS)
    det.link_back(0)
    assert det.feed(HrSample(130), 10) == [] and det.deadline == 70
    assert det.tick(69.9) == [] and det.state is State.WARMING
    assert det.tick(70) == [WorkoutStarted(10)]
    assert det.deadline is None


def test_hysteresis_band_keeps_a_workout_active():
    steps = hr(0, 300, 150) + hr(301, 3000, 112) + [("until", 5000)]
    det, events = run(steps)
    assert kinds(events) == ["WorkoutStarted"] and det.state is State.ACTIVE


def test_table_covers_every_state_and_takes_link_reports_anywhere():
    assert set(_TRANSITIONS) == set(State)
    down = {State.OFFLINE, State.LINK_LOST}
    for state, row in _TRANSITIONS.items():
        assert {Input.LINK_LOST, Input.LINK_BACK} <= set(row)
        for sample in (Input.HIGH, Input.MID, Input.LOW, Input.NO_CONTACT):
            assert (sample in row) == (state not in down), (state, sample)


# -- misuse, clock, knobs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "state"),
    [([], State.OFFLINE), (hr(0, 100, 150) + [("lost", 110)], State.LINK_LOST),
     (hr(0, 10, 80) + [("lost", 20)], State.OFFLINE)],
)
def test_feeding_while_the_link_is_down_is_misuse(setup, state):
    det = Detector(KNOBS)
    drive(det, ([("back", 0)] if setup else []) + setup)
    assert det.state is state
    with pytest.raises(DetectorMisuse, match="call link_back") as info:
        det.feed(HrSample(150), 200)
    assert info.value.state is state
    det.link_back(201)  # recovers: the caller's protocol was the only problem
    det.feed(HrSample(150), 202)


def test_repeated_link_reports_are_harmless():
    det = Detector(KNOBS)
    for call in (det.link_back, det.link_back, det.link_lost, det.link_lost, det.link_back):
        assert call(0) == []
    assert det.state is State.IDLE


def test_clock_stepping_back_is_taken_as_the_last_time():
    det = Detector(KNOBS)
    det.link_back(100)
    det.feed(HrSample(130), 100)
    assert det.feed(HrSample(130), 40) == []  # NTP stepped back: not a new warm-up start
    assert det.deadline == 160


def test_knobs_defaults_and_validation():
    k = DetectKnobs.for_athlete(60, 190)
    assert (k.start_hr, k.end_hr) == (125, 115)
    assert (k.start_s, k.end_s, k.contact_lost_s, k.reconnect_grace_s, k.min_duration_s) == (60, 300, 120, 180, 600)
    assert DetectKnobs.for_athlete(60, 190, start_hr=140, end_s=30).end_hr == 130
    with pytest.raises(ValueError, match="end_hr 130 must be"):
        DetectKnobs(start_hr=120, end_hr=130)
    with pytest.raises(ValueError, match="end_s"):
        DetectKnobs(start_hr=120, end_hr=110, end_s=-1)


# -- resume after a restart -----------------------------------------------------------------------


def journal(steps) -> list[Record]:
    return [Record(t, a[0] if op == "hr" else None) for op, t, *a in steps if op in ("hr", "off")]


def test_resume_within_grace_continues_the_same_workout():
    records = journal(hr(0, 1795, 150))  # kill -9 at 1800; the last batch reached 1795
    det, events = Detector.resume(KNOBS, records, now=1830)
    assert events == [WorkoutStarted(0)]
    assert det.state is State.LINK_LOST and det.deadline == 1805 + 180
    more = drive(det, [("back", 1840)] + hr(1841, 3600, settle(3600)) + hr(3601, 4400, settle))
    assert kinds(more) == ["WorkoutEnded"]
    w = more[0].workout
    assert (w.start, w.pauses) == (0, ((1795, 1841),))
    assert w.duration_s == w.elapsed_s - 46


def test_resume_beyond_grace_closes_the_workout():
    det, events = Detector.resume(KNOBS, journal(hr(0, 1795, 150)), now=1795 + 10 + 180)
    assert kinds(events) == ["WorkoutStarted", "WorkoutEnded"]
    assert events[1].workout.end == 1795 and events[1].cause is EndCause.LINK_LOST
    assert det.state is State.OFFLINE and det.deadline is None


def test_resume_replays_journal_gaps_as_link_losses():
    records = journal(hr(0, 1000, 150) + hr(1100, 2000, 150) + hr(2500, 3400, 150) + off(3401, 3600))
    det, events = Detector.resume(KNOBS, records, now=3700)
    assert kinds(events) == ["WorkoutStarted", "WorkoutEnded", "WorkoutStarted", "WorkoutEnded"]
    first, second = events[1].workout, events[3].workout
    assert (first.start, first.end, first.pauses) == (0, 2000, ((1000, 1100),))
    assert (second.start, second.end) == (2500, 3400)
    assert det.state is State.OFFLINE


def test_resume_at_rest_or_empty():
    det, events = Detector.resume(KNOBS, journal(hr(0, 600, 70)), now=700)
    assert events == [] and det.state is State.OFFLINE
    det, events = Detector.resume(KNOBS, [], now=700)
    assert events == [] and det.state is State.OFFLINE


# -- properties -----------------------------------------------------------------------------------

SMALL = DetectKnobs(start_hr=120, end_hr=110, start_s=5, end_s=20, contact_lost_s=10,
                    reconnect_grace_s=15, min_duration_s=15, quiet_s=3)

def _expand(segments) -> list[tuple]:
    """Runs of samples (so workouts really start and end) mixed with link changes and ticks."""
    out: list[tuple] = []
    for seg in segments:
        if seg[0] == "run":
            _, count, dt, bpm, contact = seg
            out += [("feed", dt, bpm, contact)] * count
        else:
            out.append(seg)
    return out


_run = st.tuples(st.just("run"), st.integers(1, 40), st.sampled_from([1, 1, 1, 2, 0, -2]),
                st.sampled_from([0, 80, 109, 110, 119, 120, 150, 150, 200]), st.sampled_from(Contact))
ops = st.lists(
    st.one_of(
        _run, _run, _run,
        st.tuples(st.just("lost"), st.integers(0, 20)),
        st.tuples(st.just("back"), st.integers(0, 20)),
        st.tuples(st.just("tick"), st.integers(0, 40)),
    ),
    max_size=30,
).map(lambda segments: _expand([("back", 0), *segments, ("lost", 0), ("tick", 10**6)]))


def apply(det: Detector, script, *, lawful: bool) -> list:
    """Apply ops; with ``lawful`` skip feeds while the link is down (what a correct caller does)."""
    events, now, latest = [], 0, -math.inf
    for op, dt, *arg in script:
        now += dt
        down = det.state in (State.OFFLINE, State.LINK_LOST)
        if op == "feed" and down and lawful:
            continue
        try:
            if op == "feed":
                got = det.feed(HrSample(arg[0], arg[1]), now)
            else:
                got = {"lost": det.link_lost, "back": det.link_back, "tick": det.tick}[op](now)
        except DetectorMisuse:
            assert op == "feed" and down
            continue
        assert not (op == "feed" and down), "feed while the link is down must raise"
        events += got
        latest = max(latest, now)  # the detector takes a clock stepping back as the last time
        assert det.deadline is None or det.deadline > latest
    return events


def check_events(events, knobs=SMALL):
    open_start, last_end = None, -math.inf
    for e in events:
        if isinstance(e, WorkoutStarted):
            assert open_start is None and e.t >= last_end
            open_start = e.t
        else:
            start, end = (e.workout.start, e.workout.end) if isinstance(e, WorkoutEnded) else (e.start, e.end)
            assert open_start == start and end >= start
            if isinstance(e, WorkoutEnded):
                w = e.workout
                assert knobs.min_duration_s <= w.duration_s <= w.elapsed_s == end - start
                assert all(start <= r.t <= end for r in w.records)
                assert all(start <= a < b <= end for a, b in w.pauses)
            open_start, last_end = None, end
    assert open_start is None  # every script ends with a lost link and a long wait


@settings(max_examples=300, deadline=None)
@given(ops)
def test_any_sequence_only_raises_misuse_and_keeps_invariants(script):
    det = Detector(SMALL)
    events = apply(det, script, lawful=False)
    check_events(events)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_lawful_caller_never_raises_and_deadline_is_in_the_future(script):
    det, now = Detector(SMALL), 0
    events = []
    for op, dt, *arg in script:
        now += max(dt, 0)
        if op == "feed" and det.state in (State.OFFLINE, State.LINK_LOST):
            continue
        if op == "feed":
            events += det.feed(HrSample(arg[0], arg[1]), now)
        else:
            events += {"lost": det.link_lost, "back": det.link_back, "tick": det.tick}[op](now)
        assert det.deadline is None or det.deadline > now
    check_events(events)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_strap_at_rest_never_starts(script):
    det = Detector(SMALL)
    rest = [(op, dt, min(a[0], SMALL.start_hr - 1), *a[1:]) if op == "feed" else (op, dt, *a)
            for op, dt, *a in script]
    assert apply(det, rest, lawful=True) == []


@settings(max_examples=200, deadline=None)
@given(ops, st.lists(st.tuples(st.integers(0, 299), st.floats(0, 1)), max_size=50))
def test_extra_ticks_change_nothing(script, where):
    """A caller waking at odd times (extra ticks inside the delays) sees the same events."""
    # Time only moves forward here: a tick after a later-stamped sample would legitimately clamp it.
    script = [(op, max(dt, 0), *arg) for op, dt, *arg in script]
    base = apply(Detector(SMALL), script, lawful=True)
    ticked = list(script)
    for index, fraction in where:
        if index < len(ticked) and ticked[index][1] > 0:
            op, dt, *arg = ticked[index]
            early = int(dt * fraction)
            ticked[index:index + 1] = [("tick", early), (op, dt - early, *arg)]
    assert apply(Detector(SMALL), ticked, lawful=True) == base


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 2), st.integers(0, 200), st.sampled_from(Contact)), max_size=300))
def test_replay_of_a_gapless_journal_matches_the_live_run(samples):
    live, t, pairs = Detector(SMALL), 0, []
    live.link_back(0)
    events = []
    for dt, bpm, contact in samples:
        t += dt
        pairs.append((t, HrSample(bpm, contact)))
        events += live.feed(pairs[-1][1], t)
    _, replayed = Detector.replay(SMALL, pairs, now=t)
    assert replayed == events
