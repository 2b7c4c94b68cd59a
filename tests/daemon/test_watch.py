"""Folder watcher on real tmp_path folders with a real event loop (inotify and polling)."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

import fitgen
from cooldownd.daemon.inotify import fs_type, needs_polling
from cooldownd.daemon.tree import expand, scan_existing
from cooldownd.daemon.watch import watch
from cooldownd.imports.inputs import is_workout_file

ROOT = Path(__file__).resolve().parents[2]
RIDE = fitgen.ride(minutes=10)
MODES = [pytest.param(False, id="inotify"), pytest.param(True, id="poll")]


class Handed:
    """What the watcher handed over: path, monotonic time and size at hand-over."""

    def __init__(self, fail_first: bool = False) -> None:
        self.items: list[tuple[Path, float, int]] = []
        self.fail_first = fail_first

    async def __call__(self, path: Path) -> None:
        self.items.append((path, time.monotonic(), path.stat().st_size))
        if self.fail_first and len(self.items) == 1:
            raise RuntimeError("importer blew up")

    @property
    def paths(self) -> list[Path]:
        return [p for p, _, _ in self.items]

    async def until(self, n: int, timeout: float = 5.0) -> None:
        """Wait until n hand-overs happened (fails the test on timeout)."""
        async with asyncio.timeout(timeout):
            while len(self.items) < n:
                await asyncio.sleep(0.02)


Scenario = Callable[[Handed], Awaitable[None]]


def run_watch(folders: list[str], scenario: Scenario, handed: Handed | None = None,
              **kw) -> Handed:
    """Start watch(), wait until it is ready, play the scenario, stop it; return hand-overs."""
    handed = handed or Handed()
    kw.setdefault("settle_s", 0.3)
    kw.setdefault("poll_s", 0.1)

    async def main() -> None:
        stop, ready = asyncio.Event(), asyncio.Event()
        async with asyncio.timeout(20), asyncio.TaskGroup() as tg:
            tg.create_task(watch(folders, on_file=handed, stop=stop, ready=ready, **kw))
            await ready.wait()
            await scenario(handed)
            stop.set()

    asyncio.run(main())
    return handed


@pytest.mark.parametrize("force_poll", MODES)
def test_slow_chunked_copy_is_handed_over_once_after_it_settles(tmp_path: Path, force_poll: bool) -> None:
    dest = tmp_path / "Activities" / "ride.fit"
    dest.parent.mkdir()
    done: list[float] = []

    async def copy_slowly(handed: Handed) -> None:
        with dest.open("wb") as out:
            for chunk in fitgen.iter_chunks(RIDE, len(RIDE) // 6 + 1):
                out.write(chunk)
                out.flush()
                await asyncio.sleep(0.15)  # shorter than settle_s: must not hand over yet
        done.append(time.monotonic())
        await handed.until(1)
        await asyncio.sleep(0.6)  # nothing more may come

    handed = run_watch([str(tmp_path / "Activities")], copy_slowly, force_poll=force_poll)
    assert handed.paths == [dest]
    (_, at, size) = handed.items[0]
    assert size == len(RIDE)
    assert at >= done[0] + 0.3 - 0.16  # settled: after the last write plus settle_s


@pytest.mark.parametrize("force_poll", MODES)
def test_fifty_files_fifty_hand_overs(tmp_path: Path, force_poll: bool) -> None:
    async def copy_many(handed: Handed) -> None:
        for i in range(50):
            (tmp_path / f"ride{i:02}.fit").write_bytes(RIDE)
        await handed.until(50)
        await asyncio.sleep(0.5)

    handed = run_watch([str(tmp_path)], copy_many, force_poll=force_poll)
    assert sorted(handed.paths) == [tmp_path / f"ride{i:02}.fit" for i in range(50)]


def test_ignored_names_and_renamed_partial_download(tmp_path: Path) -> None:
    names = [".hidden.fit", "a.fit.tmp", "b.fit.part", "inProgressActivity.fit",
             "INPROGRESSACTIVITY.FIT", "notes.txt", "fit", "c.fitx"]
    wanted = ["Ride.FIT", "export.fit.GZ", "garmin.Zip"]

    async def drop(handed: Handed) -> None:
        (tmp_path / ".Trash-1000").mkdir()
        (tmp_path / ".Trash-1000" / "old.fit").write_bytes(RIDE)
        for name in names + wanted[:2]:
            (tmp_path / name).write_bytes(RIDE)
        (tmp_path / "garmin.Zip.part").write_bytes(RIDE)
        (tmp_path / "garmin.Zip.part").rename(tmp_path / "garmin.Zip")
        await handed.until(3)
        await asyncio.sleep(0.5)

    handed = run_watch([str(tmp_path)], drop)
    assert sorted(p.name for p in handed.paths) == sorted(wanted)
    assert [n for n in names + wanted if is_workout_file(n)] == wanted


def test_glob_folder_mounted_after_start_is_picked_up(tmp_path: Path) -> None:
    pattern = str(tmp_path / "media" / "*" / "GARMIN" / "Activities")

    async def plug_in(handed: Handed) -> None:
        await asyncio.sleep(0.3)
        folder = tmp_path / "media" / "fenix" / "GARMIN" / "Activities"
        folder.mkdir(parents=True)
        (folder / "old.fit").write_bytes(RIDE)  # already there when the device appears
        await handed.until(1)
        (folder / "new.fit").write_bytes(RIDE)  # arrives while it is watched (inotify)
        await handed.until(2)

    handed = run_watch([pattern], plug_in, poll_s=0.1)
    assert [p.name for p in handed.paths] == ["old.fit", "new.fit"]


def test_new_subfolders_are_watched_recursively(tmp_path: Path) -> None:
    async def nest(handed: Handed) -> None:
        deep = tmp_path / "2024" / "05"
        deep.mkdir(parents=True)
        (deep / "a.fit").write_bytes(RIDE)
        await handed.until(1)
        (deep / "b.fit").write_bytes(RIDE)
        await handed.until(2)

    handed = run_watch([str(tmp_path)], nest, poll_s=60)  # no periodic pass to lean on
    assert [p.relative_to(tmp_path).as_posix() for p in handed.paths] == ["2024/05/a.fit", "2024/05/b.fit"]


def test_files_present_at_start_only_with_catch_up(tmp_path: Path) -> None:
    (tmp_path / "old.fit").write_bytes(RIDE)

    async def idle(handed: Handed) -> None:
        await asyncio.sleep(0.6)

    assert run_watch([str(tmp_path)], idle).paths == []
    assert run_watch([str(tmp_path)], idle, catch_up=True).paths == [tmp_path / "old.fit"]
    assert asyncio.run(scan_existing([str(tmp_path), str(tmp_path / "missing")])) == [tmp_path / "old.fit"]


def test_polling_hands_over_a_rewritten_file_again(tmp_path: Path) -> None:
    target = tmp_path / "zwift.fit"

    async def rewrite(handed: Handed) -> None:
        target.write_bytes(RIDE)
        await handed.until(1)
        target.write_bytes(RIDE + b"x")
        await handed.until(2)
        await asyncio.sleep(0.5)

    handed = run_watch([str(tmp_path)], rewrite, force_poll=True)
    assert [(p, size) for p, _, size in handed.items] == [(target, len(RIDE)), (target, len(RIDE) + 1)]


@pytest.mark.parametrize("force_poll", MODES)
def test_symlink_loops_do_not_hang(tmp_path: Path, force_poll: bool) -> None:
    root = tmp_path / "w"
    (root / "sub").mkdir(parents=True)
    os.symlink(root, root / "sub" / "back")  # w/sub/back -> w
    os.symlink(root / "self", root / "self")  # ELOOP on stat
    (root / "sub" / "a.fit").write_bytes(RIDE)
    assert asyncio.run(scan_existing([str(root)])) == [root / "sub" / "a.fit"]

    async def add(handed: Handed) -> None:
        (root / "sub" / "b.fit").write_bytes(RIDE)
        await handed.until(1)
        await asyncio.sleep(0.5)

    handed = run_watch([str(root)], add, force_poll=force_poll)
    assert handed.paths == [root / "sub" / "b.fit"]


@pytest.mark.parametrize("force_poll", MODES)
def test_file_deleted_before_it_settles_is_dropped(tmp_path: Path, force_poll: bool,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    async def flash(handed: Handed) -> None:
        gone = tmp_path / "gone.fit"
        gone.write_bytes(RIDE)
        await asyncio.sleep(0.15)
        gone.unlink()
        (tmp_path / "kept.fit").write_bytes(RIDE)
        await handed.until(1)
        await asyncio.sleep(0.5)

    with caplog.at_level(logging.DEBUG, logger="cooldownd.daemon.watch"):
        handed = run_watch([str(tmp_path)], flash, force_poll=force_poll, poll_s=0.05)
    assert handed.paths == [tmp_path / "kept.fit"]
    if not force_poll:  # polling may never have seen it, inotify always did
        assert any("gone.fit: vanished" in r.getMessage() for r in caplog.records)


def test_a_failing_callback_does_not_stop_the_watcher(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def two(handed: Handed) -> None:
        (tmp_path / "a.fit").write_bytes(RIDE)
        await handed.until(1)
        (tmp_path / "b.fit").write_bytes(RIDE)
        await handed.until(2)

    handed = run_watch([str(tmp_path)], two, Handed(fail_first=True))
    assert [p.name for p in handed.paths] == ["a.fit", "b.fit"]
    assert any("a.fit: handling the new file failed" in r.getMessage() for r in caplog.records)


def test_folder_removed_and_back_is_watched_again(tmp_path: Path) -> None:
    folder = tmp_path / "GARMIN"
    folder.mkdir()

    async def unplug(handed: Handed) -> None:
        shutil.rmtree(folder)
        await asyncio.sleep(0.3)
        folder.mkdir()
        (folder / "a.fit").write_bytes(RIDE)
        await handed.until(1)

    assert run_watch([str(folder)], unplug).paths == [folder / "a.fit"]


_CHILD = """
import asyncio, logging, sys
from cooldownd.daemon.watch import watch
logging.basicConfig(level=logging.WARNING, format="%(message)s")

async def main():
    stop = asyncio.Event()

    async def on_file(path):
        pass

    async def later():
        await asyncio.sleep(0.5)
        stop.set()

    async with asyncio.TaskGroup() as tg:
        tg.create_task(later())
        await watch([sys.argv[1]], on_file=on_file, poll_s=0.05, force_poll=True, stop=stop)

asyncio.run(main())
"""


def test_unreadable_folder_is_logged_once() -> None:
    # A real unprivileged process: root would read the locked folder anyway.
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    if drop and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv to drop privileges")
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        os.chmod(tmp, 0o755)
        (Path(tmp) / "locked").mkdir(mode=0)
        out = subprocess.run([*drop, sys.executable, "-c", _CHILD, tmp], capture_output=True, text=True,
                             timeout=30, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("cannot read this folder") == 1, out.stderr


def test_idle_inotify_watcher_sleeps(tmp_path: Path) -> None:
    cpu: list[float] = []

    async def idle(handed: Handed) -> None:
        start = time.process_time()
        await asyncio.sleep(1.0)
        cpu.append(time.process_time() - start)

    run_watch([str(tmp_path)], idle, poll_s=0.001)  # no globs, folder present: no ticking
    assert cpu[0] < 0.2


MOUNTINFO = r"""22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
40 22 0:40 / /run/user/1000/gvfs rw,nosuid - fuse.gvfsd-fuse gvfsd-fuse rw
41 22 0:41 / /mnt/nas\040share rw - nfs4 nas:/share rw
42 22 0:42 / /media/me/GARMIN rw - vfat /dev/sdb1 rw
"""


@pytest.mark.parametrize(("path", "kind", "poll"), [
    ("/home/me/Documents/Zwift/Activities", "ext4", False),
    ("/run/user/1000/gvfs/mtp:host=Garmin/Internal Storage/GARMIN", "fuse.gvfsd-fuse", True),
    ("/mnt/nas share/rides", "nfs4", True),
    ("/mnt/nas", "ext4", False),
    ("/media/me/GARMIN/Garmin/Activities", "vfat", False),
])
def test_file_system_type_decides_polling(path: str, kind: str, poll: bool) -> None:
    assert fs_type(Path(path), MOUNTINFO) == kind
    assert needs_polling(Path(path), MOUNTINFO) is poll


def test_expand_takes_home_and_globs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("a/GARMIN", "b/GARMIN", "c/other"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "GARMIN").write_text("a file, not a folder")
    assert expand(["~/*/GARMIN", "~/c/other", "~/missing"]) == [
        tmp_path / "a/GARMIN", tmp_path / "b/GARMIN", tmp_path / "c/other"]
