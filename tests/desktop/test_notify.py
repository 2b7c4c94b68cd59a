"""Notifier backends against a fake org.freedesktop.Notifications on a private bus."""

from __future__ import annotations

import asyncio
import io
from importlib import resources
from pathlib import Path

import pytest

from cooldownd.core.coach import Card
from cooldownd.desktop.notify import (
    BODY_MAX, TITLE_MAX, ConsoleBackend, DesktopBackend, Press, choose_notifier,
    probe_capabilities,
)
from fake_notifications import private_bus, serve

OFFER = Card("offer", "Cool-down: Back", "Ride done", (("start", "Start"), ("later", "Later"),
                                                       ("skip", "Skip")))
STEP = Card("step", "1/2 Cat-cow", "Round, then arch.\nHold 30 s.", (("next", "Next"),
                                                                      ("stop", "Stop")), 0, seq=2, progress=0)
STEP_LATER = Card("step", "1/2 Cat-cow", "Round, then arch.\nHold 30 s: 20 s left.", STEP.buttons, 0, seq=2,
                  update=True, progress=33)
DONE = Card("done", "Cool-down done", "Level: hard")


@pytest.fixture
def bus(tmp_path, monkeypatch):
    with private_bus(tmp_path) as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 15))


async def desktop(actions: bool = True, name: str = "fake"):
    srv, fake = await serve(actions, name=name)
    notifier = await choose_notifier("auto", stream=io.StringIO())
    assert isinstance(notifier, DesktopBackend)
    return srv, fake, notifier


def test_probe_reads_capabilities_or_says_none(bus):
    async def main():
        none_yet = await probe_capabilities()
        srv, _ = await serve(actions=True)
        with_actions = await probe_capabilities()
        srv.disconnect()
        srv, _ = await serve(actions=False)
        without = await probe_capabilities()
        srv.disconnect()
        return none_yet, with_actions, without

    none_yet, with_actions, without = run(main())
    assert none_yet is None
    assert with_actions == frozenset({"actions", "body", "body-markup"})
    assert without == frozenset({"body", "body-markup"})


@pytest.mark.parametrize("address", ["", "unix:path=/nonexistent/bus", "garbage"])
def test_no_session_bus_means_console(monkeypatch, address):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    notifier = run(choose_notifier("auto"))
    assert isinstance(notifier, ConsoleBackend) and not notifier.has_buttons


def test_choose_notifier_honours_console_and_rejects_unknown(bus):
    assert run(choose_notifier("console")).name == "console"
    with pytest.raises(ValueError, match="auto, desktop or console"):
        run(choose_notifier("kde"))


def test_each_card_replaces_the_last_one_bubble_on_screen(bus):
    async def main():
        srv, fake, notifier = await desktop()
        for card in (OFFER, STEP, DONE):
            await notifier.show(card)
        await asyncio.sleep(0.05)
        return fake, notifier

    fake, notifier = run(main())
    assert [c["summary"] for c in fake.calls] == [OFFER.title, STEP.title, DONE.title]
    icon = Path(str(resources.files("cooldownd") / "assets" / "icon.svg"))
    assert all(c["icon"] == icon.as_uri() for c in fake.calls)  # ours, never desktop-notifier's Python logo
    assert all(c["hints"]["desktop-entry"] == "cooldownd" for c in fake.calls)
    # cards with buttons stay after a press until replaced; steps stay out of the history
    assert [c["hints"].get("resident", False) for c in fake.calls] == [True, True, False]
    assert [c["hints"].get("transient", False) for c in fake.calls] == [False, True, False]
    assert fake.open == [fake.calls[-1]["id"]]
    # replaced in place: one id, each Notify names the previous one as replaces_id
    assert [c["replaces"] for c in fake.calls] == [0, fake.calls[0]["id"], fake.calls[0]["id"]]
    assert len({c["id"] for c in fake.calls}) == 1
    assert fake.calls[0]["actions"] == ["default", "", "start", "Start", "later", "Later",
                                        "skip", "Skip"]
    assert [c["timeout"] for c in fake.calls] == [0, 0, -1]
    assert all(c["app"] == "cooldownd" for c in fake.calls)
    assert notifier.sent == 3 and notifier.failed == 0


def test_sound_is_asked_for_only_when_configured_and_once_per_card(bus):
    async def main():
        srv, fake = await serve(True)
        quiet = await choose_notifier("auto", stream=io.StringIO())
        loud = await choose_notifier("auto", stream=io.StringIO(), sound=True)
        await quiet.show(OFFER)
        await loud.show(STEP)
        await loud.show(STEP_LATER)
        await asyncio.sleep(0.05)
        return fake

    fake = run(main())
    assert "sound-name" not in fake.calls[0]["hints"]
    assert fake.calls[1]["hints"].get("sound-name")
    # the in-place update of the same step rings nothing, and asks the server not to either
    assert "sound-name" not in fake.calls[2]["hints"] and fake.calls[2]["hints"]["suppress-sound"] is True


@pytest.mark.parametrize("server, bar", [("dunst", True), ("Xfce Notify Daemon", False), ("GNOME Shell", False)])
def test_a_step_is_updated_in_place_with_its_progress_where_the_server_draws_it(bus, server, bar):
    """xfce4-notifyd turns a card with a ``value`` into a bare gauge (no text, no buttons): no bar there."""
    async def main():
        srv, fake, notifier = await desktop(name=server)
        await notifier.show(STEP)
        await notifier.show(STEP_LATER)
        return fake

    fake = run(main())
    assert [c["id"] for c in fake.calls] == [1, 1] and fake.calls[1]["replaces"] == 1
    assert [c["hints"].get("value") for c in fake.calls] == ([0, 33] if bar else [None, None])
    assert fake.calls[1]["body"].endswith("20 s left.")
    # xfce4-notifyd has no click on the body: no "default" action, which it would draw as a blank button
    assert fake.calls[0]["actions"][:2] == (["next", "Next"] if server == "Xfce Notify Daemon" else ["default", ""])


def test_a_press_on_an_older_bubble_or_the_servers_close_after_a_press_is_not_a_press(bus):
    async def main():
        srv, fake, notifier = await desktop()
        await notifier.show(OFFER)
        first = fake.calls[0]["id"]
        await notifier.close()
        await notifier.show(STEP)  # a new bubble
        fake.ActionInvoked(first, "start")  # a late click on the closed offer
        fake.invoke(fake.calls[-1]["id"], "next")  # ActionInvoked, then the server closes it (reason 2)
        presses = [await asyncio.wait_for(notifier.presses.get(), 2)]
        await asyncio.sleep(0.1)
        while not notifier.presses.empty():
            presses.append(notifier.presses.get_nowait())
        return presses, notifier

    presses, notifier = run(main())
    assert presses == [Press("next", STEP)]  # neither the offer's late click nor a "dismissed"
    assert notifier.bubble is None  # the server closed it: the next card opens a new one


def test_body_is_escaped_and_long_strings_are_clipped(bus):
    card = Card("step", "T" * 200, "<b>Wahoo & Co</b>" + "x" * 1000)

    async def main():
        srv, fake, notifier = await desktop()
        await notifier.show(card)
        return fake.calls[0]

    call = run(main())
    assert call["body"].startswith("&lt;b&gt;Wahoo &amp; Co&lt;/b&gt;xxx")
    assert len(call["summary"]) == TITLE_MAX and call["summary"].endswith("\u2026")
    # clipped before escaping, so an entity is never cut in half
    assert call["body"].endswith("x\u2026") and len(call["body"]) == BODY_MAX + 3 * 4 + 4


@pytest.mark.parametrize("key, expect", [("next", "next"), ("stop", "stop"),
                                         ("default", "default")])
def test_presses_arrive_with_the_card(bus, key, expect):
    async def main():
        srv, fake, notifier = await desktop()
        await notifier.show(STEP)
        fake.invoke(fake.calls[0]["id"], key)
        press = await asyncio.wait_for(notifier.presses.get(), 2)
        await notifier.close()  # already closed by the server: no error, no extra call
        return press, fake

    press, fake = run(main())
    assert press == Press(expect, STEP)
    assert fake.open == []


def test_dismissing_a_bubble_is_a_press(bus):
    async def main():
        srv, fake, notifier = await desktop()
        await notifier.show(OFFER)
        fake.dismiss(fake.calls[0]["id"])
        return await asyncio.wait_for(notifier.presses.get(), 2)

    assert run(main()) == Press("dismissed", OFFER)


def test_forced_desktop_without_a_server_prints_then_uses_the_server_once_it_appears(bus):
    async def main():
        console = io.StringIO()
        notifier = await choose_notifier("desktop", stream=console)
        await notifier.show(OFFER)  # must not raise
        srv, fake = await serve()
        await notifier.show(STEP)
        return notifier, console.getvalue(), fake

    notifier, text, fake = run(main())
    assert isinstance(notifier, DesktopBackend) and not notifier.has_buttons
    assert text == "== Cool-down: Back\n   Ride done\n"
    assert (notifier.failed, notifier.sent) == (1, 1)
    assert [c["summary"] for c in fake.calls] == [STEP.title]


def test_console_prints_title_and_one_line_body_and_no_updates():
    out = io.StringIO()
    asyncio.run(ConsoleBackend(out).show(STEP))
    asyncio.run(ConsoleBackend(out).show(STEP_LATER))
    assert out.getvalue() == "== 1/2 Cat-cow\n   Round, then arch. Hold 30 s.\n"
