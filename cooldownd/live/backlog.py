"""What the live session could not store yet: the store calls of a full disk, retried, never dropped.

A journal session to close and an ended workout to save wait here (in memory, in order) while the
store refuses writes (a full disk, a locked or read-only file); every failed call sets ``retry_at``
(``FLUSH_S`` later) and an outage is logged once, its end once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cooldownd.core.model import Workout
from cooldownd.errors import StoreError

if TYPE_CHECKING:
    from cooldownd.ports import Store
    from cooldownd.record.summary import Result
    from cooldownd.asyncstore import AsyncStore

log = logging.getLogger("cooldownd.live.session")
FLUSH_S = 4.0  # journal batches and retries; with the store thread's latency a kill -9 loses < 5 s
Save = Callable[["Store", Workout, "int | None", float], "Result"]


class Backlog:
    """Store calls for the live session: failures are remembered and retried, not raised away."""

    def __init__(self, store: AsyncStore, clock: Callable[[], float]) -> None:
        self.store, self.clock = store, clock
        self.unsaved: list[tuple[Workout, int | None]] = []  # ended workouts the store did not take yet
        self.unclosed: list[int] = []  # journal sessions to close once the store takes writes again
        self.retry_at = 0.0  # after a failed write: not before this
        self._failing = False  # an outage was logged and not yet its end

    def __bool__(self) -> bool:
        return bool(self.unsaved or self.unclosed)

    async def call(self, fn: Callable[[Store], Any]) -> Any:
        """One store call; a StoreError is logged once per outage, sets ``retry_at`` and is raised."""
        try:
            result = await self.store.call(fn)
        except StoreError as exc:
            self.retry_at = self.clock() + FLUSH_S
            if not self._failing:
                self._failing = True
                log.warning("journal: %s; keeping the live session in memory and retrying every %g s", exc, FLUSH_S)
            raise
        if self._failing:
            self._failing = False
            log.info("journal: the store takes writes again")
        self.retry_at = 0.0
        return result

    async def drain(self, save: Save, on_saved: Callable[[Result], None]) -> None:
        """Close the waiting journal sessions, then save the waiting workouts, oldest first."""
        while self.unclosed:
            session = self.unclosed[0]
            await self.call(lambda s: s.journal_close(session, time.time()))
            self.unclosed.pop(0)
        while self.unsaved:
            workout, session = self.unsaved[0]
            saved = await self.call(lambda s: save(s, workout, session, time.time()))
            self.unsaved.pop(0)
            on_saved(saved)
