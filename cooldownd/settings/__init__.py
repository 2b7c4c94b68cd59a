"""Configuration: one TOML file plus ``COOLDOWND_`` environment overrides, built once, frozen.

Priority: values passed in code > environment (``COOLDOWND_SECTION__KEY``) > the TOML file > defaults.
pydantic-settings reads the environment; importing it costs more than the rest of a CLI command's start
(it pulls in asyncio, ssl, argparse...), so it is imported only when a ``COOLDOWND_`` key is set.
The file is ``--config PATH``, else ``$COOLDOWND_CONFIG``, else ``$XDG_CONFIG_HOME/cooldownd/config.toml``
(a missing default file means all defaults). Every problem becomes one :class:`ConfigError` line.
"""

from __future__ import annotations

import contextvars
import functools
import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from cooldownd.configfile import (  # noqa: F401 - where the file is: part of this module's API
    _xdg, cache_dir, config_home, config_path, data_dir, data_home, environment_keys, read_config, remember, state_dir,
    store_file,
)
from cooldownd.errors import ConfigError
from cooldownd.settings.sections import (  # noqa: F401 - the sections are part of this module's API
    AthleteSettings, BleSettings, DetectSettings, IntensitySettings, NotifySettings, RoutinesSettings, StoreSettings,
    Duration, IntervalsSettings, SourcesSettings, WatchSettings, parse_duration,
)

if TYPE_CHECKING:
    from cooldownd.core.intensity import Knobs
    from cooldownd.core.model import Athlete

_toml_data: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("_toml_data", default={})


class Settings(BaseModel):
    """The whole configuration. Build it with :func:`load`."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    athlete: AthleteSettings = AthleteSettings()
    ble: BleSettings = BleSettings()
    detect: DetectSettings = DetectSettings()
    watch: WatchSettings = WatchSettings()
    notify: NotifySettings = NotifySettings()
    routines: RoutinesSettings = RoutinesSettings()
    store: StoreSettings = StoreSettings()
    intensity: IntensitySettings = IntensitySettings()
    sources: SourcesSettings = SourcesSettings()

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
        return store_file(self.store.path)


def _read_toml(path: Path, raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    for key, value in data.items():
        if key in Settings.model_fields and not isinstance(value, dict):
            raise ConfigError(f"{path}: {key}: must be a [{key}] table, not a value")
    return data


def _describe(exc: ValidationError, path: Path) -> ConfigError:
    """One line for the first problem (and how many more), and every problem a line of its own."""
    problems = tuple(_problem(err, path) for err in exc.errors())
    more = f" (+{len(problems) - 1} more: cooldownd config check lists them)" if len(problems) > 1 else ""
    return ConfigError(problems[0] + more, problems)


def _problem(err: Any, path: Path) -> str:
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc) if loc else "(top level)"
    envs = ["COOLDOWND_" + "__".join(p.upper() for p in loc[:n]) for n in range(len(loc), 1, -1)]
    where = next((env for env in envs if env in os.environ), str(path))
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling; `cooldownd config show` lists every key)"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    value = err.get("input")
    if err["type"] != "extra_forbidden" and isinstance(value, str | int | float) and not isinstance(value, bool) \
            and repr(value) not in msg:
        msg = f"{msg} (got {value!r})"
    return f"{where}: {key}: {msg}"


def load(explicit: str | os.PathLike[str] | None = None, **overrides: Any) -> tuple[Settings, Path]:
    """Read and validate the configuration; raise ConfigError with one line on any problem."""
    path, required = config_path(explicit)
    raw = read_config(path, required)
    data = _read_toml(path, raw)
    token = _toml_data.set(data)
    try:
        if environment_keys():
            settings: Settings = _with_environment()(**overrides)
        else:  # what pydantic-settings does with an empty environment: init values over the TOML
            settings = Settings.model_validate(_deep_update(data, overrides))
    except ValidationError as exc:
        raise _describe(exc, path) from exc
    finally:
        _toml_data.reset(token)
    if not overrides:
        remember(path, required, raw, settings)
    return settings, path


def _deep_update(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        out[key] = _deep_update(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) \
            else value
    return out


@functools.cache
def _with_environment() -> type[Settings]:
    """Settings read through pydantic-settings: init values > environment > the TOML file."""
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

    class TomlSource(PydanticBaseSettingsSource):
        """The already-parsed TOML file (parsed by :func:`load` so syntax errors name the file)."""

        def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
            return _toml_data.get().get(field_name), field_name, False

        def __call__(self) -> dict[str, Any]:
            return dict(_toml_data.get())

    class EnvironmentSettings(BaseSettings, Settings):
        model_config = SettingsConfigDict(
            env_prefix="COOLDOWND_", env_nested_delimiter="__", extra="forbid", frozen=True,
            nested_model_default_partial_update=True,
        )

        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                       file_secret_settings):  # noqa: D102
            return (init_settings, env_settings, TomlSource(settings_cls))

    return EnvironmentSettings

