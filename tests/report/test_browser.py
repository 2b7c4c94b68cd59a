"""The report as a browser shows it: headless Chromium, light and dark, no console message, not empty."""

from __future__ import annotations

from pathlib import Path

import chromium
import png
from reportdata import Filled, filled  # noqa: F401 (the fixture)


def _report(filled: Filled, tmp_path: Path) -> Path:  # noqa: F811
    out = tmp_path / "report.html"
    result = filled.cli("report", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_report_renders_in_light_and_dark_without_console_messages(filled: Filled, tmp_path: Path) -> None:  # noqa: F811
    page = _report(filled, tmp_path)
    light = chromium.screenshot(page, tmp_path / "light.png", tmp_path, scale=0.5)
    dark = chromium.screenshot(page, tmp_path / "dark.png", tmp_path, dark=True, scale=0.5)
    for shot in (light, dark):
        assert shot.console == [], shot.console
        img = png.read(shot.png)
        assert (img.width, img.height) == (683, 450)
        # Ink on the page: headings, the calendar's cells and marks. An empty or blank page has none.
        assert img.share_unlike(img.pixel(2, 2)) > 0.01, f"{shot.png}: almost nothing drawn"  # about 2 % here
    light_bg, dark_bg = png.read(light.png).pixel(2, 2), png.read(dark.png).pixel(2, 2)
    assert sum(light_bg) > 3 * 200 and sum(dark_bg) < 3 * 60, (light_bg, dark_bg)  # prefers-color-scheme works


def test_the_pixel_check_fails_on_an_empty_page(tmp_path: Path) -> None:
    """The check above is not vacuous: an empty page and a page that only fetched things stay blank."""
    empty = tmp_path / "empty.html"
    empty.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"/><title>x</title></head><body></body></html>')
    shot = chromium.screenshot(empty, tmp_path / "empty.png", tmp_path, scale=0.5)
    img = png.read(shot.png)
    assert img.share_unlike(img.pixel(2, 2)) < 0.001


def test_a_fetch_is_blocked_and_reported_by_the_page_policy(tmp_path: Path) -> None:
    """Our Content-Security-Policy turns any fetch into a console message, which the test above forbids."""
    from cooldownd.report.page import CSP

    page = tmp_path / "fetch.html"
    page.write_text(f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{CSP}"/>'
                    '<title>x</title></head><body><img src="http://127.0.0.1:9/x.png"/></body></html>')
    shot = chromium.screenshot(page, tmp_path / "fetch.png", tmp_path, scale=0.5)
    assert any("Content Security Policy" in m for m in shot.console), shot.stderr[-2000:]
