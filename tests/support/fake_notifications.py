"""A fake org.freedesktop.Notifications server (dbus-fast) and a private session bus.

The server owns the name and, on the SAME connection, exports ``org.cooldownd.FakeControl``
so a test can make it emit ActionInvoked / NotificationClosed as a real server would
(clients ignore signals from any other sender). It records every Notify (app name, icon,
summary, body, actions, hints, timeout) and every CloseNotification. Run it in-process with
``serve()`` or as a subprocess (``python fake_notifications.py [--no-actions] [--keep]``,
prints ``ready``) so a test can kill and restart it mid-routine. ``keep``: like dunst, a
bubble stays on screen after a press (else it closes, reason 2, as the spec says).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, method, signal as dbus_signal

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
CONTROL = "org.cooldownd.FakeControl"

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir={dir}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
"""


class FakeNotifications(ServiceInterface):
    """The spec's interface: records Notify calls and tracks which ids are open."""

    def __init__(self, actions: bool = True, keep: bool = False, name: str = "fake") -> None:
        super().__init__(NAME)
        self.server_name = name  # what GetServerInformation says (clients adapt to "dunst", "Xfce Notify Daemon"...)
        self.caps = ["body", "body-markup"] + (["actions"] if actions else [])
        self.keep = keep
        self.calls: list[dict[str, Any]] = []
        self.closes: list[dict[str, Any]] = []  # CloseNotification calls: id, whether it was open, when
        self.open: list[int] = []
        self.next_id = 1
        self.notified: asyncio.Queue[dict[str, Any]] = asyncio.Queue()  # in-process waiting

    @method()
    def GetCapabilities(self) -> "as":  # noqa: F821
        return self.caps

    @method()
    def GetServerInformation(self) -> "ssss":  # noqa: F821
        return [self.server_name, "cooldownd-tests", "1.0", "1.2"]

    @method()
    def Notify(
        self, app: "s", replaces: "u", icon: "s", summary: "s", body: "s",  # noqa: F821
        actions: "as", hints: "a{sv}", timeout: "i",  # noqa: F821
    ) -> "u":  # noqa: F821
        nid = replaces if replaces in self.open else self.next_id
        if nid == self.next_id:
            self.next_id += 1
            self.open.append(nid)
        call = {"id": nid, "app": app, "icon": icon, "replaces": replaces, "summary": summary, "body": body,
                "actions": list(actions), "timeout": timeout, "t": time.monotonic(),
                "hints": {k: v.value for k, v in hints.items() if isinstance(v.value, str | int | bool)}}
        self.calls.append(call)
        self.notified.put_nowait(call)
        return nid

    @method()
    def CloseNotification(self, nid: "u"):  # noqa: F821
        self.closes.append({"id": nid, "open": nid in self.open, "t": time.monotonic()})
        if nid in self.open:
            self.open.remove(nid)
            self.NotificationClosed(nid, 3)

    @dbus_signal()
    def NotificationClosed(self, nid: "u", reason: "u") -> "uu":  # noqa: F821
        return [nid, reason]

    @dbus_signal()
    def ActionInvoked(self, nid: "u", key: "s") -> "us":  # noqa: F821
        return [nid, key]

    def invoke(self, nid: int, key: str) -> None:
        """A user pressed ``key``: ActionInvoked, then closed (reason 2) as real servers do (not when ``keep``)."""
        self.ActionInvoked(nid, key)
        if not self.keep:
            self.dismiss(nid)

    def with_actions(self) -> list[int]:
        """The open bubbles whose last card carries buttons (besides the plain click, "default")."""
        last = {c["id"]: c for c in self.calls}
        return [n for n in self.open if any(k != "default" for k in last[n]["actions"][::2])]

    def dismiss(self, nid: int) -> None:
        if nid in self.open:
            self.open.remove(nid)
            self.NotificationClosed(nid, 2)


class FakeControl(ServiceInterface):
    """Test-only remote control, exported by the connection that owns the name."""

    def __init__(self, fake: FakeNotifications) -> None:
        super().__init__(CONTROL)
        self.fake = fake

    @method()
    def Invoke(self, nid: "u", key: "s"):  # noqa: F821
        self.fake.invoke(nid, key)

    @method()
    def Calls(self) -> "s":  # noqa: F821
        return json.dumps(self.fake.calls)

    @method()
    def Open(self) -> "au":  # noqa: F821
        return list(self.fake.open)

    @method()
    def Dismiss(self, nid: "u"):  # noqa: F821
        self.fake.dismiss(nid)

    @method()
    def Closes(self) -> "s":  # noqa: F821
        return json.dumps(self.fake.closes)

    @method()
    def WithActions(self) -> "au":  # noqa: F821
        return self.fake.with_actions()


async def serve(actions: bool = True, keep: bool = False, name: str = "fake") -> tuple[MessageBus, FakeNotifications]:
    """Own the name on the session bus (DBUS_SESSION_BUS_ADDRESS) and serve until disconnected."""
    bus = await MessageBus(bus_type=BusType.SESSION).connect()
    fake = FakeNotifications(actions, keep, name)
    bus.export(PATH, fake)
    bus.export(PATH, FakeControl(fake))
    await bus.request_name(NAME)
    return bus, fake


async def control(bus: MessageBus, member: str, signature: str = "", body: list | None = None) -> Any:
    """Call the fake's control interface from a test's own connection."""
    reply = await asyncio.wait_for(bus.call(Message(
        destination=NAME, path=PATH, interface=CONTROL, member=member,
        signature=signature, body=body or [])), 2)
    if reply.message_type is MessageType.ERROR:
        raise RuntimeError(f"fake control {member}: {reply.body}")
    return reply.body[0] if reply.body else None


@contextmanager
def private_bus(tmp: Path) -> Iterator[str]:
    """A dbus-daemon with no service dirs (nothing is auto-activated); yields its address."""
    conf = tmp / "bus.conf"
    conf.write_text(BUS_CONFIG.format(dir=tmp))
    proc = subprocess.Popen(
        ["dbus-daemon", f"--config-file={conf}", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(5)


async def start_process(address: str, actions: bool = True, keep: bool = False) -> asyncio.subprocess.Process:
    """The fake server as a child process, started without blocking the loop; kill() it to crash it."""
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
    args = [__file__] + ([] if actions else ["--no-actions"]) + (["--keep"] if keep else [])
    proc = await asyncio.create_subprocess_exec(sys.executable, *args, env=env,
                                                stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 10)
    assert line.strip() == b"ready", f"fake server did not start: {line!r}"
    return proc


@contextmanager
def running(address: str, actions: bool = True, keep: bool = False) -> Iterator[subprocess.Popen]:
    """The fake server as a child process for a synchronous test (a daemon or a command under test)."""
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)
    args = [sys.executable, __file__] + ([] if actions else ["--no-actions"]) + (["--keep"] if keep else [])
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", "fake server did not start"
        yield proc
    finally:
        proc.kill()
        proc.wait(5)


def ctl(address: str, member: str, signature: str = "", body: list | None = None) -> Any:
    """``control`` from synchronous code: one call on a connection of its own; JSON answers decoded."""
    async def call() -> Any:
        bus = await MessageBus(bus_address=address).connect()
        try:
            return await control(bus, member, signature, body)
        finally:
            bus.disconnect()

    answer = asyncio.run(call())
    return json.loads(answer) if member in ("Calls", "Closes") else answer


async def _main(actions: bool, keep: bool) -> None:
    bus, _ = await serve(actions, keep)
    print("ready", flush=True)
    await bus.wait_for_disconnect()


if __name__ == "__main__":
    asyncio.run(_main("--no-actions" not in sys.argv, "--keep" in sys.argv))
