"""Import workout files (.fit, .fit.gz, .zip, folders) into the store, one error boundary per file.

Synchronous: the CLI calls it directly (or through bulk.py, which runs ``prepare`` on several
cores), the daemon from a worker thread. Each FIT file goes through two steps shared by both
paths: ``prepare`` (CPU only: decode, workouts, assessment, routine, summary; picklable result)
and ``settle`` (the store: duplicate checks, then one transaction). Archives are read in
memory, never extracted, so no member name can write anywhere.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import io
import logging
import os
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from cooldownd import report
from cooldownd.core.model import Athlete, Workout
from cooldownd.errors import FitImportError
from cooldownd.fitfile import decode_messages, workouts_from_messages

log = logging.getLogger(__name__)

MAX_FILE = 256 * 1024 * 1024
MAX_EXPANDED = 1024 * 1024 * 1024
MAX_RATIO = 100
MAX_ZIP_DEPTH = 4
SUFFIXES = (".fit", ".fit.gz", ".zip")
# A stored workout covering at least this share of the shorter one is the same workout.
SAME_WORKOUT_OVERLAP = 0.5

Progress = Callable[[int, str], None]
Loader = Callable[[], bytes]


@dataclass(frozen=True, slots=True)
class Job:
    """What ``prepare`` needs besides the file: the same for every file of one import."""

    athlete: Athlete
    knobs: Any
    library: Any
    history_max_hr: int | None = None
    this_year: int | None = None


@dataclass(frozen=True, slots=True)
class Assessed:
    """One workout of a file, assessed and summarised (no records: cheap to pickle)."""

    summary: dict
    source: str
    start: float
    end: float
    richness: float


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
    workouts: tuple[Assessed, ...] = ()
    partial: str | None = None


def import_paths(paths: Iterable[str | Path], *, store: Any, athlete: Athlete, knobs: Any, library: Any,
                 history_max_hr: int | None = None, this_year: int | None = None,
                 progress: Progress | None = None) -> Iterator[dict]:
    """Import every input in this process; yield one summary per workout and one line per skipped/failed input."""
    if history_max_hr is None:
        history_max_hr = store.history_max_hr()
    job = Job(athlete, knobs, library, history_max_hr, this_year)
    for done, (name, loader) in enumerate(inputs(paths)):
        if progress is not None:
            progress(done, name)
        for member, body in expand(name, loader):
            if isinstance(body, dict):
                yield body
                continue
            sha = hashlib.sha256(body).hexdigest()
            yield from settle(store, member, sha, lambda: prepare(job, member, body, sha))


def offer_candidate(results: Iterable[dict], now: float, max_age_s: float, *, store: Any = None) -> int | None:
    """The newest imported workout that ended within ``max_age_s`` and was never offered, else None."""
    best: tuple[float, int] | None = None
    for r in results:
        if r.get("status") != "imported" or r.get("id") is None or not r.get("end"):
            continue
        end = dt.datetime.fromisoformat(r["end"].replace("Z", "+00:00")).timestamp()
        if not (now - max_age_s <= end <= now + 60.0):
            continue
        if store is not None and store.was_offered(r["id"]):
            continue
        if best is None or end > best[0]:
            best = (end, r["id"])
    return None if best is None else best[1]


# -- inputs -------------------------------------------------------------------------------------
def inputs(paths: Iterable[str | Path]) -> Iterator[tuple[str, Loader]]:
    """(name, loader) for each input: a file, or a folder's wanted files (recursive, sorted)."""
    for path in map(Path, paths):
        if path.is_dir():
            yield from _folder(path)
        else:
            yield str(path), _file_loader(path)


def _folder(top: Path) -> list[tuple[str, Loader]]:
    """A folder's wanted files, and an input that fails for each sub-folder that cannot be read."""
    found: list[tuple[Path, Loader]] = []
    seen: set[tuple[int, int]] = set()

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename or top)
        found.append((where, _failing(str(where), f"cannot read folder ({exc.strerror or exc})")))

    for root, dirs, files in os.walk(top, onerror=unreadable, followlinks=True):
        try:
            st = os.stat(root)
        except OSError as exc:  # gone or locked since it was listed
            unreadable(exc)
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop: each folder once
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        found.extend((p, _file_loader(p)) for p in (Path(root, f) for f in files) if _wanted(p.name) and p.is_file())
    return [(str(p), load) for p, load in sorted(found, key=lambda x: x[0])]


def _failing(name: str, reason: str) -> Loader:
    def load() -> bytes:
        raise FitImportError(name, reason)
    return load


def expand(name: str, loader: Loader) -> Iterator[tuple[str, bytes | dict]]:
    """(file name, FIT or gzip bytes) for each file of one input, or (name, error line) for a refused one.

    A zip is walked twice: the first walk refuses the whole archive (bomb, depth) before any member
    is imported and keeps nothing; the second hands out one member at a time (memory: one member).
    """
    try:
        data = loader()
        if data[:4] != b"PK\x03\x04":
            yield name, data
            return
        for _ in _zip_members(name, data, None, 1):
            pass
        for member, body in _zip_members(name, data, None, 1):
            refused = isinstance(body, FitImportError)
            yield member, report.failure(member, None, "error", body.reason) if refused else body
    except FitImportError as exc:
        yield name, report.failure(name, None, "error", exc.reason)
    except Exception as exc:  # the batch goes on whatever one input does
        yield name, report.failure(name, None, "error", _failed(name, exc))


def _wanted(name: str) -> bool:
    low = name.lower()
    return not name.startswith(".") and low.endswith(SUFFIXES)


def _file_loader(p: Path) -> Loader:
    def load() -> bytes:
        try:
            size = p.stat().st_size
            if size > MAX_FILE:
                raise FitImportError(str(p), f"file is {size // 2**20} MB, over the 256 MB limit; not a workout file")
            return p.read_bytes()
        except FileNotFoundError as exc:
            raise FitImportError(str(p), "no such file") from exc
        except IsADirectoryError as exc:
            raise FitImportError(str(p), "is a directory") from exc
        except OSError as exc:
            raise FitImportError(str(p), f"cannot read ({exc.strerror or exc})") from exc
    return load


def _gunzip(name: str, data: bytes) -> bytes:
    """Decompress gzip data, refusing more than 256 MB (a gzip bomb)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, MAX_FILE + 1)
    except zlib.error as exc:
        raise FitImportError(name, f"bad gzip data ({exc})") from exc
    if len(out) > MAX_FILE or d.unconsumed_tail:
        raise FitImportError(name, "gzip expands past 256 MB; refusing it")
    return out


def _unsafe(member: str) -> bool:
    parts = PurePosixPath(member.replace("\\", "/")).parts
    return member.startswith(("/", "\\")) or ".." in parts or (len(member) > 1 and member[1] == ":")


@dataclass(slots=True)
class _Budget:
    """Bytes an archive (with its nested archives) may still expand to."""

    left: int


def _zip_members(name: str, data: bytes, budget: _Budget | None, depth: int) -> Iterator[tuple[str, Any]]:
    """(member name, bytes or FitImportError) for each wanted member; raises for a refused archive."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FitImportError(name, f"not a readable zip ({exc})") from exc
    infos = [i for i in zf.infolist() if not i.is_dir()]
    declared = sum(i.file_size for i in infos)
    if budget is None:
        budget = _Budget(min(MAX_EXPANDED, MAX_RATIO * max(len(data), 1)))
    if declared > budget.left:
        raise FitImportError(name, f"zip expands to {declared // 2**20} MB, past 1 GB or 100x its size; refusing it")
    for info in sorted(infos, key=lambda i: i.filename):
        member = f"{name}!{info.filename}"
        if _unsafe(info.filename):
            yield member, FitImportError(member, "unsafe member name (absolute or '..'); refusing it")
            continue
        if not _wanted(PurePosixPath(info.filename.replace("\\", "/")).name):
            continue
        try:
            with zf.open(info) as fh:
                body = fh.read(budget.left + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError, RuntimeError) as exc:
            yield member, FitImportError(member, f"unreadable zip member ({exc})")
            continue
        if len(body) > budget.left:
            raise FitImportError(name, "zip expands past 1 GB or 100x its size; refusing it")
        budget.left -= len(body)
        if body[:4] == b"PK\x03\x04":
            if depth >= MAX_ZIP_DEPTH:
                yield member, FitImportError(member, f"zips nested over {MAX_ZIP_DEPTH} deep; refusing it")
                continue
            yield from _zip_members(member, body, budget, depth + 1)
        else:
            yield member, body


# -- one file: prepare (CPU, any process) -------------------------------------------------------
def prepare(job: Job, name: str, data: bytes, sha: str) -> Prepared:
    """Decode, build, assess and summarise one FIT (or gzip) file; never raises, never touches the store."""
    from fitparse.records import DEV_TYPES

    DEV_TYPES.clear()  # fitparse's developer-field registry is global: each file on its own, in any process
    collecting = gc.isenabled()
    gc.disable()  # ~100k small dicts per large file and no cycles: the collector only costs time here
    try:
        return _prepare(job, name, data, sha)
    except FitImportError as exc:
        return Prepared("error", exc.reason)
    except Exception as exc:  # the batch goes on whatever one file does
        return Prepared("failed", _failed(name, exc))
    finally:
        if collecting:
            gc.enable()


def _prepare(job: Job, name: str, data: bytes, sha: str) -> Prepared:
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(name, data)
    decoded = decode_messages(data, name)
    if decoded.error_kind == "bad_crc" or not decoded.messages:
        return Prepared("error", decoded.error or "no FIT messages in file")
    content = workouts_from_messages(decoded.messages, name)
    del decoded.messages[:]  # the records live on in the Workouts only: halves the peak for large files
    created = report.iso(content.time_created) if content.time_created is not None else None
    if content.kind != "activity":
        return Prepared("skipped", f"not an activity: {content.kind}", content.serial, created)
    if not content.workouts:
        why = decoded.error or "activity without sessions or records"
        return Prepared("activity", f"no workout in file: {why}", content.serial, created)
    workouts, partial = content.workouts, None
    if decoded.error:
        partial = f"{decoded.error}: imported the readable part"
        workouts = [replace(w, note=partial) for w in workouts]
    return Prepared("activity", None, content.serial, created, tuple(_assess(job, name, sha, w) for w in workouts),
                    partial)


def _assess(job: Job, name: str, sha: str, w: Workout) -> Assessed:
    from cooldownd.core.intensity import assess, describe
    from cooldownd.core.routines import choose

    a = assess(w, job.athlete, job.knobs, history_max_hr=job.history_max_hr, this_year=job.this_year)
    s = report.summary(w, a, choose(job.library, a.level, w.sport, w.sub_sport).name, file=name, sha256=sha)
    s["headline"] = describe(a, w.sport, w.sub_sport)
    return Assessed(s, w.source, w.start, w.end, richness(w))


# -- one file: settle (the store, the importing process only) -----------------------------------
def settle(store: Any, name: str, sha: str, prepared: Callable[[], Prepared]) -> list[dict]:
    """Duplicate checks, then ``prepared()``'s workouts stored in one transaction; one error boundary."""
    try:
        known = store.get_file(sha)
        if known is not None:
            why = f"already seen as {known.path}" + (f" ({known.status}: {known.error})" if known.error else "")
            return [report.failure(name, sha, "duplicate", why)]
        return _commit(store, name, sha, prepared())
    except Exception as exc:  # includes StoreError; the batch goes on
        return [report.failure(name, sha, "error", _failed(name, exc))]


def _failed(name: str, exc: Exception) -> str:
    """Log an unexpected failure (one line; the traceback with -v) and word it for the error line."""
    log.warning("%s: import failed: %s", name, exc)
    log.debug("%s: traceback", name, exc_info=True)
    return f"{type(exc).__name__}: {exc}"


def _commit(store: Any, name: str, sha: str, p: Prepared) -> list[dict]:
    if p.status == "failed":
        return [report.failure(name, sha, "error", p.reason)]
    if p.status != "activity":
        return [_refuse(store, name, sha, p.status, p.reason, p)]
    if p.serial is not None and p.created is not None:
        same = store.get_file_by_fit_id(p.serial, p.created)
        if same is not None and not same.error:  # after a truncated copy, the overlap rule keeps the richer
            return [report.failure(name, sha, "duplicate", f"same FIT file_id as {same.path}")]
    if not p.workouts:
        return [_refuse(store, name, sha, "error", p.reason, p)]
    return _store_workouts(store, name, sha, p)


def _refuse(store: Any, name: str, sha: str, status: str, reason: str | None, p: Prepared) -> dict:
    """Remember a refused file (so a second run calls it a duplicate) and describe it."""
    with store.transaction():
        store.put_file(sha, name, p.serial, p.created, status, reason)
    return report.failure(name, sha, status, reason)


def _store_workouts(store: Any, name: str, sha: str, p: Prepared) -> list[dict]:
    """Store the file's workouts in one transaction; richer overlapping workouts win."""
    out: list[dict] = []
    with store.transaction():
        for w in p.workouts:
            s = dict(w.summary)
            # sessions of one file never replace each other (a multisport "generic" session may span others)
            same = [r for r in store.find_overlapping(w.start, w.end)
                    if r.file_sha256 != sha and _same_workout(w, r.start, r.end)]
            if any(r.richness >= w.richness for r in same):
                keep = max(same, key=lambda r: r.richness)
                s.update(status="duplicate", error=f"same workout as #{keep.id} ({keep.source}), which is as rich")
                out.append(s)
                continue
            for r in same:
                log.info("%s: replaces workout #%d (%s), a poorer record of the same session", name, r.id, r.source)
                store.delete_workout(r.id)
            s["id"] = store.add_workout(s, source=w.source, start=w.start, end=w.end, richness=w.richness,
                                        file_sha256=sha)
            for r in same:  # the replaced copy was offered already: never offer the same session twice
                if r.offered_at is not None or r.outcome is not None:
                    store.record_outcome(s["id"], r.outcome or {"offered_at": r.offered_at, "result": None})
            out.append(s)
        status = "imported" if any(s["status"] == "imported" for s in out) else "duplicate"
        store.put_file(sha, name, p.serial, p.created, status, p.partial)
    return out


def _same_workout(w: Assessed, start: float, end: float) -> bool:
    overlap = min(w.end, end) - max(w.start, start)
    shorter = max(1.0, min(w.end - w.start, end - start))
    return overlap >= SAME_WORKOUT_OVERLAP * shorter


def richness(w: Workout) -> float:
    """Which of two records of one session to keep: power, then device numbers, then more records."""
    has_power = any(r.power is not None for r in w.records)
    has_device = w.device.avg_hr is not None or w.device.timer_s is not None
    return 2e7 * has_power + 1e7 * has_device + min(len(w.records), 9_999_999)
