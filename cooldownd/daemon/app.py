"""The daemon: long-lived supervisors in one TaskGroup, sd_notify, signals, graceful shutdown.

Like hypercorn's ``run``: the shutdown trigger is an injected awaitable (tests pass ``event.wait``);
signal handlers are installed only when none is given. Each supervisor has its own error boundary:
it logs, backs off and restarts, so one failing edge never takes the others down.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from cooldownd import settings as cfg
from cooldownd.errors import ConfigError, CooldownError
from cooldownd.daemon.instance import acquire_lock, status_path
from cooldownd.desktop.offers import newest_unoffered, offer_workout_async
from cooldownd.store import AsyncStore, Store
from cooldownd.daemon.systemd import SdNotify

log = logging.getLogger(__name__)
GRACEFUL_TIMEOUT_S = 3.0


class _Shutdown(Exception):
    """Raised inside the TaskGroup to stop every supervisor."""


# -- the daemon -----------------------------------------------------------------------------------
class Daemon:
    """Wires the edges: folder watcher and strap in, store and notifications out."""

    def __init__(self, settings: cfg.Settings, config_path: Path | None, store: AsyncStore,
                 sd: SdNotify | None = None) -> None:
        from cooldownd.routinefile import load_library

        self.settings = settings
        self.config_path = config_path
        self.store = store
        self.sd = sd or SdNotify()
        self.library = load_library(settings.routines.file)
        self.started = time.time()
        self.offers: asyncio.Queue[int | None] = asyncio.Queue()
        self.status: dict[str, Any] = {"pid": os.getpid(), "started": self.started, "folders": [],
                                       "device": None, "last_workout": None, "pending_offer": None,
                                       "workout": None, "walk": None}
        self._tg: asyncio.TaskGroup | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._live = None

    async def run(self, shutdown: Awaitable[Any] | None = None) -> None:
        """Run until ``shutdown`` completes (or SIGTERM/SIGINT when it is None)."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        if shutdown is None:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            shutdown = stop.wait()
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        loop.add_signal_handler(signal.SIGUSR1, self.offers.put_nowait, None)
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                tg.create_task(self._until(shutdown))  # first: a SIGTERM during start-up stops it too
                await self._start_supervisors(tg)
        except* _Shutdown:
            pass
        finally:
            for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            with contextlib.suppress(OSError):
                status_path(self.settings).unlink()

    async def _until(self, shutdown: Awaitable[Any]) -> None:
        await shutdown
        log.info("cooldownd: stopping")
        self.sd.stopping()
        await self._drain()
        raise _Shutdown

    async def _drain(self) -> None:
        """Give the live session a bounded moment to flush its journal before everything is cancelled."""
        if self._live is not None:
            with contextlib.suppress(TimeoutError, Exception):
                async with asyncio.timeout(GRACEFUL_TIMEOUT_S):
                    await self._live.flush()

    async def _start_supervisors(self, tg: asyncio.TaskGroup) -> None:
        from cooldownd.daemon.folders import FolderImporter

        for row in await self.store.call(Store.workouts, 1):
            self.note_workout(row.summary, row.end)
        folders = FolderImporter(self)
        self._spawn(tg, "folders", folders.run)
        self._spawn(tg, "offers", self._offer_loop)
        if self.settings.ble.enabled:
            from cooldownd.live.session import LiveSession

            self._live = LiveSession(self)
            self._spawn(tg, "live", self._live.run)
        interval = self.sd.watchdog_interval()
        if interval:
            self._spawn(tg, "watchdog", lambda: self._watchdog(interval))
        self.offers.put_nowait(None)  # a workout that ended while we were down may still be offered
        try:
            async with asyncio.timeout(30):
                await folders.watching.wait()
        except TimeoutError:
            log.warning("watched folders are not up after 30 s; telling systemd we are ready anyway")
        self.sd.ready(self.status_line())
        self.update_status()
        log.info("cooldownd: ready (%s)", self.status_line())

    def _spawn(self, tg: asyncio.TaskGroup, name: str, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._tasks[name] = tg.create_task(_supervise(name, fn), name=name)

    async def _watchdog(self, interval: float) -> None:
        while True:
            self.sd.watchdog()
            await asyncio.sleep(interval)

    # -- reload ---------------------------------------------------------------------------------
    def reload(self) -> None:
        """SIGHUP: re-read the configuration; keep the old one if the new one is invalid."""
        from cooldownd.routinefile import load_library

        self.sd.reloading()
        try:
            new, _ = cfg.load(self.config_path)
            library = load_library(new.routines.file)
        except ConfigError as exc:
            log.error("reload refused, keeping the running configuration: %s", exc)
            self.sd.ready(self.status_line())
            return
        old, self.settings, self.library = self.settings, new, library
        log.info("configuration reloaded from %s", self.config_path)
        if self._tg is not None:
            if (old.watch, old.store) != (new.watch, new.store):
                self._restart("folders")
            if old.ble != new.ble or old.detect != new.detect or old.athlete != new.athlete:
                self._restart("live")
        self.sd.ready(self.status_line())

    def _restart(self, name: str) -> None:
        task = self._tasks.get(name)
        if task is not None:
            task.cancel()
        assert self._tg is not None
        if name == "folders":
            from cooldownd.daemon.folders import FolderImporter

            self._spawn(self._tg, name, FolderImporter(self).run)
        elif name == "live" and self.settings.ble.enabled:
            from cooldownd.live.session import LiveSession

            self._live = LiveSession(self)
            self._spawn(self._tg, name, self._live.run)

    # -- offers ---------------------------------------------------------------------------------
    async def _offer_loop(self) -> None:
        """Offer one walk-through at a time: the newest recent workout not offered yet."""
        from cooldownd.desktop.cues import notifier_for

        while True:
            await self.offers.get()
            now = time.time()
            workout_id = await self.store.call(newest_unoffered, now, self.settings.notify.max_age)
            if workout_id is None:
                continue
            notifier = await notifier_for(self.settings, self.library)
            try:
                await offer_workout_async(self.store, workout_id, self.settings, self.library, notifier, self)
            finally:
                await notifier.aclose()

    # -- status ---------------------------------------------------------------------------------
    def status_line(self) -> str:
        """One human line for systemd's STATUS= and ``cooldownd status``."""
        s = self.status
        parts = [f"watching {len(s['folders'])} folder{'s' if len(s['folders']) != 1 else ''}"]
        dev = s.get("device")
        if dev:
            text = f"{dev.get('name') or dev.get('address')} {dev.get('state', '')}".strip()
            if dev.get("hr") is not None:
                text += f", HR {dev['hr']}"
            if dev.get("battery") is not None:
                text += f", battery {dev['battery']} %"
            parts.append(text)
        elif self.settings.ble.enabled:
            parts.append(s.get("ble") or "looking for a heart-rate strap")
        last = s.get("last_workout")
        if last:
            from cooldownd.core.wording import ago, format_duration, level_word, sport_word

            what = sport_word(last.get("sport") or "generic", last.get("sub_sport") or "generic")
            level = level_word(last.get("level") or "?")
            parts.append(f"last: {what} {format_duration(last.get('duration_s') or 0)}, {level}, "
                         f"{ago(time.time() - last['end_ts'])} ago")
        return "; ".join(parts)

    def update_status(self, **changes: Any) -> None:
        """Merge ``changes`` into the status; tell systemd and write the status file."""
        self.status.update(changes)
        line = self.status_line()
        self.sd.status(line)
        data = dict(self.status, line=line, updated=time.time())
        path = status_path(self.settings)
        tmp = path.with_suffix(".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(data))
            os.replace(tmp, path)
        except OSError as exc:
            log.debug("%s: cannot write status: %s", path, exc)

    def note_workout(self, summary: dict[str, Any], end_ts: float) -> None:
        """Remember the newest workout for the status line."""
        last = self.status.get("last_workout")
        if last is None or end_ts >= last["end_ts"]:
            self.update_status(last_workout={k: summary.get(k) for k in ("sport", "sub_sport", "level", "duration_s",
                                                                          "load", "start")} | {"end_ts": end_ts})


async def _supervise(name: str, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``fn`` forever: log a failure, back off (1 s doubling to 60 s), restart."""
    delay = 1.0
    while True:
        t0 = time.monotonic()
        try:
            await fn()
            return
        except asyncio.CancelledError:
            raise
        except CooldownError as exc:
            log.error("%s: %s; retrying in %.0f s", name, exc, delay)
        except Exception:
            log.exception("%s: failed; restarting in %.0f s", name, delay)
        if time.monotonic() - t0 > 300:
            delay = 1.0
        await asyncio.sleep(delay)
        delay = min(delay * 2, 60.0)


# -- commands -------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    """``cooldownd run``: the daemon in the foreground."""
    settings, path = cfg.load(args.config)
    lock = acquire_lock(settings)
    store = AsyncStore(Store.open(settings.store_path()))
    try:
        asyncio.run(Daemon(settings, path if args.config or path.exists() else None, store).run())
    finally:
        store.close()
        os.close(lock)
    log.info("cooldownd: stopped")
    return 0
