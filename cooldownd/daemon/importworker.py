"""The daemon decodes in a child process, so what decoding leaves behind never stays in the daemon.

Decoding a FIT file imports fitparse's tables and fastfit's generated code, builds up to hundreds of
plans (~11 kB each) and leaves the heap fragmented by a large file's buffers: in the daemon that was
3 MB after its first import, 23 MB after the 120-file corpus and never given back (bench/idle
--phases). So the daemon sends each file's bytes to one spawned process running ``importer.prepare``
(bulk.py's pool; its log lines are replayed here) and only settles the result in its own store
(``importer.settle``: duplicate checks, one transaction), exactly as ``import --jobs 2`` does: the
same lines. The process starts with the first file (~0.3 s) and exits after ``LINGER_S`` without
one, so a burst of files pays the start once and an idle daemon holds none of it. A decoding
process that dies (killed, out of memory) costs nothing: the files it held are read again, each alone in
a fresh process (imports/retry.py), as in a bulk import; a file that kills that one too gets an error line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cooldownd.imports.bulk import Pool
    from cooldownd.imports.importer import Job
    from cooldownd.imports.inputs import Loader
    from cooldownd.record.recorder import Rules
    from cooldownd.record.summary import Result

log = logging.getLogger(__name__)
LINGER_S = 60.0


class ImportWorker:
    """One decoding process, started on demand and stopped ``linger_s`` after its last file."""

    def __init__(self, linger_s: float = LINGER_S) -> None:
        self.linger_s = linger_s
        self._lock = threading.Lock()
        self._pool: Pool | None = None
        self._timer: threading.Timer | None = None
        self._generation = 0  # which timer may stop the process (a later import re-arms it)
        self._cannot_start = False  # no process can be had here (a sandbox without /dev/shm): decode in process

    def run(self, items: Iterable[tuple[str, Loader]], store: Any, rules: Rules,
            on_reassessed: Callable[[list], None] | None = None) -> list[Result]:
        """``importer.import_inputs`` with ``prepare`` in the decoding process (on the caller's thread)."""
        from cooldownd.imports import bulk, importer

        job = importer.Job(rules.athlete, rules.knobs, rules.library, None, rules.this_year)
        with self._lock:
            self._disarm()
            pool = self._pool_or_none(job)
            if pool is None:
                return list(importer.import_inputs(items, store=store, athlete=rules.athlete, knobs=rules.knobs,
                                                   library=rules.library, this_year=rules.this_year,
                                                   on_reassessed=on_reassessed))
            try:
                results = list(bulk.import_with(pool, list(items), store, job))
            finally:
                self._arm()
        importer.settle_as_of(store, job.rules, results, on_reassessed)
        return results

    def call(self, rules: Rules, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in the decoding process (a picklable module-level function); None if the process died."""
        from concurrent.futures.process import BrokenProcessPool

        from cooldownd.imports.importer import Job

        job = Job(rules.athlete, rules.knobs, rules.library, None, rules.this_year)
        with self._lock:
            self._disarm()
            pool = self._pool_or_none(job)
            if pool is None:
                return fn(*args)
            try:
                assert pool.executor is not None
                return pool.executor.submit(fn, *args).result()
            except (BrokenProcessPool, OSError):  # the import that follows says what is wrong with the file
                return None
            finally:
                self._arm()

    def stop(self, generation: int | None = None) -> None:
        """Stop the decoding process now (or, from a timer, only if no import came since it was set)."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            self._disarm()
            if self._pool is not None:
                self._pool.__exit__(None, None, None)
                self._pool = None

    def _pool_or_none(self, job: Job) -> Pool | None:
        """The decoding process, or None where none can be started (said once; not tried again)."""
        if self._cannot_start:
            return None
        try:
            return self._pool_for(job)
        except (OSError, ImportError) as exc:  # no semaphores (a sandbox without /dev/shm), no process
            self._cannot_start = True
            log.warning("decoding in the daemon itself: no decoding process can be started (%s)", exc)
            return None

    def _pool_for(self, job: Job) -> Pool:
        from cooldownd.imports.bulk import Pool

        if self._pool is not None and (self._pool.job != job or self._pool.executor is None):
            self._pool.__exit__(None, None, None)  # new rules (a reload, a new year) or a process that gave up
            self._pool = None
        if self._pool is None:
            self._pool = Pool(1, job)
        return self._pool

    def _arm(self) -> None:
        self._generation += 1
        self._timer = threading.Timer(self.linger_s, self.stop, args=(self._generation,))
        self._timer.daemon = True
        self._timer.start()

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
