"""Whole walk-throughs: Coach + DesktopBackend + walk() against a fake server on a private bus."""

from __future__ import annotations

import asyncio
import io
import json
import statistics
import time
from typing import Callable

import pytest

from cooldownd.core.coach import Coach, CoachKnobs, Result
from cooldownd.core.model import Level, Routine, Step
from cooldownd.desktop.notify import ConsoleBackend, DesktopBackend, choose_notifier
from cooldownd.desktop.walk import walk
from fake_notifications import NAME, control, private_bus, serve, start_process

REACTION_S = 0.02  # a "user" never presses within microseconds of the bubble appearing


@pytest.fixture
def bus(tmp_path, monkeypatch):
    with private_bus(tmp_path) as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address


def run(coro, timeout: float = 20):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def routine(n: int = 6, hold: int = 30) -> Routine:
    steps = tuple(Step(f"ex{i}", f"Stretch {i}", f"Slowly, breathe {i}.", hold, "both")
                  for i in range(n))
    return Routine("Back basics", Level.HARD, "ride", steps)


def kind(call: dict) -> str:
    if "start" in call["actions"] or call["summary"].startswith("Cool-down:"):
        return "offer"
    return "done" if call["summary"].startswith("Cool-down ") else "step"


Script = Callable[[dict], "str | None"]


async def walk_with(script: Script, knobs: CoachKnobs, *, actions: bool = True, n: int = 6,
                    hold: int = 30, headline: str = "Ride done: 1 h 05, hard"):
    """Serve a fake, walk a routine while ``script`` answers each card; returns what happened."""
    srv, fake = await serve(actions)
    console = io.StringIO()
    notifier = await choose_notifier("auto", stream=console)
    coach = Coach(routine(n, hold), headline, knobs, buttons=notifier.has_buttons,
                  level=Level.HARD, load=120, hrr60=25)
    presses: list[tuple[float, str]] = []

    async def user() -> None:
        while True:
            call = await fake.notified.get()
            key = script(call)
            if key:
                await asyncio.sleep(REACTION_S)
                presses.append((time.monotonic(), key))
                fake.invoke(call["id"], key)

    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(user())
        outcome = await walk(coach, notifier)
        await asyncio.sleep(0.05)  # let late CloseNotification calls land
        task.cancel()
    await notifier.aclose()
    srv.disconnect()
    return outcome, fake, presses, console.getvalue(), notifier


def latencies(presses, calls) -> list[float]:
    """Time from each press to the first Notify after it."""
    out = []
    for t, _ in presses:
        after = [c["t"] for c in calls if c["t"] > t]
        if after:
            out.append(after[0] - t)
    return out


def test_full_walk_with_next_presses_leaves_one_bubble(bus):
    def script(call):
        return {"offer": "start", "step": "next"}.get(kind(call))

    outcome, fake, presses, console, notifier = run(walk_with(script, CoachKnobs()))
    assert notifier.name == "desktop" and notifier.has_buttons
    assert (outcome.result, outcome.steps_done) == (Result.COMPLETED, 6)
    kinds = [kind(c) for c in fake.calls]
    assert kinds == ["offer"] + ["step"] * 6 + ["done"]
    assert fake.calls[0]["actions"][2::2] == ["start", "later", "skip"]
    assert all(c["actions"][2::2] == ["next", "stop"] for c in fake.calls[1:7])
    assert [c["summary"][:4] for c in fake.calls[1:7]] == [f"{i}/6 " for i in range(1, 7)]
    assert len(fake.open) == 1 and fake.open[0] == fake.calls[-1]["id"]
    lat = latencies(presses, fake.calls)
    assert len(lat) == 7
    print(f"\npress->next card over {len(lat)} presses: median {statistics.median(lat)*1000:.1f} ms,"
          f" max {max(lat)*1000:.1f} ms")
    assert max(lat) < 0.5
    assert console == ""


def test_no_presses_auto_advance_with_short_holds(bus):
    knobs = CoachKnobs(transition_s=0.05)
    outcome, fake, presses, _, _ = run(walk_with(
        lambda c: "start" if kind(c) == "offer" else None, knobs, hold=0))
    assert (outcome.result, outcome.steps_done) == (Result.COMPLETED, 6)
    steps = [c for c in fake.calls if kind(c) == "step"]
    gaps = [b["t"] - a["t"] for a, b in zip(steps, steps[1:])]
    assert len(steps) == 6 and all(0.045 <= g < 0.5 for g in gaps), gaps
    assert len(fake.open) <= 1


def test_stop_ends_with_a_stopped_card(bus):
    answers = iter(["start", "next", "stop"])
    outcome, fake, _, _, _ = run(walk_with(
        lambda c: next(answers, None), CoachKnobs()))
    assert (outcome.result, outcome.steps_done) == (Result.STOPPED, 1)
    assert fake.calls[-1]["summary"] == "Cool-down stopped"
    assert "1/6 stretches" in fake.calls[-1]["body"]
    assert fake.open == [fake.calls[-1]["id"]]


def test_later_then_start(bus):
    answers = iter(["later", "start", "stop"])
    knobs = CoachKnobs(snooze_s=0.2)
    outcome, fake, presses, _, _ = run(walk_with(lambda c: next(answers, None), knobs))
    assert outcome.snoozes == 1 and outcome.result is Result.STOPPED
    offers = [c for c in fake.calls if kind(c) == "offer"]
    assert len(offers) == 2
    assert offers[1]["t"] - presses[0][0] == pytest.approx(0.2, abs=0.15)


def test_skip_leaves_nothing_on_screen(bus):
    outcome, fake, _, _, _ = run(walk_with(lambda c: "skip", CoachKnobs()))
    assert outcome.result is Result.SKIPPED and outcome.started_at is None
    assert len(fake.calls) == 1 and fake.open == []


def test_offer_timeout_is_missed_and_the_offer_is_closed(bus):
    outcome, fake, _, _, _ = run(walk_with(lambda c: None, CoachKnobs(offer_timeout_s=0.2)))
    assert outcome.result is Result.MISSED
    assert outcome.ended_at - outcome.offered_at == pytest.approx(0.2, abs=0.15)
    assert len(fake.calls) == 1 and fake.open == []


def test_server_without_actions_auto_starts_and_advances(bus):
    knobs = CoachKnobs(transition_s=0.05)
    outcome, fake, _, _, notifier = run(walk_with(lambda c: None, knobs, actions=False, hold=0))
    assert notifier.name == "desktop" and not notifier.has_buttons
    assert (outcome.result, outcome.steps_done) == (Result.COMPLETED, 6)
    # desktop-notifier still adds the "default" click action; no buttons beyond it
    assert all(c["actions"] in ([], ["default", ""]) for c in fake.calls)
    assert "Starting in" in fake.calls[0]["body"]
    assert len(fake.open) == 1


def test_no_server_walks_on_the_console(bus):
    async def main():
        console = io.StringIO()
        notifier = await choose_notifier("auto", stream=console)
        coach = Coach(routine(3, 0), "Run done", CoachKnobs(transition_s=0.02),
                      buttons=notifier.has_buttons, level=Level.LIGHT, load=30)
        return notifier, await walk(coach, notifier), console.getvalue()

    notifier, outcome, text = run(main())
    assert isinstance(notifier, ConsoleBackend)
    assert outcome.result is Result.COMPLETED and outcome.steps_done == 3
    assert [line[3:] for line in text.splitlines() if line.startswith("== ")] == [
        "Cool-down: Back basics", "1/3 Stretch 0 (both sides)", "2/3 Stretch 1 (both sides)",
        "3/3 Stretch 2 (both sides)", "Cool-down done"]


def test_markup_in_a_device_name_arrives_escaped(bus):
    headline = 'Ride with <span foreground="red">TICKR</span> & <b>Co</b> done'
    outcome, fake, _, _, _ = run(walk_with(lambda c: "skip", CoachKnobs(), headline=headline))
    body = fake.calls[0]["body"]
    assert body.startswith(
        'Ride with &lt;span foreground="red"&gt;TICKR&lt;/span&gt; &amp; &lt;b&gt;Co&lt;/b&gt; done')
    assert "<" not in body and "<" not in fake.calls[0]["summary"]


def test_server_restarting_mid_routine_keeps_the_routine_going(bus):
    """Server A shows the offer and step 1, dies; step 2 goes to the console; B shows the rest."""
    steps = (Step("a", "One", "x", 1, None), Step("b", "Two", "x", 2, None),
             Step("c", "Three", "x", 30, None), Step("d", "Four", "x", 30, None))
    knobs = CoachKnobs(transition_s=0.2)

    async def wait_for_call(probe, pred, timeout=5.0):
        async with asyncio.timeout(timeout):
            while True:
                calls = json.loads(await control(probe, "Calls"))
                hits = [c for c in calls if pred(c)]
                if hits:
                    return hits[-1]
                await asyncio.sleep(0.02)

    async def user(probe, console) -> int:
        server_a = await start_process(bus)
        try:
            offer = await wait_for_call(probe, lambda c: "start" in c["actions"])
            await control(probe, "Invoke", "us", [offer["id"], "start"])
            await wait_for_call(probe, lambda c: c["summary"].startswith("1/4"))
        finally:
            server_a.kill()
            await server_a.wait()
        async with asyncio.timeout(5):
            while "2/4 Two" not in console.getvalue():
                await asyncio.sleep(0.02)
        server_b = await start_process(bus)
        try:
            three = await wait_for_call(probe, lambda c: c["summary"].startswith("3/4"))
            await control(probe, "Invoke", "us", [three["id"], "next"])
            four = await wait_for_call(probe, lambda c: c["summary"].startswith("4/4"))
            await control(probe, "Invoke", "us", [four["id"], "next"])
            await wait_for_call(probe, lambda c: c["summary"] == "Cool-down done")
            return len(await control(probe, "Open"))
        finally:
            server_b.kill()
            await server_b.wait()

    async def main():
        from dbus_fast.aio import MessageBus

        probe = await MessageBus().connect()
        console = io.StringIO()
        async with asyncio.TaskGroup() as tg:
            on_screen = tg.create_task(user(probe, console))
            await asyncio.sleep(0)
            async with asyncio.timeout(10):
                while not await _has_owner(probe):
                    await asyncio.sleep(0.02)
            notifier = await choose_notifier("auto", stream=console)
            coach = Coach(Routine("R", Level.LIGHT, "x", steps), "Ride", knobs,
                          buttons=notifier.has_buttons)
            outcome = await walk(coach, notifier)
        probe.disconnect()
        return notifier, outcome, console.getvalue(), on_screen.result()

    notifier, outcome, console, on_screen = run(main(), timeout=30)
    assert isinstance(notifier, DesktopBackend)
    assert (outcome.result, outcome.steps_done) == (Result.COMPLETED, 4)
    assert "2/4 Two" in console and "1/4" not in console and "3/4" not in console
    assert notifier.failed == 1 and notifier.sent == 5  # offer, 1 on A; 3, 4, done on B
    assert on_screen == 1


async def _has_owner(probe) -> bool:
    from dbus_fast import Message

    reply = await probe.call(Message(destination="org.freedesktop.DBus",
                                     path="/org/freedesktop/DBus",
                                     interface="org.freedesktop.DBus", member="NameHasOwner",
                                     signature="s", body=[NAME]))
    return bool(reply.body and reply.body[0])
