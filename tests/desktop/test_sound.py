"""Chimes and voice, heard: a real PulseAudio null sink recorded while `cooldownd routine` runs.

tests/run installs pulseaudio, pulseaudio-utils and espeak-ng; each test starts its own
PulseAudio (see tests/support/audio.py). Figures (chime and speech delay after the card) are
printed with ``-s``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import pytest

from audio import RATE, PulseServer, Recorder, chime_kind, have_pulse, onsets
from cooldownd.desktop.sound import KINDS, Chimes, Voice, chime_samples

ROOT = Path(__file__).resolve().parents[2]
needs_pulse = pytest.mark.skipif(not have_pulse(), reason="needs apt pulseaudio pulseaudio-utils (tests/run installs them)")
HOLD, TRANSITION = 5, 1.0
ROUTINES = """
[exercises.knees_to_chest]
title = "Knees to chest"
text = "Hug your {side} knee."
hold = 5
sides = ["left", "right"]

[exercises.child_pose]
title = "Child's pose"
text = "Sit back on your heels and fold forward."
hold = 5

[routines.any]
light = ["knees_to_chest", "child_pose"]
moderate = ["child_pose"]
hard = ["child_pose"]
very_hard = ["child_pose"]
"""
EXPECTED = ["start", "switch", "start"]  # the chime at each step's start: a side switch rings "switch"


def test_three_short_different_chimes(tmp_path):
    chimes = Chimes(tmp_path)
    seen = set()
    for kind in KINDS:
        with wave.open(str(chimes.path(kind))) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
            assert 0.3 < w.getnframes() / RATE < 1.0
            frames = w.readframes(w.getnframes())
        seen.add(frames)
        samples = chime_samples(kind)
        assert chime_kind(samples, 0) == kind  # each is told apart by its first note
        assert max(abs(v) for v in samples) < 32767 and abs(samples[0]) < 200  # no clipping, no click
    assert len(seen) == 3


def test_no_player_is_one_warning_and_nothing_fails(tmp_path, caplog):
    async def ring() -> Chimes:
        chimes = Chimes(tmp_path, players=(("no-such-player", ()),))
        for kind in KINDS * 3:
            chimes.play(kind)
        await chimes.drain()
        return chimes
    with caplog.at_level(logging.INFO):
        chimes = asyncio.run(ring())
    assert chimes.played == []
    assert [r.levelname for r in caplog.records] == ["WARNING"] and "no audio player" in caplog.records[0].message


def test_voice_without_an_engine_says_so_once(caplog):
    with caplog.at_level(logging.INFO):
        voice = Voice(enabled=True, speakers=(("no-such-speaker", ()),))
        voice.say("Knees to chest")
        voice.say("Child's pose")
    assert voice.engine is None and voice.said == []
    assert len(caplog.records) == 1 and "no speech engine" in caplog.records[0].message


def _config(tmp_path: Path, sound: bool, voice: bool) -> Path:
    routines = tmp_path / "routines.toml"
    routines.write_text(ROUTINES)
    config = tmp_path / "config.toml"
    config.write_text(f'[notify]\nbackend = "console"\nsound = {str(sound).lower()}\nvoice = {str(voice).lower()}\n'
                      f'transition = {TRANSITION}\n[routines]\nfile = "{routines}"\n')
    return config


def run_routine(config: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], list[tuple[float, str]]]:
    """`cooldownd routine` with ``env``; returns the result and (clock time, title) of each card it printed."""
    proc = subprocess.Popen([sys.executable, "-m", "cooldownd", "--config", str(config), "routine", "--level",
                             "light"], env=dict(os.environ, **env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, bufsize=1)
    cards: list[tuple[float, str]] = []
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)
    reader.start()
    out = []
    for line in proc.stdout:
        out.append(line)
        if line.startswith("== "):
            cards.append((time.monotonic(), line[3:].strip()))
    proc.wait(60)
    reader.join(5)
    return subprocess.CompletedProcess(proc.args, proc.returncode, "".join(out), "".join(err)), cards


def _record(tmp_path: Path, sound: bool, voice: bool, env_extra: dict[str, str] | None = None):
    with PulseServer(tmp_path / "pulse") as pulse:
        rec = Recorder(pulse)
        rec.wait_started()
        time.sleep(0.3)
        result, cards = run_routine(_config(tmp_path, sound, voice), dict(pulse.env, **(env_extra or {})))
        time.sleep(0.5)
        samples = rec.stop()
    assert result.returncode == 0, result.stderr
    return result, cards, samples, rec


@needs_pulse
def test_one_chime_at_each_step_start_and_one_at_each_hold_end(tmp_path):
    result, cards, samples, rec = _record(tmp_path, sound=True, voice=False)
    steps = [t for t, title in cards if title[:1].isdigit()]
    assert len(steps) == 3, result.stdout
    assert "WARNING" not in result.stderr, result.stderr
    found = [(rec.time_of(a), chime_kind(samples, a)) for a, _ in onsets(samples)]
    delays = []
    for (t, _), want in zip([(t, 0) for t in steps], EXPECTED):
        at_start = [(at, kind) for at, kind in found if t - 0.05 <= at <= t + 0.8]
        assert [kind for _, kind in at_start] == [want], (t, found)
        delays.append(at_start[0][0] - t)
        at_end = [kind for at, kind in found if t + HOLD - 0.3 <= at <= t + HOLD + 0.8]
        assert at_end == ["end"], (t, found)
    assert len(found) == 2 * len(steps), found  # nothing else rang: not the offer, not the done card
    print(f"\nchime after its card: {', '.join(f'{d * 1000:.0f} ms' for d in delays)}; "
          f"hold-end chime after the card: {HOLD} s hold, found within 0.8 s")


@needs_pulse
def test_no_audio_server_is_one_warning_and_the_routine_completes(tmp_path):
    config = _config(tmp_path, sound=True, voice=False)
    result, cards = run_routine(config, {"PULSE_SERVER": f"unix:{tmp_path}/no-such-socket"})
    assert result.returncode == 0 and len([c for c in cards if c[1][:1].isdigit()]) == 3, result
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "is an audio server running?" in warnings[0], result.stderr
    assert "Traceback" not in result.stderr


def test_no_player_installed_is_one_warning_and_the_routine_completes(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result, cards = run_routine(_config(tmp_path, sound=True, voice=True), {"PATH": str(empty)})
    assert result.returncode == 0 and len([c for c in cards if c[1][:1].isdigit()]) == 3, result
    lines = result.stderr.splitlines()
    assert len([line for line in lines if "no audio player found" in line]) == 1, result.stderr
    assert len([line for line in lines if "no speech engine found" in line]) == 1, result.stderr
    assert not [line for line in lines if "WARNING" in line and "no audio player" not in line], result.stderr


@needs_pulse
@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="needs apt espeak-ng (tests/run installs it)")
def test_the_voice_speaks_each_step(tmp_path):
    result, cards, samples, rec = _record(tmp_path, sound=False, voice=True, env_extra={"PATH": _path_without("spd-say")})
    steps = [t for t, title in cards if title[:1].isdigit()]
    assert len(steps) == 3
    speech = [(rec.time_of(a), (b - a) / RATE) for a, b in onsets(samples, threshold=0.01, quiet_s=0.8)]
    assert len(speech) == len(steps), speech  # one utterance per step, nothing else
    for t, (at, length) in zip(steps, speech):
        assert t - 0.05 <= at <= t + 2.0 and 0.8 < length < HOLD + TRANSITION, (t, at, length)
    print("\nspeech after its card: " + ", ".join(f"{(at - t) * 1000:.0f} ms ({length:.1f} s long)"
                                                  for t, (at, length) in zip(steps, speech)))


def _path_without(name: str) -> str:
    """PATH minus the folders holding ``name`` (so espeak-ng is the engine even where spd-say exists)."""
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep) if not (Path(d) / name).exists()]
    return os.pathsep.join(keep)
