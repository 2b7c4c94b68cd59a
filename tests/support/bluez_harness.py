"""A private system D-Bus with the fake BlueZ of ``fake_bluez.py``, for tests.

Usage (pytest, in-process bleak)::

    from bluez_harness import BluezHarness, STRAP

    def test_x(tmp_path, monkeypatch):
        with BluezHarness(tmp_path) as h:
            h.apply(monkeypatch)               # DBUS_SYSTEM_BUS_ADDRESS + bluetoothctl shim on PATH
            h.start_fake(bpm=[120], interval=0.05)
            ... run code using bleak ...
            h.control("DropLink", "s", STRAP)  # sync control from test code
            await h.acontrol("SetPowered", "b", False)  # async, from inside an event loop

``start_fake(devices=[(address, name[, rssi])], others=[(address, name)], bpm=[...], interval=s,
loop=bool, adapter=bool, powered=bool, connect_delay=s)``; ``others`` advertise no 0x180D.
For a daemon subprocess pass ``env=h.env`` (a full environment). ``start_fake`` may be called
after the code under test started (no ``org.bluez`` first), and ``stop_fake`` removes BlueZ.
Control methods (``org.cooldownd.FakeControl``, signatures for ``control``):
DropLink(s) SetPowered(b) RemoveAdapter() AddAdapter() RemoveDevice(s address, b disconnect_first)
AddDevice(s address, s name, n rssi) SetInRange(s, b) SetHr(s address, ai bpms, d interval_s, b loop)
SetContact(s, b) SetBattery(s, y) SendRaw(s, ay) GetState() -> {address|"hci0": {prop: value}};
``state()`` returns it as plain Python values.
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

STRAP = "E1:3C:5B:9A:12:34"
STRAP_NAME = "Polar H10 A1B2C3D4"
FAKE = Path(__file__).with_name("fake_bluez.py")
# dbus-daemon needs <listen> even with --address; XML comments may not contain "--" (testing-ble H).
BUS_CONFIG = """<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout} s")
        time.sleep(0.005)


class BluezHarness:
    """Starts dbus-daemon (and the fake on demand) in ``tmp``; kills both on exit."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.socket = tmp / "system_bus_socket"
        self.address = f"unix:path={self.socket}"
        self.bus: subprocess.Popen[bytes] | None = None
        self.fake: subprocess.Popen[bytes] | None = None
        shim = tmp / "bin" / "bluetoothctl"
        shim.parent.mkdir(exist_ok=True)
        # bleak runs `bluetoothctl --version` once per process and refuses BlueZ < 5.55 (A4).
        shim.write_text("#!/bin/sh\necho 'bluetoothctl: 5.72'\n")
        shim.chmod(0o755)
        self.env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": self.address,
                    "PATH": f"{shim.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.env.pop("P4A_BOOTSTRAP", None)  # would switch bleak to its Android backend (A2)

    def __enter__(self) -> BluezHarness:
        conf = self.tmp / "system-bus.conf"
        conf.write_text(BUS_CONFIG.format(socket=self.socket))
        self.bus = subprocess.Popen(
            ["dbus-daemon", f"--config-file={conf}", f"--address={self.address}",
             "--nofork", "--nopidfile", "--nosyslog"],
            stdout=subprocess.DEVNULL, stderr=open(self.tmp / "dbus-daemon.log", "wb"))
        _wait_for(self._accepting, 5, "dbus-daemon socket")
        return self

    def _accepting(self) -> bool:
        # The socket file appears at bind(), a moment before listen(): connect to be sure.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(self.socket))
            except OSError:
                return False
        return True

    def __exit__(self, *exc: object) -> None:
        self.stop_fake()
        if self.bus is not None:
            self.bus.kill()
            self.bus.wait()

    def apply(self, monkeypatch: Any) -> None:
        """Point in-process bleak at this bus and the shim."""
        for key in ("DBUS_SYSTEM_BUS_ADDRESS", "PATH"):
            monkeypatch.setenv(key, self.env[key])
        monkeypatch.delenv("P4A_BOOTSTRAP", raising=False)

    def start_fake(self, *, devices: list[tuple[Any, ...]] | None = None, bpm: list[int] | None = None,
                   interval: float = 0.05, loop: bool = True, adapter: bool = True,
                   powered: bool = True, connect_delay: float = 0.0,
                   others: list[tuple[str, str]] = ()) -> None:
        """Start fake_bluez.py and wait until it owns org.bluez."""
        args = [sys.executable, str(FAKE), "--bus", self.address, "--interval", str(interval),
                "--bpm", ",".join(map(str, bpm or [120])), "--connect-delay", str(connect_delay)]
        for address, name, *rssi in devices or [(STRAP, STRAP_NAME)]:  # (address, name[, rssi])
            args += ["--device", "=".join([address, name, *map(str, rssi)])]
        for address, name in others:
            args += ["--other", f"{address}={name}"]
        args += [] if loop else ["--no-loop"]
        args += [] if adapter else ["--no-adapter"]
        args += [] if powered else ["--powered-off"]
        self.fake = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=open(self.tmp / "fake_bluez.log", "ab"), env=self.env)
        assert self.fake.stdout is not None
        ready, _, _ = select.select([self.fake.stdout], [], [], 10)
        line = self.fake.stdout.readline() if ready else b""
        if not line.startswith(b"READY"):
            self.stop_fake()
            raise RuntimeError(f"fake_bluez did not start: {(self.tmp / 'fake_bluez.log').read_text()}")

    def stop_fake(self) -> None:
        """Kill the fake: org.bluez leaves the bus."""
        if self.fake is not None:
            self.fake.kill()
            self.fake.wait()
            self.fake = None

    async def acontrol(self, member: str, signature: str = "", *body: Any) -> list[Any]:
        """Call org.cooldownd.FakeControl.<member> on a short-lived bus connection."""
        from dbus_fast import BusType, Message, MessageType
        from dbus_fast.aio import MessageBus

        bus = await MessageBus(bus_address=self.address, bus_type=BusType.SYSTEM).connect()
        try:
            reply = await asyncio.wait_for(bus.call(Message(
                destination="org.bluez", path="/org/cooldownd/fake", interface="org.cooldownd.FakeControl",
                member=member, signature=signature, body=list(body))), 5)
        finally:
            bus.disconnect()
        if reply.message_type == MessageType.ERROR:
            raise RuntimeError(f"{member}: {reply.error_name} {reply.body}")
        return reply.body

    def control(self, member: str, signature: str = "", *body: Any) -> list[Any]:
        """Blocking ``acontrol`` for sync test code (runs its own loop in a thread)."""
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self.acontrol(member, signature, *body)).result()

    async def astate(self) -> dict[str, dict[str, Any]]:
        """GetState with the variants unpacked."""
        (raw,) = await self.acontrol("GetState")
        return {k: {p: v.value for p, v in props.items()} for k, props in raw.items()}
