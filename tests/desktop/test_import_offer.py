"""`cooldownd import` and the offer (issue 13 item 9): never hang silently, say why nothing is offered.

With a daemon running, the import hands the offer over and returns at once. Without one, the offer
is shown by the import itself, which says so and how to leave it for later (Later, or Ctrl-C); a
workout not offered gets one line saying why.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fitgen
from conftest import run_cli
from daemon_harness import DaemonProcess
from fake_notifications import ctl, private_bus, running


def config(tmp: Path, extra: str = "") -> Path:
    (tmp / "in").mkdir(exist_ok=True)
    path = tmp / "config.toml"
    path.write_text(f"[ble]\nenabled = false\n[watch]\nfolders = [\"{tmp / 'in'}\"]\n"
                    f"[notify]\nbackend = \"desktop\"\nsnooze = \"2s\"\n{extra}")
    return path


def ride(tmp: Path, ended_ago: float, name: str = "ride.fit") -> Path:
    path = tmp / name
    path.write_bytes(fitgen.ride(start=time.time() - ended_ago - 30 * 60, minutes=30))
    return path


def test_an_old_ride_says_in_one_line_why_it_is_not_offered(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    result = run_cli("--config", str(cfg), "import", str(ride(tmp_path, 306 * 86400)))
    assert result.returncode == 0, result.stderr
    lines = [x for x in result.stdout.splitlines() if x.startswith("not offered")]
    assert lines == ["not offered: ended 306 days ago; notify.max_age is 6 h"]


def test_with_a_daemon_running_the_import_hands_the_offer_over_and_returns_at_once(tmp_path: Path) -> None:
    with private_bus(tmp_path) as address, running(address):
        env = {"DBUS_SESSION_BUS_ADDRESS": address}
        cfg = config(tmp_path)
        (tmp_path / "d").mkdir()
        d = DaemonProcess(tmp_path / "d", cfg.read_text(), env=env).start()
        try:
            d.wait_for_datagram("READY=1", timeout=30)
            t0 = time.monotonic()
            result = run_cli("--config", str(d.config), "import", str(ride(tmp_path, 120)), env=env, timeout=30)
            took = time.monotonic() - t0
            assert result.returncode == 0, result.stderr
            assert "offered on the desktop by the running cooldownd" in result.stdout
            assert took < 10, f"import took {took:.1f} s"
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not any("Cool-down after" in c["summary"]
                                                          for c in ctl(address, "Calls")):
                time.sleep(0.1)
            assert any("Cool-down after" in c["summary"] for c in ctl(address, "Calls"))
        finally:
            assert d.stop() == 0
        assert ctl(address, "WithActions") == []
        print(f"\nimport of a recent ride with the daemon running returned in {took:.2f} s")


def _import_in_background(cfg: Path, path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cooldownd", "--config", str(cfg), "import", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, **env))


def _wait_offer(address: str) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        offers = [c for c in ctl(address, "Calls") if c["summary"].startswith("Cool-down after")]
        if offers:
            return offers[-1]
        time.sleep(0.05)
    raise AssertionError("no offer")


@pytest.mark.parametrize("leave", ["later", "ctrl-c"])
def test_without_a_daemon_the_import_says_where_the_offer_is_and_how_to_leave_it_for_later(tmp_path, leave):
    with private_bus(tmp_path) as address, running(address):
        env = {"DBUS_SESSION_BUS_ADDRESS": address}
        cfg = config(tmp_path)
        proc = _import_in_background(cfg, ride(tmp_path, 120), env)
        try:
            offer = _wait_offer(address)
            time.sleep(0.7)
            if leave == "later":
                ctl(address, "Invoke", "us", [offer["id"], "later"])
            else:
                proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=15)
        finally:
            proc.kill()
        assert "cool-down offered on the desktop" in out and "Ctrl-C" in out and "Later" in out, out
        assert proc.returncode == (0 if leave == "later" else 130), err
        assert "Traceback" not in err
        assert ctl(address, "WithActions") == []
        (row,) = [json.loads(x) for x in run_cli("--config", str(cfg), "history", "--json").stdout.splitlines()]
        assert row["walkthrough"]["result"] is None  # still due: a daemon offers it again
        # ... and one does, once the snooze (if any) is over
        (tmp_path / "d").mkdir()
        d = DaemonProcess(tmp_path / "d", cfg.read_text(), env=env).start()
        try:
            d.wait_for_datagram("READY=1", timeout=30)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and len([c for c in ctl(address, "Calls")
                                                       if c["summary"].startswith("Cool-down after")]) < 2:
                time.sleep(0.1)
            assert len([c for c in ctl(address, "Calls") if c["summary"].startswith("Cool-down after")]) == 2
        finally:
            assert d.stop() == 0
