"""Inputs of an import: files, folders (recursive), .fit.gz and .zip (nested too), read in memory.

Nothing is ever extracted to disk, so no member name can write anywhere; limits refuse absurd
inputs (a file over 256 MB, an archive expanding past 1 GB or 100x its size, unsafe member names).
"""

from __future__ import annotations

import errno
import io
import logging
import os
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cooldownd.errors import FitImportError
from cooldownd.record.summary import Result

log = logging.getLogger("cooldownd.imports.importer")

MAX_FILE = 256 * 1024 * 1024
MAX_EXPANDED = 1024 * 1024 * 1024
MAX_RATIO = 100
MAX_ZIP_DEPTH = 4
SUFFIXES = (".fit", ".fit.gz", ".zip")
IGNORED_SUFFIXES = (".tmp", ".part")  # a download or copy in progress
IGNORED_NAMES = frozenset({"inprogressactivity.fit"})  # Garmin's activity still being recorded

Loader = Callable[[], bytes]


def inputs(paths: Iterable[str | Path]) -> Iterator[tuple[str, Loader]]:
    """(name, loader) for each input: a file, or a folder's wanted files (recursive, sorted).

    The name is for people, JSON and the store (:func:`shown`); the loader opens the real path.
    """
    for path in map(Path, paths):
        if path.is_dir():
            yield from _folder(path)
        else:
            yield shown(path), _file_loader(path)


def shown(path: str | Path) -> str:
    """A path as text that prints, encodes as UTF-8 and stores: bytes that are not UTF-8 (a Latin-1
    ``Fahrt_M\xfcnchen.fit``) become U+FFFD, the replacement character. Open files by the real path."""
    return os.fsencode(path).decode("utf-8", "replace")


def _folder(top: Path) -> list[tuple[str, Loader]]:
    """A folder's wanted files, and an input that fails for each sub-folder that cannot be read."""
    found: list[tuple[Path, Loader]] = []
    seen: set[tuple[int, int]] = set()

    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename or top)
        found.append((where, _failing(shown(where), f"cannot read folder ({exc.strerror or exc})")))

    for root, dirs, files in os.walk(top, onerror=unreadable, followlinks=True):
        try:
            st = os.stat(root)
        except OSError as exc:  # gone or locked since it was listed
            unreadable(exc)
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop: each folder once
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        found.extend((p, _file_loader(p)) for p in (Path(root, f) for f in files) if is_workout_file(p.name) and p.is_file())
    return [(shown(p), load) for p, load in sorted(found, key=lambda x: x[0])]


def _failing(name: str, reason: str) -> Loader:
    def load() -> bytes:
        raise FitImportError(name, reason)
    return load


def expand(name: str, loader: Loader) -> Iterator[tuple[str, bytes | Result]]:
    """(file name, FIT or gzip bytes) for each file of one input, or (name, error line) for a refused one.

    A zip is walked twice: the first walk refuses the whole archive (bomb, depth) before any member
    is imported and keeps nothing; the second hands out one member at a time (memory: one member).
    """
    try:
        data = loader()
        if data[:4] != b"PK\x03\x04":
            yield name, data
            return
        for _ in _zip_members(name, data, None, 1):
            pass
        for member, body in _zip_members(name, data, None, 1):
            refused = isinstance(body, FitImportError)
            yield member, Result(member, None, "error", body.reason) if refused else body
    except FitImportError as exc:
        yield name, Result(name, None, "error", exc.reason)
    except Exception as exc:  # the batch goes on whatever one input does
        yield name, Result(name, None, "error", failed_line(name, exc))


def is_workout_file(name: str | os.PathLike[str]) -> bool:
    """True for a file name worth reading: a FIT file or archive, not hidden, not a temp file.

    The one rule for folders, archives and watched folders (daemon/watch.py).
    """
    low = os.path.basename(os.fspath(name)).lower()
    if low.startswith(".") or low in IGNORED_NAMES or low.endswith(IGNORED_SUFFIXES):
        return False
    return low.endswith(SUFFIXES)


def _file_loader(p: Path) -> Loader:
    def load() -> bytes:
        try:
            return read_regular(p)
        except FileNotFoundError as exc:
            raise FitImportError(shown(p), "no such file") from exc
        except IsADirectoryError as exc:
            raise FitImportError(shown(p), "is a directory") from exc
        except OSError as exc:
            raise FitImportError(shown(p), f"cannot read ({exc.strerror or exc})") from exc
    return load


def read_regular(p: Path, limit: int = MAX_FILE) -> bytes:
    """The bytes of a regular file (symlinks followed), at most ``limit``; FitImportError for anything else.

    Opened non-blocking and checked with fstat before any read: a FIFO named x.fit would block an
    open or read for good, a link to /dev/zero never ends. Reads stop at ``limit`` + 1 bytes
    whatever the file claims (it may grow while being read).
    """
    fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(p))
        if not stat.S_ISREG(st.st_mode):
            raise FitImportError(shown(p), f"not a regular file ({_KINDS.get(stat.S_IFMT(st.st_mode), 'special')}); "
                                 "skipped")
        if st.st_size > limit:
            raise FitImportError(shown(p), f"file is {st.st_size // 2**20} MB, over the {limit // 2**20} MB limit; "
                                 "not a workout file")
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, min(1 << 20, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FitImportError(shown(p), f"file grew past the {limit // 2**20} MB limit while being read; "
                                 "not a workout file")
        return b"".join(chunks)
    finally:
        os.close(fd)


_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket"}


def gunzip(name: str, data: bytes) -> bytes:
    """Decompress gzip data, refusing more than 256 MB (a gzip bomb)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, MAX_FILE + 1)
    except zlib.error as exc:
        raise FitImportError(name, f"bad gzip data ({exc})") from exc
    if len(out) > MAX_FILE or d.unconsumed_tail:
        raise FitImportError(name, "gzip expands past 256 MB; refusing it")
    return out


def _unsafe(member: str) -> bool:
    parts = PurePosixPath(member.replace("\\", "/")).parts
    return member.startswith(("/", "\\")) or ".." in parts or (len(member) > 1 and member[1] == ":")


@dataclass(slots=True)
class _Budget:
    """Bytes an archive (with its nested archives) may still expand to."""

    left: int


def _zip_members(name: str, data: bytes, budget: _Budget | None, depth: int) -> Iterator[tuple[str, Any]]:
    """(member name, bytes or FitImportError) for each wanted member; raises for a refused archive."""
    import zipfile  # here: ~4 ms (shutil, bz2, lzma) that an import of .fit files never needs

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FitImportError(name, f"not a readable zip ({exc})") from exc
    infos = [i for i in zf.infolist() if not i.is_dir()]
    declared = sum(i.file_size for i in infos)
    if budget is None:
        budget = _Budget(min(MAX_EXPANDED, MAX_RATIO * max(len(data), 1)))
    if declared > budget.left:
        raise FitImportError(name, f"zip expands to {declared // 2**20} MB, past 1 GB or 100x its size; refusing it")
    for info in sorted(infos, key=lambda i: i.filename):
        member = f"{name}!{info.filename}"
        if _unsafe(info.filename):
            yield member, FitImportError(member, "unsafe member name (absolute or '..'); refusing it")
            continue
        if not is_workout_file(PurePosixPath(info.filename.replace("\\", "/")).name):
            continue
        try:
            with zf.open(info) as fh:
                body = fh.read(budget.left + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError, RuntimeError) as exc:
            yield member, FitImportError(member, f"unreadable zip member ({exc})")
            continue
        if len(body) > budget.left:
            raise FitImportError(name, "zip expands past 1 GB or 100x its size; refusing it")
        budget.left -= len(body)
        if body[:4] == b"PK\x03\x04":
            if depth >= MAX_ZIP_DEPTH:
                yield member, FitImportError(member, f"zips nested over {MAX_ZIP_DEPTH} deep; refusing it")
                continue
            yield from _zip_members(member, body, budget, depth + 1)
        else:
            yield member, body



def failed_line(name: str, exc: Exception) -> str:
    """Log an unexpected failure (one line; the traceback with -v) and word it for the error line."""
    log.warning("%s: import failed: %s", name, exc)
    log.debug("%s: traceback", name, exc_info=True)
    return f"{type(exc).__name__}: {exc}"
