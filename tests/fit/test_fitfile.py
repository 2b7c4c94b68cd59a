"""fitfile: generated FIT files (tests/support/fitgen.py) -> Workouts, decoded by the real fitparse."""

from __future__ import annotations

import gzip

import pytest

from cooldownd.errors import FitImportError
from cooldownd.fit.decode import WANTED, decode_messages
from cooldownd.fit.workouts import workouts_from_messages
from cooldownd.imports.importer import read_fit
from cooldownd.fit.values import hr_samples
import fitgen


def _content(data: bytes):
    d = decode_messages(data, "mem.fit")
    assert d.error is None
    return workouts_from_messages(d.messages, "mem.fit")


def test_ride_with_power_fills_the_workout() -> None:
    power = [150 + i % 100 for i in range(600)]
    hr = [120 + i // 10 for i in range(600)]
    data = fitgen.ride(seconds=600, hr=hr, power=power, pauses=[(300, 30)], ftp=260,
                       profile=True, max_hr=188, resting_hr=50, lthr=170, rr=[0.5, 0.6, 0.55])
    c = _content(data)
    assert (c.kind, c.serial, c.time_created) == ("activity", 12345, fitgen.posix(fitgen.START))
    (w,) = c.workouts
    assert (w.sport, w.sub_sport) == ("cycling", "road")
    assert w.start == fitgen.posix(fitgen.START)
    assert w.duration_s == pytest.approx(600, abs=1)
    assert w.elapsed_s == pytest.approx(630, abs=1)
    assert len(w.pauses) == 1 and w.pauses[0][1] - w.pauses[0][0] == pytest.approx(30, abs=1)
    assert [r.power for r in w.records] == power
    assert [r.hr for r in w.records] == hr
    assert all(r.speed is not None and r.distance is not None for r in w.records)
    assert w.rr_ms == (500.0, 600.0, 550.0)
    assert w.device.avg_hr == pytest.approx(sum(hr) / len(hr), abs=1) and w.device.max_hr == max(hr)
    assert w.device.np is not None and w.device.threshold_power == 260
    assert (w.profile.max_hr, w.profile.resting_hr, w.profile.lthr, w.profile.ftp) == (188, 50, 170, 260)
    assert all(a.t < b.t for a, b in zip(w.records, w.records[1:]))


def test_zero_means_unset_in_profile_and_threshold() -> None:
    data = fitgen.ride(seconds=120, profile=True, max_hr=0, resting_hr=0, lthr=0, ftp=0)
    (w,) = _content(data).workouts
    assert w.profile.resting_hr is None and w.profile.lthr is None and w.profile.ftp is None
    assert w.device.threshold_power is None


def test_run_and_strength_without_hr() -> None:
    (run,) = _content(fitgen.run(seconds=300)).workouts
    assert run.sport == "running" and all(r.power is None for r in run.records)
    (st,) = _content(fitgen.strength(seconds=900)).workouts
    assert (st.sport, st.sub_sport) == ("training", "strength_training")
    assert st.duration_s == pytest.approx(900, abs=1)
    assert st.records and all(r.hr is None for r in st.records)


def test_multisport_gives_one_workout_per_sport_session_without_transitions() -> None:
    legs = (("swimming", "lap_swimming", 2), ("transition", "generic", 1), ("cycling", "road", 3),
            ("transition", "generic", 1), ("running", "generic", 2))
    ws = _content(fitgen.multisport(legs=legs)).workouts
    assert [w.sport for w in ws] == ["swimming", "cycling", "running"]
    assert [round(w.duration_s / 60) for w in ws] == [2, 3, 2]
    for w in ws:  # each workout holds only its own session's records
        assert w.records and all(w.start - 1 <= r.t <= w.end + 1 for r in w.records)
    assert ws[0].end <= ws[1].start and ws[1].end <= ws[2].start


@pytest.mark.parametrize("style", ["garmin", "simple"])
def test_swim_hr_comes_from_hr_messages(style: str) -> None:
    hr = [100 + i // 20 for i in range(600)]
    data = fitgen.swim_with_hr_messages(seconds=600, hr=hr, hr_style=style)
    (w,) = _content(data).workouts
    got = {int(r.t - w.start): r.hr for r in w.records if r.hr is not None}
    assert len(got) > 500
    # beat times decoded from the strap's clock land on the right second (within one beat)
    assert all(abs(bpm - hr[min(s, 599)]) <= 1 for s, bpm in got.items())


def test_hr_samples_unpack_12_bit_counters_with_rollover() -> None:
    # 30 s of beats: the 12-bit counter (4 s) rolls over several times
    data = fitgen.swim_with_hr_messages(seconds=30, hr=[100] * 30, hr_style="garmin")
    decoded = decode_messages(data, "swim.fit")
    got = hr_samples(v for n, v in decoded.messages if n == "hr")
    times = [t for t, _ in got]
    assert all(0.3 < b - a < 0.9 for a, b in zip(times, times[1:]))
    assert times[-1] - times[0] == pytest.approx(30, abs=1.5)


def test_non_activity_kinds() -> None:
    assert _content(fitgen.settings_file()).kind == "settings file"
    mon = _content(fitgen.monitoring_file(minutes=5))
    assert mon.kind == "monitoring file" and mon.workouts == []


def test_truncated_file_keeps_the_readable_part(tmp_path) -> None:
    full = fitgen.ride(seconds=1200)
    cut = fitgen.truncate(full, len(full) * 2 // 3)
    d = decode_messages(cut, "cut.fit")
    assert d.error_kind == "truncated" and d.read_any
    assert {n for n, _ in d.messages} <= (WANTED - {"record"}) | {"records"}
    p = tmp_path / "cut.fit"
    p.write_bytes(cut)
    (w,) = read_fit(str(p), p.read_bytes())[0].workouts
    assert "truncated" in (w.note or "")
    assert 300 < w.elapsed_s < 1200 and w.duration_s <= w.elapsed_s
    assert w.records[-1].t - w.start == pytest.approx(w.elapsed_s, abs=1)


def test_bad_crc_is_reported_and_read_fit_refuses_it(tmp_path) -> None:
    d = decode_messages(fitgen.corrupt_crc(fitgen.run(seconds=60)), "crc.fit")
    assert d.error_kind == "bad_crc" and d.messages
    p = tmp_path / "crc.fit"
    p.write_bytes(fitgen.corrupt_crc(fitgen.run(seconds=60)))
    with pytest.raises(FitImportError, match="crc.fit: bad CRC"):
        read_fit(str(p), p.read_bytes())


@pytest.mark.parametrize("data, reason", [
    (b"", "empty file"),
    (b"hello world, not a fit file at all", "not a FIT file"),
    (b"\x0e\x10", "truncated FIT header"),
])
def test_unreadable_files_raise_one_line(data: bytes, reason: str) -> None:
    with pytest.raises(FitImportError) as err:
        decode_messages(data, "bad.fit")
    assert str(err.value).startswith(f"bad.fit: {reason}") and "\n" not in str(err.value)


def test_gzip_and_compressed_timestamps_and_big_endian(tmp_path) -> None:
    data = fitgen.ride(seconds=300, compressed=True, big_endian=True)
    p = tmp_path / "ride.fit.gz"
    p.write_bytes(gzip.compress(data))
    (w,) = read_fit(str(p), p.read_bytes())[0].workouts
    assert len(w.records) == 300 and w.records[-1].t - w.records[0].t == pytest.approx(299)
