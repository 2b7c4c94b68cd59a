"""Sound cues and the optional voice: our own chimes (generated WAV) and a speech engine.

Chimes (``notify.sound``): ``start`` when a hold starts (two rising notes), ``switch`` when the
same stretch goes on with the other side or the other position (one note, twice), ``end`` when
a hold is over (three falling notes). ``notify.sound_via`` picks the way: ``server`` (the
notification's ``sound-file`` hint, for servers that play sounds), ``player`` (our own child
process: pw-play, paplay or canberra-gtk-play, whichever is installed), ``auto`` (the server
when it advertises the ``sound`` capability, else a player). A missing player, or a player
that fails (no audio server), is one warning; the walk-through never waits for a sound.

Voice (``notify.voice``, off by default): spd-say (speech-dispatcher) or espeak-ng speaks
the step's title and a short cue; without either, one log line.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import shutil
import sys
import wave
from array import array
from pathlib import Path

log = logging.getLogger(__name__)

RATE = 22050
KINDS = ("start", "switch", "end")
# (frequency Hz, start s, length s) per note: a soft bell, well apart in pitch and rhythm.
NOTES = {
    "start": ((660.0, 0.0, 0.22), (880.0, 0.16, 0.30)),
    "switch": ((740.0, 0.0, 0.16), (740.0, 0.20, 0.22)),
    "end": ((880.0, 0.0, 0.20), (740.0, 0.16, 0.22), (587.0, 0.34, 0.40)),
}
PLAYERS = (("pw-play", ()), ("paplay", ()), ("canberra-gtk-play", ("-f",)))
SPEAKERS = (("spd-say", ("-w", "--")), ("espeak-ng", ("--",)))
PLAY_TIMEOUT_S = 10.0
SPEAK_TIMEOUT_S = 30.0


def chime_samples(kind: str, rate: int = RATE) -> array:
    """16-bit mono samples of one chime: decaying sines with their octave, 5 ms fade in.

    Built in flat arrays (not lists of floats), so making one leaves no heap behind in the daemon.
    """
    notes = NOTES[kind]
    total = max(start + length for _, start, length in notes) + 0.05
    out = array("d", bytes(8 * int(total * rate)))
    for freq, start, length in notes:
        first = int(start * rate)
        w = 2 * math.pi * freq / rate
        for i in range(int(length * rate)):
            t = i / rate
            env = min(1.0, t / 0.005) * math.exp(-t * 9.0)
            out[first + i] += 0.45 * env * (math.sin(w * i) + 0.25 * math.sin(2 * w * i))
    peak = max(1e-9, max(out), -min(out))
    scale = min(1.0, 0.9 / peak) * 32767
    return array("h", (int(v * scale) for v in out))


def write_chime(path: Path, kind: str) -> Path:
    """Write one chime as a WAV file (atomically); returns ``path``."""
    samples = chime_samples(kind)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        if sys.byteorder == "big":
            samples.byteswap()  # WAV is little-endian
        w.writeframes(samples.tobytes())
    tmp.replace(path)
    return path


class Chimes:
    """Plays the cues. ``hint_for(kind)`` gives the file for a card's sound hint, ``play(kind)`` plays it.

    ``via`` is ``notify.sound_via``. Files are written to ``folder`` on first use. With the
    server's way, only chimes that come with a card ring (a step's start on its card, a hold's
    end on the update that says so; halfway has no card).
    """

    def __init__(self, folder: Path, *, enabled: bool = True, via: str = "auto",
                 players: tuple[tuple[str, tuple[str, ...]], ...] = PLAYERS) -> None:
        if via not in ("auto", "server", "player"):
            raise ValueError(f"notify.sound_via: {via!r}; use auto, server or player")
        self.folder = folder / "sounds"
        self.enabled = enabled
        self.via = via
        self.by_server = enabled and via == "server"
        self._players = players
        self._player: list[str] | None = None
        self._looked = False
        self._warned = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.played: list[str] = []  # kinds handed to a player (tests and the log read it)

    def server_sound(self, plays: bool) -> None:
        """Whether the notification server plays a card's sound (its ``sound`` capability)."""
        self.by_server = self.enabled and (self.via == "server" or (self.via == "auto" and plays))

    def path(self, kind: str) -> Path:
        """The WAV file of ``kind``, written on first use (one version per chime design)."""
        name = f"{kind}-{hashlib.sha256(repr(NOTES[kind]).encode()).hexdigest()[:8]}.wav"
        path = self.folder / name
        if not path.is_file():
            write_chime(path, kind)
        return path

    def hint_for(self, kind: str) -> Path | None:
        """The sound file to put on a card (its ``sound-file`` hint) when the server plays sounds, else None."""
        if not self.by_server:
            return None
        try:
            return self.path(kind)
        except OSError as exc:
            self._warn(f"sounds: cannot write chimes to {self.folder} ({exc.strerror or exc})")
            return None

    def play(self, kind: str) -> None:
        """Play ``kind`` now through a player, unless the server plays our sounds; never waits, never raises."""
        if not self.enabled or self.by_server:
            return
        player = self._find_player()
        if player is None:
            return
        try:
            path = self.path(kind)
        except OSError as exc:
            self._warn(f"sounds: cannot write chimes to {self.folder} ({exc.strerror or exc})")
            return
        self.played.append(kind)
        self._spawn([*player, str(path)], PLAY_TIMEOUT_S)

    def _find_player(self) -> list[str] | None:
        if not self._looked:
            self._looked = True
            for name, args in self._players:
                exe = shutil.which(name)
                if exe:
                    self._player = [exe, *args]
                    break
            else:
                names = ", ".join(n for n, _ in self._players)
                self._warn(f"sounds: no audio player found ({names}); chimes are off. "
                           "Install pipewire-bin or pulseaudio-utils, or set notify.sound_via = \"server\"")
        return self._player

    def _spawn(self, argv: list[str], timeout: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a plain call): nothing to reap the child, so don't start one
            log.debug("sounds: no event loop; %s not played", argv[-1])
            return
        task = loop.create_task(_run(argv, timeout, self._warn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = 3.0) -> None:
        """Wait (a bounded time) for sounds still playing: a command that exits should not cut its last chime."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def _warn(self, text: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s", text)
        else:
            log.debug("%s", text)


async def _run(argv: list[str], timeout: float, warn) -> None:  # noqa: ANN001
    """Run a player or speaker to its end; a failure (no audio server) goes to ``warn``."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
    except OSError as exc:
        warn(f"sounds: cannot start {argv[0]}: {exc.strerror or exc}")
        return
    try:
        async with asyncio.timeout(timeout):
            _, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        warn(f"sounds: {Path(argv[0]).name} did not finish within {timeout:.0f} s; stopped it")
        return
    if proc.returncode:
        reason = err.decode(errors="replace").strip().splitlines()
        warn(f"sounds: {Path(argv[0]).name} failed (exit {proc.returncode}"
             f"{': ' + reason[-1][:160] if reason else ''}); is an audio server running?")


class Voice:
    """Speaks short texts through spd-say or espeak-ng (the first installed), one at a time in order."""

    def __init__(self, *, enabled: bool = False,
                 speakers: tuple[tuple[str, tuple[str, ...]], ...] = SPEAKERS) -> None:
        self.enabled = enabled
        self._argv: list[str] | None = None
        self._queue: asyncio.Queue[str] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._warned = False
        self.said: list[str] = []
        if enabled:
            for name, args in speakers:
                exe = shutil.which(name)
                if exe:
                    self._argv = [exe, *args]
                    break
            else:
                log.info("voice: no speech engine found (%s); notify.voice has no effect",
                         ", ".join(n for n, _ in speakers))

    @property
    def engine(self) -> str | None:
        """The speech engine's name, or None."""
        return Path(self._argv[0]).name if self._argv else None

    def say(self, text: str) -> None:
        """Queue ``text`` to be spoken after what is being said; never waits, never raises."""
        if not self.enabled or self._argv is None or not text.strip():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._speak_all())
        self.said.append(text)
        self._queue.put_nowait(text)

    async def _speak_all(self) -> None:
        assert self._queue is not None and self._argv is not None
        while not self._queue.empty():
            text = self._queue.get_nowait()
            await _run([*self._argv, text], SPEAK_TIMEOUT_S, self._warn)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait (a bounded time) for what is still being said."""
        if self._worker is not None and not self._worker.done():
            await asyncio.wait({self._worker}, timeout=timeout)

    def _warn(self, text: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s", text.replace("sounds:", "voice:"))
