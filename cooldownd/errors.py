"""One error hierarchy. Messages are one line: what, which input, why, and a fix."""

from __future__ import annotations

import enum


class CooldownError(Exception):
    """Base of every error cooldownd reports to a user."""


class ConfigError(CooldownError):
    """The configuration (or a routines file) is invalid. The CLI exits 78."""


class FitImportError(CooldownError):
    """A workout file could not be imported."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StoreError(CooldownError):
    """The state database cannot be used."""


class BluetoothUnavailableReason(enum.Enum):
    NO_BLUEZ = "no BlueZ on the system bus"
    NO_ADAPTER = "no Bluetooth adapter"
    POWERED_OFF = "Bluetooth adapter is powered off"
    NO_BUS = "no system D-Bus"


class BluetoothUnavailable(CooldownError):
    """Bluetooth cannot be used right now; ``reason`` says why."""

    def __init__(self, reason: BluetoothUnavailableReason, detail: str = "") -> None:
        fix = {
            BluetoothUnavailableReason.NO_BLUEZ: "start bluetooth.service",
            BluetoothUnavailableReason.NO_ADAPTER: "plug in a Bluetooth adapter",
            BluetoothUnavailableReason.POWERED_OFF: "turn Bluetooth on",
            BluetoothUnavailableReason.NO_BUS: "is D-Bus running?",
        }[reason]
        msg = f"Bluetooth: {reason.value}"
        if detail:
            msg += f" ({detail})"
        super().__init__(f"{msg}; {fix}")
        self.reason = reason


class StrapNotFound(CooldownError):
    """No configured heart-rate device was found."""


class BleError(CooldownError):
    """A Bluetooth LE operation failed for another reason; the message names the device or step."""


class IntervalsFault(enum.Enum):
    """What went wrong, and so what the poller does next."""

    AUTH = "the API key was refused"
    BUSY = "busy"
    NETWORK = "cannot be reached"
    PROTOCOL = "answered something unexpected"


class IntervalsError(CooldownError):
    """One intervals.icu failure: ``fault`` and, for 429/5xx, the server's ``retry_after`` in seconds."""

    def __init__(self, fault: IntervalsFault, detail: str, retry_after: float | None = None) -> None:
        fix = {IntervalsFault.AUTH: "check [sources.intervals] api_key (intervals.icu settings, Developer Settings)",
               IntervalsFault.BUSY: "backing off", IntervalsFault.NETWORK: "will try again",
               IntervalsFault.PROTOCOL: "check base_url"}[fault]
        super().__init__(f"intervals.icu: {fault.value} ({detail}); {fix}")
        self.fault = fault
        self.detail = detail
        self.retry_after = retry_after
