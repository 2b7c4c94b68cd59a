"""``cooldownd status --follow --format waybar``: one JSON line per change, for waybar and i3blocks.

The daemon rewrites ``status.json`` (temp file + rename) in its state folder on every change. The
follower sleeps in ``select`` on an inotify descriptor watching that folder (a rename, a close after
writing, a create or a delete wakes it; the lock file's close when a daemon dies, too), re-reads the
file and prints a line only when the line changed. It wakes on its own only when the line would
change with time (the seconds left of a stretch, once a second) and every ``IDLE_WAKE_S`` as a safety
net. Before the folder exists it watches the nearest existing parent for its creation; without inotify
it sleeps ``POLL_S`` between looks.
"""

from __future__ import annotations

import contextlib
import json
import math
import select
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from cooldownd.core.wording import format_duration, level_word, sport_word

IDLE_WAKE_S = 60.0
POLL_S = 1.0
SETTLE_S = 0.25


def _clock(t: float) -> str:
    return time.strftime("%H:%M", time.localtime(t))


def _left(seconds: float) -> str:
    s = max(0, math.ceil(seconds))
    return f"{s // 60}:{s % 60:02d}"


def _step(walk: dict[str, Any], now: float) -> dict[str, Any]:
    n, total = walk.get("step") or 0, walk.get("steps") or 0
    left = _left((walk.get("ends_at") or now) - now)
    side = f" ({walk['side']})" if walk.get("side") in ("left", "right") else ""
    return {"text": f"{n}/{total} {left}", "alt": "step", "class": "step",
            "tooltip": f"Cool-down, stretch {n} of {total}: {walk.get('title', '')}{side}, {left} left",
            "percentage": round(100 * (n - 1) / total) if total else 0}


def bar_line(status: dict[str, Any] | None, now: float) -> dict[str, Any]:
    """What the bar shows for a daemon status (None: no daemon runs): text, tooltip, class (and alt)."""
    if status is None:
        return {"text": "", "alt": "stopped", "class": "stopped", "tooltip": "cooldownd is not running"}
    walk, offer = status.get("walk") or {}, status.get("pending_offer")
    line = status.get("line") or "starting"
    if walk.get("state") == "step":
        return _step(walk, now)
    if walk.get("state") == "done":
        return {"text": "done", "alt": "done", "class": "done",
                "tooltip": "Cool-down over" + (f" after: {walk['title']}" if walk.get("title") else "")}
    if walk.get("state") == "snoozed":
        at = _clock(walk.get("until") or now)
        return {"text": f"cool-down {at}", "alt": "snoozed", "class": "snoozed",
                "tooltip": f"{walk.get('title', '')}: snoozed, offered again at {at}"}
    if walk.get("state") == "offer" or (offer and (offer.get("at") or 0) <= now):
        return {"text": "cool-down?", "alt": "offer", "class": "offer",
                "tooltip": f"{walk.get('title') or 'A cool-down'} is waiting: Start, Later or Skip "
                           "(cooldownd start / later / stop)"}
    if offer:
        at = _clock(offer["at"])
        return {"text": f"cool-down {at}", "alt": "waiting", "class": "waiting",
                "tooltip": f"Quiet hours: the cool-down will be offered at {at}"}
    if status.get("workout"):
        hr = (status.get("device") or {}).get("hr")
        since = status["workout"].get("since") or now
        return {"text": f"♥ {hr}" if hr is not None else "♥", "alt": "workout", "class": "workout",
                "tooltip": f"Workout in progress for {format_duration(max(0.0, now - since))}"
                           + (f", heart rate {hr}" if hr is not None else "") + f"\n{line}"}
    return {"text": "idle", "alt": "idle", "class": "idle", "tooltip": _idle_tooltip(status, line)}


def _idle_tooltip(status: dict[str, Any], line: str) -> str:
    last = status.get("last_workout")
    if not last:
        return f"cooldownd: {line}"
    what = sport_word(last.get("sport") or "generic", last.get("sub_sport") or "generic")
    return (f"cooldownd: {line}\nLast: {level_word(last.get('level') or '?')} {what}, "
            f"{format_duration(last.get('duration_s') or 0)}")


def next_change(line: dict[str, Any], status: dict[str, Any] | None, now: float) -> float:
    """Seconds until the line would change with no new status: the next whole second of a stretch."""
    walk = (status or {}).get("walk") or {}
    if line.get("alt") == "step" and walk.get("ends_at"):
        left = walk["ends_at"] - now
        return max(0.05, left - math.floor(left) if left > 0 else IDLE_WAKE_S)
    offer = (status or {}).get("pending_offer") or {}
    if line.get("alt") == "waiting" and offer.get("at"):
        return max(0.05, min(IDLE_WAKE_S, offer["at"] - now))
    return IDLE_WAKE_S


class FolderWatch:
    """inotify on one folder (the watcher's own wrapper): ``wait(timeout)`` returns once something in it
    changed (a file renamed in, closed after writing, created, its attributes) or the timeout passed."""

    def __init__(self, folder: Path) -> None:
        from cooldownd.daemon.inotify import Inotify

        self._inotify = Inotify()
        self.fd = self._inotify.fd
        try:
            self._inotify.add(folder)
        except OSError:
            self._inotify.close()
            raise

    def wait(self, timeout: float) -> bool:
        """Sleep until an event or ``timeout``; True when woken by an event."""
        if not select.select([self.fd], [], [], max(timeout, 0.0))[0]:
            return False
        self._inotify.read()  # drain: one look answers every event so far
        return True

    def close(self) -> None:
        self._inotify.close()


def read_status(status_file: Path, running: Callable[[], int | None]) -> dict[str, Any] | None:
    """The daemon's status, or None when no daemon holds the lock (a stale file is ignored)."""
    if running() is None:
        return None
    try:
        return json.loads(status_file.read_text())
    except (OSError, ValueError):
        return {}  # starting up, or between writes: a daemon runs, nothing to say yet


def _nearest_folder(path: Path) -> Path:
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path


def follow(status_file: Path, running: Callable[[], int | None], fmt: Callable[[dict | None, dict], str],
           out: TextIO = sys.stdout, clock: Callable[[], float] = time.time) -> None:
    """Print ``fmt(status, bar_line(status))`` now and on every change, until killed (or the reader leaves).

    Before the state folder exists, its nearest existing parent is watched, so its creation wakes us too.
    """
    last, watch, watched, woke = None, None, None, False
    try:
        while True:
            folder = _nearest_folder(status_file.parent)
            if folder != watched:
                if watch is not None:
                    watch.close()
                watch, watched = None, folder
                with contextlib.suppress(OSError):
                    watch = FolderWatch(folder)
            status, now = read_status(status_file, running), clock()
            line = bar_line(status, now)
            text = fmt(status, line)
            if text != last:
                out.write(text + "\n")
                out.flush()
                last = text
            wait = next_change(line, status, now)
            if woke:
                # A dying daemon's lock file reports its close just before the kernel drops the lock:
                # look once more a moment later so "stopped" is not missed.
                wait = min(wait, SETTLE_S)
            if watch is None:
                time.sleep(min(wait, POLL_S))
                woke = False
            else:
                woke = watch.wait(wait)
    finally:
        if watch is not None:
            watch.close()


def formatter(fmt: str) -> Callable[[dict | None, dict], str]:
    """How one status becomes one output line: waybar (the bar's JSON), json (the whole status), text."""
    if fmt == "waybar":
        return lambda status, line: json.dumps(line, ensure_ascii=False)
    if fmt == "json":
        return lambda status, line: json.dumps({"running": False} if status is None else dict(status, running=True))
    return lambda status, line: "cooldownd is not running" if status is None else (status.get("line") or "starting")


def run(status_file: Path, running: Callable[[], int | None], fmt: str, keep_following: bool) -> int:
    """``status --format F [--follow]``: one line now, or one per change until killed."""
    render = formatter(fmt)
    if keep_following:
        follow(status_file, running, render)
        return 0
    status = read_status(status_file, running)
    print(render(status, bar_line(status, time.time())))
    return 0
