"""Why Bluetooth is unusable, and a watch that notices when it becomes usable again.

``classify`` turns what bleak raises into a typed :class:`BluetoothUnavailableReason`, branching
on exception types and D-Bus error names, never on message text. :class:`BluezWatch` listens on
the system bus for BlueZ appearing, adapters being added and power changes, so a supervisor
waiting out a long backoff retries as soon as the user turns Bluetooth back on.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from cooldownd.errors import BluetoothUnavailableReason

log = logging.getLogger(__name__)

BLUEZ = "org.bluez"
ADAPTER_IFACE = "org.bluez.Adapter1"
_NO_SERVICE = frozenset({
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
})
_MATCH_RULES = (
    "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.bluez'",
    "type='signal',interface='org.freedesktop.DBus.ObjectManager',member='InterfacesAdded',arg0path='/org/bluez/'",
    "type='signal',interface='org.freedesktop.DBus.ObjectManager',member='InterfacesRemoved',arg0path='/org/bluez/'",
    "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
    "path_namespace='/org/bluez',arg0='org.bluez.Adapter1'",
)


def classify(exc: BaseException) -> BluetoothUnavailableReason | None:
    """The reason Bluetooth is unavailable that ``exc`` shows, or None for any other failure."""
    from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakDBusError

    if isinstance(exc, BleakBluetoothNotAvailableError):
        match exc.reason:
            case BleakBluetoothNotAvailableReason.POWERED_OFF:
                return BluetoothUnavailableReason.POWERED_OFF
            case BleakBluetoothNotAvailableReason.NO_BLUETOOTH | BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE:
                return BluetoothUnavailableReason.NO_ADAPTER
            case _:  # denied by the system: the bus refused us (e.g. authentication)
                return BluetoothUnavailableReason.NO_BUS
    if isinstance(exc, BleakDBusError):
        if exc.dbus_error in _NO_SERVICE:
            return BluetoothUnavailableReason.NO_BLUEZ
        if exc.dbus_error == "org.bluez.Error.NotReady":  # BlueZ's answer while the adapter is off
            return BluetoothUnavailableReason.POWERED_OFF
        return None
    # dbus-fast raises these raw when the system bus socket is missing or refuses connections.
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
        return BluetoothUnavailableReason.NO_BUS
    return None


class BluezWatch:
    """Sleeps like ``asyncio.sleep`` but wakes early when BlueZ or an adapter changes state."""

    def __init__(self, call_timeout_s: float = 5.0) -> None:
        self._call_timeout_s = call_timeout_s
        self._bus: Any = None
        self._changed = asyncio.Event()

    async def __aenter__(self) -> BluezWatch:
        await self._open()  # before the first attempt, so no change after it goes unseen
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._bus is not None:
            self._bus.disconnect()
            self._bus = None

    def arm(self) -> None:
        """Forget earlier changes: call before each attempt so a change during it counts."""
        self._changed.clear()

    @property
    def changed(self) -> bool:
        """Whether BlueZ or an adapter changed since ``arm``."""
        return self._changed.is_set()

    async def sleep(self, delay: float) -> bool:
        """Wait ``delay`` seconds or until a change; True when woken by a change."""
        await self._open()
        try:
            async with asyncio.timeout(delay):
                await self._changed.wait()
        except TimeoutError:
            return False
        return True

    async def _open(self) -> None:
        if self._bus is not None and self._bus.connected:
            return
        from dbus_fast import BusType, Message
        from dbus_fast.aio import MessageBus

        bus = MessageBus(bus_type=BusType.SYSTEM)
        try:
            async with asyncio.timeout(self._call_timeout_s):
                await bus.connect()
                for rule in _MATCH_RULES:
                    await bus.call(Message(
                        destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                        interface="org.freedesktop.DBus", member="AddMatch", signature="s", body=[rule]))
        except (OSError, TimeoutError, EOFError, ValueError) as exc:
            bus.disconnect()
            log.debug("Bluetooth: cannot watch the system bus (%s); retrying on a timer only", exc)
            return
        bus.add_message_handler(self._on_signal)
        self._bus = bus

    def _on_signal(self, msg: Any) -> None:
        member, body = msg.member, msg.body
        if member == "NameOwnerChanged" and body[0] == BLUEZ:
            self._changed.set()
        elif member == "InterfacesAdded" and ADAPTER_IFACE in body[1]:
            self._changed.set()
        elif member == "InterfacesRemoved" and ADAPTER_IFACE in body[1]:
            self._changed.set()
        elif member == "PropertiesChanged" and body[0] == ADAPTER_IFACE and "Powered" in body[1]:
            # Discovering changes on every scan: only power counts, else we would never back off.
            self._changed.set()
