"""The data messages of one FIT segment, for fastfit's reader: records, wanted messages, skipped ones.

A record definition with a Record path (records mode) reads a run of its consecutive messages
(same header byte, or compressed headers of the same local type: found with one stepped slice of
the header bytes) in one call; an unwanted definition skips such a run in one step, reading only
its last valid timestamp (the base of later compressed-timestamp headers). Records that alternate
with another message (each followed by one ``hrv``, or by a few unwanted messages of one
definition: devices interleave them every second) are read the same way, as a run of cycles.

In records mode the output holds ``("records", [Record, ...])`` chunks and ``("rr", [(t, RR ms),
...])`` chunks (an hrv message's intervals, timed at the last Record before it: values.rr_at);
each chunk grows until another kind of wanted message comes, exactly as decode._Compact groups
fitparse's messages.
"""

from __future__ import annotations

from typing import Any

from fitparse.utils import FitParseError

from cooldownd.fit.codegen import utc
from cooldownd.fit.columns import FIT_EPOCH, record_from_values
from cooldownd.fit.profile import HUGE, Plan
from cooldownd.fit.values import rr_at

_COMPRESSED = [bytes(1 if b & 0xE0 == 0x80 | lt << 5 else 0 for b in range(256)) for lt in range(4)]
_ONE = b"\x01"


class Segment:
    """The data messages of one FIT segment (fitparse resets its definitions and timestamps per segment).

    ``reader`` is fastfit's Reader: the bytes, the wanted names, definitions and the output list."""

    def __init__(self, reader: Any, end: int) -> None:
        self.r, self.end = reader, end
        self.ts = 0
        self.chunk: list | None = None  # the Record list that the next record joins (records mode)
        self.rr: list | None = None  # the (t, RR ms) list that the next hrv joins (records mode)
        self.local: dict[int, tuple] = {}
        self.plain_until = 0  # records before this position are read one by one (``cycles`` gave up on them)

    def read(self, pos: int) -> int:
        """Read messages while fitparse's ``_bytes_left`` > 0; return the position after them."""
        r, end = self.r, self.end
        data, n = r.data, r.n
        local = self.local
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
            elif plan.rr is not None and offset < 0:
                pos = self.hrvs(plan, pos, h)
            elif plan.conv is not None:
                pos = self.wanted(plan, acc, pos, offset)
            else:
                pos = self.skip(plan, pos, h, offset)
        return pos

    def add_records(self, recs: list | tuple) -> None:
        if recs:
            self.chunk = self.grow("records", self.chunk, recs)
            self.r.last_t = recs[-1].t

    def add_rr(self, pairs: list) -> None:
        if pairs:
            self.rr = self.grow("rr", self.rr, pairs)

    def grow(self, kind: str, chunk: list | None, items: list | tuple) -> list:
        """The open chunk of ``kind`` with ``items`` added (a new one in the output when none is open)."""
        if chunk is None:
            chunk = []
            self.r.messages.append((kind, chunk))
        chunk.extend(items)
        return chunk

    def records(self, plan: Plan, pos: int, h: int, offset: int) -> int:
        """One record message, or the run of same-definition records (or of cycles) starting here."""
        r, rec = self.r, plan.rec
        stride = plan.size + 1
        nxt = pos + stride
        if nxt < self.end and nxt + stride <= r.n:
            h2 = r.data[nxt]
            if h2 == h if offset < 0 else h2 & 0xE0 == h & 0xE0:
                count = self.run_length(pos, h, stride)
                recs, self.ts = rec.many(r.data, pos, count, stride, self.ts, offset >= 0)
                self.add_records(recs)
                return pos + count * stride
            if not h2 & 0xC0 and pos >= self.plain_until and (after := self.cycles(plan, pos, h, offset, h2)):
                return after
        one, self.ts = rec.one(rec.unpack(r.data, pos + 1), self.ts, offset)
        if one is not None:
            if self.chunk is None:
                self.add_records((one,))
            else:
                self.chunk.append(one)
                r.last_t = one.t
        return nxt

    def hrvs(self, plan: Plan, pos: int, h: int) -> int:
        """One hrv message, or the run of same-definition ones starting here, as (t, RR ms) pairs."""
        stride, r = plan.size + 1, self.r
        nxt = pos + stride
        count = self.run_length(pos, h, stride) if nxt < self.end and nxt + stride <= r.n and r.data[nxt] == h else 1
        self.add_rr(plan.rr.column(r.data, pos, count, stride, 0, [r.last_t] * count))
        return pos + count * stride

    def cycles(self, plan: Plan, pos: int, h: int, offset: int, h2: int) -> int:
        """Records each followed by one hrv or by ``m`` unwanted messages of one definition, read as a
        run of such cycles; the position after them, or 0 when there are not two (message by message)."""
        other = self.local.get(h2 & 0x0F, (None,))[0]
        if other is None or other.size >= HUGE or other.rec is not None or other.dev_raw is not None:
            return 0
        if other.conv is not None and other.rr is None or other.ts_fields and offset >= 0:
            return 0  # a wanted message read by dicts; timestamps between compressed ones
        data, s1, s2 = self.r.data, plan.size + 1, other.size + 1
        m, limit = 1, min(self.end, self.r.n)
        while other.rr is None and m < 16 and pos + s1 + (m + 1) * s2 <= limit and data[pos + s1 + m * s2] == h2:
            m += 1
        stride = s1 + m * s2
        if pos + 2 * stride > limit or (data[pos + stride] != h if offset < 0 else data[pos + stride] & 0xE0 != h & 0xE0):
            return 0  # no second cycle
        count = self.run_length(pos, h, stride, (limit - pos) // stride)
        for j in range(m):
            count = min(count, self.run_length(pos + s1 + j * s2, h2, stride, count)) if count > 1 else 0
        if count < 2:
            return 0
        recs, ts = plan.rec.many(data, pos, count, stride, self.ts, offset >= 0)
        if other.rr is not None and len(recs) != count:  # a record without a time: its hrv is timed by an earlier one
            self.plain_until = pos + count * stride  # read message by message (and not tried again)
            return 0
        self.add_records(recs)  # first: a new chunk of each kind comes in file order
        if other.rr is not None:
            self.add_rr(other.rr.column(data, pos, count, stride, s1, [x.t for x in recs]))
        self.ts = self.cycle_ts(plan, other, pos, count, (stride, s1, s2, m)) if other.ts_fields else ts
        return pos + count * stride

    def cycle_ts(self, plan: Plan, other: Plan, pos: int, count: int, shape: tuple) -> int:
        """The timestamp base after ``count`` cycles of normal headers: the last valid timestamp in them."""
        stride, s1, s2, m = shape
        for k in range(count - 1, -1, -1):
            base = pos + k * stride
            for j in range(m - 1, -1, -1):
                if (t := self.last_ts(other, base + s1 + j * s2, s2, 1)) is not None:
                    return t
            if (t := self.last_ts(plan, base, s1, 1)) is not None:
                return t
        return self.ts

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
        elif r.records and plan.name == "hrv":
            self.add_rr(rr_at(((r.last_t, d),)))
        else:
            r.messages.append((plan.name, d))
            self.chunk = self.rr = None
        return pos + 1 + plan.size

    def skip(self, plan: Plan, pos: int, h: int, offset: int) -> int:
        """An unwanted message (or a run of them): only its timestamp and developer fields matter."""
        r = self.r
        start, stride = pos + 1, plan.size + 1
        if plan.dev_raw is not None:
            r.register_dev(plan, plan.unpack(r.data, start))
        elif offset < 0 and pos + 2 * stride <= r.n and pos + stride < self.end and r.data[pos + stride] == h:
            count = self.run_length(pos, h, stride)
            if plan.ts_fields and (last := self.last_ts(plan, pos, stride, count)) is not None:
                self.ts = last
            return pos + count * stride
        for off, _i, bad, unpack in plan.ts_fields:
            t = unpack(r.data, start + off)[0]
            if t != bad:
                self.ts = t
        if offset >= 0:
            self.ts = _accumulate(offset, self.ts)
        return start + plan.size

    def run_length(self, pos: int, h: int, stride: int, most: int = -1) -> int:
        """How many messages ``stride`` bytes apart from ``pos`` on (at most ``most``) share its header
        byte (or, compressed, its local type)."""
        data = self.r.data
        if most < 0:
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

    def last_ts(self, plan: Plan, pos: int, stride: int, count: int) -> int | None:
        """The compressed-timestamp base after ``count`` skipped messages: their last valid timestamp
        (None when none of them holds one)."""
        for k in range(count - 1, -1, -1):
            base = pos + k * stride + 1
            valid = [t for off, _i, bad, unpack in plan.ts_fields if (t := unpack(self.r.data, base + off)[0]) != bad]
            if valid:
                return valid[-1]
        return None


def _accumulate(offset: int, ts: int) -> int:
    base = offset + (ts & ~0x1F)
    return base + 0x20 if offset < (ts & 0x1F) else base


def _timestamp(ts: int):
    return utc(FIT_EPOCH + ts) if ts >= 0x10000000 else ts
