"""The store opened to read only (history, status, report): safe next to a running daemon.

Nothing is created, migrated, moved aside or chmod-ed, and a file replaced meanwhile is not followed
(``database.open_readonly``); WAL readers never block the daemon's writes.
"""

from __future__ import annotations

from pathlib import Path

from cooldownd import database
from cooldownd.store import Store


def open_readonly(path: Path) -> Store | None:
    """A read-only Store on ``path``, or None when there is no database yet; ``version`` is the file's
    schema (older than this cooldownd's when no writer has upgraded it). A damaged file raises StoreError."""
    path = Path(path)
    if not path.is_file():
        return None
    conn, version = database.open_readonly(path)
    store = Store(conn, path)
    store.readonly, store.version = True, version
    return store
