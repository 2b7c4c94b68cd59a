"""core/series.py: the compact time line kept per workout (report and done-card charts)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, strategies as st

from cooldownd.core import series
from cooldownd.core.intensity import assess
from cooldownd.core.model import Athlete, Record, Workout
from cooldownd.report.curves import hr_chart, power_curve

T0 = 1_700_000_000.0
ATHLETE = Athlete(max_hr=190, resting_hr=50, ftp=250)


def ride(minutes: int, *, tail_s: int = 0, power: bool = True) -> Workout:
    """A steady ride at 150 bpm / 200 W with a 400 W minute, then ``tail_s`` of recovery with the strap on."""
    n = minutes * 60
    recs = [Record(T0 + i, 150, (400 if 600 <= i < 660 else 200) if power else None) for i in range(n)]
    recs += [Record(T0 + n + i, max(90, 150 - i)) for i in range(tail_s)]
    return Workout("cycling", "road", T0, T0 + n, n, n, records=tuple(recs), source="ble")


def test_an_hour_is_720_points_at_5_s_with_the_zones_and_the_power_curve() -> None:
    w = ride(60)
    line = series.build(w, assess(w, ATHLETE))
    assert line.step_s == 5 and line.end_index == 720 and len(line.hr) == 720 and len(line.power) == 720
    assert set(line.hr) == {150}
    assert line.zones_bpm == (134, 148, 162, 176)  # 50 + (0.6, 0.7, 0.8, 0.9) x 140
    mmp = dict(line.mmp)
    assert mmp[5] == 400 and mmp[60] == 400 and mmp[120] == 300 and mmp[3600] == round((3540 * 200 + 60 * 400) / 3600)
    assert list(mmp) == [d for d in series.MMP_DURATIONS if d <= 3600]
    blob = series.encode(line)
    assert len(blob) < 3000 and series.decode(blob) == line


def test_long_rides_get_coarser_steps_never_more_than_720_points() -> None:
    w = ride(240, power=False)
    line = series.build(w, assess(w, ATHLETE))
    assert line.step_s == 20 and len(line.hr) == 720 and line.power == () and line.mmp == ()
    assert len(series.encode(line)) < 3000


def test_the_recovery_after_the_end_is_kept_and_hrr60_marked() -> None:
    w = ride(20, tail_s=120)
    a = assess(w, ATHLETE)
    assert a.hrr60 == 60  # 150 at the end, 90 a minute later
    line = series.build(w, a)
    assert len(line.hr) == line.end_index + 24 and line.hr[line.end_index + 12] in range(85, 95)
    svg = ET.fromstring(hr_chart("a ride", line, a.hrr60))
    mark = svg.find("g[@class='hrr60']")
    assert mark.get("data-value") == "60" and mark.find("line[@class='hrr']") is not None
    assert svg.find("path[@class='hr-tail']") is not None
    assert "HRR60 60 bpm" in "".join(mark.itertext())


def test_no_heart_rate_and_no_power_is_no_series() -> None:
    w = Workout("training", "strength_training", T0, T0 + 600, 600, 600,
                records=tuple(Record(T0 + i) for i in range(600)))
    assert series.build(w, assess(w, ATHLETE)) is None
    power_only = ride(10)
    power_only = Workout("cycling", "road", T0, power_only.end, 600, 600,
                         records=tuple(r._replace(hr=None) for r in power_only.records))
    line = series.build(power_only, assess(power_only, ATHLETE))
    assert line.hr == () and len(line.power) == 120
    assert hr_chart("x", line, None) is None and power_curve("x", line, str) is not None


@given(st.binary(max_size=200))
def test_junk_decodes_to_nothing(blob: bytes) -> None:
    assert series.decode(blob) is None or isinstance(series.decode(blob), series.Series)


def test_damaged_or_newer_blobs_decode_to_nothing() -> None:
    import json
    import zlib

    good = series.encode(series.build(ride(5), assess(ride(5), ATHLETE)))
    assert series.decode(good[:-3]) is None
    body = json.loads(zlib.decompress(good))
    assert series.decode(zlib.compress(json.dumps(body | {"v": 2}).encode())) is None
    assert series.decode(zlib.compress(json.dumps(body | {"hr": "150"}).encode())) is None
    assert series.decode(zlib.compress(b"[1, 2]")) is None


def test_mean_max_power_never_spans_a_pause() -> None:
    assert series.mean_max_power([[100] * 10, [300] * 5]) == ((5, 300),)
    assert series.mean_max_power([[100] * 20, [300] * 5], (5, 15)) == ((5, 300), (15, 100))
    assert series.mean_max_power([]) == ()
