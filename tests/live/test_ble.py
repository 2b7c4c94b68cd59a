"""cooldownd.live.ble end to end: unmodified bleak on a private system bus, against tests/support/fake_bluez.py.

Knobs are short (quiet 0.5 s, backoff 50 ms doubling to 0.4 s) so each scenario takes about a
second. Scenarios that must show the BluezWatch noticing a change use a long backoff instead,
so only the watch can explain a quick recovery.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bluez_harness import STRAP, STRAP_NAME, BluezHarness
from cooldownd.live.ble import HrLink
from cooldownd.live.events import (
    BleEvent,
    Connected,
    DeviceInfo,
    DisconnectReason,
    Disconnected,
    Sample,
    Unavailable,
)
from cooldownd.live.scan import scan
from cooldownd.core.model import Contact
from cooldownd.errors import BluetoothUnavailable, BluetoothUnavailableReason as R

OTHER = "C4:7A:11:22:33:44"
OTHER_NAME = "TICKR 1234"
FAST = dict(quiet_s=0.5, scan_s=1.0, connect_timeout_s=3.0, call_timeout_s=2.0,
            backoff_base_s=0.05, backoff_cap_s=0.4)
SLOW_BACKOFF = dict(FAST, backoff_base_s=20.0, backoff_cap_s=30.0)  # only the watch can wake it early


@pytest.fixture
def bluez(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A private system bus with the bluetoothctl shim, and no fake yet."""
    with BluezHarness(tmp_path) as harness:
        harness.apply(monkeypatch)
        yield harness


class Events:
    """Collects HrLink events; ``until`` waits for the next one matching a predicate."""

    def __init__(self) -> None:
        self.all: list[BleEvent] = []
        self._queue: asyncio.Queue[BleEvent] = asyncio.Queue()

    def __call__(self, event: BleEvent) -> None:
        self.all.append(event)
        self._queue.put_nowait(event)

    async def until(self, pred: Callable[[BleEvent], bool], timeout: float = 5.0) -> BleEvent:
        async with asyncio.timeout(timeout):
            while not pred(event := await self._queue.get()):
                pass
        return event

    async def samples(self, n: int, timeout: float = 5.0) -> list[Sample]:
        return [await self.until(lambda e: isinstance(e, Sample), timeout) for _ in range(n)]  # type: ignore[misc]

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.all if isinstance(e, kind)]


@contextlib.asynccontextmanager
async def running(link: HrLink) -> AsyncIterator[Events]:
    events = Events()
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(link.run(events))
        try:
            yield events
        finally:
            task.cancel()


def is_(kind: type, **fields: Any) -> Callable[[BleEvent], bool]:
    return lambda e: isinstance(e, kind) and all(getattr(e, k) == v for k, v in fields.items())


# -- scan -----------------------------------------------------------------------------

def test_scan_lists_heart_rate_devices_with_name_and_rssi(bluez: BluezHarness) -> None:
    bluez.start_fake(devices=[(OTHER, OTHER_NAME, -71), (STRAP, STRAP_NAME, -58)],
                     others=[("AA:BB:CC:00:11:22", "Lamp")])
    found = asyncio.run(scan(0.3))
    # the battery-only gadget (strongest signal) is filtered out; strongest heart-rate device first
    assert found == [DeviceInfo(STRAP, STRAP_NAME, -58), DeviceInfo(OTHER, OTHER_NAME, -71)]


@pytest.mark.parametrize(("fake", "reason"), [
    (dict(adapter=False), R.NO_ADAPTER), (dict(powered=False), R.POWERED_OFF), (None, R.NO_BLUEZ),
])
def test_scan_reports_typed_unavailability(bluez: BluezHarness, fake: dict[str, Any] | None, reason: R) -> None:
    if fake is not None:
        bluez.start_fake(**fake)
    with pytest.raises(BluetoothUnavailable) as info:
        asyncio.run(scan(0.2))
    assert info.value.reason is reason
    assert "\n" not in str(info.value) and str(info.value).startswith("Bluetooth: ")


def test_scan_without_a_system_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/absent")
    with pytest.raises(BluetoothUnavailable) as info:
        asyncio.run(scan(0.2))
    assert info.value.reason is R.NO_BUS


# -- the supervisor -----------------------------------------------------------------------

def test_connects_and_streams_samples_with_clock_times(bluez: BluezHarness) -> None:
    bluez.start_fake(bpm=[100, 101, 102, 103, 104, 105, 106, 107])
    ticks = itertools.count(1000)
    remembered: list[str] = []
    link = HrLink(**FAST, clock=lambda: float(next(ticks)), on_remember=remembered.append)

    async def main() -> None:
        async with running(link) as events:
            connected = await events.until(is_(Connected))
            assert connected == Connected(STRAP, STRAP_NAME, "chest", 80)
            samples = await events.samples(5)
            assert [s.sample.bpm for s in samples] == [100, 101, 102, 103, 104]
            assert all(s.sample.contact is Contact.DETECTED for s in samples)
            assert samples[0].sample.rr_ms == pytest.approx((600.0,), abs=1)
            times = [s.t for s in samples]
            assert times == sorted(times) and all(t >= 1000 for t in times)

    asyncio.run(main())
    assert remembered == [STRAP] and link.remembered == STRAP


def test_link_drop_reconnects_and_samples_continue(bluez: BluezHarness) -> None:
    bluez.start_fake()

    async def main() -> None:
        async with running(HrLink(**FAST)) as events:
            await events.until(is_(Connected))
            await events.samples(2)
            dropped_at = time.monotonic()
            await bluez.acontrol("DropLink", "s", STRAP)
            assert await events.until(lambda e: not isinstance(e, Sample)) == Disconnected(
                STRAP, DisconnectReason.LINK_LOST)
            await events.until(is_(Connected))
            await events.samples(3)
            assert time.monotonic() - dropped_at < 2.0
            assert (await bluez.astate())[STRAP]["Connects"] == 2

    asyncio.run(main())


def test_stopping_the_supervisor_disconnects_the_strap(bluez: BluezHarness) -> None:
    bluez.start_fake()

    async def main() -> None:
        async with running(HrLink(**FAST)) as events:
            await events.until(is_(Sample))
            assert (await bluez.astate())[STRAP]["Connected"] is True
        assert (await bluez.astate())[STRAP]["Connected"] is False

    asyncio.run(main())


def test_quiet_link_watchdog(bluez: BluezHarness) -> None:
    bluez.start_fake()

    async def main() -> None:
        async with running(HrLink(**FAST)) as events:
            await events.until(is_(Sample))
            await bluez.acontrol("SetHr", "saidb", STRAP, [], 0.05, True)  # silent, still connected
            await events.until(lambda e: not isinstance(e, Sample))
            last = events.of(Sample)[-1]
            quiet = events.all[-1]
            assert quiet == Disconnected(STRAP, DisconnectReason.QUIET)
            assert (await bluez.astate())[STRAP]["Connects"] == 1  # BlueZ never reported a drop
            await bluez.acontrol("SetHr", "saidb", STRAP, [130], 0.05, True)
            assert (await events.until(is_(Sample))).sample.bpm == 130
            assert last.sample.bpm == 120

    asyncio.run(main())


def test_malformed_packets_are_counted_and_dropped(bluez: BluezHarness) -> None:
    bluez.start_fake()
    link = HrLink(**FAST)

    async def main() -> None:
        async with running(link) as events:
            await events.until(is_(Sample))
            for raw in (b"", b"\x10\x50\x01", b"\x01\x50"):
                await bluez.acontrol("SendRaw", "say", STRAP, raw)
            await events.samples(3)
            assert link.malformed == 3
            assert not events.of(Disconnected)

    asyncio.run(main())


def test_adapter_off_then_on(bluez: BluezHarness, caplog: pytest.LogCaptureFixture) -> None:
    bluez.start_fake()
    caplog.set_level(logging.DEBUG, logger="cooldownd")

    async def main() -> None:
        async with running(HrLink(**FAST)) as events:
            await events.until(is_(Sample))
            await bluez.acontrol("SetPowered", "b", False)
            assert await events.until(lambda e: not isinstance(e, Sample)) == Disconnected(
                STRAP, DisconnectReason.LINK_LOST)
            assert await events.until(is_(Unavailable)) == Unavailable(R.POWERED_OFF)
            await asyncio.sleep(1.0)  # several fast retries while off
            await bluez.acontrol("SetPowered", "b", True)
            await events.until(is_(Connected))
            await events.samples(2)
            assert events.of(Unavailable) == [Unavailable(R.POWERED_OFF)]

    asyncio.run(main())
    retries = [r for r in caplog.records if "next attempt" in r.getMessage()]
    off = [r for r in caplog.records if "powered off" in r.getMessage()]
    assert len(retries) >= 4 and len(off) == 1, (len(retries), len(off))
    assert any(r.getMessage() == "Bluetooth: available again" for r in caplog.records)


def test_power_on_is_noticed_without_waiting_out_the_backoff(bluez: BluezHarness) -> None:
    bluez.start_fake(powered=False)

    async def main() -> None:
        async with running(HrLink(**SLOW_BACKOFF)) as events:
            assert await events.until(lambda e: True) == Unavailable(R.POWERED_OFF)
            await asyncio.sleep(0.2)
            on_at = time.monotonic()
            await bluez.acontrol("SetPowered", "b", True)
            await events.until(is_(Connected), timeout=5)
            assert time.monotonic() - on_at < 3.0  # the backoff was >= 15 s

    asyncio.run(main())


@pytest.mark.parametrize(("disconnect_first", "reason"), [
    (False, DisconnectReason.QUIET),  # object vanishes: bleak is not told, the watchdog notices
    (True, DisconnectReason.LINK_LOST),
])
def test_device_removed_then_back(bluez: BluezHarness, caplog: pytest.LogCaptureFixture,
                                  disconnect_first: bool, reason: DisconnectReason) -> None:
    bluez.start_fake()
    caplog.set_level(logging.INFO, logger="cooldownd")
    link = HrLink(**dict(FAST, scan_s=0.3))

    async def main() -> None:
        async with running(link) as events:
            await events.until(is_(Sample))
            await bluez.acontrol("RemoveDevice", "sb", STRAP, disconnect_first)
            assert await events.until(lambda e: not isinstance(e, Sample)) == Disconnected(STRAP, reason)
            await asyncio.sleep(1.5)  # several scans find nothing
            await bluez.acontrol("AddDevice", "ssn", STRAP, STRAP_NAME, -58)
            await events.until(is_(Connected))
            await events.samples(2)

    asyncio.run(main())
    not_seen = [r for r in caplog.records if "not seen within" in r.getMessage()]
    assert len(not_seen) == 1


def test_no_adapter_then_one_is_plugged_in(bluez: BluezHarness) -> None:
    bluez.start_fake(adapter=False)

    async def main() -> None:
        async with running(HrLink(**SLOW_BACKOFF)) as events:
            assert await events.until(lambda e: True) == Unavailable(R.NO_ADAPTER)
            await bluez.acontrol("AddAdapter")
            await events.until(is_(Connected), timeout=5)
            assert events.of(Unavailable) == [Unavailable(R.NO_ADAPTER)]

    asyncio.run(main())


def test_no_bluez_on_the_bus_then_it_starts(bluez: BluezHarness) -> None:
    async def main() -> None:
        async with running(HrLink(**SLOW_BACKOFF)) as events:
            assert await events.until(lambda e: True) == Unavailable(R.NO_BLUEZ)
            await asyncio.to_thread(bluez.start_fake)
            await events.until(is_(Connected), timeout=5)
            await events.samples(1)

    asyncio.run(main())


def test_no_adapter_logged_once_across_retries(bluez: BluezHarness, caplog: pytest.LogCaptureFixture) -> None:
    bluez.start_fake(adapter=False)
    caplog.set_level(logging.DEBUG, logger="cooldownd")

    async def main() -> None:
        async with running(HrLink(**FAST)) as events:
            await asyncio.sleep(1.2)
        assert events.all == [Unavailable(R.NO_ADAPTER)]

    asyncio.run(main())
    retries = [r for r in caplog.records if "next attempt" in r.getMessage()]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(retries) >= 4
    assert [r.getMessage() for r in warnings] == [
        "Bluetooth: no Bluetooth adapter; plug in a Bluetooth adapter"]


def test_named_device_and_remembered_address_pick_the_right_strap(bluez: BluezHarness) -> None:
    bluez.start_fake(devices=[(STRAP, STRAP_NAME), (OTHER, OTHER_NAME)])

    async def first_connected(link: HrLink) -> Connected:
        async with running(link) as events:
            return await events.until(is_(Connected))  # type: ignore[return-value]

    assert asyncio.run(first_connected(HrLink(["tickr 1234"], **FAST))).address == OTHER
    assert asyncio.run(first_connected(HrLink([STRAP.lower()], **FAST))).address == STRAP
    assert asyncio.run(first_connected(HrLink(remembered=OTHER, **FAST))).address == OTHER


def test_low_battery_warned_once(bluez: BluezHarness, caplog: pytest.LogCaptureFixture) -> None:
    bluez.start_fake()

    async def main() -> None:
        await bluez.acontrol("SetBattery", "sy", STRAP, 9)
        async with running(HrLink(**FAST)) as events:
            assert (await events.until(is_(Connected))).battery == 9
            await bluez.acontrol("DropLink", "s", STRAP)
            await events.until(is_(Connected))

    asyncio.run(main())
    assert len([r for r in caplog.records if "battery at 9 %" in r.getMessage()]) == 1
