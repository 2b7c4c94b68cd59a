"""App folders found without configuration: Zwift inside Wine prefixes, Gadgetbridge synced by Syncthing.

Zwift on Linux runs under Wine, so its ``Documents/Zwift/Activities`` sits inside a prefix:
``~/.wine`` (Wine's default prefix), a Lutris game folder under ``~/Games/`` (Lutris' default install
folder is the prefix), or a Bottles bottle (``~/.local/share/bottles/bottles/<name>``, or the Flatpak's
``~/.var/app/com.usebottles.bottles/data/bottles/bottles/<name>``); each as
``drive_c/users/<user>/Documents/Zwift/Activities`` (``My Documents`` in old prefixes).

Gadgetbridge (the open Android companion app) keeps the FIT files of Garmin watches in its data folder and
exports it (Data management, Auto export). Shared to the desktop with Syncthing, it is found through
Syncthing's own configuration: a Syncthing folder whose label, id or path names Gadgetbridge, or a
``Gadgetbridge`` folder directly inside a Syncthing folder. README's "Sources" has the recipe.
"""

from __future__ import annotations

import glob
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from cooldownd.sources.devices import Found

ZWIFT = ("drive_c/users/*/Documents/Zwift/Activities", "drive_c/users/*/My Documents/Zwift/Activities")
SYNCTHING_MAX = 4 * 1024 * 1024  # Syncthing's config.xml is kilobytes; refuse anything absurd


def wine_prefixes(home: Path, data_home: Path) -> list[Path]:
    """Wine prefixes that may hold Zwift: ~/.wine, Lutris games, Bottles bottles (native and Flatpak)."""
    prefixes = [home / ".wine"]
    prefixes += sorted(Path(p) for p in glob.glob(str(home / "Games" / "*")))
    for bottles in (data_home / "bottles" / "bottles",
                    home / ".var/app/com.usebottles.bottles/data/bottles/bottles"):
        prefixes += sorted(Path(p) for p in glob.glob(str(bottles / "*")))
    return [p for p in prefixes if (p / "drive_c").is_dir()]


def find_zwift(home: Path, data_home: Path) -> list[Found]:
    """Zwift's Activities folder in each Wine prefix that has one."""
    out = []
    for prefix in wine_prefixes(home, data_home):
        for pattern in ZWIFT:
            for folder in sorted(glob.glob(str(prefix / pattern))):
                if os.path.isdir(folder):
                    out.append(Found(Path(folder), "found app folder", f"Zwift (Wine prefix {prefix})"))
    return out


def syncthing_configs(home: Path, state_home: Path, config_home: Path) -> list[Path]:
    """Syncthing's config.xml candidates: $XDG_STATE_HOME/syncthing (1.27+), then the older places."""
    return [state_home / "syncthing/config.xml", home / ".local/state/syncthing/config.xml",
            config_home / "syncthing/config.xml", home / ".config/syncthing/config.xml"]


def syncthing_folders(config: Path) -> list[tuple[str, Path]]:
    """(label, path) of each folder in a Syncthing config.xml; nothing when unreadable."""
    try:
        if config.stat().st_size > SYNCTHING_MAX:
            return []
        root = ET.fromstring(config.read_bytes())
    except (OSError, ET.ParseError):
        return []
    out = []
    for folder in root.iter("folder"):
        path = folder.get("path")
        if path:
            label = " ".join(x for x in (folder.get("label"), folder.get("id")) if x) or path
            out.append((label, Path(os.path.expanduser(path))))
    return out


def find_gadgetbridge(home: Path, state_home: Path, config_home: Path) -> list[Found]:
    """Gadgetbridge's data or export folder where Syncthing keeps a copy on this desktop."""
    out: list[Found] = []
    config = next((c for c in syncthing_configs(home, state_home, config_home) if c.is_file()), None)
    for label, path in syncthing_folders(config) if config else []:  # the first one found is Syncthing's
        named = "gadgetbridge" in f"{label} {path.name}".lower()
        inside = [] if named else [c for c in _children(path) if c.name.lower() == "gadgetbridge"]
        for folder in ([path] if named else inside):
            if folder.is_dir() and all(f.path != folder for f in out):
                out.append(Found(folder, "found app folder", f"Gadgetbridge (Syncthing folder {path.name!r})"))
    return out


def find_apps(home: Path, data_home: Path, state_home: Path, config_home: Path) -> list[Found]:
    """Every app folder found now."""
    return find_zwift(home, data_home) + find_gadgetbridge(home, state_home, config_home)


def _children(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.is_dir()]
    except OSError:
        return []
