"""The intervals.icu supervisor: every ``poll``, list recent activities, import each new original.

Each new activity's original file is handed to ``ingest`` (daemon/ingest.py) exactly as a file from a folder
would be (the same importer and recorder, so the ride also copied from the watch is one workout), newest
first. The
first poll looks back ``notify.max_age``; later ones from the last good poll (minus ``max_age``), so a
daemon that was down catches up. Handled activity ids are kept in the store, so a restart downloads
nothing twice. Faults (see ``intervals.backoff``): a refused key is one ERROR line, then silence until the
key changes or an hour passes; 429/5xx back off honouring Retry-After; no network is one INFO line per
change of state. Nothing here ever logs the key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cooldownd.daemon.ingest import Ingest, load_state, save_state
from cooldownd.errors import ConfigError
from cooldownd.ports import StatusSink
from cooldownd.record.recorder import Rules
from cooldownd.sources import intervals as icu

if TYPE_CHECKING:
    from cooldownd.settings import IntervalsSettings
    import httpx

log = logging.getLogger(__name__)

NAME = "intervals.icu"
STATE_KEY = "sources.intervals.state"
MAX_SEEN = 2000
MAX_CATCH_UP_S = 14 * 86400  # a daemon down for months catches up two weeks; `import --from intervals` does more


class IntervalsPoller:
    """Polls intervals.icu until cancelled (a daemon supervisor); ``cycle`` is one poll."""

    def __init__(self, settings: IntervalsSettings, *, max_age: float, config_path: Path | None, ingest: Ingest,
                 status: StatusSink, transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time, rand: Callable[[], float] = random.random) -> None:
        self.settings, self.max_age, self.config_path = settings, max_age, config_path
        self.ingest, self.status = ingest, status
        self.transport, self.clock, self.rand = transport, clock, rand
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
        delay = icu.backoff(exc.fault, self.failures, self.settings.poll, exc.retry_after, self.rand())
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
        store = self.ingest.store
        state = await store.call(load_state, STATE_KEY)
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
            await store.call(save_state, STATE_KEY, dict(state, seen=_bounded(seen)))
        await store.call(save_state, STATE_KEY, dict(state, seen=_bounded(seen), last_ok=now))
        return delivered

    async def _take(self, client: icu.IntervalsClient, activity: icu.Activity) -> int:
        """Download and import one activity; the number of workouts it delivered."""
        why = activity.why_no_file()
        data = None if why else await client.original(activity.id)
        if data is None:
            log.info("intervals.icu: %s: no original file (%s); skipped", activity.label(),
                     why or "none uploaded, e.g. entered by hand")
            return 0
        results = await self.ingest([(f"intervals.icu/{activity.id}", lambda: data)], source=NAME)
        for r in results:
            if r.status in ("error", "skipped"):
                log.warning("intervals.icu: %s: %s", activity.label(), r.error)
        return sum(1 for r in results if r.status == "imported")


def _bounded(seen: dict[str, float]) -> dict[str, float]:
    return dict(sorted(seen.items(), key=lambda kv: kv[1])[-MAX_SEEN:])


async def run_intervals(settings: IntervalsSettings, *, max_age: float, config_path: Path | None, store_path: Path,
                        rules: Callable[[], Rules], status: StatusSink, offers: asyncio.Queue[int | None]) -> None:
    """The daemon's ``intervals`` supervisor (nothing when no key is configured)."""
    if not settings.configured():
        return
    for line in icu.key_warnings(settings, config_path):
        log.warning("%s", line)
    async with Ingest(store_path, rules, status, offers) as ingest:
        await IntervalsPoller(settings, max_age=max_age, config_path=config_path, ingest=ingest, status=status).run()
