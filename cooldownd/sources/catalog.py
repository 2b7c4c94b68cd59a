"""Every source of workouts, why it is used, and when it last delivered a workout.

``found_folders`` is what ``watch.auto`` adds to ``watch.folders`` (devices and app folders, minus those a
configured folder already covers); ``describe`` is what ``cooldownd sources`` prints, given the deliveries
the daemon keeps in the store (``daemon.ingest.load_deliveries``).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cooldownd.daemon.inotify import needs_polling
from cooldownd.daemon.tree import expand
from cooldownd.sources.apps import find_apps
from cooldownd.sources.devices import Found, find_devices

if TYPE_CHECKING:
    from cooldownd.settings import Settings, WatchSettings


def found_folders(watch: WatchSettings) -> list[Found]:
    """Device and app folders present now (none when ``watch.auto`` is off), minus configured ones; blocking."""
    if not watch.auto:
        return []
    from cooldownd.configfile import config_home, data_home, state_dir

    configured = [Path(os.path.realpath(p)) for p in expand(watch.folders)]
    out = []
    for found in find_devices() + find_apps(Path.home(), data_home(), state_dir().parent, config_home()):
        real = Path(os.path.realpath(found.path))
        if not any(real == c or real.is_relative_to(c) for c in configured):
            out.append(found)
    return out


def describe(settings: Settings, delivered: dict[str, float]) -> list[dict[str, Any]]:
    """One entry per source: configured folders, found devices and app folders, intervals.icu."""
    out: list[dict[str, Any]] = []
    for folder in settings.watch.folders:
        matches = [str(p) for p in expand([folder])]  # a glob: each folder it matches now
        for path in matches:
            out.append(_entry(path, "configured", f"watch.folders: {folder}", True, settings, delivered))
        if not matches:
            missing = _entry(os.path.expanduser(folder), "configured", f"watch.folders: {folder}", False, settings,
                             delivered)
            if glob.has_magic(folder):
                missing["how"] = "nothing matches now; looked for every poll"
            out.append(missing)
    for found in found_folders(settings.watch):
        out.append(_entry(str(found.path), found.why, found.label, True, settings, delivered))
    icu = settings.sources.intervals
    out.append({"name": "intervals.icu", "why": "configured" if icu.configured() else "not configured",
                "label": f"{icu.base_url} athlete {icu.athlete_id}", "present": icu.configured(),
                "how": f"polled every {_seconds(icu.poll)}" if icu.configured() else
                "set [sources.intervals] api_key to poll it",
                "last_delivered": delivered.get("intervals.icu")})
    return out


def _entry(path: str, why: str, label: str, present: bool, settings: Settings,
           delivered: dict[str, float]) -> dict[str, Any]:
    polled = settings.watch.force_poll or (present and needs_polling(Path(path)))
    how = f"polled every {_seconds(settings.watch.poll_s)}" if polled else "inotify" if present else \
        "not there now; looked for every poll"
    return {"name": path, "why": why, "label": label, "present": present, "how": how,
            "last_delivered": delivered.get(path)}


def _seconds(s: float) -> str:
    return f"{s / 60:g} min" if s >= 60 and s % 60 == 0 else f"{s:g} s"
