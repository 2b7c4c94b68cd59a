"""Which chime rings with which card, what is said, and what an in-place update of a card does."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from cooldownd.core.coach import Card
from cooldownd.core.model import Step
from cooldownd.desktop.cues import Cues, CuedNotifier
from cooldownd.desktop.media import Pictures
from cooldownd.desktop.notify import ConsoleBackend
from cooldownd.desktop.sound import Chimes, Voice


def step(exercise: str, side: str | None, i: int, hold: int = 20) -> Card:
    s = Step(exercise, exercise.replace("_", " ").capitalize(), "text", hold, side)
    return Card("step", f"{i + 1}/5 {s.title}", "body", (), i, s)


class Heard(Chimes):
    """Chimes that note what would ring instead of ringing."""

    def play(self, kind: str) -> None:
        self.played.append(kind)


class Said(Voice):
    def say(self, text: str) -> None:
        self.said.append(text)


def cues(tmp_path) -> Cues:
    return Cues(Pictures(tmp_path, renderer=None), Heard(tmp_path), Said(enabled=True))


def test_start_switch_and_the_timed_cues(tmp_path):
    c = cues(tmp_path)
    assert c.shown(Card("offer", "Cool-down", "body")) == []
    assert c.shown(step("knees_to_chest", "left", 0)) == [(20.0, "end")]
    assert c.shown(step("knees_to_chest", "right", 1)) == [(20.0, "end")]
    assert c.shown(step("knees_to_chest", "both", 2)) == [(20.0, "end")]
    assert c.shown(step("cat", None, 3, hold=40)) == [(40.0, "end"), (20.0, "switch")]  # halfway: round the back
    assert c.shown(step("child_pose", None, 4)) == [(20.0, "end")]
    assert c.chimes.played == ["start", "switch", "switch", "start", "start"]
    assert c.voice.said[0] == "Knees to chest, left side. Hold for 20 seconds."
    assert c.voice.said[2] == "Knees to chest, both sides. Hold for 20 seconds."
    assert c.voice.said[3] == "Cat. Hold for 40 seconds."
    assert c.shown(Card("done", "Cool-down done", "body")) == []
    assert len(c.chimes.played) == 5 and len(c.voice.said) == 5


def test_an_update_of_the_card_on_screen_rings_nothing(tmp_path):
    c = cues(tmp_path)
    first = step("trapezius", "left", 0)
    assert c.card_media(first).chime == "start"
    c.shown(first)
    update = replace(first, body="10 s left")
    assert c.same_step(update) and c.card_media(update).chime is None
    assert c.shown(update) == [] and c.chimes.played == ["start"] and len(c.voice.said) == 1
    c.hidden()  # snoozed or closed: the same step shown again is a new start
    assert c.card_media(first).chime == "start"


def test_the_cued_notifier_cancels_the_timers_of_a_step_left_early(tmp_path):
    async def go() -> list[str]:
        c = cues(tmp_path)
        notifier = CuedNotifier(ConsoleBackend(open("/dev/null", "w")), c)
        await notifier.show(step("cat", None, 0, hold=1))
        await asyncio.sleep(0.6)  # the halfway chime rang
        await notifier.show(step("child_pose", None, 1, hold=1))  # Next pressed before the cat's end
        await asyncio.sleep(1.2)
        await notifier.close()
        await notifier.aclose()
        return c.chimes.played
    assert asyncio.run(go()) == ["start", "switch", "start", "end"]


def test_the_cat_moves_through_its_positions_on_the_card_updates(tmp_path):
    c = cues(tmp_path)
    card = step("cat", None, 0, hold=60)
    both = c.card_media(card).image
    assert both is not None and both.name == "cat.svg"  # the first card shows both positions
    c.shown(card)
    shown = [c.card_media(replace(card, update=True, progress=p)).image.name for p in (25, 50, 75, 100)]
    assert shown == ["cat_sunk.svg", "cat_round.svg", "cat_sunk.svg", "cat.svg"]
    other = step("child_pose", None, 1)
    c.shown(other)
    assert c.card_media(replace(other, update=True, progress=50)).image.name == "child_pose.svg"


def test_custom_pictures_and_server_sounds(tmp_path):
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"\x89PNG\r\n\x1a\n")
    c = Cues(Pictures(tmp_path, custom={"cat": mine}, renderer=None), Chimes(tmp_path, via="auto"), Voice())
    assert c.card_media(step("cat", None, 0)).image == mine
    assert c.shown(step("cat", None, 0)) == [(20.0, "end")]  # not our cat: no halfway position change
    c.attach(frozenset({"actions", "sound"}))
    media = c.card_media(step("turns", "right", 1))
    assert media.chime == "start" and media.sound_file is not None and media.sound_file.suffix == ".wav"
    c.attach(frozenset({"actions"}))
    assert c.card_media(step("turns", "right", 1)).sound_file is None


def test_a_server_that_plays_sounds_rings_the_end_with_the_resting_update(tmp_path):
    c = Cues(Pictures(tmp_path, renderer=None), Chimes(tmp_path, via="server"), Voice())
    card = step("child_pose", None, 0)
    assert c.card_media(card).chime == "start"
    c.shown(card)
    ticking = replace(card, body="10 s left", update=True, progress=50)
    assert c.card_media(ticking).chime is None
    c.shown(ticking)
    resting = replace(card, body="Well done. Ease out of it.", update=True, progress=100)
    media = c.card_media(resting)
    assert media.chime == "end" and media.sound_file is not None and media.sound_file.name.startswith("end-")
    c.shown(resting)
    assert c.card_media(resting).chime is None  # once
    assert c.chimes.played == []  # the server rings, not a player
