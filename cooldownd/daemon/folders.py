"""The folder supervisor: settled files from watch.py are imported, then offered.

Imports run on a thread of their own with their own database connection: decoding a large (or
hostile) file takes seconds, and the live journal's batches must not wait behind it. SQLite (WAL)
serialises the two connections' short write transactions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from cooldownd.daemon import tree, watch
from cooldownd.ports import StatusSink
from cooldownd.record.recorder import Rules
from cooldownd.record.summary import Result
from cooldownd.settings import WatchSettings
from cooldownd.asyncstore import AsyncStore
from cooldownd.store import Store

log = logging.getLogger(__name__)


def _import(store: Store, paths: Sequence[Path], rules: Rules) -> list[Result]:
    """On the import thread: import ``paths`` (each file in its own error boundary)."""
    from cooldownd.imports.importer import import_paths

    def said(changes: list) -> None:
        for c in changes:
            log.info("re-assessed workout #%d: load %s %s -> %s %s (older workouts imported now came before it)",
                     c.id, c.before.load, c.before.level.value, c.after.load, c.after.level.value)

    return list(import_paths(paths, store=store, athlete=rules.athlete, knobs=rules.knobs, library=rules.library,
                             this_year=rules.this_year, on_reassessed=said))


class FolderImporter:
    """Imports what lands in ``watch.folders`` and asks for the newest recent workout to be offered."""

    def __init__(self, settings: WatchSettings, store_path: Path, rules: Callable[[], Rules], status: StatusSink,
                 offers: asyncio.Queue[int | None]) -> None:
        self.settings, self.store_path, self.rules = settings, store_path, rules
        self.status, self.offers = status, offers
        self.folders = tuple(settings.folders)
        self.watching = asyncio.Event()
        self.imports: AsyncStore | None = None

    async def run(self) -> None:
        """Watch until cancelled; once the watches are up, catch up on files that arrived while we were down.

        Watching starts first so nothing lands unseen between the catch-up scan and the watch; a file
        both scanned and handed over is simply a duplicate the second time.
        """
        self.status.update(folders=list(self.folders))
        self.imports = AsyncStore(await asyncio.to_thread(Store.open, self.store_path))
        try:
            await self._watch(self.settings)
        finally:
            await asyncio.to_thread(self.imports.close)

    async def _watch(self, w: WatchSettings) -> None:
        async with asyncio.TaskGroup() as tg:
            from cooldownd.imports.partial import incomplete

            tg.create_task(watch.watch(self.folders, poll_s=w.poll_s, settle_s=w.settle_s, force_poll=w.force_poll,
                                       on_file=self._on_file, ready=self.watching, unfinished=incomplete,
                                       unfinished_wait_s=w.unfinished_wait_s))
            await self.watching.wait()
            existing = await tree.scan_existing(self.folders)
            if existing:
                log.info("catching up on %d files in the watched folders", len(existing))
                await self._import(existing)  # old ones are never offered: notify.max_age decides

    async def _on_file(self, path: Path) -> None:
        await self._import([path])

    async def _import(self, paths: Sequence[Path]) -> None:
        assert self.imports is not None
        results = await self.imports.call(_import, paths, self.rules())
        fresh = [r.summary for r in results if r.status == "imported" and r.summary is not None]
        for r in results:
            if r.status == "error":
                log.warning("%s: %s", r.file, r.error)
            elif r.status == "imported" and r.summary is not None:
                log.info("%s: imported %s, %s", r.file, r.summary.sport, r.summary.level.value)
        for summary in fresh:
            self.status.note_workout(summary)
        if fresh:
            self.offers.put_nowait(None)
