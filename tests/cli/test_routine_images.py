"""A routines file's ``image`` key: checked (exists, readable, size, SVG or PNG), one line and exit 78 if not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import run_cli

CUSTOM = """
[exercises.bridge]
title = "Bridge"
text = "Lie on your back, knees bent, and lift your hips."
hold = 20
image = "{image}"

[exercises.plank]
title = "Plank"
text = "Hold a straight line on your forearms."
hold = 20

[routines.any]
light = ["bridge", "plank"]
moderate = ["bridge"]
hard = ["bridge"]
very_hard = ["bridge"]
"""
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><circle r="4"/></svg>\n'


def write(tmp_path: Path, image: str) -> Path:
    """A config whose routines file gives the exercise "bridge" ``image``; returns the config's path."""
    routines = tmp_path / "routines.toml"
    routines.write_text(CUSTOM.format(image=image))
    config = tmp_path / "config.toml"
    config.write_text(f'[routines]\nfile = "{routines}"\n')
    return config


def check(tmp_path: Path, image: str) -> "subprocess.CompletedProcess[str]":  # noqa: F821
    return run_cli("--config", str(write(tmp_path, image)), "config", "check")


def test_a_good_relative_svg_and_an_absolute_png_pass(tmp_path: Path) -> None:
    (tmp_path / "bridge.svg").write_bytes(SVG)
    assert check(tmp_path, "bridge.svg").returncode == 0  # relative to the routines file
    png = tmp_path / "pics" / "bridge.png"
    png.parent.mkdir()
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    result = check(tmp_path, str(png))
    assert result.returncode == 0, result.stderr


def _too_big(tmp: Path) -> str:
    (tmp / "big.svg").write_bytes(SVG + b" " * (1024 * 1024))
    return "big.svg"


def _fake_png(tmp: Path) -> str:
    (tmp / "fake.png").write_bytes(SVG)
    return "fake.png"


def _jpeg(tmp: Path) -> str:
    (tmp / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(50))
    return "photo.jpg"


def _folder(tmp: Path) -> str:
    (tmp / "dir.svg").mkdir()
    return "dir.svg"


def _fifo(tmp: Path) -> str:
    os.mkfifo(tmp / "pipe.svg")
    return "pipe.svg"


BAD = [
    ("missing", lambda tmp: "nope.svg", "no such file"),
    ("too-big", _too_big, "at most 1048576"),
    ("not-a-png", _fake_png, "not a PNG picture"),
    ("wrong-type", _jpeg, "not an .svg or .png file"),
    ("folder", _folder, "not a regular file"),
    ("fifo", _fifo, "not a regular file"),
    ("text-as-svg", lambda tmp: (tmp / "notes.svg").write_text("hello") and "notes.svg", "not a SVG picture"),
]


@pytest.mark.parametrize(("make", "needle"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_image_is_one_config_error_line(tmp_path: Path, make, needle: str) -> None:
    name = make(tmp_path)
    config = write(tmp_path, name)
    before = sorted((p.name, p.stat().st_size) for p in tmp_path.iterdir() if not p.is_fifo())
    result = run_cli("--config", str(config), "config", "check")
    assert result.returncode == 78, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "exercises.bridge.image" in lines[0] and name in lines[0] and needle in lines[0], lines[0]
    assert "routines.toml" in lines[0]
    after = sorted((p.name, p.stat().st_size) for p in tmp_path.iterdir() if not p.is_fifo())
    assert after == before  # never used to write anything

