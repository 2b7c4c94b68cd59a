"""Records alternating with another message, read as runs of cycles (fit/messages.py), give exactly
what fitparse gives: the same Records and RR intervals, chunked as decode._Compact chunks fitparse's
messages, the same error when the file is cut, and the same workout through the import's decoder.

The files are written by tests/support/fitgen.py; each test also checks that the cycle reader took
the file (a spy on ``Segment.cycles``), so a fall back to message-by-message reading cannot pass
for it."""

from __future__ import annotations

import pytest

from cooldownd.fit import decode as fitdecode
from cooldownd.fit import messages
from cooldownd.fit.workouts import workouts_from_messages
import fitgen
from test_fastfit import assert_same, fast, reference

N = 90
T0 = fitgen.posix(fitgen.START)
RR = [0.2, 0.81, None, 3.0, 0.1, 3.5, 0.95, 1.2, None]  # bounds, padding, implausible ones


def cycles_file(other: str, *, m: int = 1, compressed: bool = False, big_endian: bool = False,
                bad_time_at: int | None = None, bad_other_ts_at: int | None = None) -> bytes:
    """file_id, then N records each followed by ``m`` messages of kind ``other`` (a timer event halfway),
    then a session."""
    w = fitgen.FitWriter(big_endian=big_endian)
    w.write("file_id", type="activity", manufacturer=255, time_created=fitgen.START)
    for i in range(N):
        t = T0 + i
        w.write("record", timestamp=None if i == bad_time_at else t, heart_rate=120 + i % 30, power=150 + i,
                compressed=compressed and i > 0 and i != bad_time_at)
        for j in range(m):
            if other == "hrv":
                w.write("hrv", time=[RR[(i + k) % len(RR)] for k in range(3)])
            elif other == "monitoring":
                w.write("monitoring", timestamp=None if i == bad_other_ts_at else t, heart_rate=100 + j)
            else:
                w.write(other, value=i * 10 + j)
        if i == N // 2:  # a wanted message between two runs: each run starts new chunks
            w.write("event", timestamp=t, event="timer", event_type="start", event_group=0)
    w.write("session", timestamp=T0 + N, start_time=T0, total_elapsed_time=N,
            total_timer_time=N, sport="cycling", sub_sport="road")
    return w.to_bytes()


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Positions after each run of cycles the reader took."""
    runs: list[int] = []
    real = messages.Segment.cycles

    def spy(self, *args):
        after = real(self, *args)
        if after:
            runs.append(after)
        return after

    monkeypatch.setattr(messages.Segment, "cycles", spy)
    return runs


CASES = {
    "hrv": dict(other="hrv"),
    "hrv_big_endian": dict(other="hrv", big_endian=True),
    "hrv_compressed": dict(other="hrv", compressed=True),
    "hrv_record_without_time": dict(other="hrv", bad_time_at=70),
    "unknown_233": dict(other="unknown_233"),
    "unknown_233_x3_compressed": dict(other="unknown_233", m=3, compressed=True),
    "monitoring_with_timestamps": dict(other="monitoring"),
    "monitoring_last_without_timestamp": dict(other="monitoring", bad_other_ts_at=N - 1),
    "monitoring_and_record_last_without_timestamps": dict(other="monitoring", bad_other_ts_at=N - 1,
                                                          bad_time_at=N - 1),
}


@pytest.mark.parametrize("records", [True, False], ids=["records", "dicts"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_cycles_equal_fitparse(name: str, records: bool, taken: list[int]) -> None:
    data = cycles_file(**CASES[name])
    assert_same(data, name, records)
    if records:
        assert taken, f"{name}: the cycle reader never took the file"
    if records and name == "hrv_record_without_time":  # the hrv after it is timed by the record before
        assert len(taken) == 1, "the run holding a record without a time must be read message by message"


@pytest.mark.parametrize("cut", [60, 200, 201, 202, 203, 700, 1301, -40, -3])
def test_a_file_cut_inside_the_cycles_keeps_what_fitparse_keeps(cut: int) -> None:
    data = cycles_file("hrv")
    assert_same(data[:cut], f"hrv cut at {cut}", True)
    data = cycles_file("unknown_233", m=2)
    assert_same(data[:cut], f"unknown_233 cut at {cut}", True)


def test_rr_intervals_are_timed_by_the_record_before_them(taken: list[int]) -> None:
    data = cycles_file("hrv")
    got, err = fast(data, True)
    assert err is None and taken
    rr = [pair for name, chunk in got if name == "rr" for pair in chunk]
    want = [(float(T0 + i), round(s * 1000.0, 1)) for i in range(N)
            for s in (RR[(i + k) % len(RR)] for k in range(3)) if s is not None and 0.2 <= s <= 3.0]
    assert rr == want
    assert got == reference(data, True)[0]


def test_the_import_reads_the_same_workout_either_way() -> None:
    data = cycles_file("hrv", compressed=True)
    fast_ = workouts_from_messages(fitdecode.decode_messages(data, "c.fit").messages, "c.fit")
    slow = workouts_from_messages(fitdecode.decode_with_fitparse(data, "c.fit").messages, "c.fit")
    assert fast_ == slow
    (workout,) = fast_.workouts
    assert len(workout.records) == N and workout.rr_ms[:4] == (200.0, 810.0, 810.0, 3000.0)
