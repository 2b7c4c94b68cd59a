"""fitgen round-trips: every helper and option read back through fitparse 1.2.0."""

from __future__ import annotations

import io
import struct
from datetime import datetime, timedelta, timezone
from pathlib import Path

import fitparse
import pytest
from fitparse.utils import FitCRCError, FitEOFError, FitParseError

import fitgen as g

SHARED_FIT = Path(__file__).resolve().parents[2].parent / "shared" / "fit"
T0 = g.START.replace(tzinfo=None)  # fitparse gives naive UTC datetimes


def parse(data: bytes, **kw) -> list:
    """All data messages of a FIT byte string."""
    return fitparse.FitFile(io.BytesIO(data), **kw).messages


def of(msgs: list, name: str) -> list[dict]:
    return [m.get_values() for m in msgs if m.name == name]


def test_crc16_matches_fitparse_and_a_real_header() -> None:
    payload = bytes(range(256)) * 3
    crc = fitparse.records.Crc()
    crc.update(payload)
    assert g.crc16(payload) == crc.value
    real = SHARED_FIT / "FitFileParser__gearstest.fit"
    if not real.exists():
        pytest.skip("shared FIT corpus absent")
    head = real.read_bytes()[:14]
    assert g.crc16(head[:12]) == struct.unpack("<H", head[12:14])[0]


def test_ride_records_hold_the_given_per_second_values() -> None:
    hr = [100 + i % 50 for i in range(300)]
    power = [150 + (i * 7) % 100 for i in range(300)]
    msgs = parse(g.ride(hr=hr, power=power, start=g.START + timedelta(hours=1)))
    recs = of(msgs, "record")
    assert [r["heart_rate"] for r in recs] == hr
    assert [r["power"] for r in recs] == power
    assert [r["timestamp"] for r in recs] == [T0 + timedelta(hours=1, seconds=i) for i in range(300)]
    assert recs[10]["distance"] == pytest.approx(sum(r["speed"] for r in recs[:11]))
    (fid,) = of(msgs, "file_id")
    assert fid["type"] == "activity"
    assert fid["time_created"] == T0 + timedelta(hours=1)


def test_ride_session_carries_device_numbers() -> None:
    power = [200] * 600 + [300] * 600
    msgs = parse(g.ride(hr=140, power=power, ftp=250, training_effect=3.7))
    (s,) = of(msgs, "session")
    assert (s["sport"], s["sub_sport"]) == ("cycling", "road")
    assert s["avg_heart_rate"] == 140 and s["max_heart_rate"] == 140
    assert s["total_timer_time"] == 1200 and s["total_elapsed_time"] == 1200
    assert s["avg_power"] == 250 and s["max_power"] == 300
    assert s["threshold_power"] == 250
    assert 250 < s["normalized_power"] < 300  # 4th-power mean weighs the 300 W half
    assert s["intensity_factor"] == pytest.approx(s["normalized_power"] / 250, abs=0.003)
    tss = 1200 * s["normalized_power"] * s["intensity_factor"] / (250 * 3600) * 100
    assert s["training_stress_score"] == pytest.approx(tss, abs=0.2)
    assert s["total_training_effect"] == pytest.approx(3.7)
    assert s["total_calories"] == 300  # kJ of work, as devices report
    (lap,) = of(msgs, "lap")
    assert lap["total_timer_time"] == 1200 and lap["avg_heart_rate"] == 140
    (up,) = of(msgs, "user_profile")
    (zt,) = of(msgs, "zones_target")
    assert (up["resting_heart_rate"], up["default_max_heart_rate"]) == (50, 185)
    assert zt["functional_threshold_power"] == 250


def test_session_overrides_and_no_device_numbers() -> None:
    (s,) = of(parse(g.ride(minutes=2, device_numbers=False,
                           session={"avg_heart_rate": None, "total_calories": 77})), "session")
    for gone in ("normalized_power", "training_stress_score", "intensity_factor",
                 "threshold_power", "total_training_effect", "avg_heart_rate"):
        assert gone not in s
    assert s["total_calories"] == 77


def test_missing_values_become_invalid_sentinels() -> None:
    hr = [120, None, 122, None]
    recs = of(parse(g.ride(hr=hr, power=[None, 200, 201, 202])), "record")
    assert [r["heart_rate"] for r in recs] == hr
    assert recs[0]["power"] is None
    # The field is present in the definition (a sentinel, not an omitted field)
    raw = [m for m in parse(g.ride(hr=hr, power=100)) if m.name == "record"]
    assert any(fd.name == "heart_rate" for fd in raw[1].def_mesg.field_defs)


def test_pauses_shift_wall_time_and_add_timer_events() -> None:
    msgs = parse(g.ride(seconds=120, pauses=[(60, 45)]))
    recs = of(msgs, "record")
    assert len(recs) == 120
    assert recs[60]["timestamp"] - recs[59]["timestamp"] == timedelta(seconds=46)
    events = [(e["event_type"], e["timestamp"] - T0) for e in of(msgs, "event")]
    s = timedelta(seconds=1)
    assert events == [("start", 0 * s), ("stop_all", 60 * s), ("start", 105 * s), ("stop_all", 165 * s)]
    (sess,) = of(msgs, "session")
    assert (sess["total_timer_time"], sess["total_elapsed_time"]) == (120, 165)


def test_smart_recording_spaces_records_irregularly() -> None:
    recs = of(parse(g.ride(seconds=300, smart_recording=True)), "record")
    gaps = {(b["timestamp"] - a["timestamp"]).seconds for a, b in zip(recs, recs[1:])}
    assert len(recs) < 150 and max(gaps) > 1 and len(gaps) > 3
    assert recs[-1]["timestamp"] == T0 + timedelta(seconds=299)


def test_run_strength_and_swim_sports() -> None:
    (r,) = of(parse(g.run(minutes=2)), "session")
    assert (r["sport"], r["sub_sport"]) == ("running", "generic") and "avg_power" not in r
    msgs = parse(g.strength(minutes=3))
    (s,) = of(msgs, "session")
    assert (s["sport"], s["sub_sport"]) == ("training", "strength_training")
    recs = of(msgs, "record")
    assert len(recs) == 180 and all("heart_rate" not in x for x in recs)
    assert "avg_heart_rate" not in s and "zones_target" in {m.name for m in msgs}


def test_multisport_has_one_session_per_leg() -> None:
    legs = (("swimming", "lap_swimming", 1), ("transition", "generic", 0.5),
            ("cycling", "road", 2), ("transition", "generic", 0.5), ("running", "generic", 1))
    msgs = parse(g.multisport(legs=legs))
    sessions = of(msgs, "session")
    assert [(s["sport"], s["sub_sport"]) for s in sessions] == [leg[:2] for leg in legs]
    assert [s["total_timer_time"] for s in sessions] == [60, 30, 120, 30, 60]
    assert [s["start_time"] - T0 for s in sessions] == [timedelta(seconds=x) for x in (0, 60, 90, 210, 240)]
    (act,) = of(msgs, "activity")
    assert act["num_sessions"] == 5 and act["type"] == "auto_multi_sport"
    assert len(of(msgs, "record")) == 300 and len(of(msgs, "lap")) == 5


def _garmin_hr_times(hr_msgs: list[dict]) -> list[tuple[float, int]]:
    """Rebuild beat times like a consumer would: anchor + unwrapped 12-bit deltas."""
    anchor = hr_msgs[0]
    t0 = (anchor["timestamp"] - T0).total_seconds() + anchor["fractional_timestamp"]
    last_raw = round(anchor["event_timestamp"] * 1024)
    clock = last_raw
    out = [(t0, anchor["filtered_bpm"])]
    for m in hr_msgs[1:]:
        for bpm, j in zip(m["filtered_bpm"], range(8)):
            packed = int.from_bytes(bytes(m["event_timestamp_12"]), "little")
            raw12 = (packed >> (12 * j)) & 0xFFF
            clock += (raw12 - clock) % 4096
            if bpm is not None:
                out.append((t0 + (clock - last_raw) / 1024, bpm))
    return out


@pytest.mark.parametrize("style", ["garmin", "simple"])
def test_swim_heart_rate_only_in_hr_messages(style: str) -> None:
    hr = [120] * 30 + [150] * 30
    msgs = parse(g.swim_with_hr_messages(hr=hr, hr_style=style))
    assert all("heart_rate" not in r for r in of(msgs, "record"))
    (s,) = of(msgs, "session")
    assert s["sport"] == "swimming" and s["avg_heart_rate"] == 135
    hr_msgs = of(msgs, "hr")
    if style == "garmin":
        beats = _garmin_hr_times(hr_msgs)
    else:
        c0 = hr_msgs[0]["event_timestamp"][0]
        t0 = (hr_msgs[0]["timestamp"] - T0).total_seconds()
        beats = [(t0 + e - c0, b) for m in hr_msgs
                 for e, b in zip(m["event_timestamp"], m["filtered_bpm"])]
    expected = [(t, b) for t, b in g._beats(hr, 0.0)]
    assert [b for _, b in beats] == [b for _, b in expected]
    assert [t for t, _ in beats] == pytest.approx([t for t, _ in expected], abs=0.002)


def test_hrv_messages_carry_rr_in_seconds() -> None:
    rr = [0.8, 0.81, 0.79, 0.5, 1.2] * 30
    msgs = parse(g.with_hrv(rr=rr, minutes=3))
    got = [t for m in of(msgs, "hrv") for t in m["time"] if t is not None]
    assert got == pytest.approx(rr)
    derived = [t for m in of(parse(g.with_hrv(hr=100, seconds=60)), "hrv") for t in m["time"] if t]
    assert derived == pytest.approx([0.6] * 100)


def test_compressed_timestamps_decode_to_the_same_times() -> None:
    plain = parse(g.ride(seconds=200, pauses=[(100, 40)]))
    packed_bytes = g.ride(seconds=200, pauses=[(100, 40)], compressed=True)
    packed = parse(packed_bytes)
    assert of(packed, "record") == of(plain, "record")
    n_ct = sum(1 for m in packed if m.name == "record" and m.header.time_offset is not None)
    assert n_ct == 198  # all but the first record and the first after the 40 s pause
    assert len(packed_bytes) < len(g.ride(seconds=200, pauses=[(100, 40)]))


@pytest.mark.parametrize("kw", [{"big_endian": True}, {"header_size": 12}, {"header_crc": False}])
def test_layout_options_read_back_identically(kw: dict) -> None:
    data = g.ride(seconds=90, **kw)
    assert of(parse(data), "record") == of(parse(g.ride(seconds=90)), "record")
    assert data[0] == kw.get("header_size", 14)
    if kw.get("header_crc") is False:
        assert data[12:14] == b"\0\0"
    if kw.get("big_endian"):
        assert all(m.def_mesg.endian == ">" for m in parse(data))


def test_file_crc_zero_needs_check_crc_off() -> None:
    data = g.ride(seconds=30, file_crc=False)
    assert data[-2:] == b"\0\0"
    with pytest.raises(FitCRCError):
        parse(data)
    assert len(of(parse(data, check_crc=False), "record")) == 30


def test_corrupt_crc_is_detected() -> None:
    with pytest.raises(FitCRCError):
        parse(g.corrupt_crc(g.ride(seconds=30)))


def test_chained_files_read_as_one_stream() -> None:
    data = g.chain(g.ride(seconds=30), g.run(seconds=20, start=g.START + timedelta(hours=2)))
    msgs = parse(data)
    assert [s["sport"] for s in of(msgs, "session")] == ["cycling", "running"]
    assert len(of(msgs, "record")) == 50 and len(of(msgs, "file_id")) == 2


def test_developer_fields_round_trip() -> None:
    msgs = parse(g.ride(seconds=120, developer=True))
    (desc,) = of(msgs, "field_description")
    assert desc["field_name"] == "respiration_rate" and desc["units"] == "brpm"
    recs = of(msgs, "record")
    assert [r["respiration_rate"] for r in recs] == [20] * 60 + [21] * 60


def test_truncated_file_raises() -> None:
    data = g.ride(seconds=60)
    for n in (10, 13, len(data) // 2, -1):
        with pytest.raises((FitEOFError, FitParseError, FitCRCError)):
            parse(g.truncate(data, n))


def test_huge_declared_size_runs_out_of_bytes() -> None:
    data = g.huge_declared_size(g.ride(seconds=10))
    assert struct.unpack("<I", data[4:8])[0] == 0xFFFFFFF0
    with pytest.raises((FitEOFError, FitParseError)):
        parse(data)


def test_non_activity_files() -> None:
    msgs = parse(g.settings_file(max_hr=191, resting_hr=44))
    assert of(msgs, "file_id")[0]["type"] == "settings"
    (up,) = of(msgs, "user_profile")
    assert (up["default_max_heart_rate"], up["resting_heart_rate"]) == (191, 44)
    assert not of(msgs, "session")
    mon = parse(g.monitoring_file(minutes=10))
    assert of(mon, "file_id")[0]["type"] == "monitoring_b"
    assert [m["heart_rate"] for m in of(mon, "monitoring")] == [60 + i % 7 for i in range(10)]


def test_output_is_deterministic_and_start_accepts_posix() -> None:
    when = datetime(2023, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert g.ride(minutes=1, start=when) == g.ride(minutes=1, start=when.timestamp())
    assert g.fit_time(when) == int(when.timestamp()) - 631065600


def test_low_level_writer_arrays_strings_and_local_reuse() -> None:
    w = g.FitWriter()
    w.write("file_id", type="workout", manufacturer=1, product_name="Zwift <b>")
    for i in range(20):  # alternating shapes exercise local-message redefinition
        w.write("record", timestamp=g.START.timestamp() + i, heart_rate=100 + i)
        w.write("event", timestamp=g.START.timestamp() + i, event="lap", event_type="marker")
    w.write("hrv", time=[0.5, 0.6, None])
    msgs = parse(w.to_bytes())
    assert of(msgs, "file_id")[0]["product_name"] == "Zwift <b>"
    assert [r["heart_rate"] for r in of(msgs, "record")] == list(range(100, 120))
    assert of(msgs, "hrv")[0]["time"] == (0.5, 0.6, None)
