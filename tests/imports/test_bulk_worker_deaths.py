"""A decoding process that dies is not the file's fault (`import --jobs 2`).

Real `cooldownd import` subprocesses, real FIT bytes, real SQLite; the decoding process kills itself with
SIGKILL on a named file through the tests-only hook of imports/worker.py (TEST_COOLDOWND_KILL_DECODING),
once (the file is read again alone and imported) or every time (one error line, exit 1, and a later
import reads it: nothing of the failure was remembered).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import fitgen
import pytest
from conftest import run_cli

from cooldownd.imports.worker import KILL_HOOK

DAY = 86400.0
DIED_TWICE = "the decoding process died twice while reading it, the last time killed by SIGKILL (signal 9"


def rides(folder: Path) -> list[Path]:
    """Five old rides (more than bulk's SMALL_BATCH, so two worker processes read them) and a zip."""
    folder.mkdir()
    now = time.time()
    for i in range(5):
        (folder / f"r{i}.fit").write_bytes(fitgen.ride(start=now - (i + 2) * DAY, minutes=20, serial=500 + i))
    (folder / "z.zip").write_bytes(fitgen.zipped({"inner/zr.fit": fitgen.run(start=now - 9 * DAY, minutes=15)}))
    return sorted(folder.iterdir())


def hook(tally: Path, name: str, times: int | None = None) -> dict[str, str]:
    want: dict = {"file": name, "tally": str(tally)}
    if times is not None:
        want["times"] = times
    return {KILL_HOOK: json.dumps(want)}


def import_json(*paths: Path, env: dict[str, str] | None = None):
    out = run_cli("import", "--jobs", "2", "--json", "--no-notify", *map(str, paths), env=env, timeout=120)
    assert "Traceback" not in out.stderr, out.stderr
    return out, [json.loads(x) for x in out.stdout.splitlines()]


@pytest.mark.parametrize("victim", ["r2.fit", "zr.fit"])  # a file, and a zip member
def test_a_file_whose_decoding_process_is_killed_once_is_imported_on_the_retry(tmp_path: Path, victim: str) -> None:
    files = rides(tmp_path / "rides")
    tally = tmp_path / "kills"
    out, got = import_json(tmp_path / "rides", env=hook(tally, victim, times=1))
    assert len(tally.read_text().splitlines()) == 1  # the first process really died on it
    assert out.returncode == 0, out.stdout + out.stderr
    assert [(Path(r["file"].rpartition("!")[2]).name, r["status"]) for r in got] == \
        [(p.name if p.suffix == ".fit" else "zr.fit", "imported") for p in files]
    assert f"{victim}: the decoding process died while it held this file; reading it again alone" in out.stderr
    again, second = import_json(tmp_path / "rides")
    assert again.returncode == 0 and {r["status"] for r in second} == {"duplicate"}


def test_a_file_that_kills_every_decoding_process_gets_one_line_and_a_later_import_reads_it(tmp_path: Path) -> None:
    rides(tmp_path / "rides")
    victim = tmp_path / "rides" / "r2.fit"
    tally = tmp_path / "kills"
    out = run_cli("import", "--jobs", "2", "--no-notify", str(tmp_path / "rides"), env=hook(tally, "r2.fit"),
                  timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr  # DESIGN.md: 1, some input failed
    assert "Traceback" not in out.stderr
    assert len(tally.read_text().splitlines()) == 2  # in the pool, then alone in a fresh process
    lines = out.stdout.splitlines()
    mine = [x for x in lines if "r2.fit" in x]
    assert mine == [f"error     {victim}: {DIED_TWICE}, which the out-of-memory killer sends); it was not imported: "
                    f"try `cooldownd import {victim}` again"]
    assert sum(x.startswith("imported  ") for x in lines) == 5  # every other file, the zip's member too
    # nothing of the failure is remembered: what the line says to do imports it (not "duplicate")
    later = run_cli("import", "--no-notify", str(victim))
    assert later.returncode == 0 and later.stdout.startswith(f"imported  {victim}: 20 min ride"), later.stdout
    again, got = import_json(tmp_path / "rides")
    assert again.returncode == 0 and {r["status"] for r in got} == {"duplicate"}
