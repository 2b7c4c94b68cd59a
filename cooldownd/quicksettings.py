"""The settings of a quick command (``status``, ``history``, ``import``, ``reassess``), without pydantic
when it can: the defaults or a remembered validation (configfile.py), else the full validation."""

from __future__ import annotations

import os

from cooldownd.configfile import Snapshot, of, recall


def snapshot(explicit: str | os.PathLike[str] | None = None) -> Snapshot:
    """The validated values a quick command reads; raises ConfigError as ``settings.load`` does."""
    quick = recall(explicit)
    if quick is not None:
        return quick
    from cooldownd import settings as cfg

    return of(cfg.load(explicit)[0])  # remembers them for the next command (configfile.remember)
