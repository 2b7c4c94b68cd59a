"""Read a routines file (the packaged default or the user's own) into a validated Library."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from cooldownd.core.routines import Library, RoutineError, parse_library
from cooldownd.errors import ConfigError

PACKAGED = "routines.toml"


def load_library(path: Path | None = None) -> Library:
    """Parse and validate ``path`` (None = the packaged routines.toml); raises ConfigError naming the file."""
    if path is None:
        resource = resources.files("cooldownd._config") / PACKAGED
        name = f"(packaged) {resource}"
        reader = resource.read_bytes
    else:
        name = str(path)
        reader = Path(path).read_bytes
    try:
        data = tomllib.loads(reader().decode("utf-8"))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"{name}: cannot read: {reason}; check routines.file") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: invalid TOML: {exc}") from exc
    try:
        return parse_library(data)
    except RoutineError as exc:
        raise ConfigError(f"{name}: {exc}") from exc
