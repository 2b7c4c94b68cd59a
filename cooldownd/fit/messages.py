"""The data messages of one FIT segment, for fastfit's reader: records, wanted messages, skipped ones.

A record definition with a Record path (records mode) reads a run of its consecutive messages
(same header byte, or compressed headers of the same local type: found with one stepped slice of
the header bytes) in one call; an unwanted definition skips such a run in one step, reading only
its last valid timestamp (the base of later compressed-timestamp headers).
"""

from __future__ import annotations

from typing import Any

from fitparse.utils import FitParseError

from cooldownd.fit.codegen import utc
from cooldownd.fit.columns import FIT_EPOCH, record_from_values
from cooldownd.fit.profile import Plan

_COMPRESSED = [bytes(1 if b & 0xE0 == 0x80 | lt << 5 else 0 for b in range(256)) for lt in range(4)]
_ONE = b"\x01"


class Segment:
    """The data messages of one FIT segment (fitparse resets its definitions and timestamps per segment).

    ``reader`` is fastfit's Reader: the bytes, the wanted names, definitions and the output list."""

    def __init__(self, reader: Any, end: int) -> None:
        self.r, self.end = reader, end
        self.ts = 0
        self.chunk: list | None = None  # the Record list that the next record joins (records mode)

    def read(self, pos: int) -> int:
        """Read messages while fitparse's ``_bytes_left`` > 0; return the position after them."""
        r, end = self.r, self.end
        data, n = r.data, r.n
        local: dict[int, tuple] = {}
        accs: dict[int, dict] = {}
        while pos < end:
            if pos >= n:
                raise r.eof(1, 0)
            h = data[pos]
            if h & 0x80:
                ent = local.get((h >> 5) & 3)
                offset = h & 0x1F
            elif h & 0x40:
                pos = r.definition(pos, h, local, accs)
                continue
            else:
                ent = local.get(h & 0x0F)
                offset = -1
            if ent is None:
                raise FitParseError("Got data message with invalid local message type %d"
                                    % ((h >> 5) & 3 if h & 0x80 else h & 0x0F))
            plan, acc = ent
            if pos + 1 + plan.size > n:
                r.data_error(plan, pos + 1)
            r.read_any = True
            if plan.rec is not None:
                pos = self.records(plan, pos, h, offset)
            elif plan.conv is not None:
                pos = self.wanted(plan, acc, pos, offset)
            else:
                pos = self.skip(plan, pos, h, offset)
        return pos

    def add_records(self, recs: list | tuple) -> None:
        if not recs:
            return
        if self.chunk is None:
            self.chunk = []
            self.r.messages.append(("records", self.chunk))
        self.chunk.extend(recs)

    def records(self, plan: Plan, pos: int, h: int, offset: int) -> int:
        """One record message, or the run of same-definition records starting here, as Records."""
        r, rec = self.r, plan.rec
        stride = plan.size + 1
        nxt = pos + stride
        if nxt < self.end and nxt + stride <= r.n and (r.data[nxt] == h if offset < 0 else r.data[nxt] & 0xE0 == h & 0xE0):
            count = self.run_length(pos, h, stride)
            recs, self.ts = rec.many(r.data, pos, count, stride, self.ts, offset >= 0)
            self.add_records(recs)
            return pos + count * stride
        one, self.ts = rec.one(rec.unpack(r.data, pos + 1), self.ts, offset)
        if one is not None:
            self.add_records((one,))
        return nxt

    def wanted(self, plan: Plan, acc: dict | None, pos: int, offset: int) -> int:
        """One wanted message through its plan's generated conversion."""
        r = self.r
        v = plan.unpack(r.data, pos + 1)
        d = plan.conv(v, acc)
        for _off, i, bad, _u in plan.ts_fields:
            if v[i] != bad:
                self.ts = v[i]
        if offset >= 0:  # compressed timestamp header: fitparse's 5-bit accumulation
            self.ts = _accumulate(offset, self.ts)
            d["timestamp"] = _timestamp(self.ts)
        if plan.dev_raw is not None:  # fitparse registers before it yields the message
            r.register_dev(plan, v)
        if plan.rec is None and r.records and plan.name == "record":
            one = record_from_values(d)
            if one is not None:
                self.add_records((one,))
        else:
            r.messages.append((plan.name, d))
            self.chunk = None
        return pos + 1 + plan.size

    def skip(self, plan: Plan, pos: int, h: int, offset: int) -> int:
        """An unwanted message (or a run of them): only its timestamp and developer fields matter."""
        r = self.r
        start, stride = pos + 1, plan.size + 1
        if plan.dev_raw is not None:
            r.register_dev(plan, plan.unpack(r.data, start))
        elif offset < 0 and pos + 2 * stride <= r.n and pos + stride < self.end and r.data[pos + stride] == h:
            count = self.run_length(pos, h, stride)
            if plan.ts_fields:
                self.ts = self.last_ts(plan, pos, stride, count)
            return pos + count * stride
        for off, _i, bad, unpack in plan.ts_fields:
            t = unpack(r.data, start + off)[0]
            if t != bad:
                self.ts = t
        if offset >= 0:
            self.ts = _accumulate(offset, self.ts)
        return start + plan.size

    def run_length(self, pos: int, h: int, stride: int) -> int:
        """How many messages from ``pos`` on share its header byte (or, compressed, its local type)."""
        data = self.r.data
        most = min(-(-(self.end - pos) // stride), (self.r.n - pos) // stride)
        table = _COMPRESSED[(h >> 5) & 3] if h & 0x80 else None
        key = _ONE if table is not None else bytes((h,))
        k, window = 1, 16
        while k < most:
            w = min(window, most - k)
            heads = data[pos + k * stride:pos + (k + w) * stride:stride]
            if table is not None:
                heads = heads.translate(table)
            same = w - len(heads.lstrip(key))
            k += same
            if same < w:
                break
            window <<= 3
        return k

    def last_ts(self, plan: Plan, pos: int, stride: int, count: int) -> int:
        """The compressed-timestamp base after ``count`` skipped messages: their last valid timestamp."""
        for k in range(count - 1, -1, -1):
            base = pos + k * stride + 1
            valid = [t for off, _i, bad, unpack in plan.ts_fields if (t := unpack(self.r.data, base + off)[0]) != bad]
            if valid:
                return valid[-1]
        return self.ts


def _accumulate(offset: int, ts: int) -> int:
    base = offset + (ts & ~0x1F)
    return base + 0x20 if offset < (ts & 0x1F) else base


def _timestamp(ts: int):
    return utc(FIT_EPOCH + ts) if ts >= 0x10000000 else ts
