"""Store: the per-workout time line (put_series / get_series / hr_curve) and read-only opening."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from cooldownd.core.series import Series
from cooldownd.errors import StoreError
from cooldownd.store import Store

LINE = Series(step_s=5, end_index=4, hr=(100, None, 140, 150, 120, 100), power=(200, 210, None, 250),
              mmp=((5, 230),), zones_bpm=(130, 145, 160, 175))


def test_a_series_is_kept_with_its_workout_and_goes_with_it(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    wid = store.add_workout({"sport": "cycling"}, source="fit", start=0, end=20, series=LINE)
    other = store.add_workout({"sport": "running"}, source="fit", start=100, end=120)
    assert store.get_series(wid) == LINE and store.get_series(other) is None
    store.put_series(other, LINE)
    assert store.get_series(other) == LINE
    assert store.hr_curve(wid) == ((2, 100), (12, 140), (17, 150))  # the effort only, for the done card
    store.delete_workout(wid)
    assert store.get_series(wid) is None
    n = store._conn.execute("SELECT COUNT(*) FROM series").fetchone()[0]
    assert n == 1
    store.close()


def test_read_only_sees_what_a_writer_commits_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    writer = Store.open(path)
    reader = Store.open_readonly(path)
    wid = writer.add_workout({"sport": "cycling"}, source="fit", start=0, end=20, series=LINE)
    assert [r.id for r in reader.workouts()] == [wid] and reader.get_series(wid) == LINE
    with pytest.raises(StoreError, match="readonly"):
        reader.set_kv("x", "y")
    reader.close()
    writer.close()
    assert Store.open_readonly(tmp_path / "absent.db") is None
    assert not (tmp_path / "absent.db").exists()


def test_read_only_on_a_file_without_the_series_table_and_from_a_newer_cooldownd(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE series")  # a database written before the table existed
    conn.commit()
    conn.close()
    reader = Store.open_readonly(path)
    assert reader.get_series(1) is None and reader.workouts() == []
    reader.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer cooldownd"):
        Store.open_readonly(path)


def test_read_only_creates_its_wal_files_private(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store.open(path).close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    old = os.umask(0o022)
    try:
        reader = Store.open_readonly(path)
        reader.workouts()
        reader.close()
    finally:
        os.umask(old)
    for suffix in ("-wal", "-shm"):
        p = Path(f"{path}{suffix}")
        if p.exists():
            assert p.stat().st_mode & 0o077 == 0, oct(p.stat().st_mode)
