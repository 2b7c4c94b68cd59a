"""Store: the per-workout time line (put_series / get_series / hr_curve) and read-only opening."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from records import summary

from cooldownd.core.series import Series
from cooldownd.errors import StoreError, StoreErrorKind
from cooldownd.reader import open_readonly
from cooldownd.database import SCHEMA_VERSION
from cooldownd.store import Store

LINE = Series(step_s=5, end_index=4, hr=(100, None, 140, 150, 120, 100), power=(200, 210, None, 250),
              mmp=((5, 230),), zones_bpm=(130, 145, 160, 175))


def test_a_series_is_kept_per_workout_and_gives_the_done_cards_curve(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    wid = store.add_workout(summary("cycling", 0, 20), source="fit")
    other = store.add_workout(summary("running", 100, 120), source="fit")
    store.put_series(wid, LINE)
    assert store.get_series(wid) == LINE and store.get_series(other) is None
    store.put_series(wid, LINE.__class__(5, 1, (90,)))  # replaced, not added
    assert store.get_series(wid).hr == (90,)
    store.put_series(other, LINE)
    assert store.hr_curve(other) == ((2, 100), (12, 140), (17, 150))  # the effort only, for the done card
    assert store.hr_curve(12345) == ()
    store.close()


def test_read_only_sees_what_a_writer_commits_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    writer = Store.open(path)
    reader = open_readonly(path)
    with writer.transaction():
        wid = writer.add_workout(summary("cycling", 0, 20), source="fit")
        writer.put_series(wid, LINE)
    assert [r.id for r in reader.workouts()] == [wid] and reader.get_series(wid) == LINE
    with pytest.raises(StoreError, match="readonly") as caught:
        reader.set_kv("x", "y")
    assert caught.value.kind is StoreErrorKind.READ_ONLY
    reader.close()
    writer.close()
    assert open_readonly(tmp_path / "absent.db") is None
    assert not (tmp_path / "absent.db").exists()


def test_read_only_on_a_file_without_the_series_table_and_from_a_newer_cooldownd(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE series")  # a database written before the table existed
    conn.execute("DROP INDEX workouts_start_max_hr")  # (and before version 5's index)
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    reader = open_readonly(path)
    assert reader.version == 3 and reader.get_series(1) is None and reader.workouts() == []
    reader.close()
    assert Store.open(path).get_series(1) is None  # a writer upgrades it: the table is there now
    assert open_readonly(path).version == SCHEMA_VERSION == 5
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer cooldownd"):
        open_readonly(path)


def test_read_only_creates_its_wal_files_private(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store.open(path).close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    old = os.umask(0o022)
    try:
        reader = open_readonly(path)
        reader.workouts()
        reader.close()
    finally:
        os.umask(old)
    for suffix in ("-wal", "-shm"):
        p = Path(f"{path}{suffix}")
        if p.exists():
            assert p.stat().st_mode & 0o077 == 0, oct(p.stat().st_mode)
