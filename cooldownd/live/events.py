"""What a heart-rate source reports, and the ``HrSource`` seam the live session listens through.

The real source is ``live.ble.HrLink`` (bleak, one strap kept connected); tests may pass any
object with the same ``run`` (tests/support/replay_source.py replays a recorded session).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cooldownd.core.model import HrSample
from cooldownd.errors import BluetoothUnavailableReason


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """A heart-rate device seen by a scan."""

    address: str
    name: str | None
    rssi: int | None


class DisconnectReason(enum.Enum):
    """Why a connected link ended."""

    LINK_LOST = "link lost"
    QUIET = "no heart-rate packet within quiet_s"


@dataclass(frozen=True, slots=True)
class Sample:
    """One decoded heart-rate packet; ``t`` is when it arrived (POSIX seconds on a :class:`~cooldownd.clock.Timeline`:
    steady, so two samples' difference is real time even across a wall-clock step)."""

    sample: HrSample
    t: float


@dataclass(frozen=True, slots=True)
class Connected:
    """The strap is connected and subscribed; location and battery are None when not readable."""

    address: str
    name: str | None
    location: str | None
    battery: int | None


@dataclass(frozen=True, slots=True)
class Disconnected:
    """A connected link ended; HrLink is already trying to get it back."""

    address: str
    reason: DisconnectReason


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Bluetooth cannot be used; sent once per change of reason, not once per retry."""

    reason: BluetoothUnavailableReason


BleEvent = Sample | Connected | Disconnected | Unavailable


class HrSource(Protocol):
    """Where heart rate comes from: ``run`` reports events until cancelled (it never returns otherwise)."""

    async def run(self, on_event: Callable[[BleEvent], None]) -> None:
        """Report events (Connected, Sample, Disconnected, Unavailable) through ``on_event``."""
