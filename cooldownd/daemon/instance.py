"""One daemon per store: the lock (with its pid), the status file, and ``cooldownd status``."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from cooldownd.quicksettings import snapshot
from cooldownd.errors import CooldownError, StoreError, StoreErrorKind
from cooldownd.core.wording import ago, day_time, format_duration, level_word, sport_word
from cooldownd.record import lines
from cooldownd.database import SCHEMA_VERSION, held_damaged
from cooldownd.reader import open_readonly
from cooldownd.store import Store

if TYPE_CHECKING:
    from cooldownd.configfile import Snapshot
    from cooldownd.settings import Settings

# Only the store's path is read here: the full settings or a quick command's snapshot (quicksettings.py).
Configured = Union["Settings", "Snapshot"]


def lock_path(settings: Configured) -> Path:
    """The lock (and pid) file: next to the store, so one store has one daemon."""
    return settings.store_path().parent / "daemon.lock"


def status_path(settings: Configured) -> Path:
    """Where the running daemon keeps its status for ``cooldownd status``."""
    return settings.store_path().parent / "status.json"


def acquire_lock(settings: Configured) -> int:
    """Take the single-instance lock; raise CooldownError naming the running pid when held."""
    path = lock_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StoreError.from_os(path, exc, "cannot create the lock file") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        other = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise CooldownError(f"another cooldownd is already running (pid {other}) for {settings.store_path()}; "
                            "stop it first (systemctl --user stop cooldownd)") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError as exc:
        os.close(fd)
        raise StoreError.from_os(path, exc, "cannot write the lock file") from exc
    return fd


def running_pid(settings: Configured) -> int | None:
    """The pid of the daemon holding the lock, or None when no daemon runs."""
    path = lock_path(settings)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
        return int(text) if text.isdigit() else None
    else:
        return None
    finally:
        os.close(fd)


def open_store(settings: Configured) -> Store:
    """The store for a one-shot command: a database a running daemon holds is never moved aside."""
    return Store.open(settings.store_path(), move_aside=running_pid(settings) is None)


def open_for_reading(settings: Configured) -> Store | None:
    """The store for a command that only reads (history, status, report); None when there is none yet.

    Read-only, so safe next to a running daemon. Only a file older than this cooldownd with no daemon
    holding it is opened to be written: upgraded first, as any other command would.
    """
    try:
        store = open_readonly(settings.store_path())
    except StoreError as exc:
        if exc.kind is StoreErrorKind.CORRUPT and running_pid(settings) is not None:
            raise held_damaged(settings.store_path(), exc.__cause__ or exc) from exc
        raise
    if store is not None and store.version < SCHEMA_VERSION and running_pid(settings) is None:
        store.close()
        store = open_store(settings)
    return store


def signal_daemon(settings: Configured) -> bool:
    """Ask a running daemon to look for new workouts to offer (SIGUSR1); False when none runs."""
    pid = running_pid(settings)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGUSR1)
    except OSError:
        return False
    return True


def cmd_status(args: argparse.Namespace) -> int:
    """``cooldownd status``: what the daemon is doing, or that it is not running."""
    settings = snapshot(args.config)  # the store's path only: no pydantic (quicksettings.py)
    fmt = "json" if getattr(args, "json", False) else getattr(args, "format", None)
    if getattr(args, "follow", False) or fmt == "waybar":
        from cooldownd.cli import statusbar

        return statusbar.run(status_path(settings), lambda: running_pid(settings), fmt or "text", args.follow)
    pid = running_pid(settings)
    data: dict[str, Any] = {"running": pid is not None, "pid": pid}
    if pid is not None:
        with contextlib.suppress(OSError, ValueError):
            data.update(json.loads(status_path(settings).read_text()))
            data["uptime_s"] = round(time.time() - data["started"])
    store = open_for_reading(settings)
    rows = []
    if store is not None:
        try:
            rows = store.workouts(limit=1)
        finally:
            store.close()
    data["last_workout"] = lines.workout(rows[0].summary) if rows else None
    if fmt == "json":
        print(json.dumps(data))
        return 0
    if pid is None:
        print("cooldownd is not running (start it: systemctl --user start cooldownd, or cooldownd run)")
    else:
        print(f"cooldownd is running (pid {pid}, up {ago(data.get('uptime_s', 0))}): {data.get('line', '')}")
        if data.get("pending_offer"):
            print(f"pending offer for workout {data['pending_offer']['workout']}")
        from cooldownd.daemon.status import source_words

        for words in source_words(data.get("sources") or {}, time.time()):
            print(f"source: {words}")
    if rows:
        s = rows[0].summary
        load = "" if s.load is None else f", load {round(s.load)}"
        print(f"last workout: {format_duration(s.duration_s or 0)} {sport_word(s.sport, s.sub_sport)}, "
              f"{level_word(s.level)}{load}, ended {day_time(s.end)} UTC ({ago(time.time() - s.end)} ago)")
    else:
        print("no workouts recorded yet")
    return 0
