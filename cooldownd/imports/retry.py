"""A file whose decoding process died is read again, alone, in a fresh process.

A decoding process that dies (the out-of-memory killer, SIGKILL, a crash) fails every file bulk.py's
pool had in flight, not only the one it was reading when it died, and none of that is the files'
fault. Each of them is read once more, alone in a process of its own, so a death there is that file's:
then it gets one error line saying so. Either way nothing of the failure is remembered in the store
(``importer.Prepared("failed")``), so a later import reads the file again.
"""

from __future__ import annotations

import logging
import os
import signal

from cooldownd.imports import importer, worker

Verdict = tuple[importer.Prepared, list[logging.LogRecord]]


def again(job: importer.Job, name: str, data: bytes, sha: str, tries: int = 1) -> Verdict:
    """``worker.work`` on one file in a fresh process, up to ``tries`` times (one try each was made
    already, so this is the last); a failed verdict naming the file's fate when every one died."""
    how = ""
    for _ in range(tries):
        try:
            got = _alone(job, name, data, sha)
        except OSError as exc:  # no process to be had (out of processes or memory)
            why = f"the decoding process died while reading it and a fresh one could not be started ({exc})"
            break
        if not isinstance(got, str):
            return got
        how = got
    else:
        why = f"the decoding process died twice while reading it, the last time {how}"
    import shlex  # here: only a file that killed its process twice needs it

    outer = name.partition("!")[0]  # a zip member is imported with its zip
    return importer.Prepared("failed", f"{why}; it was not imported: try `cooldownd import {shlex.quote(outer)}` "
                                       "again"), []


def _alone(job: importer.Job, name: str, data: bytes, sha: str) -> Verdict | str:
    """One file in one spawned process: its verdict, or how the process ended without one."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # the daemon has threads: never fork
    worker.picklable()
    ours, theirs = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_main, args=(theirs, job, worker.log_level(), os.getpid(), name, data, sha),
                       name="cooldownd-decode", daemon=True)
    try:
        proc.start()
    except OSError:
        ours.close()
        raise
    finally:
        theirs.close()
    try:
        return ours.recv()
    except (EOFError, OSError):  # it died before answering
        proc.join()
        return _ended(proc.exitcode)
    finally:
        ours.close()
        if proc.is_alive():  # Ctrl-C or SIGTERM here: the process goes too
            proc.kill()
        proc.join()


def _ended(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = "an unknown signal"
        oom = ", which the out-of-memory killer sends" if -code == signal.SIGKILL else ""
        return f"killed by {sig} (signal {-code}{oom})"
    return f"ending with exit code {code} without an answer"


def _main(conn, job: importer.Job, level: int, parent: int, name: str, data: bytes, sha: str) -> None:
    """In the fresh process: set up as a pool worker is, read the one file, answer."""
    worker.init(job, level, parent)
    conn.send(worker.work(name, data, sha))
    conn.close()
