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
from cooldownd.desktop.walk import Stage, walk
from fake_notifications import NAME, control, private_bus, serve, start_process

REACTION_S = 0.02  # a "user" never presses within microseconds of the bubble appearing
TITLE = "Cool-down after your hard ride"


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
    if "start" in call["actions"] or call["summary"] == TITLE:
        return "offer"
    return "done" if call["summary"].startswith("Cool-down") else "step"


def is_update(call: dict) -> bool:
    return bool(call["hints"].get("suppress-sound"))


Script = Callable[[dict], "str | None"]
# Presses in these tests come REACTION_S after a card: the guard against double clicks is for people.
QUICK = CoachKnobs(press_guard_s=0.0)


async def walk_with(script: Script, knobs: CoachKnobs, *, actions: bool = True, n: int = 6,
                    hold: int = 30, headline: str = "1 h 5 min ride, load 120", keep: bool = False,
                    stage: Stage | None = None, during=None):
    """Serve a fake, walk a routine while ``script`` answers each new card; returns what happened.

    ``during(fake, walk_task)`` runs alongside (to cancel the walk, say).
    """
    srv, fake = await serve(actions, keep)
    console = io.StringIO()
    notifier = await choose_notifier("auto", stream=console)
    coach = Coach(routine(n, hold), headline, knobs, buttons=notifier.has_buttons, title=TITLE,
                  level=Level.HARD, load=120, hrr60=25, hint=notifier.hint)
    presses: list[tuple[float, str]] = []

    async def user() -> None:
        while True:
            call = await fake.notified.get()
            key = None if is_update(call) else script(call)
            if key:
                await asyncio.sleep(REACTION_S)
                presses.append((time.monotonic(), key))
                if key == "close":  # the bubble's close button (a left click on stock dunst)
                    fake.dismiss(call["id"])
                else:
                    fake.invoke(call["id"], key)

    outcome = None
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(user())
        walking = tg.create_task(walk(coach, notifier, stage=stage))
        if during is not None:
            await during(fake, walking)
        try:
            outcome = await walking
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():
                raise
        await asyncio.sleep(0.05)  # let late CloseNotification calls land
        task.cancel()
    await notifier.aclose()
    srv.disconnect()
    return outcome if outcome is not None else coach.outcome, fake, presses, console.getvalue(), notifier


def latencies(presses, calls) -> list[float]:
    """Time from each press to the first Notify after it."""
    out = []
    for t, _ in presses:
        after = [c["t"] for c in calls if c["t"] > t]
        if after:
            out.append(after[0] - t)
    return out


def test_full_walk_with_next_presses_leaves_one_bubble_and_is_honestly_partial(bus):
    def script(call):
        return {"offer": "start", "step": "next"}.get(kind(call))

    outcome, fake, presses, console, notifier = run(walk_with(script, QUICK))
    assert notifier.name == "desktop" and notifier.has_buttons and notifier.hint == ""
    # Next pressed straight away on every step: gone through, not held through
    assert (outcome.result, outcome.steps_done) == (Result.PARTIAL, 0)
    assert len(outcome.step_seconds) == 6 and max(outcome.step_seconds) < 1
    kinds = [kind(c) for c in fake.calls]
    assert kinds == ["offer"] + ["step"] * 6 + ["done"]
    assert fake.calls[0]["actions"][2::2] == ["start", "later", "skip"]
    assert all(c["actions"][2::2] == ["next", "stop"] for c in fake.calls[1:7])
    assert [c["summary"][:4] for c in fake.calls[1:7]] == [f"{i}/6 " for i in range(1, 7)]
    assert fake.calls[-1]["summary"] == "Cool-down over, some stretches cut short"
    assert len(fake.open) == 1 and fake.open[0] == fake.calls[-1]["id"] and fake.with_actions() == []
    lat = latencies(presses, fake.calls)
    assert len(lat) == 7
    print(f"\npress->next card over {len(lat)} presses: median {statistics.median(lat)*1000:.1f} ms,"
          f" max {max(lat)*1000:.1f} ms")
    assert max(lat) < 0.5
    assert console == ""


def test_no_presses_auto_advance_with_short_holds(bus):
    """Each step follows the one before after the transition, and no later than the loop itself lets it."""
    knobs = CoachKnobs(transition_s=0.05)
    lags: list[float] = []

    async def heartbeat(fake, walking):  # how late this loop wakes a timer, under whatever load there is
        while not walking.done():
            t = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - t - 0.01)

    outcome, fake, presses, _, _ = run(walk_with(
        lambda c: "start" if kind(c) == "offer" else None, knobs, hold=0, during=heartbeat))
    assert (outcome.result, outcome.steps_done) == (Result.COMPLETED, 6)
    steps = [c for c in fake.calls if kind(c) == "step" and not is_update(c)]
    gaps = [b["t"] - a["t"] for a, b in zip(steps, steps[1:])]
    # never early: each step's card was up for the transition at least, on the walk's own steady clock
    assert len(outcome.step_seconds) == 6 and min(outcome.step_seconds[:-1]) >= 0.05, outcome.step_seconds
    assert len(steps) == 6 and min(gaps) >= 0.03, gaps  # as the server saw them (its receipt jitters)
    # never late beyond what this loop itself suffered under the machine's load
    assert max(gaps) < 0.05 + 0.1 + 2 * max(lags), (gaps, max(lags))
    assert len(fake.open) <= 1


def test_stop_ends_with_a_stopped_card(bus):
    answers = iter(["start", "next", "stop"])
    outcome, fake, _, _, _ = run(walk_with(
        lambda c: next(answers, None), QUICK))
    assert (outcome.result, outcome.steps_done) == (Result.STOPPED, 0)
    assert fake.calls[-1]["summary"] == "Cool-down stopped"
    assert "0 of 6 stretches" in fake.calls[-1]["body"]
    assert fake.open == [fake.calls[-1]["id"]] and fake.with_actions() == []


def test_later_then_start(bus):
    answers = iter(["later", "start", "stop"])
    knobs = CoachKnobs(snooze_s=0.2, press_guard_s=0)
    outcome, fake, presses, _, _ = run(walk_with(lambda c: next(answers, None), knobs))
    assert outcome.snoozes == 1 and outcome.result is Result.STOPPED
    offers = [c for c in fake.calls if kind(c) == "offer"]
    assert len(offers) == 2
    assert offers[1]["t"] - presses[0][0] == pytest.approx(0.2, abs=0.15)


def test_closing_the_offer_is_later_and_it_comes_back(bus):
    """On stock dunst a left click closes the bubble: that is Later while snoozes remain, never Skip."""
    answers = iter(["close", "start"])
    knobs = CoachKnobs(snooze_s=0.2, press_guard_s=0, transition_s=0.05)
    outcome, fake, _, _, _ = run(walk_with(lambda c: next(answers, None), knobs, hold=0, n=2))
    assert outcome.snoozes == 1 and outcome.result is Result.COMPLETED
    assert [kind(c) for c in fake.calls if not is_update(c)] == ["offer", "offer", "step", "step", "done"]


def test_skip_leaves_nothing_on_screen(bus):
    outcome, fake, _, _, _ = run(walk_with(lambda c: "skip", CoachKnobs()))
    assert outcome.result is Result.SKIPPED and outcome.started_at is None
    assert len(fake.calls) == 1 and fake.open == []


def test_offer_timeout_is_missed_and_the_offer_is_closed(bus):
    outcome, fake, _, _, _ = run(walk_with(lambda c: None, CoachKnobs(offer_timeout_s=0.2)))
    assert outcome.result is Result.MISSED
    assert outcome.ended_at - outcome.offered_at == pytest.approx(0.2, abs=0.15)
    assert len(fake.calls) == 1 and fake.open == []


def test_server_without_actions_auto_starts_and_advances_and_says_how_to_steer(bus):
    knobs = CoachKnobs(transition_s=0.05)
    outcome, fake, _, _, notifier = run(walk_with(lambda c: None, knobs, actions=False, hold=0))
    assert notifier.name == "desktop" and not notifier.has_buttons
    assert (outcome.result, outcome.steps_done) == (Result.COMPLETED, 6)
    assert all(c["actions"] == [] for c in fake.calls)  # not even the plain click: nothing to act on
    assert "Starting in 1 s." in fake.calls[0]["body"] and "cooldownd next / later / stop" in fake.calls[0]["body"]
    assert len(fake.open) == 1


def test_a_double_click_on_a_server_that_keeps_the_bubble_advances_one_step(bus):
    """dunst keeps a bubble after a press: a second click 200 ms later lands on the card that replaced it."""
    async def double_clicks(fake, walking):
        async def click_twice(summary: str) -> None:
            while not any(c["summary"] == summary for c in fake.calls):
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.7)  # a person reads the card, then double-clicks it
            nid = fake.calls[-1]["id"]
            fake.invoke(nid, "default")
            await asyncio.sleep(0.2)
            fake.invoke(nid, "default")  # same bubble, now showing the next card

        await click_twice(TITLE)
        await click_twice("1/6 Stretch 0 (both sides)")
        await asyncio.sleep(0.3)
        walking.cancel()

    outcome, fake, presses, _, _ = run(walk_with(lambda c: None, CoachKnobs(), keep=True, during=double_clicks))
    shown = [c["summary"] for c in fake.calls if not is_update(c)]
    assert shown == [TITLE, "1/6 Stretch 0 (both sides)", "2/6 Stretch 1 (both sides)"], shown
    assert outcome.result is Result.INTERRUPTED and len(outcome.step_seconds) == 2
    assert len({c["id"] for c in fake.calls}) == 1  # one bubble, replaced in place all along


ENDINGS = ["done", "stop", "skip", "offer timeout", "snooze", "cancel on offer", "cancel on a step"]


@pytest.mark.parametrize("ending", ENDINGS)
def test_every_ending_leaves_no_card_with_buttons(bus, ending):
    answers = {"done": ["start"], "stop": ["start", "stop"], "skip": ["skip"], "offer timeout": [],
               "snooze": ["later"], "cancel on offer": [], "cancel on a step": ["start"]}[ending]
    script_answers = iter(answers)
    knobs = CoachKnobs(offer_timeout_s=0.3 if ending == "offer timeout" else 60, transition_s=0.05,
                       snooze_s=60, press_guard_s=0)

    async def until_over(fake, walking):
        if ending.startswith("cancel"):
            while len([c for c in fake.calls if not is_update(c)]) < (1 if ending == "cancel on offer" else 2):
                await asyncio.sleep(0.01)
            walking.cancel()  # what Ctrl-C and SIGTERM do
        elif ending == "snooze":
            while not fake.calls or fake.open:
                await asyncio.sleep(0.01)
            walking.cancel()  # nothing on screen while snoozed; end the test

    outcome, fake, _, _, _ = run(walk_with(lambda c: next(script_answers, None), knobs, hold=0 if ending == "done"
                                           else 30, n=2, keep=True, during=until_over))
    assert fake.with_actions() == [], (ending, fake.open, fake.calls[-1])
    if ending.startswith("cancel"):
        assert outcome.result is Result.INTERRUPTED and fake.open == []


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
        "Time for a cool-down", "1/3 Stretch 0 (both sides)", "2/3 Stretch 1 (both sides)",
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
    knobs = CoachKnobs(transition_s=0.2, press_guard_s=0)

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
            await wait_for_call(probe, lambda c: c["summary"].startswith("Cool-down over"))
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
    # steps 1 and 2 ran their holds; 3 and 4 were cut short by Next
    assert (outcome.result, outcome.steps_done) == (Result.PARTIAL, 2)
    assert "2/4 Two" in console and "1/4" not in console and "3/4" not in console
    assert notifier.failed >= 1 and notifier.sent >= 5  # offer, 1 on A; 3, 4, done on B (+ updates)
    assert on_screen == 1


async def _has_owner(probe) -> bool:
    from dbus_fast import Message

    reply = await probe.call(Message(destination="org.freedesktop.DBus",
                                     path="/org/freedesktop/DBus",
                                     interface="org.freedesktop.DBus", member="NameHasOwner",
                                     signature="s", body=[NAME]))
    return bool(reply.body and reply.body[0])
