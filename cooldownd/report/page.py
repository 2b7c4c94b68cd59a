"""The report page: sections around the charts, one inline stylesheet (light and dark), no script."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cooldownd.core.series import Series
from cooldownd.report import bars, calendar, curves
from cooldownd.report.calendar import GLYPHS, describe
from cooldownd.report.model import LEVELS, Entry, Week
from cooldownd.report.svg import esc
from cooldownd.report.table import table
from cooldownd.report.units import Units
from cooldownd.core.wording import level_word

# The page fetches nothing: a browser blocks (and reports) any script, font, image or style from elsewhere.
CSP = "default-src 'none'; style-src 'unsafe-inline'"
RECENT = 5  # workouts with their curves drawn
MAX_WEEKS = 53  # the calendar and the bars show at most the range's last year; the table lists all

CSS = """
:root{color-scheme:light dark;--bg:#fbfaf7;--fg:#1d2733;--muted:#56616c;--grid:#e2ded6;--cell:#f0ece4;
--today:#1d2733;--light:#6fae6c;--moderate:#3b87c4;--hard:#dd7f22;--very_hard:#c0364c;--stretch:#2a9d8f;
--z1:#8fb8de;--z2:#7cc0a4;--z3:#e3c45a;--z4:#e8975a;--z5:#db6b6b;--line:#1d2733;--tail:#2a9d8f;--hrr:#c0364c}
@media (prefers-color-scheme:dark){:root{--bg:#14181d;--fg:#e4e8ec;--muted:#a3adb7;--grid:#2c333b;
--cell:#1f252c;--today:#e4e8ec;--light:#85c782;--moderate:#5ba7e3;--hard:#f0a050;--very_hard:#ec6a7f;
--stretch:#4cc3b4;--line:#e4e8ec;--tail:#4cc3b4;--hrr:#ff8a9b}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Cantarell,
"Noto Sans",sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.25rem;margin:36px 0 8px}h3{font-size:1.05rem;margin:20px 0 6px}
p.lead,.note{color:var(--muted);margin:0 0 12px}
.streak{font-size:1.1rem;margin:8px 0 12px}.streak strong{font-size:1.5rem}
svg.chart{display:block;max-width:100%;height:auto;margin:8px 0}
svg text{font-size:12px;font-family:inherit}
.axis{fill:var(--muted)}.grid{stroke:var(--grid);stroke-width:1}
.day{fill:var(--cell)}.day.outside{fill:none;stroke:var(--grid);stroke-dasharray:3 3}
.day.today{stroke:var(--today);stroke-width:2}
.lvl-light{fill:var(--light)}.lvl-moderate{fill:var(--moderate)}.lvl-hard{fill:var(--hard)}
.lvl-very_hard{fill:var(--very_hard)}.stretch{fill:var(--stretch)}
.glyph{fill:var(--fg);font-weight:700}
.zone{fill-opacity:.22}.zone-1{fill:var(--z1)}.zone-2{fill:var(--z2)}.zone-3{fill:var(--z3)}
.zone-4{fill:var(--z4)}.zone-5{fill:var(--z5)}
.hr-line{fill:none;stroke:var(--line);stroke-width:2;stroke-linejoin:round}
.hr-tail{fill:none;stroke:var(--tail);stroke-width:2.5;stroke-dasharray:5 3}
.end-line{stroke:var(--muted);stroke-dasharray:2 3}
.hrr{stroke:var(--hrr);stroke-width:3}.hrr-guide{stroke:var(--hrr);stroke-dasharray:3 3}.hrr-dot{fill:var(--hrr)}.hrr-label{fill:var(--hrr);font-weight:700}
.power-line{fill:none;stroke:var(--hard);stroke-width:2.5}.power-dot{fill:var(--hard)}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;padding:0;margin:4px 0 0;list-style:none;color:var(--muted);
font-size:.9rem}
.swatch{display:inline-block;width:12px;height:12px;border-radius:50%;margin-right:6px;vertical-align:-1px}
.swatch.lvl-light{background:var(--light)}.swatch.lvl-moderate{background:var(--moderate)}
.swatch.lvl-hard{background:var(--hard)}.swatch.lvl-very_hard{background:var(--very_hard)}
.charts{display:flex;flex-wrap:wrap;gap:8px 24px;align-items:flex-start}
.scroll{overflow-x:auto}
table.workouts{border-collapse:collapse;font-size:.8125rem}
caption{text-align:left;color:var(--muted);padding:4px 0 8px}
th,td{padding:3px 5px;border-bottom:1px solid var(--grid);text-align:left;white-space:nowrap}
th{font-weight:600}th.sub{font-weight:400;color:var(--muted)}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.device{color:var(--muted)}
.figure{margin:0 0 12px}
"""


@dataclass(frozen=True, slots=True)
class Page:
    """Everything the page shows."""

    entries: Sequence[Entry]  # the workouts in the range
    weeks: Sequence[Week]  # the calendar's and the bars' weeks (at most the last MAX_WEEKS of the range)
    series: Mapping[int, Series]  # the recent workouts' time lines
    first: dt.date
    last: dt.date
    today: dt.date
    streak: tuple[int, int]
    generated: str  # local time, for the header
    units: Units


def _legend() -> str:
    levels = "".join(f'<li><span class="swatch lvl-{lv}"></span>{esc(level_word(lv))}</li>' for lv in LEVELS)
    glyphs = "".join(f"<li><strong>{esc(g)}</strong> {esc(k)}</li>" for k, g in GLYPHS.items() if g)
    return (f'<ul class="legend" aria-label="levels">{levels}<li>larger mark: higher load</li></ul>'
            f'<ul class="legend" aria-label="cool-downs">{glyphs}</ul>')


def _recent(p: Page) -> str:
    shown = [e for e in sorted(p.entries, key=lambda e: e.start, reverse=True) if e.id in p.series][:RECENT]
    if not shown:
        return '<p class="note">No heart-rate or power recordings in this period.</p>'
    out = []
    for e in shown:
        name = describe(e)
        charts = [curves.hr_chart(name, p.series[e.id], e.summary.get("hrr60")),
                  curves.power_curve(name, p.series[e.id], lambda v: p.units.number(v))]
        out.append(f'<figure class="figure"><h3>{esc(name)}</h3><div class="charts">'
                   + "".join(c for c in charts if c) + "</div></figure>")
    return "".join(out)


def render(p: Page) -> str:
    """The whole HTML document."""
    num = p.units.number
    current, best = p.streak
    streak = (f'<p class="streak"><strong>{current}</strong> hard session{"s" if current != 1 else ""} in a row '
              f'followed by a cool-down (best: {best})</p>')
    cal_first = max(p.first, p.weeks[0].first) if p.weeks else p.first
    cut = (f'<p class="note">The calendar and the weekly bars show the last {len(p.weeks)} weeks; the table '
           "lists every workout since the first day.</p>") if cal_first > p.first else ""
    empty = "" if p.entries else '<p class="note">No workouts in this period.</p>'
    sections = [
        '<section aria-labelledby="h-cal"><h2 id="h-cal">Calendar</h2>', streak, empty, cut,
        calendar.calendar(p.entries, cal_first, p.last, p.today, p.units.sunday_first, p.streak), _legend(),
        "</section>",
        '<section aria-labelledby="h-weeks"><h2 id="h-weeks">Weekly load and minutes stretched</h2>',
        '<div class="charts scroll">', bars.load_bars(p.weeks, lambda v: num(v)),
        bars.stretch_bars(p.weeks, lambda v: num(v)), "</div></section>",
        '<section aria-labelledby="h-recent"><h2 id="h-recent">Recent workouts</h2>'
        '<p class="note">Heart rate with the zones shaded; dashed: after the end, where the strap stayed on. '
        'The red bracket: the heart-rate recovery, how far it fell in the minute after the peak (HRR60). Power '
        'files add the power curve: the best mean power for each duration.</p>',
        _recent(p), "</section>",
        '<section aria-labelledby="h-table"><h2 id="h-table">All workouts</h2><div class="scroll">',
        table(p.entries, p.units), "</div></section>",
    ]
    head = (f"<h1>cooldownd report</h1><p class=\"lead\">{esc(calendar.day_label(p.first))} {p.first.year} to "
            f"{esc(calendar.day_label(p.last))} {p.last.year}: {len(p.entries)} workouts. "
            f"Written {esc(p.generated)}.</p>")
    # Void elements are closed (<meta/>) so the page is also well-formed XML: tests parse it strictly.
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}"/>'
            '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
            '<meta name="color-scheme" content="light dark"/>'
            f"<title>cooldownd report</title><style>{CSS}</style></head><body><main>{head}"
            + "".join(sections) + "</main></body></html>\n")
