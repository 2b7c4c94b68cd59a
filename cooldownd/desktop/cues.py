"""What goes with each card besides its words: the picture, the chimes, the voice.

:class:`Cues` decides, per card, the picture (the step's exercise, the icon on the offer, the
heart-rate chart or the icon on the done card) and the chime (``start`` when a hold starts,
``switch`` when the same exercise goes on with another side, ``end`` when a hold is over,
``switch`` halfway through an exercise drawn in two positions). :class:`CuedNotifier` wraps any
notifier and plays the chimes and the voice when a card appears; an in-place update of the
card on screen (same step) rings nothing. The notifier is built by :func:`notifier_for`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cooldownd.configfile import cache_dir
from cooldownd.core import wording
from cooldownd.core.coach import Card
from cooldownd.desktop.chart import hr_chart
from cooldownd.desktop.base import CardMedia
from cooldownd.desktop.media import POSITIONS, Pictures
from cooldownd.desktop.notify import Notifier, Press, choose_notifier
from cooldownd.desktop.sound import Chimes, Voice

if TYPE_CHECKING:
    from cooldownd.core.routines import Library
    from cooldownd.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkoutCurve:
    """The offered workout's heart rate: its start (POSIX s) and compact curve ((s from start, bpm))."""

    start: float
    points: tuple[tuple[int, int], ...]


class Cues:
    """Pictures, chimes and voice of one notifier; ``workout`` is set before a walk-through for its chart."""

    def __init__(self, pictures: Pictures, chimes: Chimes, voice: Voice, *,
                 wall: Callable[[], float] = time.time) -> None:
        self.pictures, self.chimes, self.voice = pictures, chimes, voice
        self.workout: WorkoutCurve | None = None
        self._wall = wall
        self._step: Card | None = None  # the step card on screen
        self._started: float | None = None  # wall time of the first step (the cool-down's start)
        self._end_rung = False  # the step on screen's end chime went out with an update

    def attach(self, capabilities: frozenset[str] | None) -> None:
        """The notification server's capabilities (None: no server): whether it plays our sounds."""
        self.chimes.server_sound(capabilities is not None and "sound" in capabilities)

    def icon(self) -> Path | None:
        """The app icon for every card."""
        return self.pictures.icon()

    def same_step(self, card: Card) -> bool:
        """Whether ``card`` updates the step already on screen (rings nothing, keeps its timers)."""
        return (card.kind == "step" and self._step is not None and card.step_index == self._step.step_index
                and card.step == self._step.step)

    def card_media(self, card: Card) -> CardMedia:
        """What goes with ``card``; call before :meth:`shown` (it compares with the step on screen)."""
        chime = self._chime(card)
        sound = self.chimes.hint_for(chime) if chime else None
        return CardMedia(self._image(card), self.pictures.icon(), chime, sound)

    def _chime(self, card: Card) -> str | None:
        if self.same_step(card):
            # The server plays only what comes with a card: the hold's end rides on the update that says so.
            resting = card.update and card.progress == 100
            return "end" if resting and self.chimes.by_server and not self._end_rung else None
        if card.kind != "step" or card.step is None:
            return None
        before = self._step.step if self._step is not None else None
        if before is not None and before.exercise == card.step.exercise and before.side != card.step.side:
            return "switch"
        return "start"

    def _image(self, card: Card) -> Path | None:
        if card.kind == "step" and card.step is not None:
            positions = self.pictures.positions(card.step.exercise)
            if positions and card.update and card.progress is not None and card.progress < 100:
                # An exercise drawn in positions (the cat) moves through them on the card's updates.
                return positions[max(0, card.progress // 25 - 1) % len(positions)]
            return self.pictures.image_for(card.step.exercise, card.step.side)
        if card.kind == "done" and self.workout is not None and self._started is not None:
            start = self.workout.start
            svg = hr_chart(self.workout.points, (self._started - start, self._wall() - start))
            if svg is not None:
                return self.pictures.raster_bytes(svg.encode())
        return self.pictures.icon()

    def shown(self, card: Card) -> list[tuple[float, str]]:
        """A card is on screen: play its chime, say its step; returns the chimes still due (delay s, kind)."""
        if self.same_step(card):
            self._end_rung = self._end_rung or self._chime(card) == "end"
            return []
        media_chime = self._chime(card)
        self._end_rung = False
        self._step = card if card.kind == "step" else None
        if card.kind != "step" or card.step is None:
            return []
        if self._started is None:
            self._started = self._wall()
        if media_chime:
            self.chimes.play(media_chime)
        step = card.step
        self.voice.say(wording.spoken_step(step.title, step.side, step.hold_s, step.moves, step.reps))
        due = [(float(step.hold_s), "end")]
        if step.exercise in POSITIONS and step.exercise not in self.pictures.custom:
            due.append((step.hold_s / 2, "switch"))
        return due

    def hidden(self) -> None:
        """No card on screen (snoozed, skipped, ended)."""
        self._step = None


class CuedNotifier:
    """A notifier whose cards come with chimes and the voice (pictures are the desktop backend's part)."""

    def __init__(self, inner: Notifier, cues: Cues) -> None:
        self.inner, self.cues = inner, cues
        self.name, self.has_buttons, self.hint = inner.name, inner.has_buttons, inner.hint
        self.presses: asyncio.Queue[Press] = inner.presses
        self._timers: list[asyncio.TimerHandle] = []

    @property
    def on_screen(self) -> dict[str, object] | None:
        """The bubble on screen (server and id), for a restart to close; None on a console."""
        return getattr(self.inner, "on_screen", None)

    async def show(self, card: Card) -> None:
        """Show ``card``, then ring and speak (a new step's timers replace the old ones)."""
        if not self.cues.same_step(card):
            self._cancel()
        await self.inner.show(card)
        loop = asyncio.get_running_loop()
        for delay, kind in self.cues.shown(card):
            self._timers.append(loop.call_later(delay, self.cues.chimes.play, kind))

    async def close(self) -> None:
        self._cancel()
        self.cues.hidden()
        await self.inner.close()

    async def aclose(self) -> None:
        """Let the last chime and words finish (bounded), then release the backend."""
        self._cancel()
        await self.cues.chimes.drain()
        await self.cues.voice.drain()
        await self.inner.aclose()

    def _cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()


def make_cues(settings: Settings, library: Library | None = None) -> Cues:
    """Cues from ``[notify]`` and the routines' own pictures (``image`` keys)."""
    custom = {}
    if library is not None:
        custom = {name: Path(ex.image) for name, ex in library.exercises.items() if ex.image}
    folder = cache_dir()
    notify = settings.notify
    return Cues(Pictures(folder, custom=custom),
                Chimes(folder, enabled=notify.sound, via=notify.sound_via), Voice(enabled=notify.voice))


async def notifier_for(settings: Settings, library: Library | None = None, *, stream: TextIO | None = None,
                       **kwargs: Any) -> Notifier:
    """The notifier ``[notify]`` asks for, with pictures, chimes and voice."""
    cues = make_cues(settings, library)
    inner = await choose_notifier(settings.notify.backend, stream=stream, sound=settings.notify.sound,
                                  cues=cues, **kwargs)
    return CuedNotifier(inner, cues)
