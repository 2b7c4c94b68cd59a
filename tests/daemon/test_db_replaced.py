"""The database deleted or replaced under a running daemon (issue 13 item 10).

Once the daemon went on writing to the unlinked file (a ride lost at the next start, offered
twice), logged a traceback, and `cooldownd history` moved the live database aside under it. Now
the daemon notices the change of inode, reopens with one warning, and a reader command never
moves aside a database a running daemon holds. Real `cooldownd run`, real SQLite files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import fitgen
from conftest import run_cli
from daemon_harness import DaemonProcess


def start(tmp: Path) -> tuple[DaemonProcess, Path]:
    inbox = tmp / "in"
    inbox.mkdir()
    config = (f"[ble]\nenabled = false\n[watch]\nfolders = [\"{inbox}\"]\nsettle_s = 0.2\npoll_s = 5\n"
              "[notify]\nbackend = \"console\"\n")
    d = DaemonProcess(tmp, config).start()
    d.wait_for_datagram("READY=1", timeout=30)
    return d, inbox


def drop(inbox: Path, name: str, serial: int) -> None:
    (inbox / f".{name}").write_bytes(fitgen.ride(minutes=5, start=1_600_000_000 + serial * 10_000, serial=serial))
    os.replace(inbox / f".{name}", inbox / name)


def files_in_history(env: dict[str, str] | None = None) -> set[str]:
    out = run_cli("history", "--json", "--limit", "50", env=env)
    assert out.returncode == 0, out.stderr
    return {Path(json.loads(line)["file"]).name for line in out.stdout.splitlines()}


def test_database_deleted_then_replaced_under_the_daemon_is_reopened_and_nothing_is_lost(tmp_path: Path,
                                                                                         home: Path) -> None:
    db = home / ".local" / "state" / "cooldownd" / "cooldownd.db"
    d, inbox = start(tmp_path)
    try:
        drop(inbox, "one.fit", 1)
        d.wait_for_output("one.fit: imported", stream="stderr")
        for suffix in ("", "-wal", "-shm"):  # the user deletes the database (rm cooldownd.db*)
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        drop(inbox, "two.fit", 2)
        d.wait_for_output("two.fit: imported", stream="stderr")
        assert files_in_history() == {"two.fit"}, "the ride went to the new file, not to the unlinked one"

        backup = tmp_path / "backup.db"  # the user restores a backup over it (mv), the old WAL still beside it
        assert run_cli("import", "--no-notify", str(fitgen_file(tmp_path, "three.fit", 3)),
                       env={"COOLDOWND_STORE__PATH": str(backup)}).returncode == 0
        os.replace(backup, db)
        drop(inbox, "four.fit", 4)
        d.wait_for_output("four.fit: imported", stream="stderr")
        assert files_in_history() == {"three.fit", "four.fit"}
        assert d.stop() == 0
    finally:
        d.kill()
    log = d.stderr.read_text()
    assert "Traceback" not in log, log[-3000:]
    assert log.count("the database was deleted while cooldownd had it open") == 1, log
    assert log.count("the database was replaced while cooldownd had it open") == 1, log
    # what a restarted daemon would find: everything imported since the replacement (nothing went to an unlinked file)
    assert files_in_history() == {"three.fit", "four.fit"}
    assert not list(db.parent.glob("*.corrupt-*"))


def fitgen_file(folder: Path, name: str, serial: int) -> Path:
    path = folder / name
    path.write_bytes(fitgen.ride(minutes=5, start=1_600_000_000 + serial * 10_000, serial=serial))
    return path


def test_reader_command_never_moves_aside_a_database_the_daemon_holds(tmp_path: Path, home: Path) -> None:
    db = home / ".local" / "state" / "cooldownd" / "cooldownd.db"
    d, inbox = start(tmp_path)
    try:
        drop(inbox, "one.fit", 1)
        d.wait_for_output("one.fit: imported", stream="stderr")
        # a torn copy over it (same inode, `cp` without its -wal): the file is damaged in place
        with open(db, "r+b") as f:
            f.write(b"definitely not SQLite " * (db.stat().st_size // 22))
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        for command in (["history"], ["status"]):
            out = run_cli(*command)
            assert out.returncode != 0 and "Traceback" not in out.stderr, (command, out.stderr)
            assert "the running daemon holds it" in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
            assert not list(db.parent.glob("*.corrupt-*")), f"{command} moved the daemon's database aside"
        assert d.proc.poll() is None
    finally:
        d.kill()
