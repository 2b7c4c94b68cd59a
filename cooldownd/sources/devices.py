"""Watches and bike computers plugged in: their activity folders, found without configuration.

Where a device appears (``MOUNT_ROOTS``): GNOME's gvfs puts an MTP device at
``$XDG_RUNTIME_DIR/gvfs/mtp:host=<Vendor_Model_Serial>/<storage>/``, KDE's kio-fuse at
``$XDG_RUNTIME_DIR/kio-fuse-XXXXXX/mtp/<device>/<storage>/``, and a USB mass-storage device is mounted
under ``/media/$USER/`` or ``/run/media/$USER/``. In each mount and in each of its storages, the folder
layouts in ``LAYOUTS`` are looked for, matched case-insensitively (devices differ: ``GARMIN/ACTIVITY``,
``Garmin/Activities``). Blocking (it lists folders, possibly over a slow MTP link): call it on a thread.
Each layout says where it is documented; README's "Sources" lists them.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Layout:
    """A device's activity folder, relative to a storage root; ``source`` is where it is documented."""

    brand: str
    parts: tuple[str, ...]
    source: str


LAYOUTS = (
    Layout("Garmin", ("Garmin", "Activities"),
           "newer Garmin over MTP: .../mtp:host=Garmin_Edge_1050_.../Internal Storage/Garmin/Activities "
           "(github.com/mytourbook/mytourbook issue 1720; gpsrchive.com inReach mini 3 'Files and Folders'; "
           "github.com/salomvary/gramin-express issue 11)"),
    Layout("Garmin", ("GARMIN", "Activity"),
           "older Garmin (mass storage, early MTP such as Fenix 6 'Primary/GARMIN'): GARMIN/Activity "
           "(cooldownd issue 16; github.com/subtlepseudonym/fit fit-import.sh; github.com/Maproom/qmapshack "
           "issue 222; upper case on Fenix 3: github.com/tcgoetz/GarminDB issue 71)"),
    Layout("Wahoo", ("exports",),
           "Wahoo ELEMNT ACE / BOLT 3 / ROAM 3 over MTP: completed rides in 'exports' (Wahoo support: "
           "'Connect an ACE, BOLT 3, or ROAM 3 to a desktop/laptop computer')"),
    Layout("Hammerhead", ("FitFiles",),
           "Hammerhead Karoo (Android): rides in /sdcard/FitFiles (github.com/jarodz46/KTrackPlus "
           "Helpers/Common.cs KarooFitDir; Karoo extension KGhost's docs)"),
    Layout("COROS", ("COROS", "Activity"),
           "COROS in USB mode: COROS/Activity (one third-party driver's list of paths, found by code search; "
           "unconfirmed by COROS, whose documented route is an app export)"),
)
# Suunto has no layout: its watches speak a vendor USB protocol (SuuntoLink), not MTP or mass storage
# (github.com/openambitproject/openambit issues 232, 281); their workouts reach us through intervals.icu.


@dataclass(frozen=True, slots=True)
class Found:
    """A folder found without configuration, and why it is watched."""

    path: Path
    why: str  # "found device" or "found app folder"
    label: str  # e.g. "Garmin (MTP Garmin_Edge_1050_0000d118d100)"


def mount_roots(runtime_dir: str | None = None, user: str | None = None) -> list[tuple[Path, str]]:
    """(mount, how it is mounted) for every device mount present now."""
    runtime = Path(runtime_dir or os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}")
    user = user or _user()
    found: list[tuple[Path, str]] = []
    for mount in _dirs(runtime / "gvfs"):
        if mount.name.lower().startswith("mtp:"):
            found.append((mount, f"MTP {mount.name.partition('host=')[2] or mount.name}"))
    for fuse in _dirs(runtime):
        if fuse.name.startswith("kio-fuse-"):
            found.extend((dev, f"MTP {dev.name} (kio-fuse)") for dev in _dirs(fuse / "mtp"))
    for media in (Path("/media") / user, Path("/run/media") / user):
        found.extend((drive, f"USB drive {drive.name}") for drive in _dirs(media))
    return found


def find_devices(runtime_dir: str | None = None, user: str | None = None) -> list[Found]:
    """Every device activity folder present now (a mount's own layouts, then each storage's)."""
    out: list[Found] = []
    for mount, how in mount_roots(runtime_dir, user):
        for storage in [mount, *_dirs(mount)]:
            for layout in LAYOUTS:
                folder = resolve(storage, layout.parts)
                if folder is not None and all(f.path != folder for f in out):
                    out.append(Found(folder, "found device", f"{layout.brand} ({how})"))
    return out


def resolve(base: Path, parts: tuple[str, ...]) -> Path | None:
    """``base/parts...`` matching each name case-insensitively, or None."""
    here = base
    for part in parts:
        match = next((d for d in _dirs(here) if d.name.lower() == part.lower()), None)
        if match is None:
            return None
        here = match
    return here


def _dirs(folder: Path) -> list[Path]:
    """Sub-folders (not hidden); nothing when the folder is gone or unreadable (a device unplugged)."""
    try:
        with os.scandir(folder) as it:
            return sorted(Path(e.path) for e in it if not e.name.startswith(".") and _is_dir(e))
    except OSError:
        return []


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _user() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return os.environ.get("USER", "")
