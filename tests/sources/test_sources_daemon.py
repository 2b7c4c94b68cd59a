"""`cooldownd run` with sources: an intervals.icu activity and a gvfs-shaped watch, imported and offered.

Real daemon subprocesses, the console notification backend (the offer is a line on stdout), a fake
intervals.icu on 127.0.0.1, and a gvfs MTP mount's tree made under the test's XDG_RUNTIME_DIR.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path

import pytest

import fitgen
from conftest import run_cli
from daemon_harness import DaemonProcess, console_config, daemon_factory
from fake_intervals import FakeIntervals

KEY = "daemon-k3y-n3ver-in-logs"


def _config(tmp: Path, extra: str = "") -> str:
    return console_config(tmp, extra, poll_s=1)


@pytest.fixture
def daemon(tmp_path: Path):
    with daemon_factory(tmp_path, _config) as start:
        yield start


def _wait(pred, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_new_intervals_activity_is_imported_and_offered_within_one_poll(daemon, tmp_path: Path) -> None:
    with FakeIntervals(key=KEY) as fake:
        d = daemon(f'[sources.intervals]\nbase_url = "{fake.url}"\npoll = "2s"\n',
                   env={"COOLDOWND_SOURCES__INTERVALS__API_KEY": KEY})
        d.wait_for_datagram("READY=1")
        _wait(lambda: fake.paths("/activities"), 10, "the first poll")
        now = time.time()
        fake.add(fitgen.ride(start=now - 3600 - 60, minutes=60), start=dt.datetime.fromtimestamp(now - 3660, dt.UTC))
        t0 = time.monotonic()
        out = d.wait_for_output("== Cool-down", timeout=20)
        latency = time.monotonic() - t0
        assert "load" in out
        assert latency < 2 + 6, f"offered {latency:.1f} s after the activity appeared (poll 2 s)"
        assert len(fake.paths("/file")) == 1 and all(r["auth_ok"] for r in fake.requests)
        said = "source: intervals.icu, last delivered 0 min ago"
        status = run_cli("--config", str(d.config), "status")
        if said not in status.stdout:  # the daemon writes its status at most 4 times a second
            time.sleep(1)
            status = run_cli("--config", str(d.config), "status")
        assert said in status.stdout, status.stdout
        state = Path(os.environ["XDG_STATE_HOME"]) / "cooldownd"
        state_files = [p.read_bytes().decode(errors="replace") for p in state.rglob("*") if p.is_file()]
        assert any(p.name == "status.json" for p in state.rglob("*"))
        status_json = run_cli("--config", str(d.config), "status", "--json").stdout
        assert d.stop() == 0
    for text in [d.stderr.read_text(), d.stdout.read_text(), status.stdout, status_json, *state_files]:
        assert KEY not in text
    print(f"intervals.icu activity to offer: {latency:.2f} s (poll 2 s)")


def _gvfs_tree(home: Path, name: str = "Garmin_Forerunner_955_0000c0ffee") -> Path:
    run = Path(os.environ["XDG_RUNTIME_DIR"])
    folder = run / "gvfs" / f"mtp:host={name}" / "Internal Storage" / "GARMIN" / "ACTIVITY"
    return folder


def test_gvfs_watch_plugged_in_after_start_is_found_imported_and_offered(daemon, tmp_path: Path) -> None:
    d = daemon()
    d.wait_for_datagram("READY=1")
    folder = _gvfs_tree(tmp_path)
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "2024-05-01-07-30-00.FIT").write_bytes(fitgen.ride(start=time.time() - 3700, minutes=60))
    folder.parent.mkdir(parents=True)
    t0 = time.monotonic()
    shutil.copytree(staging, folder)  # the mount appears with its files
    d.wait_for_output("== Cool-down", timeout=20)
    latency = time.monotonic() - t0
    assert latency < 1 + 8, f"{latency:.1f} s from plug-in to offer (poll 1 s)"
    err = d.stderr.read_text()
    assert "Garmin (MTP Garmin_Forerunner_955_0000c0ffee): found device" in err
    listed = [json.loads(x) for x in run_cli("--config", str(d.config), "sources", "--json").stdout.splitlines()]
    found = [e for e in listed if e["why"] == "found device"]
    assert [e["name"] for e in found] == [str(folder)] and found[0]["last_delivered"], listed
    status = run_cli("--config", str(d.config), "status").stdout
    assert "1 device" in status and "Garmin (MTP Garmin_Forerunner_955_0000c0ffee), last delivered" in status
    assert d.stop() == 0
    print(f"gvfs watch plug-in to offer: {latency:.2f} s (poll 1 s)")


N_RIDES = 40


def _history(d: DaemonProcess) -> list[dict]:
    out = run_cli("--config", str(d.config), "history", "--json", "--limit", "100").stdout
    return [json.loads(line) for line in out.splitlines()]


def test_unplugging_mid_poll_is_quiet_and_the_rest_is_read_when_back(daemon, tmp_path: Path) -> None:
    d = daemon()
    d.wait_for_datagram("READY=1")
    folder = _gvfs_tree(tmp_path, "Wahoo_ELEMNT_BOLT_0001")
    folder = folder.parents[2] / "exports"  # Wahoo's layout on the same kind of mount
    staging = tmp_path / "staging"
    staging.mkdir()
    for i in range(N_RIDES):
        (staging / f"ride-{i:02}.fit").write_bytes(fitgen.ride(start=time.time() - 86400 * (i + 2), minutes=40))
    shutil.copytree(staging, folder)
    d.wait_for_output("found device", timeout=10, stream="stderr")
    _wait(lambda: "imported" in d.stderr.read_text(), 10, "the first import")
    shutil.rmtree(folder.parents[0])  # unplugged while files are being read
    before = _history(d)
    assert len(before) < N_RIDES, "the device must go away mid-import for this test to mean anything"
    time.sleep(4)  # four polls with the device gone
    assert d.proc.poll() is None
    err = d.stderr.read_text()
    assert "Traceback" not in err
    noisy = [line for line in err.splitlines() if (" WARNING " in line or " ERROR " in line) and "sd_notify" not in line]
    assert len(noisy) <= 2, noisy
    assert err.count("unplugged while") == 1, "one line per unplug, not one per file"
    shutil.copytree(staging, folder)  # plugged in again
    # a generous deadline: 40 decodes take ~12 s alone and several times that on a loaded 2-core machine
    _wait(lambda: len(_history(d)) == N_RIDES, 120, f"all {N_RIDES} rides")
    assert d.stop() == 0
    print(f"unplugged after {len(before)} of {N_RIDES} rides; the rest read after re-plugging")
    assert "Traceback" not in d.stderr.read_text()
