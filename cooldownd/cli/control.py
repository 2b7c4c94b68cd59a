"""``cooldownd start|next|later|stop``: act on the running cooldownd's current card, over the session bus.

Exit 0 once the walk-through acted (prints what is on screen now); exit 1 with one line when no
cooldownd is running on this desktop session or there is nothing to act on. Light on imports: a key
binding runs it, and the card should follow the key at once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from cooldownd.desktop.bus_names import CONTROL_IFACE, CONTROL_NAME, CONTROL_PATH
from cooldownd.errors import CooldownError

log = logging.getLogger(__name__)
TIMEOUT_S = 8.0
_NOT_RUNNING = ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner")


def cmd_control(args: argparse.Namespace) -> int:
    """Send ``args.command`` to the walk-through on screen."""
    ok, text = asyncio.run(send(args.command))
    if not ok:
        raise CooldownError(f"{args.command}: {text}")
    print(text)
    return 0


async def send(command: str) -> tuple[bool, str]:
    """Ask whoever owns org.cooldownd.Walk to carry out ``command``: (done, text)."""
    from dbus_fast import Message, MessageType
    from dbus_fast.aio import MessageBus

    bus = None
    try:
        async with asyncio.timeout(TIMEOUT_S):
            bus = await MessageBus().connect()
            reply = await bus.call(Message(destination=CONTROL_NAME, path=CONTROL_PATH, interface=CONTROL_IFACE,
                                           member="Act", signature="s", body=[command]))
    except TimeoutError:
        return False, f"cooldownd did not answer within {TIMEOUT_S:.0f} s"
    except Exception as exc:  # no address, a dead bus socket, a refused connection
        log.debug("session bus: %s: %s", type(exc).__name__, exc)  # -v: which
        return False, "no session bus to reach cooldownd; run this inside your desktop session"
    finally:
        if bus is not None:
            bus.disconnect()
    if reply.message_type is MessageType.ERROR:
        if reply.error_name in _NOT_RUNNING:
            return False, ("cooldownd is not running in this desktop session, so there is nothing to act on "
                           "(start it: systemctl --user start cooldownd)")
        return False, f"cooldownd refused: {reply.error_name}: {reply.body[0] if reply.body else ''}"
    ok, text = reply.body
    return bool(ok), str(text)
