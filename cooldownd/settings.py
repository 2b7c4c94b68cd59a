"""Configuration: one TOML file plus ``COOLDOWND_`` environment overrides, built once, frozen.

Priority: values passed in code > environment (``COOLDOWND_SECTION__KEY``) > the TOML file > defaults.
The file is ``--config PATH``, else ``$COOLDOWND_CONFIG``, else ``$XDG_CONFIG_HOME/cooldownd/config.toml``
(a missing default file means all defaults). Every problem becomes one :class:`ConfigError` line.
"""

from __future__ import annotations

import contextvars
import os
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from cooldownd.errors import ConfigError

if TYPE_CHECKING:
    from cooldownd.core.intensity import Knobs
    from cooldownd.core.model import Athlete

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m(?:in)?)?\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$")


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string like "6h", "15min", "1h30m", "90s"."""
    if isinstance(value, bool):
        raise ValueError("expected seconds or a duration like \"6h\" or \"15min\"")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m or not any(m.groups()):
            raise ValueError(f"{value!r} is not a duration (use seconds or e.g. \"6h\", \"15min\", \"90s\")")
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        seconds = h * 3600 + mi * 60 + s
    if seconds < 0:
        raise ValueError("must not be negative")
    return seconds


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AthleteSettings(_Section):
    max_hr: int | None = Field(None, ge=100, le=240)
    resting_hr: int | None = Field(None, ge=25, le=120)
    lthr: int | None = Field(None, ge=80, le=230)
    ftp: int | None = Field(None, ge=30, le=700)
    sex: Literal["male", "female"] | None = None
    birth_year: int | None = Field(None, ge=1900, le=2025)

    @model_validator(mode="after")
    def _consistent(self) -> AthleteSettings:
        if self.max_hr is not None and self.resting_hr is not None and self.resting_hr >= self.max_hr:
            raise ValueError(f"resting_hr {self.resting_hr} must be below max_hr {self.max_hr}")
        if self.max_hr is not None and self.lthr is not None and self.lthr >= self.max_hr:
            raise ValueError(f"lthr {self.lthr} must be below max_hr {self.max_hr}")
        return self


class BleSettings(_Section):
    enabled: bool = True
    devices: tuple[str, ...] = ()
    quiet_s: float = Field(10.0, gt=0, le=600)
    adapter: str | None = None
    scan_s: float = Field(10.0, gt=0, le=600)
    backoff_cap_s: float = Field(60.0, gt=0, le=3600)


class DetectSettings(_Section):
    start_hr: int | None = Field(None, ge=40, le=220, description="None: 50 % of heart-rate reserve")
    start_s: float = Field(60.0, ge=0)
    end_hr: int | None = Field(None, ge=40, le=220, description="None: start_hr minus 10 bpm")
    end_s: float = Field(300.0, gt=0)
    contact_lost_s: float = Field(120.0, gt=0)
    reconnect_grace_s: float = Field(180.0, ge=0)
    min_duration_s: float = Field(600.0, ge=0)


class WatchSettings(_Section):
    folders: tuple[str, ...] = (
        "~/Documents/Zwift/Activities",
        "/media/*/GARMIN/Garmin/Activities",
        "/run/media/*/*/GARMIN/Garmin/Activities",
    )
    poll_s: float = Field(30.0, gt=0)
    settle_s: float = Field(2.0, ge=0)
    unfinished_wait_s: float = Field(300.0, ge=0)
    force_poll: bool = False


class NotifySettings(_Section):
    backend: Literal["auto", "desktop", "console"] = "auto"
    max_age: float = 6 * 3600.0
    offer_timeout: float = 15 * 60.0
    snooze: float = 10 * 60.0
    max_snoozes: int = Field(3, ge=0, le=20)
    transition: float = 5.0
    quiet_hours: str | None = None
    sound: bool = False
    sound_via: Literal["auto", "server", "player"] = "auto"
    voice: bool = False

    @field_validator("max_age", "offer_timeout", "snooze", "transition", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> float:
        return parse_duration(v)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str | None) -> str | None:
        from cooldownd.core.quiet import parse_quiet_hours  # the one syntax, shared with core/coach.py
        return v if v is not None and parse_quiet_hours(v) is not None else None


class RoutinesSettings(_Section):
    file: Path | None = None


class StoreSettings(_Section):
    path: Path | None = None


class IntensitySettings(_Section):
    trimp_factor: float = Field(0.64, gt=0, le=2)
    light_below: float = Field(40.0, gt=0)
    moderate_below: float = Field(80.0, gt=0)
    hard_below: float = Field(150.0, gt=0)
    very_hard_minutes_above_90: float = Field(10.0, gt=0)
    resting_hr_default: int = Field(60, ge=25, le=120)
    lthr_fraction: float = Field(0.89, gt=0.5, lt=1)
    max_hr_fallback: int = Field(185, ge=100, le=240)
    max_gap_s: float = Field(20.0, gt=0, le=600)
    power_hold_s: float = Field(5.0, ge=0, le=60)

    @model_validator(mode="after")
    def _ordered(self) -> IntensitySettings:
        if not self.light_below < self.moderate_below < self.hard_below:
            raise ValueError("light_below < moderate_below < hard_below must hold")
        return self


_toml_data: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("_toml_data", default={})


class _TomlSource(PydanticBaseSettingsSource):
    """The already-parsed TOML file (parsed by :func:`load` so syntax errors name the file)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return _toml_data.get().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_toml_data.get())


class Settings(BaseSettings):
    """The whole configuration. Build it with :func:`load`."""

    model_config = SettingsConfigDict(
        env_prefix="COOLDOWND_", env_nested_delimiter="__", extra="forbid", frozen=True,
        nested_model_default_partial_update=True)

    athlete: AthleteSettings = AthleteSettings()
    ble: BleSettings = BleSettings()
    detect: DetectSettings = DetectSettings()
    watch: WatchSettings = WatchSettings()
    notify: NotifySettings = NotifySettings()
    routines: RoutinesSettings = RoutinesSettings()
    store: StoreSettings = StoreSettings()
    intensity: IntensitySettings = IntensitySettings()

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):  # noqa: D102
        return (init_settings, env_settings, _TomlSource(settings_cls))

    def athlete_profile(self) -> Athlete:
        """``[athlete]`` as the core's value."""
        from cooldownd.core.model import Athlete

        return Athlete(**self.athlete.model_dump())

    def intensity_knobs(self) -> Knobs:
        """``[intensity]`` as the intensity model's constants."""
        from cooldownd.core.intensity import Knobs

        return Knobs(**self.intensity.model_dump())

    def store_path(self) -> Path:
        """Where the SQLite database lives."""
        if self.store.path is not None:
            return self.store.path.expanduser()
        return state_dir() / "cooldownd.db"


def _xdg(var: str, default: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value and os.path.isabs(value) else Path.home() / default


def state_dir() -> Path:
    """``$XDG_STATE_HOME/cooldownd``."""
    return _xdg("XDG_STATE_HOME", ".local/state") / "cooldownd"


def config_home() -> Path:
    """``$XDG_CONFIG_HOME``."""
    return _xdg("XDG_CONFIG_HOME", ".config")


def config_path(explicit: str | os.PathLike[str] | None = None) -> tuple[Path, bool]:
    """The configuration file to read and whether it was asked for explicitly."""
    if explicit:
        return Path(explicit).expanduser(), True
    if os.environ.get("COOLDOWND_CONFIG"):
        return Path(os.environ["COOLDOWND_CONFIG"]).expanduser(), True
    return config_home() / "cooldownd" / "config.toml", False


def _read_toml(path: Path, required: bool) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: no such file; create it or drop --config/COOLDOWND_CONFIG") from None
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{path}: cannot read: {reason}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    for key, value in data.items():
        if key in Settings.model_fields and not isinstance(value, dict):
            raise ConfigError(f"{path}: {key}: must be a [{key}] table, not a value")
    return data


def _describe(exc: ValidationError, path: Path) -> str:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc) if loc else "(top level)"
    env = "COOLDOWND_" + "__".join(p.upper() for p in loc[:2])
    where = env if loc and env in os.environ else str(path)
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling; `cooldownd config show` lists every key)"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    value = err.get("input")
    if err["type"] != "extra_forbidden" and isinstance(value, str | int | float) and not isinstance(value, bool):
        msg = f"{msg} (got {value!r})"
    more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{where}: {key}: {msg}{more}"


def load(explicit: str | os.PathLike[str] | None = None, **overrides: Any) -> tuple[Settings, Path]:
    """Read and validate the configuration; raise ConfigError with one line on any problem."""
    path, required = config_path(explicit)
    data = _read_toml(path, required)
    token = _toml_data.set(data)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from exc
    finally:
        _toml_data.reset(token)
    return settings, path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_toml(settings: Settings) -> str:
    """The effective configuration as TOML; unset values appear commented out."""
    lines: list[str] = []
    for section in type(settings).model_fields:
        lines.append(f"[{section}]")
        for key, value in getattr(settings, section).model_dump().items():
            if value is None:
                lines.append(f"# {key} = (not set)")
            else:
                lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)
