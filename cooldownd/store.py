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
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cooldownd.core.series import Series, decode as decode_series, encode as encode_series
from cooldownd.errors import StoreError, StoreErrorKind, sqlite_kind
from cooldownd.record import lines
from cooldownd.record.summary import Summary

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = 3
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
# MIGRATIONS[n] takes a database from version n - 1 to n (a new database runs them all too).
MIGRATIONS = {
    # An import never deletes a workout: a richer copy of the same session marks the poorer one.
    2: "ALTER TABLE workouts ADD COLUMN superseded_by INTEGER REFERENCES workouts(id);",
    # One compact time line per workout (core/series.py), for the report's and the done card's charts.
    3: "CREATE TABLE series (workout_id INTEGER PRIMARY KEY REFERENCES workouts(id) ON DELETE CASCADE, "
       "data BLOB NOT NULL);",
}


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
    """One stored workout: its summary, the walk-through outcome, and the richer copy that superseded it."""

    id: int
    source: str
    start: float
    end: float
    richness: float
    file_sha256: str | None
    summary: Summary
    offered_at: float | None
    outcome: dict[str, Any] | None  # the stored walk-through outcome, printed as is by ``history --json``
    superseded_by: int | None = None


def _secure_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


class Store:
    """The state database. Open with :meth:`open`; every write is one transaction."""

    def __init__(self, conn: sqlite3.Connection, path: Path, busy_timeout_s: float = 10.0) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.path = path
        self._busy_timeout_s = busy_timeout_s
        self._depth = 0
        self.readonly = False  # open_readonly: never reopened read-write behind the caller's back
        self.version = SCHEMA_VERSION
        self._ident = _identity(path)
        key = os.path.abspath(path)
        self._lock = _PATH_LOCKS.setdefault(key, threading.RLock())
        _PEERS.setdefault(key, weakref.WeakSet()).add(self)

    @classmethod
    def open(cls, path: Path, *, busy_timeout_s: float = 10.0, move_aside: bool = True) -> Store:
        """Open (creating, migrating, or moving a corrupt file aside); raise StoreError with a fix.

        ``move_aside=False`` (a command while a daemon holds the database) refuses a corrupt-looking
        file instead: only its owner may move it.
        """
        path = Path(path)
        try:
            _secure_dir(path.parent)
            with _umask(0o077):
                conn = cls._connect(path, busy_timeout_s)
        except sqlite3.DatabaseError as exc:
            kind = sqlite_kind(exc)
            if kind is StoreErrorKind.CANNOT_OPEN and _read_only_fs(path.parent):
                kind = StoreErrorKind.READ_ONLY  # SQLite says only "unable to open": the mount says why
            if kind is not StoreErrorKind.CORRUPT:
                raise StoreError.from_sqlite(path, exc, "cannot open the database", kind) from exc
            if not move_aside:
                raise held_damaged(path, exc) from exc
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            log.error("%s: database is corrupt (%s); moved aside to %s and starting afresh", path, exc, aside)
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{path}{suffix}", f"{aside}{suffix}")
            with _umask(0o077):
                conn = cls._connect(path, busy_timeout_s)
        except OSError as exc:
            raise StoreError.from_os(path.parent, exc, "cannot create the state folder") from exc
        return cls(conn, path, busy_timeout_s)

    @staticmethod
    def _connect(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy_timeout_s)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            _migrate(conn, path)
            # quick_check reports damage as rows, not exceptions: a valid header over broken pages
            # would open fine and fail on every later query.
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise _Damaged(f"database disk image is malformed ({check.splitlines()[0]})")
        except BaseException:
            conn.close()
            raise
        for suffix in ("", "-wal", "-shm"):
            _private(Path(f"{path}{suffix}"))
        return conn

    @classmethod
    def open_readonly(cls, path: Path) -> Store | None:
        """Open for reading only (None when there is no database yet): safe next to a running daemon.

        Nothing is created, migrated, moved aside or chmod-ed, and a file replaced meanwhile is not
        followed; WAL readers never block the daemon's writes. A damaged file raises StoreError (CORRUPT)
        and stays where it is. ``version`` is the file's schema (older than SCHEMA_VERSION: not upgraded).
        """
        path = Path(path)
        if not path.is_file():
            return None
        try:
            conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, check_same_thread=False,
                                   isolation_level=None, timeout=10)
        except sqlite3.Error as exc:
            raise StoreError.from_sqlite(path, exc, "cannot open the database to read") from exc
        store = cls(conn, path)
        store.readonly = True
        try:
            with _umask(0o077):  # the first read may create the -wal/-shm files: private, like the database
                store.version = store._exec("PRAGMA user_version").fetchone()[0]
        except BaseException:
            store.close()
            raise
        if store.version > SCHEMA_VERSION:
            store.close()
            raise StoreError(f"{path}: written by a newer cooldownd (schema {store.version}); upgrade cooldownd",
                             StoreErrorKind.NEWER)
        return store

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def _same_file(self) -> sqlite3.Connection:
        """The connection, reopened first if the file at ``path`` is no longer the one opened (deleted or
        replaced under us: writing on would go to an unlinked file, lost at the next start).

        Every connection of this process to the path is closed before the new file is opened, so the
        old file's WAL is checkpointed into it and removed instead of being paired with the new file.
        """
        now = _identity(self.path)
        if self._conn is not None and (now == self._ident or self.readonly):
            return self._conn
        if self._conn is not None:  # the first in this process to notice: one warning
            log.warning("%s: the database was %s while cooldownd had it open; reopening it%s", self.path,
                        "deleted" if now is None else "replaced", " (a new, empty one)" if now is None else "")
            ours = _stale_companions(self.path)
            for peer in list(_PEERS.get(os.path.abspath(self.path), ())):
                peer._drop()
            for name, ident in ours:  # the old file's WAL and index must not be paired with the new file
                if _identity(Path(name)) == ident:
                    with contextlib.suppress(OSError):
                        os.unlink(name)
        try:
            _secure_dir(self.path.parent)
            with _umask(0o077):
                self._conn = self._connect(self.path, self._busy_timeout_s)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError.from_sqlite(self.path, exc, "cannot reopen the database") from exc
        self._ident = _identity(self.path)
        return self._conn

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
        with self._lock:
            self._exec("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                # SQLite may have rolled back already (a full disk does): never hide the first error.
                if self._conn is not None and self._conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._exec("COMMIT")

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                conn = self._conn if self._depth else self._same_file()
                assert conn is not None
                return conn.execute(sql, args)
            except sqlite3.Error as exc:
                raise StoreError.from_sqlite(self.path, exc) from exc

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
    def add_workout(self, summary: Summary, *, source: str, richness: float = 0.0,
                    file_sha256: str | None = None) -> int:
        """Store one workout's summary; returns its id."""
        cur = self._exec(
            "INSERT INTO workouts (source, sport, start, end, max_hr, richness, file_sha256, summary, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (source, summary.sport, summary.start, summary.end, summary.max_hr, richness, file_sha256,
             lines.stored(summary), time.time()))
        return int(cur.lastrowid)

    def hr_curve(self, workout_id: int) -> tuple[tuple[int, int], ...]:
        """The workout's heart-rate curve for the done card: (seconds from start, bpm), about 120 points; ().

        Drawn from the stored time line (``get_series``): the effort only, not the recovery after it.
        """
        from cooldownd.core.hrcurve import compact

        line = self.get_series(workout_id)
        if line is None:
            return ()
        return compact(line.hr_points(), 0, line.end_index * line.step_s)

    def set_summary(self, workout_id: int, summary: Summary) -> None:
        """Replace a stored workout's summary (same session, a number another copy measured)."""
        self._exec("UPDATE workouts SET summary = ? WHERE id = ?", (lines.stored(summary), workout_id))

    def starting_between(self, lo: float, hi: float) -> list[WorkoutRow]:
        """Workouts not superseded that start in [lo, hi] (the same-session rule's candidates)."""
        return self._workouts("WHERE w.superseded_by IS NULL AND w.start BETWEEN ? AND ? ORDER BY w.start", (lo, hi))

    def supersede(self, old_id: int, new_id: int) -> None:
        """Mark ``old_id`` as a poorer copy of ``new_id``; its offer and outcome now belong to ``new_id``.

        The old row stays (an import never deletes a workout); history hides it unless asked.
        """
        self._exec("UPDATE workouts SET superseded_by = ? WHERE id = ?", (new_id, old_id))
        self._exec("INSERT OR IGNORE INTO walkthroughs (workout_id, offered_at, outcome, updated_at) "
                   "SELECT ?, offered_at, outcome, updated_at FROM walkthroughs WHERE workout_id = ?", (new_id, old_id))

    def current(self, workout_id: int) -> int:
        """The id that stands for ``workout_id`` now: itself, or the richer copy that superseded it."""
        seen = {workout_id}
        while True:
            row = self._exec("SELECT superseded_by FROM workouts WHERE id = ?", (workout_id,)).fetchone()
            if row is None or row[0] is None or row[0] in seen:
                return workout_id
            workout_id = row[0]
            seen.add(workout_id)

    def get_workout(self, workout_id: int) -> WorkoutRow | None:
        """One workout by id (superseded or not)."""
        rows = self._workouts("WHERE w.id = ?", (workout_id,))
        return rows[0] if rows else None

    def workouts(self, limit: int = 20, *, superseded: bool = False) -> list[WorkoutRow]:
        """The newest workouts first; ``superseded`` includes the poorer copies of a session."""
        where = "" if superseded else "WHERE w.superseded_by IS NULL "
        return self._workouts(where + "ORDER BY w.end DESC, w.id DESC LIMIT ?", (limit,))

    def workouts_since(self, start: float) -> list[WorkoutRow]:
        """Workouts not superseded that ended at or after ``start``, oldest first."""
        return self._workouts("WHERE w.superseded_by IS NULL AND w.end >= ? ORDER BY w.end, w.id", (start,))

    def history_max_hr(self, before: float | None = None) -> int | None:
        """The highest heart rate in any stored workout (that started before ``before``, if given)."""
        if before is None:
            return self._exec("SELECT MAX(max_hr) FROM workouts").fetchone()[0]
        return self._exec("SELECT MAX(max_hr) FROM workouts WHERE start < ?", (before,)).fetchone()[0]

    # -- series ----------------------------------------------------------------------------------
    def put_series(self, workout_id: int, series: Series) -> None:
        """Keep a workout's compact time line (core/series.py; replaces an earlier one)."""
        self._exec("INSERT OR REPLACE INTO series VALUES (?, ?)", (workout_id, encode_series(series)))

    def get_series(self, workout_id: int) -> Series | None:
        """A workout's compact time line, or None (none kept, unreadable, or a database older than the table)."""
        try:
            row = self._exec("SELECT data FROM series WHERE workout_id = ?", (workout_id,)).fetchone()
        except StoreError:
            if self._has_table("series"):
                raise
            return None  # read-only, on a file no writer has upgraded yet
        return decode_series(row[0]) if row else None

    def _has_table(self, name: str) -> bool:
        return self._exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None

    def _workouts(self, where: str, args: Sequence[Any]) -> list[WorkoutRow]:
        sql = ("SELECT w.id, w.source, w.start, w.end, w.richness, w.file_sha256, w.summary, t.offered_at, "
               "t.outcome, w.superseded_by FROM workouts w LEFT JOIN walkthroughs t ON t.workout_id = w.id " + where)
        return [WorkoutRow(i, src, s, e, r, sha, lines.from_stored(summ, s, e), off,
                           json.loads(out) if out else None, sup)
                for i, src, s, e, r, sha, summ, off, out, sup in self._exec(sql, args).fetchall()]

    # -- walk-throughs -------------------------------------------------------------------------
    def was_offered(self, workout_id: int) -> bool:
        """Whether an offer was already made (or decided against) for this workout (or its richer copy)."""
        return self._exec("SELECT 1 FROM walkthroughs WHERE workout_id = ?",
                          (self.current(workout_id),)).fetchone() is not None

    def mark_offered(self, workout_id: int, t: float) -> None:
        """Record that the offer for this workout is being made (so it is never made twice)."""
        self._exec("INSERT OR IGNORE INTO walkthroughs (workout_id, offered_at, updated_at) VALUES (?, ?, ?)",
                   (self.current(workout_id), t, t))

    def record_outcome(self, workout_id: int, outcome: dict[str, Any]) -> None:
        """Store the walk-through outcome (on the richer copy if one superseded this workout meanwhile)."""
        now = time.time()
        target = self.current(workout_id)
        if self._exec("SELECT 1 FROM workouts WHERE id = ?", (target,)).fetchone() is None:
            log.info("workout %d: not stored; its walk-through outcome is not kept", workout_id)
            return
        self._exec("INSERT INTO walkthroughs (workout_id, offered_at, outcome, updated_at) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT(workout_id) DO UPDATE SET outcome = excluded.outcome, updated_at = excluded.updated_at",
                   (target, outcome.get("offered_at"), json.dumps(outcome), now))

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
                assert self._conn is not None
                self._conn.executemany("INSERT INTO live_samples VALUES (?, ?, ?, ?, ?)", rows)
            except sqlite3.Error as exc:
                raise StoreError.from_sqlite(self.path, exc) from exc

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


# Every Store of one database file in this process shares a lock (one statement or transaction at a
# time) and knows its peers, so a file replaced under us is reopened by all of them together.
_PATH_LOCKS: dict[str, threading.RLock] = {}
_PEERS: dict[str, weakref.WeakSet[Store]] = {}


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path`` now, or None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _stale_companions(path: Path) -> list[tuple[str, tuple[int, int]]]:
    """The ``-wal`` and ``-shm`` files beside ``path`` that this process holds open: the old file's."""
    held: set[tuple[int, int]] = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                st = os.stat(f"/proc/self/fd/{fd}")
                held.add((st.st_dev, st.st_ino))
    return [(f"{path}{suffix}", ident) for suffix in ("-wal", "-shm")
            if (ident := _identity(Path(f"{path}{suffix}"))) is not None and ident in held]


def _private(path: Path) -> None:
    """Take group and other access away (never add any: a read-only file stays read-only)."""
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("%s: cannot make it private (%s)", path, exc.strerror)


def _read_only_fs(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


class _Damaged(sqlite3.DatabaseError):
    """quick_check found damage: corrupt, though SQLite raised nothing."""

    sqlite_errorname = "SQLITE_CORRUPT"


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the schema to ``SCHEMA_VERSION`` in one transaction (a new database: all of it)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: written by a newer cooldownd (schema {version}); upgrade cooldownd",
                         StoreErrorKind.NEWER)
    if version == SCHEMA_VERSION:
        return
    steps = ([_SCHEMA] if version == 0 else []) + [MIGRATIONS[n] for n in range(max(version, 1) + 1, SCHEMA_VERSION + 1)]
    conn.executescript("BEGIN IMMEDIATE;" + "".join(steps) + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
    if version:
        log.info("%s: database schema upgraded from version %d to %d", path, version, SCHEMA_VERSION)


def held_damaged(path: Path, detail: object) -> StoreError:
    """The error for a damaged database a running daemon holds: only its owner may move it aside."""
    return StoreError(f"{path}: the database looks damaged ({detail}), and the running daemon holds it; left as "
                      "it is: restart the daemon (systemctl --user restart cooldownd) to repair it",
                      StoreErrorKind.CORRUPT)


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
