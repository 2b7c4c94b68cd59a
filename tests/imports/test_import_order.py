"""Same file, same numbers: whatever the import order, one batch or one file at a time, 1 or 2 cores.

Each workout is judged with the profile as it stood at its start (record/asof.py); runs without any
athlete value anywhere make the history-based HRmax estimate matter. ../shared/fit joins when present.
"""

from __future__ import annotations

import random
from pathlib import Path

import fitgen
import pytest

from cooldownd.core.intensity import Knobs
from cooldownd.core.model import Athlete
from cooldownd.imports.bulk import import_many
from cooldownd.imports.importer import import_paths
from cooldownd.routinefile import load_library
from cooldownd.store import Store

SHARED_FIT = Path(__file__).resolve().parents[2].parent / "shared" / "fit"
DAY = 86400.0
# (days after the first, peak HR): the 200 bpm run comes late, so earlier runs must not see it
RUNS = [(0, 170), (3, 182), (6, 200), (9, 176), (12, 190), (15, 168), (18, 204), (21, 172)]


def _run_file(day: float, peak: int, i: int) -> bytes:
    hr = [135 + (i % 3) * 5] * 1500 + [peak] * 120 + [150] * 780
    return fitgen.run(seconds=len(hr), hr=hr, start=fitgen.posix(fitgen.START) + day * DAY, profile=False, serial=1000 + i,
                      training_effect=None)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("generated")
    out = []
    for i, (day, peak) in enumerate(RUNS):
        p = folder / f"run{i}.fit"
        p.write_bytes(_run_file(day, peak, i))
        out.append(p)
    if (SHARED_FIT / "MANIFEST.csv").exists():
        out += sorted(p for p in SHARED_FIT.iterdir() if p.name != "MANIFEST.csv" and p.suffix.lower() != ".md")
    return out


def _home(tmp_path: Path, name: str, batches: list[list[Path]], jobs: int) -> dict:
    store = Store.open(tmp_path / name / "cooldownd.db")
    kw = dict(store=store, athlete=Athlete(), knobs=Knobs(), library=load_library())
    try:
        for batch in batches:
            if jobs == 1:
                list(import_paths(batch, **kw))
            else:
                list(import_many(batch, jobs=jobs, **kw))
        rows = store.workouts(limit=100_000)
    finally:
        store.close()
    return {(r.start, r.summary.sport, r.summary.sub_sport): (r.summary.load, r.summary.level.value,
                                                             r.summary.profile_source) for r in rows}


def test_every_workout_has_the_same_numbers_in_any_order(files: list[Path], tmp_path: Path) -> None:
    shuffled = files[:]
    random.Random(18).shuffle(shuffled)
    homes = {
        "one batch, 2 cores": _home(tmp_path, "a", [files], 2),
        "one at a time, reversed": _home(tmp_path, "b", [[p] for p in reversed(files)], 1),
        "one at a time, shuffled, 1 core": _home(tmp_path, "c", [[p] for p in shuffled], 1),
        "two batches, newest first": _home(tmp_path, "d", [files[len(files) // 2:], files[:len(files) // 2]], 2),
    }
    first_name, first = next(iter(homes.items()))
    for name, home in homes.items():
        assert set(home) == set(first), name
        differ = {k: (first[k], home[k]) for k in first if first[k] != home[k]}
        print(f"\n{name}: {len(home)} workouts, {len(differ)} with numbers different from '{first_name}'")
        assert differ == {}, name
    estimated = [k for k, v in first.items() if v[2] == "estimate"]
    assert len(first) >= len(RUNS) and len(estimated) >= len(RUNS)


def test_a_run_uses_only_history_before_it(tmp_path: Path) -> None:
    """The 200 bpm run (day 6) raises the HRmax estimate of the runs after it, never of those before."""
    folder = tmp_path / "runs"
    folder.mkdir()
    for i, (day, peak) in enumerate(RUNS[:4]):
        (folder / f"r{i}.fit").write_bytes(_run_file(day, peak, i))
    alone = _home(tmp_path, "alone", [[folder / "r3.fit"]], 1)
    together = _home(tmp_path, "together", [[folder / f"r{i}.fit" for i in (3, 2, 1, 0)]], 1)
    (key,) = alone
    assert together[key][0] < alone[key][0]  # HRmax 200 from day 6 before it: the same effort is a lower load
    earlier = sorted(together)[0]
    solo = _home(tmp_path, "solo0", [[folder / "r0.fit"]], 1)
    assert together[earlier] == solo[earlier]  # later history never reaches back


def _cli_config(tmp: Path, athlete: str = "") -> Path:
    path = tmp / "config.toml"
    path.write_text(f"[store]\npath = \"{tmp / 'state.db'}\"\n[notify]\nbackend = \"console\"\n{athlete}")
    return path


def test_import_says_which_later_workouts_older_history_changed(tmp_path: Path) -> None:
    from conftest import run_cli

    for i, (day, peak) in enumerate(RUNS[:4]):
        (tmp_path / f"r{i}.fit").write_bytes(_run_file(day, peak, i))
    cfg = _cli_config(tmp_path)
    newer = run_cli("--config", str(cfg), "import", "--no-notify", str(tmp_path / "r3.fit"), timeout=60)
    assert newer.returncode == 0 and "reassessed" not in newer.stderr, newer.stderr
    older = run_cli("--config", str(cfg), "import", "--no-notify", str(tmp_path / "r2.fit"), timeout=60)
    assert older.returncode == 0, older.stderr
    lines = [x for x in older.stderr.splitlines() if x.startswith("reassessed #1 ")]
    assert len(lines) == 1 and "run: load " in lines[0], older.stderr
    assert "1 stored workout re-assessed: older workouts imported now came before them" in older.stderr


def test_reassess_after_athlete_changes_and_once_on_its_own(tmp_path: Path) -> None:
    from conftest import run_cli

    (tmp_path / "r.fit").write_bytes(_run_file(0, 180, 0))
    cfg = _cli_config(tmp_path)
    assert run_cli("--config", str(cfg), "import", "--no-notify", str(tmp_path / "r.fit"), timeout=60).returncode == 0
    nothing = run_cli("--config", str(cfg), "reassess", timeout=60)
    assert nothing.returncode == 0 and "already has the numbers" in nothing.stdout, nothing.stdout
    _cli_config(tmp_path, "[athlete]\nmax_hr = 181\nresting_hr = 45\nlthr = 165\n")
    # the next import notices the change once, before importing anything
    again = run_cli("--config", str(cfg), "import", "--no-notify", str(tmp_path / "r.fit"), timeout=60)
    assert "1 stored workout re-assessed: your [athlete] or [intensity] settings changed" in again.stderr, again.stderr
    history = run_cli("--config", str(cfg), "history", "--json").stdout
    assert '"profile_source": "config"' in history
    _cli_config(tmp_path, "[athlete]\nmax_hr = 200\nresting_hr = 45\nlthr = 175\n")
    explicit = run_cli("--config", str(cfg), "reassess", timeout=60)
    assert explicit.returncode == 0 and explicit.stdout.startswith("reassessed #1 "), explicit.stdout
    assert run_cli("--config", str(cfg), "import", "--no-notify", str(tmp_path / "r.fit"),
                   timeout=60).stderr.count("re-assessed") == 0  # already judged with these settings
