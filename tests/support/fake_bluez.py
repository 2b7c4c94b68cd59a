#!/usr/bin/env python3
"""A fake BlueZ (``org.bluez``) that unmodified bleak 3.1.0 talks to, for tests.

Run it on a private system bus (see ``tests/support/bluez_harness.py``)::

    python tests/support/fake_bluez.py --bus unix:path=/tmp/x/bus --device E1:3C:5B:9A:12:34=Polar H10 --bpm 120

It exports adapter hci0 and heart-rate devices (0x180D with 0x2A37 notify and 0x2A38 read,
0x180F with 0x2A19 read), repeats advertisement sightings while a client discovers, and
streams Heart Rate Measurement notifications while a client is subscribed. Behaviour follows
``../shared/docs/testing-ble.md`` (section numbers in comments). Tests drive it through
``org.cooldownd.FakeControl`` at ``/org/cooldownd/fake`` on the same bus name. It prints
``READY`` on stdout once it owns ``org.bluez``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import struct
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

ADAPTER = "org.bluez.Adapter1"
DEVICE = "org.bluez.Device1"
SERVICE = "org.bluez.GattService1"
CHAR = "org.bluez.GattCharacteristic1"
DESC = "org.bluez.GattDescriptor1"
PROPS = "org.freedesktop.DBus.Properties"
OBJMGR = "org.freedesktop.DBus.ObjectManager"
CONTROL_PATH = "/org/cooldownd/fake"
CONTROL = "org.cooldownd.FakeControl"
HCI = "/org/bluez/hci0"


def uuid16(short: int) -> str:
    """The full 128-bit lower-case form of a 16-bit Bluetooth UUID (bleak compares strings, C)."""
    return f"{short:08x}-0000-1000-8000-00805f9b34fb"


def hr_packet(bpm: int, contact: bool) -> bytes:
    """A Heart Rate Measurement: contact supported (+detected), one RR interval in 1/1024 s."""
    flags = 0x10 | (0x06 if contact else 0x04)
    rr = struct.pack("<H", round(60 / max(bpm, 1) * 1024))
    if bpm > 255:
        return bytes([flags | 0x01]) + struct.pack("<H", bpm) + rr
    return bytes([flags, bpm]) + rr


class BluezError(Exception):
    """Raised by a handler to reply with a D-Bus error."""

    def __init__(self, name: str, text: str) -> None:
        super().__init__(text)
        self.name = name
        self.text = text


NOT_READY = ("org.bluez.Error.NotReady", "Resource Not Ready")


@dataclass
class Device:
    address: str
    name: str
    rssi: int = -58
    in_range: bool = True
    connected: bool = False
    bpms: list[int] = field(default_factory=lambda: [120])
    interval: float = 0.05
    loop: bool = True
    pos: int = 0
    contact: bool = True
    battery: int = 80
    location: int = 1  # chest
    notifying: bool = False
    connects: int = 0
    packets: int = 0
    hr: bool = True  # False: a battery-only gadget that scans must filter out

    @property
    def path(self) -> str:
        return f"{HCI}/dev_{self.address.upper().replace(':', '_')}"

    def gatt(self) -> list[tuple[str, dict[str, dict[str, Variant]]]]:
        """GATT objects, parents first. Paths end in 4 hex digits: bleak parses them (C)."""
        d = self.path
        hrs, hrm, loc, bas = f"{d}/service0010", f"{d}/service0010/char0011", f"{d}/service0010/char0015", f"{d}/service0020"

        def svc(uuid: int) -> dict[str, dict[str, Variant]]:
            return {SERVICE: {"UUID": Variant("s", uuid16(uuid)), "Device": Variant("o", d),
                              "Primary": Variant("b", True), "Includes": Variant("ao", [])}}

        def char(uuid: int, svc_path: str, flags: list[str], value: bytes) -> dict[str, dict[str, Variant]]:
            props = {"UUID": Variant("s", uuid16(uuid)), "Service": Variant("o", svc_path),
                     "Flags": Variant("as", flags), "Value": Variant("ay", value)}
            if "notify" in flags:
                props["Notifying"] = Variant("b", False)
            return {CHAR: props}

        battery = [
            (bas, svc(0x180F)),
            (f"{bas}/char0021", char(0x2A19, bas, ["read", "notify"], bytes([self.battery]))),
        ]
        if not self.hr:
            return battery
        return [
            (hrs, svc(0x180D)),
            (hrm, char(0x2A37, hrs, ["notify"], b"")),
            (f"{hrm}/desc0013", {DESC: {"UUID": Variant("s", uuid16(0x2902)),
                                        "Characteristic": Variant("o", hrm), "Value": Variant("ay", b"")}}),
            (loc, char(0x2A38, hrs, ["read"], bytes([self.location]))),
            *battery,
        ]

    def device_props(self) -> dict[str, Variant]:
        return {
            "Address": Variant("s", self.address.upper()), "AddressType": Variant("s", "random"),
            "Name": Variant("s", self.name), "Alias": Variant("s", self.name),
            "Adapter": Variant("o", HCI), "Appearance": Variant("q", 0x0341),
            "Paired": Variant("b", False), "Bonded": Variant("b", False), "Trusted": Variant("b", False),
            "Blocked": Variant("b", False), "LegacyPairing": Variant("b", False),
            "Connected": Variant("b", False), "ServicesResolved": Variant("b", False),
            "RSSI": Variant("n", self.rssi), "TxPower": Variant("n", 0),
            "UUIDs": Variant("as", [uuid16(0x180D), uuid16(0x180F)] if self.hr else [uuid16(0x180F)]),
            "ManufacturerData": Variant("a{qv}", {0x006B: Variant("ay", b"\x01\x02")}),
            "ServiceData": Variant("a{sv}", {}), "AdvertisingFlags": Variant("ay", b"\x06"),
        }


def adapter_props(powered: bool) -> dict[str, Variant]:
    return {
        "Address": Variant("s", "00:1A:7D:DA:71:13"), "AddressType": Variant("s", "public"),
        "Name": Variant("s", "fakehost"), "Alias": Variant("s", "fakehost"), "Class": Variant("u", 0x6C010C),
        "Powered": Variant("b", powered), "PowerState": Variant("s", "on" if powered else "off"),
        "Discoverable": Variant("b", False), "DiscoverableTimeout": Variant("u", 180),
        "Pairable": Variant("b", True), "PairableTimeout": Variant("u", 0), "Discovering": Variant("b", False),
        "UUIDs": Variant("as", []), "Modalias": Variant("s", "usb:v1D6Bp0246d0548"),
        "Roles": Variant("as", ["central", "peripheral"]),  # bleak needs Roles with central (C)
    }


class FakeBluez:
    """The fake's state and its D-Bus method handlers."""

    def __init__(self, bus: MessageBus, args: argparse.Namespace) -> None:
        self.bus = bus
        self.adv_interval = args.adv_interval
        self.connect_delay = args.connect_delay
        self.objects: dict[str, dict[str, dict[str, Variant]]] = {}
        self.devices: dict[str, Device] = {}
        self.discovering: set[str] = set()  # D-Bus senders with a discovery session (D10)
        self.tasks: set[asyncio.Task[Any]] = set()
        if args.adapter:
            self._add_object(HCI, {ADAPTER: adapter_props(not args.powered_off)})
        for spec in args.device or ["E1:3C:5B:9A:12:34=Polar H10 A1B2C3D4"]:
            address, _, rest = spec.partition("=")
            name, _, rssi = rest.partition("=")
            dev = Device(address.upper(), name or "HRM", int(rssi or -58), bpms=args.bpm,
                         interval=args.interval, loop=not args.no_loop)
            self.devices[dev.address] = dev
        for spec in args.other or []:
            address, _, name = spec.partition("=")
            self.devices[address.upper()] = Device(address.upper(), name or "Gadget", -40, hr=False)
        self._spawn(self._advertise())
        for dev in self.devices.values():
            self._spawn(self._stream(dev))

    # -- plumbing ---------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _signal(self, path: str, iface: str, member: str, sig: str, body: list[Any]) -> None:
        self.bus.send(Message.new_signal(path, iface, member, sig, body))

    def _changed(self, path: str, iface: str, **props: Variant) -> None:
        self.objects[path][iface].update(props)
        self._signal(path, PROPS, "PropertiesChanged", "sa{sv}as", [iface, props, []])

    def _add_object(self, path: str, ifaces: dict[str, dict[str, Variant]]) -> None:
        self.objects[path] = ifaces
        self._signal("/", OBJMGR, "InterfacesAdded", "oa{sa{sv}}", [path, ifaces])

    def _remove_object(self, path: str) -> None:
        ifaces = self.objects.pop(path, None)
        if ifaces is not None:
            self._signal("/", OBJMGR, "InterfacesRemoved", "oas", [path, list(ifaces)])

    def _device_at(self, path: str) -> Device:
        for dev in self.devices.values():
            if path.startswith(dev.path) and dev.path in self.objects:
                return dev
        raise BluezError("org.freedesktop.DBus.Error.UnknownObject", f"no object {path}")

    def _find(self, address: str) -> Device:
        try:
            return self.devices[address.upper()]
        except KeyError:
            raise BluezError("org.cooldownd.Error.NoSuchDevice", address) from None

    @property
    def powered(self) -> bool:
        return HCI in self.objects and self.objects[HCI][ADAPTER]["Powered"].value

    def _require_powered(self) -> None:
        if not self.powered:
            raise BluezError(*NOT_READY)

    # -- message dispatch -----------------------------------------------------------
    def on_message(self, msg: Message) -> Message | bool:
        if msg.message_type == MessageType.SIGNAL:
            if msg.member == "NameOwnerChanged" and msg.body[0].startswith(":") and not msg.body[2]:
                self.discovering.discard(msg.body[0])  # a client left: drop its sessions (D10)
                if not self.discovering and HCI in self.objects:
                    self._changed(HCI, ADAPTER, Discovering=Variant("b", False))
            return False
        if msg.message_type != MessageType.METHOD_CALL or msg.interface is None:
            return False
        handler = self.handlers().get((msg.interface, msg.member))
        if handler is None:
            return False  # let dbus-fast answer (UnknownMethod / Introspect / Ping)
        try:
            result = handler(msg)
        except BluezError as err:
            return Message.new_error(msg, err.name, err.text)
        if asyncio.iscoroutine(result):
            self._spawn(self._reply_later(msg, result))
            return True
        sig, body = result if result is not None else ("", [])
        return Message.new_method_return(msg, sig, body)

    async def _reply_later(self, msg: Message, coro: Any) -> None:
        try:
            result = await coro
        except BluezError as err:
            self.bus.send(Message.new_error(msg, err.name, err.text))
            return
        sig, body = result if result is not None else ("", [])
        self.bus.send(Message.new_method_return(msg, sig, body))

    def handlers(self) -> dict[tuple[str, str], Callable[[Message], Any]]:
        return {
            (OBJMGR, "GetManagedObjects"): lambda m: ("a{oa{sa{sv}}}", [self.objects]),
            (PROPS, "GetAll"): lambda m: ("a{sv}", [self._iface(m.path, m.body[0])]),
            (PROPS, "Get"): lambda m: ("v", [self._iface(m.path, m.body[0])[m.body[1]]]),
            (PROPS, "Set"): self.set_property,
            (ADAPTER, "SetDiscoveryFilter"): lambda m: self._require_powered(),
            (ADAPTER, "GetDiscoveryFilters"): lambda m: ("as", [["UUIDs", "RSSI", "Transport", "DuplicateData"]]),
            (ADAPTER, "StartDiscovery"): self.start_discovery,
            (ADAPTER, "StopDiscovery"): self.stop_discovery,
            (ADAPTER, "RemoveDevice"): lambda m: self.remove_device(self._device_at(m.body[0]), True),
            (DEVICE, "Connect"): self.connect,
            (DEVICE, "Pair"): self.connect,
            (DEVICE, "Disconnect"): self.disconnect,
            (CHAR, "ReadValue"): self.read_value,
            (DESC, "ReadValue"): self.read_value,
            (CHAR, "StartNotify"): lambda m: self.set_notify(m.path, True),
            (CHAR, "StopNotify"): lambda m: self.set_notify(m.path, False),
            **{(CONTROL, name): fn for name, fn in self.controls().items()},
        }

    def _iface(self, path: str | None, iface: str) -> dict[str, Variant]:
        try:
            return self.objects[path or ""][iface]
        except KeyError:
            raise BluezError("org.freedesktop.DBus.Error.UnknownObject", f"{path} {iface}") from None

    def set_property(self, msg: Message) -> None:
        iface, name, value = msg.body
        self._iface(msg.path, iface)
        self._changed(msg.path, iface, **{name: value})

    # -- adapter ------------------------------------------------------------------
    def start_discovery(self, msg: Message) -> None:
        self._require_powered()
        if not self.discovering:
            self._changed(HCI, ADAPTER, Discovering=Variant("b", True))
        self.discovering.add(msg.sender)

    def stop_discovery(self, msg: Message) -> None:
        self._require_powered()
        if msg.sender not in self.discovering:
            raise BluezError("org.bluez.Error.Failed", "No discovery started")
        self.discovering.discard(msg.sender)
        if not self.discovering:
            self._changed(HCI, ADAPTER, Discovering=Variant("b", False))

    async def _advertise(self) -> None:
        """Repeated sightings: bleak reports a device only on a signal while it scans (D1)."""
        while True:
            await asyncio.sleep(self.adv_interval)
            if not (self.discovering and self.powered):
                continue
            for dev in self.devices.values():
                if not dev.in_range or dev.connected:
                    continue
                if dev.path not in self.objects:
                    self._add_object(dev.path, {DEVICE: dev.device_props()})
                else:
                    self._changed(dev.path, DEVICE, RSSI=Variant("n", dev.rssi))

    # -- device ---------------------------------------------------------------------
    async def connect(self, msg: Message) -> None:
        self._require_powered()
        dev = self._device_at(msg.path)
        if dev.connected:
            return  # BlueZ answers success for LE Connect on a connected device (E)
        await asyncio.sleep(self.connect_delay)
        if not dev.in_range or not self.powered or dev.path not in self.objects:
            raise BluezError("org.bluez.Error.Failed", "Software caused connection abort")
        dev.connected = True
        dev.connects += 1
        self._changed(dev.path, DEVICE, Connected=Variant("b", True))
        for path, ifaces in dev.gatt():  # every GATT object before ServicesResolved (D3)
            self._add_object(path, ifaces)
        self._changed(dev.path, DEVICE, ServicesResolved=Variant("b", True))

    def disconnect(self, msg: Message) -> None:
        self.drop(self._device_at(msg.path))  # succeeds when not connected, as BlueZ does (E)

    def drop(self, dev: Device) -> None:
        """Link gone: ServicesResolved false, GATT removed children first, Connected false (D7)."""
        if not dev.connected:
            return
        dev.connected = dev.notifying = False
        self._changed(dev.path, DEVICE, ServicesResolved=Variant("b", False))
        for path, _ in reversed(dev.gatt()):
            self._remove_object(path)
        self._changed(dev.path, DEVICE, Connected=Variant("b", False))

    def remove_device(self, dev: Device, disconnect_first: bool) -> None:
        """Remove the object; without disconnect_first a connected client is not told (D8)."""
        dev.in_range = False
        if disconnect_first:
            self.drop(dev)
        else:
            for path, _ in reversed(dev.gatt()):
                self.objects.pop(path, None)  # vanish silently with the device
            dev.connected = dev.notifying = False
        self._remove_object(dev.path)

    def read_value(self, msg: Message) -> tuple[str, list[Any]]:
        dev = self._device_at(msg.path)
        if not dev.connected:
            raise BluezError("org.bluez.Error.Failed", "Not connected")
        props = self.objects[msg.path].get(CHAR) or self.objects[msg.path][DESC]
        if msg.path.endswith("char0021"):
            props["Value"] = Variant("ay", bytes([dev.battery]))
        value = props["Value"].value
        if msg.interface == CHAR:  # BlueZ updates Value on read and signals it (D5)
            self._changed(msg.path, CHAR, Value=Variant("ay", value))
        return "ay", [value]

    def set_notify(self, path: str | None, on: bool) -> None:
        dev = self._device_at(path or "")
        props = self._iface(path, CHAR)
        if "notify" not in props["Flags"].value:
            raise BluezError("org.bluez.Error.NotSupported", "Operation is not supported")
        if path.endswith("char0011"):
            dev.notifying = on
        self._changed(path, CHAR, Notifying=Variant("b", on))

    async def _stream(self, dev: Device) -> None:
        """Heart Rate notifications as Value PropertiesChanged on 0x2A37 (D4)."""
        while True:
            await asyncio.sleep(dev.interval)
            if not (dev.connected and dev.notifying) or not dev.bpms:
                continue
            if dev.pos >= len(dev.bpms):
                if not dev.loop:
                    continue  # script over: stay connected, silent
                dev.pos = 0
            self.notify(dev, hr_packet(dev.bpms[dev.pos], dev.contact))
            dev.pos += 1

    def notify(self, dev: Device, value: bytes) -> None:
        if dev.connected and dev.notifying:
            dev.packets += 1
            self._changed(f"{dev.path}/service0010/char0011", CHAR, Value=Variant("ay", value))

    # -- control interface for tests -------------------------------------------------
    def controls(self) -> dict[str, Callable[[Message], Any]]:
        def each(fn: Callable[..., Any]) -> Callable[[Message], Any]:
            return lambda m: fn(*m.body)

        return {
            "DropLink": each(lambda a: self.drop(self._find(a))),
            "SetPowered": each(self.set_powered),
            "RemoveAdapter": each(self.remove_adapter),
            "AddAdapter": each(lambda: self._add_object(HCI, {ADAPTER: adapter_props(True)})
                               if HCI not in self.objects else None),
            "RemoveDevice": each(lambda a, first: self.remove_device(self._find(a), first)),
            "AddDevice": each(self.add_device),
            "SetInRange": each(lambda a, b: setattr(self._find(a), "in_range", b)),
            "SetHr": each(self.set_hr),
            "SetContact": each(lambda a, b: setattr(self._find(a), "contact", b)),
            "SetBattery": each(lambda a, b: setattr(self._find(a), "battery", b)),
            "SendRaw": each(lambda a, data: self.notify(self._find(a), bytes(data))),
            "GetState": lambda m: ("a{sa{sv}}", [self.state()]),
        }

    def set_powered(self, on: bool) -> None:
        """Power off disconnects devices: bleak learns only via Connected=false (D9)."""
        if HCI not in self.objects:
            raise BluezError("org.freedesktop.DBus.Error.UnknownObject", HCI)
        if not on:
            for dev in self.devices.values():
                self.drop(dev)
            self.discovering.clear()
            self._changed(HCI, ADAPTER, Discovering=Variant("b", False))
        self._changed(HCI, ADAPTER, Powered=Variant("b", on), PowerState=Variant("s", "on" if on else "off"))

    def remove_adapter(self) -> None:
        for dev in self.devices.values():
            self.drop(dev)
            self._remove_object(dev.path)
        self.discovering.clear()
        self._remove_object(HCI)

    def add_device(self, address: str, name: str, rssi: int) -> None:
        dev = self.devices.get(address.upper())
        if dev is None:
            dev = self.devices[address.upper()] = Device(address.upper(), name, rssi)
            self._spawn(self._stream(dev))
        dev.in_range = True

    def set_hr(self, address: str, bpms: list[int], interval: float, loop: bool) -> None:
        dev = self._find(address)
        dev.bpms, dev.interval, dev.loop, dev.pos = list(bpms), interval, loop, 0

    def state(self) -> dict[str, dict[str, Variant]]:
        out = {a: {"Connected": Variant("b", d.connected), "Notifying": Variant("b", d.notifying),
                   "InRange": Variant("b", d.in_range), "Connects": Variant("u", d.connects),
                   "Packets": Variant("u", d.packets)} for a, d in self.devices.items()}
        out["hci0"] = {"Present": Variant("b", HCI in self.objects), "Powered": Variant("b", self.powered),
                       "Discovering": Variant("b", bool(self.discovering))}
        return out


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bus", default=os.environ.get("DBUS_SYSTEM_BUS_ADDRESS"))
    parser.add_argument("--device", action="append", help="ADDRESS=NAME[=RSSI], repeatable")
    parser.add_argument("--other", action="append", help="ADDRESS=NAME of a device without 0x180D")
    parser.add_argument("--bpm", type=lambda s: [int(x) for x in s.split(",") if x], default=[120])
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between HR packets")
    parser.add_argument("--no-loop", action="store_true", help="play --bpm once, then stay silent")
    parser.add_argument("--no-adapter", dest="adapter", action="store_false")
    parser.add_argument("--powered-off", action="store_true")
    parser.add_argument("--adv-interval", type=float, default=0.02)
    parser.add_argument("--connect-delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    bus = MessageBus(bus_address=args.bus, bus_type=BusType.SYSTEM, negotiate_unix_fd=True)
    await bus.connect()
    fake = FakeBluez(bus, args)
    bus.add_message_handler(fake.on_message)
    await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                           interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                           body=["type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged'"]))
    await bus.request_name("org.bluez")
    print("READY", bus.unique_name, flush=True)
    await bus.wait_for_disconnect()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
