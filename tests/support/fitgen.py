"""A small FIT encoder for tests: stdlib only, deterministic, read back by fitparse 1.2.0.

Times: pass POSIX seconds (int/float) or aware ``datetime``; the FIT epoch is
1989-12-31T00:00:00Z = POSIX 631065600 (``FIT_EPOCH``). Default start is ``START``
(2024-05-04T08:00:00Z).

Low level::

    w = FitWriter(big_endian=False)
    w.write("file_id", type="activity", manufacturer=255, time_created=START)
    w.write("record", timestamp=t, heart_rate=None, power=200)  # None -> invalid sentinel
    w.write("record", timestamp=t + 1, heart_rate=141, compressed=True)  # 1-byte header
    w.add_developer_field("respiration_rate", base="uint8", units="brpm")  # writes
    w.write("record", timestamp=t, heart_rate=140, dev={"respiration_rate": 22})  # dev ids
    data = w.to_bytes(header_size=14, header_crc=True, file_crc=True)

``write(mesg, values=None, *, dev=None, compressed=False, **fields)``: field names from
``MESSAGES`` below (scaled values in FIT units: m, m/s, s, bpm, W); lists/tuples become
FIT arrays; enum fields accept a name ("cycling") or an int; date_time fields take POSIX
or datetime. ``compressed=True`` uses a compressed-timestamp header when the previous
timestamp is < 32 s earlier (else a normal message). ``header_crc=False`` writes 0x0000
("not computed", fitparse accepts it); ``file_crc=False`` writes a 0x0000 file CRC
(fitparse then needs ``check_crc=False``).

High level (all return bytes; keyword-only; common options for every activity helper:
``start``, ``big_endian``, ``compressed``, ``header_size`` (14 or 12), ``header_crc``,
``file_crc``, ``developer`` (adds developer_data_id + field_description and a dev field
``respiration_rate`` in each record), ``profile`` (write user_profile + zones_target),
``max_hr``, ``resting_hr``, ``lthr``, ``ftp``, ``session`` (dict overriding/adding session
fields; a None value drops that field), ``device_numbers`` (False: session without
NP/TSS/IF/threshold_power/training effect), ``rr`` (RR intervals in s -> hrv messages),
``manufacturer``, ``product``, ``serial``)::

    ride(minutes=45, seconds=None, hr=DEFAULT, power=DEFAULT, cadence=DEFAULT, speed=DEFAULT,
         pauses=(), smart_recording=False, ftp=250, sport="cycling", sub_sport="road",
         training_effect=3.2, anaerobic_training_effect=1.1, ...)
    run(...)          # running/generic, no power, speed ~3 m/s
    strength(...)     # training/strength_training, records without any heart rate
    multisport(legs=MULTISPORT_LEGS, ...)  # one session per (sport, sub_sport, minutes)
    swim_with_hr_messages(minutes=30, hr=DEFAULT, hr_style="garmin"|"simple", ...)
    with_hrv(rr=None, **ride_kwargs)  # ride + hrv messages (RR from hr when rr is None)
    settings_file(), monitoring_file(minutes=60)
    truncate(data, n) -> data[:n];  corrupt_crc(data);  chain(*files)
    with_declared_size(data, size); huge_declared_size(data)  # header data_size lie

Per-second arrays: ``hr``/``power``/``cadence``/``speed`` may be an int (constant), a list
(one value per timer second; None items -> invalid sentinel), None (field not written),
or DEFAULT (a deterministic built-in curve). Timer length is the length of the first list
given, else ``seconds``, else ``minutes * 60``. ``pauses``: (timer_second, pause_s) pairs;
the timer stops at that timer second, no records are written during the pause, and
timer stop_all/start events bracket it. Record i of an unpaused file is at start + i.

hr messages (``swim_with_hr_messages``): beats derive from the per-second hr (``_beats``).
The strap's clock reads ``HR_CLOCK0`` s at the first beat. "garmin" style mimics a
Forerunner + HRM: one anchor message (timestamp, fractional_timestamp, event_timestamp,
filtered_bpm) then messages of 8 filtered_bpm + event_timestamp_12 (8 x 12-bit values of
the clock in 1/1024 s, packed little-endian; fitparse accumulates them from 0, so unwrap
mod 4096 starting at the anchor's event_timestamp; a last short group is padded with the
last time and bpm None). "simple" style: every message has timestamp, filtered_bpm[<=8]
and event_timestamp[<=8]; beat time = first hr message's timestamp + event_timestamp -
first event_timestamp. Either way beat time = anchor time + (clock - anchor clock).
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

FIT_EPOCH = 631065600
START = datetime(2024, 5, 4, 8, 0, 0, tzinfo=timezone.utc)
HR_CLOCK0 = 1000.0
DEFAULT: Any = object()  # sentinel: use the built-in curve

# name: (base type code, struct format, invalid value)
BASE = {
    "enum": (0x00, "B", 0xFF), "sint8": (0x01, "b", 0x7F), "uint8": (0x02, "B", 0xFF),
    "sint16": (0x83, "h", 0x7FFF), "uint16": (0x84, "H", 0xFFFF),
    "sint32": (0x85, "i", 0x7FFFFFFF), "uint32": (0x86, "I", 0xFFFFFFFF),
    "string": (0x07, "s", 0), "uint8z": (0x0A, "B", 0), "uint16z": (0x8B, "H", 0),
    "uint32z": (0x8C, "I", 0), "byte": (0x0D, "B", 0xFF),
}
ENUMS = {
    "file": {"device": 1, "settings": 2, "sport": 3, "activity": 4, "workout": 5,
             "monitoring_a": 15, "monitoring_b": 32},
    "sport": {"generic": 0, "running": 1, "cycling": 2, "transition": 3, "swimming": 5,
              "training": 10, "walking": 11, "rowing": 15, "multisport": 18},
    "sub_sport": {"generic": 0, "treadmill": 1, "indoor_cycling": 6, "road": 7,
                  "lap_swimming": 17, "open_water": 18, "strength_training": 20,
                  "virtual_activity": 58},
    "event": {"timer": 0, "session": 8, "lap": 9, "activity": 26},
    "event_type": {"start": 0, "stop": 1, "marker": 3, "stop_all": 4},
    "activity": {"manual": 0, "auto_multi_sport": 1},
    "gender": {"female": 0, "male": 1},
    "activity_type": {"generic": 0, "running": 1, "cycling": 2, "sedentary": 8},
}


@dataclass(frozen=True)
class F:
    """One field of the table: number, base type, scale, offset, enum table, date_time."""

    num: int
    base: str
    scale: float = 1
    offset: float = 0
    enum: str | None = None
    time: bool = False


def _t(num: int) -> F:
    return F(num, "uint32", time=True)


def _e(num: int, enum: str) -> F:
    return F(num, "enum", enum=enum)


_TS = {"timestamp": _t(253)}
_EV = {"event": _e(0, "event"), "event_type": _e(1, "event_type")}
_SUMMARY = {
    **_TS, **_EV, "start_time": _t(2), "total_elapsed_time": F(7, "uint32", 1000),
    "total_timer_time": F(8, "uint32", 1000), "total_distance": F(9, "uint32", 100),
    "total_calories": F(11, "uint16"), "message_index": F(254, "uint16"),
}
MESSAGES: dict[str, tuple[int, dict[str, F]]] = {
    "file_id": (0, {"type": _e(0, "file"), "manufacturer": F(1, "uint16"),
                    "product": F(2, "uint16"), "serial_number": F(3, "uint32z"),
                    "time_created": _t(4), "number": F(5, "uint16"),
                    "product_name": F(8, "string")}),
    "file_creator": (49, {"software_version": F(0, "uint16"),
                          "hardware_version": F(1, "uint8")}),
    "device_info": (23, {**_TS, "device_index": F(0, "uint8"), "device_type": F(1, "uint8"),
                         "manufacturer": F(2, "uint16"), "serial_number": F(3, "uint32z"),
                         "product": F(4, "uint16"), "software_version": F(5, "uint16", 100)}),
    "user_profile": (3, {"friendly_name": F(0, "string"), "gender": _e(1, "gender"),
                         "age": F(2, "uint8"), "weight": F(4, "uint16", 10),
                         "resting_heart_rate": F(8, "uint8"),
                         "default_max_heart_rate": F(11, "uint8")}),
    "zones_target": (7, {"max_heart_rate": F(1, "uint8"), "threshold_heart_rate": F(2, "uint8"),
                         "functional_threshold_power": F(3, "uint16")}),
    "sport": (12, {"sport": _e(0, "sport"), "sub_sport": _e(1, "sub_sport"),
                   "name": F(3, "string")}),
    "device_settings": (2, {"utc_offset": F(1, "uint32"), "time_offset": F(2, "uint32")}),
    "event": (21, {**_TS, **_EV, "data": F(3, "uint32"), "event_group": F(4, "uint8")}),
    "record": (20, {**_TS, "heart_rate": F(3, "uint8"), "cadence": F(4, "uint8"),
                    "distance": F(5, "uint32", 100), "speed": F(6, "uint16", 1000),
                    "power": F(7, "uint16")}),
    "lap": (19, {**_SUMMARY, "avg_heart_rate": F(15, "uint8"), "max_heart_rate": F(16, "uint8"),
                 "sport": _e(25, "sport"), "normalized_power": F(33, "uint16"),
                 "sub_sport": _e(39, "sub_sport")}),
    "session": (18, {**_SUMMARY, "sport": _e(5, "sport"), "sub_sport": _e(6, "sub_sport"),
                     "avg_heart_rate": F(16, "uint8"), "max_heart_rate": F(17, "uint8"),
                     "avg_power": F(20, "uint16"), "max_power": F(21, "uint16"),
                     "total_training_effect": F(24, "uint8", 10),
                     "first_lap_index": F(25, "uint16"), "num_laps": F(26, "uint16"),
                     "trigger": F(28, "enum"), "normalized_power": F(34, "uint16"),
                     "training_stress_score": F(35, "uint16", 10),
                     "intensity_factor": F(36, "uint16", 1000),
                     "threshold_power": F(45, "uint16"),
                     "total_anaerobic_training_effect": F(137, "uint8", 10)}),
    "activity": (34, {**_TS, "event": _e(3, "event"), "event_type": _e(4, "event_type"),
                      "total_timer_time": F(0, "uint32", 1000),
                      "num_sessions": F(1, "uint16"), "type": _e(2, "activity"),
                      "local_timestamp": F(5, "uint32")}),
    "hr": (132, {**_TS, "fractional_timestamp": F(0, "uint16", 32768),
                 "filtered_bpm": F(6, "uint8"), "event_timestamp": F(9, "uint32", 1024),
                 "event_timestamp_12": F(10, "byte")}),
    "hrv": (78, {"time": F(0, "uint16", 1000)}),
    "monitoring": (55, {**_TS, "activity_type": _e(5, "activity_type"),
                        "heart_rate": F(27, "uint8")}),
    # an undocumented message (not in the FIT profile, no timestamp), as Garmin writes between records
    "unknown_233": (233, {"value": F(2, "uint16")}),
    "developer_data_id": (207, {"developer_id": F(0, "byte"), "application_id": F(1, "byte"),
                                "manufacturer_id": F(2, "uint16"),
                                "developer_data_index": F(3, "uint8"),
                                "application_version": F(4, "uint32")}),
    "field_description": (206, {"developer_data_index": F(0, "uint8"),
                                "field_definition_number": F(1, "uint8"),
                                "fit_base_type_id": F(2, "uint8"), "field_name": F(3, "string"),
                                "units": F(8, "string")}),
}


def fit_time(t: float | datetime) -> int:
    """POSIX seconds or a datetime -> FIT seconds (since 1989-12-31T00:00:00Z)."""
    if isinstance(t, datetime):
        t = t.timestamp()
    return int(t) - FIT_EPOCH


def posix(t: float | datetime) -> float:
    """POSIX seconds of a datetime or number."""
    return t.timestamp() if isinstance(t, datetime) else float(t)


def crc16(data: bytes, crc: int = 0) -> int:
    """FIT CRC-16 (the SDK's nibble-table algorithm)."""
    table = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
             0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)
    for byte in data:
        tmp = table[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ table[byte & 0xF]
        tmp = table[crc & 0xF]
        crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ table[(byte >> 4) & 0xF]
    return crc


@dataclass
class _Dev:
    index: int
    num: int
    base: str


@dataclass
class FitWriter:
    """Writes definition + data messages; ``to_bytes`` adds header and CRCs."""

    big_endian: bool = False
    body: bytearray = field(default_factory=bytearray)
    _locals: dict[int, tuple] = field(default_factory=dict)
    _next: int = 0
    _last_ts: int | None = None
    _dev: dict[str, _Dev] = field(default_factory=dict)
    _dev_ids: set[int] = field(default_factory=set)

    def write(self, mesg: str, values: Mapping[str, Any] | None = None, *,
              dev: Mapping[str, Any] | None = None, compressed: bool = False,
              **fields: Any) -> None:
        """Write one data message (and its definition when the shape is new)."""
        num, table = MESSAGES[mesg]
        vals = {**(values or {}), **fields}
        ts = vals.get("timestamp")
        ts_raw = fit_time(ts) if ts is not None else None
        use_ct = (compressed and ts_raw is not None and self._last_ts is not None
                  and 0 <= ts_raw - self._last_ts < 32)
        if use_ct:
            del vals["timestamp"]
        encoded = [self._encode(table[k], v) for k, v in vals.items()]
        devs = [(self._dev[k], self._encode(F(0, self._dev[k].base), v))
                for k, v in (dev or {}).items()]
        shape = (num, tuple((table[k].num, len(e), table[k].base) for k, e in zip(vals, encoded)),
                 tuple((d.num, len(e), d.index) for d, e in devs))
        local = self._local_for(shape, compressed=use_ct)
        if use_ct:
            self.body.append(0x80 | (local << 5) | (ts_raw & 0x1F))
        else:
            self.body.append(local)
        for e in encoded:
            self.body += e
        for _, e in devs:
            self.body += e
        if ts_raw is not None:
            self._last_ts = ts_raw

    def add_developer_field(self, name: str, *, base: str = "uint8", units: str = "",
                            index: int = 0, num: int | None = None) -> None:
        """Declare a developer field (writes developer_data_id once, then field_description)."""
        if index not in self._dev_ids:
            self._dev_ids.add(index)
            self.write("developer_data_id", developer_data_index=index, manufacturer_id=255,
                       application_id=list(range(16)), application_version=1)
        num = len([d for d in self._dev.values() if d.index == index]) if num is None else num
        self._dev[name] = _Dev(index, num, base)
        self.write("field_description", developer_data_index=index, field_definition_number=num,
                   fit_base_type_id=BASE[base][0], field_name=name, units=units)

    def _local_for(self, shape: tuple, *, compressed: bool) -> int:
        for local, known in self._locals.items():
            if known == shape and (local < 4 or not compressed):
                return local
        span = 4 if compressed else 16
        local = self._next % span
        self._next = (local + 1) % 16
        self._locals[local] = shape
        self._define(local, shape)
        return local

    def _define(self, local: int, shape: tuple) -> None:
        num, fdefs, ddefs = shape
        end = ">" if self.big_endian else "<"
        self.body.append(0x40 | (0x20 if ddefs else 0) | local)
        self.body += struct.pack(end + "BBHB", 0, 1 if self.big_endian else 0, num, len(fdefs))
        for fnum, size, base in fdefs:
            self.body += bytes((fnum, size, BASE[base][0]))
        if ddefs:
            self.body.append(len(ddefs))
            for dnum, size, index in ddefs:
                self.body += bytes((dnum, size, index))

    def _encode(self, f: F, value: Any) -> bytes:
        code, fmt, invalid = BASE[f.base]
        end = ">" if self.big_endian else "<"
        if f.base == "string":
            raw = (value or "").encode() + b"\0"
            return raw
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        out = bytearray()
        for v in items:
            out += struct.pack(end + fmt, self._raw(f, v, invalid))
        return bytes(out)

    @staticmethod
    def _raw(f: F, v: Any, invalid: int) -> int:
        if v is None:
            return invalid
        if f.time:
            return fit_time(v)
        if f.enum and isinstance(v, str):
            return ENUMS[f.enum][v]
        return int(round((v + f.offset) * f.scale))

    def to_bytes(self, *, header_size: int = 14, header_crc: bool = True,
                 file_crc: bool = True, protocol: int = 0x20, profile: int = 2132) -> bytes:
        """The whole file: header (14 or 12 bytes), messages, file CRC."""
        head = struct.pack("<BBHI4s", header_size, protocol, profile, len(self.body), b".FIT")
        if header_size == 14:
            head += struct.pack("<H", crc16(head) if header_crc else 0)
        data = head + bytes(self.body)
        return data + struct.pack("<H", crc16(data) if file_crc else 0)


# ----------------------------------------------------------------------------------------
# High-level helpers

MULTISPORT_LEGS = (("swimming", "lap_swimming", 20), ("transition", "generic", 3),
                   ("cycling", "road", 60), ("transition", "generic", 2),
                   ("running", "generic", 40))


def default_hr(i: int) -> int:
    """Built-in heart-rate curve: warm-up 95 -> 150 bpm over 10 min, then 150-156."""
    return min(95 + i * 55 // 600, 150) + ((i // 90) % 3) * 3


def default_power(i: int) -> int:
    """Built-in power curve: 120 W warm-up for 5 min, then 190 W with a 250 W minute in four."""
    return 120 if i < 300 else (250 if (i // 60) % 4 == 3 else 190)


@dataclass
class _Leg:
    sport: str
    sub_sport: str
    n: int
    hr: list | None
    power: list | None = None
    cadence: list | None = None
    speed: list | None = None
    pauses: Sequence[tuple[int, int]] = ()
    hr_in_records: bool = True


def _series(spec: Any, n: int, default: Any) -> list | None:
    if spec is DEFAULT:
        return None if default is None else [default(i) for i in range(n)]
    if spec is None:
        return None
    if isinstance(spec, (int, float)):
        return [spec] * n
    values = list(spec)
    if len(values) != n:
        raise ValueError(f"per-second list has {len(values)} items, timer has {n} s")
    return values


def _length(minutes: float, seconds: int | None, *specs: Any) -> int:
    for spec in specs:
        if isinstance(spec, (list, tuple)):
            return len(spec)
    return int(seconds) if seconds is not None else int(round(minutes * 60))


def _leg(sport: str, sub_sport: str, n: int, hr: Any, power: Any, cadence: Any, speed: Any,
         *, defaults: tuple, pauses: Sequence = (), hr_in_records: bool = True) -> _Leg:
    d_power, d_cad, d_speed = defaults
    return _Leg(sport, sub_sport, n, _series(hr, n, default_hr), _series(power, n, d_power),
                _series(cadence, n, d_cad), _series(speed, n, d_speed),
                tuple(sorted(pauses)), hr_in_records)


def _beats(hr: Sequence[int | None], t0: float) -> list[tuple[float, int]]:
    """(time, bpm) of each beat implied by a per-second heart rate."""
    out, t = [], 0.0
    while t < len(hr):
        bpm = hr[int(t)] or 60
        out.append((t0 + t, bpm))
        t += round(60.0 / bpm, 3)
    return out


def rr_from_hr(hr: Sequence[int | None]) -> list[float]:
    """RR intervals (s, ms resolution) implied by a per-second heart rate."""
    return [round(60.0 / bpm, 3) for _, bpm in _beats(hr, 0.0)]


def _np(power: Sequence[int | None]) -> float:
    p = [v or 0 for v in power]
    if len(p) < 30:
        return sum(p) / max(len(p), 1)
    window = sum(p[:30])
    rolled = [window / 30]
    for i in range(30, len(p)):
        window += p[i] - p[i - 30]
        rolled.append(window / 30)
    return (sum(r ** 4 for r in rolled) / len(rolled)) ** 0.25


@dataclass
class _Opts:
    start: float
    ftp: int | None
    session: Any
    device_numbers: bool
    training_effect: float | None
    anaerobic_training_effect: float | None
    compressed: bool
    developer: bool
    smart_recording: bool
    hr_style: str
    rr: Sequence[float] | None


def _header(w: FitWriter, start: float, file_type: str, kw: dict) -> None:
    w.write("file_id", type=file_type, manufacturer=kw.get("manufacturer", 255),
            product=kw.get("product", 1), serial_number=kw.get("serial", 12345),
            time_created=start)
    w.write("file_creator", software_version=1000)


def _profile(w: FitWriter, max_hr: Any, resting_hr: Any, lthr: Any, ftp: Any) -> None:
    prof = {k: v for k, v in (("default_max_heart_rate", max_hr),
                              ("resting_heart_rate", resting_hr)) if v is not None}
    if prof:
        w.write("user_profile", gender="male", age=40, weight=72.5, **prof)
    zones = {k: v for k, v in (("max_heart_rate", max_hr), ("threshold_heart_rate", lthr),
                               ("functional_threshold_power", ftp)) if v is not None}
    if zones:
        w.write("zones_target", **zones)


def _smart_keep(i: int, n: int) -> bool:
    """Irregular 1-7 s spacing like Garmin smart recording (deterministic)."""
    gaps = (1, 3, 5, 2, 7, 4)
    t, k = 0, 0
    while t < i:
        t += gaps[k % len(gaps)]
        k += 1
    return t == i or i == n - 1


def _write_leg(w: FitWriter, leg: _Leg, t0: float, o: _Opts, idx: int) -> float:
    """Events, records, hr/hrv, lap and session of one leg; returns the leg's end (wall)."""
    pauses = list(leg.pauses)
    wall = lambda i: t0 + i + sum(d for at, d in pauses if at <= i)  # noqa: E731
    w.write("event", timestamp=t0, event="timer", event_type="start", event_group=0)
    rr = list(o.rr or [])
    rr_t, rr_i = t0, 0
    dist = 0.0
    full = True
    for i in range(leg.n):
        for at, d in pauses:
            if at == i and i > 0:
                w.write("event", timestamp=wall(i) - d, event="timer", event_type="stop_all",
                        event_group=0)
                w.write("event", timestamp=wall(i), event="timer", event_type="start",
                        event_group=0)
                full = True
        if leg.speed:
            dist += leg.speed[i] or 0
        if o.smart_recording and not _smart_keep(i, leg.n):
            continue
        vals: dict[str, Any] = {"timestamp": wall(i)}
        if leg.hr is not None and leg.hr_in_records:
            vals["heart_rate"] = leg.hr[i]
        for name, series in (("power", leg.power), ("cadence", leg.cadence),
                             ("speed", leg.speed)):
            if series is not None:
                vals[name] = series[i]
        if leg.speed is not None:
            vals["distance"] = round(dist, 2)
        dev = {"respiration_rate": 20 + (i // 60) % 5} if o.developer else None
        w.write("record", vals, dev=dev, compressed=o.compressed and not full)
        full = False
        chunk = []
        while rr_i < len(rr) and rr_t + rr[rr_i] < wall(i) + 1:
            rr_t += rr[rr_i]
            chunk.append(rr[rr_i])
            rr_i += 1
        for k in range(0, len(chunk), 5):
            part = chunk[k:k + 5]
            w.write("hrv", time=part + [None] * (5 - len(part)))
    end = wall(leg.n - 1) + 1 if leg.n else t0
    for k in range(rr_i, len(rr), 5):
        part = rr[k:k + 5]
        w.write("hrv", time=part + [None] * (5 - len(part)))
    w.write("event", timestamp=end, event="timer", event_type="stop_all", event_group=0)
    if leg.hr is not None and not leg.hr_in_records:
        _write_hr_messages(w, _beats(leg.hr, t0), o.hr_style)
    _write_summaries(w, leg, t0, end, dist, o, idx)
    return end


def _write_hr_messages(w: FitWriter, beats: list[tuple[float, int]], style: str) -> None:
    if not beats:
        return
    t_first = beats[0][0]
    clock = [HR_CLOCK0 + t - t_first for t, _ in beats]
    if style == "simple":
        for k in range(0, len(beats), 8):
            part = beats[k:k + 8]
            w.write("hr", timestamp=int(part[0][0]), filtered_bpm=[b for _, b in part],
                    event_timestamp=clock[k:k + 8])
        return
    w.write("hr", timestamp=int(t_first), fractional_timestamp=t_first - int(t_first),
            event_timestamp=clock[0], filtered_bpm=beats[0][1])
    for k in range(1, len(beats), 8):
        part = clock[k:k + 8]
        bpm = [b for _, b in beats[k:k + 8]]
        part += [part[-1]] * (8 - len(part))  # pad: repeat the last time, bpm invalid
        bpm += [None] * (8 - len(bpm))
        packed = 0
        for j, c in enumerate(part):
            packed |= (int(round(c * 1024)) & 0xFFF) << (12 * j)
        w.write("hr", filtered_bpm=bpm, event_timestamp_12=list(packed.to_bytes(12, "little")))


def _write_summaries(w: FitWriter, leg: _Leg, t0: float, end: float, dist: float,
                     o: _Opts, idx: int) -> None:
    hr = [v for v in (leg.hr or []) if v is not None]
    pw = [v for v in (leg.power or []) if v is not None]
    base: dict[str, Any] = {
        "timestamp": end, "start_time": t0, "total_elapsed_time": end - t0,
        "total_timer_time": leg.n, "message_index": idx,
        "total_calories": round(sum(pw) / 1000) if pw else round(leg.n / 60 * 9),
    }
    if leg.speed is not None:
        base["total_distance"] = round(dist, 2)
    if hr:
        base.update(avg_heart_rate=round(sum(hr) / len(hr)), max_heart_rate=max(hr))
    w.write("lap", base, event="lap", event_type="stop", sport=leg.sport,
            sub_sport=leg.sub_sport)
    sess = dict(base, event="session", event_type="stop", sport=leg.sport,
                sub_sport=leg.sub_sport, first_lap_index=idx, num_laps=1, trigger=0)
    if pw:
        sess.update(avg_power=round(sum(pw) / len(pw)), max_power=max(pw))
        if o.device_numbers and o.ftp:
            np_ = _np(leg.power or [])
            if_ = np_ / o.ftp
            sess.update(normalized_power=round(np_), intensity_factor=round(if_, 3),
                        threshold_power=o.ftp,
                        training_stress_score=round(leg.n * np_ * if_ / (o.ftp * 36), 1))
    if o.device_numbers:
        sess.update(total_training_effect=o.training_effect,
                    total_anaerobic_training_effect=o.anaerobic_training_effect)
    over = o.session[idx] if isinstance(o.session, (list, tuple)) else o.session
    sess.update(over or {})
    w.write("session", {k: v for k, v in sess.items() if v is not None})


def _activity(legs: list[_Leg], *, start: float | datetime = START, big_endian: bool = False,
              compressed: bool = False, header_size: int = 14, header_crc: bool = True,
              file_crc: bool = True, developer: bool = False, profile: bool = True,
              max_hr: int | None = 185, resting_hr: int | None = 50, lthr: int | None = None,
              ftp: int | None = 250, session: Any = None, device_numbers: bool = True,
              training_effect: float | None = 3.2, anaerobic_training_effect: float | None = 1.1,
              smart_recording: bool = False, hr_style: str = "garmin",
              rr: Sequence[float] | None = None, **ids: Any) -> bytes:
    t0 = posix(start)
    w = FitWriter(big_endian=big_endian)
    _header(w, t0, "activity", ids)
    w.write("device_info", timestamp=t0, device_index=0, manufacturer=ids.get("manufacturer", 255),
            product=ids.get("product", 1), serial_number=ids.get("serial", 12345),
            software_version=10.0)
    if profile:
        _profile(w, max_hr, resting_hr, lthr, ftp)
    if developer:
        w.add_developer_field("respiration_rate", base="uint8", units="brpm")
    o = _Opts(t0, ftp, session, device_numbers, training_effect, anaerobic_training_effect,
              compressed, developer, smart_recording, hr_style, rr)
    t = t0
    for idx, leg in enumerate(legs):
        t = _write_leg(w, leg, t, o, idx)
        o.rr = None  # RR belongs to the first leg only
    timer = sum(leg.n for leg in legs)
    w.write("activity", timestamp=t, total_timer_time=timer, num_sessions=len(legs),
            type="auto_multi_sport" if len(legs) > 1 else "manual", event="activity",
            event_type="stop", local_timestamp=int(t) - FIT_EPOCH + 7200)
    return w.to_bytes(header_size=header_size, header_crc=header_crc, file_crc=file_crc)


def ride(*, minutes: float = 45, seconds: int | None = None, hr: Any = DEFAULT,
         power: Any = DEFAULT, cadence: Any = DEFAULT, speed: Any = DEFAULT,
         pauses: Sequence[tuple[int, int]] = (), sport: str = "cycling",
         sub_sport: str = "road", **kw: Any) -> bytes:
    """A cycling activity: records (hr, power, cadence, speed, distance), lap, session."""
    n = _length(minutes, seconds, hr, power, cadence, speed)
    leg = _leg(sport, sub_sport, n, hr, power, cadence, speed, pauses=pauses,
               defaults=(default_power, lambda i: 88 + i % 5, lambda i: 8.0 + (i // 60) % 3 / 2))
    return _activity([leg], **kw)


def run(*, minutes: float = 40, seconds: int | None = None, hr: Any = DEFAULT,
        power: Any = None, cadence: Any = DEFAULT, speed: Any = DEFAULT,
        pauses: Sequence[tuple[int, int]] = (), sub_sport: str = "generic", **kw: Any) -> bytes:
    """A running activity (no power by default)."""
    n = _length(minutes, seconds, hr, power, cadence, speed)
    leg = _leg("running", sub_sport, n, hr, power, cadence, speed, pauses=pauses,
               defaults=(default_power, lambda i: 84 + i % 3, lambda i: 3.0 + (i // 60) % 2 / 5))
    return _activity([leg], **kw)


def strength(*, minutes: float = 40, seconds: int | None = None, hr: Any = None,
             pauses: Sequence[tuple[int, int]] = (), **kw: Any) -> bytes:
    """training/strength_training; by default NO heart rate anywhere (records: timestamps)."""
    n = _length(minutes, seconds, hr)
    leg = _leg("training", "strength_training", n, hr, None, None, None, pauses=pauses,
               defaults=(None, None, None))
    kw.setdefault("ftp", None)
    return _activity([leg], **kw)


def multisport(*, legs: Sequence[tuple[str, str, float]] = MULTISPORT_LEGS, hr: Any = DEFAULT,
               **kw: Any) -> bytes:
    """Triathlon-like file: one lap + session per (sport, sub_sport, minutes) leg."""
    built = []
    for sport, sub, minutes in legs:
        n = int(round(minutes * 60))
        built.append(_leg(sport, sub, n, hr, DEFAULT if sport == "cycling" else None,
                          DEFAULT if sport in ("cycling", "running") else None, DEFAULT,
                          defaults=(default_power, lambda i: 85, lambda i: 1.2 if sport ==
                                    "swimming" else (8.0 if sport == "cycling" else 3.0))))
    return _activity(built, **kw)


def swim_with_hr_messages(*, minutes: float = 30, seconds: int | None = None,
                          hr: Any = DEFAULT, sub_sport: str = "lap_swimming",
                          hr_style: str = "garmin", **kw: Any) -> bytes:
    """A swim whose heart rate is only in ``hr`` messages (strap memory), none in records."""
    n = _length(minutes, seconds, hr)
    leg = _leg("swimming", sub_sport, n, hr, None, None, DEFAULT, hr_in_records=False,
               defaults=(None, None, lambda i: 1.0))
    return _activity([leg], hr_style=hr_style, **kw)


def with_hrv(*, rr: Sequence[float] | None = None, hr: Any = DEFAULT, minutes: float = 20,
             seconds: int | None = None, **ride_kw: Any) -> bytes:
    """A ride plus ``hrv`` messages (RR in s); RR derive from ``hr`` when ``rr`` is None."""
    n = _length(minutes, seconds, hr)
    hr_list = _series(hr, n, default_hr)
    if rr is None:
        rr = rr_from_hr(hr_list or [60] * n)
    return ride(seconds=n, hr=hr_list, rr=list(rr), **ride_kw)


def settings_file(*, start: float | datetime = START, max_hr: int = 190,
                  resting_hr: int = 48) -> bytes:
    """A non-activity file: file_id type settings with user_profile and device_settings."""
    w = FitWriter()
    _header(w, posix(start), "settings", {})
    _profile(w, max_hr, resting_hr, None, None)
    w.write("device_settings", utc_offset=0, time_offset=7200)
    return w.to_bytes()


def monitoring_file(*, start: float | datetime = START, minutes: int = 60) -> bytes:
    """A non-activity file: file_id type monitoring_b with a minute-by-minute heart rate."""
    w = FitWriter()
    t0 = posix(start)
    _header(w, t0, "monitoring_b", {})
    for m in range(minutes):
        w.write("monitoring", timestamp=t0 + 60 * m, activity_type="sedentary",
                heart_rate=60 + m % 7)
    return w.to_bytes()


def truncate(data: bytes, n: int) -> bytes:
    """The first ``n`` bytes (negative n drops bytes from the end)."""
    return data[:n]


def corrupt_crc(data: bytes) -> bytes:
    """Same file with a wrong file CRC."""
    return data[:-2] + bytes(((data[-2] ^ 0xFF), data[-1]))


def chain(*files: bytes) -> bytes:
    """Chained FIT files (FIT allows several header+data+CRC units back to back)."""
    return b"".join(files)


def with_declared_size(data: bytes, size: int) -> bytes:
    """The file with its header's data_size replaced (header CRC recomputed)."""
    head = bytearray(data[: data[0]])
    head[4:8] = struct.pack("<I", size)
    if data[0] >= 14:
        head[12:14] = struct.pack("<H", crc16(bytes(head[:12])))
    return bytes(head) + data[data[0]:]


def huge_declared_size(data: bytes) -> bytes:
    """The file claiming ~4 GB of data (a reader must not trust or preallocate it)."""
    return with_declared_size(data, 0xFFFFFFF0)


def iter_chunks(data: bytes, size: int) -> Iterable[bytes]:
    """``data`` in ``size``-byte pieces (for copying a file in slowly)."""
    return (data[i:i + size] for i in range(0, len(data), size))


def zipped(members: Mapping[str, bytes]) -> bytes:
    """A deflated zip archive of ``members`` (name -> bytes), as an export would be."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()
