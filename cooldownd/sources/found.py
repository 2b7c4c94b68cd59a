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
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from cooldownd.sources.catalog import StatusSink, found_folders, note_delivery
from cooldownd.sources.devices import Found
from cooldownd.sources.poller import Ingest
from cooldownd.store import Store

log = logging.getLogger(__name__)

SEEN_KEY = "sources.found.seen"
MAX_SEEN = 20000


class FoundFolders:
    """Watches what ``watch.auto`` finds until cancelled."""

    def __init__(self, watch_settings: Any, *, store: Any, ingest: Ingest, status: StatusSink) -> None:
        self.watch, self.store, self.ingest, self.status = watch_settings, store, ingest, status
        self.found: dict[Path, Found] = {}
        self.seen: dict[str, list[int]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.unplugged: set[Path] = set()  # roots gone mid-read, said once

    async def run(self) -> None:
        from cooldownd.daemon import watch

        if not self.watch.auto:
            return
        self.seen = await self.store.call(_load)
        self.loop = asyncio.get_running_loop()
        w = self.watch
        await watch.watch((), on_file=self._on_file, poll_s=w.poll_s, settle_s=w.settle_s, force_poll=w.force_poll,
                          catch_up=True, discover=self._discover)

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
        results = await self.ingest(name, [(str(path), lambda: path.read_bytes())])
        if any(r.get("status") == "error" for r in results) and self._gone(root, path):
            return False
        for r in results:
            if r.get("status") == "error":
                log.warning("%s: %s", r.get("file"), r.get("error"))
        self.seen[key] = sig
        await self.store.call(_save, self.seen)
        if any(r.get("status") == "imported" for r in results):
            label = self.found[root].label if root in self.found else name
            await note_delivery(self.store, self.status, name, time.time(), label=label)
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
    try:
        data = json.loads(store.get_kv(SEEN_KEY) or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _save(store: Store, seen: dict[str, list[int]]) -> None:
    if len(seen) > MAX_SEEN:  # keep the newest files (the mtime)
        seen = dict(sorted(seen.items(), key=lambda kv: kv[1][1])[-MAX_SEEN:])
    store.set_kv(SEEN_KEY, json.dumps(seen))


async def run_found(settings: Any, library: Any, *, store: Any, status: StatusSink, offers: asyncio.Queue[Any],
                    on_workout: Any) -> None:
    """The daemon's ``found`` supervisor: device and app folders (nothing when ``watch.auto`` is off)."""
    from cooldownd.sources.ingest import Ingest as Importer

    if settings.watch.auto:
        async with Importer(store.store.path, settings, library, offers, on_workout) as ingest:
            await FoundFolders(settings.watch, store=store, ingest=ingest, status=status).run()
