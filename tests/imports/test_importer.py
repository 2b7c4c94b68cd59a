"""importer: real files in tmp_path, the real SQLite store, the real intensity model and routines."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import fitgen
import pytest

from cooldownd.record import lines
from cooldownd.core.intensity import Knobs
from cooldownd.core.model import Athlete, Record, Workout
from cooldownd.imports.importer import import_paths
from cooldownd.desktop.offers import newest_unoffered
from cooldownd.record.recorder import Rules, record, summarise
from cooldownd.routinefile import load_library

DAY = 86400.0


@pytest.fixture(scope="module")
def library():
    return load_library()


def run(store, library, *paths, progress=None) -> list[dict]:
    out = [lines.import_line(r) for r in import_paths(paths, store=store, athlete=Athlete(max_hr=190), knobs=Knobs(),
                                                      library=library, progress=progress)]
    json.dumps(out)  # every line is plain JSON
    return out


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def test_ride_imports_with_every_json_key_and_is_duplicate_the_second_time(tmp_path, store, library) -> None:
    p = write(tmp_path, "ride.fit", fitgen.ride(minutes=30))
    (s,) = run(store, library, p)
    assert set(lines.KEYS) <= set(s) and s["status"] == "imported" and s["error"] is None
    assert (s["sport"], s["sub_sport"], s["file"]) == ("cycling", "road", str(p))
    assert s["start"] == "2024-05-04T08:00:00Z" and s["duration_s"] == pytest.approx(1800, abs=1)
    assert s["level"] in ("light", "moderate", "hard", "very_hard") and s["routine"]
    assert s["np"] is not None and s["tss"] is not None
    assert store.get_workout(s["id"]).summary.sha256 == s["sha256"]
    again = run(store, library, p)
    assert [r["status"] for r in again] == ["duplicate"]
    renamed = write(tmp_path, "copy/renamed.fit", p.read_bytes())
    assert [r["status"] for r in run(store, library, renamed)] == ["duplicate"]


def test_renamed_copy_with_other_bytes_is_a_duplicate_by_file_id(tmp_path, store, library) -> None:
    a = write(tmp_path, "a.fit", fitgen.ride(minutes=10))
    b = write(tmp_path, "b.fit", fitgen.ride(minutes=10, big_endian=True))  # same file_id, other bytes
    assert a.read_bytes() != b.read_bytes()
    res = run(store, library, a, b)
    assert [r["status"] for r in res] == ["imported", "duplicate"]
    assert "file_id" in res[1]["error"]


def test_folder_mixed_inputs_one_line_each_batch_goes_on(tmp_path, store, library) -> None:
    t0 = fitgen.posix(fitgen.START)
    write(tmp_path, "in/a_run.fit", fitgen.run(minutes=20, start=t0))
    write(tmp_path, "in/b_strength.FIT", fitgen.strength(minutes=30, start=t0 + DAY))
    write(tmp_path, "in/c_settings.fit", fitgen.settings_file())
    write(tmp_path, "in/d_empty.fit", b"")
    write(tmp_path, "in/e_crc.fit", fitgen.corrupt_crc(fitgen.run(minutes=5, start=t0 + 2 * DAY)))
    write(tmp_path, "in/sub/f_ride.fit.gz", gzip.compress(fitgen.ride(minutes=15, start=t0 + 3 * DAY)))
    write(tmp_path, "in/.hidden.fit", b"junk")
    write(tmp_path, "in/notes.txt", b"junk")
    seen: list[str] = []
    res = run(store, library, tmp_path / "in", progress=lambda n, name: seen.append(name))
    by = {Path(r["file"]).name: r for r in res}
    assert list(by) == ["a_run.fit", "b_strength.FIT", "c_settings.fit", "d_empty.fit", "e_crc.fit", "f_ride.fit.gz"]
    assert len(seen) == 6
    assert by["a_run.fit"]["sport"] == "running" and by["b_strength.FIT"]["sport"] == "training"
    assert by["b_strength.FIT"]["avg_hr"] is None and by["b_strength.FIT"]["level"]
    assert by["c_settings.fit"]["status"] == "skipped"
    assert by["c_settings.fit"]["error"] == "not an activity: settings file"
    assert (by["d_empty.fit"]["status"], by["d_empty.fit"]["error"]) == ("error", "empty file")
    assert by["e_crc.fit"]["status"] == "error" and by["e_crc.fit"]["error"].startswith("bad CRC")
    assert by["f_ride.fit.gz"]["status"] == "imported"
    assert all("\n" not in (r["error"] or "") for r in res)
    assert {r["status"] for r in run(store, library, tmp_path / "in")} == {"duplicate"}


def test_truncated_activity_is_imported_with_a_note(tmp_path, store, library) -> None:
    full = fitgen.ride(minutes=20)
    (s,) = run(store, library, write(tmp_path, "cut.fit", fitgen.truncate(full, len(full) // 2)))
    assert s["status"] == "imported" and "truncated" in s["note"]
    assert 0 < s["elapsed_s"] < 1200


def test_multisport_and_zip_nested_zip(tmp_path, store, library) -> None:
    t0 = fitgen.posix(fitgen.START)
    inner = fitgen.zipped({"activities/ride.fit": fitgen.ride(minutes=10, start=t0 + DAY)})
    outer = fitgen.zipped({"multi.fit": fitgen.multisport(), "inner.zip": inner, "readme.json": b"{}"})
    res = run(store, library, write(tmp_path, "export.zip", outer))
    assert [(r["file"].split("!", 1)[1], r["sport"]) for r in res] == [
        ("inner.zip!activities/ride.fit", "cycling"),
        ("multi.fit", "swimming"), ("multi.fit", "cycling"), ("multi.fit", "running")]
    assert {r["status"] for r in res} == {"imported"}


def test_zip_member_with_dotdot_or_absolute_name_is_refused_others_import(tmp_path, store, library) -> None:
    data = fitgen.zipped({"../x.fit": fitgen.run(minutes=5), "/abs.fit": fitgen.run(minutes=5),
                   "ok.fit": fitgen.ride(minutes=5)})
    res = run(store, library, write(tmp_path, "evil.zip", data))
    bad = [r for r in res if r["status"] == "error"]
    assert len(bad) == 2 and all("unsafe member name" in r["error"] for r in bad)
    assert [r["status"] for r in res if r not in bad] == ["imported"]
    assert not (tmp_path.parent / "x.fit").exists()


def test_zip_bomb_is_refused_as_a_whole(tmp_path, store, library) -> None:
    bomb = fitgen.zipped({"big.fit": b"\0" * (50 * 2**20), "ride.fit": fitgen.ride(minutes=5)})
    assert len(bomb) < 2**20
    (r,) = run(store, library, write(tmp_path, "bomb.zip", bomb))
    assert r["status"] == "error" and "100x" in r["error"]
    assert store.workouts() == []


def test_file_over_256_mb_is_refused_without_reading(tmp_path, store, library) -> None:
    p = tmp_path / "huge.fit"
    with p.open("wb") as fh:
        fh.truncate(257 * 2**20)  # sparse: no disk used
    (r,) = run(store, library, p, tmp_path / "missing.fit")[:1]
    assert r["status"] == "error" and "256 MB" in r["error"]


def _live_copy(library, start: float, end: float, bpm: int = 130):
    """A strap's record of a session (HR only, sport unknown) as the live path records it."""
    live = Workout("generic", "generic", start, end, end - start, end - start,
                   records=tuple(Record(t, bpm) for t in range(int(start), int(end) + 1, 5)), source="ble")
    return summarise(live, Rules(Athlete(max_hr=190), Knobs(), library), None)


def test_live_copy_is_superseded_by_the_richer_file_and_kept_marked(tmp_path, store, library) -> None:
    t0 = fitgen.posix(fitgen.START)
    ble = record(store, _live_copy(library, t0 + 60, t0 + 1700))
    (s,) = run(store, library, write(tmp_path, "ride.fit", fitgen.ride(minutes=30)))
    assert s["status"] == "imported"
    assert [(w.source, w.summary.sha256) for w in store.workouts()] == [("fit", s["sha256"])]
    kept = store.get_workout(ble.id)  # never deleted: marked, and hidden from the history
    assert kept is not None and kept.superseded_by == s["id"] and kept.source == "ble"
    assert [w.id for w in store.workouts(superseded=True)] == sorted([s["id"], ble.id], reverse=True)
    # a poorer copy of the same session arriving later is the duplicate
    late = record(store, _live_copy(library, t0 + 30, t0 + 1750))
    assert late.status == "duplicate" and f"#{s['id']}" in late.error and late.id is None
    # a strength session at the same time is another sport: its own workout, not a copy of the ride
    (s2,) = run(store, library, write(tmp_path, "strength.fit", fitgen.strength(minutes=30, serial=999)))
    assert s2["status"] == "imported"


def test_superseding_an_offered_live_workout_carries_the_offer_and_outcome(tmp_path, store, library) -> None:
    t0 = fitgen.posix(fitgen.START)
    ble_id = record(store, _live_copy(library, t0 + 60, t0 + 1700)).id
    store.mark_offered(ble_id, t0 + 1800)
    store.record_outcome(ble_id, {"offered_at": t0 + 1800, "result": "completed", "steps_done": 6})
    (s,) = run(store, library, write(tmp_path, "ride.fit", fitgen.ride(minutes=30)))
    assert s["status"] == "imported" and s["id"] != ble_id
    assert store.was_offered(s["id"])
    assert store.get_workout(s["id"]).outcome["result"] == "completed"
    assert newest_unoffered(store, t0 + 1900, 6 * 3600) is None  # one session, one offer
    # a walk-through that ends after its workout was superseded lands on the richer copy
    store.record_outcome(ble_id, {"offered_at": t0 + 1800, "result": "stopped"})
    assert store.get_workout(s["id"]).outcome["result"] == "stopped"
    assert store.get_workout(ble_id).superseded_by == s["id"]


def test_unanswered_offer_follows_the_complete_workout(tmp_path, store, library) -> None:
    """The readable part of a half-copied file was offered; the complete file supersedes it, offer and all."""
    full = fitgen.ride(minutes=20)
    (part,) = run(store, library, write(tmp_path, "half/ride.fit", full[: len(full) // 2]))
    assert part["note"] and newest_unoffered(store, part_end(part) + 60, 6 * 3600) == part["id"]
    store.mark_offered(part["id"], part_end(part) + 60)  # shown, not answered yet
    (whole,) = run(store, library, write(tmp_path, "ride.fit", full))
    assert whole["status"] == "imported" and whole["note"] is None
    assert store.current(part["id"]) == whole["id"] and store.was_offered(whole["id"])
    assert newest_unoffered(store, part_end(whole) + 60, 6 * 3600) is None
    assert [w.id for w in store.workouts()] == [whole["id"]]


def part_end(line: dict) -> float:
    return dt.datetime.fromisoformat(line["end"].replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("long_first", [False, True], ids=["long-last", "long-first"])
def test_a_27_day_activity_does_not_swallow_the_workouts_inside_its_span(tmp_path, store, library,
                                                                         long_first) -> None:
    """Issue 13 item 1: a watch left recording for 27 days is not "the same session" as a ride or a swim."""
    t0 = fitgen.posix(dt.datetime(2021, 6, 20, 7, 0, tzinfo=dt.timezone.utc))
    long = write(tmp_path, "27-days.fit", fitgen.ride(minutes=90, start=t0, serial=100, sport="generic",
                                                      sub_sport="generic", pauses=[(2700, 27 * DAY)]))
    ride = write(tmp_path, "ride.fit", fitgen.ride(minutes=60, start=t0 + 5 * DAY, serial=101))
    swim = write(tmp_path, "swim.fit", fitgen.swim_with_hr_messages(minutes=30, start=t0 + 10 * DAY, serial=102))
    order = [long, ride, swim] if long_first else [ride, swim, long]
    res = run(store, library, *order)
    assert [r["status"] for r in res] == ["imported"] * 3, [r["error"] for r in res]
    by = {Path(r["file"]).name: r for r in res}
    assert by["27-days.fit"]["elapsed_s"] > 27 * DAY
    assert sorted(w.summary.file for w in store.workouts()) == sorted(map(str, order))
    assert all(w.superseded_by is None for w in store.workouts(superseded=True))
    again = run(store, library, ride, swim)
    assert [(r["status"], r["error"]) for r in again] == [
        ("duplicate", f"already seen as {ride}"), ("duplicate", f"already seen as {swim}")]


def test_notify_rule_offers_the_newest_recent_workout_and_never_an_older_one(tmp_path, store, library) -> None:
    t0 = fitgen.posix(fitgen.START)
    files = [write(tmp_path, f"r{i}.fit", fitgen.run(minutes=10, start=t0 + i * 3600)) for i in range(3)]
    res = run(store, library, *files)
    newest = res[-1]
    now = t0 + 2 * 3600 + 600 + 60
    assert newest_unoffered(store, now + 7 * 3600, 6 * 3600) is None  # all too old: nothing marked
    assert not any(store.was_offered(r["id"]) for r in res)
    assert newest_unoffered(store, now, 6 * 3600) == newest["id"]
    # the older recent ones are superseded, so a later call never offers them
    assert [store.get_workout(r["id"]).outcome["result"] for r in res[:2]] == ["superseded", "superseded"]
    store.mark_offered(newest["id"], now)
    assert newest_unoffered(store, now, 6 * 3600) is None
