"""The daemon's offers across restarts, a stopped process and control commands (issue 13 items 4, 5; issue 14).

A real `cooldownd run` offers a recent ride on the fake notification server (a child process on a
private bus), and the test plays the person: presses through the fake, `cooldownd next` and the like,
SIGTERM, kill -9 and SIGSTOP on the daemon. After every ending no card with buttons is left open.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

import fitgen
from conftest import run_cli
from daemon_harness import DaemonProcess
from fake_notifications import ctl, private_bus, running

TITLE_START = "Cool-down after your"


@pytest.fixture
def desktop(tmp_path: Path):
    """A private session bus with the fake server on it; yields (address, env for children)."""
    with private_bus(tmp_path) as address, running(address):
        yield address, {"DBUS_SESSION_BUS_ADDRESS": address}


def config(tmp: Path, notify: str = "") -> str:
    (tmp / "in").mkdir(exist_ok=True)
    return (f"[ble]\nenabled = false\n[watch]\nfolders = [\"{tmp / 'in'}\"]\nsettle_s = 0.2\npoll_s = 5\n"
            f"[notify]\nbackend = \"desktop\"\ntransition = \"1s\"\n{notify}")


def start(tmp: Path, env: dict[str, str], notify: str = "") -> DaemonProcess:
    d = DaemonProcess(tmp, config(tmp, notify), env=env).start()
    d.wait_for_datagram("READY=1", timeout=30)
    return d


def restart(d: DaemonProcess) -> DaemonProcess:
    """The same daemon again (a reboot, a `systemctl --user restart`): same config, same store."""
    (d.tmp / "again").mkdir(exist_ok=True)
    again = DaemonProcess(d.tmp / "again", d.config.read_text(), env={k: v for k, v in d.env.items()
                                                                      if k == "DBUS_SESSION_BUS_ADDRESS"})
    again.start()
    again.wait_for_datagram("READY=1", timeout=30)
    return again


def drop_ride(tmp: Path, ended_ago: float = 60, name: str = "ride.fit") -> None:
    (tmp / "in" / name).write_bytes(fitgen.ride(start=time.time() - ended_ago - 30 * 60, minutes=30))


def calls(address: str) -> list[dict]:
    return ctl(address, "Calls")


def wait_for(address: str, pred, timeout: float = 20.0, what: str = "a card") -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hits = [c for c in calls(address) if pred(c)]
        if hits:
            return hits[-1]
        time.sleep(0.05)
    raise AssertionError(f"no {what} on the fake server; calls: {[c['summary'] for c in calls(address)]}")


def offers(address: str) -> list[dict]:
    return [c for c in calls(address) if c["summary"].startswith(TITLE_START)]


def walkthrough(d: DaemonProcess) -> dict | None:
    rows = [json.loads(x) for x in run_cli("--config", str(d.config), "history", "--json").stdout.splitlines()]
    return rows[0]["walkthrough"] if rows else None


def cli(d: DaemonProcess, *args: str):
    return run_cli("--config", str(d.config), *args, env={"DBUS_SESSION_BUS_ADDRESS": d.env["DBUS_SESSION_BUS_ADDRESS"]})


@pytest.mark.parametrize("how", ["sigterm", "kill"])
def test_a_pending_offer_is_offered_again_after_a_restart_and_no_dead_bubble_stays(desktop, tmp_path, how):
    address, env = desktop
    d = start(tmp_path, env)
    drop_ride(tmp_path)
    first = wait_for(address, lambda c: c["summary"].startswith(TITLE_START), what="the offer")
    if how == "sigterm":
        assert d.stop() == 0
        assert ctl(address, "WithActions") == []  # closed on the way out
    else:
        d.kill()
        assert ctl(address, "WithActions") == [first["id"]]  # a crash leaves it: the restart must close it
    state = walkthrough(d)
    assert state["result"] is None and state.get("phase") in ("offer", None), state
    again = restart(d)
    try:
        wait_for(address, lambda c: len(offers(address)) >= 2, what="the offer again")
        assert ctl(address, "WithActions") == [offers(address)[-1]["id"]]  # only the new offer, live
        assert first["id"] not in ctl(address, "Open")
    finally:
        assert again.stop() == 0
    assert ctl(address, "WithActions") == []


@pytest.mark.parametrize("how", ["sigterm", "kill"])
def test_a_walk_cut_off_by_a_restart_is_interrupted_and_its_bubble_closed(desktop, tmp_path, how):
    address, env = desktop
    d = start(tmp_path, env)
    drop_ride(tmp_path)
    offer = wait_for(address, lambda c: c["summary"].startswith(TITLE_START), what="the offer")
    time.sleep(0.7)  # a person reads it first
    ctl(address, "Invoke", "us", [offer["id"], "start"])
    step = wait_for(address, lambda c: c["summary"].startswith("1/"), what="step 1")
    time.sleep(1.0)
    if how == "sigterm":
        assert d.stop() == 0
    else:
        d.kill()
    again = restart(d)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (walkthrough(again) or {}).get("result") is None:
            time.sleep(0.1)
        state = walkthrough(again)
        assert state["result"] == "interrupted" and state["started_at"] is not None, state
        assert ctl(address, "WithActions") == [] and step["id"] not in ctl(address, "Open")
        time.sleep(1)
        assert len(offers(address)) == 1  # never offered again
    finally:
        assert again.stop() == 0


def test_a_snoozed_offer_comes_back_after_a_restart_when_its_snooze_ends(desktop, tmp_path):
    address, env = desktop
    d = start(tmp_path, env, 'snooze = "3s"\n')
    drop_ride(tmp_path)
    offer = wait_for(address, lambda c: c["summary"].startswith(TITLE_START), what="the offer")
    time.sleep(0.7)
    ctl(address, "Invoke", "us", [offer["id"], "later"])
    later_at = time.monotonic()
    time.sleep(0.3)
    assert d.stop() == 0
    assert walkthrough(d)["snoozes"] == 1
    again = restart(d)
    try:
        wait_for(address, lambda c: len(offers(address)) >= 2, timeout=15, what="the offer after the snooze")
        assert time.monotonic() - later_at >= 2.9  # not before the snooze ends
        assert walkthrough(again)["snoozes"] == 1
    finally:
        assert again.stop() == 0


def test_a_snoozed_offer_that_went_stale_while_the_process_was_stopped_is_not_shown(desktop, tmp_path):
    """Issue 13 item 5: the re-offer after Later checks notify.max_age on the wall clock first."""
    address, env = desktop
    d = start(tmp_path, env, 'snooze = "1s"\nmax_age = "15s"\n')
    drop_ride(tmp_path, ended_ago=1)
    offer = wait_for(address, lambda c: c["summary"].startswith(TITLE_START), what="the offer")
    ctl(address, "Invoke", "us", [offer["id"], "later"])
    d.signal(signal.SIGSTOP)  # a laptop lid closed (the steady clock counts it too)
    time.sleep(16)
    d.signal(signal.SIGCONT)
    try:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and (walkthrough(d) or {}).get("result") is None:
            time.sleep(0.2)
        assert walkthrough(d)["result"] == "expired"
        assert len(offers(address)) == 1  # the stale offer never appeared again
    finally:
        assert d.stop() == 0


def test_control_commands_drive_the_daemons_walk_with_no_button_pressed(desktop, tmp_path):
    address, env = desktop
    d = DaemonProcess(tmp_path, config(tmp_path), env=env)
    nothing = cli(d, "next")  # no daemon yet
    assert nothing.returncode == 1 and nothing.stderr.count("\n") == 1, nothing.stderr
    assert "cooldownd is not running" in nothing.stderr
    d.start()
    d.wait_for_datagram("READY=1", timeout=30)
    try:
        idle = cli(d, "next")
        assert (idle.returncode, idle.stderr.strip()) == (1, "cooldownd: next: nothing to act on: no cool-down on screen")
        drop_ride(tmp_path)
        wait_for(address, lambda c: c["summary"].startswith(TITLE_START), what="the offer")
        started = cli(d, "start")
        assert started.returncode == 0 and started.stdout.startswith("start: 1/"), started.stdout + started.stderr
        later = cli(d, "later")
        assert (later.returncode, later.stderr.strip()) == (1, "cooldownd: later: nothing to later: the cool-down is "
                                                               "under way")
        for _ in range(12):
            step = cli(d, "next")
            assert step.returncode == 0, step.stderr
            if "Cool-down" in step.stdout:
                break
        after = cli(d, "next")
        assert after.returncode == 1 and "nothing to act on" in after.stderr
        state = walkthrough(d)
        assert state["result"] == "partial" and state["steps_done"] == 0 and len(state["step_seconds"]) >= 2
    finally:
        assert d.stop() == 0
    assert ctl(address, "WithActions") == []
    assert calls(address)[-1]["summary"].startswith("Cool-down") and calls(address)[-1]["actions"] == []
