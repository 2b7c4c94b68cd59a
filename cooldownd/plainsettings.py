"""The daemon's settings without pydantic in the daemon: validated in a child process, read back as plain values.

pydantic, its compiled core and the models it builds stay resident once imported: about 6 MB of a
daemon whose idle budget is 45 MB, for a validation done once at start and at each reload. So
``cooldownd run`` validates through a short-lived child (``python -c``, the same ``settings.load``:
same file, same ``COOLDOWND_`` environment, same one-line ConfigError) that sends the validated
values back as JSON over a pipe, and the daemon holds them as frozen :class:`Section` values with
the attribute names, equality and the few methods of the models. The API key crosses the pipe only,
never a file or a log line. Should the child fail for any other reason, the daemon validates in
process (as before this module), so a broken interpreter set-up costs memory, not the daemon.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cooldownd.configfile import IntervalsReadings, Readings
from cooldownd.errors import ConfigError

log = logging.getLogger(__name__)
_CHILD = "import sys\nfrom cooldownd.plainsettings import validated_json\nsys.stdout.write(validated_json(sys.argv[1:]))\n"
CHILD_TIMEOUT_S = 60.0


class Secret:
    """A validated secret (``SecretStr``'s reading side): shown as stars, compared by value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The secret itself."""
        return self._value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__


class Section:
    """One validated TOML table: read-only attributes, equal when the values are."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._values == self._values  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._values.items())})"

    def model_dump(self) -> dict[str, Any]:
        """The values as a dict (sections as dicts), as the model's ``model_dump`` gives them."""
        return {k: v.model_dump() if isinstance(v, Section) else v for k, v in self._values.items()}


class IntervalsSection(Section, IntervalsReadings):
    """``[sources.intervals]`` (``configured()``: IntervalsReadings)."""

    __slots__ = ()


class PlainSettings(Section, Readings):
    """The whole configuration, as ``settings.Settings`` reads (``store_path()`` and the rest: Readings)."""

    __slots__ = ()


_KINDS: dict[str, type[Section]] = {"Settings": PlainSettings, "IntervalsSettings": IntervalsSection}


# -- in the child: validate and encode --------------------------------------------------------------
def validated_json(argv: list[str]) -> str:
    """``settings.load(argv[0] or None)`` as JSON: ``{"settings": ..., "path": ...}`` or ``{"error": line}``."""
    from cooldownd import settings as cfg

    try:
        settings, path = cfg.load(argv[0] if argv else None)
    except ConfigError as exc:
        return json.dumps({"error": str(exc), "problems": list(exc.problems)})
    data = encode(settings)
    data["section"] = "Settings"  # with COOLDOWND_ variables set, a subclass read through pydantic-settings
    return json.dumps({"settings": data, "path": os.fsdecode(path)})


def encode(value: Any) -> Any:
    """A validated model (and its values) as JSON-able data :func:`decode` reads back."""
    fields = getattr(type(value), "model_fields", None)
    if fields is not None:
        return {"section": type(value).__name__, "values": {k: encode(getattr(value, k)) for k in fields}}
    if hasattr(value, "get_secret_value"):
        return {"secret": value.get_secret_value()}
    if isinstance(value, Path):
        return {"path": os.fsdecode(value)}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, dict | list):
        raise TypeError(f"plainsettings: no encoding for {type(value).__name__}")
    return value


def decode(data: Any) -> Any:
    """:func:`encode`'s data as plain values."""
    if not isinstance(data, dict):
        return data
    if "section" in data:
        kind = _KINDS.get(data["section"], Section)
        return kind({k: decode(v) for k, v in data["values"].items()})
    if "secret" in data:
        return Secret(data["secret"])
    if "path" in data:
        return Path(data["path"])
    return tuple(decode(v) for v in data["tuple"])


# -- in the daemon ------------------------------------------------------------------------------------
def load(explicit: str | os.PathLike[str] | None = None) -> tuple[Any, Path]:
    """``settings.load`` without importing pydantic here: the same values, path and ConfigError."""
    argv = [os.fspath(explicit)] if explicit is not None else []
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    try:
        out = subprocess.run([sys.executable, "-c", _CHILD, *argv], capture_output=True, env=env,
                             stdin=subprocess.DEVNULL, timeout=CHILD_TIMEOUT_S, check=True).stdout
        answer = json.loads(out)
        if "error" in answer:
            raise ConfigError(answer["error"], tuple(answer["problems"]))
        return decode(answer["settings"]), Path(answer["path"])
    except (OSError, ValueError, KeyError, TypeError, subprocess.SubprocessError) as exc:
        log.debug("settings: the validating child failed (%s); validating here", exc)
    from cooldownd import settings as cfg

    return cfg.load(explicit)
