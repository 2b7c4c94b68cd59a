"""A fast FIT decoder that returns exactly what fitparse 1.2 returns, for the messages asked for.

``decode(data, wanted)`` walks the file once: definitions become cached plans (profile.py),
unwanted data messages are skipped by size (only their timestamp is read, for compressed-timestamp
headers; a run of them in one step), wanted ones are unpacked with one ``struct`` call and
converted by generated code. The values and the error (same fitparse exception class and text,
the messages before it kept) come out as fitparse's ``get_messages()`` / ``get_values()`` would
give them from an empty developer-field registry (devfields.py: fastfit touches no global state).
With ``records=True``, ``record`` messages come out as ``Record`` tuples instead, in
``("records", [Record, ...])`` chunks of consecutive records: a run of same-definition records is
unpacked with one ``iter_unpack`` and converted a column at a time (columns.py), exactly as
``columns.record_from_values`` converts fitparse's values. Inputs fastfit cannot mirror raise
``Unsupported``: the caller decodes those with fitparse.

Memory: only the wanted messages are kept; the plan cache holds at most ``PLAN_CACHE_MAX`` plans.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass, field

from fitparse.profile import MESSAGE_TYPES
from fitparse.records import BASE_TYPE_BYTE, BASE_TYPES
from fitparse.utils import FitCRCError, FitEOFError, FitHeaderError, FitParseError

from cooldownd.fit.basetypes import Unsupported
from cooldownd.fit.crc import crc16
from cooldownd.fit.devfields import DevTypes
from cooldownd.fit.messages import Segment
from cooldownd.fit.profile import Plan, build_plan

__all__ = ["FastDecoded", "Unsupported", "decode", "crc16", "PLAN_CACHE_MAX"]


@dataclass(slots=True)
class FastDecoded:
    """Wanted messages in file order, and the fitparse error that stopped decoding (if any)."""

    messages: list[tuple[str, object]]
    error: str | None = None  # str(exception), as fitparse words it
    exception: FitParseError | None = field(default=None, compare=False)
    read_any: bool = False  # at least one data message (wanted or not) was read


def _eof(size: int, got: int) -> FitEOFError:
    return FitEOFError("Tried to read %d bytes from .FIT file but got %d" % (size, got))


def _crc_error(computed: int, read: int) -> FitCRCError:
    return FitCRCError("CRC Mismatch [computed: 0x%04X, read: 0x%04X]" % (computed, read))


# A real file has a few dozen definitions (~11 kB of plans each); hostile ones have thousands of
# distinct layouts. A process that lives on (the daemon) keeps at most this many plans.
PLAN_CACHE_MAX = 512
_PLANS: OrderedDict[tuple, Plan] = OrderedDict()


_SAME_MAX = 256  # definitions a decode remembers by their bytes (a definition storm must not hold its plans)


def keep_plans(n: int) -> None:
    """Let the plan cache hold ``n`` plans (a bulk-import worker: it exits when the import ends)."""
    global PLAN_CACHE_MAX
    PLAN_CACHE_MAX = n
    while len(_PLANS) > n:
        _PLANS.popitem(last=False)
_HEADER = struct.Struct("<2BHI4s").unpack_from


def plan_for(key: tuple, build) -> Plan:
    """The cached plan for ``key`` (least recently used ones are dropped past PLAN_CACHE_MAX)."""
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = build()
        if len(_PLANS) > PLAN_CACHE_MAX:
            _PLANS.popitem(last=False)
    else:
        _PLANS.move_to_end(key)
    return plan


class Reader:
    """One pass over ``data``, mirroring fitparse's FitFile read by read."""

    def __init__(self, data: bytes, wanted: frozenset[str], records: bool) -> None:
        self.data, self.n, self.wanted, self.records = data, len(data), wanted, records
        self.messages: list[tuple[str, object]] = []
        self.read_any = False
        self.last_t = 0.0  # the time of the last Record so far (hrv intervals are timed by it)
        self.dev = DevTypes()
        self.defs: dict[bytes, Plan] = {}  # definition bytes (without developer fields) -> plan

    @staticmethod
    def eof(size: int, got: int) -> FitEOFError:
        return _eof(size, got)

    def need(self, pos: int, size: int) -> None:
        if self.n - pos < size:
            raise _eof(size, max(0, self.n - pos))

    def header(self, pos: int) -> tuple[int, int]:
        """Parse a file header at ``pos``; return (first message position, end of data)."""
        self.need(pos, 12)
        hsize, _proto, _prof, dsize, magic = _HEADER(self.data, pos)
        if magic != b".FIT":
            raise FitHeaderError("Invalid .FIT File Header")
        p, extra = pos + 12, hsize - 12
        if extra > 0:
            if extra < 2:
                raise FitHeaderError("Irregular File Header Size")
            computed = crc16(self.data[pos:p])
            self.need(p, 2)
            read = self.data[p] | self.data[p + 1] << 8
            if computed != read and read != 0:
                raise _crc_error(computed, read)
            p += 2
            if extra - 2 > 0:
                self.need(p, extra - 2)
                p += extra - 2
        return p, p + dsize

    def run(self) -> None:
        """Decode every segment (chained FIT files); raise fitparse's error where it would."""
        pos = 0
        first = True
        while True:
            seg = pos
            try:
                pos, end = self.header(pos)
            except FitParseError as exc:
                exc.in_first_header = first  # type: ignore[attr-defined]
                raise
            first = False
            pos = Segment(self, end).read(pos)
            computed = crc16(memoryview(self.data)[seg:pos])
            self.need(pos, 2)
            read = self.data[pos] | self.data[pos + 1] << 8
            if computed != read:
                raise _crc_error(computed, read)
            pos += 2
            if pos >= self.n:
                return

    def definition(self, pos: int, h: int, local: dict, accs: dict) -> int:
        """Parse a definition message; install its plan for its local number."""
        data = self.data
        p = pos + 1
        self.need(p, 2)
        endian = ">" if data[p + 1] else "<"
        p += 2
        self.need(p, 3)
        mesg_num, nfields = struct.unpack_from(endian + "HB", data, p)
        p += 3
        q = p + 3 * nfields
        same = None if h & 0x20 or q > self.n else data[pos + 1:q]  # files repeat definitions often
        plan = self.defs.get(same) if same is not None else None
        if plan is not None:
            self.install(plan, mesg_num, h, local, accs)
            return q
        fdefs = tuple(zip(data[p:q:3], data[p + 1:q:3], data[p + 2:q:3]))
        for _num, size, btn in fdefs:  # (the slices hold only complete triples)
            _check_size(size, btn)
        if len(fdefs) < nfields:  # cut inside the field list: fitparse's error at the first missing one
            self.need(p + 3 * len(fdefs), 3)
        p = q
        ddefs = []
        if h & 0x20:
            self.need(p, 1)
            ndev = data[p]
            p += 1
            for _ in range(ndev):
                self.need(p, 3)
                num, size, index = data[p], data[p + 1], data[p + 2]
                p += 3
                ddefs.append((self.dev.get(index, num), size))
        wanted = _name(mesg_num) in self.wanted
        key = (endian, mesg_num, fdefs, tuple((d.def_num, d.name, d.units, d.type.identifier, s) for d, s in ddefs),
               wanted, self.records and wanted)
        plan = plan_for(key, lambda: build_plan(endian, mesg_num, fdefs, tuple(ddefs), wanted, self.records))
        if same is not None and len(self.defs) < _SAME_MAX:
            self.defs[same] = plan
        self.install(plan, mesg_num, h, local, accs)
        return p

    @staticmethod
    def install(plan: Plan, mesg_num: int, h: int, local: dict, accs: dict) -> None:
        """Make ``plan`` the one of local message type ``h & 0x0F``."""
        acc = None
        if plan.acc_nums:  # fitparse restarts these accumulators at every definition
            acc = accs.setdefault(mesg_num, {})
            for num in plan.acc_nums:
                acc[num] = 0
        elif mesg_num in accs:
            acc = accs[mesg_num]
        local[h & 0x0F] = (plan, acc)

    def data_error(self, plan: Plan, pos: int) -> None:
        """Raise what fitparse raises reading a message that does not fit in the file."""
        for fmt, size in plan.reads:
            if size == 0:
                raise FitParseError("Invalid struct format: %s" % (plan.endian + fmt))
            if self.n - pos < size:
                raise _eof(size, self.n - pos)
            pos += size
        raise Unsupported("message size bookkeeping disagrees with fitparse")

    def register_dev(self, plan: Plan, values: tuple) -> None:
        raw = plan.dev_raw(values)
        if plan.name == "developer_data_id":
            self.dev.add_data_id(raw)
        else:
            self.dev.add_field(raw)

def _check_size(size: int, btn: int) -> None:
    bt = BASE_TYPES.get(btn, BASE_TYPE_BYTE)
    if size % bt.size:
        raise FitParseError("Invalid field size %d for type '%s' (expected a multiple of %d)"
                            % (size, bt.name, bt.size))


def _name(mesg_num: int) -> str:
    mt = MESSAGE_TYPES.get(mesg_num)
    return mt.name if mt else "unknown_%d" % mesg_num


def decode(data: bytes, wanted: frozenset[str], records: bool = False) -> FastDecoded:
    """Decode ``data`` like fitparse's FitFile(data).get_messages() from an empty developer registry,
    keeping ``wanted`` names (``records``: record messages as Record chunks, see the module doc).

    Raises fitparse's FitHeaderError / FitEOFError / FitCRCError where ``FitFile(data)`` itself
    would (a bad first header), and ``Unsupported`` for input fastfit does not mirror.
    """
    reader = Reader(data, wanted, records)
    error: FitParseError | None = None
    try:
        reader.run()
    except FitParseError as exc:
        if getattr(exc, "in_first_header", False):
            raise
        error = exc
    except Unsupported:
        raise
    except Exception as exc:  # fitparse would crash here too (TypeError, KeyError...): let it
        raise Unsupported(f"{type(exc).__name__}: {exc}") from exc
    return FastDecoded(reader.messages, None if error is None else str(error), error, reader.read_any)
