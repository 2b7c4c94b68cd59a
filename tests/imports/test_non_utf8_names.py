"""File names that are not UTF-8 (issue 13 item 3): a Latin-1 ``Fahrt_M\\xfcnchen.fit`` is imported.

Once every path went into JSON, SQLite and the terminal as Python's surrogate-escaped text and
failed with "UnicodeEncodeError ... surrogates not allowed". Now the file is opened by its real
bytes and shown with U+FFFD (the replacement character) in lines, JSON and the store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import fitgen
from conftest import run_cli
from daemon_harness import DaemonProcess

LATIN1 = b"Fahrt_M\xfcnchen.fit"
SHOWN = "Fahrt_M\ufffdnchen.fit"


def write(folder: Path, name: bytes, serial: int) -> bytes:
    path = os.fsencode(folder) + b"/" + name
    with open(path, "wb") as f:
        f.write(fitgen.ride(minutes=5, start=1_600_000_000 + serial * 10_000, serial=serial))
    return path


def cli_bytes(*args: bytes | str) -> subprocess.CompletedProcess[str]:
    """run_cli with byte arguments (a non-UTF-8 path as the shell would pass it)."""
    return subprocess.run([sys.executable, "-m", "cooldownd", *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ))


def history() -> list[dict]:
    out = run_cli("history", "--json")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_import_names_a_latin1_file_on_the_command_line_and_in_a_folder(tmp_path: Path) -> None:
    one = write(tmp_path, LATIN1, 1)
    folder = tmp_path / "many"
    folder.mkdir()
    for i, name in enumerate([b"caf\xe9.fit", b"\xff\xfe.fit", b"ok.fit", b"\xe9t\xe9.fit", b"plain.fit"]):
        write(folder, name, 10 + i)
    direct = cli_bytes("import", "--json", "--no-notify", one)
    assert direct.returncode == 0 and "Traceback" not in direct.stderr, direct.stderr
    (line,) = [json.loads(x) for x in direct.stdout.splitlines()]
    assert line["status"] == "imported" and line["file"].endswith(SHOWN), line
    human = cli_bytes("import", "--no-notify", one)
    assert human.returncode == 0 and f"duplicate {line['file']}" in human.stdout, human.stdout
    bulk = cli_bytes("import", "--json", "--no-notify", "--jobs", "2", os.fsencode(folder))  # the pool path
    assert bulk.returncode == 0 and "Traceback" not in bulk.stderr, bulk.stderr
    got = sorted(Path(json.loads(x)["file"]).name for x in bulk.stdout.splitlines())
    assert got == sorted(["caf\ufffd.fit", "\ufffd\ufffd.fit", "ok.fit", "\ufffdt\ufffd.fit", "plain.fit"]), got
    assert all(json.loads(x)["status"] == "imported" for x in bulk.stdout.splitlines())
    stored = {Path(r["file"]).name for r in history()}
    assert SHOWN in stored and "caf\ufffd.fit" in stored, stored


def test_daemon_imports_a_latin1_file_from_a_watched_folder(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    config = (f"[ble]\nenabled = false\n[watch]\nfolders = [\"{inbox}\"]\nsettle_s = 0.2\npoll_s = 5\n"
              "[notify]\nbackend = \"console\"\n")
    d = DaemonProcess(tmp_path, config).start()
    try:
        d.wait_for_datagram("READY=1", timeout=30)
        write(inbox, LATIN1, 2)
        d.wait_for_output(f"{SHOWN}: imported", timeout=20, stream="stderr")
        assert d.stop() == 0
    finally:
        d.kill()
    assert "Traceback" not in d.stderr.read_text(errors="replace")
    assert [Path(r["file"]).name for r in history()] == [SHOWN]
