"""Bulk import on several cores: the same per-file results as ``importer.import_paths``, in input order.

The parent reads inputs (zip members one at a time), hashes them and skips known ones before
any work is sent; ``importer.prepare`` (decode, workouts, assessment, summary) runs in a pool of
spawned processes (the daemon may have threads, so never fork); ``importer.settle`` (duplicate
checks and one transaction per file) runs here, in input order. Of the next ``LOOKAHEAD`` inputs
the largest is read and sent first, so a big file near the end never starts last and holds the
tail alone while the other workers idle; results wait (as small summaries, not bytes) at most
that many inputs for their turn. At most ``WINDOW_PER_JOB`` x jobs files (and ``WINDOW_BYTES``)
are in flight. A worker that dies (killed, out of memory) costs nothing: a fresh pool takes the
rest, and each file it had in flight is read again alone in a fresh process (retry.py); a file that
kills that one too gets an error line, and is read again by a later import. After ``MAX_POOL_DEATHS``
the pool is given up and each file left is read that way, in a process of its own.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cooldownd.imports import importer, retry, worker
from cooldownd.imports.inputs import expand, inputs
from cooldownd.record.summary import Result

log = logging.getLogger(__name__)

SMALL_BATCH = 4  # fewer inputs than this (and no zip) stay in-process: pool start-up costs ~0.3 s
WINDOW_PER_JOB = 4  # files in flight per worker: enough to keep it busy; what a dying worker costs
LOOKAHEAD = 64  # inputs the largest-first order looks across (and the most results waiting for their turn)
WINDOW_BYTES = 64 * 2**20
MAX_POOL_DEATHS = 3


def default_jobs() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def import_many(paths: Iterable[str | Path], *, store: Any, settings: Any = None, athlete: Any, knobs: Any,
                library: Any, this_year: int | None = None, jobs: int | None = None,
                progress: importer.Progress | None = None,
                on_reassessed: importer.Reassessed | None = None) -> Iterator[Result]:
    """Import every input, yielding one result per workout or failed input, in input order
    (as-of profiles as in ``importer.import_paths``)."""
    jobs = default_jobs() if jobs is None or jobs < 1 else jobs
    paths = list(paths)
    todo = list(inputs(paths))
    if jobs == 1 or (len(todo) < SMALL_BATCH and not any(n.lower().endswith(".zip") for n, _ in todo)):
        # the paths, not the names: a name is for showing (a non-UTF-8 one has U+FFFD in it)
        yield from importer.import_paths(paths, store=store, athlete=athlete, knobs=knobs,
                                         library=library, this_year=this_year, progress=progress,
                                         on_reassessed=on_reassessed)
        return
    job = importer.Job(athlete, knobs, library, None, this_year)
    results: list[Result] = []
    with _Pool(jobs, job) as pool:
        for r in _run(todo, store, job, pool, progress):
            results.append(r)
            yield r
    importer.settle_as_of(store, job.rules, results, on_reassessed)


def import_with(pool: _Pool, named: list, store: Any, job: importer.Job) -> Iterator[Result]:
    """``named`` inputs through a pool the caller keeps (the daemon's decoding process: daemon/importworker.py),
    in input order; the caller settles the as-of assessments."""
    yield from _run(named, store, job, pool, None)


@dataclass(slots=True)
class _Slot:
    """One thing to settle in input order: a ready line, or a file."""

    name: str
    line: Result | None = None
    sha: str = ""
    data: bytes | None = None  # a copy of a file sent (decoded here), or a sent file's until it is decoded
    future: Future | None = None

    def decoded(self, future: Future) -> None:
        """The worker read it: its bytes are not needed again (kept when it died, to read it again)."""
        if not future.cancelled() and future.exception() is None:
            self.data = None


def _size(name: str) -> int:
    try:
        return os.stat(name).st_size
    except OSError:  # the input fails when it is read; its size does not matter
        return 0


class _Feeder:
    """Reads, hashes and sends inputs, the largest of the next ``LOOKAHEAD`` first; hands out
    each input's slots in input order."""

    def __init__(self, todo: list, store: Any, pool: _Pool) -> None:
        self.todo, self.store, self.pool = todo, store, pool
        self.seen = 0  # inputs taken into the look-ahead so far
        self.ahead: dict[int, int] = {}  # input -> size, not read yet
        self.ready: dict[int, list[_Slot]] = {}
        self.sent: set[str] = set()
        self.flight: dict[Future, int] = {}  # sent, not finished: bytes

    def slots(self, i: int) -> list[_Slot]:
        """Input ``i``'s slots; reads (and sends) others meanwhile to keep every worker busy."""
        while i not in self.ready:
            self._send_next()
        while self._room(0, block=False) and (self.ahead or self.seen < len(self.todo)):
            self._send_next()
        return self.ready.pop(i)

    def _send_next(self) -> None:
        while self.seen < len(self.todo) and len(self.ahead) < LOOKAHEAD:
            self.ahead[self.seen] = _size(self.todo[self.seen][0])
            self.seen += 1
        j = max(self.ahead, key=lambda k: (self.ahead[k], -k))  # the largest; the first of equals
        del self.ahead[j]
        self.ready[j] = list(self._expand(j))

    def _expand(self, j: int) -> Iterator[_Slot]:
        name, loader = self.todo[j]
        for member, body in expand(name, loader):
            if isinstance(body, Result):
                yield _Slot(member, line=body)
                continue
            sha = hashlib.sha256(body).hexdigest()
            if sha in self.sent:  # settled after the first copy: a duplicate then, unless that one failed
                yield _Slot(member, sha=sha, data=body)
            elif self.store.get_file(sha) is not None:
                yield _Slot(member, sha=sha)
            else:
                self._room(len(body), block=True)
                self.sent.add(sha)
                future = self.pool.submit(member, body, sha)
                self.flight[future] = len(body)
                slot = _Slot(member, sha=sha, data=body, future=future)
                future.add_done_callback(slot.decoded)
                yield slot

    def _room(self, size: int, block: bool) -> bool:
        """Whether one more file of ``size`` bytes fits in the window (waiting for it if ``block``)."""
        limit = WINDOW_PER_JOB * self.pool.jobs
        while self.flight:
            finished, _ = wait(self.flight, timeout=0, return_when=FIRST_COMPLETED)
            for future in finished:
                del self.flight[future]
            if len(self.flight) < limit and sum(self.flight.values()) + size <= WINDOW_BYTES:
                return True
            if not block:
                return False
            wait(self.flight, return_when=FIRST_COMPLETED)
        return True


def _run(todo: list, store: Any, job: importer.Job, pool: _Pool, progress: Any) -> Iterator[Result]:
    feeder = _Feeder(todo, store, pool)
    for i, (name, _loader) in enumerate(todo):
        if progress is not None:
            progress(i, name)
        for slot in feeder.slots(i):
            if slot.line is not None:
                yield slot.line
            else:
                yield from importer.settle(store, slot.name, slot.sha, lambda: _prepared(slot, job, pool), job.rules)


def _prepared(slot: _Slot, job: importer.Job, pool: _Pool) -> importer.Prepared:
    if slot.future is None:  # a copy whose first was not stored (it failed): decode it here
        return importer.prepare(job, slot.name, slot.data or b"", slot.sha)
    return pool.result(slot.future, slot.name, slot.data or b"", slot.sha)


class _Pool:
    """A spawn-context ProcessPoolExecutor that is replaced when a worker dies."""

    def __init__(self, jobs: int, job: importer.Job) -> None:
        self.jobs, self.job, self.deaths = jobs, job, 0
        self.executor = self._start()

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)

    def _start(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        worker.picklable()
        return ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=worker.init, initargs=(self.job, worker.log_level(), os.getpid()))

    def submit(self, name: str, data: bytes, sha: str) -> Future:
        """Send one file to a worker (a fresh pool if the last one died); past the limit, a future saying
        the file was not sent (``result`` reads it alone)."""
        from concurrent.futures.process import BrokenProcessPool

        while self.executor is not None:
            try:
                return self.executor.submit(worker.work, name, data, sha)
            except (BrokenProcessPool, OSError):  # OSError: its wake-up pipe closed under it as it broke
                self._replace()
        done: Future = Future()
        done.set_exception(_NotSent(f"worker processes died {self.deaths} times"))
        return done

    def result(self, future: Future, name: str, data: bytes, sha: str) -> importer.Prepared:
        """The worker's verdict on ``name`` (its log lines replayed here); if the worker died (or the file was
        not sent), the file read again alone in a fresh process (retry.py)."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            prepared, records = future.result()
        except _NotSent:
            prepared, records = retry.again(self.job, name, data, sha, tries=2)
        except BrokenProcessPool:
            log.warning("%s: the decoding process died while it held this file; reading it again alone", name)
            prepared, records = retry.again(self.job, name, data, sha)
        for record in records:
            logging.getLogger(record.name).handle(record)
        return prepared

    def _replace(self) -> None:
        self.deaths += 1
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._start() if self.deaths < MAX_POOL_DEATHS else None
        log.warning("bulk import: a worker process died; %s", "started new ones" if self.executor else
                    "each file left is read in a process of its own")


Pool = _Pool  # kept by the daemon across imports (daemon/importworker.py)


class _NotSent(Exception):
    """The pool was given up before this file was sent to it."""
