"""The intervals.icu supervisor: every ``poll``, list recent activities, import each new original.

Each new activity's original file is handed to ``ingest`` exactly as a file from a folder would be (same
importer, same duplicate rules: the ride also copied from the watch stays one workout), newest first. The
first poll looks back ``notify.max_age``; later ones from the last good poll (minus ``max_age``), so a
daemon that was down catches up. Handled activity ids are kept in the store, so a restart downloads
nothing twice. Faults (see ``intervals.backoff``): a refused key is one ERROR line, then silence until the
key changes or an hour passes; 429/5xx back off honouring Retry-After; no network is one INFO line per
change of state. Nothing here ever logs the key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from cooldownd.errors import ConfigError
from cooldownd.sources import intervals as icu
from cooldownd.sources.catalog import StatusSink, note_delivery
from cooldownd.store import Store

log = logging.getLogger(__name__)

NAME = "intervals.icu"
STATE_KEY = "sources.intervals.state"
MAX_SEEN = 2000
MAX_CATCH_UP_S = 14 * 86400  # a daemon down for months catches up two weeks; `import --from intervals` does more

Ingest = Callable[[str, Sequence[tuple[str, Callable[[], bytes]]]], Awaitable[list[dict[str, Any]]]]


class IntervalsPoller:
    """Polls intervals.icu until cancelled (a daemon supervisor); ``cycle`` is one poll."""

    def __init__(self, settings: Any, *, max_age: float, config_path: Path | None, store: Any, ingest: Ingest,
                 status: StatusSink, transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings, self.max_age, self.config_path = settings, max_age, config_path
        self.store, self.ingest, self.status = store, ingest, status
        self.transport, self.clock = transport, clock
        self.failures = 0
        self.state_line: str | None = None  # the fault last logged; None while all is well
        self.refused: tuple[str, float] | None = None  # (key, when) the server refused

    async def run(self) -> None:
        """Poll until cancelled; a key that cannot be read is one line, then wait for a reload."""
        try:
            key = icu.read_key(self.settings, self.config_path)
        except ConfigError as exc:
            log.error("%s; intervals.icu is not polled until the configuration is reloaded", exc)
            self.status.source(NAME, state="no usable API key")
            await asyncio.Event().wait()
        while True:
            key = await self._poll_with(key)

    async def _poll_with(self, key: str) -> str:
        """Poll with one key until the key (file) changes; return the new key."""
        async with icu.IntervalsClient(self.settings, key, transport=self.transport) as client:
            while True:
                await asyncio.sleep(await self.cycle(client, key))
                try:
                    fresh = icu.read_key(self.settings, self.config_path)
                except ConfigError as exc:
                    log.debug("%s; keeping the key read before", exc)
                    fresh = key
                if fresh != key:
                    log.info("intervals.icu: the API key changed; trying it")
                    self.refused = None
                    return fresh

    async def cycle(self, client: icu.IntervalsClient, key: str) -> float:
        """One poll: list, download and import what is new. Returns the seconds until the next poll."""
        poll = self.settings.poll
        if self.refused is not None and self.refused[0] == key and self.clock() - self.refused[1] < icu.AUTH_RETRY_S:
            return poll  # the same key was refused less than an hour ago: do not ask again yet
        try:
            await self._fetch_new(client)
        except icu.IntervalsError as exc:
            return self._failed(exc, key)
        if self.state_line is not None:
            log.info("intervals.icu: working again")
        self.failures, self.state_line, self.refused = 0, None, None
        self.status.source(NAME, state="ok", last_poll=self.clock())
        return poll

    def _failed(self, exc: icu.IntervalsError, key: str) -> float:
        self.failures += 1
        delay = icu.backoff(exc.fault, self.failures, self.settings.poll, exc.retry_after)
        line = str(exc)
        if exc.fault is icu.Fault.AUTH:
            self.refused = (key, self.clock())
        if line != self.state_line:  # once per change, not once per poll
            level = logging.ERROR if exc.fault is icu.Fault.AUTH else \
                logging.INFO if exc.fault is icu.Fault.NETWORK else logging.WARNING
            log.log(level, "%s; next try in %.0f s", icu.redact(line, key), delay)
            self.state_line = line
        else:
            log.debug("%s; next try in %.0f s", icu.redact(line, key), delay)
        self.status.source(NAME, state=exc.fault.value)
        return delay

    async def _fetch_new(self, client: icu.IntervalsClient) -> int:
        now = self.clock()
        state = await self.store.call(_load, STATE_KEY)
        oldest = max(min(now, state.get("last_ok") or now), now - MAX_CATCH_UP_S) - self.max_age
        newest = dt.date.fromtimestamp(now) + dt.timedelta(days=1)
        seen: dict[str, float] = state.get("seen", {})
        listed = await client.activities(dt.date.fromtimestamp(oldest), newest)
        new = [a for a in listed if a.id not in seen and (a.start_ts() or now) + a.duration_s >= oldest]
        new.sort(key=lambda a: a.start_ts() or 0, reverse=True)  # the newest first: it is the one offered
        delivered = 0
        for activity in new:
            delivered += await self._take(client, activity)
            seen[activity.id] = now
            await self.store.call(_save, STATE_KEY, dict(state, seen=_bounded(seen)))
        await self.store.call(_save, STATE_KEY, dict(state, seen=_bounded(seen), last_ok=now))
        return delivered

    async def _take(self, client: icu.IntervalsClient, activity: icu.Activity) -> int:
        """Download and import one activity; the number of workouts it delivered."""
        why = activity.why_no_file()
        data = None if why else await client.original(activity.id)
        if data is None:
            log.info("intervals.icu: %s: no original file (%s); skipped", activity.label(),
                     why or "none uploaded, e.g. entered by hand")
            return 0
        results = await self.ingest(NAME, [(f"intervals.icu/{activity.id}", lambda: data)])
        for r in results:
            if r.get("status") in ("error", "skipped"):
                log.warning("intervals.icu: %s: %s", activity.label(), r.get("error"))
        imported = sum(1 for r in results if r.get("status") == "imported")
        if imported:
            await note_delivery(self.store, self.status, NAME, self.clock())
        return imported


def _bounded(seen: dict[str, float]) -> dict[str, float]:
    return dict(sorted(seen.items(), key=lambda kv: kv[1])[-MAX_SEEN:])


def _load(store: Store, key: str) -> dict[str, Any]:
    try:
        value = json.loads(store.get_kv(key) or "{}")
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def _save(store: Store, key: str, value: dict[str, Any]) -> None:
    store.set_kv(key, json.dumps(value))


async def run_intervals(settings: Any, config_path: Path | None, library: Any, *, store: Any, status: StatusSink,
                        offers: asyncio.Queue[Any], on_workout: Any) -> None:
    """The daemon's ``intervals`` supervisor (nothing when no key is configured)."""
    from cooldownd.sources.ingest import Ingest as Importer

    icu_settings = settings.sources.intervals
    if not icu_settings.configured():
        return
    for line in icu.key_warnings(icu_settings, config_path):
        log.warning("%s", line)
    async with Importer(store.store.path, settings, library, offers, on_workout) as ingest:
        await IntervalsPoller(icu_settings, max_age=settings.notify.max_age, config_path=config_path, store=store,
                              ingest=ingest, status=status).run()
