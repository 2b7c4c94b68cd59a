"""Hostile archives and folders, kill -9, store faults, failing notification servers, broken configs, sockets.

Real subprocesses, real files, a real tmpfs and a real D-Bus; as root, the unreadable-file
and read-only cases run the CLI as nobody through ``setpriv`` (root ignores permissions).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

import fitgen
import records
from mounts import fill, small_tmpfs
from conftest import run_cli
from cooldownd.imports import importer
from cooldownd.record import lines
from cooldownd.routinefile import load_library
from cooldownd.settings import load
from cooldownd.store import Store

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
ROOT = os.geteuid() == 0


def rows(result: subprocess.CompletedProcess[str]) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def by_name(result: subprocess.CompletedProcess[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows(result):
        out.setdefault(Path(r["file"].split("!")[0]).name + ("!" + r["file"].split("!", 1)[1] if "!" in r["file"] else ""),
                       []).append(r)
    return out


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr[-3000:]


def tree(*roots: Path) -> set[str]:
    """Every path under ``roots`` (what a zip-slip would add to)."""
    return {str(p) for r in roots if r.exists() for p in r.rglob("*")}


@contextlib.contextmanager
def world_dir() -> Iterator[Path]:
    """A folder nobody (uid 65534) can traverse; pytest's tmp folders are root-only."""
    d = Path(tempfile.mkdtemp(prefix="cooldownd-faults-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def as_nobody(home: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m cooldownd ARGS` run as nobody with ``home`` as its HOME and state."""
    if not ROOT:
        cmd: list[str] = []
    elif shutil.which("setpriv"):
        cmd = NOBODY
    else:
        pytest.skip("running as root without setpriv: cannot drop privileges for a permission test")
    env = dict(os.environ, HOME=str(home), XDG_STATE_HOME=str(home / "state"), XDG_CONFIG_HOME=str(home / "config"),
               XDG_RUNTIME_DIR=str(home / "run"))
    return subprocess.run([*cmd, sys.executable, "-m", "cooldownd", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60)


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, (2024, 5, 4, 8, 0, 0)), data)
    return buf.getvalue()


def zero_bomb(mb: int) -> bytes:
    """A zip holding ``mb`` MB of zeros (about 1000x compressed), streamed so the test stays small."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("big.fit", "w", force_zip64=True) as fh:
        chunk = b"\0" * 2**20
        for _ in range(mb):
            fh.write(chunk)
    return buf.getvalue()


def lying_size(data: bytes, size: int) -> bytes:
    """The zip with every central-directory entry claiming ``size`` uncompressed bytes."""
    b = bytearray(data)
    i = b.find(b"PK\x01\x02")
    while i >= 0:
        b[i + 24:i + 28] = size.to_bytes(4, "little")
        i = b.find(b"PK\x01\x02", i + 4)
    return bytes(b)


def rides(n: int, minutes: float = 2) -> list[bytes]:
    """``n`` distinct rides an hour apart (distinct file_id, no overlap)."""
    return [fitgen.run(minutes=minutes, start=1_700_000_000 + 3600 * i, serial=5000 + i) for i in range(n)]


# -- archives and folders ---------------------------------------------------------------------------
def test_bombs_and_unsafe_members_each_one_line_batch_goes_on(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    ride, run = fitgen.ride(minutes=5), fitgen.run(minutes=5)
    (inbox / "a-bomb.zip").write_bytes(zero_bomb(150))
    (inbox / "b-liar.zip").write_bytes(lying_size(zipped({"big.fit": b"\0" * 20 * 2**20}), 100))
    inner = zero_bomb(40)  # 40 MB inside ~40 KB: each level under 100x alone, together over
    (inbox / "c-nested.zip").write_bytes(zipped({f"n{i}.zip": inner for i in range(3)}))
    outside = Path(tempfile.gettempdir()) / f"cooldownd-abs-{os.getpid()}.fit"
    (inbox / "d-slip.zip").write_bytes(zipped({
        "../../x.fit": run, "../../../../../../tmp/y.fit": run, str(outside): run, "..\\..\\w.fit": run,
        "C:/z.fit": run, "ok/ride.fit": ride}))
    (inbox / "e-good.fit").write_bytes(fitgen.ride(minutes=6, start=1_600_000_000, serial=99))
    # The child's own temp folder: anything it (or a member name) wrote there is seen, and other
    # processes writing to the system's /tmp meanwhile cannot fail the test.
    child_tmp = tmp_path / "child-tmp"
    child_tmp.mkdir()
    watched = [tmp_path.parent, child_tmp]
    before = {str(p) for r in watched for p in r.iterdir()} | tree(tmp_path)

    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "cooldownd", "import", "--json", "--no-notify", str(inbox)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, TMPDIR=str(child_tmp)))
    out, err = proc.communicate(timeout=60)
    elapsed = time.monotonic() - t0
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    no_traceback(result)
    got = by_name(result)
    assert got["a-bomb.zip"][0]["status"] == "error" and "100x" in got["a-bomb.zip"][0]["error"]
    assert len(got["a-bomb.zip"]) == 1
    (liar,) = got["b-liar.zip!big.fit"]
    assert liar["status"] == "error" and "unreadable zip member" in liar["error"]
    assert [r["status"] for r in got["c-nested.zip"]] == ["error"] and "past 1 GB or 100x" in got["c-nested.zip"][0]["error"]
    unsafe = [k for k in got if k.startswith("d-slip.zip!") and k != "d-slip.zip!ok/ride.fit"]
    assert len(unsafe) == 5 and all(got[k][0]["status"] == "error" and "unsafe member name" in got[k][0]["error"]
                                    for k in unsafe)
    assert got["d-slip.zip!ok/ride.fit"][0]["status"] == "imported"
    assert got["e-good.fit"][0]["status"] == "imported"
    assert result.returncode == 1
    after = {str(p) for r in watched for p in r.iterdir()} | tree(tmp_path)
    assert after == before, after ^ before  # nothing written anywhere near, least of all by a member name
    assert not outside.exists() and not Path("/tmp/y.fit").exists()
    assert elapsed < 30


def test_symlink_loops_in_an_imported_folder(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    os.symlink(root, root / "sub" / "back")  # in/sub/back -> in
    os.symlink(root / "self.fit", root / "self.fit")  # ELOOP
    os.symlink(root / "gone.fit", root / "dangling.fit")
    (root / "sub" / "a.fit").write_bytes(fitgen.ride(minutes=5))
    result = run_cli("import", "--json", "--no-notify", str(root), timeout=30)
    no_traceback(result)
    got = by_name(result)
    assert got["a.fit"][0]["status"] == "imported"
    assert [r["status"] for r in rows(result)].count("imported") == 1, "the loop must not import a.fit twice"


def test_file_deleted_between_listing_and_import_is_one_line(tmp_path: Path) -> None:
    """The folder was listed, then b.fit vanished just before its turn (a watcher race)."""
    for i, data in enumerate(rides(3)):
        (tmp_path / f"{'abc'[i]}.fit").write_bytes(data)
    settings = load(None)[0]
    store = Store.open(tmp_path / "s.db")

    def progress(done: int, name: str) -> None:
        if name.endswith("b.fit"):
            (tmp_path / "b.fit").unlink()

    try:
        res = [lines.import_line(r) for r in importer.import_paths(
            [tmp_path], store=store, athlete=settings.athlete_profile(), progress=progress,
            knobs=settings.intensity_knobs(), library=load_library(settings.routines.file))]
    finally:
        store.close()
    assert [(Path(r["file"]).name, r["status"]) for r in res] == [("a.fit", "imported"), ("b.fit", "error"),
                                                                  ("c.fit", "imported")]
    assert res[1]["error"] == "no such file"


def test_unreadable_file_and_folder_as_nobody() -> None:
    with world_dir() as d:
        home, inbox = d / "home", d / "in"
        home.mkdir()
        inbox.mkdir(mode=0o755)
        inbox.chmod(0o755)
        first, second, third = rides(3)
        (inbox / "ok.fit").write_bytes(first)
        (inbox / "ok.fit").chmod(0o644)
        (inbox / "secret.fit").write_bytes(second)
        (inbox / "secret.fit").chmod(0o000)
        (inbox / "locked").mkdir(mode=0o700)
        (inbox / "locked" / "inner.fit").write_bytes(third)
        if ROOT:
            os.chown(home, 65534, 65534)
        else:  # the owner can read 0o000 files only as root; as a user both cases are real already
            (inbox / "locked").chmod(0o000)
        result = as_nobody(home, "import", "--json", "--no-notify", str(inbox), cwd=d)
        no_traceback(result)
        got = by_name(result)
        assert got["ok.fit"][0]["status"] == "imported"
        (secret,) = got["secret.fit"]
        assert secret["status"] == "error" and "Permission denied" in secret["error"]
        assert result.returncode == 1


def test_unreadable_sub_folder_is_a_line_too() -> None:
    with world_dir() as d:
        home, inbox = d / "home", d / "in"
        home.mkdir()
        (inbox / "locked").mkdir(parents=True, mode=0o755)
        inbox.chmod(0o755)
        (inbox / "locked" / "inner.fit").write_bytes(fitgen.ride(minutes=5))
        (inbox / "locked").chmod(0o700 if ROOT else 0o000)
        if ROOT:
            os.chown(home, 65534, 65534)
        result = as_nobody(home, "import", "--json", "--no-notify", str(inbox), cwd=d)
        no_traceback(result)
        assert any("locked" in r["file"] and r["status"] == "error" for r in rows(result)), result.stdout


# -- kill -9 during a bulk import -------------------------------------------------------------------------
def _db_state(db: Path) -> tuple[int, int, set[str]]:
    """(workouts, imported files, shas of imported files), asserting every workout has its file row."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        orphans = conn.execute("SELECT COUNT(*) FROM workouts w LEFT JOIN files f ON f.sha256 = w.file_sha256 "
                               "WHERE f.sha256 IS NULL OR f.status != 'imported'").fetchone()[0]
        assert orphans == 0, "a workout without its file row: half-written"
        n_workouts = conn.execute("SELECT COUNT(*) FROM workouts").fetchone()[0]
        shas = {r[0] for r in conn.execute("SELECT sha256 FROM files WHERE status = 'imported'")}
        missing = conn.execute("SELECT COUNT(*) FROM files f WHERE f.status = 'imported' AND NOT EXISTS "
                               "(SELECT 1 FROM workouts w WHERE w.file_sha256 = f.sha256)").fetchone()[0]
        assert missing == 0, "an imported file row without its workout: half-written"
    finally:
        conn.close()
    return n_workouts, len(shas), shas


def test_kill_9_mid_bulk_import_loses_nothing_and_a_rerun_finishes(tmp_path: Path, home: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    n = 200
    for i, data in enumerate(rides(n)):
        (inbox / f"{i:03d}.fit").write_bytes(data)
    proc = subprocess.Popen([sys.executable, "-m", "cooldownd", "import", "--json", "--no-notify", str(inbox)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    printed = []
    assert proc.stdout is not None
    for line in proc.stdout:
        printed.append(json.loads(line))
        if len(printed) == 70:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole group, as systemd kills the unit's cgroup
            break
    proc.wait(10)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    db = home / ".local" / "state" / "cooldownd" / "cooldownd.db"
    if not db.exists():
        db = next((home / ".local" / "state").rglob("*.db"))
    workouts, files, shas = _db_state(db)
    assert workouts == files, "one workout per imported file"
    assert 70 <= files < n, f"killed mid-way: {files} of {n} committed"
    assert {r["sha256"] for r in printed} <= shas, "a workout reported imported was lost"
    again = run_cli("import", "--json", "--no-notify", str(inbox), timeout=120)
    no_traceback(again)
    statuses = [r["status"] for r in rows(again)]
    assert statuses.count("duplicate") == files and statuses.count("imported") == n - files
    assert _db_state(db)[:2] == (n, n)


# -- store faults ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    pytest.param(("import", "--json", "--no-notify", "ride.fit"), id="import"),
    pytest.param(("run",), id="daemon"),
])
def test_read_only_state_folder_is_one_line_at_start(args: tuple[str, ...]) -> None:
    if not ROOT:
        pytest.skip("needs root to hand nobody a folder it cannot write")
    with world_dir() as d:
        home = d / "home"
        (home / "state" / "cooldownd").mkdir(parents=True)
        (home / "config" / "cooldownd").mkdir(parents=True)
        (home / "config" / "cooldownd" / "config.toml").write_text("[ble]\nenabled = false\n")
        for p in (home, home / "state", home / "state" / "cooldownd", home / "config", home / "config" / "cooldownd"):
            p.chmod(0o755)  # root's: nobody may read but not write
        (d / "ride.fit").write_bytes(fitgen.ride(minutes=5))
        result = as_nobody(home, *args, cwd=d)
        no_traceback(result)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1, result
        assert len(lines) == 1 and lines[0].startswith("cooldownd: ") and "state" in lines[0], result.stderr
        assert "permission" in lines[0].lower(), lines[0]
        assert result.stdout == ""


def test_read_only_database_file_fails_each_input_loudly(tmp_path: Path, home: Path) -> None:
    first, second, third = rides(3)
    (tmp_path / "1.fit").write_bytes(first)
    assert run_cli("import", "--json", "--no-notify", str(tmp_path / "1.fit")).returncode == 0
    db = next((home / ".local" / "state").rglob("*.db"))
    if not ROOT:
        pytest.skip("needs root to drop to a user that cannot write the database")
    (tmp_path / "2.fit").write_bytes(second)
    (tmp_path / "3.fit").write_bytes(third)
    for p in (home, home / ".local", home / ".local" / "state", db.parent, tmp_path, tmp_path.parent,
              tmp_path.parent.parent):
        p.chmod(p.stat().st_mode | 0o555)
    for p in (tmp_path / "2.fit", tmp_path / "3.fit", db):
        p.chmod(0o644)
    os.chown(db.parent, 65534, 65534)  # the folder is theirs (sqlite may make -shm), the database is not
    env = {"HOME": str(home), "XDG_STATE_HOME": str(home / ".local" / "state")}
    result = subprocess.run([*NOBODY, sys.executable, "-m", "cooldownd", "import", "--json", "--no-notify",
                             str(tmp_path / "2.fit"), str(tmp_path / "3.fit")], capture_output=True, text=True,
                            env=dict(os.environ, **env), timeout=60)
    no_traceback(result)
    if result.stderr.count("\n") == 1 and result.returncode == 1 and not result.stdout:
        return  # refused at start with one line: also fine
    got = rows(result)
    assert [r["status"] for r in got] == ["error", "error"], result
    assert all("readonly" in r["error"] or "read-only" in r["error"] for r in got)
    assert result.returncode == 1
    assert _db_state(db)[:2] == (1, 1)


def test_full_disk_fails_inputs_loudly_and_a_rerun_imports_them(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "2m") as mnt:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f"[store]\npath = \"{mnt / 'state' / 'c.db'}\"\n")
        inbox = tmp_path / "in"
        inbox.mkdir()
        n = 40
        for i, data in enumerate(rides(n)):
            (inbox / f"{i:02d}.fit").write_bytes(data)
        assert run_cli("--config", str(cfg), "import", "--json", "--no-notify", str(inbox / "00.fit")).returncode == 0
        filler = fill(mnt, 48 * 1024)
        full = run_cli("--config", str(cfg), "import", "--json", "--no-notify", str(inbox), timeout=120)
        assert "internal error" not in full.stderr  # tracebacks: see the test below
        got = rows(full)
        assert len(got) == n, full.stdout
        failed = [r for r in got if r["status"] == "error"]
        assert failed, "the disk never filled up"
        assert full.returncode == 1
        assert all("full" in r["error"] and "\n" not in r["error"] for r in failed), failed[:3]
        filler.unlink()
        again = run_cli("--config", str(cfg), "import", "--json", "--no-notify", str(inbox), timeout=120)
        no_traceback(again)
        redo = {Path(r["file"]).name: r["status"] for r in rows(again)}
        assert all(redo[Path(r["file"]).name] == "imported" for r in failed), "an input lost to the full disk"
        assert again.returncode == 0
        assert _db_state(mnt / "state" / "c.db")[:2] == (n, n)


def test_full_disk_import_logs_no_traceback(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "1m") as mnt:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f"[store]\npath = \"{mnt / 'state' / 'c.db'}\"\n")
        for i, data in enumerate(rides(20)):
            (tmp_path / f"{i:02d}.fit").write_bytes(data)
        assert run_cli("--config", str(cfg), "import", "--no-notify", str(tmp_path / "00.fit")).returncode == 0
        fill(mnt, 48 * 1024)  # the database opens, then the writes fail
        result = run_cli("--config", str(cfg), "import", "--json", "--no-notify", str(tmp_path))
        assert result.returncode == 1 and any(r["status"] == "error" and "full" in r["error"] for r in rows(result))
        no_traceback(result)


def test_daemon_on_a_full_disk_is_one_line_at_start(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "1m") as mnt:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f"[ble]\nenabled = false\n[store]\npath = \"{mnt / 'state' / 'c.db'}\"\n")
        (mnt / "state").mkdir()
        fill(mnt, 0)
        result = run_cli("--config", str(cfg), "run", timeout=30)
        assert result.returncode == 1
        no_traceback(result)
        lines = [line for line in result.stderr.strip().splitlines() if line.startswith("cooldownd:")]
        assert len(lines) == 1 and str(mnt / "state") in lines[0] and "space" in lines[0], result.stderr


def _corrupt_pages(db: Path) -> bytes:
    """Overwrite inner pages of a real database, keeping its header valid; returns the damaged bytes."""
    data = bytearray(db.read_bytes())
    for page in range(2, len(data) // 4096):
        data[page * 4096 + 8:page * 4096 + 600] = bytes(range(256)) * 2 + bytes(80)
    db.write_bytes(data)
    return bytes(data)


def test_partly_corrupt_database_is_moved_aside_at_open(tmp_path: Path) -> None:
    """A valid header over damaged pages: quick_check finds it, so it is moved aside, not used."""
    db = tmp_path / "c.db"
    store = Store.open(db)
    with store.transaction():
        for i in range(200):
            store.add_workout(records.summary("cycling", i * 10, i * 10 + 5, note="x" * 400), source="fit")
    store.close()
    damaged = _corrupt_pages(db)
    store = Store.open(db)
    try:
        assert store.workouts() == []  # afresh, and usable
        store.add_workout(records.summary("running", 0, 1), source="fit")
    finally:
        store.close()
    (aside,) = [p for p in tmp_path.iterdir() if p.name.startswith("c.db.corrupt-") and not p.name.endswith(("-wal", "-shm"))]
    assert aside.read_bytes() == damaged


def test_corrupt_database_is_loud_at_import_and_the_import_goes_on(tmp_path: Path, home: Path) -> None:
    first, second = rides(2)
    (tmp_path / "1.fit").write_bytes(first)
    assert run_cli("import", "--json", "--no-notify", str(tmp_path / "1.fit")).returncode == 0
    db = next((home / ".local" / "state").rglob("*.db"))
    damaged = _corrupt_pages(db) if db.stat().st_size > 3 * 4096 else db.write_bytes(b"garbage" * 999) or db.read_bytes()
    (tmp_path / "2.fit").write_bytes(second)
    result = run_cli("import", "--json", "--no-notify", str(tmp_path / "2.fit"))
    no_traceback(result)
    assert result.returncode == 0 and rows(result)[0]["status"] == "imported"
    loud = [line for line in result.stderr.splitlines() if "corrupt" in line and "moved aside" in line]
    assert len(loud) == 1 and "ERROR" in loud[0], result.stderr
    (aside,) = [p for p in db.parent.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert aside.read_bytes() == damaged


# -- notification server answering with errors ------------------------------------------------------------
def test_notify_server_answering_errors_falls_back_to_the_console(tmp_path: Path, monkeypatch) -> None:
    from dbus_fast import DBusError
    from dbus_fast.service import method

    from cooldownd.core.coach import Coach, CoachKnobs, Result
    from cooldownd.core.model import Level, Routine, Step
    from cooldownd.desktop.notify import DesktopBackend, choose_notifier
    from cooldownd.desktop.walk import walk
    from fake_notifications import FakeNotifications, private_bus, serve

    class Failing(FakeNotifications):
        """Answers GetCapabilities, then every Notify / CloseNotification with a D-Bus error."""

        @method()
        def Notify(self, app: "s", replaces: "u", icon: "s", summary: "s", body: "s",  # noqa: F821
                   actions: "as", hints: "a{sv}", timeout: "i") -> "u":  # noqa: F821
            self.calls.append({"summary": summary})
            raise DBusError("org.freedesktop.Notifications.Error.Broken", "out of bubbles")

        @method()
        def CloseNotification(self, nid: "u"):  # noqa: F821
            raise DBusError("org.freedesktop.DBus.Error.Failed", "cannot close")

    async def main(address: str):
        from dbus_fast import BusType
        from dbus_fast.aio import MessageBus

        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        bus = await MessageBus(bus_type=BusType.SESSION).connect()
        fake = Failing(actions=False)
        bus.export("/org/freedesktop/Notifications", fake)
        await bus.request_name("org.freedesktop.Notifications")
        console = io.StringIO()
        notifier = await choose_notifier("auto", stream=console)
        steps = tuple(Step(f"s{i}", f"Stretch {i}", "<b>breathe</b> & hold", 0, None) for i in range(3))
        coach = Coach(Routine("R", Level.LIGHT, "ride", steps), "Ride <i>done</i>", CoachKnobs(transition_s=0.02),
                      buttons=notifier.has_buttons, level=Level.LIGHT, load=30)
        outcome = await asyncio.wait_for(walk(coach, notifier), 20)
        await notifier.aclose()
        bus.disconnect()
        return notifier, outcome, console.getvalue(), fake.calls

    assert serve  # the in-process server helper this variant mirrors
    with private_bus(tmp_path) as address:
        notifier, outcome, console, calls = asyncio.run(main(address))
    assert isinstance(notifier, DesktopBackend)
    assert outcome.result is Result.COMPLETED and outcome.steps_done == 3  # the routine's state went on
    # offer, 3 steps (2 of them updated in place when their hold ends), done: all refused, the new cards printed
    assert len(calls) == 7 and notifier.sent == 0 and notifier.failed == 7
    shown = [line[3:] for line in console.splitlines() if line.startswith("== ")]
    assert shown == ["Time for a cool-down", "1/3 Stretch 0", "2/3 Stretch 1", "3/3 Stretch 2", "Cool-down done"]


# -- configuration through the daemon and the environment ---------------------------------------------------
DAEMON_BROKEN = [
    ("max-hr-400", "[athlete]\nmax_hr = 400\n", None, "athlete.max_hr"),
    ("bad-toml", "[watch\n", None, "not valid TOML"),
    ("unknown-key", "[detect]\nstart_bpm = 1\n", None, "detect.start_bpm"),
    ("env-max-hr", "", {"COOLDOWND_ATHLETE__MAX_HR": "20"}, "COOLDOWND_ATHLETE__MAX_HR"),
    ("env-backend", "", {"COOLDOWND_NOTIFY__BACKEND": "kde"}, "COOLDOWND_NOTIFY__BACKEND"),
    ("env-poll", "", {"COOLDOWND_WATCH__POLL_S": "zero"}, "COOLDOWND_WATCH__POLL_S"),
    ("env-missing-config", "", {"COOLDOWND_CONFIG": "/nonexistent/cooldownd.toml"}, "/nonexistent/cooldownd.toml"),
]


@pytest.mark.parametrize(("text", "env", "needle"), [b[1:] for b in DAEMON_BROKEN], ids=[b[0] for b in DAEMON_BROKEN])
def test_daemon_with_a_broken_configuration_exits_78_with_one_line(tmp_path: Path, text: str, env, needle: str) -> None:
    args: tuple[str, ...] = ()
    if text:
        (tmp_path / "config.toml").write_text(text)
        args = ("--config", str(tmp_path / "config.toml"))
    result = run_cli(*args, "run", env=env, timeout=30)
    assert result.returncode == 78, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert result.stdout == ""


# -- security ------------------------------------------------------------------------------------------------
def _socket_inodes(pid: int) -> set[int]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                out.add(int(target[8:-1]))
    return out


def _inodes_in(table: Path, column: int) -> set[int]:
    with contextlib.suppress(OSError):
        return {int(line.split()[column]) for line in table.read_text().splitlines()[1:] if len(line.split()) > column}
    return set()


def _wait_for_bubble(address: str, timeout: float = 20.0) -> None:
    """Until the fake notification server has received a Notify call."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["dbus-send", f"--bus={address}", "--print-reply", "--dest=org.freedesktop.Notifications",
                              "/org/freedesktop/Notifications", "org.cooldownd.FakeControl.Calls"],
                             capture_output=True, text=True, timeout=5).stdout
        if '"summary"' in out:
            return
        time.sleep(0.1)
    raise AssertionError("the daemon never showed the offer")


def _check_sockets(pid: int) -> None:
    sockets = _socket_inodes(pid)
    unix = _inodes_in(Path(f"/proc/{pid}/net/unix"), 6)
    inet: set[int] = set()
    for name in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6", "udplite", "udplite6", "icmp", "icmp6"):
        inet |= _inodes_in(Path(f"/proc/{pid}/net/{name}"), 9)
    packet = _inodes_in(Path(f"/proc/{pid}/net/packet"), 8)
    netlink = _inodes_in(Path(f"/proc/{pid}/net/netlink"), 9)
    assert sockets, "the daemon holds no socket at all (D-Bus, sd_notify?)"
    assert not sockets & (inet | packet | netlink), "a non-AF_UNIX socket"
    assert sockets <= unix, sockets - unix


def _assert_private(state: Path, names: tuple[str, ...] | None = None) -> None:
    """The folder is 0700, its folders 0700 and its files 0600 (only ``names`` when given)."""
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    seen = []
    for p in state.rglob("*"):
        if names is None or p.name in names:
            want = 0o700 if p.is_dir() else 0o600
            assert stat.S_IMODE(p.stat().st_mode) & ~want == 0, f"{p} is {oct(p.stat().st_mode)}"
            seen.append(p.name)
    assert seen, "no state files to check"


STORE_FILES = ("cooldownd.db", "cooldownd.db-wal", "cooldownd.db-shm", "daemon.lock")


@pytest.mark.parametrize("check", [
    pytest.param("sockets-and-store", id="af-unix-only"),
    pytest.param("every-state-file", id="state-files"),
])
def test_running_daemon_opens_only_unix_sockets_and_keeps_state_private(tmp_path: Path, home: Path,
                                                                        check: str) -> None:
    """BLE on (a bus without BlueZ), a watched folder, and an offer shown on a desktop server: the sockets then."""
    from daemon_harness import DaemonProcess
    from fake_notifications import private_bus

    inbox = tmp_path / "in"
    inbox.mkdir()
    state = home / ".local" / "state" / "cooldownd"
    config = (f"[ble]\nenabled = true\n[watch]\nfolders = [\"{inbox}\"]\nsettle_s = 0.2\npoll_s = 5\n"
              "[notify]\nbackend = \"auto\"\nmax_age = \"1h\"\n")
    with private_bus(tmp_path) as address:
        server = subprocess.Popen([sys.executable, str(Path(__file__).parents[1] / "support" / "fake_notifications.py")],
                                  env=dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address), stdout=subprocess.PIPE,
                                  text=True)
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        d = DaemonProcess(tmp_path, config, env={"DBUS_SESSION_BUS_ADDRESS": address,
                                                 "DBUS_SYSTEM_BUS_ADDRESS": address}).start()
        try:
            d.wait_for_datagram("READY=1", timeout=20)
            (inbox / "ride.fit").write_bytes(fitgen.ride(minutes=5, start=time.time() - 600))
            d.wait_for_output("imported", stream="stderr", timeout=20)
            _wait_for_bubble(address)  # the offer is on the desktop: the daemon holds a live bus connection
            assert d.proc is not None
            if check == "sockets-and-store":
                _check_sockets(d.proc.pid)
                _assert_private(state, STORE_FILES)
            else:
                _assert_private(state)
        finally:
            code = d.stop()
            server.kill()
            server.wait(5)
        assert code == 0, d.stderr.read_text()[-2000:]


@given(st.text())
def test_markup_escaping_keeps_every_string_and_no_tag(text: str) -> None:
    import html

    from cooldownd.desktop.notify import markup_safe

    safe = markup_safe(text)
    assert "<" not in safe and ">" not in safe
    assert html.unescape(safe) == text
    assert all(safe[i:].startswith(("&amp;", "&lt;", "&gt;")) for i, c in enumerate(safe) if c == "&")


def test_complete_file_after_its_truncated_copy_replaces_it(tmp_path: Path) -> None:
    """A half-copied file imported first (its readable part) must not hide the complete file."""
    full = fitgen.ride(minutes=20)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "ride.fit").write_bytes(full[: len(full) // 2])
    (tmp_path / "ride.fit").write_bytes(full)
    settings = load(None)[0]
    store = Store.open(tmp_path / "s.db")
    kw = dict(store=store, athlete=settings.athlete_profile(), knobs=settings.intensity_knobs(),
              library=load_library(settings.routines.file))
    try:
        (part,) = importer.import_paths([tmp_path / "half" / "ride.fit"], **kw)
        assert part.status == "imported" and part.summary.note
        (whole,) = importer.import_paths([tmp_path / "ride.fit"], **kw)
        assert whole.status == "imported" and whole.summary.duration_s == 1200 and whole.summary.sport == "cycling"
        (kept,) = store.workouts()  # the truncated copy stays, superseded: history hides it
        assert kept.summary.duration_s == 1200 and kept.id == whole.id
        assert store.get_workout(part.id).superseded_by == whole.id
    finally:
        store.close()


def test_live_journal_on_a_full_disk_keeps_the_samples_and_writes_them_later(tmp_path: Path) -> None:
    """A journal batch that cannot be written stays in memory and lands once there is space again."""
    import asyncio

    from cooldownd.clock import Timeline
    from cooldownd.live.session import LiveSession
    from cooldownd.record.recorder import Rules
    from cooldownd.asyncstore import AsyncStore
    from memory_parts import MemoryStatus

    with small_tmpfs(tmp_path / "mnt", "1m") as mnt:
        store = AsyncStore(Store.open(mnt / "state" / "c.db"))
        session = store.store.journal_open("E1:3C:5B:9A:12:34", 1000.0)
        filler = fill(mnt, 0)
        settings = load(None)[0]
        rules = Rules(settings.athlete_profile(), settings.intensity_knobs(), load_library())
        frozen = Timeline(wall=lambda: 2000.0, steady=lambda: 2000.0)  # time stands still
        live = LiveSession(store, settings.ble, settings.detect, lambda: rules, MemoryStatus(), asyncio.Queue(),
                           timeline=frozen)
        live.session = session
        rows = [(1000.0 + i, 140, "detected", (430.0,) * 200) for i in range(400)]  # too big for what is left
        live.buffer = list(rows)

        async def flush() -> None:
            await live.flush()

        try:
            asyncio.run(flush())
            assert live.buffer == rows, "nothing may be lost while the disk is full"
            assert live._flush_due() >= 2000.0, "no busy retry: the next attempt waits"
            filler.unlink()
            asyncio.run(flush())
            assert live.buffer == []
            found = store.store.journal_unfinished()
            assert found is not None and len(found[2]) == len(rows)
        finally:
            store.close()
