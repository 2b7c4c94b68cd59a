"""``cooldownd scan``: the heart-rate devices advertising nearby, through bleak."""

from __future__ import annotations

import asyncio

from cooldownd.errors import BleError, BluetoothUnavailable
from cooldownd.live.ble import HR_SERVICE
from cooldownd.live.blefaults import classify
from cooldownd.live.events import DeviceInfo


async def scan(timeout: float, adapter: str | None = None, call_timeout_s: float = 10.0) -> list[DeviceInfo]:
    """Heart-rate devices advertising nearby within ``timeout`` s, strongest signal first."""
    from bleak import BleakScanner

    try:
        async with asyncio.timeout(timeout + call_timeout_s):
            found = await BleakScanner.discover(
                timeout=timeout, service_uuids=[HR_SERVICE], return_adv=True,
                bluez={"adapter": adapter} if adapter else {})
    except Exception as exc:
        if (reason := classify(exc)) is not None:
            raise BluetoothUnavailable(reason) from exc
        raise BleError(f"Bluetooth scan failed: {exc or type(exc).__name__}; try again, "
                       "or restart bluetooth.service") from exc
    infos = [DeviceInfo(dev.address, dev.name or adv.local_name, adv.rssi) for dev, adv in found.values()]
    return sorted(infos, key=lambda i: -127 if i.rssi is None else -i.rssi)
