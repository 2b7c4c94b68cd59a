"""SQLite state: imported files, workouts, walk-through outcomes, the live-session journal.

The queries; the file itself (where, schema, migrations, a corrupt one moved aside) is
``database.py``. The class is synchronous; the daemon uses it from one worker thread
(``asyncstore.AsyncStore``) so the event loop never waits on the disk. A workout row is never deleted:
a richer copy of the same session marks it ``superseded_by`` (``record/recorder.py``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cooldownd import database
from cooldownd.errors import StoreError
from cooldownd.record import lines
from cooldownd.record.summary import Summary, WorkoutRow
from cooldownd.series_table import SeriesTable

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class FileRow:
    """One imported (or refused) input file."""

    sha256: str
    path: str
    fit_serial: int | None
    fit_time_created: str | None
    status: str
    error: str | None


class Store(SeriesTable):
    """The state database. Open with :meth:`open`; every write is one transaction."""

    def __init__(self, conn: sqlite3.Connection, path: Path, busy_timeout_s: float = 10.0) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.path = path
        self._busy_timeout_s = busy_timeout_s
        self._depth = 0
        self._ident = database.identity(path)
        self._lock = database.join(path, self)  # shared with every Store of this file in the process

    @classmethod
    def open(cls, path: Path, *, busy_timeout_s: float = 10.0, move_aside: bool = True) -> Store:
        """Open (creating, migrating, or moving a corrupt file aside); raise StoreError with a fix.
        ``move_aside=False`` (a command while a daemon holds the file) refuses a corrupt one instead."""
        path = Path(path)
        return cls(database.open_database(path, busy_timeout_s, move_aside=move_aside), path, busy_timeout_s)

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
        """The connection, reopened first (with every peer's) if the file at ``path`` is no longer the
        one opened: deleted or replaced under us, writing on would go to an unlinked file."""
        now = database.identity(self.path)
        if self._conn is not None and (now == self._ident or self.readonly):
            return self._conn
        if self._conn is not None:  # the first in this process to notice
            peers = database.members(self.path)
            database.replaced(self.path, now, lambda: [peer._drop() for peer in peers])
        self._conn = database.open_database(self.path, self._busy_timeout_s)
        self._ident = database.identity(self.path)
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
        with self._lock:  # a peer never closes this connection in the middle of the transaction
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

    def history_max_hr(self, before: float | None = None) -> int | None:
        """The highest heart rate in any stored workout (that started before ``before``, if given).

        Superseded copies do not count: which copy of a session got stored first depends on import order."""
        if before is None:
            return self._exec("SELECT MAX(max_hr) FROM workouts WHERE superseded_by IS NULL").fetchone()[0]
        return self._exec("SELECT MAX(max_hr) FROM workouts WHERE superseded_by IS NULL AND start < ?",
                          (before,)).fetchone()[0]

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
