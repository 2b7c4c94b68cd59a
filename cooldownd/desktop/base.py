"""What every notifier shares: a press, the Notifier protocol, the console backend, text made safe.

Notifications are not critical (as in desktop-notifier's base backend): a failure logs a warning,
the card goes to the console instead, and the walk-through carries on.
"""

from __future__ import annotations

import asyncio
import html
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from cooldownd.core import wording
from cooldownd.core.coach import Card

TITLE_MAX = 64  # common servers cut the summary to one line
BODY_MAX = 600
CALL_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Press:
    """A button id (or ``default`` click, or ``dismissed``) pressed on ``card``.

    ``command``: asked for by ``cooldownd next`` and the like, not pressed on a bubble; the walk
    answers on ``reply`` (the title of the card it led to, the reason a bubble was hidden, or "").
    """

    button: str
    card: Card | None
    command: bool = False
    reply: asyncio.Future[str] | None = field(default=None, compare=False)


class Notifier(Protocol):
    """Where cards go. ``show`` replaces the previous bubble; presses arrive on ``presses``."""

    name: str
    has_buttons: bool
    hint: str  # how to steer the walk where no buttons are drawn ("" where they are)
    presses: asyncio.Queue[Press]

    async def show(self, card: Card) -> None:
        """Show ``card`` instead of the current one (in place for an update); never raises."""

    async def close(self) -> None:
        """Remove the current bubble, if any; never raises."""

    async def aclose(self) -> None:
        """Release the backend's connections."""


class ConsoleBackend:
    """Prints each card as one or two lines (stdout, or the journal under systemd); updates are not printed."""

    name = "console"
    has_buttons = False
    hint = wording.HINT_AUTO

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.presses: asyncio.Queue[Press] = asyncio.Queue()

    async def show(self, card: Card) -> None:
        """Print the card (a new one: time left is not worth a line each)."""
        if card.update:
            return
        body = card.body.replace("\n", " ")
        self.stream.write(f"== {card.title}\n   {body}\n")
        self.stream.flush()

    async def close(self) -> None:
        """Nothing to remove on a console."""

    async def aclose(self) -> None:
        """Nothing to release."""


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def markup_safe(text: str) -> str:
    """Escape text for a notification body (servers render body markup)."""
    # quote=False: quotes are harmless in text content, and some servers show &#x27; raw.
    return html.escape(text, quote=False)


@dataclass(frozen=True)
class CardMedia:
    """A card's picture (a file path), the app icon, and its chime (kind and, for the server, the file)."""

    image: Path | None
    icon: Path | None
    chime: str | None
    sound_file: Path | None


class CardExtras(Protocol):
    """What goes with each card besides its words (``desktop/cues.py``): pictures and chimes."""

    def attach(self, capabilities: frozenset[str] | None) -> None:
        """The notification server's capabilities (None: no server)."""

    def icon(self) -> Path | None:
        """The app icon for every card."""

    def card_media(self, card: Card) -> CardMedia:
        """The picture and chime of ``card`` (call before showing it)."""
