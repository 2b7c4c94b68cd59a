"""The app's name and icon where desktops look for them, written by ``cooldownd service install``.

Every card already carries our icon as a file (``app_icon``). Some servers (GNOME Shell, KDE) name
and draw a notification's app from the ``desktop-entry`` hint, which points at a ``.desktop`` file:
``$XDG_DATA_HOME/applications/cooldownd.desktop`` (hidden from menus) with ``Icon=cooldownd``, the
icon installed in the hicolor theme as SVG (and a PNG where ``rsvg-convert`` renders one).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from cooldownd.configfile import data_home

from cooldownd.desktop.media import ICON, asset

APP_ID = "cooldownd"
PNG_SIZE = 256


def desktop_entry(exe: Path) -> str:
    """The ``.desktop`` file: our name and icon for notification servers; not a menu entry."""
    return ("[Desktop Entry]\nType=Application\nName=cooldownd\nGenericName=Cool-down coach\n"
            "Comment=Walks you through a back-stretching cool-down after a workout\n"
            f"Exec={exe} demo\nIcon={APP_ID}\nNoDisplay=true\nTerminal=false\n"
            "Categories=Utility;\nX-GNOME-UsesNotifications=true\n")


def install_identity(exe: Path, home: Path | None = None) -> list[Path]:
    """Write the icon (SVG, and PNG when it can be rendered) and the .desktop file; returns their paths."""
    home = data_home() if home is None else home
    svg = home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    written = [_write(svg, asset(ICON).read_bytes())]
    renderer = shutil.which("rsvg-convert")
    if renderer:
        png = home / "icons" / "hicolor" / f"{PNG_SIZE}x{PNG_SIZE}" / "apps" / f"{APP_ID}.png"
        try:
            data = subprocess.run([renderer, "--width", str(PNG_SIZE), "--height", str(PNG_SIZE), "--format", "png"],
                                  input=svg.read_bytes(), capture_output=True, check=True, timeout=10).stdout
            written.append(_write(png, data))
        except (OSError, subprocess.SubprocessError):
            pass  # the SVG is enough for servers that draw through gdk-pixbuf
    entry = home / "applications" / f"{APP_ID}.desktop"
    written.append(_write(entry, desktop_entry(Path(os.path.abspath(exe))).encode()))
    return written


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
