"""`cooldownd run` as a real subprocess: sd_notify, SIGHUP, SIGTERM, single instance, status, watched folders."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

import fitgen
from conftest import run_cli
from daemon_harness import DaemonProcess


def _config(tmp: Path, extra: str = "") -> str:
    (tmp / "in").mkdir(exist_ok=True)
    return (f"[ble]\nenabled = false\n[watch]\nfolders = [\"{tmp / 'in'}\"]\nsettle_s = 0.3\npoll_s = 5\n"
            f"[notify]\nbackend = \"console\"\ntransition = \"1s\"\n{extra}")


@pytest.fixture
def daemon(tmp_path: Path):
    procs: list[DaemonProcess] = []

    def start(extra: str = "", **kw) -> DaemonProcess:
        d = DaemonProcess(tmp_path, _config(tmp_path, extra), **kw).start()
        procs.append(d)
        return d

    yield start
    for d in procs:
        d.kill()


def test_ready_status_watchdog_then_clean_stop(daemon) -> None:
    d = daemon(watchdog_usec=200_000)
    ready = d.wait_for_datagram("READY=1")
    status = d.wait_for_datagram("STATUS=")
    assert "watching 1 folder" in status
    first = len(d.datagrams)
    d.wait_for_datagram("WATCHDOG=1", after=first)
    d.read_datagrams(0.5)
    assert sum(1 for _, line in d.datagrams if line == "WATCHDOG=1") >= 3, "WATCHDOG=1 every WATCHDOG_USEC/2"
    assert ready
    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    d.wait_for_datagram("STOPPING=1", timeout=5)
    assert d.proc.wait(5) == 0
    elapsed = time.monotonic() - t0
    assert elapsed < 5, f"SIGTERM to exit took {elapsed:.2f} s"
    assert "Traceback" not in d.stderr.read_text()


def test_sighup_reloads_a_good_config_and_refuses_a_bad_one(daemon) -> None:
    d = daemon()
    d.wait_for_datagram("READY=1")
    d.config.write_text(d.config.read_text() + "[athlete]\nmax_hr = 190\n")
    mark = len(d.datagrams)
    d.signal(signal.SIGHUP)
    d.wait_for_datagram("RELOADING=1", after=mark)
    d.wait_for_datagram("READY=1", after=mark + 1)
    d.wait_for_output("configuration reloaded", stream="stderr")
    d.config.write_text("[athlete]\nmax_hr = 20\n")
    d.signal(signal.SIGHUP)
    text = d.wait_for_output("reload refused", stream="stderr")
    refusal = [line for line in text.splitlines() if "reload refused" in line]
    assert len(refusal) == 1 and "athlete.max_hr" in refusal[0]
    time.sleep(0.3)
    assert d.proc.poll() is None, "a bad config must not stop the daemon"
    assert d.stop() == 0


def test_second_instance_refuses_with_one_line(daemon) -> None:
    d = daemon()
    d.wait_for_datagram("READY=1")
    second = run_cli("--config", str(d.config), "run", timeout=20)
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "already running" in lines[0] and str(d.proc.pid) in lines[0]
    assert d.stop() == 0


def test_status_with_and_without_the_daemon(daemon) -> None:
    d = daemon()
    d.wait_for_datagram("READY=1")
    running = run_cli("--config", str(d.config), "status", "--json")
    data = json.loads(running.stdout)
    assert data["running"] is True and data["pid"] == d.proc.pid
    assert data["folders"] == [str(d.tmp / "in")] and "watching 1 folder" in data["line"]
    assert data["uptime_s"] >= 0
    assert d.stop() == 0
    stopped = run_cli("--config", str(d.config), "status")
    assert stopped.returncode == 0 and "not running" in stopped.stdout


def test_new_ride_in_watched_folder_is_imported_and_offered_once(daemon, tmp_path: Path) -> None:
    d = daemon()
    d.wait_for_datagram("READY=1")
    now = time.time()
    ride = fitgen.ride(start=now - 60 * 60 - 120, minutes=60)
    target = tmp_path / "in" / "2024-ride.fit"
    with target.open("wb") as f:  # copied in slowly, in chunks
        for chunk in fitgen.iter_chunks(ride, 4096):
            f.write(chunk)
            f.flush()
            time.sleep(0.005)
    settled = time.monotonic()
    out = d.wait_for_output("== ", timeout=20)
    offer_latency = time.monotonic() - settled
    assert "cool-down" in out.lower() and "load" in out
    # 5 old rides: imported, never offered.
    for i in range(5):
        (tmp_path / "in" / f"old-{i}.fit").write_bytes(fitgen.ride(start=now - 86400 * (i + 2), minutes=30))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        hist = run_cli("--config", str(d.config), "history", "--json")
        rows = [json.loads(line) for line in hist.stdout.splitlines()]
        if len(rows) == 6:
            break
        time.sleep(0.3)
    assert len(rows) == 6, hist.stdout
    assert sum(1 for r in rows if r["offered_at"]) == 1
    offers = d.stdout.read_text().count("== Cool-down after")
    assert offers == 1, d.stdout.read_text()
    status = json.loads(run_cli("--config", str(d.config), "status", "--json").stdout)
    assert "last: ride 1 h" in status["line"], status["line"]
    t0 = time.monotonic()
    assert d.stop() == 0  # mid walk-through: still a clean, quick exit
    assert time.monotonic() - t0 < 5
    print(f"offer latency after the file settled: {offer_latency:.2f} s")


def test_catch_up_at_start_imports_everything_and_offers_only_the_recent_ride(daemon, tmp_path: Path) -> None:
    now = time.time()
    (tmp_path / "in").mkdir(exist_ok=True)
    for i in range(20):
        (tmp_path / "in" / f"old-{i:02}.fit").write_bytes(fitgen.ride(start=now - 86400 * (i + 1), minutes=20))
    (tmp_path / "in" / "today.fit").write_bytes(fitgen.run(start=now - 3600, minutes=40))
    d = daemon()
    d.wait_for_datagram("READY=1")
    d.wait_for_output("== Cool-down", timeout=30)
    deadline = time.monotonic() + 15
    rows: list[dict] = []
    while time.monotonic() < deadline and len(rows) < 21:
        rows = [json.loads(x) for x in run_cli("--config", str(d.config), "history", "--json", "--limit", "50")
                .stdout.splitlines()]
        time.sleep(0.2)
    assert len(rows) == 21
    offered = [r for r in rows if r["offered_at"]]
    assert [r["sport"] for r in offered] == ["running"]
    assert d.stdout.read_text().count("== Cool-down after") == 1
    assert d.stop() == 0
