"""Tiny SVG writing helpers for the report: escaped elements, an accessible frame, nice axis ticks.

Colours are never written here: elements get classes and the page's CSS colours them, so light
and dark mode (prefers-color-scheme) restyle every chart.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Iterable

_ids = itertools.count(1)


def esc(text: object) -> str:
    """Text for an element or attribute value."""
    return html.escape(str(text), quote=True)


def el(tag: str, body: str = "", **attrs: object) -> str:
    """``<tag a="1">body</tag>``; a trailing ``_`` in a name is dropped, ``__`` becomes ``-``; None skips.

    Floats are written to a tenth, except in ``data-`` attributes, which keep the stored value exactly.
    """
    parts = [tag]
    for name, value in attrs.items():
        if value is None:
            continue
        name = name.rstrip("_").replace("__", "-")
        if isinstance(value, float) and not name.startswith("data-"):  # geometry: a tenth of a pixel is plenty
            value = f"{value:.1f}"
        parts.append(f'{name}="{esc(value)}"')
    head = " ".join(parts)
    return f"<{head}>{body}</{tag}>" if body else f"<{head}/>"


def title(text: str) -> str:
    """A <title>: the tooltip, and the name a screen reader says for its parent."""
    return f"<title>{esc(text)}</title>"


def frame(kind: str, width: float, height: float, name: str, description: str, body: Iterable[str]) -> str:
    """An inline <svg> (role img) named by its <title> and described by its <desc>."""
    n = next(_ids)
    t, d = f"chart{n}-title", f"chart{n}-desc"
    head = (f'<svg class="chart {esc(kind)}" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
            f'height="{height:.0f}" role="img" aria-labelledby="{t} {d}" data-chart="{esc(kind)}">')
    return (head + f'<title id="{t}">{esc(name)}</title><desc id="{d}">{esc(description)}</desc>'
            + "".join(body) + "</svg>")


def ticks(lo: float, hi: float, count: int = 5, min_step: float = 1.0) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 2.5 or 5 times a power of ten apart, at least ``min_step``)."""
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = max(span / max(count, 1), min_step)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def path(points: Iterable[tuple[float, float] | None]) -> str:
    """An SVG path through ``points``; None breaks the line (a gap in the recording)."""
    out, pen = [], False
    for p in points:
        if p is None:
            pen = False
            continue
        out.append(f"{'L' if pen else 'M'}{p[0]:.1f},{p[1]:.1f}")
        pen = True
    return "".join(out)
