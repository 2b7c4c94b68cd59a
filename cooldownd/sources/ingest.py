"""How a source hands workouts in: the same importer as a watched folder, on an import thread of its own.

``Ingest(source, [(name, loader)])`` imports each input (a loader returns the file's bytes, read on the
import thread), logs one line per imported workout, tells ``on_workout`` (the status line) and wakes the
offer loop; failed inputs come back to the caller, which words them (a device unplugged mid-read is not
an error). Like the folder supervisor, imports run on their own database connection so a long decode
never delays the live journal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from cooldownd.store import AsyncStore, Store

log = logging.getLogger(__name__)

Loader = Callable[[], bytes]
OnWorkout = Callable[[dict[str, Any], float], None]


def _import(store: Store, items: Sequence[tuple[str, Loader]], settings: Any, library: Any) -> list[dict[str, Any]]:
    from cooldownd.imports.importer import import_inputs

    return list(import_inputs(items, store=store, athlete=settings.athlete_profile(),
                              knobs=settings.intensity_knobs(), library=library, this_year=dt.date.today().year))


class Ingest:
    """The import path for sources; ``async with Ingest(...) as ingest: await ingest(source, items)``."""

    def __init__(self, db_path: Any, settings: Any, library: Any, offers: asyncio.Queue[Any],
                 on_workout: OnWorkout) -> None:
        self.db_path, self.settings, self.library = db_path, settings, library
        self.offers, self.on_workout = offers, on_workout
        self.store: AsyncStore | None = None

    async def __aenter__(self) -> Ingest:
        self.store = AsyncStore(await asyncio.to_thread(Store.open, self.db_path))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.store is not None:
            await asyncio.to_thread(self.store.close)

    async def __call__(self, source: str, items: Sequence[tuple[str, Loader]]) -> list[dict[str, Any]]:
        assert self.store is not None
        results = await self.store.call(_import, items, self.settings, self.library)
        fresh = [r for r in results if r.get("status") == "imported"]
        for r in fresh:
            log.info("%s: %s: imported %s, %s", source, r.get("file"), r.get("sport"), r.get("level"))
            end = dt.datetime.fromisoformat(r["end"].replace("Z", "+00:00")).timestamp()
            self.on_workout(r, end)
        if fresh:
            self.offers.put_nowait(None)
        return results
