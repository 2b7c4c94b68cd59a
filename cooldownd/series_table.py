"""The ``series`` table: one compact time line per workout (core/series.py), behind three Store methods.

The recorder writes it (``record/recorder.record``) in the workout's own transaction; the report
reads it for its curves, the done card for its heart-rate chart (``hr_curve``). A mixin of
:class:`cooldownd.store.Store`, kept apart so store.py stays one screenful of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cooldownd.core.series import Series, decode, encode
from cooldownd.database import SCHEMA_VERSION

SINCE_SCHEMA = 4  # database.MIGRATIONS[4] made the table


class SeriesTable:
    """put_series / get_series / hr_curve, and how the file was opened; needs the Store's ``_exec``."""

    readonly = False  # reader.open_readonly: never reopened read-write behind the caller's back
    version = SCHEMA_VERSION  # the file's schema (older only when opened read-only)
    _exec: Callable[..., Any]

    def put_series(self, workout_id: int, series: Series) -> None:
        """Keep a workout's compact time line (replaces an earlier one)."""
        self._exec("INSERT OR REPLACE INTO series VALUES (?, ?)", (workout_id, encode(series)))

    def get_series(self, workout_id: int) -> Series | None:
        """A workout's compact time line, or None (none kept, unreadable, or a file older than the table)."""
        if self.version < SINCE_SCHEMA:  # read-only, on a file no writer has upgraded yet
            return None
        row = self._exec("SELECT data FROM series WHERE workout_id = ?", (workout_id,)).fetchone()
        return decode(row[0]) if row else None

    def hr_curve(self, workout_id: int) -> tuple[tuple[int, int], ...]:
        """The done card's heart-rate curve: (seconds from start, bpm), about 120 points, the effort only; ()."""
        from cooldownd.core.hrcurve import compact

        line = self.get_series(workout_id)
        if line is None:
            return ()
        return compact(line.hr_points(), 0, line.end_index * line.step_s)
