"""The one recorder: live and file copies of one session, on a real SQLite store with real FIT bytes."""

from __future__ import annotations

from pathlib import Path

import fitgen
import pytest

from cooldownd.core.detector import DetectKnobs, Detector, WorkoutEnded
from cooldownd.core.intensity import Knobs
from cooldownd.core.model import Athlete, HrSample
from cooldownd.desktop.offers import newest_unoffered
from cooldownd.imports.importer import import_paths
from cooldownd.live.session import save_live_workout
from cooldownd.record.recorder import Rules
from cooldownd.routinefile import load_library
from cooldownd.store import Store

ATHLETE = Athlete(max_hr=190, resting_hr=55)
MINUTES = 30


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(tmp_path / "state" / "cooldownd.db")
    yield s
    s.close()


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules(ATHLETE, Knobs(), load_library())


def strap_samples(t0: float) -> list[tuple[float, int]]:
    """What the strap sent during the ride of ``fitgen.ride(hr=150)``, then 70 s of recovery and rest."""
    ride = [(t0 + i, 150) for i in range(MINUTES * 60)]
    end = t0 + MINUTES * 60
    recovery = [(end + i, max(90, 150 - i)) for i in range(70)]
    rest = [(end + 70 + i, 85) for i in range(400)]
    return ride + recovery + rest


def live_record(store: Store, rules: Rules, t0: float):
    """The live path: the journal of the session, replayed by the detector, saved by the live path's store call."""
    session = store.journal_open("E1:3C:5B:9A:12:34", t0)
    samples = strap_samples(t0)
    store.journal_append(session, [(t, bpm, "detected", ()) for t, bpm in samples])
    _, events = Detector.replay(DetectKnobs.for_athlete(55, 190), [(t, HrSample(b)) for t, b in samples],
                                now=samples[-1][0] + 3600)
    (ended,) = [e for e in events if isinstance(e, WorkoutEnded)]
    return save_live_workout(store, ended.workout, session, rules, samples[-1][0] + 3600)


def import_ride(store: Store, rules: Rules, tmp_path: Path, t0: float):
    p = tmp_path / "ride.fit"
    p.write_bytes(fitgen.ride(minutes=MINUTES, start=t0, hr=150))
    (r,) = import_paths([p], store=store, athlete=rules.athlete, knobs=rules.knobs, library=rules.library)
    return r


def test_live_then_file_is_one_workout_one_hrr60_one_offer(tmp_path: Path, store: Store, rules: Rules) -> None:
    t0 = fitgen.posix(fitgen.START)
    live = live_record(store, rules, t0)
    assert live.status == "imported" and live.summary.hrr60 == 60  # 150 at the end, 90 a minute later
    now = live.summary.end + 120
    assert newest_unoffered(store, now, 6 * 3600) == live.id
    store.mark_offered(live.id, now)  # the offer is on screen
    fit = import_ride(store, rules, tmp_path, t0)
    assert fit.status == "imported" and fit.summary.np is not None  # the richer copy: power
    (only,) = store.workouts()
    assert only.id == fit.id and only.summary.hrr60 == 60, "one HRR60: the strap measured the recovery"
    assert store.get_workout(live.id).superseded_by == fit.id
    assert newest_unoffered(store, now + 60, 6 * 3600) is None, "one offer"
    assert store.journal_unfinished() is None


def test_file_then_live_is_one_workout_and_the_live_copy_a_duplicate(tmp_path: Path, store: Store,
                                                                     rules: Rules) -> None:
    t0 = fitgen.posix(fitgen.START)
    fit = import_ride(store, rules, tmp_path, t0)
    live = live_record(store, rules, t0)
    assert live.status == "duplicate" and live.id is None and f"#{fit.id}" in live.error
    (only,) = store.workouts(superseded=True)
    assert only.id == fit.id and only.summary.hrr60 == 60, "one HRR60 whichever copy came first"
    assert store.journal_unfinished() is None, "the journal is closed either way"
