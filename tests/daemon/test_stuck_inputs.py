"""Nothing in a watched folder can stall the daemon (issue 13 item 8).

A FIFO named x.fit once blocked the import thread for good (no later ride imported, SIGTERM did
not end the daemon); a symlink y.fit -> /dev/zero was read until memory ran out. Real `cooldownd
run` children, real FIFOs and links, real SQLite locks. The children get an address-space limit
so a regression fails with MemoryError instead of eating the machine.
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import fitgen
from conftest import run_cli
from daemon_harness import DaemonProcess

AS_LIMIT = 3 << 30  # bytes of address space for a child: ample for the daemon, far below the machine


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def start(tmp: Path) -> tuple[DaemonProcess, Path]:
    inbox = tmp / "in"
    inbox.mkdir()
    config = (f"[ble]\nenabled = false\n[watch]\nfolders = [\"{inbox}\"]\nsettle_s = 0.2\npoll_s = 5\n"
              "[notify]\nbackend = \"console\"\n")
    d = DaemonProcess(tmp, config).start(preexec_fn=_limit_memory)
    d.wait_for_datagram("READY=1", timeout=30)
    return d, inbox


def drop_ride(inbox: Path, name: str, serial: int) -> None:
    """A real (old: never offered) ride written beside, then renamed in, as sync clients do."""
    (inbox / f".{name}").write_bytes(fitgen.ride(minutes=5, start=1_600_000_000 + serial * 10_000, serial=serial))
    os.replace(inbox / f".{name}", inbox / name)


def sigterm_to_exit(d: DaemonProcess) -> float:
    assert d.proc is not None
    t0 = time.monotonic()
    d.proc.send_signal(signal.SIGTERM)
    try:
        d.proc.wait(15)
    finally:
        if d.proc.poll() is None:
            d.kill()
    return time.monotonic() - t0


def test_fifo_in_a_watched_folder_blocks_nothing_and_sigterm_ends_the_daemon_quickly(tmp_path: Path) -> None:
    d, inbox = start(tmp_path)
    try:
        os.mkfifo(inbox / "x.fit")  # nobody ever writes to it
        time.sleep(1)
        drop_ride(inbox, "later.fit", 1)
        text = d.wait_for_output("later.fit: imported", timeout=20, stream="stderr")
        assert "x.fit: not a regular file" in text, text[-2000:]
        exit_s = sigterm_to_exit(d)
        assert d.proc.returncode == 0 and exit_s < 5, f"SIGTERM to exit took {exit_s:.2f} s"
        print(f"SIGTERM to exit with a FIFO in a watched folder: {exit_s:.2f} s")
    finally:
        d.kill()
    assert "Traceback" not in d.stderr.read_text()


def test_symlink_to_dev_zero_is_not_read_and_later_rides_are_imported(tmp_path: Path) -> None:
    d, inbox = start(tmp_path)
    try:
        (inbox / "y.fit").symlink_to("/dev/zero")
        (inbox / "z.fit").symlink_to("/dev/null")
        time.sleep(1)
        drop_ride(inbox, "later.fit", 2)
        text = d.wait_for_output("later.fit: imported", timeout=20, stream="stderr")
        assert "y.fit: not a regular file" in text, text[-2000:]
        assert d.proc.poll() is None
        rss_kb = int(next(line.split()[1] for line in Path(f"/proc/{d.proc.pid}/status").read_text().splitlines()
                          if line.startswith("VmHWM:")))
        assert rss_kb < 500_000, f"peak RSS {rss_kb} kB: something read the device"
        assert sigterm_to_exit(d) < 5
    finally:
        d.kill()
    assert "Traceback" not in d.stderr.read_text()


def test_import_command_refuses_a_fifo_and_a_device_link_with_one_line_each(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.fit")
    (tmp_path / "y.fit").symlink_to("/dev/zero")
    (tmp_path / "ok.fit").write_bytes(fitgen.ride(minutes=5, start=1_600_000_000, serial=3))
    for args in ([str(tmp_path / "x.fit"), str(tmp_path / "y.fit"), str(tmp_path / "ok.fit")], [str(tmp_path)]):
        proc = subprocess.run([sys.executable, "-m", "cooldownd", "import", "--json", "--no-notify", *args],
                              capture_output=True, text=True, timeout=30, preexec_fn=_limit_memory)
        assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr[-2000:]
        lines = {Path(line.split('"file": "')[1].split('"')[0]).name: line for line in proc.stdout.splitlines()}
        if len(args) == 3:  # named on the command line: each refused in one line
            assert proc.returncode == 1, proc.stdout
            assert "not a regular file (a FIFO)" in lines["x.fit"]
            assert "not a regular file (a character device)" in lines["y.fit"]
        else:  # a folder: only its regular files are inputs
            assert set(lines) == {"ok.fit"}, lines
        assert '"status": "imported"' in lines["ok.fit"] or '"status": "duplicate"' in lines["ok.fit"]


def test_sigterm_while_an_import_waits_on_a_locked_database_exits_within_5_s(tmp_path: Path, home: Path) -> None:
    """Another process holds the database's write lock: the import thread waits in SQLite's busy handler."""
    d, inbox = start(tmp_path)
    db = sqlite3.connect(home / ".local" / "state" / "cooldownd" / "cooldownd.db", isolation_level=None)
    try:
        db.execute("BEGIN EXCLUSIVE")
        drop_ride(inbox, "blocked.fit", 4)
        time.sleep(1.5)  # settled, handed over, and now waiting for the lock
        exit_s = sigterm_to_exit(d)
        assert exit_s < 5, f"SIGTERM to exit took {exit_s:.2f} s with the import thread blocked"
        print(f"SIGTERM to exit with the import thread blocked on a lock: {exit_s:.2f} s")
    finally:
        db.execute("ROLLBACK")
        db.close()
        d.kill()
    assert "Traceback" not in d.stderr.read_text()
    out = run_cli("import", "--json", "--no-notify", str(inbox / "blocked.fit"))
    assert '"status": "imported"' in out.stdout, out.stdout + out.stderr  # nothing half-written
