"""The pictures: our SVG art, rendered once to PNG in the cache, per exercise and side; the chart."""

from __future__ import annotations

import hashlib
import logging
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from cooldownd.core import hrcurve
from cooldownd.desktop.chart import hr_chart
from cooldownd.desktop.media import NEUTRAL, Pictures, asset, asset_name
from cooldownd.routinefile import load_library

ROOT = Path(__file__).resolve().parents[2]
needs_rsvg = pytest.mark.skipif(not shutil.which("rsvg-convert"), reason="needs apt librsvg2-bin (tests/run installs it)")
SIX = {  # the seed's six exercises, as config/routines.toml names them, with their sides
    "knees_to_chest": ("left", "right", "both"), "cat": (None,), "child_pose": (None,),
    "lumbar_press": (None,), "trapezius": ("left", "right"), "turns": ("right", "left"),
}


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_drawing_script_wrote_the_shipped_files(tmp_path):
    """The SVGs in the package are exactly what tools/draw_figures.py draws (no hand edits that drift)."""
    subprocess.run([sys.executable, str(ROOT / "tools" / "draw_figures.py"), str(tmp_path)], check=True,
                   capture_output=True)
    drawn = sorted(p.name for p in tmp_path.glob("*.svg"))
    assert drawn and drawn == sorted(p.name for p in (ROOT / "cooldownd" / "assets").glob("*.svg"))
    for name in drawn:
        assert (tmp_path / name).read_bytes() == asset(name).read_bytes(), name


def test_every_exercise_of_the_routines_has_its_own_picture():
    library = load_library()
    assert set(library.exercises) == set(SIX)
    for name, sides in SIX.items():
        for side in sides:
            assert asset_name(name, side) != NEUTRAL, (name, side)
    assert asset_name("cobra") == NEUTRAL and asset_name("cobra", "left") == NEUTRAL
    assert asset_name("knees_to_chest", "both") == "knees_to_chest_both.svg"
    assert asset_name("cat", None) == "cat.svg"


@needs_rsvg
def test_pictures_are_valid_pngs_of_256_px_pairwise_different(tmp_path):
    pics = Pictures(tmp_path)
    seen: dict[str, tuple[str, str | None]] = {}
    for name, sides in SIX.items():
        for side in sides:
            path = pics.image_for(name, side)
            assert path.is_file() and path.parent == tmp_path / "images"
            assert png_size(path) == (256, 256)  # >= 128 px at the size sent
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            assert digest not in seen, f"{name}/{side} looks like {seen.get(digest)}"
            seen[digest] = (name, side)
    assert len(seen) == 10  # six exercises: 3 + 1 + 1 + 1 + 2 + 2 step pictures
    icon = pics.icon()
    assert png_size(icon) == (256, 256)
    assert all(png_size(p) == (256, 256) for p in pics.positions("cat")) and len(pics.positions("cat")) == 2


@needs_rsvg
def test_rendered_once_then_served_from_the_cache(tmp_path):
    first = Pictures(tmp_path)
    path = first.image_for("child_pose")
    assert first.image_for("child_pose") == path and first.rendered == 1
    mtime = path.stat().st_mtime_ns
    again = Pictures(tmp_path)  # another process, later: the file is reused
    assert again.image_for("child_pose") == path and again.rendered == 0
    assert path.stat().st_mtime_ns == mtime
    assert again.image_for("cobra") == again.image_for("another_custom")  # one neutral figure for all


@needs_rsvg
def test_custom_pictures_svg_is_rendered_png_is_sent_as_is(tmp_path):
    svg = tmp_path / "mine.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20"><rect width="10" height="20" '
                   'fill="red"/></svg>')
    png = tmp_path / "mine.png"
    png.write_bytes(Pictures(tmp_path / "c1").raster(svg).read_bytes())
    pics = Pictures(tmp_path / "c2", custom={"bridge": svg, "plank": png, "cat": svg})
    assert png_size(pics.image_for("bridge")) == (128, 256)  # aspect kept, 256 px tall
    assert pics.image_for("bridge").parent == tmp_path / "c2" / "images"
    assert pics.image_for("plank") == png
    assert pics.positions("cat") == ()  # the user's own cat is not ours in two positions
    assert svg.read_text().startswith("<svg") and sorted(p.name for p in tmp_path.iterdir()) == [
        "c1", "c2", "mine.png", "mine.svg"]  # nothing written next to the user's files


def test_without_a_renderer_the_svg_goes_out_and_it_is_said_once(tmp_path, caplog):
    pics = Pictures(tmp_path, renderer="no-such-rsvg-convert")
    with caplog.at_level(logging.INFO, logger="cooldownd.desktop.media"):
        assert pics.image_for("cat") == asset("cat.svg")
        assert pics.image_for("turns", "left") == asset("turns_left.svg")
        assert pics.icon().suffix == ".svg"
    assert len([r for r in caplog.records if "rsvg-convert not found" in r.message]) == 1


def test_hr_curve_is_compact():
    samples = [(t, 120 + (t // 60) % 40) for t in range(0, 3600)] + [(10, None), (20, 300), (5000, 150)]
    curve = hrcurve.compact(samples, 0, 3600)
    assert len(curve) == hrcurve.POINTS and curve[0][0] == 15 and curve[-1][0] == 3585
    assert all(120 <= bpm <= 160 for _, bpm in curve)
    assert hrcurve.compact([(1, 100)], 0, 60) == ()  # one point is no curve
    assert hrcurve.compact(samples, 10, 10) == ()


@needs_rsvg
def test_hr_chart_renders_with_the_cool_down_marked(tmp_path):
    curve = tuple((t, 100 + t // 40) for t in range(0, 3600, 30))
    svg = hr_chart(curve, (3700.0, 4000.0))
    assert svg is not None and svg.count("<polyline") == 1 and "#5fa89c" in svg
    plain = hr_chart(curve)
    assert plain is not None and plain != svg
    path = Pictures(tmp_path).raster_bytes(svg.encode())
    assert png_size(path) == (256, 256)
    assert hr_chart(((0, 100),)) is None
