"""The daemon: long-lived supervisors in one TaskGroup, sd_notify, signals, graceful shutdown.

Like hypercorn's ``run``: the shutdown trigger is an injected awaitable (tests pass ``event.wait``);
signal handlers are installed only when none is given. Each supervisor has its own error boundary:
it logs, backs off (``core.retry.backoff``) and restarts, so one failing edge never takes the others
down. No supervisor is handed the daemon: each gets what it uses (the store, its settings section,
the recorder's rules, the status sink, the offers queue), as hypercorn hands each server its config.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cooldownd import plainsettings
from cooldownd.daemon import memory
from cooldownd.daemon.instance import acquire_lock, status_path
from cooldownd.daemon.status import Status
from cooldownd.daemon.supervise import exit_backstop, supervise
from cooldownd.daemon.systemd import SdNotify
from cooldownd.desktop.offers import newest_unoffered, offer_workout_async
from cooldownd.desktop.walk import Stage
from cooldownd.errors import ConfigError
from cooldownd.record.recorder import Rules
from cooldownd.asyncstore import AsyncStore
from cooldownd.store import Store

if TYPE_CHECKING:
    from cooldownd import settings as cfg
    from cooldownd.daemon.folders import FolderImporter
    from cooldownd.live.session import LiveSession
    from cooldownd.sources.found import FoundFolders

log = logging.getLogger(__name__)
GRACEFUL_TIMEOUT_S = 3.0
# SIGTERM to exit at most this long, whatever a worker thread is blocked in (a stalled FUSE read, a
# database another process holds locked): systemd's TimeoutStopSec would SIGKILL us at 10 s.
EXIT_DEADLINE_S = 4.0


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
        self.offers: asyncio.Queue[int | None] = asyncio.Queue()
        self.status = Status(self.sd, status_path(settings), ble_enabled=settings.ble.enabled)
        self._tg: asyncio.TaskGroup | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._live: LiveSession | None = None
        self._signalled = False  # signal handlers installed: a real process, the exit backstop applies
        self.stage = Stage()  # the walk-through on screen, for control commands

    def rules(self) -> Rules:
        """The recorder's rules as configured now (a reload changes them; the year turns)."""
        from cooldownd.record.asof import rules_of

        return rules_of(self.settings, self.library)

    async def run(self, shutdown: Awaitable[Any] | None = None) -> None:
        """Run until ``shutdown`` completes (or SIGTERM/SIGINT when it is None)."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        self._signalled = shutdown is None
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
                tg.create_task(self.reassess_if_changed())
                await self._start_supervisors(tg)
        except* _Shutdown:
            pass
        finally:
            for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            self.status.remove()

    async def _until(self, shutdown: Awaitable[Any]) -> None:
        await shutdown
        log.info("cooldownd: stopping")
        if self._signalled:
            exit_backstop(EXIT_DEADLINE_S)
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
        for row in await self.store.call(Store.workouts, 1):
            self.status.note_workout(row.summary)
        folders = self._folders()
        self._spawn(tg, "folders", folders.run)
        self._spawn(tg, "offers", self._offer_loop)
        self._spawn(tg, "control", self._control)
        if self.settings.ble.enabled:
            self._live = self._live_session()
            self._spawn(tg, "live", self._live.run)
        self._spawn(tg, "found", self._found().run)
        self._spawn(tg, "intervals", self._intervals())
        if self.sd.watchdog_interval():
            self._spawn(tg, "watchdog", self.sd.watchdog_loop)
        self.offers.put_nowait(None)  # a workout that ended while we were down may still be offered
        try:
            async with asyncio.timeout(30):
                await folders.watching.wait()
        except TimeoutError:
            log.warning("watched folders are not up after 30 s; telling systemd we are ready anyway")
        self.sd.ready(self.status.line())
        self.status.update()
        log.info("cooldownd: ready (%s)", self.status.line())

    def _folders(self) -> FolderImporter:
        from cooldownd.daemon.folders import FolderImporter

        return FolderImporter(self.settings.watch, self.store.store.path, self.rules, self.status, self.offers)

    def _live_session(self) -> LiveSession:
        from cooldownd.live.session import LiveSession

        s = self.settings
        return LiveSession(self.store, s.ble, s.detect, self.rules, self.status, self.offers)

    def _found(self) -> FoundFolders:
        from cooldownd.sources.found import FoundFolders

        return FoundFolders(self.settings.watch, self.store.store.path, self.rules, self.status, self.offers)

    def _intervals(self) -> Callable[[], Coroutine[Any, Any, None]]:
        from cooldownd.sources.poller import run_intervals

        s = self.settings
        return functools.partial(run_intervals, s.sources.intervals, max_age=s.notify.max_age,
                                 config_path=self.config_path, store_path=self.store.store.path, rules=self.rules,
                                 status=self.status, offers=self.offers)

    def _spawn(self, tg: asyncio.TaskGroup, name: str, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._tasks[name] = tg.create_task(supervise(name, fn), name=name)

    # -- reload ---------------------------------------------------------------------------------
    def reload(self) -> None:
        """SIGHUP: re-read the configuration; keep the old one if the new one is invalid."""
        from cooldownd.routinefile import load_library

        self.sd.reloading()
        try:
            new, _ = plainsettings.load(self.config_path)
            library = load_library(new.routines.file)
        except ConfigError as exc:
            log.error("reload refused, keeping the running configuration: %s", exc)
            self.sd.ready(self.status.line())
            return
        old, self.settings, self.library = self.settings, new, library
        self.status.ble_enabled = new.ble.enabled
        log.info("configuration reloaded from %s", self.config_path)
        if self._tg is not None:
            if (old.watch, old.store) != (new.watch, new.store):
                self._restart("folders")
            if (old.ble, old.detect, old.athlete, old.intensity) != (new.ble, new.detect, new.athlete, new.intensity):
                self._restart("live")
            if (old.athlete, old.intensity) != (new.athlete, new.intensity):
                self._tg.create_task(self.reassess_if_changed())
            if (old.watch, old.store) != (new.watch, new.store):
                self._restart("found")
            if (old.sources, old.notify.max_age, old.store) != (new.sources, new.notify.max_age, new.store):
                self._restart("intervals")
        self.sd.ready(self.status.line())

    async def reassess_if_changed(self) -> None:
        """Once [athlete] or [intensity] differ from what the stored numbers were judged with: judge again."""
        from cooldownd.daemon.ingest import log_reassessed
        from cooldownd.record.asof import reassess_if_changed

        try:
            changes = await self.store.call(reassess_if_changed, self.rules())
        except Exception as exc:  # the stored numbers stay as they were; `cooldownd reassess` retries
            log.error("re-assessing stored workouts failed: %s", exc)
            return
        log_reassessed(changes or (), "your [athlete] or [intensity] settings changed")

    def _restart(self, name: str) -> None:
        task = self._tasks.get(name)
        if task is not None:
            task.cancel()
        assert self._tg is not None
        if name == "folders":
            self._spawn(self._tg, name, self._folders().run)
        elif name == "found":
            self.status.forget_source("found")
            self._spawn(self._tg, name, self._found().run)
        elif name == "intervals":
            self.status.forget_source("intervals.icu")
            self._spawn(self._tg, name, self._intervals())
        elif name == "live" and self.settings.ble.enabled:
            self._live = self._live_session()
            self._spawn(self._tg, name, self._live.run)

    # -- offers ---------------------------------------------------------------------------------
    async def _offer_loop(self) -> None:
        """Offer one walk-through at a time: first what the last run left due, then the newest recent workout."""
        from cooldownd.desktop.cues import notifier_for
        from cooldownd.desktop.pending import resume_pending

        again = await resume_pending(self.store, self.settings.notify.max_age)
        while True:
            if again is None:
                await self.offers.get()
                workout_id = await self.store.call(newest_unoffered, time.time(), self.settings.notify.max_age)
                if workout_id is None:
                    continue
            else:
                workout_id = again.workout_id
            notifier = await notifier_for(self.settings, self.library)
            try:
                await offer_workout_async(self.store, workout_id, self.settings, self.library, notifier, self.status,
                                          stage=self.stage, resume=again)
            finally:
                again = None
                await notifier.aclose()
                memory.release()  # what the cards, pictures and chimes left

    async def _control(self) -> None:
        """Answer ``cooldownd start|next|later|stop`` for the daemon's walk-throughs, all its life."""
        from cooldownd.desktop.control import serving

        async with serving(self.stage, take_over=False):
            await asyncio.Event().wait()


# -- commands -------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    """``cooldownd run``: the daemon in the foreground."""
    settings, path = plainsettings.load(args.config)  # validated in a child: no pydantic resident here
    lock = acquire_lock(settings)
    store = AsyncStore(Store.open(settings.store_path()))
    try:
        asyncio.run(Daemon(settings, path if args.config or path.exists() else None, store).run())
    finally:
        store.close()
        os.close(lock)
    log.info("cooldownd: stopped")
    return 0
