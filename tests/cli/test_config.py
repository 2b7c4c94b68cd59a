"""Configuration: files, environment, `config` commands, and broken configurations (exit 78, one line)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from conftest import run_cli
from cooldownd import settings as cfg
from cooldownd.errors import ConfigError

BROKEN = [
    # (id, file text, text the one-line error must contain)
    ("bad-toml", "[athlete\nmax_hr = 180\n", "not valid TOML"),
    ("unknown-section", "[athelete]\nmax_hr = 180\n", "athelete: unknown key"),
    ("unknown-key", "[athlete]\nmaxhr = 180\n", "athlete.maxhr: unknown key"),
    ("wrong-type", "[athlete]\nmax_hr = \"fast\"\n", "athlete.max_hr"),
    ("max-hr-20", "[athlete]\nmax_hr = 20\n", "athlete.max_hr"),
    ("max-hr-400", "[athlete]\nmax_hr = 400\n", "athlete.max_hr"),
    ("resting-above-max", "[athlete]\nmax_hr = 110\nresting_hr = 115\n", "resting_hr 115 must be below max_hr 110"),
    ("resting-equals-max", "[athlete]\nmax_hr = 110\nresting_hr = 110\n", "must be below max_hr"),
    ("lthr-above-max", "[athlete]\nmax_hr = 170\nlthr = 180\n", "lthr 180 must be below max_hr 170"),
    ("bad-sex", "[athlete]\nsex = \"x\"\n", "athlete.sex"),
    ("ble-enabled-string", "[ble]\nenabled = \"maybe\"\n", "ble.enabled"),
    ("ble-quiet-negative", "[ble]\nquiet_s = -1\n", "ble.quiet_s"),
    ("ble-devices-not-list", "[ble]\ndevices = 5\n", "ble.devices"),
    ("detect-negative", "[detect]\nend_s = -5\n", "detect.end_s"),
    ("detect-unknown", "[detect]\nstart_bpm = 120\n", "detect.start_bpm: unknown key"),
    ("watch-poll-zero", "[watch]\npoll_s = 0\n", "watch.poll_s"),
    ("notify-backend", "[notify]\nbackend = \"kde\"\n", "notify.backend"),
    ("notify-max-age", "[notify]\nmax_age = \"soon\"\n", "notify.max_age"),
    ("notify-quiet-hours", "[notify]\nquiet_hours = \"late\"\n", "notify.quiet_hours"),
    ("notify-snooze-negative", "[notify]\nsnooze = -10\n", "notify.snooze"),
    ("section-as-value", "athlete = 5\n", "athlete: must be a [athlete] table"),
    ("intensity-order", "[intensity]\nlight_below = 90\nmoderate_below = 80\n", "light_below < moderate_below"),
    ("routines-missing-file", "[routines]\nfile = \"/nonexistent/routines.toml\"\n", "/nonexistent/routines.toml"),
    ("routines-unknown-exercise", None, "cobra"),
    ("not-utf8", b"[athlete]\nmax_hr = 180 # \xff\xfe\n", "config.toml"),
]


@pytest.mark.parametrize(("text", "needle"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_configuration_exits_78_with_one_line(tmp_path: Path, text: str | bytes | None, needle: str) -> None:
    path = tmp_path / "config.toml"
    if text is None:  # a routines file naming an exercise that does not exist
        routines = tmp_path / "routines.toml"
        packaged = (Path(__file__).resolve().parents[2] / "config" / "routines.toml").read_text()
        routines.write_text(packaged.replace('"cat"', '"cobra"', 1))
        assert routines.read_text() != packaged, "the packaged routines no longer use the id \"cat\""
        text = f"[routines]\nfile = \"{routines}\"\n"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = run_cli("--config", str(path), "config", "check")
    assert result.returncode == 78, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert needle in lines[0]
    assert result.stdout == ""


def test_check_lists_every_problem_a_line_each_and_other_commands_say_one(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[athlete]\nmax_hr = "fast"\n[notify]\nmax_age = "banana"\nquiet_hours = "25:00-07:00"\n')
    check = run_cli("--config", str(path), "config", "check")
    lines = check.stderr.strip().splitlines()
    assert check.returncode == 78 and check.stdout == "", check
    assert [line.split(": ")[3] for line in lines] == ["athlete.max_hr", "notify.max_age", "notify.quiet_hours"], lines
    assert all("'banana'" not in line or line.count("'banana'") == 1 for line in lines), lines  # said once
    other = run_cli("--config", str(path), "history")
    assert other.returncode == 78 and len(other.stderr.strip().splitlines()) == 1, other.stderr
    assert "(+2 more: cooldownd config check lists them)" in other.stderr, other.stderr


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    result = run_cli("--config", str(tmp_path / "nope.toml"), "config", "check")
    assert result.returncode == 78
    assert "nope.toml: no such file" in result.stderr


def test_missing_default_config_means_defaults() -> None:
    result = run_cli("config", "check")
    assert result.returncode == 0, result.stderr
    assert "all defaults" in result.stdout


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[athlete]\nmax_hr = 180\nresting_hr = 50\n")
    monkeypatch.setenv("COOLDOWND_ATHLETE__MAX_HR", "186")
    settings, _ = cfg.load(path)
    assert (settings.athlete.max_hr, settings.athlete.resting_hr) == (186, 50)


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOLDOWND_ATHLETE__MAX_HR", "20")
    with pytest.raises(ConfigError, match="COOLDOWND_ATHLETE__MAX_HR: athlete.max_hr"):
        cfg.load()


def test_config_file_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text("[notify]\nmax_age = \"3h\"\n")
    monkeypatch.setenv("COOLDOWND_CONFIG", str(path))
    settings, used = cfg.load()
    assert used == path and settings.notify.max_age == 3 * 3600


def test_settings_are_frozen() -> None:
    settings, _ = cfg.load()
    with pytest.raises(ValidationError, match="frozen"):
        settings.athlete.max_hr = 190  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        settings.notify = settings.notify  # type: ignore[misc]


@pytest.mark.parametrize(("text", "seconds"), [
    (90, 90.0), ("90s", 90.0), ("15min", 900.0), ("15m", 900.0), ("6h", 21600.0), ("1h30m", 5400.0), ("0.5h", 1800.0),
])
def test_durations(text: object, seconds: float) -> None:
    assert cfg.parse_duration(text) == seconds


def test_show_output_feeds_back(tmp_path: Path) -> None:
    src = tmp_path / "in.toml"
    src.write_text("[athlete]\nmax_hr = 186\nsex = \"female\"\n[ble]\ndevices = [\"AA:BB:CC:DD:EE:FF\"]\n"
                   "[notify]\nquiet_hours = \"22:00-07:00\"\n")
    shown = run_cli("--config", str(src), "config", "show")
    assert shown.returncode == 0, shown.stderr
    again = tmp_path / "again.toml"
    again.write_text(shown.stdout)
    tomllib.loads(shown.stdout)
    reread = run_cli("--config", str(again), "config", "show")
    assert reread.returncode == 0, reread.stderr
    assert reread.stdout == shown.stdout
    assert "max_hr = 186" in shown.stdout and 'devices = ["AA:BB:CC:DD:EE:FF"]' in shown.stdout


def test_example_config_is_valid_and_lists_every_key() -> None:
    example = Path(__file__).resolve().parents[2] / "config" / "cooldownd.toml"
    result = run_cli("--config", str(example), "config", "check")
    assert result.returncode == 0, result.stderr
    text = example.read_text()
    for section, model in cfg.Settings.model_fields.items():
        _lists_every_key(text, section, model.annotation)


def _lists_every_key(text: str, section: str, model: type) -> None:
    assert f"[{section}]" in text
    for key, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, cfg.BaseModel):
            _lists_every_key(text, f"{section}.{key}", field.annotation)
        else:
            assert f"{key} =" in text, f"config/cooldownd.toml does not mention {section}.{key}"


def test_config_path_prints_the_default(home: Path) -> None:
    result = run_cli("config", "path")
    assert result.returncode == 0
    assert result.stdout.strip() == str(home / ".config" / "cooldownd" / "config.toml")


@pytest.mark.parametrize("spec, window", [("22:00-07:00", (1320, 420)), ("00:00-24:00", (0, 1440)),
                                          ("13:00-14:00", (780, 840))])
def test_quiet_hours_one_syntax_for_the_config_and_the_walk_through(tmp_path: Path, spec: str, window) -> None:
    """What `config check` accepts is what the walk-through understands, 24:00 included (one parser)."""
    from cooldownd.core.coach import QuietHours
    from cooldownd.settings import load

    cfg = tmp_path / "config.toml"
    cfg.write_text(f"[notify]\nquiet_hours = \"{spec}\"\n")
    out = run_cli("--config", str(cfg), "config", "check")
    assert out.returncode == 0, out.stderr
    q = QuietHours.parse(load(cfg)[0].notify.quiet_hours or "")
    assert (q.start_min, q.end_min) == window


@pytest.mark.parametrize("spec", ["24:30-07:00", "7:00-08:00", "22:00", "22:00-07:00-09:00"])
def test_bad_quiet_hours_are_refused_by_the_config_and_the_walk_through_alike(tmp_path: Path, spec: str) -> None:
    from cooldownd.core.coach import QuietHours

    cfg = tmp_path / "config.toml"
    cfg.write_text(f"[notify]\nquiet_hours = \"{spec}\"\n")
    out = run_cli("--config", str(cfg), "config", "check")
    assert out.returncode == 78 and "notify.quiet_hours" in out.stderr and "22:00-07:00" in out.stderr, out.stderr
    with pytest.raises(ConfigError, match="22:00-07:00"):
        QuietHours.parse(spec)


@pytest.mark.parametrize("var, where, fallback, below", [
    ("XDG_STATE_HOME", cfg.state_dir, ".local/state", "cooldownd"), ("XDG_CONFIG_HOME", cfg.config_home, ".config", ""),
    ("XDG_DATA_HOME", cfg.data_dir, ".local/share", "cooldownd"), ("XDG_CACHE_HOME", cfg.cache_dir, ".cache", "cooldownd"),
])
def test_the_xdg_folders_follow_their_variable_and_ignore_a_relative_one(var, where, fallback, below, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """One reading of the XDG variables (settings): the store, report, pictures, app folders and unit use it."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(var, str(tmp_path / "xdg"))
    assert where() == tmp_path / "xdg" / below
    monkeypatch.setenv(var, "relative/path")  # the XDG spec: a relative path is invalid and ignored
    assert where() == tmp_path / "home" / fallback / below
