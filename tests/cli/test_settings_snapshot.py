"""Quick commands read a snapshot of the validated settings (configfile.py): same values, no pydantic,
and a broken configuration still ends in the one exit-78 line."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import fitgen
from conftest import run_cli
from cooldownd import configfile
from cooldownd.configfile import Snapshot
from cooldownd import settings as cfg

PROBE = ("import runpy, sys\nsys.argv = ['cooldownd', *sys.argv[1:]]\n"
         "try:\n    runpy.run_module('cooldownd', run_name='__main__')\nexcept SystemExit as e:\n    code = e.code\n"
         "print('PYDANTIC' if 'pydantic' in sys.modules else 'LIGHT', code, file=sys.stderr)\n")


def _probe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``cooldownd ARGS`` in a fresh interpreter; its last stderr line says whether pydantic was loaded."""
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_the_defaults_snapshot_is_the_models_defaults() -> None:
    settings, _ = cfg.load()
    assert Snapshot().athlete_profile() == settings.athlete_profile()
    assert Snapshot().intensity_knobs() == settings.intensity_knobs()
    assert Snapshot().store_path() == settings.store_path()
    assert configfile.of(settings).intensity_knobs() == settings.intensity_knobs()


def test_without_a_configuration_quick_commands_load_no_pydantic(tmp_path: Path) -> None:
    (tmp_path / "ride.fit").write_bytes(fitgen.ride(minutes=5))
    for args in (("status",), ("history",), ("import", "--no-notify", "--json", str(tmp_path / "ride.fit"))):
        out = _probe(*args)
        assert out.stderr.splitlines()[-1] == "LIGHT 0", (args, out.stderr[-2000:])


def test_a_validated_configuration_is_remembered_and_used(tmp_path: Path, home: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[athlete]\nmax_hr = 181\nresting_hr = 51\n[intensity]\nlight_below = 35\n"
                      f"[store]\npath = \"{tmp_path / 'db' / 'w.db'}\"\n")
    (tmp_path / "ride.fit").write_bytes(fitgen.ride(minutes=40, hr=150))
    first = _probe("--config", str(config), "history")
    assert first.stderr.splitlines()[-1] == "PYDANTIC 0", first.stderr  # validated the full way, then kept
    cache = home / ".cache" / "cooldownd" / configfile.CACHE_NAME
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert "181" in cache.read_text() and "light_below" in cache.read_text()
    quick = _probe("--config", str(config), "import", "--no-notify", "--json", str(tmp_path / "ride.fit"))
    assert quick.stderr.splitlines()[-1] == "LIGHT 0", quick.stderr
    assert (tmp_path / "db" / "w.db").exists()  # [store] path from the snapshot
    # The same import validated the full way (no cache) gives the same line.
    cache.unlink()
    config2 = tmp_path / "config2.toml"
    config2.write_text(config.read_text().replace("w.db", "w2.db"))
    full = _probe("--config", str(config2), "import", "--no-notify", "--json", str(tmp_path / "ride.fit"))
    assert full.stderr.splitlines()[-1] == "PYDANTIC 0", full.stderr
    plain = _probe("import", "--no-notify", "--json", str(tmp_path / "ride.fit"))  # no configuration at all
    a, b, c = (json.loads(x.stdout.splitlines()[0]) for x in (quick, full, plain))
    assert a == b and a["hrss"] != c["hrss"], (a, c)  # the configured [athlete] made the numbers


def test_a_broken_configuration_is_never_taken_from_the_snapshot(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[athlete]\nmax_hr = 181\n")
    assert run_cli("--config", str(config), "status").returncode == 0  # remembered
    for env in ({"COOLDOWND_ATHLETE__MAX_HR": "400"}, {"cooldownd_athlete__max_hr": "20"}):
        out = run_cli("--config", str(config), "status", env=env)
        assert out.returncode == 78 and "athlete.max_hr" in out.stderr, out
    config.write_text("[athlete]\nmax_hr = 400\n")
    for cmd in (("status",), ("history",), ("reassess",), ("import", "--no-notify", str(config))):
        out = run_cli("--config", str(config), *cmd)
        assert out.returncode == 78, (cmd, out)
        assert out.stderr.strip().splitlines() == [f"cooldownd: configuration error: {config}: athlete.max_hr: "
                                                  "Input should be less than or equal to 240 (got 400)"], out.stderr
