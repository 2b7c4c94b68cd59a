"""What the daemon is doing: one status the supervisors report into (a ``ports.StatusSink``).

Each change goes to systemd's STATUS= line and to ``status.json`` (0600) next to the store, which
``cooldownd status`` reads. The status line is worded with core/wording.py. Changes are coalesced: at
most one datagram and one file write per ``MIN_INTERVAL_S`` (importing a watch's whole history must not
flood systemd), and the last change is always sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cooldownd.daemon.systemd import SdNotify
from cooldownd.record import lines
from cooldownd.record.summary import Summary

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 0.25


class Status:
    """The daemon's status: the supervisors ``update`` it; systemd and ``status.json`` follow."""

    def __init__(self, sd: SdNotify, path: Path, *, ble_enabled: bool,
                 clock: Callable[[], float] = time.time) -> None:
        self.sd, self.path, self.ble_enabled, self.clock = sd, path, ble_enabled, clock
        self.data: dict[str, Any] = {"pid": os.getpid(), "started": clock(), "folders": [], "device": None,
                                     "last_workout": None, "pending_offer": None, "sources": {},
                                     "workout": None, "walk": None}  # live workout, walk-through (status bars)
        self._sent = -MIN_INTERVAL_S  # time.monotonic() of the last write
        self._later: asyncio.TimerHandle | None = None

    def line(self) -> str:
        """One human line for systemd's STATUS= and ``cooldownd status``."""
        s = self.data
        parts = [f"watching {len(s['folders'])} folder{'s' if len(s['folders']) != 1 else ''}"]
        parts += source_words(s.get("sources") or {}, self.clock())
        dev = s.get("device")
        if dev:
            text = f"{dev.get('name') or dev.get('address')} {dev.get('state', '')}".strip()
            if dev.get("hr") is not None:
                text += f", HR {dev['hr']}"
            if dev.get("battery") is not None:
                text += f", battery {dev['battery']} %"
            parts.append(text)
        elif self.ble_enabled:
            parts.append(s.get("ble") or "looking for a heart-rate strap")
        last = s.get("last_workout")
        if last:
            from cooldownd.core.wording import ago, format_duration, level_word, sport_word

            what = sport_word(last.get("sport") or "generic", last.get("sub_sport") or "generic")
            level = level_word(last.get("level") or "?")
            parts.append(f"last: {what} {format_duration(last.get('duration_s') or 0)}, {level}, "
                         f"{ago(self.clock() - last['end_ts'])} ago")
        return "; ".join(parts)

    def update(self, **changes: Any) -> None:
        """Merge ``changes`` into the status; tell systemd and write the status file (coalesced)."""
        self.data.update(changes)
        if self._later is not None:
            return  # a write is due shortly and will carry this change
        wait = self._sent + MIN_INTERVAL_S - time.monotonic()
        if wait > 0:
            try:
                self._later = asyncio.get_running_loop().call_later(wait, self._write)
                return
            except RuntimeError:  # no event loop (a one-shot command): write now
                pass
        self._write()

    def _write(self) -> None:
        self._later = None
        self._sent = time.monotonic()
        line = self.line()
        self.sd.status(line)
        data = dict(self.data, line=line, updated=self.clock())
        tmp = self.path.with_suffix(".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(data))
            os.replace(tmp, self.path)
        except OSError as exc:
            log.debug("%s: cannot write status: %s", self.path, exc)

    def device(self, **changes: Any) -> None:
        """Merge ``changes`` into the strap's part of the status."""
        self.update(device=dict(self.data.get("device") or {}, **changes))

    def source(self, name: str, **fields: Any) -> None:
        """Merge ``fields`` (state, label, last_delivered...) into the status of source ``name``."""
        sources = dict(self.data.get("sources") or {})
        sources[name] = dict(sources.get(name) or {}, **fields)
        self.update(sources=sources)

    def forget_source(self, name: str) -> None:
        """Source ``name`` is no longer used (a reload removed it)."""
        sources = dict(self.data.get("sources") or {})
        if sources.pop(name, None) is not None:
            self.update(sources=sources)

    def note_workout(self, summary: Summary) -> None:
        """Remember the newest workout for the status line."""
        last = self.data.get("last_workout")
        if last is None or summary.end >= last["end_ts"]:
            s = summary
            self.update(last_workout={"sport": s.sport, "sub_sport": s.sub_sport, "level": s.level.value,
                                      "duration_s": s.duration_s, "load": s.load, "start": lines.iso(s.start),
                                      "end_ts": s.end})

    def remove(self) -> None:
        """The daemon is stopping: no status file is left behind."""
        if self._later is not None:
            self._later.cancel()
            self._later = None
        try:
            self.path.unlink()
        except OSError:
            pass


def source_words(sources: dict[str, dict[str, Any]], now: float) -> list[str]:
    """The status line's words for the sources: found folders, and when each source last delivered."""
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
