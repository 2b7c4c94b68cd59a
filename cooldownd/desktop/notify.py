"""Where cards go: the desktop (a freedesktop notification server) or the console, chosen once.

The parts live in ``desktop/base.py`` (a press, the protocol, the console) and ``desktop/fdo.py``
(the notification server); this module is their front and picks one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from cooldownd.desktop.base import (BODY_MAX, CALL_TIMEOUT_S, TITLE_MAX, ConsoleBackend, Notifier, Press,
                                    markup_safe)
from cooldownd.desktop.fdo import APP_NAME, BUS_NAME, BUS_PATH, DesktopBackend, Server, probe, probe_capabilities

if TYPE_CHECKING:
    from cooldownd.desktop.base import CardExtras

__all__ = ["APP_NAME", "BODY_MAX", "BUS_NAME", "BUS_PATH", "CALL_TIMEOUT_S", "TITLE_MAX", "ConsoleBackend",
           "DesktopBackend", "Notifier", "Press", "Server", "choose_notifier", "markup_safe", "probe",
           "probe_capabilities"]


async def choose_notifier(
    backend: str = "auto", app_name: str = APP_NAME, *, stream: TextIO | None = None,
    probe_timeout: float = 1.0, sound: bool = False, cues: CardExtras | None = None,
) -> Notifier:
    """``auto``: desktop if a server answers within ``probe_timeout`` (asked once), else console."""
    if backend not in ("auto", "desktop", "console"):
        raise ValueError(f"notify.backend: {backend!r}; use auto, desktop or console")
    console = ConsoleBackend(stream)
    if backend == "console":
        return console
    found = await probe(probe_timeout)
    if cues is not None:
        cues.attach(found[1].capabilities if found else None)
    if found is None and backend == "auto":
        return console
    # A forced desktop backend without a server prints on the console until one appears.
    bus, server = found if found is not None else (None, Server(frozenset()))
    return DesktopBackend(bus, server, app_name=app_name, fallback=console, sound=sound, cues=cues)
