"""StoreError says which kind (from SQLite's result code, never its text), with advice that fits.

Each kind is made for real: a lock held by another connection, an immutable (or 0444) file, a
read-only mount, a full tmpfs, a file-size limit (an I/O error), and a corrupt file.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cooldownd.errors import ADVICE, StoreError, StoreErrorKind as K
from cooldownd.store import Store
from mounts import ROOT, fill, remount, small_tmpfs
from records import summary


def write(store: Store, n: int = 1, pad: int = 0) -> None:
    """``n`` workouts in one transaction."""
    with store.transaction():
        for i in range(n):
            store.add_workout(summary("cycling", i * 10, i * 10 + 5, note="x" * pad or None), source="fit")


def one_line(err: StoreError, kind: K) -> str:
    text = str(err)
    assert err.kind is kind and "\n" not in text and text.endswith(ADVICE[kind]), text
    return text


def test_a_held_lock_is_locked_not_a_full_disk(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    Store.open(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program in the middle of a write
    store = Store.open(db, busy_timeout_s=0.2)
    try:
        with pytest.raises(StoreError) as info:
            write(store)
        text = one_line(info.value, K.LOCKED)
        assert "locked" in text and "another program" in text and "disk space" not in text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    write(store)  # the lock is gone: the store works again, nothing was half-written
    assert len(store.workouts()) == 1
    store.close()


def test_a_read_only_database_file(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    store = Store.open(db)
    write(store)
    store.close()
    for suffix in ("-wal", "-shm"):  # a clean close leaves none; a read-only file must not need them
        assert not Path(f"{db}{suffix}").exists()
    if ROOT:  # root ignores permission bits; the immutable attribute stops root too
        if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
            pytest.skip("running as root on a file system without chattr +i")
    else:
        db.chmod(0o444)
    try:
        with pytest.raises(StoreError) as info:
            store = Store.open(db)  # SQLite opens a file it cannot write read-only: the write says so
            try:
                write(store)
            finally:
                store.close()
        text = one_line(info.value, K.READ_ONLY)
        assert "read-only" in text and "disk space" not in text
    finally:
        if ROOT:
            subprocess.run(["chattr", "-i", str(db)], check=True)
        db.chmod(0o600)


def test_a_read_only_mount_is_read_only_not_cannot_open(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "1m") as mnt:
        Store.open(mnt / "c.db").close()
        remount(mnt, "ro")
        try:
            with pytest.raises(StoreError) as info:
                Store.open(mnt / "c.db")
            assert "read-only" in one_line(info.value, K.READ_ONLY)
        finally:
            remount(mnt, "rw")


def test_a_full_disk_is_full(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "1m") as mnt:
        store = Store.open(mnt / "c.db")
        write(store)
        fill(mnt, 16 * 1024)
        try:
            with pytest.raises(StoreError) as info:
                write(store, 400, pad=2000)
            assert "disk space" in one_line(info.value, K.FULL)
            assert len(store.workouts()) == 1, "the transaction left nothing behind"
        finally:
            store.close()


def test_a_file_size_limit_is_an_io_error(tmp_path: Path) -> None:
    """RLIMIT_FSIZE: the kernel refuses the write (EFBIG), which SQLite reports as an I/O error."""
    db = tmp_path / "c.db"
    Store.open(db).close()
    code = f"""
import resource, signal, sys
from cooldownd.errors import StoreError
from cooldownd.store import Store
sys.path.insert(0, {str(Path(__file__).parents[1] / "support")!r})
from records import summary
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
store = Store.open({str(db)!r})
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
try:
    with store.transaction():
        for i in range(400):
            store.add_workout(summary("cycling", i, i + 1, note="x" * 2000), source="fit")
except StoreError as exc:
    print(exc.kind.name, exc, sep="|")
"""
    out = subprocess.run([sys.executable, "-c", code],
                         capture_output=True, text=True, timeout=60)
    kind, _, text = out.stdout.strip().partition("|")
    assert kind == "IO", (out.stdout, out.stderr)
    assert text.endswith(ADVICE[K.IO]) and "locked" not in text


def test_a_corrupt_file_is_corrupt_and_moved_aside_at_open(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    db.write_bytes(b"SQLite format 3\0" + b"garbage" * 2000)
    with pytest.raises(sqlite3.DatabaseError) as raw:
        sqlite3.connect(db).execute("SELECT * FROM sqlite_master").fetchall()
    assert "corrupt" in one_line(StoreError.from_sqlite(db, raw.value), K.CORRUPT)
    store = Store.open(db)  # the kind (not the text) decides: moved aside, a fresh database
    store.close()
    assert [p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name]


def test_kinds_come_from_the_code_not_the_text() -> None:
    lying = sqlite3.OperationalError("database or disk is full")
    lying.sqlite_errorname = "SQLITE_BUSY"
    assert StoreError.from_sqlite("x.db", lying).kind is K.LOCKED
    assert StoreError.from_sqlite("x.db", sqlite3.OperationalError("database is locked")).kind is K.OTHER
