"""Heart Rate Measurement decoding: byte tables from the spec, round trips, and fuzzing."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cooldownd.core import hr
from cooldownd.core.model import Contact, HrSample

# flags bits 1-2 -> contact status, per the Heart Rate Service spec.
CONTACT_BITS = [
    (0b00, Contact.UNSUPPORTED),
    (0b01, Contact.UNSUPPORTED),
    (0b10, Contact.NOT_DETECTED),
    (0b11, Contact.DETECTED),
]


@pytest.mark.parametrize(
    ("wide", "contact", "energy", "rr"),
    list(itertools.product([False, True], CONTACT_BITS, [False, True], [False, True])),
)
def test_every_flag_combination(wide, contact, energy, rr):
    """Build the bytes by hand for each of the 32 flag combinations and check every field."""
    bits, expected_contact = contact
    flags = (1 if wide else 0) | bits << 1 | (0x08 if energy else 0) | (0x10 if rr else 0)
    body = bytes([0x2C, 0x01]) if wide else bytes([0x9B])  # 300 or 155 bpm
    if energy:
        body += bytes([0x34, 0x12])  # 0x1234 = 4660 kJ
    if rr:
        body += bytes([0x00, 0x04, 0x00, 0x02])  # 1024/1024 s, 512/1024 s
    sample = hr.decode(bytes([flags]) + body)
    assert sample.bpm == (300 if wide else 155)
    assert sample.contact is expected_contact
    assert sample.energy_kj == (0x1234 if energy else None)
    assert sample.rr_ms == ((1000.0, 500.0) if rr else ())


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00\x48", HrSample(72)),
        (b"\x01\x48\x00", HrSample(72)),  # uint16 with a small value
        (b"\x01\xff\xff", HrSample(0xFFFF)),
        (b"\x00\x00", HrSample(0)),  # straps send 0 with the strap off: passed through
        (b"\xe0\x48", HrSample(72)),  # reserved bits 5-7 ignored
        (b"\x00\x48\xaa\xbb", HrSample(72)),  # trailing bytes without RR ignored
        (b"\x10\x48", HrSample(72)),  # RR flag with no RR bytes: no intervals
        (b"\x16\x50\x01\x00", HrSample(80, Contact.DETECTED, rr_ms=(1 * 1000 / 1024,))),
        (b"\x08\x50\xff\xff", HrSample(80, energy_kj=0xFFFF)),
    ],
)
def test_decode_table(data, expected):
    assert hr.decode(data) == expected


def test_many_rr_intervals():
    """A packet can carry any number of RR intervals (up to the MTU); all are converted to ms."""
    raw = list(range(700, 700 + 9 * 37, 37))
    data = bytes([0x10, 120]) + b"".join(x.to_bytes(2, "little") for x in raw)
    sample = hr.decode(data)
    assert sample.rr_ms == tuple(x * 1000 / 1024 for x in raw)
    assert len(sample.rr_ms) == len(raw)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "flags needs 1 bytes, got 0"),
        (b"\x00", "uint8 heart rate needs 2"),
        (b"\x01", "uint16 heart rate needs 3"),
        (b"\x01\x48", "uint16 heart rate needs 3"),
        (b"\x08\x48", "energy expended needs 4"),
        (b"\x08\x48\x01", "energy expended needs 4"),
        (b"\x09\x48\x00\x01", "energy expended needs 5"),
        (b"\x10\x48\x01", "1 bytes is not a whole number"),
        (b"\x18\x48\x01\x00\x01\x02\x03", "3 bytes is not a whole number"),
    ],
)
def test_truncated_packets_raise_malformed(data, needle):
    with pytest.raises(hr.MalformedPacket) as info:
        hr.decode(data)
    message = str(info.value)
    assert needle in message
    assert "\n" not in message
    assert message.startswith("Heart Rate Measurement 0x2A37 packet ")
    assert info.value.data == data


def test_malformed_is_a_value_error_with_fields():
    with pytest.raises(ValueError) as info:
        hr.decode(b"\x01\x48")
    err = info.value
    assert isinstance(err, hr.MalformedPacket)
    assert err.characteristic == "Heart Rate Measurement 0x2A37"
    assert err.reason.startswith("truncated")
    assert "01 48" in str(err)


@pytest.mark.parametrize(("value", "word"), sorted(hr.BODY_SENSOR_LOCATIONS.items()))
def test_location_known(value, word):
    assert hr.decode_location(bytes([value])) == word


def test_location_spec_words_and_unknown():
    assert hr.decode_location(b"\x01") == "chest"
    assert hr.decode_location(b"\x02") == "wrist"
    assert hr.decode_location(b"\x07") == "reserved (7)"
    with pytest.raises(hr.MalformedPacket, match="Body Sensor Location 0x2A38"):
        hr.decode_location(b"")


@pytest.mark.parametrize(("data", "percent"), [(b"\x00", 0), (b"\x0e", 14), (b"\x64", 100)])
def test_battery(data, percent):
    assert hr.decode_battery(data) == percent


@pytest.mark.parametrize("data", [b"", b"\x65", b"\xff"])
def test_battery_malformed(data):
    with pytest.raises(hr.MalformedPacket, match="Battery Level 0x2A19"):
        hr.decode_battery(data)


def test_encode_rejects_values_out_of_range():
    with pytest.raises(ValueError, match="does not fit 0x2A37"):
        hr.encode(HrSample(70, energy_kj=70000))
    with pytest.raises(ValueError, match="does not fit 0x2A37"):
        hr.encode(HrSample(300), uint16=False)


samples = st.builds(
    HrSample,
    bpm=st.integers(0, 0xFFFF),
    contact=st.sampled_from(Contact),
    energy_kj=st.none() | st.integers(0, 0xFFFF),
    # Whole 1/1024 s units, as a strap sends them, so the round trip is exact.
    rr_ms=st.lists(st.integers(0, 0xFFFF), max_size=12).map(
        lambda raw: tuple(x * 1000 / 1024 for x in raw)
    ),
)


@given(samples, st.none() | st.just(True))
def test_round_trip(sample, uint16):
    assert hr.decode(hr.encode(sample, uint16=uint16)) == sample


@given(st.binary(max_size=40))
def test_random_bytes_only_raise_malformed(data):
    try:
        sample = hr.decode(data)
    except hr.MalformedPacket as err:
        assert "\n" not in str(err)
        return
    # What decodes re-encodes to bytes that decode to the same value (canonical form).
    assert hr.decode(hr.encode(sample)) == sample
    assert 0 <= sample.bpm <= 0xFFFF
    assert all(0 <= ms < 64000 for ms in sample.rr_ms)


@given(st.binary(max_size=3))
def test_location_and_battery_random_bytes(data):
    try:
        assert isinstance(hr.decode_location(data), str)
    except hr.MalformedPacket as exc:
        assert "\n" not in str(exc)
    try:
        assert 0 <= hr.decode_battery(data) <= 100
    except hr.MalformedPacket as exc:
        assert "\n" not in str(exc)
