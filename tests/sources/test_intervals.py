"""intervals.icu: the client and poller against a fake server on 127.0.0.1 that follows the documented API.

Real HTTP (httpx to http.server), a real SQLite store, the real importer; faults are the server's own
answers (401, 403, 429 with Retry-After, 500, a slow answer, an activity without a file).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest

import fitgen
from fake_intervals import FakeIntervals
from cooldownd import settings as cfg
from cooldownd.errors import ConfigError
from cooldownd.imports.importer import import_paths
from cooldownd.routinefile import load_library
from cooldownd.sources import intervals as icu
from cooldownd.daemon.ingest import Ingest
from cooldownd.record.recorder import Rules
from cooldownd.sources.poller import IntervalsPoller
from cooldownd.store import Store
from memory_parts import MemoryStatus

KEY = "k3y-th4t-must-n3ver-leak"


def _settings(fake: FakeIntervals, **icu_kw: Any) -> cfg.Settings:
    icu_kw = {"api_key": KEY, "base_url": fake.url, "poll": 2, "timeout": 2, **icu_kw}
    return cfg.Settings(sources={"intervals": icu_kw}, notify={"max_age": "6h"})


def _rules(settings: cfg.Settings) -> Rules:
    return Rules(settings.athlete_profile(), settings.intensity_knobs(), load_library(None), dt.date.today().year)


async def _poll(settings: cfg.Settings, db: Path, cycles: int = 1, key: str = KEY,
                poller: IntervalsPoller | None = None) -> tuple[list[float], IntervalsPoller]:
    """``cycles`` polls through the daemon's own import path (Ingest: importer, recorder, status, offers)."""
    offers: asyncio.Queue[int | None] = asyncio.Queue()
    delays = []
    status = MemoryStatus()
    async with Ingest(db, lambda: _rules(settings), status, offers) as ingest:
        poller = poller or IntervalsPoller(settings.sources.intervals, max_age=settings.notify.max_age,
                                           config_path=None, ingest=ingest, status=status, rand=lambda: 0.0)
        poller.ingest, poller.status = ingest, status
        async with icu.IntervalsClient(settings.sources.intervals, key) as client:
            for _ in range(cycles):
                delays.append(await poller.cycle(client, key))
    return delays, poller


def _workouts(db: Path) -> list:
    store = Store.open(db)
    try:
        return store.workouts(limit=100)
    finally:
        store.close()


def _ago(hours: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)


@pytest.mark.parametrize("gzip_mode", ["body", "encoding"])
def test_new_activities_imported_once_stub_and_fileless_skipped(tmp_path: Path, gzip_mode: str, caplog) -> None:
    caplog.set_level(logging.INFO)
    with FakeIntervals(key=KEY, gzip_mode=gzip_mode) as fake:
        ride = fake.add(fitgen.ride(start=time.time() - 3600, minutes=50), start=_ago(1), minutes=50)
        fake.add(None, start=_ago(2), strava=True)
        manual = fake.add(None, start=_ago(3), type="WeightTraining")
        delays, _ = asyncio.run(_poll(_settings(fake), tmp_path / "db.sqlite", cycles=2))
        assert delays == [2, 2]
        assert fake.paths("/file") == [f"/api/v1/activity/{ride}/file", f"/api/v1/activity/{manual}/file"], \
            "each file asked for once; the Strava stub never"
        assert all(r["auth_ok"] for r in fake.requests)
        listing = [r for r in fake.requests if r["path"].endswith("/activities")][0]
        assert listing["path"] == "/api/v1/athlete/0/activities" and "oldest=" in listing["query"]
    rows = _workouts(tmp_path / "db.sqlite")
    assert len(rows) == 1 and rows[0].summary.sport == "cycling"
    skipped = [r.getMessage() for r in caplog.records if "no original file" in r.getMessage()]
    assert len(skipped) == 2, skipped
    assert KEY not in caplog.text


def test_first_poll_looks_back_only_max_age(tmp_path: Path) -> None:
    with FakeIntervals(key=KEY) as fake:
        fake.add(fitgen.ride(start=time.time() - 11 * 3600, minutes=60), start=_ago(11), minutes=60)
        fresh = fake.add(fitgen.ride(start=time.time() - 2 * 3600, minutes=60), start=_ago(2), minutes=60)
        asyncio.run(_poll(_settings(fake), tmp_path / "db.sqlite"))
        assert fake.paths("/file") == [f"/api/v1/activity/{fresh}/file"]


def test_same_ride_from_the_watch_and_intervals_is_one_workout(tmp_path: Path) -> None:
    fit = fitgen.ride(start=time.time() - 3600, minutes=45)
    (tmp_path / "watch").mkdir()
    (tmp_path / "watch" / "ride.fit").write_bytes(fit)
    db = tmp_path / "db.sqlite"
    store = Store.open(db)
    settings = cfg.Settings()
    try:
        first = list(import_paths([tmp_path / "watch"], store=store, athlete=settings.athlete_profile(),
                                  knobs=settings.intensity_knobs(), library=load_library(None)))
    finally:
        store.close()
    assert [r.status for r in first] == ["imported"]
    with FakeIntervals(key=KEY) as fake:
        fake.add(fit, start=_ago(1), minutes=45)
        asyncio.run(_poll(_settings(fake), db))
    assert len(_workouts(db)) == 1


def test_a_poorer_recording_from_intervals_and_the_bike_computers_file_are_one_session(tmp_path: Path) -> None:
    """Not the same bytes: the watch's HR-only recording arrives through intervals.icu first, then the bike
    computer's file (power) lands in a watched folder. The one recorder keeps one workout, the richer one;
    the poorer is marked superseded (never deleted) and carries its delivery and offer state over."""
    from cooldownd.imports.inputs import inputs

    t0 = time.time() - 3600
    watch_copy = fitgen.ride(start=t0 + 20, minutes=45, power=None, serial=222, manufacturer=1)
    bike_copy = fitgen.ride(start=t0, minutes=45, serial=111, manufacturer=32)
    db = tmp_path / "db.sqlite"
    with FakeIntervals(key=KEY) as fake:
        fake.add(watch_copy, start=_ago(1), minutes=45)
        asyncio.run(_poll(_settings(fake), db))
    assert [r.source for r in _workouts(db)] == ["fit"]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bike.fit").write_bytes(bike_copy)
    settings = cfg.Settings()

    async def from_folder() -> list:
        async with Ingest(db, lambda: _rules(settings), MemoryStatus(), asyncio.Queue()) as ingest:
            return await ingest(inputs([tmp_path / "in" / "bike.fit"]), source=str(tmp_path / "in"))

    assert [r.status for r in asyncio.run(from_folder())] == ["imported"]
    shown = _workouts(db)
    assert len(shown) == 1 and shown[0].summary.np is not None, "the copy with power is the one shown"
    store = Store.open(db)
    try:
        every = store.workouts(limit=10, superseded=True)
    finally:
        store.close()
    assert len(every) == 2 and [w.superseded_by for w in every if w.id != shown[0].id] == [shown[0].id]


def test_wrong_key_is_one_line_and_no_retry_storm(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with FakeIntervals(key="the-right-key") as fake:
        delays, poller = asyncio.run(_poll(_settings(fake), tmp_path / "db.sqlite", cycles=5))
        assert len(fake.requests) == 1 and fake.requests[0]["auth_ok"] is False
        assert delays[0] >= icu.AUTH_RETRY_S
        errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(errors) == 1 and "API key was refused" in errors[0].getMessage() and "401" in errors[0].getMessage()
        # a changed key is tried at once
        fake.key = "new-key"
        asyncio.run(_poll(_settings(fake, api_key="new-key"), tmp_path / "db.sqlite", key="new-key", poller=poller))
        assert fake.requests[-1]["auth_ok"] is True
    assert KEY not in caplog.text


def test_forbidden_is_the_same_clear_line(tmp_path: Path, caplog) -> None:
    with FakeIntervals(key=KEY) as fake:
        fake.forbidden = True
        asyncio.run(_poll(_settings(fake), tmp_path / "db.sqlite", cycles=3))
        assert len(fake.requests) == 1
    assert "HTTP 403" in caplog.text and "API key was refused" in caplog.text


def test_429_honours_retry_after_and_500_backs_off(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    with FakeIntervals(key=KEY) as fake:
        fake.script("/activities", status=429, headers={"Retry-After": "40"})
        fake.script("/activities", status=500, times=2)
        delays, _ = asyncio.run(_poll(_settings(fake), tmp_path / "db.sqlite", cycles=4))
    assert delays[0] == 40, "Retry-After wins over a shorter backoff"
    assert delays[1:3] == [4, 8], "5xx: doubling from poll (2 s)"
    assert delays[3] == 2, "back to the regular poll once it works"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2, warnings  # 429, then 500 (the second 500 is the same line: debug)
    assert "working again" in caplog.text


def test_slow_answer_times_out_and_no_network_is_quiet(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    with FakeIntervals(key=KEY) as fake:
        fake.script("/activities", delay=1.5, times=2)
        t0 = time.monotonic()
        delays, _ = asyncio.run(_poll(_settings(fake, timeout=0.5), tmp_path / "db.sqlite", cycles=3))
        elapsed = time.monotonic() - t0
    assert delays == [2, 2, 2] and elapsed < 5
    lines = [r.getMessage() for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(lines) == 1 and "timed out" in lines[0], "logged once per change, not per poll"
    assert sum("working again" in r.getMessage() for r in caplog.records) == 1


def test_unreachable_server_is_one_line(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    with FakeIntervals(key=KEY) as fake:
        settings = _settings(fake)
    delays, _ = asyncio.run(_poll(settings, tmp_path / "db.sqlite", cycles=3))  # the server is gone
    assert delays == [2, 2, 2]
    assert sum("cannot be reached" in r.getMessage() for r in caplog.records) == 1


def test_key_file_credentials_directory_and_exposure_warning(tmp_path: Path, monkeypatch) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "intervals").write_text(KEY + "\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    s = cfg.Settings(sources={"intervals": {"api_key_file": "intervals"}}).sources.intervals
    assert s.configured() and icu.read_key(s, None) == KEY
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    conf = tmp_path / "config.toml"
    conf.write_text(f'[sources.intervals]\napi_key = "{KEY}"\n')
    conf.chmod(0o644)
    settings, _ = cfg.load(conf)
    warnings = icu.exposure_warnings(settings.sources.intervals, conf, key_in_file=True)
    assert len(warnings) == 1 and "chmod 600" in warnings[0] and KEY not in warnings[0]
    from conftest import run_cli

    check = run_cli("--config", str(conf), "config", "check")
    assert check.returncode == 0 and "others can read it" in check.stderr and KEY not in check.stderr
    conf.chmod(0o600)
    assert icu.exposure_warnings(settings.sources.intervals, conf, key_in_file=True) == []
    (tmp_path / "empty").write_text("")
    with pytest.raises(ConfigError, match="empty") as err:
        icu.read_key(cfg.Settings(sources={"intervals": {"api_key_file": str(tmp_path / "empty")}})
                     .sources.intervals, None)
    assert KEY not in str(err.value)


def test_backoff_policy_table() -> None:
    F = icu.Fault
    cases = [(F.AUTH, 1, 300, None, 3600), (F.NETWORK, 5, 300, None, 300), (F.BUSY, 1, 300, None, 300),
             (F.BUSY, 3, 300, None, 1200), (F.BUSY, 10, 300, None, 3600), (F.BUSY, 1, 300, 900, 900),
             (F.PROTOCOL, 2, 60, None, 120)]
    for fault, n, poll, retry, want in cases:
        assert icu.backoff(fault, n, poll, retry) == want, (fault, n)
    # the house backoff's jitter shortens 5xx waits by up to a quarter, never below Retry-After
    assert icu.backoff(F.BUSY, 3, 300, None, rand=1.0) == 900
    assert icu.backoff(F.BUSY, 3, 300, 1100, rand=1.0) == 1100
    assert icu.retry_after_s("120") == 120
    assert 50 < icu.retry_after_s(_http_date(time.time() + 60)) <= 60
    assert icu.retry_after_s("soon") is None


def _http_date(t: float) -> str:
    import email.utils

    return email.utils.formatdate(t, usegmt=True)


def test_config_show_masks_the_key(tmp_path: Path) -> None:
    from conftest import run_cli

    shown = run_cli("config", "show", env={"COOLDOWND_SOURCES__INTERVALS__API_KEY": KEY})
    assert shown.returncode == 0 and KEY not in shown.stdout
    assert "# api_key = (set, hidden)" in shown.stdout
    assert os.environ.get("COOLDOWND_SOURCES__INTERVALS__API_KEY") is None


def test_import_from_intervals_backfills_since_a_date(tmp_path: Path) -> None:
    import json

    from conftest import run_cli

    with FakeIntervals(key=KEY) as fake:
        old = fake.add(fitgen.ride(start=time.time() - 5 * 86400, minutes=40), start=_ago(5 * 24), minutes=40)
        fake.add(None, start=_ago(4 * 24), strava=True)
        fake.add(fitgen.ride(start=time.time() - 30 * 86400, minutes=40), start=_ago(30 * 24), minutes=40)
        since = (dt.date.today() - dt.timedelta(days=7)).isoformat()
        env = {"COOLDOWND_SOURCES__INTERVALS__API_KEY": KEY, "COOLDOWND_SOURCES__INTERVALS__BASE_URL": fake.url}
        out = run_cli("import", "--from", "intervals", "--since", since, "--json", "--no-notify", env=env)
        assert out.returncode == 0, out.stderr
        rows = [json.loads(x) for x in out.stdout.splitlines()]
        assert [(r["file"], r["status"]) for r in rows][0] == (f"intervals.icu/{old}", "imported")
        assert [r["status"] for r in rows] == ["imported", "skipped"] and "no original file" in rows[1]["error"]
        assert "2 activities from intervals.icu since" in out.stderr and KEY not in out.stderr + out.stdout
        bad = run_cli("import", "--from", "intervals", "--since", since, env=dict(env, **{
            "COOLDOWND_SOURCES__INTERVALS__API_KEY": "wrong"}))
        assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1
        assert "API key was refused" in bad.stderr
