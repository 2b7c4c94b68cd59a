"""Import workout files (.fit, .fit.gz, .zip, folders) into the store, one error boundary per file.

Synchronous: the CLI calls it directly (or through bulk.py, which runs ``prepare`` on several
cores), the daemon from a worker thread. Each FIT file goes through two steps shared by both
paths: ``prepare`` (CPU only: decode, workouts, assessment, routine, summary; picklable result)
and ``settle`` (the store: duplicate checks, then one transaction). Archives are read in
memory, never extracted, so no member name can write anywhere.
"""

from __future__ import annotations

import gc
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cooldownd.record import lines
from cooldownd.core import series as timeline
from cooldownd.core.model import Athlete, Workout
from cooldownd.errors import FitImportError
from cooldownd.fit.decode import decode_messages, workouts_from_messages
from cooldownd.imports.inputs import expand, failed_line as _failed, gunzip, inputs

log = logging.getLogger(__name__)

# A stored workout covering at least this share of the shorter one is the same workout.
SAME_WORKOUT_OVERLAP = 0.5

Progress = Callable[[int, str], None]


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
    series: timeline.Series | None = None  # the compact time line for the report's and the card's charts


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
        data = gunzip(name, data)
    decoded = decode_messages(data, name)
    if decoded.error_kind == "bad_crc" or not decoded.messages:
        return Prepared("error", decoded.error or "no FIT messages in file")
    content = workouts_from_messages(decoded.messages, name)
    del decoded.messages[:]  # the records live on in the Workouts only: halves the peak for large files
    created = lines.iso(content.time_created) if content.time_created is not None else None
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
    from cooldownd.core.intensity import assess
    from cooldownd.core.wording import headline
    from cooldownd.core.routines import choose

    a = assess(w, job.athlete, job.knobs, history_max_hr=job.history_max_hr, this_year=job.this_year)
    s = lines.summary(w, a, choose(job.library, a.level, w.sport, w.sub_sport).name, file=name, sha256=sha)
    s["headline"] = headline(a.level, w.sport, w.sub_sport, a.duration_s, a.load)
    return Assessed(s, w.source, w.start, w.end, richness(w),
                    timeline.build(w, a, job.knobs.zone_bounds_hrr, job.knobs.power_hold_s))


# -- one file: settle (the store, the importing process only) -----------------------------------
def settle(store: Any, name: str, sha: str, prepared: Callable[[], Prepared]) -> list[dict]:
    """Duplicate checks, then ``prepared()``'s workouts stored in one transaction; one error boundary."""
    try:
        known = store.get_file(sha)
        if known is not None:
            why = f"already seen as {known.path}" + (f" ({known.status}: {known.error})" if known.error else "")
            return [lines.failure(name, sha, "duplicate", why)]
        return _commit(store, name, sha, prepared())
    except Exception as exc:  # includes StoreError; the batch goes on
        return [lines.failure(name, sha, "error", _failed(name, exc))]


def _commit(store: Any, name: str, sha: str, p: Prepared) -> list[dict]:
    if p.status == "failed":
        return [lines.failure(name, sha, "error", p.reason)]
    if p.status != "activity":
        return [_refuse(store, name, sha, p.status, p.reason, p)]
    if p.serial is not None and p.created is not None:
        same = store.get_file_by_fit_id(p.serial, p.created)
        if same is not None and not same.error:  # after a truncated copy, the overlap rule keeps the richer
            return [lines.failure(name, sha, "duplicate", f"same FIT file_id as {same.path}")]
    if not p.workouts:
        return [_refuse(store, name, sha, "error", p.reason, p)]
    return _store_workouts(store, name, sha, p)


def _refuse(store: Any, name: str, sha: str, status: str, reason: str | None, p: Prepared) -> dict:
    """Remember a refused file (so a second run calls it a duplicate) and describe it."""
    with store.transaction():
        store.put_file(sha, name, p.serial, p.created, status, reason)
    return lines.failure(name, sha, status, reason)


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
                                        file_sha256=sha, series=w.series)
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
