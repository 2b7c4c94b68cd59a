"""FIT fuzzing: hostile variants of generated and real files through `cooldownd import --json`.

One subprocess imports a folder of N mutated files (tests/support/fuzzing.py, fixed seeds); every
input must give its lines (exactly one unless it held several workouts), no traceback, and
the child's peak RSS (VmHWM, see MEASURED) must stay under 200 MB. Per-case time is measured in-process
with importer.import_paths on a sample (the largest cases plus a spread). CI: 500 cases;
`pytest -m slow tests/fit/test_fuzz.py -s` runs 10,000 and prints the figures.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import fitgen
import fuzzing
from cooldownd.imports import importer
from cooldownd.record.lines import import_line
from cooldownd.routinefile import load_library
from cooldownd.settings import load
from cooldownd.store import Store

CASE_LIMIT_S = 5.0
RSS_LIMIT_KB = 200 * 1024
STATUSES = ("imported", "duplicate", "skipped", "error")


def _strict(token: str) -> float:
    raise ValueError(f"non-JSON number {token} in output")


# `python -m cooldownd` that, on exit, writes its peak RSS to argv[1]: VmHWM of its own memory map, and the
# rusage peak of the worker processes it waited for. The child's own ru_maxrss (wait4 / RUSAGE_CHILDREN) is
# no use: Linux carries the forking parent's high-water mark across fork+exec, so it reports pytest's size.
MEASURED = """
import atexit, resource, runpy, sys
out = sys.argv.pop(1)
def peak():
    own = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    open(out, "w").write(f"{own} {workers}")
atexit.register(peak)
sys.argv[0] = "cooldownd"
runpy.run_module("cooldownd", run_name="__main__", alter_sys=True)
"""


def run_import(folder: Path, env: dict[str, str] | None = None) -> tuple[list[dict], str, int, int, float]:
    """One `cooldownd import --json --no-notify folder`: (rows, stderr, exit code, peak RSS KB, slowest line gap)."""
    peak_file = folder.with_name(folder.name + ".peak")
    proc = subprocess.Popen([sys.executable, "-c", MEASURED, str(peak_file), "import", "--json", "--no-notify",
                             str(folder)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or dict(os.environ))
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()))  # type: ignore[union-attr]
    reader.start()
    rows, gaps, last = [], [0.0], time.monotonic()
    assert proc.stdout is not None
    for line in proc.stdout:
        now = time.monotonic()
        gaps.append(now - last)
        last = now
        rows.append(json.loads(line, parse_constant=_strict))
    proc.wait()
    reader.join()
    own, workers = map(int, peak_file.read_text().split())
    return rows, errors[0], proc.returncode, max(own, workers), max(gaps)


def check_rows(written: dict[str, fuzzing.Case], rows: list[dict], stderr: str, code: int) -> collections.Counter:
    """Every input answered, one line each unless it held several workouts; returns counts by status."""
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr[-3000:]
    by_input: dict[str, list[dict]] = collections.defaultdict(list)
    for r in rows:
        assert r["status"] in STATUSES, r
        by_input[r["file"].split("!")[0]].append(r)
    assert set(by_input) == set(written), set(written) ^ set(by_input)
    for name, lines in by_input.items():
        if len(lines) > 1:  # a multisport or chained file: one line per workout, nothing else
            assert all(r.get("sport") and r["status"] in ("imported", "duplicate") for r in lines), (name, lines)
        for r in lines:
            if r["status"] in ("error", "skipped"):
                assert r["error"] and "\n" not in r["error"], (written[name].kind, r)
    counts = collections.Counter(r["status"] for r in rows)
    assert code == (1 if counts["error"] else 0), (code, counts)
    return counts


def time_in_process(paths: list[str], db: Path) -> list[tuple[float, str]]:
    """CPU seconds per input through importer.import_paths (fresh store), slowest first."""
    settings = load(None)[0]
    store = Store.open(db)
    library = load_library(settings.routines.file)
    out = []
    try:
        for p in paths:
            t0 = time.process_time()  # CPU seconds: wall time on a shared 2-core CI box measures the neighbours
            results = list(importer.import_paths([p], store=store, athlete=settings.athlete_profile(),
                                                 knobs=settings.intensity_knobs(), library=library))
            out.append((time.process_time() - t0, p))
            assert results, p
    finally:
        store.close()
    return sorted(out, reverse=True)


def sample(written: dict[str, fuzzing.Case], n_largest: int, every: int) -> list[str]:
    """The largest cases, every slow mutator kind, and a spread of the rest."""
    names = sorted(written)
    largest = sorted(names, key=lambda p: -len(written[p].data))[:n_largest]
    storms = [p for p in names if written[p].kind.startswith(("definition_storm", "huge_definition"))]
    return sorted(set(largest) | set(storms) | set(names[::every]))


def fuzz(tmp_path: Path, n: int, batch: int, seed: int) -> dict:
    """Run ``n`` cases in batches (one subprocess each, one store); returns the figures."""
    counts: collections.Counter = collections.Counter()
    kinds: collections.Counter = collections.Counter()
    peak_kb, slowest_gap, timed = 0, 0.0, []
    all_cases = fuzzing.cases(n, seed=seed)  # a generator: only one batch in memory
    for start in range(0, n, batch):
        folder = tmp_path / f"batch{start:05d}"
        written = fuzzing.write_cases(folder, itertools.islice(all_cases, batch))
        rows, stderr, code, rss, gap = run_import(folder)
        counts += check_rows(written, rows, stderr, code)
        kinds.update(c.kind.split("+")[0] for c in written.values())
        peak_kb, slowest_gap = max(peak_kb, rss), max(slowest_gap, gap)
        timed += time_in_process(sample(written, 20, 10), tmp_path / f"timing{start}.db")
        for p in written:
            Path(p).unlink()
        del written
    timed.sort(reverse=True)
    return {"cases": n, "lines": dict(counts), "kinds": dict(kinds), "peak_rss_mb": round(peak_kb / 1024, 1),
            "timed_in_process": len(timed), "slowest_cpu_s": round(timed[0][0], 3),
            "slowest_case": Path(timed[0][1]).name, "slowest_line_gap_s": round(slowest_gap, 3),
            "bases": len(fuzzing.all_bases())}


def _assert_figures(fig: dict) -> None:
    print("\nfuzz figures:", json.dumps(fig))
    assert fig["peak_rss_mb"] * 1024 < RSS_LIMIT_KB, fig
    assert fig["slowest_cpu_s"] < CASE_LIMIT_S and fig["slowest_line_gap_s"] < 2 * CASE_LIMIT_S, fig
    assert fig["lines"].get("error", 0) and fig["lines"].get("imported", 0), "the mix lost its spread"


def test_fuzz_500_cases(tmp_path: Path) -> None:
    _assert_figures(fuzz(tmp_path, 500, 500, seed=8))


@pytest.mark.slow
def test_fuzz_10000_cases(tmp_path: Path) -> None:
    _assert_figures(fuzz(tmp_path, 10_000, 1000, seed=2024))


def test_every_mutator_is_exercised() -> None:
    """The CI seed reaches every mutator (so a renamed one cannot silently drop out)."""
    seen = {c.kind.split("+")[0] for c in fuzzing.cases(500, seed=8)}
    assert set(fuzzing.BYTE_MUTATORS) | set(fuzzing.SYNTHETIC) <= seen


def test_growing_file_gives_one_line_per_attempt(tmp_path: Path) -> None:
    """A file still being written while imported: each attempt one line, never an exception."""
    data = fitgen.ride(minutes=20)
    path = tmp_path / "growing.fit"
    path.write_bytes(b"")
    done = threading.Event()

    def writer() -> None:
        with path.open("ab") as fh:
            for chunk in fitgen.iter_chunks(data, 997):
                fh.write(chunk)
                fh.flush()
                time.sleep(0.001)
        done.set()

    settings = load(None)[0]
    store = Store.open(tmp_path / "s.db")
    library = load_library(settings.routines.file)
    attempts: list[dict] = []
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while not done.is_set() or len(attempts) < 3:
            rows = [import_line(r) for r in importer.import_paths(
                [path], store=store, athlete=settings.athlete_profile(), knobs=settings.intensity_knobs(),
                library=library)]
            assert len(rows) == 1, rows
            attempts += rows
            if done.is_set() and len(attempts) >= 3:
                break
    finally:
        thread.join()
        store.close()
    assert {r["status"] for r in attempts} <= set(STATUSES)
    assert all(r["error"] is None or "\n" not in r["error"] for r in attempts)
    assert len({r["sha256"] for r in attempts}) > 1, "the file never changed between attempts"


# -- what the fuzzing found in fitfile.py ------------------------------------------------------------------
def test_chained_copy_of_one_activity_is_one_workout() -> None:
    from cooldownd.fit.decode import decode_messages
    from cooldownd.fit.workouts import workouts_from_messages

    ride = fitgen.ride(minutes=5)
    decoded = decode_messages(fitgen.chain(ride, ride), "twice.fit")
    assert decoded.error is None and sum(1 for n, _ in decoded.messages if n == "session") == 2
    (workout,) = workouts_from_messages(decoded.messages, "twice.fit").workouts
    assert workout.sport == "cycling" and workout.duration_s == 300


def test_file_type_the_profile_does_not_name_reads_as_unknown() -> None:
    from cooldownd.fit.decode import decode_messages
    from cooldownd.fit.workouts import workouts_from_messages

    w = fitgen.FitWriter()
    w.write("file_id", type=132, manufacturer=255, product=1, serial_number=1, time_created=fitgen.START)
    content = workouts_from_messages(decode_messages(w.to_bytes(), "odd.fit").messages, "odd.fit")
    assert content.kind == "file of unknown type 132"
