"""Heart Rate Service bytes <-> values: Measurement 0x2A37, Body Sensor Location 0x2A38, Battery 0x2A19.

Pure: the BLE edge hands over the bytes of one notification or read, gets a value or a
``MalformedPacket`` it counts and drops (a bad packet never stops the live loop).

Heart Rate Measurement layout (Bluetooth Heart Rate Service 1.0, section 3.1):
flags (uint8) | HR (uint8, or uint16 LE when flags bit 0) | energy expended (uint16 LE kJ,
when bit 3) | RR intervals (uint16 LE each, 1/1024 s, when bit 4). Flags bits 1-2 are the
sensor contact status: 0 and 1 = not supported, 2 = supported but not detected, 3 = detected.

Tolerances, chosen because real straps do these things and the value is still usable:
- flags bits 5-7 (reserved for future use) are ignored;
- trailing bytes after the last field are ignored when no RR intervals are flagged
  (newer profile versions append fields);
- bit 4 set with no RR bytes left decodes to no RR intervals (some straps set it on every packet);
- a bpm of 0 is passed through: the detector treats it as "no reading".
What raises: an empty packet, a packet too short for the fields its flags announce, and an
odd trailing byte among RR intervals.
"""

from __future__ import annotations

import struct

from cooldownd.core.model import Contact, HrSample

_HR_UINT16 = 0x01
_CONTACT_MASK = 0x06
_ENERGY = 0x08
_RR = 0x10

_CONTACT_FROM_BITS = {
    0: Contact.UNSUPPORTED,
    1: Contact.UNSUPPORTED,
    2: Contact.NOT_DETECTED,
    3: Contact.DETECTED,
}
_CONTACT_TO_BITS = {Contact.UNSUPPORTED: 0, Contact.NOT_DETECTED: 2, Contact.DETECTED: 3}

#: RR intervals are counted in 1/1024 s; x * 1000 / 1024 is exact in binary floating point.
RR_UNITS_PER_S = 1024

#: Body Sensor Location (0x2A38) values.
BODY_SENSOR_LOCATIONS: dict[int, str] = {
    0: "other",
    1: "chest",
    2: "wrist",
    3: "finger",
    4: "hand",
    5: "ear lobe",
    6: "foot",
}


class MalformedPacket(ValueError):
    """Bytes from the strap that do not decode; ``characteristic``, ``data`` and ``reason`` say why."""

    def __init__(self, characteristic: str, data: bytes, reason: str) -> None:
        shown = data.hex(" ") if data else "(empty)"
        super().__init__(f"{characteristic} packet {shown}: {reason}; packet dropped")
        self.characteristic = characteristic
        self.data = bytes(data)
        self.reason = reason


def _need(data: bytes, size: int, what: str) -> None:
    if len(data) < size:
        raise MalformedPacket(
            "Heart Rate Measurement 0x2A37",
            data,
            f"truncated: {what} needs {size} bytes, got {len(data)}",
        )


def decode(data: bytes) -> HrSample:
    """Decode one Heart Rate Measurement (0x2A37) notification; raise MalformedPacket when it cannot."""
    data = bytes(data)
    _need(data, 1, "flags")
    flags = data[0]
    offset = 1
    if flags & _HR_UINT16:
        _need(data, offset + 2, "uint16 heart rate")
        (bpm,) = struct.unpack_from("<H", data, offset)
        offset += 2
    else:
        _need(data, offset + 1, "uint8 heart rate")
        bpm = data[offset]
        offset += 1
    contact = _CONTACT_FROM_BITS[(flags & _CONTACT_MASK) >> 1]
    energy = None
    if flags & _ENERGY:
        _need(data, offset + 2, "energy expended")
        (energy,) = struct.unpack_from("<H", data, offset)
        offset += 2
    rr: tuple[float, ...] = ()
    if flags & _RR:
        rest = data[offset:]
        if len(rest) % 2:
            raise MalformedPacket(
                "Heart Rate Measurement 0x2A37",
                data,
                f"RR intervals: {len(rest)} bytes is not a whole number of uint16",
            )
        raw = struct.unpack_from(f"<{len(rest) // 2}H", rest)
        rr = tuple(x * 1000 / RR_UNITS_PER_S for x in raw)
    return HrSample(bpm=bpm, contact=contact, energy_kj=energy, rr_ms=rr)


def encode(sample: HrSample, *, uint16: bool | None = None) -> bytes:
    """Encode a sample as 0x2A37 bytes (for tests and the fake strap); ``uint16`` forces the HR width.

    RR intervals are rounded to the nearest 1/1024 s; values out of a field's range raise ValueError.
    """
    wide = sample.bpm > 0xFF if uint16 is None else uint16
    flags = _CONTACT_TO_BITS[sample.contact] << 1
    out = bytearray()
    try:
        if wide:
            flags |= _HR_UINT16
            out += struct.pack("<H", sample.bpm)
        else:
            out += struct.pack("<B", sample.bpm)
        if sample.energy_kj is not None:
            flags |= _ENERGY
            out += struct.pack("<H", sample.energy_kj)
        if sample.rr_ms:
            flags |= _RR
            raw = [round(ms * RR_UNITS_PER_S / 1000) for ms in sample.rr_ms]
            out += struct.pack(f"<{len(raw)}H", *raw)
    except struct.error as exc:
        raise ValueError(f"heart-rate sample {sample!r} does not fit 0x2A37: {exc}") from exc
    return bytes([flags]) + bytes(out)


def decode_location(data: bytes) -> str:
    """Decode Body Sensor Location (0x2A38, one uint8) to a word; unknown values give 'reserved (N)'."""
    data = bytes(data)
    if not data:
        raise MalformedPacket("Body Sensor Location 0x2A38", data, "empty, expected 1 byte")
    return BODY_SENSOR_LOCATIONS.get(data[0], f"reserved ({data[0]})")


def decode_battery(data: bytes) -> int:
    """Decode Battery Level (0x2A19): a single uint8, percent 0-100; anything else is malformed."""
    data = bytes(data)
    if not data:
        raise MalformedPacket("Battery Level 0x2A19", data, "empty, expected 1 byte")
    if data[0] > 100:
        raise MalformedPacket("Battery Level 0x2A19", data, f"{data[0]} % is above 100 %")
    return data[0]
