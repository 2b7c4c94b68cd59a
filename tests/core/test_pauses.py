"""Pauses.each: the one-walk version of Pauses.running gives the same seconds, span by span."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cooldownd.core.metrics import Pauses

times = st.floats(min_value=-50, max_value=500, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(times, times), max_size=6), st.lists(st.tuples(times, times), max_size=60),
       st.booleans())
def test_each_equals_running_span_by_span(pauses, spans, grow) -> None:
    if grow:  # the usual case: spans along a sorted time line
        spans = sorted(spans)
    p = Pauses(pauses)
    assert p.each(spans) == [p.running(a, b) for a, b in spans]
