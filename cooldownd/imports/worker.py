"""What runs inside a decoding process: bulk.py's pool workers and retry.py's process for one file.

``init`` sets a process up (the import's Job, log records kept for the parent to replay, killed with
the process that started it); ``work`` runs ``importer.prepare`` on one file. Both kinds of process
run exactly this, so a file read again after a decoding process died is read the same way.

Tests only: ``TEST_COOLDOWND_KILL_DECODING`` (JSON ``{"file": NAME, "tally": PATH, "times": N}``)
makes a decoding process SIGKILL itself as it starts on a file named NAME (its base name, also
inside a zip), at most N times in all (every time without "times"); each kill adds a line to PATH.
The variable is not a ``COOLDOWND_`` one, so no configuration ever reads it.
"""

from __future__ import annotations

import json
import logging
import os
from types import MappingProxyType

from cooldownd.imports import importer

KILL_HOOK = "TEST_COOLDOWND_KILL_DECODING"
WORKER_PLANS = 2048  # decoding plans a worker keeps (~11 kB each): the worker exits with the import

_JOB: importer.Job | None = None
_RECORDS: list[logging.LogRecord] = []


def picklable() -> None:
    """Let the Job travel to a spawned process: the routine library is frozen through read-only
    mappings; send them as the dicts they wrap."""
    from multiprocessing.reduction import ForkingPickler

    ForkingPickler.register(MappingProxyType, _reduce_mapping)


def log_level() -> int:
    """The level a decoding process logs at: the importing process's."""
    return logging.getLogger("cooldownd").getEffectiveLevel()


def _reduce_mapping(m: MappingProxyType) -> tuple:
    return _mapping, (dict(m),)


def _mapping(d: dict) -> MappingProxyType:
    return MappingProxyType(d)


class _Keep(logging.Handler):
    """Keeps this task's log records so the parent can replay them through its own handlers."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args, record.exc_info = record.getMessage(), None, None  # picklable
        _RECORDS.append(record)


def init(job: importer.Job, level: int, parent: int | None = None) -> None:
    """Set this (spawned) process up to decode files for ``job``, logging for the parent at ``level``."""
    import signal

    from cooldownd.fit import fastfit

    _die_with(parent)
    global _JOB
    _JOB = job
    # a history from many devices has a thousand record layouts or more; a plan costs ~1 ms to build
    fastfit.keep_plans(WORKER_PLANS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops the pool
    root = logging.getLogger()
    root.handlers[:] = [_Keep()]
    root.setLevel(level)


def _die_with(parent: int | None) -> None:
    """Linux: SIGKILL this worker when the process that started it dies (a daemon killed or gone through
    its exit backstop), instead of leaving it waiting on its queue for ever."""
    import ctypes
    import signal

    if parent is None:
        return
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux
        return
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def work(name: str, data: bytes, sha: str) -> tuple[importer.Prepared, list[logging.LogRecord]]:
    """``importer.prepare`` on one file, with the log records it left."""
    _RECORDS.clear()
    assert _JOB is not None
    if KILL_HOOK in os.environ:
        _test_kill(name, os.environ[KILL_HOOK])
    prepared = importer.prepare(_JOB, name, data, sha)
    records = list(_RECORDS)
    _RECORDS.clear()
    return prepared, records


def _test_kill(name: str, spec: str) -> None:
    """The tests' decoding process that dies on a named file (see the module's docstring)."""
    import signal

    want = json.loads(spec)
    if os.path.basename(name.rpartition("!")[2]) != want["file"]:
        return
    with open(want["tally"], "a+", encoding="utf-8") as tally:
        tally.seek(0)
        if "times" in want and len(tally.readlines()) >= want["times"]:
            return
        tally.write(f"{os.getpid()}\n")
    os.kill(os.getpid(), signal.SIGKILL)
