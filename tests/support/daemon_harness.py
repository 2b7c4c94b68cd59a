"""Run `cooldownd run` as a real subprocess with a real sd_notify datagram socket.

    d = DaemonProcess(tmp_path, config_text)
    d.start(); d.wait_for_datagram("READY=1"); ...; d.stop()
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


class DaemonProcess:
    """One `cooldownd run` child: its notify socket, its stdout/stderr files and its config."""

    def __init__(self, tmp: Path, config: str, env: dict[str, str] | None = None, watchdog_usec: int | None = None):
        self.tmp = tmp
        self.config = tmp / "config.toml"
        self.config.write_text(config)
        self.sock_path = tmp / "notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.sock_path))
        self.datagrams: list[tuple[float, str]] = []
        self.stdout = tmp / "stdout.txt"
        self.stderr = tmp / "stderr.txt"
        self.env = dict(os.environ, NOTIFY_SOCKET=str(self.sock_path), PYTHONUNBUFFERED="1", **(env or {}))
        if watchdog_usec:
            self.env["WATCHDOG_USEC"] = str(watchdog_usec)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *args: str, preexec_fn: Any = None) -> DaemonProcess:
        """Start the daemon (extra CLI args before `run`; ``preexec_fn`` e.g. sets an rlimit)."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cooldownd", "--config", str(self.config), *args, "run"],
            stdout=self.stdout.open("wb"), stderr=self.stderr.open("wb"), env=self.env, preexec_fn=preexec_fn)
        return self

    def read_datagrams(self, timeout: float) -> None:
        """Collect datagrams that arrive within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except (TimeoutError, BlockingIOError):
                return
            for line in data.decode().splitlines():
                self.datagrams.append((time.monotonic(), line))

    def wait_for_datagram(self, prefix: str, timeout: float = 15.0, after: int = 0) -> str:
        """The first datagram line starting with ``prefix`` (from index ``after`` on)."""
        deadline = time.monotonic() + timeout
        while True:
            for _, line in self.datagrams[after:]:
                if line.startswith(prefix):
                    return line
            left = deadline - time.monotonic()
            if left <= 0 or (self.proc and self.proc.poll() is not None):
                raise AssertionError(f"no {prefix!r} datagram; got {[d for _, d in self.datagrams]}; "
                                     f"stderr: {self.stderr.read_text()[-2000:]}")
            self.read_datagrams(min(left, 0.2))

    def wait_for_output(self, needle: str, timeout: float = 15.0, stream: str = "stdout") -> str:
        """Wait until ``needle`` appears in the child's stdout (or stderr)."""
        path = self.stdout if stream == "stdout" else self.stderr
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = path.read_text(errors="replace")
            if needle in text:
                return text
            if self.proc and self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} not in {stream}: {path.read_text()[-3000:]}\n"
                             f"stderr: {self.stderr.read_text()[-3000:]}")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.sock.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.sock.close()
