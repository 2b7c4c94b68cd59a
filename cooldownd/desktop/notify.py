"""Notifier backends: one bubble on a freedesktop notification server, or lines on a console.

Notifications are not critical (as in desktop-notifier's base backend): a failure logs a
warning, the card goes to the console instead, and the walk-through carries on.
"""

from __future__ import annotations

import asyncio
import html
import logging
import sys
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from cooldownd.core.coach import Card

if TYPE_CHECKING:
    from desktop_notifier import DesktopNotifier

    from cooldownd.desktop.cues import Cues

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.Notifications"
BUS_PATH = "/org/freedesktop/Notifications"
TITLE_MAX = 64  # common servers cut the summary to one line
BODY_MAX = 240
CALL_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Press:
    """A button id (or ``default`` click, or ``dismissed``) pressed on ``card``."""

    button: str
    card: Card


class Notifier(Protocol):
    """Where cards go. ``show`` replaces the previous bubble; presses arrive on ``presses``."""

    name: str
    has_buttons: bool
    presses: asyncio.Queue[Press]

    async def show(self, card: Card) -> None:
        """Show ``card`` instead of the current one; never raises."""

    async def close(self) -> None:
        """Remove the current bubble, if any; never raises."""

    async def aclose(self) -> None:
        """Release the backend's connections."""


class ConsoleBackend:
    """Prints each card as one or two lines (stdout, or the journal under systemd)."""

    name = "console"
    has_buttons = False

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.presses: asyncio.Queue[Press] = asyncio.Queue()

    async def show(self, card: Card) -> None:
        """Print the card."""
        body = card.body.replace("\n", " ")
        self.stream.write(f"== {card.title}\n   {body}\n")
        self.stream.flush()

    async def close(self) -> None:
        """Nothing to remove on a console."""

    async def aclose(self) -> None:
        """Nothing to release."""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def markup_safe(text: str) -> str:
    """Escape text for a notification body (servers render body markup)."""
    # quote=False: quotes are harmless in text content, and some servers show &#x27; raw.
    return html.escape(text, quote=False)


class DesktopBackend:
    """desktop-notifier on org.freedesktop.Notifications: one bubble, each card replacing the last."""

    name = "desktop"

    def __init__(
        self, capabilities: frozenset[str], app_name: str = "cooldownd",
        fallback: ConsoleBackend | None = None, sound: bool = False, cues: Cues | None = None,
    ) -> None:
        from desktop_notifier import DesktopNotifier, Icon

        self.capabilities = capabilities
        self.cues = cues  # pictures and chimes; without, only the server's default sound
        self.has_buttons = "actions" in capabilities
        self.presses: asyncio.Queue[Press] = asyncio.Queue()
        self.fallback = fallback if fallback is not None else ConsoleBackend(sys.stderr)
        icon = cues.icon() if cues is not None else None
        self._dn: DesktopNotifier = DesktopNotifier(app_name=app_name,
                                                    app_icon=Icon(path=icon) if icon is not None else None)
        self.sound = sound  # ask the server to ring on every card: the user is on the mat, not at the screen
        self._current: str | None = None
        self._iface: Any = None  # desktop-notifier's proxy, once wrapped for replaces_id
        self._last_id = 0  # the server's id of the bubble on screen
        self.sent = 0  # cards the server accepted
        self.failed = 0  # cards that went to the fallback

    async def show(self, card: Card) -> None:
        """Replace the previous bubble with ``card``; on failure print it on the fallback."""
        from desktop_notifier import DEFAULT_SOUND, Attachment, Button, Icon, Notification, Sound

        if not await self._replace_in_place():
            await self.close()
        media = self.cues.card_media(card) if self.cues is not None else None
        if media is not None:
            extras: dict[str, Any] = {
                "attachment": Attachment(path=media.image) if media.image else None,
                "icon": Icon(path=media.icon) if media.icon else None,
                "sound": Sound(path=media.sound_file) if media.sound_file else None}
        else:
            extras = {"sound": DEFAULT_SOUND if self.sound else None}
        dispatched = asyncio.Event()
        press = partial(self._press, card)
        note = Notification(
            title=_clip(card.title, TITLE_MAX),
            message=markup_safe(_clip(card.body, BODY_MAX)),
            buttons=tuple(Button(title=label, identifier=bid, on_pressed=partial(press, bid))
                          for bid, label in card.buttons),
            on_clicked=partial(press, "default"),
            on_dismissed=partial(press, "dismissed"),
            on_dispatched=dispatched.set,
            # Offer and steps stay until replaced (0 = never expire); the done card may expire.
            timeout=-1 if card.kind == "done" else 0,
            **extras,
        )
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                self._current = await self._dn.send_notification(note)
        except TimeoutError:
            log.warning("%s: notification server did not answer within %.0f s", BUS_NAME,
                        CALL_TIMEOUT_S)
        if dispatched.is_set():
            self.sent += 1
            return
        # desktop-notifier logs and swallows send errors; on_dispatched tells us it failed.
        self._current, self._last_id = None, 0  # a restarted server has other ids
        self.failed += 1
        log.warning("%s: card %r not shown on the desktop; printing it instead", BUS_NAME,
                    card.title)
        await self.fallback.show(card)

    async def _replace_in_place(self) -> bool:
        """Make desktop-notifier pass our last id as replaces_id (it always sends 0).

        Needed because dunst keeps a bubble whose action was invoked, while desktop-notifier
        forgets it at once, so close-then-send would leave it on screen. Returns False
        (close-then-send) if desktop-notifier's internals are not what we expect.
        """
        if self._iface is not None:
            return True
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                await self._dn.get_capabilities()  # the only public way to open its connection
        except Exception as exc:
            log.debug("%s: not connected yet: %r", BUS_NAME, exc)
            return False
        iface = getattr(getattr(self._dn, "_backend", None), "interface", None)
        original = getattr(iface, "call_notify", None)
        if original is None:
            return False

        async def call_notify(app: str, replaces: int, *rest: Any) -> int:
            _sound_file_as_path(rest[4] if len(rest) > 4 else None)
            self._last_id = await original(app, replaces or self._last_id, *rest)
            return self._last_id

        iface.call_notify = call_notify
        self._iface = iface
        return True

    async def close(self) -> None:
        """Close the current bubble, even one the server kept after a press (dunst does)."""
        current, self._current = self._current, None
        last, self._last_id = self._last_id, 0
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                if self._iface is not None and last:
                    await self._iface.call_close_notification(last)
                elif current is not None and current in await self._dn.get_current_notifications():
                    await self._dn.clear(current)
        except (KeyError, TimeoutError) as exc:
            # KeyError: desktop-notifier forgot it (a press raced us); it is gone anyway.
            log.debug("%s: closing %s: %r", BUS_NAME, current, exc)
        except Exception as exc:  # DBusError: already closed, or the server is gone
            log.debug("%s: could not close a notification: %s", BUS_NAME, exc)

    async def aclose(self) -> None:
        """Disconnect desktop-notifier's bus connection (it has no public close)."""
        bus = getattr(getattr(self._dn, "_backend", None), "bus", None)
        if bus is not None:
            bus.disconnect()

    def _press(self, card: Card, button: str) -> None:
        self.presses.put_nowait(Press(button, card))


def _sound_file_as_path(hints: Any) -> None:
    """The spec's ``sound-file`` is a path; desktop-notifier sends a file:// URI, which GNOME cannot open."""
    from urllib.parse import unquote, urlsplit

    if not isinstance(hints, dict) or "sound-file" not in hints:
        return
    value = hints["sound-file"]
    text = getattr(value, "value", value)
    if isinstance(text, str) and text.startswith("file://"):
        path = unquote(urlsplit(text).path)
        hints["sound-file"] = type(value)("s", path) if hasattr(value, "signature") else path


async def probe_capabilities(timeout: float = 1.0) -> frozenset[str] | None:
    """Ask the session bus's notification server for its capabilities; None = no server."""
    try:
        from dbus_fast import Message, MessageType
        from dbus_fast.aio import MessageBus
    except ImportError:  # pragma: no cover - dbus-fast comes with desktop-notifier
        return None
    bus: Any = None
    try:
        async with asyncio.timeout(timeout):
            bus = await MessageBus().connect()
            reply = await bus.call(Message(
                destination=BUS_NAME, path=BUS_PATH, interface=BUS_NAME,
                member="GetCapabilities"))
    except (OSError, TimeoutError, ValueError, EOFError) as exc:
        # ValueError/InvalidAddressError: no session bus address at all.
        log.debug("%s: no session bus or no answer (%s)", BUS_NAME, exc or type(exc).__name__)
        return None
    except Exception as exc:
        log.info("%s: probe failed: %s", BUS_NAME, exc)
        return None
    finally:
        if bus is not None:
            bus.disconnect()
    if reply.message_type is MessageType.ERROR:
        log.debug("%s: no notification server (%s)", BUS_NAME, reply.error_name)
        return None
    return frozenset(reply.body[0])


async def choose_notifier(
    backend: str = "auto", app_name: str = "cooldownd", *, stream: TextIO | None = None,
    probe_timeout: float = 1.0, sound: bool = False, cues: Cues | None = None,
) -> Notifier:
    """``auto``: desktop if a server answers GetCapabilities within ``probe_timeout``, else console."""
    if backend not in ("auto", "desktop", "console"):
        raise ValueError(f"notify.backend: {backend!r}; use auto, desktop or console")
    console = ConsoleBackend(stream)
    if backend == "console":
        return console
    caps = await probe_capabilities(probe_timeout)
    if cues is not None:
        cues.attach(caps)
    if caps is None and backend == "auto":
        return console
    # A forced desktop backend without a server prints on the console until one appears.
    return DesktopBackend(caps or frozenset(), app_name, fallback=console, sound=sound, cues=cues)
