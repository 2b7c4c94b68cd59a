"""Deterministic FIT mutators for the fuzz tests: hostile variants of generated and real files.

    for case in cases(500, seed=8):      # Case(name, kind, base, data)
        ...
    write_cases(folder, cases(...))     # one file per case, names sort in case order

Each mutator takes ``(rng, data)`` and returns new bytes. About half of the byte-level
mutations get their CRCs (and data_size) recomputed afterwards, so the damage reaches the
message decoder and the workout builder instead of stopping at "bad CRC". A few cases are
wrapped in gzip or zip, so the archive paths see damaged content too.
"""

from __future__ import annotations

import gzip
import io
import random
import struct
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import fitgen
from cooldownd.fit.crc import crc16 as _crc  # tests/fit/test_fastfit.py checks it against fitparse

SHARED_FIT = Path(__file__).resolve().parents[2].parent / "shared" / "fit"
REAL_MAX_BYTES = 160_000  # real files bigger than this are left out (speed; the corpus test reads them all)

Mutator = Callable[[random.Random, bytes], bytes]


@dataclass(frozen=True)
class Case:
    """One fuzz input: a file name (unique, sortable), what was done, to what, and the bytes."""

    name: str
    kind: str
    base: str
    data: bytes


# -- bases ----------------------------------------------------------------------------------------
def generated_bases() -> list[tuple[str, bytes]]:
    """Small generated files covering the decoder's paths (compressed, big-endian, developer...)."""
    return [
        ("ride", fitgen.ride(minutes=4)),
        ("ride-compressed-dev", fitgen.ride(minutes=3, compressed=True, developer=True)),
        ("ride-bigendian-h12", fitgen.ride(minutes=3, big_endian=True, header_size=12)),
        ("ride-pauses-hrv", fitgen.with_hrv(minutes=3, pauses=((60, 30),))),
        ("run", fitgen.run(minutes=3, serial=777)),
        ("strength", fitgen.strength(minutes=3)),
        ("multisport", fitgen.multisport(legs=(("swimming", "open_water", 1), ("transition", "generic", 0.5),
                                               ("cycling", "road", 2), ("running", "generic", 1)))),
        ("swim-hr", fitgen.swim_with_hr_messages(minutes=3)),
        ("settings", fitgen.settings_file()),
        ("monitoring", fitgen.monitoring_file(minutes=30)),
    ]


def real_bases(folder: Path = SHARED_FIT, max_bytes: int = REAL_MAX_BYTES) -> list[tuple[str, bytes]]:
    """The real device files under ``max_bytes`` (none when ../shared/fit is absent)."""
    if not folder.is_dir():
        return []
    return [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.fit")) if p.stat().st_size <= max_bytes]


@lru_cache(maxsize=2)
def all_bases(with_real: bool = True) -> tuple[tuple[str, bytes], ...]:
    """Generated bases, then real ones."""
    return tuple(generated_bases() + (real_bases() if with_real else []))


# -- helpers --------------------------------------------------------------------------------------
def header(data_size: int, *, size: int = 14, protocol: int = 0x10, profile: int = 2132) -> bytes:
    """A valid FIT file header for ``data_size`` bytes of records."""
    head = struct.pack("<BBHI4s", size, protocol, profile, data_size, b".FIT")
    return head + struct.pack("<H", _crc(head)) if size == 14 else head


def wrap(body: bytes, *, size: int = 14) -> bytes:
    """``body`` as a complete FIT file: valid header, data_size and file CRC."""
    out = header(len(body), size=size) + body
    return out + struct.pack("<H", _crc(out))


def fix_crcs(data: bytes) -> bytes:
    """Make a (damaged) file self-consistent again: data_size, header CRC and a trailing file CRC."""
    if len(data) < 14 or data[0] not in (12, 14):
        return data
    hs = data[0]
    body = data[hs:-2] if len(data) >= hs + 2 else b""
    head = bytearray(data[:hs])  # keeps the protocol and profile bytes (damaged or not)
    head[4:8] = struct.pack("<I", len(body))
    if hs == 14:
        head[12:14] = struct.pack("<H", _crc(bytes(head[:12])))
    out = bytes(head) + body
    return out + struct.pack("<H", _crc(out))


def _pos(rng: random.Random, data: bytes) -> int:
    """A position, biased towards the start where the definitions live."""
    if not data:
        return 0
    if rng.random() < 0.5:
        return rng.randrange(min(len(data), 600))
    return rng.randrange(len(data))


def _definition(n_fields: int, size: int, *, global_num: int = 20, local: int = 0, big: bool = False,
                base: int = 0x0D, dev_fields: int = 0) -> bytes:
    """A definition message: ``n_fields`` fields of ``size`` bytes (255 = the most FIT allows)."""
    rec_header = 0x40 | (0x20 if dev_fields else 0) | local
    out = struct.pack(">BBBHB" if big else "<BBBHB", rec_header, 0, 1 if big else 0, global_num, n_fields)
    out += b"".join(bytes((i % 256, size, base)) for i in range(n_fields))
    if dev_fields:
        out += bytes((dev_fields,)) + b"".join(bytes((i, size, 0)) for i in range(dev_fields))
    return out


# -- mutators -------------------------------------------------------------------------------------
def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(max(len(data), 1))]


def truncate_head(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(0, 40)]


def bit_flips(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 8, 32))):
        if b:
            i = _pos(rng, data)
            b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def byte_sets(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randrange(1, 9)):
        if b:
            b[_pos(rng, data)] = rng.choice((0x00, 0xFF, 0x7F, 0x80, 0x40, 0x60, rng.randrange(256)))
    return bytes(b)


def burst(rng: random.Random, data: bytes) -> bytes:
    i = _pos(rng, data)
    n = rng.randrange(1, 256)
    return data[:i] + rng.randbytes(n) + data[i + n:]


def splice(rng: random.Random, data: bytes) -> bytes:
    """Insert, delete or repeat a chunk (everything after it shifts)."""
    i = _pos(rng, data)
    n = rng.randrange(1, 200)
    op = rng.randrange(3)
    if op == 0:
        return data[:i] + rng.randbytes(n) + data[i:]
    if op == 1:
        return data[:i] + data[i + n:]
    return data[:i + n] + data[i:i + n] + data[i + n:]


def header_field(rng: random.Random, data: bytes) -> bytes:
    """Damage one header field: size, protocol, profile, data_size, signature or header CRC."""
    if len(data) < 14:
        return data
    b = bytearray(data)
    field = rng.randrange(6)
    if field == 0:
        b[0] = rng.choice((0, 1, 11, 13, 15, 64, 255))
    elif field == 1:
        b[1] = rng.choice((0x00, 0x20, 0x30, 0xFF))
    elif field == 2:
        b[2:4] = rng.randbytes(2)
    elif field == 3:
        size = rng.choice((0, 1, len(data) - 16, len(data) * 2, 0x7FFFFFFF, 0xFFFFFFFF, rng.randrange(1 << 32)))
        return fitgen.with_declared_size(data, max(size, 0))
    elif field == 4:
        b[8:12] = rng.choice((b".fit", b"FIT.", b"\0\0\0\0", rng.randbytes(4)))
    else:
        b[12:14] = rng.randbytes(2)
    return bytes(b)


def file_crc(rng: random.Random, data: bytes) -> bytes:
    return fitgen.corrupt_crc(data) if len(data) >= 2 else data


def huge_definition(rng: random.Random, data: bytes) -> bytes:
    """A valid file whose definition claims 255 fields of 255 bytes (64 KB messages), maybe many times."""
    big = rng.random() < 0.3
    parts = [_definition(255, 255, global_num=rng.choice((20, 18, 0, 0xFFFF, rng.randrange(1 << 16))),
                         local=rng.randrange(16), big=big, base=rng.choice((0x0D, 0x07, 0x86, 0x8C, 0x02)),
                         dev_fields=rng.choice((0, 0, 255)))]
    if rng.random() < 0.5:
        parts.append(rng.randbytes(rng.randrange(0, 70_000)))  # a data message (or part of one)
    body = b"".join(parts) * rng.choice((1, 1, 50))
    return wrap(body)


def definition_storm(rng: random.Random, data: bytes) -> bytes:
    """Thousands of definitions (every local number redefined again and again) and nothing else."""
    defs = [_definition(rng.randrange(1, 256), rng.randrange(1, 256), global_num=rng.randrange(300), local=i % 16)
            for i in range(16)]
    return wrap(b"".join(defs) * rng.randrange(5, 100))


def random_body(rng: random.Random, data: bytes) -> bytes:
    """Random bytes behind a valid header (with a valid file CRC half the time)."""
    body = rng.randbytes(rng.choice((1, 10, 100, 1000, 20_000)))
    return wrap(body) if rng.random() < 0.5 else header(len(body)) + body


def zero_length(rng: random.Random, data: bytes) -> bytes:
    return b""


def header_only(rng: random.Random, data: bytes) -> bytes:
    return wrap(b"") if rng.random() < 0.5 else header(rng.randrange(1, 1 << 20))


def chained(rng: random.Random, data: bytes) -> bytes:
    """Two copies back to back, the second maybe damaged, maybe trailing garbage."""
    second = truncate(rng, data) if rng.random() < 0.5 else data
    tail = rng.randbytes(rng.randrange(0, 64)) if rng.random() < 0.5 else b""
    return fitgen.chain(data, second) + tail


BYTE_MUTATORS: dict[str, Mutator] = {
    "truncate": truncate, "bit_flips": bit_flips, "byte_sets": byte_sets, "burst": burst,
    "splice": splice, "header_field": header_field, "file_crc": file_crc, "chained": chained,
}
SYNTHETIC: dict[str, Mutator] = {
    "truncate_head": truncate_head, "huge_definition": huge_definition, "definition_storm": definition_storm,
    "random_body": random_body, "zero_length": zero_length, "header_only": header_only,
}
_CRC_FIXABLE = {"bit_flips", "byte_sets", "burst", "splice", "truncate"}


def mutate(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    """One random mutation of ``data``: (kind, bytes)."""
    if rng.random() < 0.15:
        kind = rng.choice(sorted(SYNTHETIC))
        return kind, SYNTHETIC[kind](rng, data)
    kind = rng.choice(sorted(BYTE_MUTATORS))
    out = BYTE_MUTATORS[kind](rng, data)
    if kind in _CRC_FIXABLE and rng.random() < 0.5:
        kind, out = f"{kind}+crc", fix_crcs(out)
    if rng.random() < 0.25:  # a second helping
        more = rng.choice(sorted(_CRC_FIXABLE))
        kind, out = f"{kind}+{more}", BYTE_MUTATORS[more](rng, out)
    return kind, out


def _packed(rng: random.Random, name: str, data: bytes) -> tuple[str, str, bytes]:
    """Maybe wrap the mutated bytes in gzip (maybe truncated) or a zip: (suffix, kind suffix, bytes)."""
    roll = rng.random()
    if roll < 0.06:
        gz = gzip.compress(data, mtime=0)
        if rng.random() < 0.3:
            return ".fit.gz", "+gz-cut", gz[:rng.randrange(max(len(gz), 1))]
        return ".fit.gz", "+gz", gz
    if roll < 0.10:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            info = zipfile.ZipInfo(f"{name}.fit", date_time=(2024, 5, 4, 8, 0, 0))
            zf.writestr(info, data)
        return ".zip", "+zip", buf.getvalue()
    return ".fit", "", data


def cases(n: int, *, seed: int = 8, with_real: bool = True) -> Iterator[Case]:
    """``n`` deterministic cases from ``seed`` over the generated (and real) bases."""
    rng = random.Random(seed)
    bases = all_bases(with_real)
    for i in range(n):
        base, data = bases[i % len(bases)] if i < len(bases) else rng.choice(bases)
        kind, out = mutate(rng, data)
        stem = f"{i:05d}-{kind.replace('+', '_')}"
        suffix, wrapped, out = _packed(rng, stem, out)
        yield Case(stem + suffix, kind + wrapped, base, out)


def write_cases(folder: Path, items: Iterable[Case]) -> dict[str, Case]:
    """Write each case as ``folder/case.name``; returns {path: case}."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Case] = {}
    for case in items:
        path = folder / case.name
        path.write_bytes(case.data)
        out[str(path)] = case
    return out
