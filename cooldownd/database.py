"""The SQLite file under the store: where it lives, its schema and migrations, how it is opened.

One file under ``$XDG_STATE_HOME/cooldownd/`` (folder 0700, files 0600), WAL mode, schema versioned
with ``PRAGMA user_version`` and migrated in place (``MIGRATIONS``). A corrupt file, even one with
a valid header over broken pages, is moved aside as ``*.corrupt-TIME`` (never deleted) and a fresh
one is started; every other failure is a ``StoreError`` whose kind comes from SQLite's code.
``store.py`` holds the queries. The file's identity (inode) is watched: a file deleted or replaced under a
running daemon is reopened by all of its connections together (``replaced``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cooldownd.errors import StoreError, StoreErrorKind, sqlite_kind

log = logging.getLogger("cooldownd.store")

SCHEMA_VERSION = 5
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
    # history and status read the newest workouts: an index walk instead of a scan and a sort of them all
    3: "CREATE INDEX workouts_end ON workouts(end, id);",
    # One compact time line per workout (core/series.py: heart rate and power, the power curve, the zones)
    # for the report; the done card's heart-rate curve is derived from it (Store.hr_curve).
    4: "CREATE TABLE series (workout_id INTEGER PRIMARY KEY REFERENCES workouts(id) ON DELETE CASCADE, "
       "data BLOB NOT NULL);",
    # Store.history_max_hr runs for every workout stored (its as-of history): a walk of this small index,
    # not of the rows (1.2 ms -> 0.15 ms a query on a 2,340-workout history)
    5: "CREATE INDEX workouts_start_max_hr ON workouts(start, max_hr) WHERE superseded_by IS NULL;",
}


def open_database(path: Path, busy_timeout_s: float = 10.0, *, move_aside: bool = True) -> sqlite3.Connection:
    """Open (creating, migrating, or moving a corrupt file aside); raise StoreError with a fix.

    ``move_aside=False`` (a command while a daemon holds the file) refuses a corrupt one instead.
    """
    try:
        _secure_dir(path.parent)
        with _umask(0o077):
            return _connect(path, busy_timeout_s)
    except sqlite3.DatabaseError as exc:
        kind = sqlite_kind(exc)
        if kind is StoreErrorKind.CANNOT_OPEN and _read_only_fs(path.parent):
            kind = StoreErrorKind.READ_ONLY  # SQLite says only "unable to open": the mount says why
        if kind is not StoreErrorKind.CORRUPT:
            raise StoreError.from_sqlite(path, exc, "cannot open the database", kind) from exc
        if not move_aside:
            raise held_damaged(path, exc) from exc
        _move_aside(path, exc)
    except OSError as exc:
        raise StoreError.from_os(path.parent, exc, "cannot create the state folder") from exc
    with _umask(0o077):
        return _connect(path, busy_timeout_s)


def open_readonly(path: Path) -> tuple[sqlite3.Connection, int]:
    """A read-only connection and the file's schema version: nothing created, migrated or moved aside.

    The first read may create the -wal/-shm files (WAL readers need the index): private, like the file.
    """
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, check_same_thread=False,
                               isolation_level=None, timeout=10)
    except sqlite3.Error as exc:
        raise StoreError.from_sqlite(path, exc, "cannot open the database to read") from exc
    try:
        with _umask(0o077):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError.from_sqlite(path, exc, "cannot read the database") from exc
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreError(f"{path}: written by a newer cooldownd (schema {version}); upgrade cooldownd",
                         StoreErrorKind.NEWER)
    return conn, version


def held_damaged(path: Path, detail: object) -> StoreError:
    """The error for a damaged database a running daemon holds: only its owner may move it aside."""
    return StoreError(f"{path}: the database looks damaged ({detail}), and the running daemon holds it; left as "
                      "it is: restart the daemon (systemctl --user restart cooldownd) to repair it",
                      StoreErrorKind.CORRUPT)


def _move_aside(path: Path, exc: Exception) -> None:
    aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
    log.error("%s: database is corrupt (%s); moved aside to %s and starting afresh", path, exc, aside)
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.replace(f"{path}{suffix}", f"{aside}{suffix}")


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


def _secure_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


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


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


# The connections (Store objects) of this process to each file, and the lock they share: one statement
# or transaction at a time, so a file replaced under them is reopened by all of them together.
_SHARED: dict[str, tuple[threading.RLock, weakref.WeakSet[Any]]] = {}


def join(path: Path, member: Any) -> threading.RLock:
    """Count ``member`` among this process's connections to ``path``; returns the lock they share."""
    lock, members = _SHARED.setdefault(os.path.abspath(path), (threading.RLock(), weakref.WeakSet()))
    members.add(member)
    return lock


def members(path: Path) -> list[Any]:
    """This process's connections to ``path``."""
    return list(_SHARED.get(os.path.abspath(path), (None, ()))[1])


def identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path`` now, or None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def replaced(path: Path, now: tuple[int, int] | None, close_all: Callable[[], object]) -> None:
    """The file at ``path`` is not the one this process opened: say so once, close every connection
    (``close_all``), and remove the old file's ``-wal``/``-shm`` still beside it, so they are never
    paired with the new file (they are the old one's when this process holds them open)."""
    log.warning("%s: the database was %s while cooldownd had it open; reopening it%s", path,
                "deleted" if now is None else "replaced", " (a new, empty one)" if now is None else "")
    held: set[tuple[int, int]] = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                st = os.stat(f"/proc/self/fd/{fd}")
                held.add((st.st_dev, st.st_ino))
    ours = [(name, ident) for name in (f"{path}-wal", f"{path}-shm")
            if (ident := identity(Path(name))) is not None and ident in held]
    close_all()
    for name, ident in ours:
        if identity(Path(name)) == ident:
            with contextlib.suppress(OSError):
                os.unlink(name)
