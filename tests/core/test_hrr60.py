"""HRR60: one rule (core/metrics.hrr60) for the live detector and for an imported file's records."""

from __future__ import annotations

import pytest

from cooldownd.core.detector import DetectKnobs, Detector, WorkoutEnded
from cooldownd.core.intensity import assess
from cooldownd.core.metrics import hrr60
from cooldownd.core.model import Athlete, Contact, HrSample, Record, Workout


def beats(effort_end: int) -> list[tuple[float, int]]:
    """A ride at 150-160 bpm (peak 163 at 30 s before the end), then the strap kept on while HR falls."""
    ride = [(t, 163 if t == effort_end - 30 else 150 + t % 10) for t in range(effort_end + 1)]
    after = [(effort_end + i, max(85, 150 - i)) for i in range(1, 600)]
    return [(float(t), b) for t, b in ride + after]


@pytest.mark.parametrize("timer_stop_after_s", [0, 20, 45])
def test_live_and_imported_copies_of_one_session_get_the_same_hrr60(timer_stop_after_s: int) -> None:
    samples = beats(1800)
    det = Detector(DetectKnobs(start_hr=120, end_hr=110))
    events = det.link_back(0.0)
    for t, bpm in samples:
        events += det.feed(HrSample(bpm, Contact.DETECTED), t)
    events += det.tick(samples[-1][0] + 1000)
    (ended,) = [e for e in events if isinstance(e, WorkoutEnded)]
    live = ended.workout.hrr60
    # The file's timer stopped a little after the effort; its records (the same beats) go on past that.
    end = 1800.0 + timer_stop_after_s
    file = Workout("cycling", "road", 0.0, end, end, end, records=tuple(Record(t, b) for t, b in samples))
    assert live is not None and assess(file, Athlete(max_hr=190, resting_hr=55)).hrr60 == live


@pytest.mark.parametrize("readings, end, expected", [
    ([(0, 150), (60, 120)], 0, 30),                    # peak at the end, a reading exactly 60 s later
    ([(0, 150), (64, 120)], 0, 30),                    # up to 5 s late
    ([(0, 150), (66, 120)], 0, None),                  # later than that: not measured
    ([(0, 150), (30, 155), (90, 125)], 30, 30),        # the peak, not the end of the window
    ([(-200, 190), (0, 150), (60, 120)], 0, 30),       # a peak 200 s before the end is another effort
    ([(0, 150), (0.5, None), (60, 120)], 0, 30),       # no reading (strap off skin) is skipped
    ([], 0, None),
])
def test_hrr60_table(readings, end, expected) -> None:
    assert hrr60(readings, end) == expected
