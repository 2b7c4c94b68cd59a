"""Intensity core: hand-computed formulas, profile and level tables, hypothesis properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cooldownd.core.intensity import Knobs, assess, resolve_profile
from cooldownd.core.wording import format_duration, headline, sport_word
from cooldownd.core.model import Athlete, DeviceSummary, FileProfile, Level, Record, Workout

ME = Athlete(max_hr=190, resting_hr=60, lthr=170, sex="male")


def banister(hr: float, minutes: float, rest: float = 60, top: float = 190, k: float = 1.92) -> float:
    x = (hr - rest) / (top - rest)
    return minutes * x * 0.64 * math.exp(k * x)


def workout(hrs=None, *, times=None, power=None, pauses=(), end=None, sport="running", profile=FileProfile(),
            device=DeviceSummary(), hrr60=None, rr=()) -> Workout:
    n = len(hrs if hrs is not None else power if power is not None else [])
    times = list(range(n)) if times is None else times
    hrs = hrs if hrs is not None else [None] * n
    power = power if power is not None else [None] * n
    recs = tuple(Record(float(t), hr=h, power=p) for t, h, p in zip(times, hrs, power))
    end = float(times[-1] + 1 if end is None else end)  # no records: pass end
    paused = sum(b - a for a, b in pauses)
    return Workout(sport=sport, sub_sport="generic", start=0.0, end=end, duration_s=end - paused, elapsed_s=end,
                   records=recs, pauses=tuple(pauses), rr_ms=tuple(rr), device=device, profile=profile, hrr60=hrr60)


# ---- hand-computed formulas -------------------------------------------------------------------

def test_constant_150_bpm_hour() -> None:
    a = assess(workout([150] * 3600), ME)
    x, x_lt = 90 / 130, 110 / 130
    assert a.duration_s == 3600 and a.avg_hr == 150 and a.max_hr == 150
    assert a.trimp == pytest.approx(60 * x * 0.64 * math.exp(1.92 * x))  # 100.44
    assert a.hrss == pytest.approx(100 * a.trimp / (60 * x_lt * 0.64 * math.exp(1.92 * x_lt)))  # 60.89
    assert a.edwards == pytest.approx(60 * 3)  # 150/190 = 79 % HRmax: zone 3
    assert a.zones_s == (0, 3600, 0, 0, 0)  # 69 % HRR: Z2
    assert (a.load, a.load_source, a.level) == (a.hrss, "hrss", Level.MODERATE)
    assert a.minutes_above_90_hrr == 0 and a.np is None and a.tss is None and a.profile_source == "config"


def test_female_k_and_trimp_factor() -> None:
    a = assess(workout([150] * 3600), Athlete(max_hr=190, resting_hr=60, lthr=170, sex="female"),
               Knobs(trimp_factor=0.86))
    x = 90 / 130
    assert a.trimp == pytest.approx(60 * x * 0.86 * math.exp(1.67 * x))


def test_step_profile() -> None:
    a = assess(workout([120] * 1200 + [150] * 1200 + [180] * 1200), ME)
    assert a.zones_s == (1200, 1200, 0, 0, 1200)  # 46 %, 69 %, 92 % HRR
    assert a.trimp == pytest.approx(banister(120, 20) + banister(150, 20) + banister(180, 20))
    assert a.edwards == pytest.approx(20 * 2 + 20 * 3 + 20 * 5)  # 63 %, 79 %, 95 % HRmax
    assert a.avg_hr == pytest.approx(150) and a.max_hr == 180
    assert a.minutes_above_90_hrr == 20 and a.level is Level.VERY_HARD and a.load < 150
    assert a.profile_source == "config"


def test_thirty_second_power_spike() -> None:
    watts = [100] * 285 + [400] * 30 + [100] * 285
    a = assess(workout(power=watts, sport="cycling"), Athlete(ftp=250))
    # 571 full windows: 512 flat (100 W), 2 x 29 partly on the spike (100 + 10k W), 1 fully on it (400 W).
    np4 = (512 * 100 ** 4 + 2 * sum((100 + 10 * k) ** 4 for k in range(1, 30)) + 400 ** 4) / 571
    assert a.np == pytest.approx(np4 ** 0.25)
    assert a.if_ == pytest.approx(a.np / 250)
    assert a.tss == pytest.approx(100 * 571 / 3600 * (a.np / 250) ** 2)
    assert (a.load_source, a.profile_source, a.trimp) == ("tss", "config", None)


def test_power_seconds_without_value_are_dropped_and_zeros_kept() -> None:
    watts = [200] * 300 + [None] * 60 + [200] * 240
    a = assess(workout(power=watts, sport="cycling"), Athlete(ftp=200))
    # 300 s + the last value held 5 s into the hole + 240 s; one window's 29 s are not counted
    assert a.np == pytest.approx(200) and a.tss == pytest.approx(100 * (545 - 29) / 3600)
    coasting = assess(workout(power=[200, 0] * 300, sport="cycling"), Athlete(ftp=200))
    assert coasting.np == pytest.approx(100, rel=0.01)  # zeros count: the 30 s mean is ~100 W


def test_smart_recording_power_is_held_up_to_five_seconds() -> None:
    held = assess(workout(power=[200] * 200, times=list(range(0, 600, 3)), end=600, sport="cycling"),
                  Athlete(ftp=200))
    # 3 s steps: every second up to the last record (at 597 s, standing for its own second) has a value
    assert held.tss == pytest.approx(100 * (598 - 29) / 3600)
    sparse = assess(workout(power=[200] * 60, times=list(range(0, 600, 10)), end=600, sport="cycling"),
                    Athlete(ftp=200))
    assert sparse.tss == pytest.approx(100 * (59 * 6 + 1 - 29) / 3600)  # 10 s steps: 6 s of each kept


def test_pause_is_not_exercise() -> None:
    a = assess(workout([150] * 3600, pauses=[(1200, 1800)]), ME)
    assert a.duration_s == 3000 and a.trimp == pytest.approx(banister(150, 50))


def test_gap_is_not_exercise() -> None:
    times = list(range(1800)) + list(range(1900, 3700))
    a = assess(workout([150] * 3600, times=times), ME)
    assert a.duration_s == 3600 and a.trimp == pytest.approx(banister(150, 60))


# ---- avg / max HR as the device shows them ---------------------------------------------------

def test_avg_hr_is_linear_between_smart_recording_points() -> None:
    a = assess(workout([100, 130], times=[0, 30], end=30), ME)
    assert a.avg_hr == pytest.approx(115) and a.max_hr == 130  # a hold would say 100


@pytest.mark.parametrize("pauses, avg", [
    ((), (10 * 100 + 60 * 130 + 30 * 160) / 100),  # the 60 s gap ran on the timer: bridged
    (((10, 70),), (10 * 100 + 30 * 160) / 40),  # a pause is not
])
def test_avg_hr_bridges_timer_running_gaps_not_pauses(pauses, avg) -> None:
    a = assess(workout([100, 100, 160, 160], times=[0, 10, 70, 100], end=100, pauses=pauses), ME)
    assert a.avg_hr == pytest.approx(avg)


def test_avg_hr_holds_until_a_record_without_hr() -> None:
    a = assess(workout([100, None, 140, 140], times=[0, 10, 20, 30], end=30), ME)
    assert a.avg_hr == pytest.approx((10 * 100 + 10 * 140) / 20)  # 10-20 s: strap lost, unknown


def _beats_workout(rests=()) -> Workout:
    # 60 s at 100 bpm (one beat a second), then 60 s at 160 (two beats a second... as stored)
    beats = [(float(t), 100) for t in range(60)] + [(60 + i / 2, 160) for i in range(120)]
    recs = tuple(Record(float(t), 100 if t < 60 else 160) for t in range(120))
    return Workout(sport="swimming", sub_sport="lap_swimming", start=0.0, end=120.0, duration_s=120.0,
                   elapsed_s=120.0, records=recs, beats=tuple(beats), rests=tuple(rests))


def test_stored_beats_are_averaged_per_beat_outside_rests() -> None:
    assert assess(_beats_workout(), ME).avg_hr == pytest.approx((60 * 100 + 120 * 160) / 180)  # 140, not 130
    assert assess(_beats_workout([(0, 30)]), ME).avg_hr == pytest.approx((30 * 100 + 120 * 160) / 150)


def test_sparse_beats_leave_the_average_to_the_records() -> None:
    w = _beats_workout()
    few = Workout(**{**{f: getattr(w, f) for f in ("sport", "sub_sport", "start", "end", "duration_s",
                                                   "elapsed_s", "records")}, "beats": w.beats[:30]})
    assert assess(few, ME).avg_hr == pytest.approx(130, abs=0.3)  # 30 s of beats: < half the session


@pytest.mark.parametrize("device_max, shown", [(None, 150), (175, 175), (140, 140)])
def test_max_hr_is_the_devices_own_when_the_session_has_one(device_max, shown) -> None:
    # FIT session max_heart_rate is the device's figure (a record above it: a spike it filtered, or
    # a reading outside its timer), so a run's max never sits above the watch's
    a = assess(workout([140, 150, 145], times=[0, 4, 8], device=DeviceSummary(max_hr=device_max)), ME)
    assert a.max_hr == shown


@pytest.mark.parametrize("device_avg, shown", [(None, 146.25), (139, 139)])
def test_avg_hr_is_the_devices_own_when_the_session_has_one(device_avg, shown) -> None:
    a = assess(workout([140, 150, 145], times=[0, 4, 8], device=DeviceSummary(avg_hr=device_avg)), ME)
    assert a.avg_hr == pytest.approx(shown)


def test_no_hr_and_no_device_figures_means_no_avg_or_max() -> None:
    a = assess(workout(power=[200] * 60, sport="cycling"), ME)
    assert a.avg_hr is None and a.max_hr is None
    shown = assess(workout(power=[200] * 60, sport="cycling", device=DeviceSummary(avg_hr=150, max_hr=170)), ME)
    assert (shown.avg_hr, shown.max_hr) == (150, 170)  # the watch measured what the file did not store


@pytest.mark.parametrize("swum, rests", [
    ([(10, 20), (30, 40)], [(0, 10), (20, 30), (40, 50)]),
    ([(0, 25), (20, 50)], []),  # overlapping laps leave no rest
    ([], []),  # no laps: nothing known to be rest
])
def test_pool_rests_are_the_time_outside_swum_laps(swum, rests) -> None:
    from cooldownd.fit.values import pool_rests

    assert pool_rests(swum, 0.0, 50.0) == rests


@given(st.lists(st.tuples(st.integers(1, 20), st.one_of(st.none(), st.integers(40, 200))), min_size=1, max_size=40))
@settings(max_examples=60, deadline=None)
def test_avg_hr_lies_between_the_readings(steps) -> None:
    times = [sum(dt for dt, _ in steps[:i]) for i in range(len(steps))]
    hrs = [h for _, h in steps]
    a = assess(workout(hrs, times=times, end=times[-1] + 1), ME)
    seen = [h for h in hrs if h is not None]
    if not seen:
        assert a.avg_hr is None
    else:
        assert min(seen) - 1e-9 <= a.avg_hr <= max(seen) + 1e-9 and a.max_hr == max(seen)


def test_rmssd_filters_non_normal_intervals() -> None:
    rr = [800, 810] * 50
    assert assess(workout([120] * 60, rr=rr), ME).rmssd_ms == pytest.approx(10)
    ectopic = rr[:40] + [400, 1200] + rr[40:]  # a premature beat and its compensatory pause
    assert assess(workout([120] * 60, rr=ectopic), ME).rmssd_ms == pytest.approx(10)
    assert assess(workout([120] * 60, rr=rr[:10]), ME).rmssd_ms is None


def test_hrr60() -> None:
    assert assess(workout([150] * 600, hrr60=25), ME).hrr60 == 25
    # effort ends at 600 s; the strap stays on for 70 s more while HR drops 1 bpm every 2 s
    hrs = [170] * 601 + [170 - (i + 1) // 2 for i in range(70)]
    a = assess(workout(hrs, end=600), ME)
    assert a.hrr60 == 30 and a.duration_s == 600
    assert assess(workout([150] * 600), ME).hrr60 is None


# ---- tables ---------------------------------------------------------------------------------------

PROFILE_CASES = [
    # athlete, file profile, history, this_year, session max -> max, rest, lthr, sources
    (ME, FileProfile(max_hr=200, resting_hr=50, lthr=175), None, None, 160,
     (190, 60, 170), ("config", "config", "config")),
    (Athlete(), FileProfile(max_hr=200, resting_hr=50, lthr=175), None, None, 160,
     (200, 50, 175), ("file", "file", "file")),
    (Athlete(), FileProfile(max_hr=170), None, None, 180, (180, 60, 160), ("file", "estimate", "estimate")),
    (Athlete(), FileProfile(max_hr=180, resting_hr=185, lthr=190), None, None, 150,
     (180, 60, 160), ("file", "estimate", "estimate")),
    (Athlete(birth_year=1985), FileProfile(), None, 2025, 170, (180, 60, 160), ("estimate",) * 3),
    (Athlete(birth_year=1985), FileProfile(), 192, 2025, 170, (192, 60, 171), ("estimate",) * 3),
    (Athlete(birth_year=1985), FileProfile(), None, 2025, 186, (186, 60, 166), ("estimate",) * 3),
    (Athlete(birth_year=1985), FileProfile(), None, None, 150, (185, 60, 165), ("estimate",) * 3),
    (Athlete(max_hr=195), FileProfile(resting_hr=48), None, None, 150, (195, 48, 174),
     ("config", "file", "estimate")),
]


@pytest.mark.parametrize(("athlete", "prof", "history", "year", "peak", "values", "sources"), PROFILE_CASES)
def test_profile_resolution(athlete, prof, history, year, peak, values, sources) -> None:
    p = resolve_profile(workout([peak] * 10, profile=prof), athlete, Knobs(), history, year)
    assert (p.max_hr, p.resting_hr, p.lthr) == values
    assert tuple(src for _, src in p.sources[:3]) == sources


@pytest.mark.parametrize(("athlete", "device", "prof", "ftp", "source"), [
    (Athlete(ftp=300), DeviceSummary(threshold_power=250), FileProfile(ftp=240), 300, "config"),
    (Athlete(), DeviceSummary(threshold_power=250), FileProfile(ftp=240), 250, "file"),
    (Athlete(), DeviceSummary(), FileProfile(ftp=240), 240, "file"),
    (Athlete(), DeviceSummary(np=270, if_=0.9), FileProfile(), 300, "file"),
    (Athlete(), DeviceSummary(), FileProfile(), None, None),
])
def test_ftp_resolution(athlete, device, prof, ftp, source) -> None:
    p = resolve_profile(workout([150] * 10, device=device, profile=prof), athlete)
    assert p.ftp == ftp and dict(p.sources).get("ftp") == source


@pytest.mark.parametrize(("load", "level"), [
    (0, Level.LIGHT), (39.9, Level.LIGHT), (40, Level.MODERATE), (79.9, Level.MODERATE),
    (80, Level.HARD), (149.9, Level.HARD), (150, Level.VERY_HARD), (400, Level.VERY_HARD),
])
def test_level_thresholds(load, level) -> None:
    # a duration-only running workout: load = 60 per hour
    a = assess(workout(end=load * 60), Athlete())
    assert a.load_source == "duration" and a.load == pytest.approx(load) and a.level is level


def test_level_thresholds_are_knobs() -> None:
    a = assess(workout(end=50 * 60), Athlete(), Knobs(light_below=60, moderate_below=90))
    assert a.level is Level.LIGHT


@pytest.mark.parametrize(("minutes", "peak", "athlete", "very_hard"), [
    (9.9, 185, ME, False), (10, 185, ME, True),
    (12, 195, Athlete(), False),  # HRmax is only this session's own peak: "near max" means nothing
])
def test_ten_minutes_above_90_percent_hrr(minutes, peak, athlete, very_hard) -> None:
    secs = round(minutes * 60)
    a = assess(workout([100] * (2400 - secs) + [peak] * secs), athlete)
    assert a.load < 40 and a.minutes_above_90_hrr == pytest.approx(minutes)
    assert a.level is (Level.VERY_HARD if very_hard else Level.LIGHT)
    assert a.profile_source == ("config" if athlete is ME else "estimate")


def test_load_sources() -> None:
    hour = [150] * 3600
    both = assess(workout(hour, power=[200] * 3600, sport="cycling"), Athlete(ftp=250, max_hr=190))
    assert both.load_source == "tss" and both.hrss is not None
    short_power = [200] * 600 + [None] * 3000  # the power meter died after 10 min
    assert assess(workout(hour, power=short_power, sport="cycling"), Athlete(ftp=250)).load_source == "hrss"
    dev = assess(workout(end=3600, device=DeviceSummary(tss=123.0)), Athlete())
    assert (dev.load, dev.load_source, dev.profile_source) == (123.0, "device", "file")
    te = assess(workout(end=3600, device=DeviceSummary(training_effect=3.5)), Athlete())
    assert (te.load, te.load_source) == (pytest.approx(115), "device")
    walk = assess(workout(end=3600, sport="walking"), Athlete())
    assert (walk.load, walk.load_source, walk.profile_source) == (25, "duration", "estimate")


@pytest.mark.parametrize(("sport", "sub", "secs", "load", "level", "text"), [
    ("cycling", "generic", 4320, 112.4, Level.HARD, "Hard ride: 1 h 12 min, load 112"),
    ("running", "treadmill", 2700, 50, Level.MODERATE, "Moderate treadmill run: 45 min, load 50"),
    ("training", "strength_training", 3600, 30, Level.LIGHT, "Light strength session: 1 h, load 30"),
    ("swimming", "lap_swimming", 45, 1, Level.LIGHT, "Light pool swim: 45 s, load 1"),
    ("75", "generic", 600, 160, Level.VERY_HARD, "Very hard workout: 10 min, load 160"),
])
def test_describe(sport, sub, secs, load, level, text) -> None:
    a = assess(workout(end=secs), Athlete())
    a = type(a)(**{**{f: getattr(a, f) for f in a.__dataclass_fields__}, "load": load, "level": level})
    assert headline(a.level, sport, sub, a.duration_s, a.load) == text


def test_words() -> None:
    assert sport_word("running", "virtual_activity") == "run"
    assert sport_word("cycling", "virtual_activity") == "virtual ride"
    assert format_duration(3600 + 59 * 60 + 40) == "2 h"


# ---- properties -----------------------------------------------------------------------------------

hr_series = st.lists(st.integers(70, 195), min_size=30, max_size=900)


@settings(max_examples=60, deadline=None)
@given(hr_series, st.data())
def test_more_time_at_higher_hr_never_lowers_load(hrs, data) -> None:
    i = data.draw(st.integers(0, len(hrs) - 1))
    j = data.draw(st.integers(i + 1, len(hrs)))
    lift = data.draw(st.integers(1, 40))
    higher = hrs[:i] + [min(h + lift, 220) for h in hrs[i:j]] + hrs[j:]
    longer = hrs + [max(hrs)] * data.draw(st.integers(1, 300))
    base = assess(workout(hrs), ME)
    for other in (higher, longer):
        a = assess(workout(other), ME)
        assert a.load >= base.load - 1e-9 and a.trimp >= base.trimp - 1e-9
        assert a.level.value in {lv.value for lv in Level}


@settings(max_examples=40, deadline=None)
@given(st.integers(600, 2400), st.randoms(use_true_random=False))
def test_smart_recording_changes_trimp_by_less_than_2_percent(n, rnd) -> None:
    hrs, hr = [], rnd.randint(90, 170)
    for _ in range(n):  # a physiological trace: HR moves at most 2 bpm a second
        hr = min(max(hr + rnd.randint(-2, 2), 80), 190)
        hrs.append(hr)
    idx = [0]
    while idx[-1] + 5 < n:
        idx.append(idx[-1] + rnd.randint(2, 5))
    full = assess(workout(hrs), ME)
    smart = assess(workout([hrs[i] for i in idx], times=idx, end=n), ME)
    assert smart.trimp == pytest.approx(full.trimp, rel=0.02)
    assert abs(smart.duration_s - full.duration_s) <= 5  # the last sample stands for one typical step


@settings(max_examples=60, deadline=None)
@given(hr_series, st.data())
def test_gaps_and_pauses_add_nothing(hrs, data) -> None:
    i = data.draw(st.integers(0, len(hrs) - 2))
    length = data.draw(st.integers(21, 5000))
    base = assess(workout(hrs), ME)
    times = list(range(i + 1)) + [t + length for t in range(i + 1, len(hrs))]
    gap = assess(workout(hrs, times=times), ME)
    pause = assess(workout(hrs, times=times, pauses=[(i + 1, i + 1 + length)]), ME)
    for a in (gap, pause):
        assert a.duration_s == base.duration_s
        assert a.trimp == pytest.approx(base.trimp) and a.load == pytest.approx(base.load)
        assert a.zones_s == pytest.approx(base.zones_s)


def test_every_assessment_says_why_in_words() -> None:
    from cooldownd.core.wording import reason_words

    ride = assess(workout([150] * 3600, power=[230] * 3600, sport="cycling"), Athlete(ftp=250))
    assert reason_words(ride.level, ride.reason) == "hard: load 84 from power, FTP 250 from your settings"
    run = assess(workout([150] * 1800), Athlete(max_hr=190, resting_hr=50))
    assert reason_words(run.level, run.reason).startswith("light: load 32 ")
    assert "from heart rate, threshold 169 bpm estimated" in reason_words(run.level, run.reason)


def test_a_level_above_its_load_always_says_why() -> None:
    from cooldownd.core.wording import reason_words

    # 26 min, 15 of them at >= 90 % HRR: a load in the moderate range, but very hard
    a = assess(workout([120] * 660 + [185] * 900), Athlete(max_hr=190, resting_hr=50, lthr=175))
    words = reason_words(a.level, a.reason)
    assert a.level is Level.VERY_HARD and a.load < Knobs().hard_below and a.reason.kind == "near_max"
    assert words.startswith("very hard: 15 min above 90 % of heart-rate reserve (max HR 190 from your settings)")
    assert f"though load {round(a.load)} from heart rate" in words


def test_device_and_duration_loads_say_so() -> None:
    from cooldownd.core.wording import reason_words

    te = assess(workout(sport="cycling", end=3600.0, device=DeviceSummary(training_effect=3.4)), ME)
    assert reason_words(te.level, te.reason) == "hard: load 108 from the device's training effect 3.4"
    bare = assess(workout(sport="running", end=2400.0), ME)
    assert reason_words(bare.level, bare.reason) == "moderate: load 40 from 40 min at 60 an hour (no power or heart rate)"
