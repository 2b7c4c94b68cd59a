"""``record`` messages straight to ``Record`` tuples, a column at a time.

``record_from_values`` is the rule: one fitparse ``record`` value dict -> ``Record`` (or None
without a time). For a record definition whose values cannot make fitparse raise and that
holds no accumulating component, ``record_plan`` writes two functions that give the same
Records from the raw bytes without building the dict: ``one`` for a single message, ``many``
for a run of consecutive messages of the definition (rows from ``struct.iter_unpack``), column
by column (invalid values, scale and offset per column). Only the fields a Record uses are
unpacked; the rest of each message is struct padding. The last field written under a name is
the one ``get_values()`` keeps, so each Record field reads that writer alone.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass
from itertools import repeat

from fitparse.records import BASE_TYPES

from cooldownd.core.model import Record
from cooldownd.fit.basetypes import INVALID, PROCESSED, Unsupported
from cooldownd.fit.codegen import compiled
from cooldownd.fit.values import posix

FIT_EPOCH = 631065600  # fitparse's UTC_REFERENCE: FIT time 0 is 1989-12-31T00:00:00Z
_UNIX = dt.datetime(1970, 1, 1)
_NUMBERS = frozenset({int, float})  # type() test: bool (a subclass of int) is not a number here
# Record field -> the get_values() names it reads (speed: enhanced_speed first, then speed)
_KEYS = ("timestamp", "heart_rate", "power", "cadence", "enhanced_speed", "speed", "distance")
_HR8 = tuple(b if 20 <= b <= 250 else None for b in range(256))  # uint8 heart rate -> Record.hr
TS_SAFE = 1 << 34  # compressed-timestamp sums past this leave what datetime can hold: fitparse's path
_INT_BTNS = {0x00, 0x01, 0x02, 0x83, 0x84, 0x85, 0x86, 0x0A, 0x8B, 0x8C}  # integer base types <= 4 bytes


def record_from_values(v: dict) -> Record | None:
    """One ``record`` message's fitparse values as a Record; None without a usable time."""
    t = v.get("timestamp")
    if type(t) is dt.datetime and t.tzinfo is None:  # fitparse's usual naive UTC
        t = (t - _UNIX).total_seconds()
    else:
        t = posix(t)
        if t is None:
            return None
    speed = v.get("enhanced_speed")
    if type(speed) not in _NUMBERS:
        speed = v.get("speed")
    hr, power, cad, dist = v.get("heart_rate"), v.get("power"), v.get("cadence"), v.get("distance")
    return Record(t,
                  int(hr) if type(hr) in _NUMBERS and 20 <= hr <= 250 else None,
                  int(power) if type(power) in _NUMBERS else None,
                  int(cad) if type(cad) in _NUMBERS else None,
                  float(speed) if type(speed) in _NUMBERS else None,
                  float(dist) if type(dist) in _NUMBERS else None)


@dataclass(slots=True)
class RecordPlan:
    """How to read Records from one record definition's messages without value dicts."""

    unpack: object  # struct unpack_from of the fields Records use, at the message's first data byte
    one: object  # f(values, ts, offset) -> (Record | None, ts)
    many: object  # f(data, pos, count, stride, ts, compressed) -> (list[Record], ts)


# integer base type -> memoryview cast code of the same size and sign
_CODES = {0x00: "B", 0x01: "b", 0x02: "B", 0x0A: "B", 0x83: "h", 0x84: "H", 0x8B: "H", 0x85: "i", 0x86: "I", 0x8C: "I"}
_CODES_OK = all(memoryview(bytes(8)).cast(c).itemsize == BASE_TYPES[b].size for b, c in _CODES.items())


def gather(data: bytes, first: int, count: int, stride: int, size: int, code: str, big: bool):
    """One integer field of ``count`` messages ``stride`` bytes apart: its values, without a Python loop.

    Each byte of the field is one stepped slice of ``data``; the slices are interleaved into a
    buffer in native order and read back as integers."""
    stop = first + count * stride
    if size == 1:
        col = data[first:stop:stride]
        return col if code == "B" else memoryview(col).cast("b").tolist()
    buf = bytearray(count * size)
    for k in range(size):
        buf[size - 1 - k if big else k::size] = data[first + k:stop + k:stride]
    return memoryview(buf).cast(code).tolist()


@dataclass(slots=True)
class _Writer:
    """The last writer of one name: a field's raw value, or a component cut from it."""

    item: int  # index into the definition's items
    btn: int
    scale: object
    offset: object
    shift: int = -1  # >= 0: a component (bit offset), with ``bits``
    bits: int = 0

    def expr(self, x: str) -> str:
        """The value fitparse gives for a valid raw value held in ``x``."""
        e = x if self.shift < 0 else f"(({x} >> {self.shift}) & {(1 << self.bits) - 1})"
        if self.scale:
            e = f"{e} / {self.scale!r}"
        if self.offset:
            e = f"{e} - {self.offset!r}"
        return e


def _safe(mtype, f, kind: str, size: int) -> bool:
    """True when fitparse's conversion of this field (and its components) cannot raise, and no
    Record field comes from an accumulated component (a ``cycles`` field accumulating into
    ``total_cycles`` is fine: in records mode no record message's value dict is ever returned, so
    the record accumulators' state reaches nothing)."""
    if f.subfields or f.type.name == "localtime_into_day":
        return False
    if f.type.name in ("date_time", "local_date_time") and (kind != "int" or size > 4):
        return False
    for c in f.components or ():
        target = mtype.fields.get(c.def_num)
        if kind != "int" or target is None or target.subfields or c.bits > 32:
            return False
        if c.accumulate and target.name in _KEYS:
            return False
        if target.type.name == "localtime_into_day":
            return False
    return True


def _plain(f, name: str) -> bool:
    """A field whose value is its number: no enum names, no processor (the timestamp: date_time)."""
    if f.type.values or f.subfields:
        return False
    return f.type.name == "date_time" if name == "timestamp" else f.type.name not in PROCESSED


def _writers(mtype, items: list, n_regular: int) -> dict[str, _Writer] | None:
    """{name: last writer} for the names Records read; None where the dict path must decide."""
    out: dict[str, _Writer | None] = {}
    for i, (_var, _idx, _n, btn, f, _num, kind, size, _off) in enumerate(items):
        if i >= n_regular:
            if f.name in _KEYS:
                return None  # a developer field under a Record name
            continue
        if f is None:
            continue
        if not _safe(mtype, f, kind, size):
            return None
        scalar = kind == "int" and btn in _INT_BTNS
        for c in f.components or ():
            target = mtype.fields[c.def_num]
            if target.name in _KEYS:
                ok = scalar and target.name != "timestamp" and _plain(target, target.name)
                out[target.name] = _Writer(i, btn, c.scale, c.offset, c.bit_offset, c.bits) if ok else None
        if f.name in _KEYS:
            out[f.name] = _Writer(i, btn, f.scale, f.offset) if scalar and _plain(f, f.name) else None
    if any(w is None for w in out.values()):
        return None
    ts = out.get("timestamp")
    if ts is not None and (ts.scale or ts.offset):
        return None
    return out  # type: ignore[return-value]


def record_plan(endian: str, mtype, items: list, n_regular: int, ts_items: list[int]) -> RecordPlan | None:
    """The Record path of one record definition, or None where the value dicts must decide.

    ``items``: (var, value index, count, base type number, field, number, kind, bytes, offset)
    per field in definition order; ``ts_items``: the indices of its timestamp (253) fields.
    """
    writers = _writers(mtype, items, n_regular)
    if writers is None or len(ts_items) > 1:
        return None
    ts_w = writers.get("timestamp")
    if ts_items and (ts_w is None or ts_w.item != ts_items[0]):
        return None
    needed = sorted({w.item for w in writers.values()})
    if not _CODES_OK or any(items[i][3] not in _CODES for i in needed):
        return None
    body = "".join(BASE_TYPES[item[3]].fmt if i in needed else f"{item[7]}x" for i, item in enumerate(items))
    gen = _Source(writers, {i: INVALID[items[i][3]] for i in needed},
                  {i: (1 + items[i][8], items[i][7], _CODES[items[i][3]]) for i in needed})
    env = {"Record": Record, "_new": tuple.__new__, "repeat": repeat, "_HR8": _HR8, "EPOCH": float(FIT_EPOCH),
           "TS_SAFE": TS_SAFE, "_hr": _hr, "_Unsupported": Unsupported, "_gather": gather, "BIG": endian == ">"}
    exec(compiled(gen.one() + "\n\n" + gen.many(), "<fastfit record plan>"), env)  # noqa: S102 - built above
    return RecordPlan(struct.Struct(endian + body).unpack_from, env["one"], env["many"])


def _hr(v) -> int | None:
    return int(v) if 20 <= v <= 250 else None


class _Source:
    """Writes ``one`` and ``many`` for one definition's writers."""

    def __init__(self, writers: dict[str, _Writer], bad: dict[int, int], where: dict[int, tuple]) -> None:
        self.w, self.bad, self.where = writers, bad, where  # where: item -> (offset after header, bytes, code)
        self.names = ", ".join(f"r{i}" for i in where) + ("," if len(where) == 1 else "")

    def scalar(self, key: str, x: str) -> str:
        """Record field value from the raw value in ``x`` (any raw, invalid included)."""
        w = self.w[key]
        bad = self.bad[w.item]
        if key == "heart_rate":
            if w.btn in (0x02, 0x0A) and w.shift < 0 and not w.scale and not w.offset:
                return f"_HR8[{x}]"
            return f"None if {x} == {bad} else _hr({w.expr(x)})"
        wrap = "int" if key in ("power", "cadence") else "float"
        e = w.expr(x)
        if wrap == "int" and not w.scale or wrap == "float" and w.scale:
            return f"None if {x} == {bad} else {e}"  # already an int / a float
        return f"None if {x} == {bad} else {wrap}({e})"

    def value(self, key: str, var: str) -> str:
        """Expression for one Record field in ``one`` (``var``: the writer's raw variable)."""
        return f"({self.scalar(key, var)})" if key in self.w else "None"

    def speed(self, var_of) -> str:
        es, s = self.value("enhanced_speed", var_of("enhanced_speed")), self.value("speed", var_of("speed"))
        if "enhanced_speed" in self.w and "speed" in self.w:
            return f"_es if (_es := {es}) is not None else {s}"
        return es if "enhanced_speed" in self.w else s

    def one(self) -> str:
        var = lambda k: f"r{self.w[k].item}" if k in self.w else "None"  # noqa: E731
        ts = self.w.get("timestamp")
        lines = ["def one(v, ts, off):"] + ([f"    {self.names} = v"] if self.names else [])
        if ts is not None:
            lines.append(f"    if r{ts.item} != {self.bad[ts.item]}: ts = r{ts.item}")
        lines += ["    if off >= 0:",
                  "        b = off + (ts & -32)",
                  "        if off < (ts & 31): b += 32",
                  "        ts = b",
                  "        if ts < 0: return None, ts",
                  "        if ts > TS_SAFE: raise _Unsupported('compressed timestamp out of range')",
                  "        t = EPOCH + ts"]
        if ts is not None:
            lines += [f"    elif r{ts.item} == {self.bad[ts.item]} or r{ts.item} < 0: return None, ts",
                      f"    else: t = EPOCH + r{ts.item}"]
        else:
            lines.append("    else: return None, ts")
        fields = [self.value("heart_rate", var("heart_rate")), self.value("power", var("power")),
                  self.value("cadence", var("cadence")), f"({self.speed(var)})",
                  self.value("distance", var("distance"))]
        lines.append(f"    return _new(Record, (t, {', '.join(fields)})), ts")
        return "\n".join(lines)

    def column(self, key: str) -> list[str]:
        """Statements setting ``c_<key>`` to the Record field's column."""
        if key not in self.w:
            return [f"    c_{key} = repeat(None)"]
        w = self.w[key]
        col, bad = f"r{w.item}", self.bad[w.item]
        conv = self.scalar(key, "x")
        if conv.startswith("_HR8["):
            return [f"    c_{key} = list(map(_HR8.__getitem__, {col}))"]
        clean = conv.split(" else ", 1)[1]  # the value when x is valid
        fast = col if clean == "x" else f"[{clean} for x in {col}]"
        return [f"    if {bad} not in {col}: c_{key} = {fast}",
                f"    else: c_{key} = [{conv} for x in {col}]"]

    def many(self) -> str:
        ts = self.w.get("timestamp")
        lines = ["def many(data, pos, count, stride, ts, comp):"]
        if ts is None:
            lines.append("    if not comp: return [], ts")  # no time at all: fitparse's dicts have none either
        lines += [f"    r{i} = _gather(data, pos + {off}, count, stride, {size}, {code!r}, BIG)"
                  for i, (off, size, code) in self.where.items()]
        lines += ["    if comp:",
                  "        hdr = data[pos:pos + count * stride:stride]",
                  "        tl = []"]
        loop = ["        for h, x in zip(hdr, r%d):" % ts.item, f"            if x != {self.bad[ts.item]}: ts = x"] \
            if ts is not None else ["        for h in hdr:"]
        lines += loop + ["            o = h & 31",
                         "            b = o + (ts & -32)",
                         "            if o < (ts & 31): b += 32",
                         "            ts = b",
                         "            tl.append(b)",
                         "        if max(tl) > TS_SAFE: raise _Unsupported('compressed timestamp out of range')",
                         "        c_t = [EPOCH + x if x >= 0 else None for x in tl]"]
        if ts is not None:
            r, bad = f"r{ts.item}", self.bad[ts.item]
            lines += [f"    elif {bad} in {r} or min({r}) < 0:",
                      f"        c_t = [None if x == {bad} or x < 0 else EPOCH + x for x in {r}]",
                      f"        ts = next((x for x in reversed({r}) if x != {bad}), ts)",
                      "    else:",
                      f"        c_t = list(map(EPOCH.__add__, {r}))",
                      f"        ts = {r}[-1]"]
        for key in ("heart_rate", "power", "cadence", "enhanced_speed", "speed", "distance"):
            lines += self.column(key)
        if "enhanced_speed" in self.w and "speed" in self.w:
            lines.append("    c_speed = c_enhanced_speed if None not in c_enhanced_speed else "
                         "[a if a is not None else b for a, b in zip(c_enhanced_speed, c_speed)]")
        elif "enhanced_speed" in self.w:
            lines.append("    c_speed = c_enhanced_speed")
        lines += ["    z = zip(c_t, c_heart_rate, c_power, c_cadence, c_speed, c_distance)",
                  "    if None in c_t: return [_new(Record, x) for x in z if x[0] is not None], ts",
                  "    return list(map(_new, repeat(Record), z)), ts"]
        return "\n".join(lines)
