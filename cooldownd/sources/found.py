"""The found-folders supervisor: device and app folders found at run time, watched through watch.py.

Discovery (``catalog.found_folders``) runs on a thread every ``watch.poll_s`` inside the watcher, so a
watch plugged in after start is watched within one poll; MTP/FUSE mounts are polled (inotify never fires
there), local app folders get inotify. Every file present when a folder is found is handed over (a watch
plugged in before the daemon started still has today's ride), newest first; files imported before are
skipped by (folder, name, size, mtime) kept in the store, so re-plugging a watch reads only new files over
the slow MTP link. A device unplugged mid-read is one INFO line, and its file is read when it is back.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cooldownd.daemon.ingest import Ingest, load_state, save_state
from cooldownd.imports.inputs import inputs
from cooldownd.ports import StatusSink, Store
from cooldownd.record.recorder import Rules
from cooldownd.sources.catalog import found_folders
from cooldownd.sources.devices import Found

if TYPE_CHECKING:  # pydantic stays out of the daemon (plainsettings.py)
    from cooldownd.settings import WatchSettings

log = logging.getLogger(__name__)

SEEN_KEY = "sources.found.seen"
MAX_SEEN = 20000


class FoundFolders:
    """Watches what ``watch.auto`` finds until cancelled (the daemon's ``found`` supervisor)."""

    def __init__(self, settings: WatchSettings, store_path: Path, rules: Callable[[], Rules], status: StatusSink,
                 offers: asyncio.Queue[int | None]) -> None:
        self.watch, self.store_path, self.rules = settings, store_path, rules
        self.status, self.offers = status, offers
        self.ingest: Ingest | None = None
        self.found: dict[Path, Found] = {}
        self.seen: dict[str, list[int]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.unplugged: set[Path] = set()  # roots gone mid-read, said once

    async def run(self) -> None:
        from cooldownd.daemon import watch

        if not self.watch.auto:
            return
        async with Ingest(self.store_path, self.rules, self.status, self.offers) as self.ingest:
            self.seen = await self.ingest.store.call(_load)
            self.loop = asyncio.get_running_loop()
            w = self.watch
            await watch.watch((), on_file=self._on_file, poll_s=w.poll_s, settle_s=w.settle_s,
                              force_poll=w.force_poll, catch_up=True, discover=self._discover)

    def _discover(self) -> list[Path]:
        """On the watcher's thread: what is there now; logs each folder found or gone once."""
        now = {f.path: f for f in found_folders(self.watch)}
        changed = now.keys() != self.found.keys() or not self.found
        for path, f in now.items():
            if path not in self.found:
                log.info("%s: %s: %s", f.label, f.why, path)
                self.unplugged.discard(path)
        for path, f in self.found.items():
            if path not in now:
                log.info("%s: gone (%s)", f.label, path)
        self.found = now
        if changed and self.loop is not None:
            folders = [{"path": str(p), "why": f.why, "label": f.label} for p, f in now.items()]
            self.loop.call_soon_threadsafe(lambda: self.status.source("found", folders=folders))
        return list(now)

    async def _on_file(self, path: Path) -> bool:
        assert self.ingest is not None
        root = next((r for r in self.found if path.is_relative_to(r)), None)
        key = f"{root}\0{path.relative_to(root) if root else path}"
        try:
            st = path.stat()
        except OSError:
            return not self._gone(root, path)
        sig = [st.st_size, st.st_mtime_ns]
        if self.seen.get(key) == sig:
            return True  # imported (or refused) before: not read again over the slow link
        name = str(root) if root else str(path.parent)
        label = self.found[root].label if root in self.found else name
        results = await self.ingest(inputs([path]), source=name, label=label)
        if any(r.status == "error" for r in results) and self._gone(root, path):
            return False
        for r in results:
            if r.status == "error":
                log.warning("%s: %s", r.file, r.error)
        self.seen[key] = sig
        await self.ingest.store.call(_save, self.seen)
        return True

    def _gone(self, root: Path | None, path: Path) -> bool:  # noqa: D401
        """True (and one INFO line) when the folder went away mid-read: a device was unplugged."""
        if root is not None and os.path.isdir(root):
            return False
        if root not in self.unplugged:
            self.unplugged.add(root)
            label = self.found[root].label if root in self.found else str(root)
            log.info("%s: unplugged while %s was being read; what is left is read when the device is back",
                     label, path.name)
        return True


def _load(store: Store) -> dict[str, list[int]]:
    return load_state(store, SEEN_KEY)


def _save(store: Store, seen: dict[str, list[int]]) -> None:
    if len(seen) > MAX_SEEN:  # keep the newest files (the mtime)
        seen = dict(sorted(seen.items(), key=lambda kv: kv[1][1])[-MAX_SEEN:])
    save_state(store, SEEN_KEY, seen)
