"""The one recorder: live and file copies of one session, on a real SQLite store with real FIT bytes."""

from __future__ import annotations

from pathlib import Path

import fitgen
import pytest

import asyncio

from cooldownd.core.intensity import Knobs
from cooldownd.core.model import Athlete, Contact, HrSample
from cooldownd.desktop.offers import newest_unoffered
from cooldownd.imports.importer import import_paths
from cooldownd.live.events import Connected, Sample
from cooldownd.clock import Timeline
from cooldownd.live.session import LiveSession
from cooldownd.record.recorder import Rules
from cooldownd.routinefile import load_library
from cooldownd.settings import load
from cooldownd.asyncstore import AsyncStore
from cooldownd.store import Store
from memory_parts import MemoryStatus, ReplaySource

ATHLETE = Athlete(max_hr=190, resting_hr=55)
MINUTES = 30


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
    """The live path end to end: strap events -> detector -> journal -> recorder, with a replayed strap."""
    samples = strap_samples(t0)
    events = [Connected("E1:3C:5B:9A:12:34", "Polar H10", None, 90)]
    events += [Sample(HrSample(bpm, Contact.DETECTED), t) for t, bpm in samples]
    settings = load(None)[0]
    status = MemoryStatus()
    offers: asyncio.Queue[int | None] = asyncio.Queue()
    astore = AsyncStore(store)
    source = ReplaySource(events)
    live = LiveSession(astore, settings.ble, settings.detect, lambda: rules, status, offers, source=source,
                       timeline=Timeline(wall=source.clock, steady=source.clock))  # the replayed strap's time

    async def replay() -> None:
        task = asyncio.create_task(live.run())
        try:
            async with asyncio.timeout(60):
                while not source.handed_over:  # the workout ends (settled) well before the last sample
                    await asyncio.sleep(0.02)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    try:
        asyncio.run(replay())
    finally:
        astore.stop()
    assert store.journal_unfinished() is None, "the journal is closed either way"
    ble = [w for w in store.workouts(superseded=True) if w.source == "ble"]
    assert [w.summary for w in ble] == status.workouts and offers.qsize() == len(ble)
    return ble[0] if ble else None


def import_ride(store: Store, rules: Rules, tmp_path: Path, t0: float):
    p = tmp_path / "ride.fit"
    p.write_bytes(fitgen.ride(minutes=MINUTES, start=t0, hr=150))
    (r,) = import_paths([p], store=store, athlete=rules.athlete, knobs=rules.knobs, library=rules.library)
    return r


def test_live_then_file_is_one_workout_one_hrr60_one_offer(tmp_path: Path, store: Store, rules: Rules) -> None:
    t0 = fitgen.posix(fitgen.START)
    live = live_record(store, rules, t0)
    assert live.summary.hrr60 == 60  # 150 at the end, 90 a minute later
    now = live.summary.end + 120
    assert newest_unoffered(store, now, 6 * 3600) == live.id
    store.mark_offered(live.id, now)  # the offer is on screen
    fit = import_ride(store, rules, tmp_path, t0)
    assert fit.status == "imported" and fit.summary.np is not None  # the richer copy: power
    (only,) = store.workouts()
    assert only.id == fit.id and only.summary.hrr60 == 60, "one HRR60: the strap measured the recovery"
    assert store.get_workout(live.id).superseded_by == fit.id
    assert newest_unoffered(store, now + 60, 6 * 3600) is None, "one offer"


def test_file_then_live_is_one_workout_and_the_live_copy_a_duplicate(tmp_path: Path, store: Store,
                                                                     rules: Rules) -> None:
    t0 = fitgen.posix(fitgen.START)
    fit = import_ride(store, rules, tmp_path, t0)
    assert live_record(store, rules, t0) is None, "the poorer live copy is not stored, not offered"
    (only,) = store.workouts(superseded=True)
    assert only.id == fit.id and only.summary.hrr60 == 60, "one HRR60 whichever copy came first"
