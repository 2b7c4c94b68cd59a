"""fastfit must give exactly what fitparse gives: same messages, same values, same error.

Reference = fitparse 1.2 ``FitFile(data).get_messages()`` keeping the wanted names, with
``get_values()``; the outcome includes the exception class and text (or the header error
``FitFile()`` raises). fitparse's developer-field registry is global: the reference starts from
an empty one, which is what fastfit always starts from (it keeps its own per decode). In records
mode the reference's ``record`` dicts go through ``columns.record_from_values`` (the rule) and
are grouped into chunks as the import receives them. Real files: ``../shared/fit`` (files over
``QUICK_MAX`` bytes only with ``-m slow``; fitparse needs ~2 min for the whole corpus).
"""

from __future__ import annotations

import struct
from pathlib import Path

import fitparse
import fitparse.records
import pytest
from fitparse.utils import FitParseError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cooldownd.fit import decode as fitdecode
from cooldownd.fit import fastfit
from cooldownd.fit.crc import crc16
import fitgen

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "fit"
QUICK_MAX = 100_000
WANTED = frozenset({"file_id", "session", "lap", "record", "hr", "hrv", "event", "user_profile",
                    "zones_target", "sport", "device_info", "activity"})
# Files fastfit hands to fitparse (documented in bench/README.md): none in the corpus.
EXPECTED_UNSUPPORTED: set[str] = set()


def reference(data: bytes, records: bool = False):
    """fitparse's outcome: ("header", class, text) or (messages, (class, text) | None)."""
    fitparse.records.DEV_TYPES.clear()
    try:
        fit = fitparse.FitFile(data)
    except FitParseError as exc:
        return ("header", type(exc).__name__, str(exc))
    out, err = fitdecode._Compact() if records else [], None
    try:
        for msg in fit.get_messages():
            if msg.name in WANTED:
                out.append((msg.name, msg.get_values()))
    except Exception as exc:  # noqa: BLE001 - the outcome itself is what we compare
        err = (type(exc).__name__, str(exc))
    return list(out), err


def fast(data: bytes, records: bool = False):
    """fastfit's outcome in the same shape, or "unsupported"."""
    try:
        got = fastfit.decode(data, WANTED, records=records)
    except fastfit.Unsupported:
        return "unsupported"
    except FitParseError as exc:
        return ("header", type(exc).__name__, str(exc))
    err = None if got.exception is None else (type(got.exception).__name__, got.error)
    return got.messages, err


def assert_same(data: bytes, label: str, records: bool = False) -> None:
    got, want = fast(data, records), reference(data, records)
    assert got != "unsupported", f"{label}: fastfit gave up"
    if got != want and want[0] != "header" and got[0] != "header":
        assert got[1] == want[1], f"{label}: error differs"
        assert len(got[0]) == len(want[0]), f"{label}: message count differs"
        for i, (g, w) in enumerate(zip(got[0], want[0])):
            assert g == w, f"{label}: message {i} differs"
    assert got == want, label


def _same_types(a, b) -> bool:
    """Equal values can differ in type (1 == 1.0 == True): compare types too."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_types(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same_types, a, b))
    return type(a) is type(b)


# --- real files --------------------------------------------------------------------------

def _corpus() -> list:
    if not CORPUS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/fit absent"))]
    files = sorted(p for p in CORPUS.iterdir() if p.suffix.lower() == ".fit")
    return [pytest.param(p, id=p.name, marks=[pytest.mark.slow] if p.stat().st_size > QUICK_MAX else [])
            for p in files]


@pytest.fixture(scope="session")
def reference_cache() -> dict:
    return {}


@pytest.mark.parametrize("path", _corpus())
def test_real_file_equals_fitparse(path: Path, reference_cache: dict) -> None:
    data = path.read_bytes()
    for records in (False, True):
        got = fast(data, records)
        if got == "unsupported":
            assert path.name in EXPECTED_UNSUPPORTED, f"{path.name}: unexpected fallback"
            return
        assert path.name not in EXPECTED_UNSUPPORTED
        want = reference_cache.setdefault((path.name, records), reference(data, records))
        assert got == want, (path.name, records)
        assert _same_types(got, want), f"{path.name}: equal values of different types"


# --- generated files ---------------------------------------------------------------------

RIDE = dict(minutes=3)
GENERATED = {
    "ride": lambda: fitgen.ride(**RIDE),
    "ride_big_endian": lambda: fitgen.ride(big_endian=True, **RIDE),
    "ride_compressed_ts": lambda: fitgen.ride(compressed=True, **RIDE),
    "ride_12_byte_header": lambda: fitgen.ride(header_size=12, **RIDE),
    "ride_header_crc_0": lambda: fitgen.ride(header_crc=False, **RIDE),
    "ride_file_crc_0": lambda: fitgen.ride(file_crc=False, **RIDE),  # fitparse: CRC mismatch
    "ride_developer_fields": lambda: fitgen.ride(developer=True, **RIDE),
    "ride_dev_big_endian_compressed": lambda: fitgen.ride(developer=True, big_endian=True,
                                                          compressed=True, **RIDE),
    "ride_pauses_profile": lambda: fitgen.ride(pauses=((60, 30),), profile=True, **RIDE),
    "run": lambda: fitgen.run(minutes=3),
    "strength": lambda: fitgen.strength(minutes=3),
    "multisport": lambda: fitgen.multisport(),
    "swim_hr_garmin": lambda: fitgen.swim_with_hr_messages(minutes=3, hr_style="garmin"),
    "swim_hr_simple": lambda: fitgen.swim_with_hr_messages(minutes=3, hr_style="simple"),
    "hrv": lambda: fitgen.with_hrv(minutes=3),
    "settings": lambda: fitgen.settings_file(),
    "monitoring": lambda: fitgen.monitoring_file(minutes=10),
    "chained": lambda: fitgen.chain(fitgen.ride(**RIDE), fitgen.run(minutes=2, big_endian=True)),
    "bad_crc": lambda: fitgen.corrupt_crc(fitgen.ride(**RIDE)),
    "declared_size_short": lambda: fitgen.with_declared_size(fitgen.ride(**RIDE), 500),
    "declared_size_huge": lambda: fitgen.huge_declared_size(fitgen.ride(**RIDE)),
    "empty": lambda: b"",
    "header_only": lambda: fitgen.ride(**RIDE)[:14],
    "not_fit": lambda: b"hello, this is not a FIT file at all",
}


@pytest.mark.parametrize("records", [False, True], ids=["dicts", "records"])
@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_file_equals_fitparse(name: str, records: bool) -> None:
    data = GENERATED[name]()
    assert_same(data, name, records)
    assert _same_types(fast(data, records), reference(data, records))


@pytest.mark.parametrize("records", [False, True], ids=["dicts", "records"])
@pytest.mark.parametrize("cut", [13, 15, 40, 41, 42, 100, 1000, 5000, -3, -2, -1])
def test_truncated_file_keeps_messages_before_the_error(cut: int, records: bool) -> None:
    data = fitgen.ride(developer=True, compressed=True, **RIDE)
    assert_same(data[:cut], f"cut at {cut}", records)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_bytes_give_the_same_outcome(draw) -> None:
    """Flipped bytes reach odd definitions, sizes and headers: same outcome or a fallback."""
    data = bytearray(_small_file())
    for _ in range(draw.draw(st.integers(1, 4))):
        i = draw.draw(st.integers(12, len(data) - 1))
        data[i] = draw.draw(st.integers(0, 255))
    records = draw.draw(st.booleans())
    got = fast(bytes(data), records)
    if got != "unsupported":
        assert got == reference(bytes(data), records)


_SMALL: list[bytes] = []


def _small_file() -> bytes:
    if not _SMALL:
        _SMALL.append(fitgen.ride(seconds=40, developer=True, compressed=True, profile=True))
    return _SMALL[0]


# --- fallback ----------------------------------------------------------------------------

def _handmade(fields: list[tuple[int, int, int]], payload: bytes) -> bytes:
    """One record definition + one data message, 14-byte header, valid CRCs."""
    body = struct.pack("<BBBHB", 0x40, 0, 0, 20, len(fields)) + b"".join(bytes(f) for f in fields)
    body += b"\x00" + payload
    head = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    head += struct.pack("<H", fitgen.crc16(head))
    data = head + body
    return data + struct.pack("<H", fitgen.crc16(data))


def test_unsupported_input_falls_back_to_fitparse() -> None:
    # a timestamp field that is an array: fitparse's date_time processor fails on the tuple
    data = _handmade([(253, 8, 0x86), (3, 1, 0x02)], struct.pack("<IIB", 1_000_000_000, 5, 140))
    with pytest.raises(fastfit.Unsupported):
        fastfit.decode(data, WANTED)
    assert fitdecode.decode_messages(data, "x.fit") == fitdecode.decode_with_fitparse(data, "x.fit")


def _registry() -> dict:
    return {k: {**v, "fields": {n: (f.name, f.type.name) for n, f in v["fields"].items()}}
            for k, v in fitparse.records.DEV_TYPES.items()}


def test_developer_fields_are_per_file_and_fitparse_registry_untouched() -> None:
    """fastfit keeps its own registry; the fitparse fallback empties fitparse's for the file and puts it back."""
    dev, plain = fitgen.ride(developer=True, **RIDE), fitgen.ride(**RIDE)
    wants = {"dev": reference(dev), "plain": reference(plain)}  # each from an empty registry
    reference(dev)  # fitparse's global registry now holds dev's fields, as after any fitparse decode
    before = _registry()
    assert before
    for name, data in (("plain", plain), ("dev", dev)):
        assert fast(data) == wants[name]
        assert _registry() == before
        fitdecode.decode_with_fitparse(data, "x.fit")
        assert _registry() == before


@pytest.mark.parametrize("name", ["ride", "bad_crc", "chained", "declared_size_short", "empty",
                                  "not_fit", "header_only", "ride_developer_fields", "ride_compressed_ts"])
def test_drop_in_equals_fitparse_decode(name: str) -> None:
    """decode_messages (fastfit, Records) = decode_with_fitparse (fitparse, Records from its dicts)."""
    data = GENERATED[name]()
    outcomes = []
    for decoder in (fitdecode.decode_with_fitparse, fitdecode.decode_messages):
        try:
            outcomes.append(decoder(data, "x.fit"))
        except Exception as exc:  # noqa: BLE001
            outcomes.append((type(exc).__name__, str(exc)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("size", [0, 1, 2, 7, 4095, 4096, 4097, 32766, 32767, 32768, 65535, 100_003, 262_137])
def test_crc16_matches_fitparse(size: int) -> None:
    import random

    data = random.Random(size).randbytes(size)
    assert crc16(data) == fitparse.records.Crc.calculate(data)
    assert crc16(memoryview(data)) == fitparse.records.Crc.calculate(data)
    if size > 3:  # continuing from a register value
        c = fitparse.records.Crc()
        c.update(data[:3])
        assert crc16(data[3:], c.value) == fitparse.records.Crc.calculate(data)


def _layouts(n: int) -> bytes:
    """A FIT file of ``n`` record definitions of distinct layouts, one data message each."""
    body = b""
    for i in range(n):
        fields = [(253, 4, 0x86), (3, 1, 0x02)] + [(100 + k, 1, 0x02) for k in range(i % 40)] + [(60, 1 + i // 40, 0x0D)]
        body += struct.pack("<BBBHB", 0x40, 0, 0, 20, len(fields)) + b"".join(bytes(f) for f in fields)
        body += b"\x00" + struct.pack("<IB", 1_000_000_000 + i, 140) + bytes(i % 40) + bytes(1 + i // 40)
    head = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    head += struct.pack("<H", fitgen.crc16(head))
    return head + body + struct.pack("<H", fitgen.crc16(head + body))


def test_plan_cache_is_bounded() -> None:
    """A file with more distinct layouts than the cache holds: bounded cache, same outcome as fitparse."""
    data = _layouts(fastfit.PLAN_CACHE_MAX + 60)
    for records in (False, True):
        assert_same(data, "many layouts", records)
        assert len(fastfit._PLANS) <= fastfit.PLAN_CACHE_MAX
