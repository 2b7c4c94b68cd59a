"""How long to wait before trying again: the one backoff policy (the strap's link, every supervisor).

A pure function, as bleak-retry-connector's ``calculate_backoff_time``: the caller passes the
attempt number and a random number, so tests need no clock and no randomness.
"""

from __future__ import annotations

JITTER = 0.25  # a backoff is shortened by up to this fraction so many daemons do not retry in step


def backoff(attempt: int, rand: float, base: float = 1.0, cap: float = 60.0) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): base doubling up to cap, less jitter * rand."""
    nominal = min(cap, base * 2.0 ** min(max(attempt, 0), 64))
    return nominal * (1.0 - JITTER * min(max(rand, 0.0), 1.0))
