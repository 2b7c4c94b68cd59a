"""SQLite state: imported files, workouts, walk-through outcomes, the live-session journal.

One file under ``$XDG_STATE_HOME/cooldownd/`` (folder 0700, files 0600), WAL mode, schema versioned
with ``PRAGMA user_version``. The class is synchronous; the daemon uses it from one worker thread
(:class:`AsyncStore`) so the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cooldownd.core.series import Series, decode as decode_series, encode as encode_series
from cooldownd.errors import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE files (
    sha256 TEXT PRIMARY KEY, path TEXT NOT NULL, fit_serial INTEGER, fit_time_created TEXT,
    status TEXT NOT NULL, error TEXT, imported_at REAL NOT NULL);
CREATE INDEX files_fit_id ON files(fit_serial, fit_time_created);
CREATE TABLE workouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, sport TEXT, start REAL NOT NULL, end REAL NOT NULL,
    max_hr INTEGER, richness REAL NOT NULL DEFAULT 0, file_sha256 TEXT, summary TEXT NOT NULL,
    created_at REAL NOT NULL);
CREATE INDEX workouts_time ON workouts(start, end);
CREATE TABLE walkthroughs (
    workout_id INTEGER PRIMARY KEY REFERENCES workouts(id) ON DELETE CASCADE,
    offered_at REAL, outcome TEXT, updated_at REAL NOT NULL);
CREATE TABLE live_sessions (
    id INTEGER PRIMARY KEY, device TEXT, started_at REAL NOT NULL, closed_at REAL);
CREATE TABLE live_samples (
    session_id INTEGER NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    t REAL NOT NULL, bpm INTEGER NOT NULL, contact TEXT, rr TEXT);
CREATE INDEX live_samples_session ON live_samples(session_id, t);
CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Added within schema 1 (created on every writable open, so an older file gets it too; readers cope
# without it): one compact time line per workout (core/series.py), for the report and the done card.
_SERIES = """CREATE TABLE IF NOT EXISTS series (
    workout_id INTEGER PRIMARY KEY REFERENCES workouts(id) ON DELETE CASCADE, data BLOB NOT NULL)"""


@dataclass(frozen=True, slots=True)
class FileRow:
    """One imported (or refused) input file."""

    sha256: str
    path: str
    fit_serial: int | None
    fit_time_created: str | None
    status: str
    error: str | None


@dataclass(frozen=True, slots=True)
class WorkoutRow:
    """One stored workout: its ``import --json`` summary plus the walk-through outcome."""

    id: int
    source: str
    start: float
    end: float
    richness: float
    file_sha256: str | None
    summary: dict[str, Any]
    offered_at: float | None
    outcome: dict[str, Any] | None


def _secure_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


class Store:
    """The state database. Open with :meth:`open`; every write is one transaction."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._depth = 0

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating, migrating, or moving a corrupt file aside); raise StoreError with a fix."""
        path = Path(path)
        try:
            _secure_dir(path.parent)
            with _umask(0o077):
                conn = cls._connect(path)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and not _is_corrupt(exc):
                raise StoreError(f"{path}: cannot open the database: {exc}; check the folder's permissions and free space") from exc
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            log.error("%s: database is corrupt (%s); moved aside to %s and starting afresh", path, exc, aside)
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{path}{suffix}", f"{aside}{suffix}")
            with _umask(0o077):
                conn = cls._connect(path)
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the state folder: {exc.strerror}; check permissions or set [store] path") from exc
        return cls(conn, path)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                conn.executescript("BEGIN;" + _SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
            elif version > SCHEMA_VERSION:
                raise StoreError(f"{path}: written by a newer cooldownd (schema {version}); upgrade cooldownd")
            with contextlib.suppress(sqlite3.OperationalError):  # a read-only file: every write fails anyway
                conn.execute(_SERIES)
            # quick_check reports damage as rows, not exceptions: a valid header over broken pages
            # would open fine and fail on every later query.
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed ({check.splitlines()[0]})")
        except BaseException:
            conn.close()
            raise
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(f"{path}{suffix}", 0o600)
        return conn

    @classmethod
    def open_readonly(cls, path: Path) -> Store | None:
        """Open for reading only (None when there is no database yet): safe next to a running daemon.

        Nothing is created, migrated, moved aside or chmod-ed; WAL readers never block the daemon's
        writes. A corrupt file raises StoreError and is left for the daemon (or an import) to move aside.
        """
        path = Path(path)
        if not path.is_file():
            return None
        try:
            conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, check_same_thread=False,
                                   isolation_level=None, timeout=10)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the database to read: {exc}; check its permissions") from exc
        store = cls(conn, path)
        try:
            with _umask(0o077):  # the first read may create the -wal/-shm files: private, like the database
                version = store._exec("PRAGMA user_version").fetchone()[0]
        except BaseException:
            conn.close()
            raise
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreError(f"{path}: written by a newer cooldownd (schema {version}); upgrade cooldownd")
        return store

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self._conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them land or none (nested calls join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._exec("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self._exec("COMMIT")

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, args)
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: {exc}; free some disk space or check permissions") from exc
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
            raise StoreError(f"{self.path}: the database is corrupt ({exc}); restart cooldownd to move it aside") from exc

    # -- files ---------------------------------------------------------------------------------
    def get_file(self, sha256: str) -> FileRow | None:
        """The file with this content hash, if seen before."""
        row = self._exec("SELECT sha256, path, fit_serial, fit_time_created, status, error FROM files WHERE sha256 = ?",
                         (sha256,)).fetchone()
        return FileRow(*row) if row else None

    def get_file_by_fit_id(self, serial: int, time_created: str) -> FileRow | None:
        """An imported file with this FIT file_id (serial number + time created)."""
        row = self._exec("SELECT sha256, path, fit_serial, fit_time_created, status, error FROM files "
                         "WHERE fit_serial = ? AND fit_time_created = ? AND status = 'imported'",
                         (serial, time_created)).fetchone()
        return FileRow(*row) if row else None

    def put_file(self, sha256: str, path: str, fit_serial: int | None, fit_time_created: str | None,
                 status: str, error: str | None) -> None:
        """Record the outcome for an input file (replacing an earlier one)."""
        self._exec("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (sha256, path, fit_serial, fit_time_created, status, error, time.time()))

    # -- workouts ------------------------------------------------------------------------------
    def add_workout(self, summary: dict[str, Any], *, source: str, start: float, end: float,
                    richness: float = 0.0, file_sha256: str | None = None, series: Series | None = None) -> int:
        """Store one workout's summary (and its compact time line, if any) in one transaction; returns its id."""
        with self.transaction():
            cur = self._exec(
                "INSERT INTO workouts (source, sport, start, end, max_hr, richness, file_sha256, summary, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (source, summary.get("sport"), start, end, summary.get("max_hr"), richness, file_sha256,
                 json.dumps(summary), time.time()))
            workout_id = int(cur.lastrowid)
            if series is not None:
                self.put_series(workout_id, series)
        return workout_id

    def hr_curve(self, workout_id: int) -> tuple[tuple[int, int], ...]:
        """The workout's heart-rate curve for the done card: (seconds from start, bpm), about 120 points; ().

        Drawn from the stored time line (``get_series``): the effort only, not the recovery after it.
        """
        from cooldownd.core.hrcurve import compact

        line = self.get_series(workout_id)
        if line is None:
            return ()
        return compact(line.hr_points(), 0, line.end_index * line.step_s)

    def find_overlapping(self, start: float, end: float) -> list[WorkoutRow]:
        """Workouts whose time span overlaps [start, end]."""
        return self._workouts("WHERE w.start < ? AND w.end > ?", (end, start))

    def delete_workout(self, workout_id: int) -> None:
        """Forget a workout (its walk-through outcome goes with it)."""
        self._exec("DELETE FROM workouts WHERE id = ?", (workout_id,))

    def get_workout(self, workout_id: int) -> WorkoutRow | None:
        """One workout by id."""
        rows = self._workouts("WHERE w.id = ?", (workout_id,))
        return rows[0] if rows else None

    def workouts(self, limit: int = 20) -> list[WorkoutRow]:
        """The newest workouts first."""
        return self._workouts("ORDER BY w.end DESC LIMIT ?", (limit,))

    def workouts_since(self, start: float) -> list[WorkoutRow]:
        """Workouts that ended at or after ``start``, oldest first."""
        return self._workouts("WHERE w.end >= ? ORDER BY w.end", (start,))

    # -- series ----------------------------------------------------------------------------------
    def put_series(self, workout_id: int, series: Series) -> None:
        """Keep a workout's compact time line (core/series.py; replaces an earlier one)."""
        self._exec("INSERT OR REPLACE INTO series VALUES (?, ?)", (workout_id, encode_series(series)))

    def get_series(self, workout_id: int) -> Series | None:
        """A workout's compact time line, or None (none kept, unreadable, or an older database)."""
        try:
            row = self._conn.execute("SELECT data FROM series WHERE workout_id = ?", (workout_id,)).fetchone()
        except sqlite3.OperationalError:  # a read-only open of a file no writer has given the table yet
            return None
        return decode_series(row[0]) if row else None

    def history_max_hr(self) -> int | None:
        """The highest heart rate recorded in any stored workout."""
        return self._exec("SELECT MAX(max_hr) FROM workouts").fetchone()[0]

    def _workouts(self, where: str, args: Sequence[Any]) -> list[WorkoutRow]:
        sql = ("SELECT w.id, w.source, w.start, w.end, w.richness, w.file_sha256, w.summary, t.offered_at, t.outcome "
               "FROM workouts w LEFT JOIN walkthroughs t ON t.workout_id = w.id " + where)
        return [WorkoutRow(i, src, s, e, r, sha, json.loads(summ), off, json.loads(out) if out else None)
                for i, src, s, e, r, sha, summ, off, out in self._exec(sql, args).fetchall()]

    # -- walk-throughs -------------------------------------------------------------------------
    def was_offered(self, workout_id: int) -> bool:
        """Whether an offer was already made (or decided against) for this workout."""
        return self._exec("SELECT 1 FROM walkthroughs WHERE workout_id = ?", (workout_id,)).fetchone() is not None

    def mark_offered(self, workout_id: int, t: float) -> None:
        """Record that the offer for this workout is being made (so it is never made twice)."""
        self._exec("INSERT OR IGNORE INTO walkthroughs (workout_id, offered_at, updated_at) VALUES (?, ?, ?)",
                   (workout_id, t, t))

    def record_outcome(self, workout_id: int, outcome: dict[str, Any]) -> None:
        """Store the walk-through outcome (offered, started, steps done, snoozes, result...)."""
        now = time.time()
        if self._exec("SELECT 1 FROM workouts WHERE id = ?", (workout_id,)).fetchone() is None:
            log.info("workout %d: gone (replaced by a richer copy); its walk-through outcome is not kept", workout_id)
            return
        self._exec("INSERT INTO walkthroughs (workout_id, offered_at, outcome, updated_at) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT(workout_id) DO UPDATE SET outcome = excluded.outcome, updated_at = excluded.updated_at",
                   (workout_id, outcome.get("offered_at"), json.dumps(outcome), now))

    # -- key/value -----------------------------------------------------------------------------
    def get_kv(self, key: str) -> str | None:
        """A small remembered value (e.g. the strap's address)."""
        row = self._exec("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_kv(self, key: str, value: str) -> None:
        """Remember a small value."""
        self._exec("INSERT OR REPLACE INTO kv VALUES (?, ?)", (key, value))

    # -- live journal --------------------------------------------------------------------------
    def journal_open(self, device: str | None, t: float) -> int:
        """Start journaling a live session; returns its id."""
        return int(self._exec("INSERT INTO live_sessions (device, started_at) VALUES (?, ?)", (device, t)).lastrowid)

    def journal_append(self, session_id: int, samples: Sequence[tuple[float, int, str | None, Sequence[float]]]) -> None:
        """Append a batch of (t, bpm, contact, rr_ms) samples in one transaction."""
        rows = [(session_id, t, bpm, contact, json.dumps(list(rr)) if rr else None) for t, bpm, contact, rr in samples]
        with self.transaction():
            try:
                self._conn.executemany("INSERT INTO live_samples VALUES (?, ?, ?, ?, ?)", rows)
            except sqlite3.OperationalError as exc:
                raise StoreError(f"{self.path}: {exc}; free some disk space or check permissions") from exc

    def journal_unfinished(self) -> tuple[int, str | None, list[tuple[float, int, str | None, tuple[float, ...]]]] | None:
        """The newest live session not closed yet, with its samples, or None."""
        row = self._exec("SELECT id, device FROM live_sessions WHERE closed_at IS NULL ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        samples = [(t, bpm, c, tuple(json.loads(rr)) if rr else ())
                   for t, bpm, c, rr in self._exec("SELECT t, bpm, contact, rr FROM live_samples WHERE session_id = ? "
                                                   "ORDER BY t", (row[0],)).fetchall()]
        return row[0], row[1], samples

    def journal_close(self, session_id: int, t: float) -> None:
        """Close a live session and drop its samples (the workout, if any, is stored separately)."""
        with self.transaction():
            self._exec("UPDATE live_sessions SET closed_at = ? WHERE id = ?", (t, session_id))
            self._exec("DELETE FROM live_samples WHERE session_id = ?", (session_id,))


def _is_corrupt(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


class AsyncStore:
    """The store for asyncio code: every call runs on one dedicated worker thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cooldownd-store")

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(store, *args)`` on the store thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(self.store, *args))

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(store, *args)`` on the store thread without waiting; a failure is logged."""

        def run() -> None:
            try:
                fn(self.store, *args)
            except Exception:
                log.exception("%s: background write failed", self.store.path)

        self._pool.submit(run)

    def stop(self) -> None:
        """Finish queued work and stop the worker thread; the store stays open."""
        self._pool.shutdown(wait=True)

    def close(self) -> None:
        """Finish queued work and close the database."""
        self.stop()
        self.store.close()
