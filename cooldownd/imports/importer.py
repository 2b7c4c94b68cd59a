"""Import workout files (.fit, .fit.gz, .zip, folders) into the store, one error boundary per file.

Synchronous: the CLI calls it directly (or through bulk.py, which runs ``prepare`` on several
cores), the daemon from a worker thread. Each FIT file goes through two steps shared by both
paths: ``prepare`` (CPU only: decode, workouts, assessment, routine, summary; picklable result)
and ``settle`` (the store: duplicate checks, then one transaction). Archives are read in
memory, never extracted, so no member name can write anywhere.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from cooldownd.core.model import Athlete
from cooldownd.errors import FitImportError
from cooldownd.imports.inputs import Loader, expand, failed_line as _failed, gunzip, inputs
from cooldownd.record import lines
from cooldownd.record.recorder import Candidate, Rules, record, summarise
from cooldownd.record.summary import Result

if TYPE_CHECKING:
    from cooldownd.core.intensity import Knobs
    from cooldownd.fit.workouts import FitContent
    from cooldownd.core.routines import Library
    from cooldownd.ports import Store

log = logging.getLogger(__name__)

Progress = Callable[[int, str], None]
Reassessed = Callable[[list], None]  # receives asof.Change values


@dataclass(frozen=True, slots=True)
class Job:
    """What ``prepare`` needs besides the file: the same for every file of one import."""

    athlete: Athlete
    knobs: Knobs
    library: Library
    history_max_hr: int | None = None
    this_year: int | None = None

    @property
    def rules(self) -> Rules:
        """The recorder's rules for this import."""
        return Rules(self.athlete, self.knobs, self.library, self.this_year)


@dataclass(frozen=True, slots=True)
class Prepared:
    """``prepare``'s verdict on one file; ``settle`` stores it.

    status: "activity" (store ``workouts``, or refuse with ``reason`` when there are none),
    "error" / "skipped" (refused and remembered), "failed" (an error line, not remembered).
    ``partial``: why only part of the file was read (a truncated copy), remembered with the file.
    """

    status: str
    reason: str | None = None
    serial: int | None = None
    created: str | None = None
    workouts: tuple[Candidate, ...] = ()
    partial: str | None = None


def import_paths(paths: Iterable[str | Path], *, store: Store, athlete: Athlete, knobs: Knobs, library: Library,
                 this_year: int | None = None, progress: Progress | None = None,
                 on_reassessed: Reassessed | None = None) -> Iterator[Result]:
    """Import every input in this process; yield one result per workout and one per skipped/failed input.

    Each workout is judged with its as-of profile (record/asof.py); stored workouts whose history
    changed because older ones arrived are judged again at the end and handed to ``on_reassessed``."""
    yield from import_inputs(inputs(paths), store=store, athlete=athlete, knobs=knobs, library=library,
                             this_year=this_year, progress=progress, on_reassessed=on_reassessed)


def import_inputs(named: Iterable[tuple[str, Loader]], *, store: Store, athlete: Athlete, knobs: Knobs,
                  library: Library, this_year: int | None = None, progress: Progress | None = None,
                  on_reassessed: Reassessed | None = None) -> Iterator[Result]:
    """``import_paths`` for inputs already named and loadable, e.g. a download (name, loader returning bytes)."""
    job = Job(athlete, knobs, library, None, this_year)  # no store state in prepare: same file, same numbers
    results = []
    for done, (name, loader) in enumerate(named):
        if progress is not None:
            progress(done, name)
        for member, body in expand(name, loader):
            if isinstance(body, Result):
                yield body
                continue
            sha = hashlib.sha256(body).hexdigest()
            for r in settle(store, member, sha, lambda: prepare(job, member, body, sha), job.rules):
                results.append(r)
                yield r
    settle_as_of(store, job.rules, results, on_reassessed)


def settle_as_of(store: Store, rules: Rules, results: list[Result], on_reassessed: Reassessed | None) -> None:
    """After an import: judge again the stored workouts from the earliest one imported on (asof.settle)."""
    from cooldownd.record import asof

    starts = [r.summary.start for r in results if r.status == "imported" and r.summary is not None]
    if not starts:
        return
    try:
        changes = asof.settle(store, rules, min(starts))
    except Exception as exc:  # the imports are stored; a later import or ``reassess`` settles them
        log.error("import: re-assessing later workouts failed: %s", exc)
        return
    if changes and on_reassessed is not None:
        on_reassessed(changes)


# -- one file: prepare (CPU, any process) -------------------------------------------------------
def read_fit(name: str, data: bytes) -> tuple[FitContent, str | None]:
    """FIT (or gzip, capped at 256 MB) bytes to the file's workouts, and why reading stopped early.

    The one path from bytes to workouts: a truncated file gives its readable part, each workout
    carrying the note; a bad CRC or no message at all raises FitImportError.
    """
    # the decoders (fitparse's tables, fastfit's plans) are imported where a file is read: the daemon
    # settles what its decoding process prepared (daemon/importworker.py) without ever loading them
    from cooldownd.fit.decode import decode_messages
    from cooldownd.fit.workouts import workouts_from_messages

    if data[:2] == b"\x1f\x8b":
        data = gunzip(name, data)
    decoded = decode_messages(data, name)
    if decoded.error_kind == "bad_crc" or not decoded.messages:
        raise FitImportError(name, decoded.error or "no FIT messages in file")
    content = workouts_from_messages(decoded.messages, name)
    del decoded.messages[:]  # the records live on in the Workouts only: halves the peak for large files
    if decoded.error:
        note = f"{decoded.error}: imported the readable part"
        content.workouts[:] = [replace(w, note=note) for w in content.workouts]
    return content, decoded.error


def prepare(job: Job, name: str, data: bytes, sha: str) -> Prepared:
    """Decode, build, assess and summarise one FIT (or gzip) file; never raises, never touches the store."""
    from cooldownd.fit.decode import collector_paused

    with collector_paused():  # its Records are gone (reference counts) before the collector runs again
        try:
            return _prepare(job, name, data, sha)
        except FitImportError as exc:
            return Prepared("error", exc.reason)
        except Exception as exc:  # the batch goes on whatever one file does
            return Prepared("failed", _failed(name, exc))


def _prepare(job: Job, name: str, data: bytes, sha: str) -> Prepared:
    content, error = read_fit(name, data)
    created = lines.iso(content.time_created) if content.time_created is not None else None
    if content.kind != "activity":
        return Prepared("skipped", f"not an activity: {content.kind}", content.serial, created)
    if not content.workouts:
        why = error or "activity without sessions or records"
        return Prepared("activity", f"no workout in file: {why}", content.serial, created)
    partial = f"{error}: imported the readable part" if error else None
    rules = job.rules
    return Prepared("activity", None, content.serial, created,
                    tuple(summarise(w, rules, job.history_max_hr, file=name, sha256=sha) for w in content.workouts),
                    partial)


# -- one file: settle (the store, the importing process only) -----------------------------------
def settle(store: Store, name: str, sha: str, prepared: Callable[[], Prepared],
           rules: Rules | None = None) -> list[Result]:
    """Duplicate checks, then ``prepared()``'s workouts stored in one transaction; one error boundary.

    ``rules``: each workout is judged again with its as-of history as it is stored (recorder.record)."""
    try:
        known = store.get_file(sha)
        if known is not None:
            why = f"already seen as {known.path}" + (f" ({known.status}: {known.error})" if known.error else "")
            return [Result(name, sha, "duplicate", why)]
        return _commit(store, name, sha, prepared(), rules)
    except Exception as exc:  # includes StoreError; the batch goes on
        return [Result(name, sha, "error", _failed(name, exc))]


def _commit(store: Store, name: str, sha: str, p: Prepared, rules: Rules | None = None) -> list[Result]:
    if p.status == "failed":
        return [Result(name, sha, "error", p.reason)]
    if p.status != "activity":
        return [_refuse(store, name, sha, p.status, p.reason, p)]
    if p.serial is not None and p.created is not None:
        same = store.get_file_by_fit_id(p.serial, p.created)
        if same is not None and not same.error:  # after a truncated copy, the recorder keeps the richer
            return [Result(name, sha, "duplicate", f"same FIT file_id as {same.path}")]
    if not p.workouts:
        return [_refuse(store, name, sha, "error", p.reason, p)]
    with store.transaction():
        out = [record(store, c, file_sha256=sha, rules=rules) for c in p.workouts]
        status = "imported" if any(r.status == "imported" for r in out) else "duplicate"
        store.put_file(sha, name, p.serial, p.created, status, p.partial)
    return out


def _refuse(store: Store, name: str, sha: str, status: str, reason: str | None, p: Prepared) -> Result:
    """Remember a refused file (so a second run calls it a duplicate) and describe it."""
    with store.transaction():
        store.put_file(sha, name, p.serial, p.created, status, reason)
    return Result(name, sha, status, reason)
