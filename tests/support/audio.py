"""A private PulseAudio with a null sink, a recorder of its monitor, and what a recording holds.

``PulseServer(folder)`` runs ``pulseaudio`` as a user daemon (private runtime and config
folders, anonymous auth on its own socket, nothing else loaded) with one null sink; its
``env`` sends every client there (PULSE_SERVER). ``Recorder`` reads the sink's monitor
through ``parecord --raw`` (16-bit mono) and keeps, for each chunk, when it arrived, so a
sample's index maps to ``time.monotonic()``. The analysis is plain Python: onsets of sound
after silence (RMS per 10 ms frame) and tone power by Goertzel.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import threading
import time
from array import array
from pathlib import Path

RATE = 22050
FRAME = RATE // 100  # 10 ms
SINK = "cooldown"


def have_pulse() -> bool:
    return all(shutil.which(b) for b in ("pulseaudio", "pactl", "parecord", "paplay"))


class PulseServer:
    """pulseaudio with a null sink ``cooldown`` in ``folder``; use as a context manager."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = folder / "native"
        self.env = {"PULSE_SERVER": f"unix:{self.socket}", "PULSE_SINK": SINK}
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PulseServer:
        for sub in ("runtime", "config", "home"):
            (self.folder / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
        env = dict(os.environ, XDG_RUNTIME_DIR=str(self.folder / "runtime"), HOME=str(self.folder / "home"),
                   XDG_CONFIG_HOME=str(self.folder / "config"))
        env.pop("PULSE_SERVER", None)
        self.proc = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "--use-pid-file=no",
             "--disable-shm", "--log-target=stderr", "--log-level=error",
             f"--load=module-native-protocol-unix auth-anonymous=1 socket={self.socket}",
             f"--load=module-null-sink sink_name={SINK} rate={RATE} channels=1",
             "--load=module-always-sink"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.folder / "pulse.log", "wb"))
        deadline = time.monotonic() + 15
        while True:
            probe = subprocess.run(["pactl", "info"], env=dict(os.environ, **self.env), capture_output=True,
                                   text=True, timeout=10)
            if probe.returncode == 0 and f"Default Sink: {SINK}" in probe.stdout:
                return self
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "pulse.log").read_text(errors="replace")[-1500:]
                self.__exit__(None, None, None)
                raise RuntimeError(f"pulseaudio did not come up: {probe.stderr.strip()} {log}")
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Recorder:
    """Records the null sink's monitor; ``stop()`` returns the samples, ``time_of(i)`` maps a sample to the clock."""

    def __init__(self, server: PulseServer) -> None:
        self.proc = subprocess.Popen(
            ["parecord", "--raw", "--format=s16le", f"--rate={RATE}", "--channels=1", "--latency-msec=10",
             f"--device={SINK}.monitor"],
            env=dict(os.environ, **server.env), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.data = bytearray()
        self.t0 = math.inf  # the clock time of sample 0: the earliest any chunk could have been recorded
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := os.read(self.proc.stdout.fileno(), 4096):
            now = time.monotonic()
            self.data += chunk
            self.t0 = min(self.t0, now - len(self.data) / 2 / RATE)

    def wait_started(self, timeout: float = 10) -> None:
        """Until the first samples arrive (the monitor is flowing)."""
        deadline = time.monotonic() + timeout
        while not self.data:
            if time.monotonic() > deadline:
                raise RuntimeError("parecord delivered nothing")
            time.sleep(0.02)

    def stop(self) -> array:
        self.proc.terminate()
        self.proc.wait(10)
        self._thread.join(10)
        samples = array("h")
        samples.frombytes(bytes(self.data[: len(self.data) // 2 * 2]))
        return samples

    def time_of(self, index: int) -> float:
        return self.t0 + index / RATE


def rms_frames(samples: array) -> list[float]:
    """RMS (0-1) of each 10 ms frame."""
    out = []
    for i in range(0, len(samples) - FRAME + 1, FRAME):
        frame = samples[i:i + FRAME]
        out.append(math.sqrt(sum(v * v for v in frame) / FRAME) / 32768)
    return out


def onsets(samples: array, threshold: float = 0.02, quiet_s: float = 0.15) -> list[tuple[int, int]]:
    """(first, last) sample of each burst of sound that follows at least ``quiet_s`` of silence."""
    bursts: list[list[int]] = []
    quiet = quiet_s * 100  # in frames
    silent_for = quiet
    for k, level in enumerate(rms_frames(samples)):
        if level >= threshold:
            if silent_for >= quiet or not bursts:
                bursts.append([k, k])
            bursts[-1][1] = k
            silent_for = 0
        else:
            silent_for += 1
    return [(a * FRAME, (b + 1) * FRAME) for a, b in bursts]


def tone_power(samples: array, start: int, length: int, freq: float) -> float:
    """Goertzel power of ``freq`` over ``length`` samples from ``start`` (normalised by length)."""
    coeff = 2 * math.cos(2 * math.pi * freq / RATE)
    s1 = s2 = 0.0
    for v in samples[start:start + length]:
        s0 = v / 32768 + coeff * s1 - s2
        s2, s1 = s1, s0
    n = max(1, min(length, len(samples) - start))
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n)


def chime_kind(samples: array, start: int) -> str:
    """Which of our chimes starts at ``start``: by the first note's pitch (start 660, switch 740, end 880 Hz)."""
    first = int(0.012 * RATE)
    length = int(0.10 * RATE)
    powers = {kind: tone_power(samples, start + first, length, f)
              for kind, f in (("start", 660.0), ("switch", 740.0), ("end", 880.0))}
    return max(powers, key=powers.get)
