"""Watched folders: hand each new .fit/.fit.gz/.zip to a callback once it has settled.

``folders`` are paths or globs (``~`` expanded), re-expanded every ``poll_s`` so a device
mounted later is picked up; each is watched recursively. inotify (through ctypes) where
the file system delivers events; polling every ``poll_s`` on FUSE (gvfs MTP), network
file systems, when inotify fails, or when ``force_poll``. A file is handed over once its
(size, mtime) stayed unchanged for ``settle_s``, and again only if it changes later.
Files present when the watcher starts are not handed over unless ``catch_up`` (or use
``scan_existing``); folders that appear later are new, so all their files are handed over.
Which files: ``imports.inputs.is_workout_file``, the rule imports use too (no dot files, ``*.tmp``,
``*.part``, ``inProgressActivity.fit``); dot directories are not entered. Only regular files (links
followed) are handed over: a FIFO or a link to a device is never opened.
"""

from __future__ import annotations

import asyncio
import glob
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from cooldownd.daemon.inotify import (GONE, IN_CREATE, IN_IGNORED, IN_ISDIR, IN_MOVED_TO, IN_Q_OVERFLOW, Inotify,
                                      needs_polling)
from cooldownd.daemon import tree
from cooldownd.daemon.tree import Sig, expand
from cooldownd.imports.inputs import is_workout_file

log = logging.getLogger(__name__)

OnFile = Callable[[Path], Awaitable[None]]
Check = Callable[[Path], "str | None"]  # why a settled file is not finished yet, or None
RECHECK_S = 5.0  # an unfinished file that stopped changing is looked at again this often


class _Watcher:
    """State of one ``watch`` call: roots, inotify watches, files settling, files known."""

    def __init__(self, folders: Sequence[str], poll_s: float, settle_s: float, on_file: OnFile,
                 force_poll: bool, catch_up: bool, unfinished: Check | None = None,
                 unfinished_wait_s: float = 300.0) -> None:
        self.folders = tuple(folders)
        self.poll_s, self.settle_s, self.on_file = poll_s, settle_s, on_file
        self.unfinished, self.unfinished_wait_s = unfinished, unfinished_wait_s
        self.waiting: dict[Path, tuple[Sig, float]] = {}  # unfinished: (signature, unchanged since)
        self.force_poll, self.catch_up = force_poll, catch_up
        self.roots: dict[Path, bool] = {}  # root -> polled
        self.wds: dict[int, Path] = {}
        self.pending: dict[Path, tuple[Sig, float]] = {}  # path -> (signature, stable since)
        self.known: dict[Path, Sig] = {}  # handed over (or present at start) with this signature
        self.events: list[tuple[int, int, str]] = []
        self.warned: set[str] = set()
        self.wake = asyncio.Event()
        self.stopping = False
        self.next_poll = 0.0
        self.inotify: Inotify | None = None

    async def stop_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.stopping = True
        self.wake.set()

    def _open_inotify(self) -> None:
        if self.force_poll:
            return
        try:
            self.inotify = Inotify()
        except (OSError, AttributeError) as exc:
            log.warning("watch: inotify unavailable (%s); polling every %g s", exc, self.poll_s)
            return
        asyncio.get_running_loop().add_reader(self.inotify.fd, self._readable)

    def _readable(self) -> None:
        assert self.inotify is not None
        try:
            self.events += self.inotify.read()
        except OSError as exc:
            log.warning("watch: reading inotify events failed (%s)", exc)
        self.wake.set()

    def close(self) -> None:
        if self.inotify is not None:
            asyncio.get_running_loop().remove_reader(self.inotify.fd)
            self.inotify.close()
            self.inotify = None

    async def run(self, ready: asyncio.Event | None) -> None:
        self._open_inotify()
        await self._refresh_roots(initial=True)
        if ready is not None:
            ready.set()
        self.next_poll = time.monotonic() + self.poll_s
        while not self.stopping:
            self.wake.clear()
            if not self.events:
                try:
                    async with asyncio.timeout(self._timeout()):
                        await self.wake.wait()
                except TimeoutError:
                    pass
            if self.stopping:
                return
            await self._handle_events()
            if self._ticking() and time.monotonic() >= self.next_poll:
                await self._poll()
                self.next_poll = time.monotonic() + self.poll_s
            await self._settle_due()

    def _ticking(self) -> bool:
        """Whether a periodic pass is needed: polled roots, globs, or folders not there yet."""
        if any(self.roots.values()) or any(glob.has_magic(f) for f in self.folders):
            return True
        return any(Path(os.path.expanduser(f)) not in self.roots for f in self.folders)

    def _timeout(self) -> float | None:
        now = time.monotonic()
        deadlines = [since + self.settle_s for _, since in self.pending.values()]
        if self._ticking():
            deadlines.append(self.next_poll)
        return max(0.0, min(deadlines) - now) if deadlines else None

    async def _refresh_roots(self, *, initial: bool) -> None:
        current = expand(self.folders)
        for root in [r for r in self.roots if r not in current]:
            log.info("%s: folder gone; watching for it to come back", root)
            del self.roots[root]
        for root in current:
            if root not in self.roots:
                await self._add_root(root, new=not initial or self.catch_up)

    async def _add_root(self, root: Path, *, new: bool) -> None:
        polled = self.inotify is None or needs_polling(root)
        files, dirs = await asyncio.to_thread(tree.walk, root, self.warned)
        if not polled:
            polled = not self._add_watches(dirs)
            if not polled:  # files made while the watches were being added
                files, _ = await asyncio.to_thread(tree.walk, root, self.warned)
        self.roots[root] = polled
        how = f"polling every {self.poll_s:g} s" if polled else "inotify"
        log.info("%s: watching (%s, %d files there)", root, how, len(files))
        for path, sig in files.items():
            if new:
                self._note(path, sig)
            else:
                self.known[path] = sig

    def _add_watches(self, dirs: list[Path]) -> bool:
        assert self.inotify is not None
        for folder in dirs:
            try:
                self.wds[self.inotify.add(folder)] = folder
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("%s: inotify watch failed (%s); polling this folder instead", folder, exc.strerror)
                return False
        return True

    def _note(self, path: Path, sig: Sig | None = None) -> None:
        """A file was seen: (re)start its settle clock unless it is known or unchanged."""
        sig = sig or tree.sig(path)
        if sig is None:
            if os.path.lexists(path) and str(path) not in self.warned:
                self.warned.add(str(path))
                log.info("%s: not a regular file (a FIFO, device or dangling link?); ignored", path)
            else:
                log.debug("%s: vanished before it settled; dropped", path)
            self.pending.pop(path, None)
            return
        if self.known.get(path) == sig:
            return
        current = self.pending.get(path)
        if current is None or current[0] != sig:
            self.pending[path] = (sig, time.monotonic())

    async def _handle_events(self) -> None:
        events, self.events = self.events, []
        new_dirs: list[Path] = []
        rescan = False
        for wd, mask, name in events:
            if mask & IN_Q_OVERFLOW:
                rescan = True
                continue
            base = self.wds.get(wd)
            if base is None:
                continue
            if mask & GONE:
                if mask & IN_IGNORED:
                    del self.wds[wd]
                if base in self.roots and not mask & IN_IGNORED:
                    log.info("%s: folder gone; watching for it to come back", base)
                    self.roots.pop(base, None)
                continue
            path = base / name
            if mask & IN_ISDIR:
                if mask & (IN_CREATE | IN_MOVED_TO) and not name.startswith("."):
                    new_dirs.append(path)
            elif is_workout_file(name):
                self._note(path)
        for folder in new_dirs:  # a new sub-folder: watch it, and its files are all new
            files, dirs = await asyncio.to_thread(tree.walk, folder, self.warned)
            self._add_watches(dirs)
            files.update((await asyncio.to_thread(tree.walk, folder, self.warned))[0])
            for path, sig in files.items():
                self._note(path, sig)
        if rescan:
            log.warning("watch: inotify queue overflowed; rescanning")
            await self._scan_roots(polled_only=False)

    async def _poll(self) -> None:
        await self._refresh_roots(initial=False)
        await self._scan_roots(polled_only=True)

    async def _scan_roots(self, *, polled_only: bool) -> None:
        for root, polled in list(self.roots.items()):
            if polled or not polled_only:
                files, _ = await asyncio.to_thread(tree.walk, root, self.warned)
                for path, sig in files.items():
                    self._note(path, sig)
                if polled:  # forget deleted files so a new file of the same name counts
                    for path in [p for p in self.known if p.is_relative_to(root) and p not in files]:
                        del self.known[path]

    async def _settle_due(self) -> None:
        now = time.monotonic()
        due = sorted(p for p, (_, since) in self.pending.items() if now - since >= self.settle_s)
        if not due:
            return
        sigs = await asyncio.to_thread(lambda: [tree.sig(p) for p in due])
        for path, sig in zip(due, sigs):
            old, _ = self.pending.pop(path)
            if sig is None:
                log.debug("%s: vanished before it settled; dropped", path)
                self.waiting.pop(path, None)
            elif sig != old:
                self.pending[path] = (sig, time.monotonic())
            elif not await self._wait_for_rest(path, sig):
                self.known[path] = sig
                await self._hand_over(path)

    async def _wait_for_rest(self, path: Path, sig: Sig) -> bool:
        """True to keep waiting for a settled file that is not finished (bounded by unfinished_wait_s)."""
        if self.unfinished is None:
            return False
        why = await asyncio.to_thread(self.unfinished, path)
        now = time.monotonic()
        first = self.waiting.get(path)
        if first is None or first[0] != sig:
            first = (sig, now)
        if why is None:
            self.waiting.pop(path, None)
            return False
        if now - first[1] >= self.unfinished_wait_s:
            self.waiting.pop(path, None)
            log.warning("%s: still unfinished after %g s unchanged (%s); importing what is there", path,
                        self.unfinished_wait_s, why)
            return False
        if path not in self.waiting:
            log.info("%s: not finished yet (%s); waiting up to %g s for the rest", path, why, self.unfinished_wait_s)
        self.waiting[path] = first
        self.pending[path] = (sig, now + min(RECHECK_S, self.unfinished_wait_s) - self.settle_s)
        return True

    async def _hand_over(self, path: Path) -> None:
        log.debug("%s: settled; handing over", path)
        try:
            await self.on_file(path)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: handling the new file failed; the watcher carries on", path)


async def watch(folders: Sequence[str], *, on_file: OnFile, poll_s: float = 30.0,
                settle_s: float = 2.0, force_poll: bool = False, catch_up: bool = False,
                stop: asyncio.Event | None = None, ready: asyncio.Event | None = None,
                unfinished: Check | None = None, unfinished_wait_s: float = 300.0) -> None:
    """Hand each new settled file in ``folders`` to ``on_file`` until ``stop`` is set.

    ``ready`` is set once the folders present at start are scanned and watched. ``unfinished``
    (blocking, run on a thread) says why a settled file is not finished yet (a copy in chunks
    slower than ``settle_s``): it is handed over once finished, or once it stayed unchanged and
    unfinished for ``unfinished_wait_s``.
    """
    watcher = _Watcher(folders, poll_s, settle_s, on_file, force_poll, catch_up, unfinished, unfinished_wait_s)
    try:
        async with asyncio.TaskGroup() as tg:
            if stop is not None:
                tg.create_task(watcher.stop_on(stop))
            await watcher.run(ready)
    finally:
        watcher.close()
