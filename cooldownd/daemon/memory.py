"""Hand freed memory back to the system after a burst of work (an import, a walk-through).

CPython returns its own emptied arenas, but glibc keeps the pages of freed malloc chunks (a decoded
file's buffers, a worker thread's arena) mapped and counted in the daemon's RSS until something else
reuses them. ``malloc_trim(0)`` releases every whole free page of every arena (glibc >= 2.8). It costs
about a millisecond and is called only after work, never on a timer; elsewhere (musl, macOS) it is a
no-op. The unit also sets ``MALLOC_ARENA_MAX=2`` so the import and store threads share arenas
instead of each keeping one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


def release() -> None:
    """Collect cycles a burst of work left, then give whole free heap pages back (glibc)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
