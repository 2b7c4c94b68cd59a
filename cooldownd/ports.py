"""The seams the core-facing code talks through: one ``Protocol`` per edge.

- ``Store``: the state database as the recorder, the importer, the live path and the offers use
  it; the real class is ``cooldownd.store.Store`` (tests use it too, on real SQLite files).
- ``StatusSink``: where a supervisor reports what it is doing; the real one is
  ``cooldownd.daemon.status.Status`` (``cooldownd status``, systemd's STATUS=).
- The heart-rate source is ``cooldownd.live.events.HrSource`` (real: ``live.ble.HrLink``), the
  notifier ``cooldownd.desktop.notify.Notifier`` (real: the desktop and console backends).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cooldownd.core.series import Series
    from cooldownd.record.summary import Summary, WorkoutRow
    from cooldownd.store import FileRow

JournalRow = tuple[float, int, str | None, Sequence[float]]


class Store(Protocol):
    """The state database (synchronous; the daemon calls it on one worker thread)."""

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Group writes: all land or none; nested calls join the outer one."""

    # files
    def get_file(self, sha256: str) -> FileRow | None: ...
    def get_file_by_fit_id(self, serial: int, time_created: str) -> FileRow | None: ...
    def put_file(self, sha256: str, path: str, fit_serial: int | None, fit_time_created: str | None,
                 status: str, error: str | None) -> None: ...

    # workouts
    def add_workout(self, summary: Summary, *, source: str, richness: float = 0.0,
                    file_sha256: str | None = None) -> int: ...
    def hr_curve(self, workout_id: int) -> tuple[tuple[int, int], ...]: ...
    def set_summary(self, workout_id: int, summary: Summary) -> None: ...
    def starting_between(self, lo: float, hi: float) -> list[WorkoutRow]: ...
    def supersede(self, old_id: int, new_id: int) -> None: ...
    def current(self, workout_id: int) -> int: ...
    def get_workout(self, workout_id: int) -> WorkoutRow | None: ...
    def workouts(self, limit: int = 20, *, superseded: bool = False) -> list[WorkoutRow]: ...
    def history_max_hr(self, before: float | None = None) -> int | None: ...
    def put_series(self, workout_id: int, series: Series) -> None: ...
    def get_series(self, workout_id: int) -> Series | None: ...

    # walk-throughs
    def was_offered(self, workout_id: int) -> bool: ...
    def mark_offered(self, workout_id: int, t: float) -> None: ...
    def record_outcome(self, workout_id: int, outcome: dict[str, Any]) -> None: ...

    # small remembered values and the live journal
    def get_kv(self, key: str) -> str | None: ...
    def set_kv(self, key: str, value: str) -> None: ...
    def journal_open(self, device: str | None, t: float) -> int: ...
    def journal_append(self, session_id: int, samples: Sequence[JournalRow]) -> None: ...
    def journal_unfinished(self) -> tuple[int, str | None, list[tuple[float, int, str | None, tuple[float, ...]]]] | None: ...
    def journal_close(self, session_id: int, t: float) -> None: ...


class StatusSink(Protocol):
    """What the daemon is doing, as the supervisors report it."""

    def update(self, **changes: Any) -> None:
        """Merge ``changes`` (folders, ble, pending_offer...) into the status."""

    def device(self, **changes: Any) -> None:
        """Merge ``changes`` into the strap's part of the status (address, state, hr, battery...)."""

    def note_workout(self, summary: Summary) -> None:
        """A workout was recorded: the newest one shows in the status line."""

    def source(self, name: str, **fields: Any) -> None:
        """Merge ``fields`` into the status of source ``name`` (sources/: state, label, last_delivered...)."""
