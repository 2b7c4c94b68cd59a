"""The watched trees: the folders the globs name now, and the workout files under them (blocking walks).

Which files: ``imports.inputs.is_workout_file``; dot directories are not entered, symlink loops end.
"""

from __future__ import annotations

import asyncio
import glob
import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from cooldownd.imports.inputs import is_workout_file

log = logging.getLogger("cooldownd.daemon.watch")

Sig = tuple[int, int]  # (size, mtime_ns)


def expand(folders: Sequence[str]) -> list[Path]:
    """The existing directories the folders and globs name right now (``~`` expanded)."""
    found: dict[Path, None] = {}
    for folder in folders:
        pattern = os.path.expanduser(folder)
        names = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        for name in names:
            if os.path.isdir(name):
                found[Path(name)] = None
    return list(found)


def walk(root: Path, warned: set[str]) -> tuple[dict[Path, Sig], list[Path]]:
    """Candidate files (with their signature) and directories under ``root``; blocking."""
    files: dict[Path, Sig] = {}
    dirs: list[Path] = []
    visited: set[tuple[int, int]] = set()  # (st_dev, st_ino): symlink loops end here
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
            if (st.st_dev, st.st_ino) in visited:
                continue
            visited.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as it:
                entries = list(it)
        except FileNotFoundError:
            continue
        except OSError as exc:
            if str(folder) not in warned:
                warned.add(str(folder))
                log.warning("%s: cannot read this folder (%s); check its permissions", folder, exc.strerror)
            continue
        dirs.append(folder)
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    stack.append(Path(entry.path))
                elif is_workout_file(entry.name) and entry.is_file():
                    est = entry.stat()
                    files[Path(entry.path)] = (est.st_size, est.st_mtime_ns)
            except OSError:
                continue  # vanished or a dangling link
    return files, dirs


def sig(path: Path) -> Sig | None:
    """(size, mtime) of a regular file (links followed); None when gone or not a regular file."""
    try:
        st = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):  # a FIFO would block the importer, a link to /dev/zero never ends
        return None
    return (st.st_size, st.st_mtime_ns)


async def scan_existing(folders: Sequence[str]) -> list[Path]:
    """Every candidate file in the folders now (for the start-up catch-up), sorted."""

    def scan() -> list[Path]:
        warned: set[str] = set()
        return sorted({p for root in expand(folders) for p in walk(root, warned)[0]})

    return await asyncio.to_thread(scan)
