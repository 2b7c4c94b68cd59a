"""The daemon's decoding process dying on a file in a watched folder is not the file's fault.

A real `cooldownd run` watching a folder, real FIT bytes, real SQLite; its decoding process
(daemon/importworker.py) SIGKILLs itself on a named file through the tests-only hook of
imports/worker.py: once (the file is read again alone and imported), or every time (one warning line
naming the file and how the process died; the daemon goes on; `cooldownd import FILE` imports it later).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import fitgen
from conftest import run_cli
from daemon_harness import DaemonProcess, console_config

from cooldownd.imports.worker import KILL_HOOK

DAY = 86400.0


def start(tmp: Path, victim: str, times: int | None = None) -> tuple[DaemonProcess, Path, Path]:
    tally = tmp / "kills"
    want: dict = {"file": victim, "tally": str(tally), **({} if times is None else {"times": times})}
    d = DaemonProcess(tmp, console_config(tmp, poll_s=2), env={KILL_HOOK: json.dumps(want)}).start()
    d.wait_for_datagram("READY=1", timeout=30)
    return d, tmp / "in", tally


def drop(inbox: Path, name: str, days_ago: float, serial: int) -> Path:
    """A ride that ended days ago (never offered), landing whole (written aside, then renamed in)."""
    aside = inbox / f".{name}"
    aside.write_bytes(fitgen.ride(start=time.time() - days_ago * DAY, minutes=25, serial=serial))
    os.replace(aside, inbox / name)
    return inbox / name


def history() -> dict[str, dict]:
    out = run_cli("history", "--json", "--limit", "50")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    return {Path(r["file"]).name: r for r in rows}


def test_a_file_whose_decoding_process_is_killed_once_is_imported_on_the_retry(tmp_path: Path) -> None:
    d, inbox, tally = start(tmp_path, "b.fit", times=1)
    try:
        drop(inbox, "a.fit", 3, 701)
        drop(inbox, "b.fit", 2, 702)
        d.wait_for_output("b.fit: imported", timeout=30, stream="stderr")
        d.wait_for_output("a.fit: imported", timeout=30, stream="stderr")
        assert d.stop() == 0
    finally:
        d.kill()
    log = d.stderr.read_text()
    assert len(tally.read_text().splitlines()) == 1  # its first decoding process really died on it
    assert "b.fit: the decoding process died while it held this file; reading it again alone" in log, log
    assert "Traceback" not in log and "died twice" not in log, log
    rows = history()
    assert {rows["a.fit"]["status"], rows["b.fit"]["status"]} == {"imported"}


def test_a_file_that_kills_every_decoding_process_gets_one_line_and_cooldownd_import_reads_it_later(
        tmp_path: Path) -> None:
    d, inbox, tally = start(tmp_path, "b.fit")
    try:
        drop(inbox, "a.fit", 3, 711)
        victim = drop(inbox, "b.fit", 2, 712)
        d.wait_for_output("died twice", timeout=30, stream="stderr")
        d.wait_for_output("a.fit: imported", timeout=30, stream="stderr")
        drop(inbox, "c.fit", 1, 713)  # the daemon goes on, with a fresh decoding process
        d.wait_for_output("c.fit: imported", timeout=30, stream="stderr")
        assert d.stop() == 0
    finally:
        d.kill()
    log = d.stderr.read_text()
    assert len(tally.read_text().splitlines()) == 2  # in the lingering process, then alone in a fresh one
    (line,) = [x for x in log.splitlines() if "died twice" in x]
    assert line.endswith(f"{victim}: the decoding process died twice while reading it, the last time killed by "
                         "SIGKILL (signal 9, which the out-of-memory killer sends); it was not imported: "
                         f"try `cooldownd import {victim}` again"), line
    assert "Traceback" not in log, log
    assert set(history()) == {"a.fit", "c.fit"}
    later = run_cli("import", "--no-notify", str(victim))  # what the line says: nothing of the failure was kept
    assert later.returncode == 0 and later.stdout.startswith(f"imported  {victim}: 25 min ride"), later.stdout
    assert set(history()) == {"a.fit", "b.fit", "c.fit"}
