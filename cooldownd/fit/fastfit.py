"""A fast FIT decoder that returns exactly what fitparse 1.2 returns, for the messages asked for.

``decode(data, wanted)`` walks the file once: definitions become cached plans
(``fastfit_profile``), unwanted data messages are skipped by size (only their timestamp is
read, for compressed-timestamp headers), wanted ones are unpacked with one ``struct`` call
and converted by generated code. The values, the error (same fitparse exception class and
text, the messages before it kept) and the developer-field registry (fitparse's global
``DEV_TYPES``) come out as fitparse's ``get_messages()`` / ``get_values()`` would give them.
Inputs it cannot mirror raise ``Unsupported``: the caller decodes those with fitparse.

Memory: only the wanted messages' dicts are kept; ``decode`` holds no other per-message list.
"""

from __future__ import annotations

import logging
import struct
import sys
from array import array
from dataclasses import dataclass, field

from fitparse.records import DEV_TYPES, add_dev_data_id, add_dev_field_description, get_dev_type
from fitparse.utils import FitCRCError, FitEOFError, FitHeaderError, FitParseError

from cooldownd.fit.profile import Plan, Unsupported, build_plan

log = logging.getLogger(__name__)

__all__ = ["FastDecoded", "Unsupported", "decode", "crc16", "decode_messages"]


@dataclass(slots=True)
class FastDecoded:
    """Wanted messages in file order, and the fitparse error that stopped decoding (if any)."""

    messages: list[tuple[str, dict]]
    error: str | None = None  # str(exception), as fitparse words it
    exception: FitParseError | None = field(default=None, compare=False)
    read_any: bool = False  # at least one data message (wanted or not) was read


# --- CRC-16 (FIT's, = CRC-16/ARC), two bytes per table step -----------------------------

_T8 = [0] * 256
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0xA001 if _c & 1 else _c >> 1
    _T8[_i] = _c
_T16: list[int] = []


def _two_steps(x: int) -> int:
    """The CRC register after two zero bytes, starting from ``x``."""
    x = (x >> 8) ^ _T8[x & 0xFF]
    return (x >> 8) ^ _T8[x & 0xFF]


def crc16(data: bytes | memoryview, crc: int = 0) -> int:
    """FIT CRC of ``data`` continuing from ``crc`` (same value as fitparse's ``Crc``)."""
    global _T16
    mv = memoryview(data)
    if len(mv) > 4096 and sys.byteorder == "little":
        if not _T16:  # the register update is linear: T16[hi << 8 | lo] = T16[hi << 8] ^ T16[lo]
            lo = [_two_steps(x) for x in range(256)]
            _T16 = [h ^ v for h in (_two_steps(x << 8) for x in range(256)) for v in lo]
        t16 = _T16
        half = len(mv) // 2 * 2
        words = array("H")
        words.frombytes(mv[:half])
        for w in words:
            crc = t16[crc ^ w]
        mv = mv[half:]
    t8 = _T8
    for b in mv:
        crc = (crc >> 8) ^ t8[(crc ^ b) & 0xFF]
    return crc


def _eof(size: int, got: int) -> FitEOFError:
    return FitEOFError("Tried to read %d bytes from .FIT file but got %d" % (size, got))


def _crc_error(computed: int, read: int) -> FitCRCError:
    return FitCRCError("CRC Mismatch [computed: 0x%04X, read: 0x%04X]" % (computed, read))


_PLANS: dict[tuple, Plan] = {}
_HEADER = struct.Struct("<2BHI4s").unpack_from


class _Reader:
    """One pass over ``data``, mirroring fitparse's FitFile read by read."""

    def __init__(self, data: bytes, wanted: frozenset[str], sink: list | None = None) -> None:
        self.data, self.n, self.wanted = data, len(data), wanted
        self.messages: list[tuple[str, dict]] = [] if sink is None else sink
        self.read_any = False

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
            pos = self.segment(pos, end)
            computed = crc16(memoryview(self.data)[seg:pos])
            self.need(pos, 2)
            read = self.data[pos] | self.data[pos + 1] << 8
            if computed != read:
                raise _crc_error(computed, read)
            pos += 2
            if pos >= self.n:
                return

    def segment(self, pos: int, end: int) -> int:
        """Read messages while fitparse's ``_bytes_left`` > 0; return the position after them."""
        data, n, messages = self.data, self.n, self.messages
        local: dict[int, tuple] = {}
        accs: dict[int, dict] = {}
        ts = 0
        while pos < end:
            if pos >= n:
                raise _eof(1, 0)
            h = data[pos]
            if h & 0x80:
                ent = local.get((h >> 5) & 3)
                offset = h & 0x1F
            elif h & 0x40:
                pos = self.definition(pos, h, local, accs)
                continue
            else:
                ent = local.get(h & 0x0F)
                offset = -1
            if ent is None:
                raise FitParseError("Got data message with invalid local message type %d"
                                    % ((h >> 5) & 3 if h & 0x80 else h & 0x0F))
            plan, acc = ent
            start = pos + 1
            size = plan.size
            if start + size > n:
                self.data_error(plan, start)
            if plan.conv is not None:
                v = plan.unpack(data, start)
                d = plan.conv(v, acc)
                for _off, i, bad, _u in plan.ts_fields:
                    if v[i] != bad:
                        ts = v[i]
            else:
                d = None
                for off, _i, bad, unpack in plan.ts_fields:
                    t = unpack(data, start + off)[0]
                    if t != bad:
                        ts = t
                if plan.dev_raw is not None:
                    self.register_dev(plan, plan.unpack(data, start))
            if offset >= 0:  # compressed timestamp header: fitparse's 5-bit accumulation
                base = offset + (ts & ~0x1F)
                if offset < (ts & 0x1F):
                    base += 0x20
                ts = base
                if d is not None:
                    d["timestamp"] = _timestamp(ts)
            if d is not None:
                messages.append((plan.name, d))
                if plan.dev_raw is not None:
                    self.register_dev(plan, v)
            self.read_any = True
            pos = start + size
        return pos

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
        fdefs = []
        for _ in range(nfields):
            self.need(p, 3)
            num, size, btn = data[p], data[p + 1], data[p + 2]
            p += 3
            _check_size(size, btn)
            fdefs.append((num, size, btn))
        ddefs = []
        if h & 0x20:
            self.need(p, 1)
            ndev = data[p]
            p += 1
            for _ in range(ndev):
                self.need(p, 3)
                num, size, index = data[p], data[p + 1], data[p + 2]
                p += 3
                ddefs.append((get_dev_type(index, num), size))
        key = (endian, mesg_num, tuple(fdefs),
               tuple((d.def_num, d.name, d.type.identifier, s) for d, s in ddefs))
        key += (_name(mesg_num) in self.wanted,)
        plan = _PLANS.get(key)
        if plan is None:
            plan = _PLANS[key] = build_plan(endian, mesg_num, tuple(fdefs), tuple(ddefs), key[-1])
        acc = None
        if plan.acc_nums:  # fitparse restarts these accumulators at every definition
            acc = accs.setdefault(mesg_num, {})
            for num in plan.acc_nums:
                acc[num] = 0
        elif mesg_num in accs:
            acc = accs[mesg_num]
        local[h & 0x0F] = (plan, acc)
        return p

    def data_error(self, plan: Plan, pos: int) -> None:
        """Raise what fitparse raises reading a message that does not fit in the file."""
        for fmt, size in plan.reads:
            if size == 0:
                raise FitParseError("Invalid struct format: %s" % (plan.endian + fmt))
            if self.n - pos < size:
                raise _eof(size, self.n - pos)
            pos += size
        raise Unsupported("message size bookkeeping disagrees with fitparse")

    @staticmethod
    def register_dev(plan: Plan, values: tuple) -> None:
        raw = plan.dev_raw(values)
        shim = _RawMessage(raw)
        if plan.name == "developer_data_id":
            add_dev_data_id(shim)
        else:
            add_dev_field_description(shim)


class _RawMessage:
    """The one method fitparse's developer-field registry calls on a message."""

    def __init__(self, raw: dict) -> None:
        self.raw = raw

    def get_raw_value(self, name: str):
        return self.raw.get(name)


def _check_size(size: int, btn: int) -> None:
    from fitparse.records import BASE_TYPE_BYTE, BASE_TYPES

    bt = BASE_TYPES.get(btn, BASE_TYPE_BYTE)
    if size % bt.size:
        raise FitParseError("Invalid field size %d for type '%s' (expected a multiple of %d)"
                            % (size, bt.name, bt.size))


def _name(mesg_num: int) -> str:
    from fitparse.profile import MESSAGE_TYPES

    mt = MESSAGE_TYPES.get(mesg_num)
    return mt.name if mt else "unknown_%d" % mesg_num


def _timestamp(ts: int):
    from cooldownd.fit.profile import _utc

    return _utc(631065600 + ts) if ts >= 0x10000000 else ts


def _snapshot() -> dict:
    return {k: {**v, "fields": dict(v["fields"])} for k, v in DEV_TYPES.items()}


def decode(data: bytes, wanted: frozenset[str], sink: list | None = None) -> FastDecoded:
    """Decode ``data`` like fitparse's FitFile(data).get_messages(), keeping ``wanted`` names.

    Raises fitparse's FitHeaderError / FitEOFError / FitCRCError where ``FitFile(data)`` itself
    would (a bad first header), and ``Unsupported`` for input fastfit does not mirror.
    ``sink``: a list (subclass) that receives the messages as they are decoded, e.g. to convert
    each one at once instead of holding every message dict of a large file.
    """
    before = _snapshot()
    reader = _Reader(data, wanted, sink)
    error: FitParseError | None = None
    try:
        reader.run()
    except FitParseError as exc:
        if getattr(exc, "in_first_header", False):
            raise
        error = exc
    except Unsupported:
        _restore(before)
        raise
    except Exception as exc:  # fitparse would crash here too (TypeError, KeyError...): let it
        _restore(before)
        raise Unsupported(f"{type(exc).__name__}: {exc}") from exc
    return FastDecoded(reader.messages, None if error is None else str(error), error, reader.read_any)


def _restore(before: dict) -> None:
    DEV_TYPES.clear()
    DEV_TYPES.update(before)


def decode_messages(data: bytes, source: str, sink: list | None = None):
    """Drop-in for ``fitfile.decode_with_fitparse``: fastfit, or fitparse when fastfit can't."""
    from cooldownd.fit import decode as fitfile
    from cooldownd.errors import FitImportError

    if not data:
        return fitfile.decode_with_fitparse(data, source)
    try:
        fast = decode(data, fitfile.WANTED, sink)
    except Unsupported as exc:
        log.debug("%s: fast decoder can't read it (%s); using fitparse", source, exc)
        return fitfile.decode_with_fitparse(data, source)
    except FitHeaderError as exc:
        raise FitImportError(source, f"not a FIT file ({exc})") from exc
    except FitEOFError as exc:
        raise FitImportError(source, f"truncated FIT header ({exc})") from exc
    except FitParseError as exc:
        raise FitImportError(source, f"unreadable FIT header ({exc})") from exc
    exc = fast.exception
    error = kind = None
    if isinstance(exc, FitCRCError):
        error, kind = f"bad CRC ({exc})", "bad_crc"
    elif isinstance(exc, FitEOFError):
        error, kind = f"truncated file ({exc})", "truncated"
    elif exc is not None:
        error, kind = f"corrupt data ({exc})", "corrupt"
    return fitfile.Decoded(fast.messages, error, kind, fast.read_any)
