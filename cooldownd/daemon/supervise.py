"""Each supervisor's error boundary (log, back off, restart) and the exit backstop after a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from cooldownd.core.retry import backoff
from cooldownd.errors import CooldownError

log = logging.getLogger(__name__)
HEALTHY_S = 300.0  # a supervisor that ran this long starts its backoff afresh


def exit_backstop(deadline_s: float) -> None:
    """End the process ``deadline_s`` from now if it has not ended by itself (a thread that never returns)."""

    def expire() -> None:
        log.warning("cooldownd: not stopped %.1f s after the signal (a worker is blocked); exiting now", deadline_s)
        with contextlib.suppress(Exception):
            for handler in logging.getLogger().handlers:
                handler.flush()
        os._exit(0)

    timer = threading.Timer(deadline_s, expire)
    timer.daemon = True  # a process that ends by itself in time does not wait for it
    timer.start()


async def supervise(name: str, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``fn`` until it returns: log a failure, back off (``core.retry.backoff``), restart."""
    failures = 0
    while True:
        t0 = time.monotonic()
        try:
            await fn()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if time.monotonic() - t0 > HEALTHY_S:
                failures = 0
            delay = backoff(failures, random.random())
            failures += 1
            if isinstance(exc, CooldownError):
                log.error("%s: %s; retrying in %.0f s", name, exc, delay)
            else:
                log.exception("%s: failed; restarting in %.0f s", name, delay)
        await asyncio.sleep(delay)
