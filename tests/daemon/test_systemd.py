"""sd_notify through a real datagram socket; the user unit checked by systemd-analyze itself."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from cooldownd.daemon.service import SYSTEMCTL_HINT, install_unit, unit_text
from cooldownd.daemon.systemd import SdNotify

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "cooldownd.service"
EXPOSURE_MAX = 2.0


def fields(sock: socket.socket) -> dict[str, str]:
    """The next datagram as {FIELD: value}."""
    data = sock.recv(4096).decode("utf-8")
    return dict(line.split("=", 1) for line in data.split("\n"))


def pending(sock: socket.socket) -> bytes | None:
    """The next datagram if one is queued, else None."""
    readable, _, _ = select.select([sock], [], [], 0)
    return sock.recv(4096) if readable else None


def test_lifecycle_messages(listener):
    sock, path = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}
    with SdNotify(env, pid=4242) as notify:
        assert notify.enabled
        assert notify.watchdog_interval() == 15.0
        notify.ready("starting up")
        assert fields(sock) == {"READY": "1", "STATUS": "starting up"}
        notify.status("watching 2 folders; Пульс 62 · 心拍 ✓ · 80 %")
        assert fields(sock) == {"STATUS": "watching 2 folders; Пульс 62 · 心拍 ✓ · 80 %"}
        notify.watchdog()
        assert fields(sock) == {"WATCHDOG": "1"}
        notify.reloading()
        reload = fields(sock)
        assert reload["RELOADING"] == "1" and int(reload["MONOTONIC_USEC"]) > 0
        notify.stopping()
        assert fields(sock) == {"STOPPING": "1"}
    assert pending(sock) is None


def test_status_is_one_line_and_not_repeated(listener):
    sock, path = listener
    notify = SdNotify({"NOTIFY_SOCKET": path})
    notify.status("line one\nREADY=1\tand more")
    assert fields(sock) == {"STATUS": "line one READY=1 and more"}
    notify.status("line one\nREADY=1\tand more")
    notify.status("changed")
    assert fields(sock) == {"STATUS": "changed"}
    assert pending(sock) is None


def test_abstract_socket_name():
    name = f"cooldownd-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(5)
        SdNotify({"NOTIFY_SOCKET": "@" + name}).ready()
        assert fields(sock) == {"READY": "1"}


@pytest.mark.parametrize(
    ("env", "interval"),
    [
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "99999"}, None),  # meant for another process
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}, 15.0),
        ({"WATCHDOG_USEC": "5000000"}, 2.5),  # no PID: it is ours
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_only_when_asked(listener, env, interval):
    sock, path = listener
    notify = SdNotify({"NOTIFY_SOCKET": path, **env}, pid=4242)
    assert notify.watchdog_interval() == interval
    notify.watchdog()
    notify.stopping()
    if interval is not None:
        assert fields(sock) == {"WATCHDOG": "1"}
    assert fields(sock) == {"STOPPING": "1"}


def test_watchdog_loop_pings_every_half_interval(listener):
    sock, path = listener
    notify = SdNotify({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000"})  # ping every 0.05 s

    async def run_for(seconds: float) -> None:
        async with asyncio.timeout(seconds):
            await notify.watchdog_loop()

    with pytest.raises(TimeoutError):
        asyncio.run(run_for(0.22))
    pings = 0
    while (data := pending(sock)) is not None:
        assert data == b"WATCHDOG=1"
        pings += 1
    assert 2 <= pings <= 6  # at 0, 0.05, 0.10, 0.15, 0.20 s; fewer if the machine is loaded
    asyncio.run(SdNotify({"NOTIFY_SOCKET": path}).watchdog_loop())  # not asked: returns at once
    assert pending(sock) is None


def test_child_process_reads_its_environment(listener):
    # A real process: NOTIFY_SOCKET from os.environ, WATCHDOG_PID compared with the child's own pid.
    sock, path = listener
    code = (
        "from cooldownd.daemon.systemd import SdNotify\n"
        "n = SdNotify(); n.ready(); n.watchdog(); print(n.watchdog_interval())\n"
    )
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"  # the parent's pid: not for the child
    assert fields(sock) == {"READY": "1"}
    assert pending(sock) is None
    del env["WATCHDOG_PID"]
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1.0"
    assert fields(sock) == {"READY": "1"}
    assert fields(sock) == {"WATCHDOG": "1"}


def test_unset_socket_is_a_quiet_no_op(caplog):
    caplog.set_level(logging.DEBUG, logger="cooldownd.daemon.systemd")
    notify = SdNotify({})
    assert not notify.enabled and notify.watchdog_interval() is None
    notify.ready("x")
    notify.watchdog()
    notify.stopping()
    assert caplog.records == []


def test_send_errors_are_logged_once_never_raised(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="cooldownd.daemon.systemd")
    notify = SdNotify({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    for i in range(5):
        notify.status(f"status {i}")
    notify.stopping()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "nobody-listens" in warnings[0].getMessage()


def test_full_queue_never_blocks(listener, caplog):
    # The manager not reading must not stall the daemon's event loop: sends are non-blocking.
    sock, path = listener
    caplog.set_level(logging.WARNING, logger="cooldownd.daemon.systemd")
    notify = SdNotify({"NOTIFY_SOCKET": path})
    for i in range(5000):
        notify.status(f"status {i}")
    assert len([r for r in caplog.records if "failed" in r.getMessage()]) == 1
    assert fields(sock) == {"STATUS": "status 0"}


# --- the unit, checked by systemd-analyze ---------------------------------------------------

def analyze(*args: str, runtime: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (apt install systemd)")
    # systemd-analyze --user needs a runtime directory even offline; a private one keeps tests apart.
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    return subprocess.run(["systemd-analyze", *args], env=env, capture_output=True, text=True, timeout=60)


def verify(unit: Path, runtime: Path) -> None:
    result = analyze("--user", "verify", str(unit), runtime=runtime)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stderr


def exposure(unit: Path, runtime: Path) -> float:
    result = analyze("security", "--user", "--offline=yes", str(unit), runtime=runtime)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


def test_packaged_unit_verifies_and_is_hardened(tmp_path):
    verify(UNIT, tmp_path)
    score = exposure(UNIT, tmp_path)
    assert score <= EXPOSURE_MAX
    text = UNIT.read_text(encoding="utf-8")
    for line in ("Type=notify", "NotifyAccess=main", "WatchdogSec=30", "Restart=on-failure",
                 "ExecReload=/bin/kill -HUP $MAINPID", "RestrictAddressFamilies=AF_UNIX"):
        assert re.search(rf"^{re.escape(line)}$", text, re.MULTILINE), line


def test_packaged_unit_has_a_memory_ceiling_above_the_measured_peak():
    """bench/memory measured a 123 MB peak: the daemon and its decoding process, one cgroup (corpus + fuzzed
    files through a watched folder)."""
    text = UNIT.read_text(encoding="utf-8")
    high = int(re.search(r"^MemoryHigh=(\d+)M$", text, re.MULTILINE).group(1))
    top = int(re.search(r"^MemoryMax=(\d+)M$", text, re.MULTILINE).group(1))
    assert 3 * 123 <= high < top and top >= 5 * 123


@pytest.fixture
def exe(tmp_path) -> Path:
    """A real executable in a folder with a space and a % (both need escaping in a unit)."""
    path = tmp_path / "my venv 100%" / "bin" / "cooldownd"
    path.parent.mkdir(parents=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_install_unit_writes_the_executable(tmp_path, exe):
    config_home = tmp_path / "config"
    state = tmp_path / "state" / "cooldownd"
    template = UNIT.read_text(encoding="utf-8")
    path = install_unit(exe, config_home, state_dir=state, template=template)
    assert path == config_home / "systemd" / "user" / "cooldownd.service"
    text = path.read_text(encoding="utf-8")
    exec_start = f'ExecStart="{str(exe).replace("%", "%%")}" run'
    assert exec_start in text.splitlines()
    assert f"ReadWritePaths=-{state}" in text.splitlines()
    assert state.is_dir() and state.stat().st_mode & 0o777 == 0o700
    # Everything else is the packaged unit, line for line.
    changed = [a for a, b in zip(template.splitlines(), text.splitlines()) if a != b]
    assert changed == ["ExecStart=/usr/bin/env cooldownd run", "ReadWritePaths=-%h/.local/state/cooldownd"]
    verify(path, tmp_path)  # also proves the quoted path names the real executable
    assert exposure(path, tmp_path) <= EXPOSURE_MAX
    # Installing again replaces the unit in place.
    assert install_unit(exe, config_home, template=template) == path
    assert "ReadWritePaths=-%h/.local/state/cooldownd" in path.read_text(encoding="utf-8").splitlines()


def test_unit_text_plain_path_and_broken_template(tmp_path):
    text = unit_text(Path("/opt/cooldownd/bin/cooldownd"), template=UNIT.read_text(encoding="utf-8"))
    assert "ExecStart=/opt/cooldownd/bin/cooldownd run" in text.splitlines()
    with pytest.raises(ValueError, match="ExecStart"):
        unit_text(Path("/x"), template="[Service]\nExecStart=/bin/true\n")
    assert "systemctl --user" in SYSTEMCTL_HINT and "enable --now cooldownd" in SYSTEMCTL_HINT


def test_packaged_unit_ships_with_the_package():
    pytest.importorskip("cooldownd._systemd", reason="pyproject must map systemd/ to cooldownd._systemd")
    from cooldownd.daemon.service import packaged_unit

    assert packaged_unit() == UNIT.read_text(encoding="utf-8")
