"""`cooldownd report` on a store filled by importing generated workouts (and ../shared/fit when present).

The page must parse (strictly, as XML), fetch nothing, hold one chart per section with a mark per
workout and a bar per week, and its table must say what `history --json` says.
"""

from __future__ import annotations

import datetime as dt
import re
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import reportdata
from conftest import run_cli
from reportdata import COUNT, Filled, fill, filled  # noqa: F401 (the fixture)

from cooldownd.core.series import MMP_DURATIONS

OUTCOME = {"completed": "done", "stopped": "stopped", "snoozed_out": "snoozed", "skipped": "skipped",
           "missed": "missed", None: "none"}


def render(filled: Filled, out: Path, *args: str, env: dict[str, str] | None = None) -> ET.Element:
    if env:
        filled = Filled(filled.config, filled.db, filled.env | env, filled.results)
    result = filled.cli("report", "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out} (") and not result.stderr, (result.stdout, result.stderr)
    return ET.fromstring(out.read_text(encoding="utf-8"))  # strict: a stray tag or entity fails here


def charts(root: ET.Element, kind: str) -> list[ET.Element]:
    return root.findall(f".//svg[@data-chart='{kind}']")


def section(root: ET.Element, heading_id: str) -> ET.Element:
    found = [s for s in root.iter("section") if s.get("aria-labelledby") == heading_id]
    assert len(found) == 1
    return found[0]


def classes(e: ET.Element) -> set[str]:
    return set((e.get("class") or "").split())


def test_the_page_fetches_nothing_and_names_every_chart(filled: Filled, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    root = render(filled, out)
    text = out.read_text()
    assert not re.search(r"https?://", text), "an address in the page"
    for tag in ("script", "link", "img", "iframe", "object", "embed", "image", "use"):
        assert root.find(f".//{tag}") is None, tag
    assert "@import" not in text and "url(" not in text
    assert not [e for e in root.iter() if e.get("src") or e.get("href") or e.get("xlink:href")]
    csp = root.find(".//meta[@http-equiv='Content-Security-Policy']")
    assert csp is not None and "default-src 'none'" in csp.get("content")
    for svg in root.iter("svg"):  # every chart is an image with a name and a description
        assert svg.get("role") == "img"
        label, desc = svg.get("aria-labelledby").split()
        assert svg.find(f"title[@id='{label}']").text and len(svg.find(f"desc[@id='{desc}']").text) > 20
    assert "prefers-color-scheme:dark" in root.find(".//style").text


def test_calendar_has_a_mark_per_workout_sized_by_load_with_its_cooldown(filled: Filled, tmp_path: Path) -> None:
    root = render(filled, tmp_path / "r.html")
    history = {e["id"]: e for e in filled.history()}
    cal = charts(section(root, "h-cal"), "calendar")
    assert len(cal) == 1
    marks = cal[0].findall(".//g[@class='mark']")
    assert len(marks) == COUNT == len(history)
    for m in marks:
        wid = int(m.get("data-id"))
        assert m.get("data-outcome") == OUTCOME[filled.results[wid]]
        assert m.get("data-level") == history[wid]["level"]
        assert history[wid]["level"] in m.find("circle").get("class")
        tip = m.find("title").text  # the mark's tooltip and accessible name: the day, the workout, its cool-down
        assert f"load {round(history[wid]['load'])}: " in tip and tip.split(": ")[-1].split()[0] in (
            "cool-down", "offer", "not", "offered"), tip
    radius = {int(m.get("data-id")): float(m.find("circle").get("r")) for m in marks}
    by_load = sorted(history, key=lambda i: history[i]["load"])
    assert radius[by_load[0]] < radius[by_load[-1]]  # bigger load, bigger mark
    streak = section(root, "h-cal").find(".//p[@class='streak']")
    assert re.fullmatch(r"\d+ hard sessions? in a row followed by a cool-down \(best: \d+\)",
                        "".join(streak.itertext()))


def test_weekly_bars_add_up_to_the_loads_and_the_minutes_stretched(filled: Filled, tmp_path: Path) -> None:
    root = render(filled, tmp_path / "r.html")
    weeks = section(root, "h-weeks")
    load, stretch = charts(weeks, "load"), charts(weeks, "stretch")
    assert len(load) == len(stretch) == 1
    load_bars, stretch_bars = load[0].findall("g[@class='bar']"), stretch[0].findall("g[@class='bar']")
    assert len(load_bars) == len(stretch_bars) == 12  # the default: the last 12 weeks, one bar each
    firsts = [dt.date.fromisoformat(b.get("data-week")) for b in load_bars]
    assert all(b - a == dt.timedelta(weeks=1) for a, b in zip(firsts, firsts[1:]))
    total = sum(e["load"] for e in filled.history())
    assert sum(float(b.get("data-value")) for b in load_bars) == pytest.approx(total, abs=0.5)
    minutes = sum(8 if r == "completed" else 2 if r == "stopped" else 0 for r in filled.results.values())
    assert sum(float(b.get("data-value")) for b in stretch_bars) == pytest.approx(minutes, abs=0.5)


def test_recent_workouts_have_heart_rate_with_zones_and_power_curves(filled: Filled, tmp_path: Path) -> None:
    root = render(filled, tmp_path / "r.html")
    recent = section(root, "h-recent")
    kinds = [reportdata.KINDS[i % len(reportdata.KINDS)] for i in range(COUNT)][::-1]  # newest first
    drawn = [k for k in kinds if k[0] != "strength"][:5]  # strength files carry no heart rate or power
    hr = charts(recent, "hr")
    assert len(hr) == 5
    for svg in hr:
        zones = [r for r in svg.iter("rect") if "zone" in classes(r)]
        assert 1 <= len(zones) <= 5 and svg.find("path[@class='hr-line']").get("d").startswith("M")
    power = charts(recent, "power")
    with_power = [k for k in drawn if k[1] is reportdata.fitgen.ride]
    assert len(power) == len(with_power)
    for svg, (_, _, kw) in zip(power, with_power):
        points = svg.findall("g[@class='point']")
        assert len(points) == len([d for d in MMP_DURATIONS if d <= kw["minutes"] * 60])


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def test_the_table_says_what_history_json_says(filled: Filled, tmp_path: Path) -> None:
    root = render(filled, tmp_path / "r.html")
    history = {e["id"]: e for e in filled.history()}
    rows = section(root, "h-table").findall(".//tbody/tr")
    assert sorted(int(r.get("data-id")) for r in rows) == sorted(history)
    compared = 0
    for row in rows:
        entry = history[int(row.get("data-id"))]
        for td in row.findall("td"):
            key, src = td.get("data-key"), td.get("data-src")
            if src is None:
                continue
            want = entry.get(key) if src == "ours" else (entry.get("device") or {}).get(key)
            if want is None:
                assert td.get("data-value") is None and td.text == "–", (key, src, td.text)
                continue
            assert float(td.get("data-value")) == pytest.approx(float(want)), (key, src)
            if key not in ("duration_s", "distance_m"):
                digits = 2 if key == "if" else 0
                assert _number(td.text) == pytest.approx(round(float(want), digits)), (key, td.text)
            compared += 1
        assert row.find("td[@data-key='walkthrough']").get("data-value") == OUTCOME[filled.results[entry["id"]]]
    assert compared > COUNT * 8  # ours and the device's, for most of the workouts


def test_since_limits_the_page_to_the_days_from_then(filled: Filled, tmp_path: Path) -> None:
    since = dt.date.today() - dt.timedelta(days=14)
    root = render(filled, tmp_path / "r.html", "--since", since.isoformat())
    starts = [dt.datetime.fromisoformat(e["start"].replace("Z", "+00:00")).astimezone().date()
              for e in filled.history()]
    expected = sum(since <= d for d in starts)
    assert 0 < expected < COUNT
    assert len(charts(root, "calendar")[0].findall(".//g[@class='mark']")) == expected
    assert len(root.findall(".//tbody/tr")) == expected


@pytest.mark.parametrize("lang, unit, mark", [("en_US.UTF-8", " mi", "."), ("de_DE.UTF-8", " km", ","),
                                              ("C.UTF-8", " km", ".")])
def test_distances_and_decimals_follow_the_locale(filled: Filled, tmp_path: Path, lang: str, unit: str,
                                                  mark: str) -> None:
    root = render(filled, tmp_path / "r.html", env={"LANG": lang})
    cells = root.findall(".//tbody/tr/td[@data-key='distance_m']")
    shown = [(float(td.get("data-value")), td.text) for td in cells if td.get("data-value")]
    assert shown
    for metres, text in shown:
        assert text.endswith(unit)
        value = metres / (1609.344 if unit == " mi" else 1000)
        assert text == f"{value:.1f}".replace(".", mark) + unit
    ifs = [td.text for td in root.findall(".//tbody/tr/td[@data-key='if']") if td.get("data-value")]
    assert ifs and all(mark in t for t in ifs)


def test_default_place_is_private_and_no_database_is_made(home: Path) -> None:
    out = run_cli("report")
    assert out.returncode == 0, out.stderr
    page = home / ".local" / "share" / "cooldownd" / "report.html"
    assert out.stdout.startswith(f"wrote {page} (")
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert stat.S_IMODE(page.parent.stat().st_mode) == 0o700
    assert "No workouts in this period" in page.read_text()
    assert not (home / ".local" / "state" / "cooldownd").exists()  # read-only: nothing created


def test_a_bad_date_is_one_usage_line(home: Path) -> None:
    out = run_cli("report", "--since", "last tuesday")
    assert out.returncode == 2 and "is not a date like 2024-05-01" in out.stderr and "Traceback" not in out.stderr


def test_an_unwritable_out_file_is_one_line(home: Path) -> None:
    (home / "plain").write_text("a file, not a folder")  # refused even to root
    out = run_cli("report", "--out", str(home / "plain" / "r.html"))
    assert out.returncode == 1 and "cannot write the report" in out.stderr and len(out.stderr.splitlines()) == 1


def test_open_hands_the_page_to_xdg_open(home: Path) -> None:
    bin_dir = home / "bin"
    bin_dir.mkdir()
    seen = home / "opened.txt"
    opener = bin_dir / "xdg-open"
    opener.write_text(f"#!/bin/sh\necho \"$@\" > {seen}\n")
    opener.chmod(0o755)
    import os

    out = run_cli("report", "--open", "--out", str(home / "r.html"),
                  env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert out.returncode == 0, out.stderr
    deadline = __import__("time").monotonic() + 10
    while not seen.exists() and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.05)
    assert seen.read_text().strip() == str(home / "r.html")


def test_run_imports_no_report_or_status_bar_code() -> None:
    """The daemon's memory cannot grow from the report: `run` never imports it."""
    code = ("import sys, cooldownd.cli, cooldownd.daemon.app, cooldownd.live.session, cooldownd.desktop.offers; "
            "print([m for m in sys.modules if m.startswith(('cooldownd.report', 'cooldownd.cli.report', "
            "'cooldownd.cli.statusbar'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_shared_device_files_render_and_match_history(shared_fit: Path, tmp_path: Path) -> None:
    files = sorted(p for p in shared_fit.iterdir() if p.suffix in (".fit", ".gz", ".zip"))
    filled = fill(tmp_path, [(p.name, p.read_bytes()) for p in files], some_fail=True)
    history = {e["id"]: e for e in filled.history()}
    root = render(filled, tmp_path / "r.html", "--since", "1990-01-01")
    rows = root.findall(".//tbody/tr")
    assert len(rows) == len(history) > 50
    for row in rows:
        entry = history[int(row.get("data-id"))]
        for td in row.findall("td[@data-src='ours']"):
            want = entry.get(td.get("data-key"))
            assert (td.get("data-value") is None) if want is None else float(td.get("data-value")) == want
    recent = section(root, "h-recent")
    assert len(charts(recent, "hr")) + len(charts(recent, "power")) >= 5


def _snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Size and hash of every file but the WAL index (-shm), which readers write their read marks to."""
    import hashlib

    return {p.name: (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.iterdir()) if p.is_file() and not p.name.endswith("-shm")}


def test_history_report_and_status_only_read_the_store_a_daemon_holds(tmp_path: Path) -> None:
    from daemon_harness import DaemonProcess

    filled = fill(tmp_path, reportdata.workout_files(__import__("time").time(), 6, 2))
    config = filled.config.read_text() + '[ble]\nenabled = false\n[watch]\nfolders = []\nauto = false\n'
    (tmp_path / "d").mkdir()
    d = DaemonProcess(tmp_path / "d", config).start()
    try:
        d.wait_for_datagram("READY=1", timeout=30)
        __import__("time").sleep(1.0)  # the daemon's own status write after READY is coalesced (0.25 s)
        before = _snapshot(filled.db.parent)
        assert {filled.db.name, "daemon.lock", "status.json"} <= set(before)
        for args in (("history", "--json"), ("report", "--out", str(tmp_path / "r.html")), ("status", "--json")):
            out = filled.cli(*args)
            assert out.returncode == 0, (args, out.stderr)
        assert len(filled.history()) == 6
        assert _snapshot(filled.db.parent) == before  # not a byte written, nothing moved aside or created
    finally:
        assert d.stop() == 0


def test_a_corrupt_database_is_reported_not_moved_aside(home: Path) -> None:
    db = home / ".local" / "state" / "cooldownd" / "cooldownd.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database at all" * 100)
    for args in (("history", "--json"), ("report",)):
        out = run_cli(*args)
        assert out.returncode == 1 and len(out.stderr.splitlines()) == 1 and "corrupt" in out.stderr, out.stderr
    assert sorted(p.name for p in db.parent.iterdir()) == ["cooldownd.db"]


def test_a_page_without_the_older_workouts_says_how_to_see_them(tmp_path: Path) -> None:
    import fitgen

    ride = tmp_path / "old.fit"
    ride.write_bytes(fitgen.ride(start=dt.datetime(2021, 6, 20, 8, tzinfo=dt.UTC).timestamp(), minutes=30))
    assert run_cli("import", "--no-notify", str(ride)).returncode == 0
    out = run_cli("report", "--out", str(tmp_path / "r.html"))
    assert out.returncode == 0 and out.stdout.startswith(f"wrote {tmp_path / 'r.html'} ("), out
    assert out.stdout.rstrip().endswith(", 1 before: cooldownd report --since 2021-06-20 shows them"), out.stdout
    since = run_cli("report", "--out", str(tmp_path / "r.html"), "--since", "2021-06-20")
    assert "before" not in since.stdout and len(ET.parse(tmp_path / "r.html").findall(".//tbody/tr")) == 1
