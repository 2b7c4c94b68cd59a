"""The daemon's one way in for workout files: the watched folders and every source (sources/) use it.

Imports run on a thread of their own with their own database connection: decoding a large (or
hostile) file takes seconds, and the live journal's batches must not wait behind it. SQLite (WAL)
serialises the two connections' short write transactions. Decoding and assessing happen in a
child process that lingers a minute after the last file (daemon/importworker.py), so nothing a file
leaves behind stays in the daemon; this thread settles the results in the store. Every input goes through the importer
(imports/importer.py) and so through the one recorder (record/): a ride downloaded from intervals.icu
and the same ride copied from the watch are one workout.

``await ingest(items, source=...)`` imports each ``(name, loader)``, logs one line per imported
workout, tells the status sink, wakes the offer loop and, when ``source`` is given, remembers in the
store (``deliveries``) and shows in the status when that source last delivered a new workout. Failed
inputs come back to the caller, which words them (a device unplugged mid-read is not an error).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cooldownd.daemon import memory
from cooldownd.daemon.importworker import ImportWorker
from cooldownd.record.summary import Result
from cooldownd.asyncstore import AsyncStore
from cooldownd.store import Store

if TYPE_CHECKING:
    from cooldownd.imports.inputs import Loader
    from cooldownd.ports import Store as StorePort, StatusSink
    from cooldownd.record.asof import Change
    from cooldownd.record.recorder import Rules

log = logging.getLogger(__name__)

DELIVERED_KEY = "sources.delivered"


def _import(store: Store, items: Iterable[tuple[str, Loader]], rules: Rules, worker: ImportWorker) -> list[Result]:
    """On the import thread: import ``items`` (each in its own error boundary), decoded in ``worker``'s process."""

    def said(changes: list[Change]) -> None:
        log_reassessed(changes, "older workouts imported now came before it")

    return worker.run(items, store, rules, said)


def log_reassessed(changes: Iterable[Change], why: str) -> None:
    """The daemon's line for each stored workout whose numbers changed (``import`` prints the same words)."""
    from cooldownd.core.wording import reassessed_line

    for c in changes:
        log.info("%s (%s)", reassessed_line(c.id, c.before, c.after), why)


class Ingest:
    """``async with Ingest(...) as ingest: await ingest(items, source=...)``."""

    def __init__(self, store_path: Path, rules: Callable[[], Rules], status: StatusSink,
                 offers: asyncio.Queue[int | None]) -> None:
        self.store_path, self.rules, self.status, self.offers = store_path, rules, status, offers
        self._store: AsyncStore | None = None
        self._worker = ImportWorker()

    @property
    def worker(self) -> ImportWorker:
        """The decoding process imports (and the folders' completeness checks) go through."""
        return self._worker

    @property
    def store(self) -> AsyncStore:
        """The import thread's store (sources keep their small state there too)."""
        assert self._store is not None, "use Ingest as an async context manager"
        return self._store

    async def __aenter__(self) -> Ingest:
        self._store = AsyncStore(await asyncio.to_thread(Store.open, self.store_path))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self._worker.stop)
        if self._store is not None:
            await asyncio.to_thread(self._store.close)
            self._store = None

    async def __call__(self, items: Iterable[tuple[str, Loader]], *, source: str | None = None,
                       label: str | None = None) -> list[Result]:
        """Import ``items``; ``source`` (and its ``label``) delivered when a new workout came of them."""
        results = await self.store.call(_import, items, self.rules(), self._worker)
        memory.release()  # the decoded file's buffers
        fresh = [r.summary for r in results if r.status == "imported" and r.summary is not None]
        for r in results:
            if r.status == "imported" and r.summary is not None:
                log.info("%s: imported: %s", r.file, r.summary.headline)
        for summary in fresh:
            self.status.note_workout(summary)
        if fresh:
            if source is not None:  # said before the offer, so a status read at the offer shows it
                await self.delivered(source, label)
            self.offers.put_nowait(None)
        return results

    async def delivered(self, source: str, label: str | None = None) -> None:
        """``source`` delivered a new workout now: remember it (store) and show it (status)."""
        when = time.time()
        await self.store.call(record_delivery, source, when)
        self.status.source(source, last_delivered=when, **({"label": label} if label else {}))


# -- small state kept in the store: deliveries, and the sources' own (what they have read) ----------
def load_state(store: StorePort, key: str) -> dict[str, Any]:
    """The JSON object kept under ``key`` ({} when there is none or it is unreadable)."""
    try:
        value = json.loads(store.get_kv(key) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def save_state(store: StorePort, key: str, value: dict[str, Any]) -> None:
    """Keep ``value`` (a JSON object) under ``key``."""
    store.set_kv(key, json.dumps(value))


def load_deliveries(store: StorePort) -> dict[str, float]:
    """When each source last delivered a new workout (survives restarts; read by ``cooldownd sources``)."""
    return {k: float(v) for k, v in load_state(store, DELIVERED_KEY).items() if isinstance(v, int | float)}


def record_delivery(store: StorePort, source: str, when: float) -> None:
    """Remember that ``source`` delivered a new workout at ``when``."""
    data = load_deliveries(store)
    data[source] = max(when, data.get(source, 0.0))
    save_state(store, DELIVERED_KEY, data)
