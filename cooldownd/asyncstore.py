"""The store for asyncio code: every call runs on one dedicated worker thread, so the loop never waits on disk."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from cooldownd.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")


class AsyncStore:
    """The store for asyncio code: every call runs on one dedicated worker thread."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cooldownd-store")

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(store, *args)`` on the store thread."""
        import asyncio  # the daemon's store only: commands open the store without asyncio

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(self.store, *args))

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(store, *args)`` on the store thread without waiting; a failure is logged."""

        def run() -> None:
            try:
                fn(self.store, *args)
            except Exception:
                log.exception("%s: background write failed", self.store.path)

        self._pool.submit(run)

    def stop(self) -> None:
        """Finish queued work and stop the worker thread; the store stays open."""
        self._pool.shutdown(wait=True)

    def close(self) -> None:
        """Finish queued work and close the database."""
        self.stop()
        self.store.close()
