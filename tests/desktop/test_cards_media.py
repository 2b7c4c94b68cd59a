"""Each card carries its picture at a notification server: step cards their exercise, offer and done the icon."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from cooldownd.core.coach import Coach, CoachKnobs
from cooldownd.core.model import Level
from cooldownd.core.routines import choose
from cooldownd.desktop.cues import WorkoutCurve, notifier_for
from cooldownd.desktop.media import Pictures
from cooldownd.desktop.walk import walk
from cooldownd.routinefile import load_library
from cooldownd.settings import NotifySettings, Settings
from fake_notifications import private_bus, serve
from test_media import png_size

pytestmark = pytest.mark.skipif(not shutil.which("rsvg-convert"), reason="needs apt librsvg2-bin (tests/run installs it)")


@pytest.fixture
def bus(tmp_path, monkeypatch):
    with private_bus(tmp_path) as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address


def local(uri: str) -> Path:
    assert uri.startswith("file://"), uri
    return Path(unquote(urlsplit(uri).path))


async def walk_all(workout: WorkoutCurve | None = None):
    """The very hard cycling routine (all six exercises) on the fake server, Next pressed on every step."""
    srv, fake = await serve()
    library = load_library()
    settings = Settings(notify=NotifySettings(backend="desktop"))
    notifier = await notifier_for(settings, library)
    notifier.cues.workout = workout
    routine = choose(library, Level.VERY_HARD, "cycling")
    coach = Coach(routine, "Ride done", CoachKnobs(transition_s=0.1, press_guard_s=0), buttons=True,
                  level=Level.VERY_HARD)

    async def user() -> None:
        while True:
            call = await fake.notified.get()
            key = "start" if "start" in call["actions"] else "next" if "next" in call["actions"] else None
            if key:
                await asyncio.sleep(0.02)
                fake.invoke(call["id"], key)

    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(user())
        outcome = await walk(coach, notifier)
        task.cancel()
    await notifier.aclose()
    srv.disconnect()
    return routine, fake.calls, outcome


def test_every_card_carries_its_picture_and_the_icon(bus, home):
    routine, calls, outcome = asyncio.run(asyncio.wait_for(walk_all(), 60))
    assert outcome.result is not None and outcome.result.value == "partial"  # Next at once: not held
    offer, *steps, done = [c for c in calls if not c["hints"].get("suppress-sound")]  # no in-place updates
    assert len(steps) == len(routine.steps) == 10
    pics = Pictures(home / ".cache" / "cooldownd")
    icon = pics.icon()
    assert icon.suffix == ".png" and icon.is_file()
    for call in calls:  # our icon on every card, never desktop-notifier's Python logo
        assert local(call["icon"]) == icon, call["summary"]
    for call, step in zip(steps, routine.steps):
        image = local(call["hints"]["image-path"])
        assert image == pics.image_for(step.exercise, step.side), call["summary"]
        assert min(png_size(image)) >= 128
    assert len({c["hints"]["image-path"] for c in steps}) == 10  # each step its own picture
    assert local(offer["hints"]["image-path"]) == icon
    assert local(done["hints"]["image-path"]) == icon  # no heart rate known: the icon
    assert pics.rendered == 0  # all of them were rendered by the walk, once, and are cached


def test_the_done_card_shows_the_heart_rate_chart(bus, home):
    curve = tuple((t, 110 + t // 60) for t in range(0, 3600, 30))
    workout = WorkoutCurve(time.time() - 3700, curve)
    _, calls, _ = asyncio.run(asyncio.wait_for(walk_all(workout), 60))
    chart = local(calls[-1]["hints"]["image-path"])
    assert chart.parent == home / ".cache" / "cooldownd" / "images" and png_size(chart) == (256, 256)
    assert chart not in {local(c["hints"]["image-path"]) for c in calls[:-1]}
