"""``cooldownd config path | show | check``; ``show`` prints the effective configuration as TOML you can feed
back (unset values commented out, secrets masked: never the key itself)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pydantic import BaseModel, SecretStr

from cooldownd import settings as cfg
from cooldownd.errors import ConfigError


def cmd_config(args: argparse.Namespace) -> int:
    """config path | show | check."""
    if args.action == "path":
        path, _ = cfg.config_path(args.config)
        print(path)
        return 0
    try:
        settings, path = cfg.load(args.config)
    except ConfigError as exc:
        if args.action != "check" or len(exc.problems) < 2:
            raise
        for problem in exc.problems:  # check: every problem, a line each
            print(f"cooldownd: configuration error: {problem}", file=sys.stderr)
        from cooldownd.cli import EXIT_CONFIG

        return EXIT_CONFIG
    from cooldownd.routinefile import load_library

    load_library(settings.routines.file)
    if args.action == "show":
        print(to_toml(settings), end="")
    else:
        from cooldownd.sources.intervals import key_warnings

        for line in key_warnings(settings.sources.intervals, path if path.exists() else None):
            print(f"cooldownd: warning: {line}", file=sys.stderr)
        where = path if path.exists() else f"{path} (not present: all defaults)"
        print(f"configuration OK: {where}")
    return 0


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_toml(settings: cfg.Settings) -> str:
    """The effective configuration as TOML; unset values appear commented out, secrets masked."""
    lines: list[str] = []
    for section in type(settings).model_fields:
        _toml_table(lines, section, getattr(settings, section))
    return "\n".join(lines)


def _toml_table(lines: list[str], name: str, model: BaseModel) -> None:
    lines.append(f"[{name}]")
    tables = []
    for key in type(model).model_fields:
        value = getattr(model, key)
        if isinstance(value, BaseModel):
            tables.append((f"{name}.{key}", value))
        elif value is None:
            lines.append(f"# {key} = (not set)")
        elif isinstance(value, SecretStr):  # never the secret itself; commented so feeding it back sets nothing
            lines.append(f"# {key} = (set, hidden)" if value.get_secret_value() else f'{key} = ""')
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    lines.append("")
    for sub, value in tables:
        _toml_table(lines, sub, value)
