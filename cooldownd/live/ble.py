"""Bluetooth LE heart rate with bleak: a supervisor that keeps one strap connected (``scan.py`` lists them).

Straps on Linux often drop the link every 30-150 s, so reconnecting is the normal case, not an
error: :class:`HrLink` scans, connects, subscribes to 0x2A37 and turns packets into events, and
starts over with a backoff (:func:`backoff`) whatever went wrong. A quiet-link watchdog treats
``quiet_s`` without a packet as a lost link, whatever BlueZ says. Every bus call runs under
``asyncio.timeout``: a stalled D-Bus must not hang the daemon.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack, aclosing
from typing import Any

from cooldownd.clock import Timeline
from cooldownd.core.retry import backoff
from cooldownd.live.blefaults import BluezWatch, classify
from cooldownd.live.events import BleEvent, Connected, DisconnectReason, Disconnected, Sample, Unavailable
from cooldownd.core.hr import MalformedPacket, decode, decode_battery, decode_location
from cooldownd.errors import BluetoothUnavailable, StrapNotFound

log = logging.getLogger(__name__)

# Full 128-bit forms: bleak compares scanner filter UUIDs as plain strings.
HR_SERVICE = "0000180d-0000-1000-8000-00805f9b34fb"
HR_MEASUREMENT = "00002a37-0000-1000-8000-00805f9b34fb"
BODY_SENSOR_LOCATION = "00002a38-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"

LOW_BATTERY_PERCENT = 15
# bleak's manager learns of the same change on its own bus connection: give it a moment to catch up.
WAKE_SETTLE_S = 0.2


_LINK_DOWN = object()  # queued by bleak's disconnected callback


class HrLink:
    """Keeps one heart-rate strap connected for as long as ``run`` runs, and reports what happens."""

    def __init__(
        self,
        devices: Sequence[str] = (),
        *,
        remembered: str | None = None,
        on_remember: Callable[[str], None] | None = None,
        quiet_s: float = 10.0,
        scan_s: float = 10.0,
        connect_timeout_s: float = 20.0,
        call_timeout_s: float = 10.0,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 60.0,
        adapter: str | None = None,
        clock: Callable[[], float] | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.devices = tuple(devices)
        self.remembered = remembered
        self._on_remember = on_remember
        self.quiet_s, self.scan_s = quiet_s, scan_s
        self.connect_timeout_s, self.call_timeout_s = connect_timeout_s, call_timeout_s
        self.backoff_base_s, self.backoff_cap_s = backoff_base_s, backoff_cap_s
        self._bluez: Any = {"adapter": adapter} if adapter else {}
        self._clock, self._rand = clock or Timeline().now, rand
        self.malformed = 0  # packets counted and dropped
        self._state: tuple[Any, ...] = ("starting",)
        self._low_battery: set[str] = set()

    @property
    def targets(self) -> tuple[str, ...]:
        """What to connect to: ``devices``, else the remembered address, else () for any strap."""
        if self.devices:
            return self.devices
        return (self.remembered,) if self.remembered else ()

    def _describe(self) -> str:
        return ", ".join(self.targets) or "any heart-rate device"

    async def run(self, on_event: Callable[[BleEvent], None]) -> None:
        """Scan, connect, stream and reconnect forever; returns only by cancellation."""
        failures = 0
        async with BluezWatch(self.call_timeout_s) as watch:
            while True:
                watch.arm()
                try:
                    await self._session(on_event)
                    failures = 0
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._failed(exc, on_event)
                    failures += 1
                delay = backoff(failures, self._rand(), self.backoff_base_s, self.backoff_cap_s)
                log.debug("%s: next attempt in %.2f s", self._describe(), delay)
                if await watch.sleep(delay):
                    log.debug("Bluetooth: BlueZ or adapter state changed; retrying now")
                    failures = 0
                    await asyncio.sleep(WAKE_SETTLE_S)

    def _note(self, state: tuple[Any, ...], level: int, msg: str, *args: Any) -> bool:
        """Log only when the state changes: a strap that stays away is reported once, not per retry."""
        if state == self._state:
            return False
        self._state = state
        log.log(level, msg, *args)
        return True

    def _failed(self, exc: Exception, on_event: Callable[[BleEvent], None]) -> None:
        reason = classify(exc)
        if reason is not None:
            if self._note(("unavailable", reason), logging.WARNING, "%s", BluetoothUnavailable(reason)):
                on_event(Unavailable(reason))
        elif isinstance(exc, StrapNotFound):
            self._note(("not found",), logging.INFO, "%s", exc)
        else:
            key = ("error", type(exc).__name__, getattr(exc, "dbus_error", None))
            self._note(key, logging.WARNING, "%s: connection failed: %s; retrying with backoff",
                       self._describe(), str(exc) or type(exc).__name__)
        log.debug("%s: attempt failed", self._describe(), exc_info=exc)

    async def _session(self, on_event: Callable[[BleEvent], None]) -> None:
        """One scan-connect-stream cycle; returns when a connected link ends, raises if it never came up."""
        device, name = await self._find()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        connected, stack = await self._connect(device, name, queue)
        async with stack:
            self._note(("connected", connected.address), logging.INFO, "%s: connected (%s, %s, battery %s)",
                       connected.address, connected.name, connected.location or "location unknown",
                       "unknown" if connected.battery is None else f"{connected.battery} %")
            self._check_battery(connected)
            if not self.devices and self.remembered is None:
                self.remembered = connected.address
                if self._on_remember is not None:
                    self._on_remember(connected.address)
            on_event(connected)
            reason = await self._pump(connected.address, queue, on_event)
            self._state = ("disconnected",)
            on_event(Disconnected(connected.address, reason))

    async def _find(self) -> tuple[Any, str | None]:
        """A wanted strap BlueZ is connected to, else scan until one advertises; StrapNotFound after scan_s."""
        from bleak import BleakScanner

        held = await self._held()
        if self._state[0] == "unavailable":
            log.info("Bluetooth: available again")
            self._state = ("available",)
        if held is not None:
            return held
        scanner = BleakScanner(service_uuids=[HR_SERVICE], bluez=self._bluez)
        async with asyncio.timeout(self.call_timeout_s):
            await scanner.start()
        try:
            async with asyncio.timeout(self.scan_s), aclosing(scanner.advertisement_data()) as seen:
                async for dev, adv in seen:
                    name = dev.name or adv.local_name
                    if self._wanted(dev.address, name):
                        return dev, name
        except TimeoutError:
            raise StrapNotFound(f"heart-rate strap ({self._describe()}) not seen within {self.scan_s:g} s; "
                                "wear it (or turn on the watch's heart-rate broadcast)") from None
        finally:
            try:
                async with asyncio.timeout(self.call_timeout_s):
                    await scanner.stop()
            except Exception as exc:  # the adapter may be gone: nothing left to stop
                log.debug("Bluetooth: stopping the scan failed: %s", exc)
        raise AssertionError("unreachable: advertisement_data() never ends")

    async def _held(self) -> tuple[Any, str | None] | None:
        """A wanted strap already connected in BlueZ, or None.

        BlueZ keeps a link when its client dies (kill -9, crash; bleak's client.py says so too),
        and a connected strap does not advertise: a restarted daemon must take that link over.
        """
        from bleak import BleakAdapter

        async with asyncio.timeout(self.call_timeout_s):
            adapter = await BleakAdapter.get(bluez=self._bluez)
            devices = await adapter.get_connected_devices([HR_SERVICE])
        for dev in devices:
            if self._wanted(dev.address, dev.name) and await self._connected_in_bluez(dev.details["path"]):
                log.info("%s: already connected in BlueZ (left by an earlier run?); taking the link over", dev.address)
                return dev, dev.name
        return None

    async def _connected_in_bluez(self, path: str) -> bool:
        """Ask BlueZ itself: bleak's cache still lists the devices of a BlueZ that was restarted."""
        from dbus_fast import BusType, Message, MessageType
        from dbus_fast.aio import MessageBus

        bus = MessageBus(bus_type=BusType.SYSTEM)
        try:
            async with asyncio.timeout(self.call_timeout_s):
                await bus.connect()
                reply = await bus.call(Message(
                    destination="org.bluez", path=path, interface="org.freedesktop.DBus.Properties",
                    member="Get", signature="ss", body=["org.bluez.Device1", "Connected"]))
        finally:
            bus.disconnect()
        return reply.message_type == MessageType.METHOD_RETURN and reply.body[0].value is True

    def _wanted(self, address: str, name: str | None) -> bool:
        targets = self.targets
        if not targets:
            return True
        folded = {t.casefold() for t in targets}
        return address.casefold() in folded or (name is not None and name.casefold() in folded)

    async def _connect(self, device: Any, name: str | None,
                       queue: asyncio.Queue[Any]) -> tuple[Connected, AsyncExitStack]:
        """Connect and subscribe; the returned stack disconnects. A failure part-way unwinds it all."""
        from bleak import BleakClient

        def on_packet(_char: Any, data: bytearray) -> None:
            queue.put_nowait((self._clock(), bytes(data)))

        client = BleakClient(device, disconnected_callback=lambda _c: queue.put_nowait(_LINK_DOWN),
                             timeout=self.connect_timeout_s, bluez=self._bluez)
        async with AsyncExitStack() as stack:
            # bleak has its own connect timeout; ours is the safety net for a stalled bus.
            async with asyncio.timeout(self.connect_timeout_s + self.call_timeout_s):
                await client.connect()
            stack.push_async_callback(self._disconnect, client)
            async with asyncio.timeout(self.call_timeout_s):
                await client.start_notify(HR_MEASUREMENT, on_packet)
            location = await self._read(client, BODY_SENSOR_LOCATION, decode_location)
            battery = await self._read(client, BATTERY_LEVEL, decode_battery)
            return Connected(client.address, name, location, battery), stack.pop_all()
        raise AssertionError("unreachable: the stack does not swallow exceptions")

    async def _read(self, client: Any, uuid: str, decoder: Callable[[bytes], Any]) -> Any:
        """Read an optional characteristic: None when the strap lacks it or sends garbage."""
        from bleak.exc import BleakCharacteristicNotFoundError

        try:
            async with asyncio.timeout(self.call_timeout_s):
                return decoder(await client.read_gatt_char(uuid))
        except BleakCharacteristicNotFoundError:
            return None
        except MalformedPacket as exc:
            log.warning("%s: %s", client.address, exc)
            return None

    async def _disconnect(self, client: Any) -> None:
        try:
            async with asyncio.timeout(self.call_timeout_s):
                await client.disconnect()
        except Exception as exc:  # already gone (e.g. removed from BlueZ): the link is down either way
            log.debug("%s: disconnect: %s", client.address, exc)

    async def _pump(self, address: str, queue: asyncio.Queue[Any],
                    on_event: Callable[[BleEvent], None]) -> DisconnectReason:
        """Decode packets into Sample events until the link drops or goes quiet."""
        while True:
            try:
                async with asyncio.timeout(self.quiet_s):
                    item = await queue.get()
            except TimeoutError:
                log.info("%s: no heart-rate packet for %g s; treating the link as lost", address, self.quiet_s)
                return DisconnectReason.QUIET
            if item is _LINK_DOWN:
                log.info("%s: link lost", address)
                return DisconnectReason.LINK_LOST
            t, data = item
            try:
                sample = decode(data)
            except MalformedPacket as exc:
                self.malformed += 1
                log.log(logging.WARNING if self.malformed == 1 else logging.DEBUG, "%s: %s", address, exc)
                continue
            on_event(Sample(sample, t))

    def _check_battery(self, connected: Connected) -> None:
        if connected.battery is None:
            return
        if connected.battery >= LOW_BATTERY_PERCENT:
            self._low_battery.discard(connected.address)
        elif connected.address not in self._low_battery:
            self._low_battery.add(connected.address)
            log.warning("%s: battery at %d %%; charge or replace it soon", connected.address, connected.battery)
