"""Per-definition decoding plans for ``fastfit``, generated from fitparse's own profile tables.

A plan is built once per distinct FIT definition (endianness, message number, field layout):
one ``struct`` format for the whole message and, for wanted messages, a generated Python
function that turns the unpacked tuple into exactly what fitparse's ``get_values()`` returns.
The conversion mirrors fitparse step by step (codegen.py); in records mode a ``record``
definition also gets a Record path (columns.py) and an ``hrv`` one an RR path (rrplan.py).
Anything odd raises ``Unsupported``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from fitparse.profile import MESSAGE_TYPES
from fitparse.records import BASE_TYPE_BYTE, BASE_TYPES

from cooldownd.fit.basetypes import FITPARSE_OK, INVALID, Unsupported
from cooldownd.fit.codegen import Gen, make, raw_code
from cooldownd.fit.columns import RecordPlan, record_plan
from cooldownd.fit.rrplan import RrPlan, rr_plan

__all__ = ["DEV_KINDS", "HUGE", "Plan", "Unsupported", "build_plan"]

# fitparse's developer-field bookkeeping messages: decoded even when not wanted.
DEV_KINDS = {"developer_data_id", "field_description"}
HUGE = 1 << 62  # size of a plan fitparse cannot read: always takes the error path


@dataclass(slots=True)
class Plan:
    """How to read (and, when wanted, convert) the data messages of one definition."""

    name: str
    endian: str
    size: int  # bytes after the record header; HUGE when fitparse fails on it
    reads: list[tuple[str, int]]  # (struct format, bytes) per field, as fitparse reads them
    unpack: object = None  # struct.Struct(...).unpack_from for wanted / dev messages
    conv: object = None  # generated f(values, acc) -> dict, for wanted messages
    ts_fields: list[tuple] = field(default_factory=list)  # (offset, value index, invalid, unpack_from)
    acc_nums: tuple[int, ...] = ()  # component numbers whose accumulators a definition resets
    dev_raw: object = None  # f(values) -> {name: raw} for developer_data_id / field_description
    rec: RecordPlan | None = None  # records mode: Records without value dicts (columns.py)
    rr: RrPlan | None = None  # records mode, hrv: (t, RR ms) from raw columns (rrplan.py)


def build_plan(endian: str, mesg_num: int, field_defs: tuple, dev_defs: tuple, wanted: bool,
               records: bool = False) -> Plan:
    """The plan for one definition; ``field_defs`` = ((num, size, base type num), ...),
    ``dev_defs`` = ((DevField, size), ...); ``records``: wanted ``record`` messages become Records."""
    if not FITPARSE_OK:
        raise Unsupported("fitparse is not the 1.2 release fastfit copies")
    mtype = MESSAGE_TYPES.get(mesg_num)
    name = mtype.name if mtype else "unknown_%d" % mesg_num
    reads: list[tuple[str, int]] = []
    fmt: list[str] = []
    items: list[tuple] = []  # (var, value index, n, btn, field, num, kind, bytes, offset)
    plan = Plan(name, endian, 0, reads)
    idx = off = 0
    entries = [(num, size, btn, BASE_TYPES.get(btn, BASE_TYPE_BYTE), mtype.fields.get(num) if mtype else None)
               for num, size, btn in field_defs]
    entries += [(dev.def_num, size, dev.type.identifier, dev.type, dev) for dev, size in dev_defs]
    for i, (num, size, btn, bt, f) in enumerate(entries):
        n = int(size / bt.size)
        reads.append((f"{n}{bt.fmt}", n * bt.size))
        if n == 0:
            plan.size = HUGE
            return plan
        is_dev = i >= len(field_defs)
        if is_dev and (_bad_format_arg(f.name) or f.units and _bad_format_arg(f.units)):
            raise Unsupported("developer field name or units fitparse cannot format")
        if num == 253:
            if is_dev or n != 1 or btn not in INVALID:
                raise Unsupported("timestamp field that is not a scalar integer")
            plan.ts_fields.append((off, idx, INVALID[btn], struct.Struct(endian + bt.fmt).unpack_from))
        if f is not None and not is_dev:
            plan.acc_nums += tuple(c.def_num for c in f.components or () if c.accumulate)
        items.append((f"r{i}", idx, n, btn, f, num, raw_code("r", idx, n, btn, bt)[1], n * bt.size, off))
        fmt.append(f"{n}{bt.fmt}")
        idx += 1 if bt.name == "string" else n
        off += n * bt.size
    plan.size = off
    if wanted or name in DEV_KINDS:
        plan.unpack = struct.Struct(endian + "".join(fmt)).unpack_from
    if name in DEV_KINDS:
        plan.dev_raw = _on_first_use(plan, "dev_raw", lambda: make(_raw_source(items, entries), {}))
    if wanted and records and name == "record":
        plan.rec = record_plan(endian, mtype, items, len(field_defs),
                               [i for i, it in enumerate(items) if it[5] == 253 and i < len(field_defs)])
    if wanted and records and name == "hrv":
        plan.rr = rr_plan(endian, items, len(field_defs))
    if wanted and plan.rec is None:
        plan.conv = _on_first_use(plan, "conv", lambda: make(*_conv_source(mtype, items, len(field_defs))))
    return plan


def _on_first_use(plan: Plan, attr: str, build):
    """A stand-in that writes and compiles the function when a data message first needs it (many
    definitions are never followed by one), then puts it in its place on the plan."""
    def first(*args):
        fn = build()
        setattr(plan, attr, fn)
        return fn(*args)
    return first


def _bad_format_arg(x) -> bool:
    """fitparse builds processor names with ``"..._%s" % x``: a tuple of len != 1 fails."""
    return isinstance(x, tuple) and len(x) != 1


def _raw_source(items, entries) -> str:
    lines = ["def conv(v, acc=None):"]
    for var, idx, n, btn, f, _num, *_ in items:
        lines.append("    " + raw_code(var, idx, n, btn, BASE_TYPES.get(btn, BASE_TYPE_BYTE))[0])
    lines.append("    d = {}")
    for var, _idx, _n, _btn, f, *_ in items:
        if f is not None:
            lines.append(f"    d.setdefault({f.name!r}, {var})")  # get_raw_value: first match wins
    lines.append("    return d")
    return "\n".join(lines)


def _conv_source(mtype, items, n_regular: int) -> tuple[str, dict]:
    gen = Gen(mtype, [var for var, *_ in items])
    gen.emit(0, "def conv(v, acc):")
    shape: dict[str, str] = {}
    for var, idx, n, btn, _f, *_ in items:
        src, shape[var] = raw_code(var, idx, n, btn, BASE_TYPES.get(btn, BASE_TYPE_BYTE))
        gen.emit(1, src)
        if shape[var] == "byte":
            gen.nbytes[var] = n
    gen.defs = [(it[5], it[0]) for it in items[:n_regular]]
    gen.emit(1, "d = {}")
    for i, (var, _idx, _n, _btn, f, num, *_) in enumerate(items):
        if i >= n_regular:  # developer field: its raw value under its own name
            gen.emit(1, f"d[{f.name!r}] = {var}")
        elif f is None:
            gen.emit(1, f"d['unknown_{num}'] = {var}")
        else:
            gen.field(1, f, var, shape[var])
    gen.emit(1, "return d")
    return "\n".join(gen.lines), gen.consts
