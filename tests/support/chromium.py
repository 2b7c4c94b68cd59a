"""Headless Chromium (Debian's ``chromium``) for tests: screenshots and the page's console messages.

    shot = screenshot(page, out_png, tmp, dark=False)   # -> Shot(png, console, stderr)

Flags that work in this sandbox (no GPU, no network, no setuid sandbox); each run gets a fresh
profile. ``--enable-logging=stderr`` makes Chromium print every console message (an error, a blocked
fetch under the page's Content-Security-Policy, a script error) as an ``INFO:CONSOLE`` line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--enable-logging=stderr", "--v=0")
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\))?:?\d*\]\s*(.*)")


@dataclass
class Shot:
    png: Path
    console: list[str]  # console messages the page produced
    stderr: str


def binary() -> str:
    """The chromium executable, or skip (tests/run installs it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (tests/run installs Debian's chromium)")
    return found


def screenshot(page: Path, out: Path, tmp: Path, *, dark: bool = False, size: tuple[int, int] = (1366, 900),
               scale: float = 1.0, timeout: float = 120) -> Shot:
    """Load ``page`` (a file) and save what a window of ``size`` shows; dark: the desktop prefers dark."""
    profile = tmp / f"chromium-profile-{out.stem}"
    args = [binary(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
            f"--force-device-scale-factor={scale}", f"--screenshot={out}"]
    if dark:
        args.append("--force-dark-mode")
    result = subprocess.run([*args, page.resolve().as_uri()], capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    assert out.exists(), f"no screenshot (exit {result.returncode}): {result.stderr[-2000:]}"
    console = [m.group(1) for m in map(_CONSOLE.search, result.stderr.splitlines()) if m]
    return Shot(out, console, result.stderr)
