"""The daemon's imports decode in a child process (daemon/importworker.py): the same results, nothing of
the decoders in the daemon, the process gone once the imports stop, a killed process costing no file.

Each case runs in a fresh interpreter (this one has long imported fitparse) with a real store, the
daemon's Ingest and generated FIT files.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import fitgen
import pytest

SCRIPT = r"""
import asyncio, datetime as dt, json, multiprocessing, os, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from memory_parts import MemoryStatus
from cooldownd.core.intensity import Knobs
from cooldownd.core.model import Athlete
from cooldownd.daemon import importworker
from cooldownd.daemon.ingest import Ingest
from cooldownd.imports.inputs import inputs
from cooldownd.imports.partial import incomplete
from cooldownd.record.recorder import Rules
from cooldownd.routinefile import load_library

importworker.LINGER_S = 1.0
folder = Path(sys.argv[1])
rules = Rules(Athlete(), Knobs(), load_library(None), dt.date.today().year)

async def main():
    out = {}
    async with Ingest(folder / "state.db", lambda: rules, MemoryStatus(), asyncio.Queue()) as ingest:
        ingest.worker.linger_s = 1.0
        files = sorted(folder.glob("*.fit"))
        out["first"] = [(Path(r.file).name, r.status) for r in await ingest(inputs(files))]
        out["again"] = [r.status for r in await ingest(inputs(files[:1]))]
        if sys.argv[3] == "exit":  # as the daemon's exit backstop leaves: no clean-up at all
            print(json.dumps({"worker": multiprocessing.active_children()[0].pid}), flush=True)
            os._exit(0)
        out["truncated"] = await asyncio.to_thread(ingest.worker.call, rules, incomplete, folder / "cut.part")
        out["children_busy"] = len(multiprocessing.active_children())
        if sys.argv[3] == "kill":
            for child in multiprocessing.active_children():
                child.kill()
            time.sleep(0.5)
            out["after_kill"] = [r.status for r in await ingest(inputs([folder / "late" / "late.fit"]))]
        await asyncio.sleep(3)
        out["children_later"] = len(multiprocessing.active_children())
    out["decoders_here"] = sorted(m for m in sys.modules if m == "fitparse" or m.startswith("cooldownd.fit"))
    print(json.dumps(out))

asyncio.run(main())
"""


def run(folder: Path, mode: str) -> dict:
    support = Path(__file__).resolve().parents[1] / "support"
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(folder), str(support), mode], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def files(folder: Path) -> None:
    now = time.time()
    (folder / "a-ride.fit").write_bytes(fitgen.ride(start=now - 3 * 86400, minutes=40))
    (folder / "b-run.fit").write_bytes(fitgen.ride(start=now - 2 * 86400, minutes=30, sport="running"))
    (folder / "c-broken.fit").write_bytes(b"\x0e\x20" + bytes(30))
    data = fitgen.ride(start=now - 86400, minutes=30)
    (folder / "cut.part").write_bytes(data[: len(data) // 2])
    (folder / "late").mkdir()
    (folder / "late" / "late.fit").write_bytes(fitgen.ride(start=now - 5 * 86400, minutes=20))


def test_imports_decode_elsewhere_with_the_same_results(tmp_path: Path) -> None:
    files(tmp_path)
    out = run(tmp_path, "plain")
    assert out["first"] == [["a-ride.fit", "imported"], ["b-run.fit", "imported"], ["c-broken.fit", "error"]]
    assert out["again"] == ["duplicate"]  # settled in the daemon's store
    assert out["truncated"].startswith(f"{len(tmp_path.joinpath('cut.part').read_bytes())} of the")
    assert out["children_busy"] == 1  # one decoding process, kept between the imports of a burst
    assert out["children_later"] == 0  # gone once the imports stopped
    assert out["decoders_here"] == []


def test_a_killed_decoding_process_costs_no_file_a_fresh_one_takes_the_next(tmp_path: Path) -> None:
    files(tmp_path)
    out = run(tmp_path, "kill")
    assert out["after_kill"] == ["imported"]  # a fresh pool, or the file read again alone (imports/retry.py)
    assert out["children_later"] == 0 and out["decoders_here"] == []


def test_the_decoding_process_does_not_outlive_the_daemon(tmp_path: Path) -> None:
    files(tmp_path)
    pid = run(tmp_path, "exit")["worker"]
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z":
        assert time.monotonic() < deadline, "the decoding process outlived the process that started it"
        time.sleep(0.1)


def test_without_a_decoding_process_the_daemon_decodes_itself(tmp_path: Path) -> None:
    """A sandbox where no process pool can start (a read-only /dev/shm: no semaphores) loses no workout."""
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o ro tmpfs /dev/shm"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.decode(errors='replace').strip()}")
    files(tmp_path)
    support = Path(__file__).resolve().parents[1] / "support"
    script = 'mount -t tmpfs -o ro tmpfs /dev/shm && exec "$@"'
    out = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", sys.executable, "-c", SCRIPT, str(tmp_path),
                          str(support), "plain"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["first"] == [["a-ride.fit", "imported"], ["b-run.fit", "imported"], ["c-broken.fit", "error"]]
    assert got["again"] == ["duplicate"]
    assert got["truncated"].startswith(f"{len(tmp_path.joinpath('cut.part').read_bytes())} of the")  # still checked
    assert got["children_busy"] == 0 and got["decoders_here"]  # decoded here, as before the decoding process
    assert out.stderr.count("decoding in the daemon itself: no decoding process can be started") == 1  # said once
