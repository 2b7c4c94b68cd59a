"""The one retry policy (core/retry.py): a pure function, so a table and a property, no clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cooldownd.core.retry import JITTER, backoff


@pytest.mark.parametrize(("attempt", "rand", "expected"), [
    (0, 0.0, 1.0), (1, 0.0, 2.0), (2, 0.0, 4.0), (5, 0.0, 32.0), (6, 0.0, 60.0), (100, 0.0, 60.0),
    (0, 1.0, 0.75), (6, 1.0, 45.0), (3, 0.5, 7.0), (-1, 0.0, 1.0),
])
def test_backoff_table(attempt: int, rand: float, expected: float) -> None:
    assert backoff(attempt, rand) == pytest.approx(expected)


@given(st.integers(0, 10_000), st.floats(0, 1), st.floats(0.01, 10), st.floats(10, 600))
def test_backoff_monotone_capped_and_jittered(attempt: int, rand: float, base: float, cap: float) -> None:
    delay = backoff(attempt, rand, base, cap)
    nominal = min(cap, base * 2.0 ** min(attempt, 64))
    assert nominal * (1 - JITTER) - 1e-9 <= delay <= nominal <= cap
    assert delay <= backoff(attempt + 1, rand, base, cap) + 1e-9
