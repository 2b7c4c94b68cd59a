"""The code fastfit's plans run: helpers copied from fitparse for the rare value shapes, and the
writer of each wanted message's conversion function (``conv(values, acc) -> dict``).

Each generated step mirrors ``fitparse.base.FitFile._parse_data_message``: base-type sentinels ->
None, subfield resolution on raw reference values, component expansion (with accumulation) before
the field itself, ``render`` (enum names), then scale, then offset, then the default
``FitFileDataProcessor`` type processors.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from types import CodeType

from fitparse.processors import UTC_REFERENCE
from fitparse.records import BASE_TYPE_BYTE, parse_string

from cooldownd.fit.basetypes import FLOATS, INVALID, Unsupported

utc = datetime.datetime.utcfromtimestamp
_SKIP = object()


# --- helpers copied from fitparse for the rare shapes (exact same semantics) ---

def _pbyte(t: tuple) -> tuple | None:
    return None if all(b == 0xFF for b in t) else t


def _parr(t: tuple, bad: int) -> tuple:
    return tuple([None if x == bad else x for x in t]) if bad in t else t


def _parr_f(t: tuple) -> tuple:
    return tuple([None if x != x else x for x in t])


def _scale_offset(f, raw):
    if isinstance(raw, tuple):
        return tuple(_scale_offset(f, x) for x in raw)
    if isinstance(raw, (int, float)):
        if f.scale:
            raw = float(raw) / f.scale
        if f.offset:
            raw = raw - f.offset
    return raw


def _value(f, raw):
    """fitparse: ``_apply_scale_offset(field, field.render(raw))``."""
    return _scale_offset(f, f.render(raw))


def _crender(c, raw):
    try:
        return c.render(raw)
    except ValueError:
        return _SKIP


def _accumulate(raw, acc: dict, num: int, bits: int):
    mask = (1 << bits) - 1
    base = raw + (acc[num] & ~mask)
    if raw < (acc[num] & mask):
        base += 1 << bits
    acc[num] = base
    return base


def _tod(v):
    m, s = divmod(v, 60)
    h, m = divmod(m, 60)
    return datetime.time(h, m, s)


_ENV = {"_pbyte": _pbyte, "_parr": _parr, "_parr_f": _parr_f, "_pstr": parse_string,
        "_value": _value, "_so": _scale_offset, "_crender": _crender, "_SKIP": _SKIP,
        "_acc": _accumulate, "_utc": utc, "_tod": _tod, "REF": UTC_REFERENCE}


class Gen:
    """Writes the source of one conversion function."""

    def __init__(self, mtype, raws: list[str]) -> None:
        self.mtype, self.raws, self.lines, self.consts = mtype, raws, [], {}
        self.defs: list[tuple[int, str]] = []  # (field number, raw variable) of regular fields
        self.nbytes: dict[str, int] = {}  # raw variable of a byte array -> its length

    def const(self, obj) -> str:
        name = "K%d" % len(self.consts)
        self.consts[name] = obj
        return name

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def subfield_branches(self, f) -> list[tuple[str | None, object]]:
        """[(condition or None, field)]: fitparse's _resolve_subfield as an if/elif chain."""
        out: list[tuple[str | None, object]] = []
        for sub in f.subfields or ():
            conds = [f"{var} == {ref.raw_value!r}" for ref in sub.ref_fields
                     for num, var in self.defs if num == ref.def_num]
            if conds:
                out.append((" or ".join(conds), sub))
        return out + [(None, f)]

    def branch(self, depth: int, f, body) -> None:
        branches = self.subfield_branches(f)
        if len(branches) == 1:
            body(depth, f)
            return
        for i, (cond, sub) in enumerate(branches):
            self.emit(depth, ("if %s:" if i == 0 else "elif %s:") % cond if cond else "else:")
            body(depth + 1, sub)

    def process(self, depth: int, type_name: str, var: str) -> None:
        if type_name == "date_time":
            self.emit(depth, f"if {var} is not None and {var} >= 268435456: {var} = _utc(REF + {var})")
        elif type_name == "local_date_time":
            self.emit(depth, f"if {var} is not None: {var} = _utc(REF + {var})")
        elif type_name == "localtime_into_day":
            self.emit(depth, f"if {var} is not None: {var} = _tod({var})")
        elif type_name == "bool":
            self.emit(depth, f"if {var} is not None: {var} = bool({var})")

    def component(self, depth: int, c, raw: str, scalar_int: bool, packed: tuple[str, int] | None = None) -> None:
        """One component of a field (fitparse's loop body); ``packed``: (variable, bits) of a byte array's
        value as one little-endian integer, which fitparse's ``ComponentField.render`` computes byte by byte."""
        cmp_field = self.mtype.fields.get(c.def_num)
        if cmp_field is None:
            raise Unsupported(f"component {c.name} has no field")
        if packed is not None:
            var, bits = packed
            if c.bit_offset and c.bit_offset >= bits:  # render raises ValueError (skipped) unless raw is None
                self.emit(depth, f"if {raw} is None:")
                depth += 1
                self.emit(depth, "c = None")
            else:
                self.emit(depth, f"c = None if {var} is None else ({var} >> {c.bit_offset}) & {(1 << c.bits) - 1}")
            scalar_int = True
        elif scalar_int:
            self.emit(depth, f"c = None if {raw} is None else ({raw} >> {c.bit_offset}) & {(1 << c.bits) - 1}")
        else:
            self.emit(depth, f"c = _crender({self.const(c)}, {raw})")
            self.emit(depth, "if c is not _SKIP:")
            depth += 1
        if c.accumulate:
            self.emit(depth, f"if c is not None: c = _acc(c, acc, {c.def_num}, {c.bits})")
        if scalar_int:  # c is an int or None here: fitparse's scale/offset inline
            if c.scale or c.offset:
                expr = f"float(c) / {c.scale!r}" if c.scale else "c"
                expr += f" - {c.offset!r}" if c.offset else ""
                self.emit(depth, f"if c is not None: c = {expr}")
        else:
            self.emit(depth, f"c = _so({self.const(c)}, c)")

        def render(d: int, y) -> None:
            values = y.type.values
            if values:
                self.emit(d, f"cv = {self.const(values)}.get(c, c)")
            else:
                self.emit(d, "cv = c")
            self.process(d, y.type.name, "cv")
            self.emit(d, f"d[{y.name!r}] = cv")

        self.branch(depth, cmp_field, render)

    def value(self, d: int, x, raw: str, kind: str) -> None:
        """x = fitparse's ``_apply_scale_offset(x, x.render(raw))`` for this raw shape."""
        expr = f"float(e) / {x.scale!r}" if x.scale else "e"
        expr += f" - {x.offset!r}" if x.offset else ""
        scaled = bool(x.scale or x.offset)
        if kind == "string" or not scaled and kind != "scalar":
            self.emit(d, f"x = {raw}")  # tuples and str never match the int-keyed enum values
        elif kind == "array":
            self.emit(d, f"x = tuple([None if e is None else {expr} for e in {raw}])")
        elif kind == "byte":
            self.emit(d, f"x = None if {raw} is None else tuple([{expr} for e in {raw}])")
        elif x.type.values:
            self.emit(d, f"x = _value({self.const(x)}, {raw})")
        else:
            self.emit(d, f"e = {raw}")
            self.emit(d, f"x = None if e is None else {expr}" if scaled else "x = e")

    def field(self, depth: int, f, raw: str, kind: str) -> None:
        scalar_int = kind == "int"
        def body(d: int, x) -> None:
            packed = None
            if kind == "byte" and x.components and raw in self.nbytes:
                self.emit(d, f"bn = None if {raw} is None else int.from_bytes(bytes({raw}), 'little')")
                packed = ("bn", 8 * self.nbytes[raw])
            for c in x.components or ():
                self.component(d, c, raw, scalar_int, packed)
            self.value(d, x, raw, kind)
            self.process(d, x.type.name, "x")
            self.emit(d, f"d[{x.name!r}] = x")

        kind = "scalar" if kind in ("int", "float") else kind
        self.branch(depth, f, body)


def raw_code(var: str, idx: int, n: int, btn: int, bt) -> tuple[str, str]:
    """Source that sets ``var`` to fitparse's parsed raw value, and the value's shape:
    "string", "byte" (tuple or None), "array" (tuple), "float" or "int" (scalar)."""
    if bt.name == "string":
        return f"{var} = _pstr(v[{idx}])", "string"
    if bt is BASE_TYPE_BYTE or bt.name == "byte":
        return f"{var} = _pbyte(v[{idx}:{idx + n}])", "byte"
    if n > 1:
        if btn in FLOATS:
            return f"{var} = _parr_f(v[{idx}:{idx + n}])", "array"
        return f"{var} = _parr(v[{idx}:{idx + n}], {INVALID[btn]})", "array"
    if btn in FLOATS:
        return f"{var} = v[{idx}]\n    if {var} != {var}: {var} = None", "float"
    return f"{var} = v[{idx}]\n    if {var} == {INVALID[btn]}: {var} = None", "int"


# Sources written for different definitions are often the same text (a layout shared by many devices'
# files); compiling is most of a plan's cost, so each text is compiled once (least recently used dropped).
CODE_CACHE_MAX = 1024
_CODE: OrderedDict[tuple[str, str], CodeType] = OrderedDict()


def compiled(source: str, filename: str) -> CodeType:
    """``compile(source, filename, "exec")``, once per text."""
    key = (source, filename)
    code = _CODE.get(key)
    if code is None:
        code = _CODE[key] = compile(source, filename, "exec")
        if len(_CODE) > CODE_CACHE_MAX:
            _CODE.popitem(last=False)
    else:
        _CODE.move_to_end(key)
    return code


def make(source: str, consts: dict):
    env = dict(_ENV)
    env.update(consts)
    exec(compiled(source, "<fastfit plan>"), env)  # noqa: S102 - source built above from the profile
    return env["conv"]
