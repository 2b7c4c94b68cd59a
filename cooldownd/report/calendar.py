"""The calendar of the last weeks: one mark per workout, sized by load, coloured by level, with its cool-down."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from cooldownd.core.wording import format_duration, level_word, sport_word
from cooldownd.report.model import Entry, week_start
from cooldownd.report.svg import el, esc, frame, title

CELL_W, CELL_H, LEFT, TOP = 64, 54, 84, 26
MAX_LOAD = 300.0  # a mark's area grows with load up to here
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A glyph under each mark, so the cool-down never depends on colour alone.
GLYPHS = {"done": "✓", "stopped": "½", "snoozed": "z", "skipped": "–", "missed": "!", "pending": "…", "none": ""}


def day_label(day: dt.date) -> str:
    """ "Sat 4 May"."""
    return f"{DAY_NAMES[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"


def describe(e: Entry) -> str:
    """One line about a workout and its cool-down (a mark's tooltip)."""
    s = e.summary
    what = sport_word(s.get("sport") or "generic", s.get("sub_sport") or "generic")
    load = f", load {round(e.load)}" if s.get("load") is not None else ""
    return (f"{day_label(e.day)}: {level_word(e.level)} {what}, {format_duration(s.get('duration_s') or 0)}"
            f"{load}: {e.outcome_text}")


def radius(load: float, crowd: int) -> float:
    """Area proportional to load (3 px at rest, 15 px at MAX_LOAD), smaller when a day has several."""
    r = 3 + 12 * math.sqrt(min(max(load, 0.0), MAX_LOAD) / MAX_LOAD)
    return r / math.sqrt(crowd) if crowd > 1 else r


def calendar(entries: Sequence[Entry], first: dt.date, last: dt.date, today: dt.date, sunday_first: bool,
             streak: tuple[int, int]) -> str:
    """The calendar SVG from ``first``'s week to ``last``'s, newest week at the bottom."""
    start = week_start(first, sunday_first)
    rows = (week_start(last, sunday_first) - start).days // 7 + 1
    names = DAY_NAMES[-1:] + DAY_NAMES[:-1] if sunday_first else DAY_NAMES
    body = [el("text", esc(n), x=LEFT + (i + 0.5) * CELL_W, y=16, class_="axis", text__anchor="middle")
            for i, n in enumerate(names)]
    for r in range(rows):
        monday = start + dt.timedelta(weeks=r)
        year = f" {monday.year}" if r == 0 or (monday.month == 1 and monday.day <= 7) else ""  # where it changes
        body.append(el("text", esc(f"{monday.day} {MONTHS[monday.month - 1]}{year}"), x=LEFT - 8,
                       y=TOP + r * CELL_H + CELL_H / 2 + 4, class_="axis", text__anchor="end"))
        for c in range(7):
            day = monday + dt.timedelta(days=c)
            cls = "day today" if day == today else "day" if first <= day <= last else "day outside"
            body.append(el("rect", title(day_label(day)), x=LEFT + c * CELL_W + 1, y=TOP + r * CELL_H + 1,
                           width=CELL_W - 2, height=CELL_H - 2, rx=6, class_=cls))
    by_day: dict[dt.date, list[Entry]] = {}
    for e in sorted(entries, key=lambda e: e.start):
        if first <= e.day <= last:
            by_day.setdefault(e.day, []).append(e)
    for day, todays in by_day.items():
        offset = (day - start).days
        x0, y0 = LEFT + (offset % 7) * CELL_W, TOP + (offset // 7) * CELL_H
        for j, e in enumerate(todays):
            cx = x0 + CELL_W * (j + 1) / (len(todays) + 1)
            body.append(_mark(e, cx, y0 + 22, radius(e.load, len(todays))))
    marks = sum(map(len, by_day.values()))
    done = sum(e.outcome == "done" for v in by_day.values() for e in v)
    desc = (f"{rows} weeks from {day_label(start)} to {day_label(last)}: {marks} workouts, {done} followed by a "
            f"finished cool-down. Current streak: {streak[0]} hard sessions in a row followed by a cool-down "
            f"(best {streak[1]}). Each workout is listed in the table below.")
    return frame("calendar", LEFT + 7 * CELL_W + 8, TOP + rows * CELL_H + 4, "Calendar of workouts and cool-downs",
                 desc, body)


def _mark(e: Entry, cx: float, cy: float, r: float) -> str:
    glyph = GLYPHS.get(e.outcome, "")
    inner = title(describe(e)) + el("circle", cx=cx, cy=cy, r=r, class_=f"lvl lvl-{e.level}")
    if glyph:
        inner += el("text", esc(glyph), x=cx, y=cy + 26, class_=f"glyph out-{e.outcome}", text__anchor="middle")
    return el("g", inner, class_="mark", data__id=e.id, data__outcome=e.outcome, data__level=e.level)
