"""The table of workouts: our numbers, and the device's next to them where the file has its own."""

from __future__ import annotations

from collections.abc import Sequence

from cooldownd.core.wording import format_duration, level_word, sport_word
from cooldownd.report.calendar import GLYPHS, day_label
from cooldownd.report.model import SHORT, Entry
from cooldownd.report.svg import el, esc
from cooldownd.report.units import Units

# (summary key, header, decimals): a pair of columns (ours, the device's) each
PAIRS = (("avg_hr", "Avg HR", 0), ("max_hr", "Max HR", 0), ("np", "NP (W)", 0), ("if", "IF", 2), ("tss", "TSS", 0))


def _cell(key: str, value: object, units: Units, digits: int | None, src: str) -> str:
    if value is None:
        return el("td", "–", class_=f"num {src}", data__key=key, data__src=src)
    shown = format_duration(float(value)) if digits is None else units.number(float(value), digits)
    return el("td", esc(shown), class_=f"num {src}", data__key=key, data__src=src, data__value=value)


def _row(e: Entry, units: Units) -> str:
    s, dev = e.summary, e.summary.get("device") or {}
    what = sport_word(s.get("sport") or "generic", s.get("sub_sport") or "generic")
    cells = [el("td", esc(day_label(e.day)), data__key="start", data__value=s.get("start")),
             el("td", esc(what), data__key="sport", data__value=s.get("sport")),
             el("td", f'<span class="swatch lvl-{esc(e.level)}"></span>{esc(level_word(e.level))}',
                data__key="level", data__value=e.level, title=s.get("reason"))]  # why this level, on hover
    cells.append(_cell("duration_s", s.get("duration_s"), units, None, "ours"))
    cells.append(_cell("load", s.get("load"), units, 0, "ours"))
    for key, _, digits in PAIRS:
        cells.append(_cell(key, s.get(key), units, digits, "ours"))
        cells.append(_cell(key, dev.get(key), units, digits, "device"))
    distance = dev.get("distance_m")
    cells.append(el("td", esc(units.distance(distance)), class_="num device", data__key="distance_m",
                    data__src="device", data__value=distance))
    cells.append(_cell("hrr60", s.get("hrr60"), units, 0, "ours"))
    glyph = GLYPHS.get(e.outcome, "")
    cells.append(el("td", esc(f"{glyph} {SHORT[e.outcome]}".strip()), title=e.outcome_text,
                    data__key="walkthrough", data__value=e.outcome))
    return el("tr", "".join(cells), data__id=e.id)


def table(entries: Sequence[Entry], units: Units) -> str:
    """Newest first; the header row pairs "ours" with "device" under each metric."""
    top = ['<th scope="col" rowspan="2">Date</th>', '<th scope="col" rowspan="2">Sport</th>',
           '<th scope="col" rowspan="2">Level</th>', '<th scope="col" rowspan="2">Duration</th>',
           '<th scope="col" rowspan="2">Load</th>']
    top += [f'<th scope="colgroup" colspan="2">{esc(h)}</th>' for _, h, _ in PAIRS]
    top += ['<th scope="col" rowspan="2">Distance<br/>(device)</th>',
            '<th scope="col" rowspan="2"><abbr title="heart rate recovery one minute after the end, bpm">HRR60</abbr></th>', '<th scope="col" rowspan="2">Cool-down</th>']
    sub = "".join('<th scope="col" class="sub">ours</th><th scope="col" class="sub">device</th>' for _ in PAIRS)
    rows = "".join(_row(e, units) for e in sorted(entries, key=lambda e: e.start, reverse=True))
    return (f'<table class="workouts"><caption>Workouts, newest first: our numbers, and the recording '
            f'device\'s own where its file has them</caption><thead><tr>{"".join(top)}</tr><tr>{sub}</tr></thead>'
            f"<tbody>{rows}</tbody></table>")
