"""The folder supervisor: settled files from watch.py are imported, then offered.

Imports run on a thread of their own with their own database connection: decoding a large (or
hostile) file takes seconds, and the live journal's batches must not wait behind it. SQLite (WAL)
serialises the two connections' short write transactions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cooldownd.daemon import watch
from cooldownd.store import AsyncStore, Store

if TYPE_CHECKING:
    from cooldownd.daemon.app import Daemon

log = logging.getLogger(__name__)


def _import(store: Store, paths: Sequence[Path], settings: Any, library: Any) -> list[dict[str, Any]]:
    """On the import thread: import ``paths`` (each file in its own error boundary)."""
    from cooldownd.imports.importer import import_paths

    return list(import_paths(paths, store=store, athlete=settings.athlete_profile(), knobs=settings.intensity_knobs(),
                             library=library, this_year=dt.date.today().year))


class FolderImporter:
    """Imports what lands in ``watch.folders`` and asks the daemon to offer the newest recent workout."""

    def __init__(self, daemon: Daemon) -> None:
        self.d = daemon
        self.folders = tuple(daemon.settings.watch.folders)
        self.watching = asyncio.Event()
        self.imports: AsyncStore | None = None

    async def run(self) -> None:
        """Watch until cancelled; once the watches are up, catch up on files that arrived while we were down.

        Watching starts first so nothing lands unseen between the catch-up scan and the watch; a file
        both scanned and handed over is simply a duplicate the second time.
        """
        w = self.d.settings.watch
        self.d.update_status(folders=list(self.folders))
        self.imports = AsyncStore(await asyncio.to_thread(Store.open, self.d.store.store.path))
        try:
            await self._watch(w)
        finally:
            await asyncio.to_thread(self.imports.close)

    async def _watch(self, w: Any) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(watch.watch(self.folders, poll_s=w.poll_s, settle_s=w.settle_s, force_poll=w.force_poll,
                                       on_file=self._on_file, ready=self.watching))
            await self.watching.wait()
            existing = await watch.scan_existing(self.folders)
            if existing:
                log.info("catching up on %d files in the watched folders", len(existing))
                await self._import(existing)  # old ones are never offered: notify.max_age decides

    async def _on_file(self, path: Path) -> None:
        await self._import([path])

    async def _import(self, paths: Sequence[Path]) -> None:
        assert self.imports is not None
        results = await self.imports.call(_import, paths, self.d.settings, self.d.library)
        fresh = [r for r in results if r.get("status") == "imported"]
        for r in results:
            if r.get("status") == "error":
                log.warning("%s: %s", r.get("file"), r.get("error"))
            elif r.get("status") == "imported":
                log.info("%s: imported %s, %s", r.get("file"), r.get("sport"), r.get("level"))
        for r in fresh:
            end = dt.datetime.fromisoformat(r["end"].replace("Z", "+00:00")).timestamp()
            self.d.note_workout(r, end)
        if fresh:
            self.d.offers.put_nowait(None)
        from cooldownd.sources.catalog import note_delivery, source_of

        roots = [str(p) for p in watch.expand(self.folders)]
        for root in {source_of(r["file"], roots) for r in fresh} - {None}:
            await note_delivery(self.d.store, self.d, root, time.time())
