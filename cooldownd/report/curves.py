"""One workout's curves: heart rate over time with the zones shaded and HRR60 marked; the power curve."""

from __future__ import annotations

import math
from collections.abc import Callable

from cooldownd.core.series import Series
from cooldownd.core.wording import format_duration
from cooldownd.report.svg import el, esc, frame, path, ticks, title

W, H, LEFT, RIGHT, TOP, BOTTOM = 660, 250, 46, 34, 24, 34
MIN_SPAN_BPM = 30  # a steady effort still gets a readable axis
PEAK_WINDOW_S, HRR_S = 120, 60  # where the chart looks for the peak before the end, and the minute after it


def _minutes_ticks(span_s: float) -> list[int]:
    step = next(m for m in (5, 10, 15, 30, 60, 120) if span_s / 60 / m <= 8)
    return list(range(0, int(span_s / 60) + 1, step))


def _zone_shares(series: Series) -> list[float]:
    """Share of the recorded points (up to the end) in each zone."""
    counts = [0] * (len(series.zones_bpm) + 1)
    for v in series.hr[:series.end_index]:
        if v is not None:
            counts[sum(v >= z for z in series.zones_bpm)] += 1
    total = sum(counts) or 1
    return [c / total for c in counts]


def hr_chart(name: str, series: Series, hrr60: int | None) -> str | None:
    """Heart rate against minutes from the start; None when the series has no heart rate."""
    hr = series.hr
    seen = [v for v in hr if v is not None]
    if len(seen) < 2:
        return None
    step, end_i = series.step_s, series.end_index
    span = max(len(hr), end_i) * step
    lo, hi = min(seen) - 5, max(seen) + 5
    if hi - lo < MIN_SPAN_BPM:
        lo, hi = (lo + hi - MIN_SPAN_BPM) / 2, (lo + hi + MIN_SPAN_BPM) / 2

    def x(t: float) -> float:
        return LEFT + (W - LEFT - RIGHT) * t / span

    def y(v: float) -> float:
        return H - BOTTOM - (H - TOP - BOTTOM) * (min(max(v, lo), hi) - lo) / (hi - lo)

    body = _zones(series.zones_bpm, lo, hi, y)
    for v in ticks(lo, hi, 4, min_step=5):
        body.append(el("line", x1=LEFT, x2=W - RIGHT, y1=y(v), y2=y(v), class_="grid"))
        body.append(el("text", esc(f"{v:.0f}"), x=LEFT - 6, y=y(v) + 4, class_="axis", text__anchor="end"))
    for m in _minutes_ticks(span):
        body.append(el("text", esc(f"{m}′"), x=x(m * 60), y=H - BOTTOM + 16, class_="axis", text__anchor="middle"))
    body.append(el("text", "bpm", x=4, y=TOP - 10, class_="axis"))
    pts = [None if v is None else (x(i * step + step / 2), y(v)) for i, v in enumerate(hr)]
    body.append(el("path", d=path(pts[:end_i]), class_="hr-line"))
    if len(pts) > end_i:
        body.append(el("path", d=path(pts[end_i - 1:]), class_="hr-tail"))
    body.append(el("line", x1=x(end_i * step), x2=x(end_i * step), y1=TOP, y2=H - BOTTOM, class_="end-line"))
    body.append(el("text", "end", x=x(end_i * step), y=TOP - 10, class_="axis", text__anchor="middle"))
    marked = _hrr60(series, hrr60, x, y)
    body.append(marked)
    shares = _zone_shares(series)
    desc = (f"Heart rate from {min(seen)} to {max(seen)} bpm over {format_duration(end_i * step)}"
            + ("; time in zones " + ", ".join(f"Z{i + 1} {round(100 * s)} %" for i, s in enumerate(shares))
               if series.zones_bpm else "")
            + (f"; heart rate recovery one minute after the end (HRR60): {hrr60} bpm" if hrr60 is not None
               else "; no heart rate recovery measured") + ".")
    return frame("hr", W, H, f"Heart rate: {name}", desc, body)


def _zones(bounds: tuple[int, ...], lo: float, hi: float, y: Callable[[float], float]) -> list[str]:
    edges = [lo, *[b for b in bounds], hi]
    out = []
    for i, (a, b) in enumerate(zip(edges, edges[1:])):
        a, b = max(a, lo), min(b, hi)
        if b <= a:
            continue
        out.append(el("rect", title(f"zone {i + 1}: {a:.0f}-{b:.0f} bpm"), x=LEFT, y=y(b), width=W - LEFT - RIGHT,
                      height=y(a) - y(b), class_=f"zone zone-{i + 1}"))
        if y(a) - y(b) >= 12:
            out.append(el("text", f"Z{i + 1}", x=W - RIGHT + 4, y=(y(a) + y(b)) / 2 + 4, class_="axis"))
    return out


def _hrr60(series: Series, hrr60: int | None, x: Callable[[float], float], y: Callable[[float], float]) -> str:
    """A bracket from the peak of the effort's last minutes down ``hrr60`` bpm, drawn where the curve has
    come down that far; a label alone when the stored curve never does (the device measured it, or the
    strap stayed on off the record). The number is the recorder's; the chart only shows where it lies."""
    if hrr60 is None:
        return ""
    step, end_i, hr = series.step_s, series.end_index, series.hr
    label = f"HRR60 {hrr60} bpm"
    near_end = [(v, i) for i in range(max(0, end_i - math.ceil(PEAK_WINDOW_S / step)), min(end_i, len(hr)))
                if (v := hr[i]) is not None]
    if near_end:
        peak, peak_i = max(near_end)  # the highest, of equal ones the latest
        low = next((i for i in range(peak_i + 1, len(hr)) if hr[i] is not None and hr[i] <= peak - hrr60 + 2), None)
        if low is not None and (low - peak_i) * step <= 2 * HRR_S:
            t0, t1 = peak_i * step + step / 2, low * step + step / 2
            return el("g", title(f"heart rate recovery: {hrr60} bpm down from the peak a minute later")
                      + el("line", x1=x(t0), x2=x(t1), y1=y(peak), y2=y(peak), class_="hrr-guide")
                      + el("line", x1=x(t1), x2=x(t1), y1=y(peak), y2=y(peak - hrr60), class_="hrr")
                      + el("circle", cx=x(t1), cy=y(peak - hrr60), r=4, class_="hrr-dot")
                      + el("text", esc(label), x=x(t1) + (6 if x(t1) < W / 2 else -8), y=y(peak - hrr60 / 2) + 4,
                           class_="hrr-label", text__anchor="start" if x(t1) < W / 2 else "end"),
                      class_="hrr60", data__value=hrr60)
    return el("g", title("heart rate recovery one minute after the peak")
              + el("text", esc(label), x=x(end_i * step) - 6, y=TOP + 14, class_="hrr-label", text__anchor="end"),
              class_="hrr60", data__value=hrr60)


def _duration_label(s: int) -> str:
    return f"{s} s" if s < 60 else f"{s // 60} min" if s < 3600 else f"{s // 3600} h" if s % 3600 == 0 else \
        f"{s / 3600:.1f} h"


def power_curve(name: str, series: Series, fmt: Callable[[float], str]) -> str | None:
    """Best mean power for each duration (log scale); None without power."""
    mmp = series.mmp
    if len(mmp) < 2:
        return None
    w, h = 340, H
    d0, d1 = math.log(mmp[0][0]), math.log(mmp[-1][0])
    top = max(p for _, p in mmp)
    marks = ticks(0, top * 1.05, 4, min_step=10)
    y_max = max(marks[-1], top)

    def x(d: float) -> float:
        return LEFT + (w - LEFT - 16) * (math.log(d) - d0) / (d1 - d0)

    def y(v: float) -> float:
        return h - BOTTOM - (h - TOP - BOTTOM) * v / y_max

    body = []
    for v in marks:
        body.append(el("line", x1=LEFT, x2=w - 16, y1=y(v), y2=y(v), class_="grid"))
        body.append(el("text", esc(f"{v:.0f}"), x=LEFT - 6, y=y(v) + 4, class_="axis", text__anchor="end"))
    body.append(el("text", "W", x=4, y=TOP - 10, class_="axis"))
    body.append(el("path", d=path((x(d), y(p)) for d, p in mmp), class_="power-line"))
    for d, p in mmp:
        body.append(el("g", title(f"best {_duration_label(d)}: {fmt(p)} W")
                       + el("circle", cx=x(d), cy=y(p), r=3.5, class_="power-dot"), class_="point"))
        if d in (5, 60, 300, 1200, 3600):
            body.append(el("text", esc(_duration_label(d)), x=x(d), y=h - BOTTOM + 16, class_="axis",
                           text__anchor="middle"))
    desc = "Best mean power: " + ", ".join(f"{_duration_label(d)} {fmt(p)} W" for d, p in mmp) + "."
    return frame("power", w, h, f"Power curve: {name}", desc, body)
