"""sd_notify: tell the service manager we are ready, alive, what we do, and that we stop.

A few datagrams over AF_UNIX (no dependency): the ``sdnotify`` package encodes STATUS as latin-1 and
swallows errors silently; here STATUS is UTF-8 and the first failure is logged. Without
``NOTIFY_SOCKET`` (not started by systemd) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SdNotify:
    """A sender of sd_notify messages; never raises, logs the first failure only."""

    def __init__(self, environ: Mapping[str, str] | None = None, pid: int | None = None) -> None:
        env = os.environ if environ is None else environ
        self._address = _socket_address(env.get("NOTIFY_SOCKET", ""))
        self._interval = _watchdog_interval(env, os.getpid() if pid is None else pid)
        self._sock: socket.socket | None = None
        self._failed = False
        self._status: str | None = None

    @property
    def enabled(self) -> bool:
        """True when a service manager listens (NOTIFY_SOCKET is set)."""
        return self._address is not None

    def ready(self, status: str | None = None) -> None:
        """READY=1: startup finished (optionally with a first STATUS line)."""
        self._send("READY=1", *self._status_fields(status))

    def status(self, text: str) -> None:
        """STATUS=: one human line shown by ``systemctl status``; repeats are not re-sent."""
        if text != self._status:
            self._send(*self._status_fields(text))

    def watchdog(self) -> None:
        """WATCHDOG=1: we are alive. Sent only when the manager asked this process for it."""
        if self._interval is not None:
            self._send("WATCHDOG=1")

    def reloading(self) -> None:
        """RELOADING=1 (send ``ready()`` when the reload is done)."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self._send("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> None:
        """STOPPING=1: shutdown has begun."""
        self._send("STOPPING=1")

    def watchdog_interval(self) -> float | None:
        """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None when not asked."""
        return self._interval

    async def watchdog_loop(self) -> None:
        """Ping WATCHDOG=1 every ``watchdog_interval()`` until cancelled; returns at once if not asked.

        A timer, not a poll: the daemon wakes once per interval. Run it in the app's TaskGroup.
        """
        import asyncio  # only the daemon needs it

        if self._interval is None:
            return
        while True:
            self.watchdog()
            await asyncio.sleep(self._interval)

    def close(self) -> None:
        """Close the socket (a later send opens a new one)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> SdNotify:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _status_fields(self, text: str | None) -> tuple[str, ...]:
        if text is None:
            return ()
        self._status = text
        # A newline would start a new field: the status is one line by contract.
        return ("STATUS=" + " ".join(text.split()),)

    def _send(self, *fields: str) -> None:
        if self._address is None or not fields:
            return
        message = "\n".join(fields).encode("utf-8")
        try:
            if self._sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                # A full receive queue must never block the event loop: drop and log instead.
                sock.setblocking(False)
                self._sock = sock
            self._sock.sendto(message, self._address)
        except OSError as exc:
            level = logging.DEBUG if self._failed else logging.WARNING
            self._failed = True
            log.log(level, "%s: sd_notify %s failed: %s", _printable(self._address),
                    fields[0].split("=")[0], exc)
            return
        if self._failed:
            log.info("%s: sd_notify works again", _printable(self._address))
            self._failed = False


def _socket_address(value: str) -> str | bytes | None:
    """NOTIFY_SOCKET as an AF_UNIX address: a path, or an abstract name ('@' -> NUL)."""
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode("utf-8")
    if value.startswith("/"):
        return value
    log.warning("NOTIFY_SOCKET=%r: not a path or @name; sd_notify disabled", value)
    return None


def _watchdog_interval(env: Mapping[str, str], pid: int) -> float | None:
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    owner = env.get("WATCHDOG_PID")
    try:
        if owner and int(owner) != pid:
            return None  # the watchdog is meant for another process (e.g. our parent)
        value = int(usec)
    except ValueError:
        log.warning("WATCHDOG_USEC=%r WATCHDOG_PID=%r: not numbers; watchdog off", usec, owner)
        return None
    return value / 2 / 1_000_000 if value > 0 else None


def _printable(address: str | bytes) -> str:
    if isinstance(address, bytes):
        return "@" + address[1:].decode("utf-8", "replace")
    return address
