"""What a restart finds of the last run's offers: bubbles to close, a walk-through cut off, an offer still due.

An offer writes down its progress as it goes (``offers.record_progress``: phase, snoozes, the bubble on
screen). At start the daemon closes any bubble a previous run left (a SIGKILL or a crash leaves one
with dead buttons), records a walk-through that was under way as ``interrupted``, and offers again
the newest offer that was pending or snoozed, if it is still within ``notify.max_age`` on the wall
clock (after its snooze, if one was running).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from cooldownd.core.coach import fresh
from cooldownd.asyncstore import AsyncStore
from cooldownd.store import Store, WorkoutRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resume:
    """An offer to make again: its workout, the snoozes used, and not before this wall time."""

    workout_id: int
    snoozes: int
    not_before: float | None


def unfinished(rows: list[WorkoutRow]) -> list[WorkoutRow]:
    """Workouts offered whose walk-through has no result yet (a run ended mid-way)."""
    return [r for r in rows if r.offered_at is not None and (r.outcome is None or r.outcome.get("result") is None)]


async def close_bubble(bubble: dict[str, Any] | None) -> bool:
    """Close a bubble a previous run left, if the same server still shows it (ids are per server)."""
    from cooldownd.desktop.fdo import BUS_NAME, _call, probe

    if not bubble or not bubble.get("id"):
        return False
    found = await probe()
    if found is None:
        return False
    bus, server = found
    try:
        if server.owner != bubble.get("server"):
            log.info("%s: restarted since; bubble %s is gone with it", BUS_NAME, bubble.get("id"))
            return False
        await _call(bus, "CloseNotification", "u", [int(bubble["id"])])
        return True
    except Exception as exc:  # gone already
        log.debug("%s: closing bubble %s: %s", BUS_NAME, bubble.get("id"), exc)
        return False
    finally:
        bus.disconnect()


async def resume_pending(store: AsyncStore, max_age_s: float, now: float | None = None) -> Resume | None:
    """Tidy up after the last run; returns the offer to make again, if any."""
    now = time.time() if now is None else now
    again: Resume | None = None
    for row in unfinished(await store.call(Store.workouts, 50)):  # newest first
        state = dict(row.outcome or {}, offered_at=row.offered_at)
        if await close_bubble(state.get("bubble")):
            log.info("workout %d: closed the bubble the last run left on screen", row.id)
        state["bubble"] = None
        if state.get("started_at") is not None:
            log.info("workout %d: the walk-through was cut off by a restart: interrupted", row.id)
            state.update(result="interrupted", ended_at=now)
        elif again is None and fresh(row.end, now, max_age_s):
            again = Resume(row.id, int(state.get("snoozes") or 0), state.get("snoozed_until"))
            log.info("workout %d: its offer was %s when the last run ended; offering it again", row.id,
                     state.get("phase") or "pending")
            continue
        else:
            state.update(result="expired" if again is None else "superseded", ended_at=now)
        await store.call(Store.record_outcome, row.id, state)
    return again
