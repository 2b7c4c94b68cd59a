"""What a ready, idle ``cooldownd run`` has imported: none of the heavy libraries it needs only for some work.

pydantic (settings are validated in a child: plainsettings.py), httpx (only with an intervals.icu key) and
the FIT decoders (only once a file arrives) each cost megabytes that stay resident. The daemon runs with
``PYTHONPROFILEIMPORTTIME``, which writes one stderr line per module as it is imported, interleaved with
the log: nothing heavy before "ready". (Once a file arrives the decoders load in the decoding process,
not here: tests/daemon/test_importworker.py.) Memory figures themselves are in bench/idle, not here.
"""

from __future__ import annotations

import re
from pathlib import Path

from daemon_harness import DaemonProcess

HEAVY = ("pydantic", "pydantic_core", "pydantic_settings", "httpx", "httpcore", "fitparse", "cooldownd.fit.fastfit",
         "cooldownd.imports.importer")
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.M)


def imported(text: str) -> list[str]:
    return _IMPORTED.findall(text)


def test_an_idle_daemon_has_not_imported_the_heavy_libraries(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    config = (f'[ble]\nenabled = false\n[watch]\nfolders = ["{inbox}"]\nsettle_s = 0.2\n'
              f'[notify]\nbackend = "console"\n[store]\npath = "{tmp_path / "state.db"}"\n')
    d = DaemonProcess(tmp_path, config, env={"PYTHONPROFILEIMPORTTIME": "1"}).start()
    try:
        d.wait_for_datagram("READY=1", timeout=60)
        before = d.stderr.read_text(errors="replace")
        assert "cooldownd.daemon.watch" in imported(before)  # the instrument sees our modules
        assert [m for m in imported(before) if m.split(".")[0] in HEAVY or m in HEAVY] == []
    finally:
        d.stop()
