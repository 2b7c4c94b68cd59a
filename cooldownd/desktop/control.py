"""Control without buttons: ``cooldownd start|next|later|stop`` over a small session-bus interface of our own.

The running daemon owns ``org.cooldownd.Walk`` for its whole life, letting others take it; a
foreground ``routine``, ``demo`` or ``import`` takes it over for its own walk-through and hands it
back when it ends (the bus queues the daemon meanwhile). ``Act(command)`` presses what the command
stands for on the card on screen and answers once the walk has acted: (true, what is shown now) or
(false, why there is nothing to act on). Any key binding can run the commands (README).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from cooldownd.core.coach import Phase
from cooldownd.desktop.bus_names import CONTROL_IFACE, CONTROL_NAME, CONTROL_PATH
from cooldownd.desktop.notify import Press
from cooldownd.desktop.walk import Stage

log = logging.getLogger(__name__)
COMMANDS = ("start", "next", "later", "stop")
ACT_TIMEOUT_S = 5.0
# What ``cooldownd start|next|later|stop`` presses on the card on screen (None: nothing to act on).
BUTTONS_FOR = {
    Phase.OFFER: {"start": "start", "next": "start", "later": "later", "stop": "skip"},
    Phase.SNOOZED: {"start": "start", "next": "start", "stop": "skip"},
    Phase.STEP: {"next": "next", "stop": "stop"},
}


def command_button(phase: Phase, command: str) -> str | None:
    """The button a control command stands for in ``phase``."""
    return BUTTONS_FOR.get(phase, {}).get(command)


_WHERE = {Phase.OFFER: "the offer is on screen", Phase.SNOOZED: "the offer is snoozed",
          Phase.STEP: "the cool-down is under way"}


async def act(stage: Stage, command: str) -> tuple[bool, str]:
    """Carry out ``command`` on the stage's walk: (done, what is shown now) or (False, why not)."""
    if command not in COMMANDS:
        return False, f"unknown command {command!r}; use {', '.join(COMMANDS)}"
    coach = stage.coach
    if coach is None or coach.done or stage.presses is None:
        return False, "nothing to act on: no cool-down on screen"
    button = command_button(coach.phase, command)
    if button is None:
        return False, f"nothing to {command}: {_WHERE.get(coach.phase, 'the cool-down is over')}"
    reply: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    stage.presses.put_nowait(Press(button, stage.card, command=True, reply=reply))
    try:
        async with asyncio.timeout(ACT_TIMEOUT_S):
            shown = await reply
    except TimeoutError:
        return False, f"{command}: the walk-through did not answer within {ACT_TIMEOUT_S:.0f} s"
    return True, _said(button, shown)


def _said(button: str, shown: str) -> str:
    if shown in ("snoozed", "skipped", "snoozed_out", "expired"):
        return {"snoozed": "later: the offer will come back", "skipped": "skipped"}.get(shown, shown.replace("_", " "))
    return f"{button}: {shown}" if shown else f"{button}: nothing changed"


def _interface(stage: Stage) -> Any:
    from dbus_fast.service import ServiceInterface, method

    class WalkControl(ServiceInterface):
        """org.cooldownd.Walk1: Act(command) -> (done, text)."""

        def __init__(self) -> None:
            super().__init__(CONTROL_IFACE)
            self.busy = 0  # Act calls not answered yet
            self.idle = asyncio.Event()
            self.idle.set()

        @method()
        async def Act(self, command: "s") -> "bs":  # type: ignore[name-defined] # noqa: F821, N802
            self.busy += 1
            self.idle.clear()
            try:
                ok, text = await act(stage, command)
            finally:
                self.busy -= 1
                if not self.busy:
                    self.idle.set()
            return [ok, text]

    return WalkControl()


async def _answer_pending(bus: Any, control: Any) -> None:
    """Before leaving the bus: let Act calls finish and their replies go out (the last `next` ends the walk)."""
    from dbus_fast import Message

    with contextlib.suppress(Exception):
        async with asyncio.timeout(1.0):
            await control.idle.wait()
            # Messages leave in order: once this round trip is answered, the replies before it were sent.
            await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                   interface="org.freedesktop.DBus.Peer", member="Ping"))


@contextlib.asynccontextmanager
async def serving(stage: Stage, *, take_over: bool) -> AsyncIterator[bool]:
    """Answer control commands for ``stage`` while inside; yields False when there is no session bus.

    ``take_over``: a foreground walk takes the name from the daemon for its own duration.
    """
    from dbus_fast.aio import MessageBus
    from dbus_fast.constants import NameFlag

    bus: Any = None
    control = _interface(stage)
    try:
        async with asyncio.timeout(2.0):
            bus = await MessageBus().connect()
            bus.export(CONTROL_PATH, control)
            flags = NameFlag.ALLOW_REPLACEMENT | (NameFlag.REPLACE_EXISTING if take_over else NameFlag.NONE)
            await bus.request_name(CONTROL_NAME, flags)
    except Exception as exc:  # no session bus: the walk works, commands cannot reach it
        log.debug("%s: not serving control commands (%s)", CONTROL_NAME, exc or type(exc).__name__)
        if bus is not None:
            bus.disconnect()
        yield False
        return
    try:
        yield True
    finally:
        await _answer_pending(bus, control)
        bus.disconnect()
