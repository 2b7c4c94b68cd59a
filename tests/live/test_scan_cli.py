"""`cooldownd scan` as a subprocess against the fake BlueZ on a private system bus."""

from __future__ import annotations

from pathlib import Path

from bluez_harness import STRAP, STRAP_NAME, BluezHarness
from conftest import run_cli


def test_scan_lists_the_strap_with_name_and_rssi(tmp_path: Path) -> None:
    with BluezHarness(tmp_path) as h:
        h.start_fake(bpm=[70], interval=0.2)
        result = run_cli("scan", "--timeout", "1.5", env=h.env, timeout=60)
    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stdout.splitlines() if STRAP in x]
    assert STRAP_NAME in line and "dBm" in line
    assert "Traceback" not in result.stderr


def test_scan_without_bluez_is_one_clear_line(tmp_path: Path) -> None:
    with BluezHarness(tmp_path) as h:  # a system bus, but nobody owns org.bluez
        result = run_cli("scan", "--timeout", "1", env=h.env, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Bluetooth" in lines[0], result.stderr
