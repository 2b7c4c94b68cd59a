"""In-memory parts for wiring a supervisor in a test: a status sink and a heart-rate source.

``MemoryStatus`` is a ``ports.StatusSink`` that keeps what it was told; ``ReplaySource`` is a
``live.events.HrSource`` that reports a recorded list of events, then stays quiet (as a strap
that stopped sending), so the live session runs unchanged without BlueZ.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from cooldownd.live.events import BleEvent
from cooldownd.record.summary import Summary


class MemoryStatus:
    """A status sink that remembers every update and the recorded workouts."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {"device": None}
        self.updates: list[dict[str, Any]] = []
        self.workouts: list[Summary] = []

    def update(self, **changes: Any) -> None:
        self.data.update(changes)
        self.updates.append(changes)

    def device(self, **changes: Any) -> None:
        self.update(device=dict(self.data.get("device") or {}, **changes))

    def note_workout(self, summary: Summary) -> None:
        self.workouts.append(summary)


class ReplaySource:
    """Reports ``events`` one at a time on their own time line, then stays quiet until cancelled.

    ``clock`` is the session's clock: the time of the event being handed over, so the detector's
    timers run on the replayed time line. The next event is handed over once the session has taken
    the previous one from its queue (``on_event`` is that queue's ``put_nowait``).
    """

    def __init__(self, events: Sequence[BleEvent]) -> None:
        self.events = list(events)
        self.now = next((e.t for e in self.events if hasattr(e, "t")), 0.0)
        self.handed_over = False  # every event taken by the session (all but the last one handled)

    def clock(self) -> float:
        return self.now

    async def run(self, on_event: Callable[[BleEvent], None]) -> None:
        pending = on_event.__self__.qsize  # type: ignore[attr-defined]
        for event in self.events:
            self.now = max(self.now, getattr(event, "t", self.now))
            on_event(event)
            await asyncio.sleep(0)
            while pending():
                await asyncio.sleep(0.001)
        self.handed_over = True
        await asyncio.Event().wait()
