"""The daemon's settings validated in a child process (plainsettings.py): the same values, path and errors
as ``settings.load``, with the models' attribute names, equality and methods; nothing heavy loaded here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cooldownd import plainsettings, settings as cfg
from cooldownd.errors import ConfigError

KEY = "s3cr3t-key-1234"


def full_config(tmp: Path) -> Path:
    routines = tmp / "routines.toml"
    routines.write_text('[exercises.cat]\ntitle = "The cat"\ntext = "Round."\nhold = 6\n'
                        '[routines.any]\nlight = ["cat"]\nmoderate = ["cat"]\nhard = ["cat"]\nvery_hard = ["cat"]\n')
    path = tmp / "config.toml"
    path.write_text(
        "[athlete]\nmax_hr = 190\nresting_hr = 48\nsex = \"female\"\n"
        "[ble]\nenabled = false\ndevices = [\"AA:BB:CC:DD:EE:FF\", \"Polar H10\"]\nquiet_s = 12.5\n"
        f"[watch]\nfolders = [\"{tmp / 'in'}\", \"~/rides\"]\nsettle_s = 0.5\n"
        "[notify]\nbackend = \"console\"\nmax_age = \"2h\"\nquiet_hours = \"22:00-07:00\"\nsound = true\n"
        f"[routines]\nfile = \"{routines}\"\n[store]\npath = \"{tmp / 'db' / 'c.db'}\"\n"
        "[intensity]\nhard_below = 140\n"
        f"[sources.intervals]\napi_key = \"{KEY}\"\nathlete_id = \"i42\"\npoll = \"10min\"\n")
    return path


def same(plain: object, model: object, where: str = "settings") -> None:
    """Every field of ``model`` read the same (value and type) through ``plain``."""
    for name in type(model).model_fields:
        p, m = getattr(plain, name), getattr(model, name)
        if hasattr(type(m), "model_fields"):
            same(p, m, f"{where}.{name}")
        elif hasattr(m, "get_secret_value"):
            assert p.get_secret_value() == m.get_secret_value(), f"{where}.{name}"
        else:
            assert (p, type(p)) == (m, type(m)), f"{where}.{name}"


def test_the_child_gives_what_settings_load_gives(tmp_path: Path) -> None:
    path = full_config(tmp_path)
    model, model_path = cfg.load(path)
    plain, plain_path = plainsettings.load(path)
    assert isinstance(plain, plainsettings.PlainSettings)  # it came through the child, not the fallback
    assert plain_path == model_path == path
    same(plain, model)
    assert plain.athlete_profile() == model.athlete_profile()
    assert plain.intensity_knobs() == model.intensity_knobs()
    assert plain.store_path() == model.store_path() == tmp_path / "db" / "c.db"
    assert plain.sources.intervals.configured() and plain.notify.max_age == 7200.0
    assert KEY not in repr(plain) and KEY not in str(plain.sources.intervals.api_key)


def test_defaults_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain, path = plainsettings.load(None)  # no file: every default
    same(plain, cfg.load(None)[0])
    assert path == cfg.config_path(None)[0] and not plain.sources.intervals.configured()
    monkeypatch.setenv("COOLDOWND_NOTIFY__SNOOZE", "5min")  # the child reads the same environment
    monkeypatch.setenv("COOLDOWND_BLE__ENABLED", "false")
    plain = plainsettings.load(None)[0]
    assert (plain.notify.snooze, plain.ble.enabled) == (300.0, False)
    assert isinstance(plain, plainsettings.PlainSettings) and plain.store_path() == cfg.load(None)[0].store_path()


@pytest.mark.parametrize("text", ["[athlete]\nmax_hr = 20\n", "[notify]\nbackend = \"kde\"\n", "[athlete\n",
                                  "[sources.intervals]\napi_key = \"k\"\napi_key_file = \"/k\"\n",
                                  "[athlete]\nmax_hr = 20\nlthr = 5\n[ble]\nquiet_s = -1\n"])
def test_a_broken_configuration_is_the_same_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as model:
        cfg.load(path)
    with pytest.raises(ConfigError) as plain:
        plainsettings.load(path)
    assert (str(plain.value), plain.value.problems) == (str(model.value), model.value.problems)


def test_sections_compare_by_value_and_are_frozen(tmp_path: Path) -> None:
    """A reload compares old and new sections (daemon/app.py): equal when unchanged, unequal when changed."""
    path = full_config(tmp_path)
    a, b = plainsettings.load(path)[0], plainsettings.load(path)[0]
    assert a == b and a.watch == b.watch and a.sources == b.sources and hash(a.ble) == hash(b.ble)
    path.write_text(path.read_text().replace("settle_s = 0.5", "settle_s = 1.5").replace(KEY, KEY + "x"))
    c = plainsettings.load(path)[0]
    assert c.watch != a.watch and c.sources != a.sources and (c.ble, c.athlete) == (a.ble, a.athlete)
    with pytest.raises(AttributeError):
        a.notify.sound = False  # type: ignore[misc]
    with pytest.raises(AttributeError):
        a.notify.no_such_key  # noqa: B018


def test_reading_them_loads_no_pydantic() -> None:
    code = ("import sys\nfrom cooldownd import plainsettings\ns, _ = plainsettings.load(None)\n"
            "assert s.ble.enabled is True\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
