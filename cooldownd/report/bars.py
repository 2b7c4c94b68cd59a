"""Weekly bars: load stacked by level, and minutes stretched."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cooldownd.core.wording import level_word
from cooldownd.report.calendar import MONTHS, day_label
from cooldownd.report.model import LEVELS, Week
from cooldownd.report.svg import el, esc, frame, ticks, title

HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 220, 52, 12, 24, 36
MIN_BAR_W, MAX_BAR_W = 10, 44


def _plot(kind: str, name: str, weeks: Sequence[Week], stacks: Sequence[Sequence[tuple[str, float]]],
          unit: str, fmt: Callable[[float], str], desc: str) -> str:
    """A bar per week (stacked segments of (css class, value)); bars are <g class="bar">."""
    n = max(len(weeks), 1)
    bar_w = min(MAX_BAR_W, max(MIN_BAR_W, 640 / n))
    width = LEFT + n * bar_w + RIGHT
    top = max((sum(v for _, v in s) for s in stacks), default=0.0)
    marks = ticks(0, top or 1, 4)
    y_max = max(marks[-1], top or 1)

    def y(v: float) -> float:
        return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * v / y_max

    body = []
    for v in marks:
        body.append(el("line", x1=LEFT, x2=width - RIGHT, y1=y(v), y2=y(v), class_="grid"))
        body.append(el("text", esc(fmt(v)), x=LEFT - 6, y=y(v) + 4, class_="axis", text__anchor="end"))
    body.append(el("text", esc(unit), x=4, y=TOP - 12, class_="axis"))
    every = max(1, round(n / 8))  # a date under every few bars, never crowded
    for i, (week, stack) in enumerate(zip(weeks, stacks)):
        x = LEFT + i * bar_w
        total, segs, base = sum(v for _, v in stack), [], 0.0
        for cls, v in stack:
            if v > 0:
                segs.append(el("rect", x=x + 1, y=y(base + v), width=bar_w - 2, height=y(base) - y(base + v),
                               class_=cls))
                base += v
        tip = f"week of {day_label(week.first)}: {fmt(total)} {unit}"
        body.append(el("g", title(tip) + "".join(segs), class_="bar", data__week=week.first.isoformat(),
                       data__value=round(total, 1)))
        if i % every == 0:
            body.append(el("text", esc(f"{week.first.day} {MONTHS[week.first.month - 1]}"), x=x + bar_w / 2,
                           y=HEIGHT - BOTTOM + 16, class_="axis", text__anchor="middle"))
    return frame(kind, width, HEIGHT, name, desc, body)


def load_bars(weeks: Sequence[Week], fmt: Callable[[float], str]) -> str:
    """Weekly load on the TSS scale, each bar stacked by the level of its workouts."""
    stacks = [[(f"lvl lvl-{lv}", w.load.get(lv, 0.0)) for lv in LEVELS] for w in weeks]
    busiest = max(weeks, key=lambda w: w.total_load, default=None)
    desc = (f"{len(weeks)} weeks; total load {fmt(sum(w.total_load for w in weeks))}"
            + (f", highest in the week of {day_label(busiest.first)} ({fmt(busiest.total_load)})"
               if busiest and busiest.total_load else "")
            + ". Weekly values: " + "; ".join(f"{day_label(w.first)} {fmt(w.total_load)}" for w in weeks) + ".")
    return _plot("load", "Weekly load by level (" + ", ".join(level_word(lv) for lv in LEVELS) + ")", weeks,
                 stacks, "load", fmt, desc)


def stretch_bars(weeks: Sequence[Week], fmt: Callable[[float], str]) -> str:
    """Weekly minutes spent in cool-down walk-throughs."""
    stacks = [[("stretch", w.stretch_min)] for w in weeks]
    desc = (f"{len(weeks)} weeks; {fmt(sum(w.stretch_min for w in weeks))} minutes stretched in all. Weekly "
            "minutes: " + "; ".join(f"{day_label(w.first)} {fmt(w.stretch_min)}" for w in weeks) + ".")
    return _plot("stretch", "Minutes stretched per week", weeks, stacks, "min", fmt, desc)
