"""``cooldownd report [--out FILE] [--open] [--since DATE]``: write the HTML report (and open it).

Reads the store read-only (safe while the daemon runs). The page is one file: inline CSS and SVG,
no script, nothing fetched, so it renders offline and can be mailed or archived as it is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

from cooldownd import settings as cfg
from cooldownd.errors import CooldownError
from cooldownd.report import model, page, units as locale_units
from cooldownd.daemon.instance import open_for_reading
from cooldownd.store import Store

log = logging.getLogger(__name__)
DEFAULT_WEEKS = 12
ALL = 2**62  # every workout not superseded (SQLite LIMIT)


def default_out() -> Path:
    """``$XDG_DATA_HOME/cooldownd/report.html``."""
    return cfg.data_dir() / "report.html"


def build(store: Store | None, since: dt.date | None, now: float, max_age_s: float) -> page.Page:
    """Everything the page shows, from the store (None: no database yet, an empty report)."""
    tz = dt.datetime.now().astimezone().tzinfo
    today = dt.datetime.fromtimestamp(now, tz).date()
    units = locale_units.from_env()
    first = since or model.week_start(today - dt.timedelta(weeks=DEFAULT_WEEKS - 1), units.sunday_first)
    rows = store.workouts(limit=ALL) if store is not None else []  # the streak may reach back past the range
    every = [model.entry(r, now, max_age_s, tz) for r in rows]
    shown = [e for e in every if first <= e.day <= today]
    recent = sorted(shown, key=lambda e: e.start, reverse=True)
    series = {}
    for e in recent:
        got = store.get_series(e.id) if store is not None else None
        if got is not None:
            series[e.id] = got
        if len(series) >= page.RECENT:
            break
    week_one = max(first, model.week_start(today - dt.timedelta(weeks=page.MAX_WEEKS - 1), units.sunday_first))
    return page.Page(entries=shown, weeks=model.weeks(shown, week_one, today, units.sunday_first), series=series,
                     first=first, last=today, today=today, streak=model.streaks(every),
                     generated=dt.datetime.fromtimestamp(now, tz).strftime("%Y-%m-%d %H:%M"), units=units)


def _older(store: Store | None, shown: page.Page) -> str:
    """Where the workouts are when the page shows none of them: "; no workouts since ..., 5 before: --since ..."."""
    if shown.entries or store is None:
        return ""
    rows = store.workouts(limit=ALL)
    if not rows:
        return ""
    oldest = dt.datetime.fromtimestamp(min(r.start for r in rows)).date()
    return (f"; no workouts since {shown.first.isoformat()}, {len(rows)} before: "
            f"cooldownd report --since {oldest.isoformat()} shows them")


def write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all; private (health data), folder created 0700."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise CooldownError(f"{path}: cannot write the report: {exc.strerror}; choose another file with --out") from exc


def open_in_browser(path: Path) -> None:
    """Hand the file to the desktop's default browser (xdg-open), without waiting for it."""
    opener = shutil.which("xdg-open")
    if opener is None:
        raise CooldownError(f"{path}: written, but xdg-open is not installed to open it; open the file yourself")
    subprocess.Popen([opener, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)


def cmd_report(args: argparse.Namespace) -> int:
    """Write the report; print where (and how much); open it with ``--open``."""
    settings = cfg.load(args.config)[0]
    t0 = time.monotonic()
    store = open_for_reading(settings)
    try:
        shown = build(store, args.since, time.time(), settings.notify.max_age)
        text = page.render(shown)
        hint = _older(store, shown)
    finally:
        if store is not None:
            store.close()
    out = Path(args.out).expanduser() if args.out else default_out()
    write(out, text)
    print(f"wrote {out} ({len(text.encode()) / 1024:.0f} KB in {time.monotonic() - t0:.2f} s){hint}")
    if args.open:
        open_in_browser(out)
    return 0
