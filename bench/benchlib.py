"""Child processes for the benches: wall and CPU time, peak RSS of every process of the tree, a terminal.

``run`` starts a command, samples ``/proc`` every 20 ms for the resident size of the child and of
each of its descendants (the bulk import's workers), and reaps it with ``os.wait4`` (CPU time
of the child and the children it reaped). With ``tty=True`` the child's stderr is a pseudo
terminal, so ``cooldownd import`` draws its progress line as it would for a user; the bench
counts the redraws.
"""

from __future__ import annotations

import os
import pty
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Run:
    """What one child did."""

    wall: float
    cpu: float  # user + system of the child and the children it reaped
    returncode: int
    stdout: str
    stderr: str
    peak_kib: dict[int, int] = field(default_factory=dict)  # pid -> largest resident size seen
    root: int = 0

    @property
    def parent_mib(self) -> float:
        return self.peak_kib.get(self.root, 0) / 1024

    @property
    def worker_mib(self) -> float:
        return max((v for k, v in self.peak_kib.items() if k != self.root), default=0) / 1024

    @property
    def workers(self) -> int:
        return sum(1 for k in self.peak_kib if k != self.root)


def _tree(root: int) -> dict[int, int]:
    """pid -> resident KiB for ``root`` and its descendants."""
    parent, rss = {}, {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                fields = Path(f"/proc/{d}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            parent[int(d)], rss[int(d)] = int(fields[1]), int(fields[21]) * PAGE_KIB
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        out[pid] = rss.get(pid, 0)
        todo.extend(p for p, pp in parent.items() if pp == pid and p not in out)
    return out


def run(argv: list[str], env: dict | None = None, cwd: Path | None = None, tty: bool = False) -> Run:
    """Run ``argv`` to its end; see the module doc."""
    master = slave = None
    if tty:
        master, slave = pty.openpty()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave if tty else subprocess.PIPE, env=env, cwd=cwd)
    if slave is not None:
        os.close(slave)
    box: dict[str, bytes] = {}
    peaks: dict[int, int] = {}
    done = threading.Event()

    def read(name: str, fd: int) -> None:
        chunks = []
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the pty's other side closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        box[name] = b"".join(chunks)

    def sample() -> None:
        while not done.wait(0.02):
            for pid, kib in _tree(proc.pid).items():
                peaks[pid] = max(peaks.get(pid, 0), kib)

    threads = [threading.Thread(target=read, args=("stdout", proc.stdout.fileno()), daemon=True),
               threading.Thread(target=read, args=("stderr", master if tty else proc.stderr.fileno()), daemon=True),
               threading.Thread(target=sample, daemon=True)]
    for t in threads:
        t.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    for t in threads:
        t.join(5)
    if master is not None:
        os.close(master)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, proc.returncode, box.get("stdout", b"").decode(),
               box.get("stderr", b"").decode(errors="replace"), peaks, proc.pid)


def fresh_env(home: str) -> dict:
    """This environment with HOME and the XDG folders in ``home`` (a fresh store) and no session bus."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("COOLDOWND_")}
    env.update(HOME=home, XDG_CONFIG_HOME=f"{home}/.config", XDG_DATA_HOME=f"{home}/.local/share",
               XDG_STATE_HOME=f"{home}/.local/state", XDG_CACHE_HOME=f"{home}/.cache", XDG_RUNTIME_DIR=home,
               DBUS_SESSION_BUS_ADDRESS=f"unix:path={home}/no-bus")
    return env


def byte_compiled() -> str:
    """Byte-compile cooldownd as ``pip install`` does for a wheel, before fresh processes are timed.

    With ``PYTHONDONTWRITEBYTECODE=1`` (set on this workplace's machines) an editable install never
    writes its ``.pyc`` files, so every fresh ``cooldownd`` recompiles ~50 modules (~0.13 s) while
    fitparse and the other installed packages load theirs; a user's install has them. Returns the
    line the bench prints about it."""
    import compileall

    root = Path(__file__).resolve().parent.parent / "cooldownd"
    ok = compileall.compile_dir(str(root), quiet=1)
    state = "set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "not set"
    return (f"cooldownd byte-compiled first, as pip install does ({'ok' if ok else 'FAILED'}; "
            f"PYTHONDONTWRITEBYTECODE is {state} here)")


def median(xs: list[float]) -> float:
    return statistics.median(xs)
