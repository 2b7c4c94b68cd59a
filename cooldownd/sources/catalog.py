"""Every source of workouts, why it is used, and when it last delivered a workout.

``found_folders`` is what ``watch.auto`` adds to ``watch.folders`` (devices and app folders, minus those a
configured folder already covers); ``describe`` is what ``cooldownd sources`` prints; ``note_delivery``
records (in the store, so it survives restarts and is readable without the daemon) when a source last
delivered a new workout.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from cooldownd.daemon.watch import expand, needs_polling
from cooldownd.sources.apps import find_apps
from cooldownd.sources.devices import Found, find_devices

DELIVERED_KEY = "sources.delivered"


class StatusSink(Protocol):
    """Where a source reports its state (the daemon's status file and line)."""

    def source(self, name: str, **fields: Any) -> None:
        """Merge ``fields`` into the status of source ``name``."""


def found_folders(watch: Any) -> list[Found]:
    """Device and app folders present now (none when ``watch.auto`` is off), minus configured ones; blocking."""
    if not watch.auto:
        return []
    from cooldownd.settings import config_home, state_dir

    home = Path.home()
    data_home = _xdg("XDG_DATA_HOME", home / ".local/share")
    state_home = state_dir().parent
    configured = [Path(os.path.realpath(p)) for p in expand(watch.folders)]
    out = []
    for found in find_devices() + find_apps(home, data_home, state_home, config_home()):
        real = Path(os.path.realpath(found.path))
        if not any(real == c or real.is_relative_to(c) for c in configured):
            out.append(found)
    return out


def describe(settings: Any, delivered: dict[str, float]) -> list[dict[str, Any]]:
    """One entry per source: configured folders, found devices and app folders, intervals.icu."""
    out: list[dict[str, Any]] = []
    present = {str(p) for p in expand(settings.watch.folders)}
    for folder in settings.watch.folders:
        matches = sorted(p for p in present if _from_pattern(p, folder)) or [os.path.expanduser(folder)]
        for path in matches:
            out.append(_entry(path, "configured", f"watch.folders: {folder}", path in present, settings, delivered))
    for found in found_folders(settings.watch):
        out.append(_entry(str(found.path), found.why, found.label, True, settings, delivered))
    icu = settings.sources.intervals
    out.append({"name": "intervals.icu", "why": "configured" if icu.configured() else "not configured",
                "label": f"{icu.base_url} athlete {icu.athlete_id}", "present": icu.configured(),
                "how": f"polled every {_seconds(icu.poll)}" if icu.configured() else
                "set [sources.intervals] api_key to poll it",
                "last_delivered": delivered.get("intervals.icu")})
    return out


def _entry(path: str, why: str, label: str, present: bool, settings: Any,
           delivered: dict[str, float]) -> dict[str, Any]:
    polled = settings.watch.force_poll or (present and needs_polling(Path(path)))
    how = f"polled every {_seconds(settings.watch.poll_s)}" if polled else "inotify" if present else \
        "not there now; looked for every poll"
    return {"name": path, "why": why, "label": label, "present": present, "how": how,
            "last_delivered": delivered.get(path)}


def _from_pattern(path: str, pattern: str) -> bool:
    return fnmatch.fnmatch(path, os.path.expanduser(pattern))


def _seconds(s: float) -> str:
    return f"{s / 60:g} min" if s >= 60 and s % 60 == 0 else f"{s:g} s"


def _xdg(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value) if value and os.path.isabs(value) else default


# -- deliveries -----------------------------------------------------------------------------------
def load_deliveries(store: Any) -> dict[str, float]:
    """{source name: when it last delivered a new workout} from the store (a sync Store)."""
    try:
        data = json.loads(store.get_kv(DELIVERED_KEY) or "{}")
    except ValueError:
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, int | float)} if isinstance(data, dict) else {}


def _record(store: Any, name: str, when: float) -> None:
    data = load_deliveries(store)
    data[name] = max(when, data.get(name, 0.0))
    store.set_kv(DELIVERED_KEY, json.dumps(data))


async def note_delivery(store: Any, status: StatusSink, name: str, when: float, **extra: Any) -> None:
    """Source ``name`` delivered a new workout at ``when``: remember it and tell the status."""
    await store.call(_record, name, when)
    status.source(name, last_delivered=when, **extra)


def source_of(file: str, roots: Sequence[str]) -> str | None:
    """The watched root an imported file came from (the longest that holds it)."""
    best = None
    for root in roots:
        if (file == root or file.startswith(root.rstrip("/") + "/")) and len(root) > len(best or ""):
            best = root
    return best


def status_words(sources: dict[str, dict[str, Any]], now: float) -> list[str]:
    """The status line's words for the sources: found folders, and each source's last delivery."""
    from cooldownd.core.wording import ago

    words = []
    found = (sources.get("found") or {}).get("folders") or []
    if found:
        devices = sum(1 for f in found if f.get("why") == "found device")
        apps = len(found) - devices
        words.append(", ".join(x for x in (f"{devices} device{'s' * (devices != 1)}" if devices else "",
                                           f"{apps} app folder{'s' * (apps != 1)}" if apps else "") if x))
    for name, info in sorted(sources.items()):
        if name == "found":
            continue
        state = info.get("state")
        last = info.get("last_delivered")
        text = info.get("label") or name
        text += f" ({state})" if state and state != "ok" else ""
        text += f", last delivered {ago(now - last)} ago" if last else ", nothing delivered yet"
        words.append(text)
    return words
