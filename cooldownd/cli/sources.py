"""``cooldownd sources [--json]`` and ``cooldownd import --from intervals --since DATE``."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import sys
import time
from typing import Any

from cooldownd import settings as cfg
from cooldownd.errors import CooldownError
from cooldownd.record.summary import Result

log = logging.getLogger(__name__)


def cmd_sources(args: argparse.Namespace) -> int:
    """What is watched or polled, why, and when each source last delivered a workout."""
    from cooldownd.core.wording import ago
    from cooldownd.daemon.ingest import load_deliveries
    from cooldownd.sources.catalog import describe
    from cooldownd.daemon.instance import open_store

    settings = cfg.load(args.config)[0]
    store = open_store(settings)
    try:
        delivered = load_deliveries(store)
    finally:
        store.close()
    now = time.time()
    for entry in describe(settings, delivered):
        last = entry["last_delivered"]
        if args.json:
            print(json.dumps(dict(entry, last_delivered=_iso(last))))
            continue
        when = f"last delivered {ago(now - last)} ago" if last else "nothing delivered yet"
        print(f"{entry['name']}\n    {entry['why']}: {entry['label']}; {entry['how']}; {when}")
    return 0


def _iso(ts: float | None) -> str | None:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z") if ts else None


def cmd_import_intervals(args: argparse.Namespace) -> int:
    """Backfill from intervals.icu: every activity since ``--since`` through the importer; offer as ``import`` does."""
    from cooldownd.cli.commands import offer_after_import, summary, tally
    from cooldownd.routinefile import load_library
    from cooldownd.sources import intervals as icu
    from cooldownd.daemon.instance import open_store

    settings, path = cfg.load(args.config)
    icu_settings = settings.sources.intervals
    if not icu_settings.configured():
        raise CooldownError("intervals.icu: no API key; set [sources.intervals] api_key or api_key_file "
                            "(or COOLDOWND_SOURCES__INTERVALS__API_KEY)")
    key = icu.read_key(icu_settings, path if path.exists() else None)
    library = load_library(settings.routines.file)
    since = args.since or dt.date.fromtimestamp(time.time() - settings.notify.max_age)
    store = open_store(settings)
    try:
        counts, results = tally(asyncio.run(_backfill(icu_settings, key, since, store, settings, library)), args.json)
        print(f"{sum(counts.values())} activities from intervals.icu since {since}: {summary(counts)}",
              file=sys.stderr)
        if not args.no_notify:
            offer_after_import(store, lambda: settings, library, results)
    finally:
        store.close()
    return 1 if counts.get("error") else 0


async def _backfill(icu_settings: Any, key: str, since: dt.date, store: Any, settings: Any,
                    library: Any) -> list[Result]:
    from cooldownd.imports.importer import import_inputs
    from cooldownd.sources import intervals as icu

    out: list[Result] = []
    async with icu.IntervalsClient(icu_settings, key) as client:
        listed = await client.activities(since, dt.date.today() + dt.timedelta(days=1))
        for activity in sorted(listed, key=lambda a: a.start_ts() or 0):
            name = f"intervals.icu/{activity.id}"
            why = activity.why_no_file()
            data = None if why else await client.original(activity.id)
            if data is None:
                out.append(Result(name, None, "skipped", f"no original file ({why or 'none uploaded'})"))
                continue
            out += import_inputs([(name, lambda d=data: d)], store=store, athlete=settings.athlete_profile(),
                                 knobs=settings.intensity_knobs(), library=library, this_year=dt.date.today().year)
    return out
