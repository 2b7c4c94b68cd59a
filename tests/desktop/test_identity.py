"""Our name and icon on every desktop (issue 14 item 1): `service install` puts them where servers look."""

from __future__ import annotations

import configparser
import shutil
from importlib import resources
from pathlib import Path

from conftest import run_cli
from cooldownd.desktop.notify import APP_NAME


def test_service_install_writes_the_icon_and_a_desktop_entry(home: Path) -> None:
    result = run_cli("service", "install")
    assert result.returncode == 0, result.stderr
    share = home / ".local" / "share"
    svg = share / "icons" / "hicolor" / "scalable" / "apps" / "cooldownd.svg"
    entry = share / "applications" / "cooldownd.desktop"
    written = [line.removeprefix("wrote ") for line in result.stdout.splitlines() if line.startswith("wrote ")]
    assert str(svg) in written and str(entry) in written
    assert svg.read_bytes() == (resources.files("cooldownd") / "assets" / "icon.svg").read_bytes()
    if shutil.which("rsvg-convert"):
        png = share / "icons" / "hicolor" / "256x256" / "apps" / "cooldownd.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.read(entry)
    e = desktop["Desktop Entry"]
    # the cards' desktop-entry hint names this file; GNOME and KDE take the app's name and icon from it
    assert entry.stem == APP_NAME and e["Icon"] == "cooldownd" and e["Name"] == "cooldownd"
    assert e["NoDisplay"] == "true" and e["Exec"].endswith(" demo") and Path(e["Exec"].split()[0]).is_absolute()
