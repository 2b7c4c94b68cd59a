"""Two records of one training session: when they are the same session, and which copy is richer.

The one rule both sources use (a file import and the live strap, through ``record.recorder``).
Two records are the same session when they start within about a minute of each other (or a tenth
of the shorter one: a strap's warm-up starts the live record late), end as close, and are the
same sport family. A copy cut short (a truncated file, ``partial``) says nothing about the end:
the other copy only has to reach at least as far. Anything else is a separate workout, however the spans
overlap: a watch left running for 27 days does not swallow the rides inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from operator import is_not, itemgetter

from cooldownd.core.model import Workout

SAME_START_S = 90.0  # two devices started by hand, or a strap's warm-up before the live start
SAME_SHARE = 0.1  # ... or this share of the shorter record, for long sessions
# Sports a recorder may not know: a strap says nothing, a gym machine could be any of them.
_ANY_SPORT = frozenset({"", "generic", "all", "fitness_equipment"})
_FAMILY = {"e_biking": "cycling", "e_mountain_biking": "cycling", "virtual_activity": "cycling"}


@dataclass(frozen=True, slots=True)
class Span:
    """What the rule looks at: the record's time span, its sport, and whether it was cut short."""

    start: float
    end: float
    sport: str
    partial: bool = False


def _family(sport: str) -> str:
    return _FAMILY.get(sport, sport)


def same_family(a: str, b: str) -> bool:
    """True when two FIT sports can be one session (``generic`` matches any)."""
    return a in _ANY_SPORT or b in _ANY_SPORT or _family(a) == _family(b)


def _slack(a: Span, b: Span) -> float:
    return max(SAME_START_S, SAME_SHARE * min(a.end - a.start, b.end - b.start))


def start_window(span: Span) -> tuple[float, float]:
    """The start times another record needs to be the same session as ``span`` (for a store lookup)."""
    slack = max(SAME_START_S, SAME_SHARE * (span.end - span.start))
    return span.start - slack, span.start + slack


def same_session(a: Span, b: Span) -> bool:
    """True when ``a`` and ``b`` are two records of one training session (see the module doc)."""
    if not same_family(a.sport, b.sport):
        return False
    slack = _slack(a, b)
    if abs(a.start - b.start) > slack:
        return False
    if a.partial or b.partial:
        # A copy cut short ends where it was cut: the other must reach at least that far.
        return all(o.end >= p.end - slack for p, o in ((a, b), (b, a)) if p.partial)
    return abs(a.end - b.end) <= slack


def richness(w: Workout) -> float:
    """Which of two records of one session to keep: power, then device numbers, then more records."""
    has_power = any(map(is_not, map(itemgetter(2), w.records), repeat(None)))  # a Record.power not None
    has_device = w.device.avg_hr is not None or w.device.timer_s is not None
    return 2e7 * has_power + 1e7 * has_device + min(len(w.records), 9_999_999)
