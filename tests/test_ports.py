"""Each edge's real class (and the in-memory test parts) has every member of its Protocol, same parameters."""

from __future__ import annotations

import inspect

import pytest

from cooldownd.daemon.status import Status
from cooldownd.desktop.base import ConsoleBackend, Notifier
from cooldownd.desktop.cues import CuedNotifier
from cooldownd.desktop.fdo import DesktopBackend
from cooldownd.live.ble import HrLink
from cooldownd.live.events import HrSource
from cooldownd.ports import StatusSink, Store as StorePort
from cooldownd.store import Store
from memory_parts import MemoryStatus, ReplaySource


def members(proto: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in vars(proto).items()
            if callable(fn) and not name.startswith("_")}


@pytest.mark.parametrize("proto, impl", [
    (StorePort, Store), (StatusSink, Status), (StatusSink, MemoryStatus), (HrSource, HrLink), (HrSource, ReplaySource),
    (Notifier, ConsoleBackend), (Notifier, DesktopBackend), (Notifier, CuedNotifier),
])
def test_implementation_matches_its_protocol(proto: type, impl: type) -> None:
    wanted = members(proto)
    assert wanted, proto
    for name, sig in wanted.items():
        assert hasattr(impl, name), f"{impl.__name__} lacks {name}"
        got = inspect.signature(getattr(impl, name))
        assert list(got.parameters) == list(sig.parameters), (impl.__name__, name, got, sig)
        assert inspect.iscoroutinefunction(getattr(impl, name)) == inspect.iscoroutinefunction(getattr(proto, name))
