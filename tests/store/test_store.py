"""The SQLite store on real files: permissions, transactions, journal, corruption, read-only folders."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from cooldownd.errors import StoreError
from cooldownd.database import SCHEMA_VERSION
from cooldownd.store import Store
from records import summary


def test_creates_private_folder_and_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "cooldownd" / "c.db"
    Store.open(path).close()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_transaction_is_all_or_nothing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    with pytest.raises(RuntimeError), store.transaction():
        store.put_file("a" * 64, "/x.fit", 1, "t", "imported", None)
        store.add_workout(summary("cycling", 0, 10), source="fit")
        raise RuntimeError("boom")
    assert store.get_file("a" * 64) is None
    assert store.workouts() == []


def test_workouts_offers_and_outcomes(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    first = store.add_workout(summary("running", 0, 3600, max_hr=171), source="fit", richness=2)
    second = store.add_workout(summary("cycling", 7200, 9000, max_hr=180), source="ble")
    assert [w.id for w in store.workouts()] == [second, first]
    assert store.get_workout(first).summary == summary("running", 0, 3600, max_hr=171)
    assert [w.id for w in store.starting_between(-60, 60)] == [first]
    assert store.starting_between(60, 7000) == []
    assert store.history_max_hr() == 180 and store.history_max_hr(before=7200) == 171
    assert not store.was_offered(first)
    store.mark_offered(first, 100.0)
    store.record_outcome(first, {"offered_at": 100.0, "result": "completed", "steps_done": 8})
    row = store.get_workout(first)
    assert row is not None and row.offered_at == 100.0 and row.outcome["result"] == "completed"


def test_fit_id_lookup_only_matches_imported_files(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "c.db")
    store.put_file("b" * 64, "/a.fit", 42, "2024-01-01T00:00:00", "imported", None)
    store.put_file("c" * 64, "/b.fit", 43, "2024-01-01T00:00:00", "error", "bad CRC")
    assert store.get_file_by_fit_id(42, "2024-01-01T00:00:00").path == "/a.fit"
    assert store.get_file_by_fit_id(43, "2024-01-01T00:00:00") is None


def test_journal_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    store = Store.open(path)
    session = store.journal_open("AA:BB", 1000.0)
    store.journal_append(session, [(1000.0, 120, "detected", (500.0, 510.0)), (1001.0, 121, None, ())])
    store.close()  # a kill -9 leaves the WAL behind; reopening must see committed batches
    again = Store.open(path)
    found = again.journal_unfinished()
    assert found == (session, "AA:BB", [(1000.0, 120, "detected", (500.0, 510.0)), (1001.0, 121, None, ())])
    again.journal_close(session, 1002.0)
    assert again.journal_unfinished() is None


def test_corrupt_database_is_moved_aside_not_deleted(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    path.write_bytes(b"this is not sqlite" * 100)
    store = Store.open(path)
    assert store.workouts() == []
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("c.db.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == b"this is not sqlite" * 100


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer cooldownd"):
        Store.open(path)


def test_read_only_folder_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    # Root ignores permission bits; the immutable attribute stops root too.
    immutable = os.geteuid() == 0
    if immutable and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i")
    try:
        with pytest.raises(StoreError, match="ro/c.db: cannot open the database") as info:
            Store.open(folder / "c.db")
        assert len(str(info.value).splitlines()) == 1
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_state_folder_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the state folder"):
        Store.open(tmp_path / "state" / "cooldownd" / "c.db")


def test_a_version_1_database_is_migrated_and_keeps_its_workouts(tmp_path: Path) -> None:
    """Schema 1 (before superseded copies were kept): opened, upgraded in place, nothing lost."""
    from cooldownd import database

    path = tmp_path / "c.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(database._SCHEMA + "PRAGMA user_version = 1;")
    old = {"file": "/r.fit", "sha256": "a" * 64, "status": "imported", "error": None, "sport": "cycling",
           "sub_sport": "road", "start": "2024-05-04T08:00:00Z", "end": "2024-05-04T09:00:00Z", "duration_s": 3600.0,
           "level": "hard", "load": 120.0, "headline": "Hard ride: 1 h, load 120"}
    conn.execute("INSERT INTO workouts (source, sport, start, end, max_hr, richness, file_sha256, summary, created_at) "
                 "VALUES ('fit', 'cycling', 1714809600, 1714813200, 170, 3, ?, ?, 0)", ("a" * 64, json.dumps(old)))
    conn.execute("INSERT INTO walkthroughs VALUES (1, 1714813300, '{\"result\": \"completed\"}', 1714813900)")
    conn.close()
    store = Store.open(path)
    (row,) = store.workouts()
    assert row.superseded_by is None and row.outcome == {"result": "completed"}
    assert (row.summary.sport, row.summary.level.value, row.summary.headline) == ("cycling", "hard", old["headline"])
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    assert "superseded_by" in {r[1] for r in conn.execute("PRAGMA table_info(workouts)")}
    assert conn.execute("SELECT COUNT(*) FROM series").fetchone()[0] == 0  # v4: the time lines
    assert {"workouts_end", "workouts_start_max_hr"} <= {r[1] for r in conn.execute("PRAGMA index_list(workouts)")}
    plan = conn.execute("EXPLAIN QUERY PLAN SELECT MAX(max_hr) FROM workouts WHERE superseded_by IS NULL "
                        "AND start < 1").fetchall()
    assert "workouts_start_max_hr" in plan[0][3]  # v5: the as-of history reads this index, not the rows
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'hr_curves'").fetchone() is None  # never shipped: the series serves the curve


def test_history_reads_the_newest_workouts_through_the_end_time_index(tmp_path: Path) -> None:
    """history and status take the newest rows by walking an index, not by sorting every workout."""
    store = Store.open(tmp_path / "s.db")
    store.close()
    conn = sqlite3.connect(tmp_path / "s.db")
    plan = " ".join(r[-1] for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT w.id FROM workouts w LEFT JOIN walkthroughs t ON t.workout_id = w.id "
        "WHERE w.superseded_by IS NULL ORDER BY w.end DESC, w.id DESC LIMIT 20"))
    assert "workouts_end" in plan and "TEMP B-TREE" not in plan, plan
