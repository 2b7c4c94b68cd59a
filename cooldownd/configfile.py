"""Where the configuration lives, and the few values a quick command reads without pydantic.

Validating :class:`~cooldownd.settings.Settings` imports pydantic and builds its models: about 170 ms,
more than the rest of a ``status``, a ``history`` or a one-file ``import``. Those commands need only
the store path, the routines file, ``[athlete]`` and ``[intensity]``; ``quicksettings.snapshot`` gives
them these (:func:`recall`):

- no configuration file (the default path, missing) and no ``COOLDOWND_`` variable: the defaults,
  with nothing to validate (``tests/cli/test_config.py`` checks they are the models' defaults);
- else the values the last full validation of exactly this configuration kept (:func:`remember`,
  called by ``settings.load``): keyed by the file's path and bytes, every ``COOLDOWND_`` variable,
  and the validating code (the settings modules' and pydantic's files: size and time), in
  ``$XDG_CACHE_HOME/cooldownd/settings.json`` (0600).
  Only a configuration that validated is kept, so a broken one always goes the full way;
- else the full validation (``settings.load``), whose ConfigError the command reports as any other.

This module imports nothing heavy: no pydantic, no tomllib.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cooldownd.errors import ConfigError

if TYPE_CHECKING:
    from cooldownd.core.intensity import Knobs
    from cooldownd.core.model import Athlete

CACHE_NAME = "settings.json"
_CACHE_ENTRIES = 4  # a shell and the systemd unit may differ in their COOLDOWND_ variables
_CODE = ("settings/__init__.py", "settings/sections.py", "core/quiet.py", "configfile.py")


def _xdg(var: str, default: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value and os.path.isabs(value) else Path.home() / default


def state_dir() -> Path:
    """``$XDG_STATE_HOME/cooldownd``."""
    return _xdg("XDG_STATE_HOME", ".local/state") / "cooldownd"


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/cooldownd`` (rendered pictures, chimes, the remembered settings)."""
    return _xdg("XDG_CACHE_HOME", ".cache") / "cooldownd"


def data_home() -> Path:
    """``$XDG_DATA_HOME`` (``~/.local/share``)."""
    return _xdg("XDG_DATA_HOME", ".local/share")


def data_dir() -> Path:
    """``$XDG_DATA_HOME/cooldownd`` (the report)."""
    return data_home() / "cooldownd"


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


def read_config(path: Path, required: bool) -> bytes | None:
    """The configuration file's bytes; None for a missing default file (all defaults)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: no such file; create it or drop --config/COOLDOWND_CONFIG") from None
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def environment_keys() -> list[tuple[str, str]]:
    """The ``COOLDOWND_`` variables pydantic-settings could read (it matches names case-insensitively)."""
    return sorted((k, v) for k, v in os.environ.items()
                  if k.lower().startswith("cooldownd_") and k.lower() != "cooldownd_config")


def store_file(configured: Path | None) -> Path:
    """The SQLite database: ``[store] path``, else ``$XDG_STATE_HOME/cooldownd/cooldownd.db``."""
    return configured.expanduser() if configured is not None else state_dir() / "cooldownd.db"


@dataclass(frozen=True, slots=True)
class StorePart:
    """``[store]`` as a snapshot holds it."""

    path: Path | None = None


@dataclass(frozen=True, slots=True)
class RoutinesPart:
    """``[routines]`` as a snapshot holds it."""

    file: Path | None = None


class Readings:
    """What every form of the settings derives the same way: ``Settings`` (pydantic), a quick command's
    :class:`Snapshot`, the daemon's ``plainsettings.PlainSettings``. Each has ``store``, ``athlete`` and
    ``intensity`` (sections, or dicts in a snapshot)."""

    __slots__ = ()

    def store_path(self) -> Path:
        """Where the SQLite database lives."""
        return store_file(self.store.path)  # type: ignore[attr-defined]

    def athlete_profile(self) -> Athlete:
        """``[athlete]`` as the core's value."""
        from cooldownd.core.model import Athlete

        return Athlete(**_values(self.athlete))  # type: ignore[attr-defined]

    def intensity_knobs(self) -> Knobs:
        """``[intensity]`` as the intensity model's constants."""
        from cooldownd.core.intensity import Knobs

        return Knobs(**_values(self.intensity))  # type: ignore[attr-defined]


class IntervalsReadings:
    """``[sources.intervals]`` as every form of the settings reads it (the model and the daemon's plain section)."""

    __slots__ = ()

    def configured(self) -> bool:
        """Whether intervals.icu is to be polled (a key or a key file is given)."""
        return bool(self.api_key.get_secret_value()) or self.api_key_file is not None  # type: ignore[attr-defined]


def _values(section: Any) -> dict[str, Any]:
    return section if isinstance(section, dict) else section.model_dump()


@dataclass(frozen=True, slots=True)
class Snapshot(Readings):
    """The validated values a quick command reads; the same methods as ``Settings`` for them."""

    store: StorePart = StorePart()
    routines: RoutinesPart = RoutinesPart()
    athlete: dict[str, Any] = field(default_factory=dict)
    intensity: dict[str, Any] = field(default_factory=dict)


def recall(explicit: str | os.PathLike[str] | None = None) -> Snapshot | None:
    """The defaults, or what a full validation of exactly this configuration kept; None: validate it
    (``quicksettings.snapshot`` does). Raises ConfigError for a file it cannot read."""
    path, required = config_path(explicit)
    data = read_config(path, required)
    env = environment_keys()
    if data is None and not env:
        return Snapshot()
    entry = _entries().get(_key(path, required, data, env))
    try:
        return None if entry is None else _from_json(entry)
    except (KeyError, TypeError, ValueError):
        return None


def of(settings: Any) -> Snapshot:
    """The snapshot of validated settings (a ``Settings``, or a Snapshot already)."""
    if isinstance(settings, Snapshot):
        return settings
    return Snapshot(StorePart(settings.store.path), RoutinesPart(settings.routines.file),
                    settings.athlete.model_dump(), settings.intensity.model_dump())


def remember(path: Path, required: bool, data: bytes | None, settings: Any) -> None:
    """Keep what a full validation of this configuration gave, for :func:`snapshot` (never raises)."""
    folder = cache_dir()
    key = _key(path, required, data, environment_keys())
    entries = _entries()
    entry = _to_json(of(settings))
    if entries.get(key) == entry:
        return
    entries.pop(key, None)
    entries[key] = entry
    kept = dict(list(entries.items())[-_CACHE_ENTRIES:])
    tmp = folder / f".{CACHE_NAME}.{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(kept, f)
        os.replace(tmp, folder / CACHE_NAME)
    except OSError:  # a cache: the next full validation tries again
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _key(path: Path, required: bool, data: bytes | None, env: list[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([str(path), required, env, _code()]).encode())
    h.update(b"\0missing" if data is None else b"\0" + data)
    return h.hexdigest()


def _code() -> list[list[int]]:
    """What validates: our settings modules and pydantic's (size and modification time of each)."""
    here = Path(__file__).parent
    files = [here / name for name in _CODE]
    try:
        import importlib.util

        for lib in ("pydantic", "pydantic_core", "pydantic_settings"):
            spec = importlib.util.find_spec(lib)
            if spec is not None and spec.origin:
                files.append(Path(spec.origin))
    except (ImportError, ValueError):
        pass
    out = []
    for f in files:
        try:
            st = f.stat()
            out.append([st.st_size, st.st_mtime_ns])
        except OSError:
            out.append([-1, -1])
    return out


def _entries() -> dict[str, Any]:
    try:
        with open(cache_dir() / CACHE_NAME, encoding="utf-8") as f:
            entries = json.load(f)
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _to_json(s: Snapshot) -> dict[str, Any]:
    return {"store": None if s.store.path is None else str(s.store.path),
            "routines": None if s.routines.file is None else str(s.routines.file),
            "athlete": s.athlete, "intensity": s.intensity}


def _from_json(entry: dict[str, Any]) -> Snapshot:
    store, routines = entry["store"], entry["routines"]
    athlete, intensity = dict(entry["athlete"]), dict(entry["intensity"])
    return Snapshot(StorePart(None if store is None else Path(store)),
                    RoutinesPart(None if routines is None else Path(routines)), athlete, intensity)
