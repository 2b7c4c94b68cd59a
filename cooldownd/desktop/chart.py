"""The done card's picture: the workout's heart-rate curve with the cool-down marked, as SVG text.

Pure text building (``media.Pictures.raster_bytes`` renders it). Same look as the exercise
pictures: the light tile, dark ink for the curve, teal for the cool-down. No text (servers
scale the picture down to 64-128 px, where numbers would be noise): the card's body says them.
"""

from __future__ import annotations

from collections.abc import Sequence

INK, FILL, COOL, GRID, TILE = "#26384d", "#e6d9c6", "#5fa89c", "#ddd3c4", "#f6f2ea"
LEFT, RIGHT, TOP, BOTTOM = 20.0, 236.0, 44.0, 212.0
MIN_BAND = 20.0  # px: the narrowest the cool-down is drawn


def hr_chart(series: Sequence[tuple[int, int]], cooldown: tuple[float, float] | None = None,
             recovery: Sequence[tuple[int, int]] = ()) -> str | None:
    """SVG of ``series`` ((s from start, bpm)); ``cooldown`` is its (start, end) in the same seconds.

    ``recovery`` is heart rate recorded during the cool-down (the strap still worn), drawn in
    teal. Returns None when there is no curve to draw (fewer than two points).
    """
    if len(series) < 2:
        return None
    points = list(series) + list(recovery)
    t_end = max(t for t, _ in points)
    if cooldown is not None:
        t_end = max(t_end, cooldown[1])
    t_end = max(t_end, 1)
    lo = min(b for _, b in points)
    hi = max(b for _, b in points)
    lo, hi = min(lo, hi - 20) - 5, hi + 5  # a flat curve still gets some height

    def x(t: float) -> float:
        return LEFT + (RIGHT - LEFT) * t / t_end

    def y(bpm: float) -> float:
        return BOTTOM - (BOTTOM - TOP) * (bpm - lo) / (hi - lo)

    parts = [f'<rect x="2" y="2" width="252" height="252" rx="40" fill="{TILE}"/>']
    for frac in (0.25, 0.5, 0.75):  # quiet horizontal guides
        gy = TOP + (BOTTOM - TOP) * frac
        parts.append(f'<line x1="{LEFT}" y1="{gy:.0f}" x2="{RIGHT}" y2="{gy:.0f}" stroke="{GRID}" stroke-width="2"/>')
    if cooldown is not None:
        parts.append(_band(x(max(0.0, cooldown[0])), x(cooldown[1])))
    line = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in series)
    parts.append(f'<polygon points="{x(series[0][0]):.1f},{BOTTOM} {line} {x(series[-1][0]):.1f},{BOTTOM}" '
                 f'fill="{FILL}"/>')
    parts.append(f'<polyline points="{line}" fill="none" stroke="{INK}" stroke-width="6" '
                 'stroke-linejoin="round" stroke-linecap="round"/>')
    if len(recovery) >= 2:
        rline = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in recovery)
        parts.append(f'<polyline points="{rline}" fill="none" stroke="{COOL}" stroke-width="6" '
                     'stroke-linejoin="round" stroke-linecap="round"/>')
    peak_t, peak = max(series, key=lambda p: p[1])
    parts.append(f'<circle cx="{x(peak_t):.1f}" cy="{y(peak):.1f}" r="7" fill="#e0702f"/>')
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">'
            "<title>Heart rate of the workout, cool-down marked</title>" + "".join(parts) + "</svg>\n")


def _band(a: float, b: float) -> str:
    """The cool-down from x ``a`` to ``b``: a teal band over the plot and a bar under it."""
    if b - a < MIN_BAND:  # a few minutes after an hour's ride: still visible at 64 px
        a = min(a, RIGHT - MIN_BAND)
        b = max(b, a + MIN_BAND)
    return (f'<rect x="{a:.1f}" y="{TOP - 16:.0f}" width="{b - a:.1f}" height="{BOTTOM - TOP + 16:.0f}" '
            f'rx="6" fill="{COOL}" fill-opacity="0.28"/>'
            f'<line x1="{a + 5:.1f}" y1="{BOTTOM + 8:.0f}" x2="{b - 5:.1f}" y2="{BOTTOM + 8:.0f}" '
            f'stroke="{COOL}" stroke-width="10" stroke-linecap="round"/>')
