"""``hrv`` messages straight to (t, RR ms) pairs, a column at a time (records mode).

The rule is ``values.rr_at``: each number in an hrv message's ``time`` (seconds, fitparse's value:
the raw uint16 / the profile's scale, the invalid 0xFFFF as None) is an RR interval timed at the
last Record before the message, kept when plausible (``values.rr_kept``). For an hrv definition
whose only known field is a plain uint16 ``time`` (no developer fields, no strings: nothing fitparse
could raise on), ``rr_plan`` gives a reader of a run of its messages' raw columns into that same
rule, so a record/hrv alternation is read without a value dict per message (messages.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from struct import iter_unpack

from cooldownd.fit.values import rr_kept

_UINT16, _STRING, _BAD = 0x84, 0x07, 0xFFFF


@dataclass(frozen=True, slots=True)
class RrPlan:
    """Where an hrv definition keeps ``time``: ``n`` uint16 values at ``offset`` after the header byte."""

    offset: int
    n: int
    scale: object  # the profile's scale (1000: ms -> s)
    big: bool

    def column(self, data: bytes, start: int, count: int, stride: int, lead: int,
               times: list[float]) -> list[tuple[float, float]]:
        """(t, RR ms) of ``count`` messages ``stride`` bytes apart, the first one ``lead`` bytes after
        ``start`` (its header byte; a run of cycles starts at a record); ``times[k]``: the time of
        the last Record before message k. One ``iter_unpack`` over the run's bytes."""
        skip = lead + self.offset
        fmt = f"{'>' if self.big else '<'}{skip}x{self.n}H{stride - skip - 2 * self.n}x"
        rows = iter_unpack(fmt, data[start:start + count * stride])
        scale = self.scale
        return rr_kept([(t, float(u) / scale) for t, row in zip(times, rows) for u in row if u != _BAD])


def rr_plan(endian: str, items: list, n_regular: int) -> RrPlan | None:
    """The column reader of one hrv definition, or None where the value dicts must decide.

    ``items``: (var, value index, count, base type number, field, number, kind, bytes, offset) per
    field in definition order (profile.py)."""
    if n_regular != len(items):
        return None  # a developer field could be named "time"
    found = None
    for _var, _idx, n, btn, f, num, _kind, _size, off in items:
        if num == 253:
            return None  # a timestamp: the compressed-timestamp base moves (read message by message)
        if f is None:
            if btn == _STRING:
                return None
            continue
        if f.name != "time" or found is not None or btn != _UINT16:
            return None
        if not f.scale or f.offset or f.subfields or f.components or f.type.values:
            return None
        found = RrPlan(1 + off, n, f.scale, endian == ">")
    return found
