"""`cooldownd import` from the command line, as a user runs it: exit codes, JSON lines, the notify rule."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import fitgen
from conftest import run_cli

SHORT_ROUTINES = """
[exercises.cat]
title = "The cat"
text = "On hands and knees, arch then round your back."
hold = 5
[routines.any]
light = ["cat"]
moderate = ["cat"]
hard = ["cat"]
very_hard = ["cat"]
"""


def _config(tmp: Path, notify: str = "") -> Path:
    (tmp / "routines.toml").write_text(SHORT_ROUTINES)
    path = tmp / "config.toml"
    path.write_text(f"[routines]\nfile = \"{tmp / 'routines.toml'}\"\n"
                    f"[notify]\nbackend = \"console\"\ntransition = 0\n{notify}")
    return path


def test_json_lines_and_exit_codes(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    (tmp_path / "ride.fit").write_bytes(fitgen.ride(minutes=30))
    (tmp_path / "settings.fit").write_bytes(fitgen.settings_file())
    (tmp_path / "broken.fit").write_bytes(b".FIT but not really" * 3)
    result = run_cli("--config", str(cfg), "import", "--json", "--no-notify", str(tmp_path))
    assert result.returncode == 1, result.stderr  # one input failed
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    by_file = {Path(x["file"]).name: x for x in lines}
    assert by_file["ride.fit"]["status"] == "imported" and by_file["ride.fit"]["sport"] == "cycling"
    assert by_file["settings.fit"]["status"] == "skipped"
    assert by_file["broken.fit"]["status"] == "error" and "\n" not in by_file["broken.fit"]["error"]
    assert "Traceback" not in result.stderr
    assert "1 imported, 0 duplicate, 1 skipped, 1 error" in result.stderr
    again = run_cli("--config", str(cfg), "import", "--json", "--no-notify", str(tmp_path / "ride.fit"))
    assert again.returncode == 0
    assert json.loads(again.stdout)["status"] == "duplicate"


def test_human_lines_are_words_and_a_failed_file_again_says_why(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    (tmp_path / "ride.fit").write_bytes(fitgen.ride(minutes=30))
    (tmp_path / "broken.fit").write_bytes(b".FIT but not really" * 3)
    first = run_cli("--config", str(cfg), "import", "--no-notify", str(tmp_path / "ride.fit"))
    line = first.stdout.strip()
    assert first.returncode == 0 and line.startswith(f"imported  {tmp_path / 'ride.fit'}: 30 min ride, "), line
    assert not re.search(r"\((tss|hrss|device|duration)\)|\bcycling\b", line), line  # no internal ids
    assert "1 input in " in first.stderr, first.stderr
    failed = run_cli("--config", str(cfg), "import", "--no-notify", str(tmp_path / "broken.fit"))
    again = run_cli("--config", str(cfg), "import", "--no-notify", str(tmp_path / "broken.fit"))
    reason = failed.stdout.strip().split(": ", 1)[1]
    assert failed.returncode == 1 and again.stdout.startswith(f"duplicate {tmp_path / 'broken.fit'}: ")
    assert reason in again.stdout, (failed.stdout, again.stdout)  # not a bare "duplicate": why it failed


def test_missing_path_is_one_error_line(tmp_path: Path) -> None:
    result = run_cli("--config", str(_config(tmp_path)), "import", "--json", str(tmp_path / "nope.fit"))
    assert result.returncode == 1
    line = json.loads(result.stdout)
    assert line["status"] == "error" and "nope.fit" in line["file"]
    assert "Traceback" not in result.stderr


def test_bulk_import_of_old_rides_offers_nothing(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    folder = tmp_path / "old"
    folder.mkdir()
    now = time.time()
    for i in range(30):
        (folder / f"r{i}.fit").write_bytes(fitgen.ride(start=now - 86400 * (i + 1), minutes=10))
    result = run_cli("--config", str(cfg), "import", str(folder), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "== " not in result.stdout
    assert result.stdout.count("imported") == 30


def test_recent_rides_offer_only_the_newest_once(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    now = time.time()
    (tmp_path / "a.fit").write_bytes(fitgen.ride(start=now - 5 * 3600, minutes=20))
    (tmp_path / "b.fit").write_bytes(fitgen.run(start=now - 3600, minutes=20))
    first = run_cli("--config", str(cfg), "import", str(tmp_path / "a.fit"), str(tmp_path / "b.fit"), timeout=60)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("== Cool-down after") == 1
    history = [json.loads(x) for x in run_cli("--config", str(cfg), "history", "--json").stdout.splitlines()]
    assert [(h["sport"], h["walkthrough"]["result"]) for h in history] == [("running", "completed"),
                                                                         ("cycling", "superseded")]
    # every workout says why it got its level, in JSON and in the human lines
    assert all(h["reason"].startswith(h["level"].replace("_", " ") + ": load ") for h in history)
    lines = run_cli("--config", str(cfg), "history").stdout.splitlines()
    assert [h["reason"] in line for h, line in zip(history, lines)] == [True, True]
    assert [line.split()[2] for line in lines] == ["run", "ride"], lines  # sports in words, not FIT ids
    stretched = history[0]["walkthrough"]["stretched_s"]
    assert stretched >= 4 and f"walk-through: completed, {stretched:.0f} s stretched" in lines[0], lines
    # Importing again, or an older ride later, never offers again.
    (tmp_path / "c.fit").write_bytes(fitgen.ride(start=now - 4 * 3600, minutes=20))
    second = run_cli("--config", str(cfg), "import", str(tmp_path), timeout=60)
    assert "== " not in second.stdout


def _quiet_hours_around_now(hours_after: float) -> str:
    now = time.localtime()
    start = (now.tm_hour * 60 + now.tm_min - 5) % 1440
    end = (now.tm_hour * 60 + now.tm_min + int(hours_after * 60)) % 1440
    return f"{start // 60:02}:{start % 60:02}-{end // 60:02}:{end % 60:02}"


def test_quiet_hours_defer_the_offer_within_max_age(tmp_path: Path) -> None:
    cfg = _config(tmp_path, f"quiet_hours = \"{_quiet_hours_around_now(1)}\"\nmax_age = \"6h\"\n")
    (tmp_path / "r.fit").write_bytes(fitgen.run(start=time.time() - 3600, minutes=30))
    result = run_cli("--config", str(cfg), "import", str(tmp_path / "r.fit"))
    assert result.returncode == 0, result.stderr
    assert "quiet hours until" in result.stdout and "== " not in result.stdout
    (row,) = [json.loads(x) for x in run_cli("--config", str(cfg), "history", "--json").stdout.splitlines()]
    assert row["offered_at"] is None and row["walkthrough"] is None  # still due: the daemon may offer it later


def test_quiet_hours_past_max_age_drop_the_offer_and_say_so(tmp_path: Path) -> None:
    cfg = _config(tmp_path, f"quiet_hours = \"{_quiet_hours_around_now(3)}\"\nmax_age = \"2h\"\n")
    (tmp_path / "r.fit").write_bytes(fitgen.run(start=time.time() - 3600, minutes=30))
    result = run_cli("--config", str(cfg), "import", str(tmp_path / "r.fit"))
    assert result.returncode == 0 and "== " not in result.stdout
    (row,) = [json.loads(x) for x in run_cli("--config", str(cfg), "history", "--json").stdout.splitlines()]
    assert row["walkthrough"]["result"] == "dropped_quiet_hours"


def _history(cfg: Path, *extra: str) -> list[dict]:
    out = run_cli("--config", str(cfg), "history", "--json", "--limit", "50", *extra)
    assert out.returncode == 0, out.stderr
    return [json.loads(x) for x in out.stdout.splitlines()]


def test_a_27_day_activity_and_the_workouts_inside_it_all_stay_in_history(tmp_path: Path) -> None:
    """Issue 13 item 1, as a user meets it: nothing vanishes, and the second import is a duplicate by content."""
    cfg = _config(tmp_path)
    t0 = fitgen.posix(fitgen.START)
    day = 86400
    (tmp_path / "a_ride.fit").write_bytes(fitgen.ride(minutes=60, start=t0 + 5 * day, serial=101))
    (tmp_path / "b_swim.fit").write_bytes(fitgen.swim_with_hr_messages(minutes=30, start=t0 + 10 * day, serial=102))
    (tmp_path / "c_27_days.fit").write_bytes(fitgen.ride(minutes=90, start=t0, serial=100, sport="generic",
                                                         sub_sport="generic", pauses=[(2700, 27 * day)]))
    first = run_cli("--config", str(cfg), "import", "--json", "--no-notify", str(tmp_path))
    assert [json.loads(x)["status"] for x in first.stdout.splitlines()] == ["imported"] * 3, first.stdout
    assert sorted(Path(h["file"]).name for h in _history(cfg)) == ["a_ride.fit", "b_swim.fit", "c_27_days.fit"]
    again = run_cli("--config", str(cfg), "import", "--json", "--no-notify", str(tmp_path / "a_ride.fit"),
                    str(tmp_path / "b_swim.fit"))
    assert [(json.loads(x)["status"], json.loads(x)["error"].split(" as ")[0]) for x in again.stdout.splitlines()] == [
        ("duplicate", "already seen"), ("duplicate", "already seen")]


def test_history_hides_a_superseded_copy_and_all_shows_it_marked(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    full = fitgen.ride(minutes=20)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "ride.fit").write_bytes(full[: len(full) // 2])
    (tmp_path / "ride.fit").write_bytes(full)
    for p in (tmp_path / "half" / "ride.fit", tmp_path / "ride.fit"):
        assert run_cli("--config", str(cfg), "import", "--json", "--no-notify", str(p)).returncode == 0
    (shown,) = _history(cfg)
    assert shown["note"] is None and "superseded_by" not in shown  # the contract's keys, unchanged
    both = _history(cfg, "--all")
    assert [(h["id"], h["superseded_by"]) for h in both] == [(shown["id"], None), (shown["id"] - 1, shown["id"])]
    text = run_cli("--config", str(cfg), "history", "--all").stdout
    assert f"(superseded by #{shown['id']})" in text and text.count("\n") == 2


def test_import_no_notify_loads_no_desktop_bluetooth_or_event_loop_code(tmp_path: Path) -> None:
    """`import --no-notify` imports what it uses: no bleak, desktop-notifier, D-Bus, asyncio, and no
    pydantic-settings while no COOLDOWND_ variable is set (start-up time, issue 19)."""
    import os
    import subprocess
    import sys

    cfg = _config(tmp_path)
    (tmp_path / "ride.fit").write_bytes(fitgen.ride(minutes=5))
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("COOLDOWND_")}
    code = ("import runpy, sys\nsys.argv = ['cooldownd', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('cooldownd', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code, "--config", str(cfg), "import", "--no-notify", "--json",
                          str(tmp_path / "ride.fit")], capture_output=True, text=True, env=env, timeout=60)
    assert json.loads(out.stdout.splitlines()[0])["status"] == "imported", out.stderr[-1000:]
    loaded = set(out.stderr.split())
    for heavy in ("bleak", "desktop_notifier", "dbus_fast", "asyncio", "pydantic_settings"):
        assert heavy not in loaded, heavy


def test_status_names_the_last_workout_in_words(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    start = time.time() - 3 * 86400
    (tmp_path / "ride.fit").write_bytes(fitgen.ride(start=start, minutes=30))
    assert run_cli("--config", str(cfg), "import", "--no-notify", str(tmp_path / "ride.fit")).returncode == 0
    out = run_cli("--config", str(cfg), "status").stdout.splitlines()
    assert out[0].startswith("cooldownd is not running"), out
    assert re.fullmatch(r"last workout: 30 min ride, (light|moderate|hard|very hard), load \d+, "
                        r"ended \d{4}-\d\d-\d\d \d\d:\d\d UTC \(3 days ago\)", out[1]), out
