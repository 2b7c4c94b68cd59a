"""What fastfit copies from fitparse 1.2's base types, and how it says it cannot copy an input."""

from __future__ import annotations

from fitparse.processors import FitFileDataProcessor
from fitparse.records import BASE_TYPES


class Unsupported(Exception):
    """This input needs a decoder feature fastfit does not copy; use fitparse for it."""


# Invalid-value sentinels per base type number, checked against fitparse's parse functions below.
INVALID = {0x00: 0xFF, 0x01: 0x7F, 0x02: 0xFF, 0x83: 0x7FFF, 0x84: 0xFFFF, 0x85: 0x7FFFFFFF,
           0x86: 0xFFFFFFFF, 0x0A: 0, 0x8B: 0, 0x8C: 0, 0x8E: 0x7FFFFFFFFFFFFFFF,
           0x8F: 0xFFFFFFFFFFFFFFFF, 0x90: 0}
FLOATS = {0x88, 0x89}
PROCESSED = frozenset({"bool", "date_time", "local_date_time", "localtime_into_day"})


def _check_fitparse() -> bool:
    """True when fitparse's tables and processor look like the 1.2 ones fastfit copies."""
    procs = {m for m in dir(FitFileDataProcessor) if m.startswith("process_")}
    if procs != {"process_type_" + t for t in PROCESSED}:
        return False
    for num, bad in INVALID.items():
        parse = BASE_TYPES[num].parse
        if parse(bad) is not None or parse(bad ^ 1) is None:
            return False
    return set(BASE_TYPES) == set(INVALID) | FLOATS | {0x07, 0x0D}


FITPARSE_OK = _check_fitparse()
