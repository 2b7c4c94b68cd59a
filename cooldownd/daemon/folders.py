"""The folder supervisor: settled files from watch.py are imported (daemon/ingest.py), then offered.

Each file is delivered by the watched folder that holds it: ``cooldownd sources`` and the status say
when each folder last delivered a new workout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cooldownd.daemon import tree, watch
from cooldownd.daemon.ingest import Ingest
from cooldownd.imports.inputs import inputs
from cooldownd.ports import StatusSink
from cooldownd.record.recorder import Rules

if TYPE_CHECKING:  # pydantic stays out of the daemon (plainsettings.py)
    from cooldownd.settings import WatchSettings

log = logging.getLogger(__name__)


class FolderImporter:
    """Imports what lands in ``watch.folders`` and asks for the newest recent workout to be offered."""

    def __init__(self, settings: WatchSettings, store_path: Path, rules: Callable[[], Rules], status: StatusSink,
                 offers: asyncio.Queue[int | None]) -> None:
        self.settings, self.store_path, self.rules = settings, store_path, rules
        self.status, self.offers = status, offers
        self.folders = tuple(settings.folders)
        self.watching = asyncio.Event()
        self.ingest: Ingest | None = None

    async def run(self) -> None:
        """Watch until cancelled; once the watches are up, catch up on files that arrived while we were down.

        Watching starts first so nothing lands unseen between the catch-up scan and the watch; a file
        both scanned and handed over is simply a duplicate the second time.
        """
        self.status.update(folders=list(self.folders))
        async with Ingest(self.store_path, self.rules, self.status, self.offers) as self.ingest:
            await self._watch(self.settings)

    async def _watch(self, w: WatchSettings) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(watch.watch(self.folders, poll_s=w.poll_s, settle_s=w.settle_s, force_poll=w.force_poll,
                                       on_file=self._on_file, ready=self.watching, unfinished=self._unfinished,
                                       unfinished_wait_s=w.unfinished_wait_s))
            await self.watching.wait()
            existing = await tree.scan_existing(self.folders)
            if existing:
                log.info("catching up on %d files in the watched folders", len(existing))
                await self._import(existing)  # old ones are never offered: notify.max_age decides

    def _unfinished(self, path: Path) -> str | None:
        """``partial.incomplete`` (it decodes the file) in the decoding process: nothing of it stays here."""
        from cooldownd.imports.partial import incomplete

        assert self.ingest is not None
        return self.ingest.worker.call(self.rules(), incomplete, path)

    async def _on_file(self, path: Path) -> None:
        await self._import([path])

    async def _import(self, paths: Sequence[Path]) -> None:
        assert self.ingest is not None
        roots = await asyncio.to_thread(tree.expand, self.folders)
        for root, group in by_root(paths, roots).items():
            for r in await self.ingest(inputs(group), source=None if root is None else str(root)):
                if r.status == "error":
                    log.warning("%s: %s", r.file, r.error)


def by_root(paths: Sequence[Path], roots: Sequence[Path]) -> dict[Path | None, list[Path]]:
    """``paths`` grouped by the watched root holding each (the deepest one; None when none does)."""
    out: dict[Path | None, list[Path]] = {}
    for path in paths:
        root = max((r for r in roots if path.is_relative_to(r)), key=lambda r: len(r.parts), default=None)
        out.setdefault(root, []).append(path)
    return out
