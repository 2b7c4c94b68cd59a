"""The daemon's status: a burst of changes (importing a watch's history) is coalesced, the last one always sent.

A real sd_notify datagram socket and a real status file; the status runs inside a real event loop.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

from cooldownd.daemon import status as status_mod
from cooldownd.daemon.status import Status
from cooldownd.daemon.systemd import SdNotify


def _drain(sock: socket.socket) -> list[str]:
    """Every datagram waiting now."""
    sock.setblocking(False)
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def test_a_burst_of_updates_is_coalesced_and_the_last_one_is_sent(listener, tmp_path: Path) -> None:
    sock, path = listener
    status = Status(SdNotify({"NOTIFY_SOCKET": path}), tmp_path / "status.json", ble_enabled=False)

    async def burst() -> float:
        t0 = time.monotonic()
        for i in range(500):  # e.g. 250 files imported: a workout noted and a delivery each
            status.source(f"folder {i % 3}", last_delivered=time.time())
            status.update(folders=[f"/f/{n}" for n in range(i + 1)])
        elapsed = time.monotonic() - t0
        await asyncio.sleep(2 * status_mod.MIN_INTERVAL_S + 0.1)
        return elapsed

    elapsed = asyncio.run(burst())
    sent = _drain(sock)
    allowed = 2 + elapsed / status_mod.MIN_INTERVAL_S  # the first at once, then at most one per interval
    assert 2 <= len(sent) <= allowed, (len(sent), elapsed)
    assert sent[-1].startswith("STATUS=watching 500 folders"), sent[-1]
    on_disk = json.loads((tmp_path / "status.json").read_text())
    assert len(on_disk["folders"]) == 500 and on_disk["line"] == sent[-1].removeprefix("STATUS=")
    assert sorted(on_disk["sources"]) == ["folder 0", "folder 1", "folder 2"]


def test_without_an_event_loop_every_update_is_written_at_once(listener, tmp_path: Path) -> None:
    sock, path = listener
    status = Status(SdNotify({"NOTIFY_SOCKET": path}), tmp_path / "status.json", ble_enabled=False)
    status.update(folders=["/a"])
    status.update(folders=["/a", "/b"])
    assert json.loads((tmp_path / "status.json").read_text())["folders"] == ["/a", "/b"]
    assert _drain(sock)[-1] == "STATUS=watching 2 folders"


def test_removed_status_leaves_no_file_and_no_late_write(listener, tmp_path: Path) -> None:
    sock, path = listener
    status = Status(SdNotify({"NOTIFY_SOCKET": path}), tmp_path / "status.json", ble_enabled=False)

    async def run() -> None:
        status.update(folders=["/a"])
        status.update(folders=["/a", "/b"])  # deferred
        status.remove()
        await asyncio.sleep(2 * status_mod.MIN_INTERVAL_S)

    asyncio.run(run())
    assert not (tmp_path / "status.json").exists()
    assert _drain(sock) == ["STATUS=watching 1 folder"]
