"""As-of profile: every stored workout is judged with the athlete profile as it stood at its start.

Configured values, else the file's own, else estimates from the history BEFORE that workout (the
highest heart rate of the workouts that started earlier). Importing older history changes "before"
for the newer workouts, so after each import ``settle`` judges again every stored workout from the
earliest one imported on, from the facts kept with it (no file is read again), and returns the
ones whose numbers changed so the caller says so. Whatever the import order (one batch or one file
at a time, one core or several), each workout ends with the numbers of the same history: the set
of workouts before it. ``reassess`` does the same for all workouts after ``[athlete]`` or
``[intensity]`` changed; ``reassess_if_changed`` runs it once when such a change is first noticed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import TYPE_CHECKING, Any, NamedTuple

from cooldownd.record.recorder import Rules, rejudge

if TYPE_CHECKING:
    from cooldownd.ports import Store
    from cooldownd.record.summary import Summary

_KEY = "assessed_with"  # kv: fingerprint of the rules stored workouts were judged with


class Change(NamedTuple):
    """A stored workout whose numbers changed: its id, and the summary before and after."""

    id: int
    before: Summary
    after: Summary


def settle(store: Store, rules: Rules, since: float = float("-inf")) -> list[Change]:
    """Judge again every stored workout starting at or after ``since`` with its as-of history."""
    changes: list[Change] = []
    with store.transaction():
        rows = store.starting_between(since, float("inf"))
        history = store.history_max_hr(before=rows[0].start) if rows else None
        i = 0
        while i < len(rows):
            same_start = [r for r in rows[i:] if r.start == rows[i].start]
            for row in same_start:
                new = rejudge(row.summary, rules, history)
                if new != row.summary:
                    store.set_summary(row.id, new)
                    changes.append(Change(row.id, row.summary, new))
            peaks = [r.summary.max_hr for r in same_start if r.summary.max_hr] + ([history] if history else [])
            history = max(peaks, default=None)
            i += len(same_start)
    return changes


def rules_of(settings: Any, library: Any = None) -> Rules:
    """The recorder's rules from the settings (``library``: the routines, loaded when not given)."""
    import datetime as dt

    from cooldownd.routinefile import load_library

    return Rules(settings.athlete_profile(), settings.intensity_knobs(),
                 library or load_library(settings.routines.file), dt.date.today().year)


def fingerprint(rules: Rules) -> str:
    """What the stored numbers depend on besides the workouts: ``[athlete]`` and ``[intensity]``."""
    data = {"athlete": dataclasses.asdict(rules.athlete), "knobs": dataclasses.asdict(rules.knobs)}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def reassess(store: Store, rules: Rules) -> list[Change]:
    """Judge every stored workout again with ``rules`` (after a settings change); remember them."""
    changes = settle(store, rules)
    store.set_kv(_KEY, fingerprint(rules))
    return changes


def reassess_if_changed(store: Store, rules: Rules) -> list[Change] | None:
    """``reassess`` once when the settings differ from the ones the stored numbers were judged with.

    None when nothing changed (or on a fresh store: nothing judged yet, the fingerprint is just kept).
    """
    known = store.get_kv(_KEY)
    now = fingerprint(rules)
    if known == now:
        return None
    if known is None:
        store.set_kv(_KEY, now)
        if not store.workouts(limit=1):
            return None
    return reassess(store, rules)
