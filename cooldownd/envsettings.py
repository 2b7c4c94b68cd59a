"""The ``COOLDOWND_`` environment read through pydantic-settings, for ``settings.load``.

Importing pydantic-settings costs more than the rest of a CLI command's start (it pulls in asyncio,
ssl, argparse...), so ``settings.load`` comes here only when such a variable is set; without one,
what pydantic-settings would build is the TOML file under the values passed in code (``merged``).
"""

from __future__ import annotations

import contextvars
import functools
import os
from typing import Any

_toml: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("_toml", default={})


def any_set() -> bool:
    """Any ``COOLDOWND_`` variable pydantic-settings could read (it matches names case-insensitively)."""
    return any(k.lower().startswith("cooldownd_") and k.lower() != "cooldownd_config" for k in os.environ)


def merged(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` over ``base``, tables merged key by key (pydantic-settings' deep update)."""
    out = dict(base)
    for key, value in update.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merged(out[key], value) if both else value
    return out


def read(model: type, toml: dict[str, Any], init: dict[str, Any]) -> Any:
    """``model`` from init values > the environment > the TOML file (raises pydantic's ValidationError)."""
    token = _toml.set(toml)
    try:
        return _reader(model)(**init)
    finally:
        _toml.reset(token)


@functools.cache
def _reader(model: type) -> type:
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

    class TomlSource(PydanticBaseSettingsSource):
        """The already-parsed TOML file (parsed by ``settings.load`` so syntax errors name the file)."""

        def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
            return _toml.get().get(field_name), field_name, False

        def __call__(self) -> dict[str, Any]:
            return dict(_toml.get())

    class FromEnvironment(BaseSettings, model):  # type: ignore[misc, valid-type]
        model_config = SettingsConfigDict(env_prefix="COOLDOWND_", env_nested_delimiter="__", extra="forbid",
                                          frozen=True, nested_model_default_partial_update=True)

        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                       file_secret_settings):  # noqa: D102
            return (init_settings, env_settings, TomlSource(settings_cls))

    return FromEnvironment
