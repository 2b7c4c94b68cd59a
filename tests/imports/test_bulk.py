"""bulk: several worker processes give exactly the single-process results, in order, and survive a dead worker."""

from __future__ import annotations

import contextlib
import gzip
import json
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import fitgen
import pytest
from conftest import run_cli

from cooldownd.imports.bulk import import_many
from cooldownd.record import lines
from cooldownd.core.intensity import Knobs
from cooldownd.core.model import Athlete
from cooldownd.routinefile import load_library
from cooldownd.store import Store

DAY = 86400.0
T0 = fitgen.posix(fitgen.START)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every kind of input at once; the long ride first, so a worker finishing out of order would show."""
    d = tmp_path_factory.mktemp("mixed")
    run = fitgen.run(minutes=20, start=T0 + DAY)
    files = {
        "a_long_ride.fit": fitgen.ride(minutes=150, start=T0),
        "b_run.fit": run,
        "c_multisport.fit": fitgen.multisport(start=T0 + 2 * DAY),
        "d_cut.fit": fitgen.truncate(fitgen.ride(minutes=30, start=T0 + 3 * DAY), 9000),
        "e_bad_crc.fit": fitgen.corrupt_crc(fitgen.run(minutes=5, start=T0 + 4 * DAY)),
        "f_settings.fit": fitgen.settings_file(),
        "g_export.zip": fitgen.zipped({
            "ride.fit": fitgen.ride(minutes=15, start=T0 + 5 * DAY),
            "inner.zip": fitgen.zipped({"deep/run.fit": fitgen.run(minutes=10, start=T0 + 6 * DAY)}),
            "../evil.fit": run, "notes.txt": b"not FIT"}),
        "h_copy_of_run.fit": run,  # the same bytes again in one batch
        "i_renamed.fit": fitgen.ride(minutes=150, start=T0, big_endian=True),  # same file_id, other bytes
        "j_empty.fit": b"",
        "k_swim.fit.gz": gzip.compress(fitgen.swim_with_hr_messages(minutes=20, start=T0 + 7 * DAY)),
        "l_strength.fit": fitgen.strength(minutes=30, start=T0 + 8 * DAY),
        "m_broken.fit": b".FIT but not really" * 3,
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    return d


@pytest.fixture(scope="module")
def library():
    return load_library()


def _import(folder: Path, db: Path, library, jobs: int, progress=None) -> list[dict]:
    """One whole import on this thread, with its own store."""
    store = Store.open(db)
    try:
        return [lines.import_line(r) for r in import_many([folder], store=store, athlete=Athlete(max_hr=190),
                                                           knobs=Knobs(), library=library, this_year=2024, jobs=jobs,
                                                           progress=progress)]
    finally:
        store.close()


def _in_thread(fn, timeout: float = 120):
    """fn() on a thread that must end within ``timeout`` s: a hung parent fails the test instead of the run."""
    box: dict = {}

    def target() -> None:
        try:
            box["out"] = fn()
        except BaseException as exc:  # shown by the test, not lost in the thread
            box["exc"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"import still running after {timeout} s"
    if "exc" in box:
        raise box["exc"]
    return box["out"]


@pytest.fixture(scope="module")
def baseline(folder, library, tmp_path_factory) -> tuple[list[dict], list]:
    events: list = []
    res = _import(folder, tmp_path_factory.mktemp("one") / "db", library, 1,
                  lambda n, name: events.append(("progress", n, name, len(multiprocessing.active_children()))))
    return res, events


def test_two_jobs_give_the_single_process_lines_in_input_order(folder, library, baseline, tmp_path) -> None:
    one, one_events = baseline
    events: list = []

    def progress(n: int, name: str) -> None:
        events.append(("progress", n, name, len(multiprocessing.active_children())))

    two = _import(folder, tmp_path / "db", library, 2, progress)
    assert two == one  # every key, ids included, byte for byte as JSON
    assert json.dumps(two) == json.dumps(one)
    # the mix really is a mix: each kind of outcome is there
    def line(name: str) -> dict:
        return next(r for r in one if r["file"].endswith(name))

    assert (line("a_long_ride.fit")["status"], line("a_long_ride.fit")["sport"]) == ("imported", "cycling")
    assert [r["sport"] for r in one if r["file"].endswith("c_multisport.fit")] == ["swimming", "cycling", "running"]
    assert "truncated" in line("d_cut.fit")["note"]
    assert line("e_bad_crc.fit")["error"].startswith("bad CRC")
    assert line("f_settings.fit")["status"] == "skipped"
    zip_lines = [(r["file"].split("!", 1)[1], r["status"]) for r in one if "g_export.zip!" in r["file"]]
    assert zip_lines == [("../evil.fit", "error"), ("inner.zip!deep/run.fit", "imported"), ("ride.fit", "imported")]
    copy = line("h_copy_of_run.fit")
    assert copy["status"] == "duplicate" and copy["error"] == f"already seen as {folder / 'b_run.fit'}"
    assert line("i_renamed.fit")["status"] == "duplicate" and "file_id" in line("i_renamed.fit")["error"]
    assert line("j_empty.fit")["error"] == "empty file"
    assert line("k_swim.fit.gz")["avg_hr"] is not None
    # input order: lines follow the sorted folder listing, whatever finished first
    order = [Path(r["file"].split("!")[0]).name for r in two]
    assert order == sorted(order) and len(set(order)) == 13
    # progress: one call per input, in order, the same calls either way; live (the pool was up for jobs=2)
    assert [e[:3] for e in events] == [e[:3] for e in one_events]
    assert [e[1] for e in events] == list(range(13))
    assert max(e[3] for e in events) >= 1 and max(e[3] for e in one_events) == 0


def test_progress_is_interleaved_with_results(folder, library, tmp_path) -> None:
    seen: list = []
    store = Store.open(tmp_path / "db")
    try:
        for r in import_many([folder], store=store, athlete=Athlete(max_hr=190), knobs=Knobs(), library=library,
                             jobs=2, progress=lambda n, name: seen.append(("p", Path(name).name))):
            seen.append(("r", Path(r.file.split("!")[0]).name))
    finally:
        store.close()
    # each input's progress call comes right before its own lines, never after a later input's
    current = None
    for kind, name in seen:
        if kind == "p":
            current = name
        else:
            assert name == current
    assert [n for k, n in seen if k == "p"] == sorted(n for k, n in seen if k == "p")


def test_second_run_with_two_jobs_is_all_duplicates(folder, library, tmp_path) -> None:
    first = _import(folder, tmp_path / "db", library, 2)
    again = _import(folder, tmp_path / "db", library, 2)
    refused = [r for r in again if r["sha256"] is None]  # an unsafe zip member is never read, so never known
    assert [r["file"].rpartition("!")[2] for r in refused] == ["../evil.fit"]
    assert {r["status"] for r in again if r not in refused} == {"duplicate"}
    assert {r["file"] for r in again} == {r["file"] for r in first}


def _kill_a_worker(every: bool):
    killed: list[int] = []

    def progress(n: int, name: str) -> None:
        if killed and not every:
            return
        workers = [p for p in multiprocessing.active_children() if p.pid not in killed]
        if workers:
            with contextlib.suppress(ProcessLookupError):  # it may have died on its own: a previous kill broke the pool
                os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(workers[0].pid)
    return progress, killed


def _same(got: list[dict], want: list[dict]) -> None:
    """The single-process lines, in the same order (the rows' ids aside)."""
    assert [{k: v for k, v in r.items() if k != "id"} for r in got] == \
        [{k: v for k, v in r.items() if k != "id"} for r in want]


def test_a_killed_worker_costs_no_file(folder, library, baseline, tmp_path, caplog) -> None:
    """The files a killed worker held are read again alone in a fresh process (imports/retry.py)."""
    one, _ = baseline
    progress, killed = _kill_a_worker(every=False)
    got = _in_thread(lambda: _import(folder, tmp_path / "db", library, 2, progress))
    assert killed, "no worker was running to kill"
    _same(got, one)
    assert "the decoding process died while it held this file; reading it again alone" in caplog.text
    again = _import(folder, tmp_path / "db", library, 2)
    assert {r["status"] for r in again} <= {"duplicate", "error"}  # error: the refused zip member, as before


def test_workers_that_keep_dying_cost_no_file_and_no_hang(folder, library, baseline, tmp_path, caplog,
                                                          monkeypatch) -> None:
    """Past MAX_POOL_DEATHS (1 here) the pool is given up and each file left is read in a process of its own."""
    from cooldownd.imports import bulk

    monkeypatch.setattr(bulk, "MAX_POOL_DEATHS", 1)
    one, _ = baseline
    progress, killed = _kill_a_worker(every=True)
    got = _in_thread(lambda: _import(folder, tmp_path / "db", library, 2, progress))
    assert killed
    _same(got, one)
    assert "each file left is read in a process of its own" in caplog.text


def test_cli_two_jobs_offers_only_the_newest_recent_workout(tmp_path: Path) -> None:
    (tmp_path / "routines.toml").write_text(
        '[exercises.cat]\ntitle = "The cat"\ntext = "Arch, then round your back."\nhold = 5\n'
        '[routines.any]\nlight = ["cat"]\nmoderate = ["cat"]\nhard = ["cat"]\nvery_hard = ["cat"]\n')
    cfg = tmp_path / "config.toml"
    routines = tmp_path / "routines.toml"
    cfg.write_text(f'[notify]\nbackend = "console"\ntransition = 0\n[routines]\nfile = "{routines}"\n')
    now = time.time()
    rides = tmp_path / "rides"
    rides.mkdir()
    for i in range(4):  # four recent workouts, the newest ended ~1 h ago
        (rides / f"recent{i}.fit").write_bytes(fitgen.run(start=now - (5 - i) * 3600, minutes=20, serial=100 + i))
    for i in range(4):
        (rides / f"old{i}.fit").write_bytes(fitgen.ride(start=now - (i + 2) * DAY, minutes=20, serial=200 + i))
    result = run_cli("--config", str(cfg), "import", "--jobs", "2", str(rides), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("imported") == 8
    assert result.stdout.count("== Cool-down after") == 1
    history = [json.loads(x) for x in run_cli("--config", str(cfg), "history", "--json").stdout.splitlines()]
    offered = [h for h in history if (h.get("walkthrough") or {}).get("result") == "completed"]
    assert len(offered) == 1 and offered[0]["start"] == max(h["start"] for h in history)
    again = run_cli("--config", str(cfg), "import", "--jobs", "2", str(rides), timeout=120)
    assert again.returncode == 0 and "== Cool-down after" not in again.stdout


def test_the_largest_input_ahead_is_sent_first_and_lines_stay_in_input_order(library, tmp_path, monkeypatch) -> None:
    """A big file last in the folder starts first (it would otherwise run alone at the end while the other
    worker idles); results still come out in input order."""
    from cooldownd.imports import bulk

    d = tmp_path / "rides"
    d.mkdir()
    for i in range(6):
        (d / f"{i}_short.fit").write_bytes(fitgen.run(minutes=3, start=T0 + i * DAY, serial=300 + i))
    (d / "9_long.fit").write_bytes(fitgen.ride(minutes=120, start=T0 + 9 * DAY))
    sent: list[str] = []

    class RecordingPool(bulk._Pool):
        def submit(self, name: str, data: bytes, sha: str):
            sent.append(Path(name).name)
            return super().submit(name, data, sha)

    monkeypatch.setattr(bulk, "_Pool", RecordingPool)
    got = _import(d, tmp_path / "db", library, 2)
    assert sent[0] == "9_long.fit" and sorted(sent) == sorted(p.name for p in d.iterdir())
    assert [Path(r["file"]).name for r in got] == sorted(p.name for p in d.iterdir())
    assert {r["status"] for r in got} == {"imported"}
