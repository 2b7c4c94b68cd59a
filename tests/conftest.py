"""Shared fixtures: every test runs with its own HOME/XDG folders and no desktop bus."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_FIT = ROOT.parent / "shared" / "fit"
# Test helpers (fakes, generators, harnesses) live in tests/support and are imported by name.
sys.path.insert(0, str(Path(__file__).with_name("support")))


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private HOME and XDG folders; no COOLDOWND_* or session bus leaking in from the developer's shell."""
    home = tmp_path_factory.mktemp("home")
    for var in list(os.environ):
        if var.startswith("COOLDOWND_") or var in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(home / "run"))
    (home / "run").mkdir(mode=0o700)
    # A session bus address left by the developer's desktop would send test notifications there.
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={home}/no-such-bus")
    return home


@pytest.fixture
def home(_isolated_env: Path) -> Path:
    """The test's private HOME."""
    return _isolated_env


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60, input: str | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m cooldownd ARGS` as a real subprocess with the test's environment."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "cooldownd", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, input=input, cwd=cwd)


@pytest.fixture
def store(tmp_path: Path):
    """A real store in the test's own folder (SQLite file, WAL), closed afterwards."""
    from cooldownd.store import Store

    s = Store.open(tmp_path / "state" / "cooldownd.db")
    yield s
    s.close()


@pytest.fixture
def shared_fit() -> Path:
    """The real device files in ../shared/fit (skips when absent)."""
    if not (SHARED_FIT / "MANIFEST.csv").exists():
        pytest.skip("../shared/fit is not present")
    return SHARED_FIT
