"""The desktop backend: one bubble on org.freedesktop.Notifications, spoken to directly over dbus-fast.

dbus-fast comes with desktop-notifier, which stays the dependency; a walk-through needs what
desktop-notifier 6.2 cannot send or tell: ``replaces_id`` (one bubble updated in place), raw hints
(``value``, ``resident``, ``transient``, ``suppress-sound``, ``desktop-entry``) and which bubble a
press was made on (it forgets a notification after its first press, so a second press lands on the
replacing card). The server is probed once: its capabilities, its name and its unique bus name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cooldownd.core import wording
from cooldownd.core.coach import Card
from cooldownd.desktop.base import BODY_MAX, CALL_TIMEOUT_S, TITLE_MAX, ConsoleBackend, Press, clip, markup_safe

if TYPE_CHECKING:
    from dbus_fast import Message
    from dbus_fast.aio import MessageBus

    from cooldownd.desktop.base import CardExtras

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.Notifications"
BUS_PATH = "/org/freedesktop/Notifications"
APP_NAME = "cooldownd"
CLOSED_BY_USER = 2
# Servers that take actions but draw no buttons (testing-desktop.md): the cards say how to steer.
NO_BUTTONS_DRAWN = {"dunst": wording.HINT_DUNST, "mako": wording.HINT_MAKO}
# Servers that draw a ``value`` hint as a bar beside the text. xfce4-notifyd (and notify-osd) turn a
# card with ``value`` into a bare gauge: no title, no text, no buttons. So only where seen to work.
DRAWS_PROGRESS = frozenset({"dunst", "mako"})


@dataclass(frozen=True)
class Server:
    """The notification server as probed once: its capabilities, name and bus connection."""

    capabilities: frozenset[str]
    name: str = ""
    owner: str = ""  # its unique bus name: a restarted server has another (and other ids)


class DesktopBackend:
    """One bubble on org.freedesktop.Notifications, each card replacing the last in place."""

    name = "desktop"

    def __init__(self, bus: MessageBus | None, server: Server, *, app_name: str = APP_NAME, icon: Path | None = None,
                 fallback: ConsoleBackend | None = None, sound: bool = False, cues: CardExtras | None = None) -> None:
        self.bus, self.server = bus, server
        self.capabilities = server.capabilities
        self.has_buttons = "actions" in server.capabilities
        self.hint = NO_BUTTONS_DRAWN.get(server.name, "") if self.has_buttons else wording.HINT_AUTO
        self.presses: asyncio.Queue[Press] = asyncio.Queue()
        self.fallback = fallback if fallback is not None else ConsoleBackend(sys.stderr)
        self.app_name, self.sound, self.cues = app_name, sound, cues
        self.icon = icon if icon is not None else cues.icon() if cues is not None else _packaged_icon()
        self.bubble: int | None = None  # the server's id of our bubble on screen
        self._card: Card | None = None  # the card it shows
        self._acted: int | None = None  # seq of a card a button was pressed on (the server may close it next)
        self._lost = not server.owner  # no server known (yet): learn its name once one answers
        self.sent = 0  # cards the server accepted
        self.failed = 0  # cards that went to the fallback
        if bus is not None:
            bus.add_message_handler(self._on_message)

    @property
    def on_screen(self) -> dict[str, object] | None:
        """Our bubble on screen, as a restart needs it to close it: the server (unique name) and the id."""
        return {"server": self.server.owner, "id": self.bubble} if self.bubble else None

    async def show(self, card: Card) -> None:
        """Replace the bubble's card with ``card``; on failure print it on the fallback."""
        try:
            nid = await self._call("Notify", "susssasa{sv}i", [
                self.app_name, self.bubble or 0, self.icon.as_uri(), clip(card.title, TITLE_MAX),
                markup_safe(clip(card.body, BODY_MAX)), self._actions(card), self._hints(card),
                -1 if card.kind == "done" else 0])  # offer and steps stay until replaced; the done card may go
        except Exception as exc:  # no bus, no server, a server gone or refusing: print instead
            self.bubble, self._card, self._lost = None, None, True  # a restarted server has other ids
            self.failed += 1
            log.warning("%s: card %r not shown on the desktop (%s); printing it instead", BUS_NAME, card.title, exc)
            await self.fallback.show(card)
            return
        self.bubble, self._card = nid, card
        self.sent += 1
        if self._lost:  # a server came (back): its unique name is what a restart checks before closing
            self._lost = False
            with contextlib.suppress(Exception):
                owner = await self._call("GetNameOwner", "s", [BUS_NAME], destination="org.freedesktop.DBus",
                                         path="/org/freedesktop/DBus", interface="org.freedesktop.DBus")
                self.server = replace(self.server, owner=str(owner))

    def _actions(self, card: Card) -> list[str]:
        if not self.has_buttons or not card.buttons:
            return []  # a card without buttons (the closing one) offers nothing to click either
        # xfce4-notifyd has no click on the body and would draw "default" as an empty button.
        actions = [] if self.server.name == "Xfce Notify Daemon" else ["default", ""]
        for bid, label in card.buttons:
            actions += [bid, label]
        return actions

    def _hints(self, card: Card) -> dict[str, Any]:
        from dbus_fast import Variant

        hints = {"urgency": Variant("y", 1), "desktop-entry": Variant("s", APP_NAME)}
        if card.buttons:
            hints["resident"] = Variant("b", True)  # stays after a press until we replace it
        if card.kind == "step":
            hints["transient"] = Variant("b", True)  # no pile of old steps in the history
            if card.progress is not None and self.server.name in DRAWS_PROGRESS:
                hints["value"] = Variant("i", card.progress)
        media = self.cues.card_media(card) if self.cues is not None else None
        if media is not None and media.image is not None:
            hints["image-path"] = Variant("s", media.image.as_uri())
        if media is not None and media.sound_file is not None:  # a new card, or the update saying the hold is over
            hints["sound-file"] = Variant("s", str(media.sound_file))  # the spec's sound-file is a path
        elif card.update:
            hints["suppress-sound"] = Variant("b", True)  # rings once per card, not on every update
        elif media is None and self.sound:
            hints["sound-name"] = Variant("s", "message-new-instant")
        return hints

    async def close(self) -> None:
        """Close the bubble, even one the server kept after a press (dunst does)."""
        nid, self.bubble, self._card = self.bubble, None, None
        if nid:
            await self.close_id(nid)

    async def close_id(self, nid: int) -> None:
        """Close bubble ``nid`` of this server; never raises (it may be gone already)."""
        try:
            await self._call("CloseNotification", "u", [nid])
        except Exception as exc:
            log.debug("%s: closing %d: %s", BUS_NAME, nid, exc)

    async def aclose(self) -> None:
        """Disconnect from the session bus."""
        if self.bus is not None:
            self.bus.remove_message_handler(self._on_message)
            self.bus.disconnect()
            self.bus = None

    async def _call(self, member: str, signature: str, body: list[Any], **where: str) -> Any:
        if self.bus is None or not self.bus.connected:
            self.bus = await _connect_signals(self._on_message)
        return await _call(self.bus, member, signature, body, **where)

    def _on_message(self, msg: Message) -> None:
        """ActionInvoked / NotificationClosed: a press counts only on the bubble it was made on."""
        if msg.interface != BUS_NAME or msg.path != BUS_PATH or msg.member not in ("ActionInvoked",
                                                                                  "NotificationClosed"):
            return
        nid, card = msg.body[0], self._card
        if nid != self.bubble or card is None:
            return  # an older bubble, or one that is not ours
        if msg.member == "ActionInvoked":
            self._acted = card.seq
            self.presses.put_nowait(Press(str(msg.body[1]), card))
            return
        self.bubble = None  # gone from the screen: the next card opens a new bubble
        if msg.body[1] == CLOSED_BY_USER and self._acted != card.seq:
            self.presses.put_nowait(Press("dismissed", card))  # not the server's own close after a press


def _packaged_icon() -> Path:
    from cooldownd.desktop.media import ICON, asset

    return asset(ICON)


_MATCH = f"type='signal',sender='{BUS_NAME}',interface='{BUS_NAME}',path='{BUS_PATH}'"


async def _connect_signals(handler: Any = None) -> MessageBus:
    """A session-bus connection that receives the server's signals (bounded by CALL_TIMEOUT_S)."""
    from dbus_fast.aio import MessageBus

    async with asyncio.timeout(CALL_TIMEOUT_S):
        bus = await MessageBus().connect()
        try:
            await _call(bus, "AddMatch", "s", [_MATCH], destination="org.freedesktop.DBus",
                        path="/org/freedesktop/DBus", interface="org.freedesktop.DBus")
        except BaseException:
            bus.disconnect()
            raise
    if handler is not None:
        bus.add_message_handler(handler)
    return bus


async def _call(bus: MessageBus, member: str, signature: str, body: list[Any], *, destination: str = BUS_NAME,
                path: str = BUS_PATH, interface: str = BUS_NAME) -> Any:
    """One method call, bounded; an error reply raises RuntimeError naming it."""
    from dbus_fast import Message, MessageType

    async with asyncio.timeout(CALL_TIMEOUT_S):
        reply = await bus.call(Message(destination=destination, path=path, interface=interface, member=member,
                                       signature=signature, body=body))
    if reply.message_type is MessageType.ERROR:
        raise RuntimeError(f"{member}: {reply.error_name}: {reply.body[0] if reply.body else ''}")
    return reply.body[0] if reply.body else None


async def probe(timeout: float = 1.0) -> tuple[MessageBus, Server] | None:
    """Connect and ask the server once for its capabilities, name and owner; None = no bus or no server."""
    bus: Any = None
    try:
        async with asyncio.timeout(timeout):
            bus = await _connect_signals()
            caps = await _call(bus, "GetCapabilities", "", [])
            info = await _call(bus, "GetServerInformation", "", [])
            owner = await _call(bus, "GetNameOwner", "s", [BUS_NAME], destination="org.freedesktop.DBus",
                                path="/org/freedesktop/DBus", interface="org.freedesktop.DBus")
    except (OSError, TimeoutError, ValueError, EOFError, RuntimeError) as exc:
        # ValueError/InvalidAddressError: no session bus address at all; RuntimeError: no server.
        log.debug("%s: no session bus or no server (%s)", BUS_NAME, exc or type(exc).__name__)
        if bus is not None:
            bus.disconnect()
        return None
    return bus, Server(frozenset(caps), str(info), str(owner))


async def probe_capabilities(timeout: float = 1.0) -> frozenset[str] | None:
    """The server's capabilities; None = no server."""
    found = await probe(timeout)
    if found is None:
        return None
    found[0].disconnect()
    return found[1].capabilities
