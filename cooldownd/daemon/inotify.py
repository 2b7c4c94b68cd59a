"""inotify through libc (the few calls the watcher needs), and the mounts it cannot be trusted on.

inotify sees no change made on the far side of FUSE (gvfs MTP) or a network file system: the
watcher polls those (``needs_polling``), judging by /proc/self/mountinfo.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
from pathlib import Path

# inotify sees no remote or FUSE-side changes on these (prefix match on the mountinfo type).
POLLED_FS = ("fuse", "nfs", "cifs", "smb", "9p", "afs", "ceph", "sshfs", "davfs", "glusterfs",
             "lustre", "gvfs")

IN_ATTRIB, IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE = 0x4, 0x8, 0x80, 0x100
IN_DELETE_SELF, IN_MOVE_SELF, IN_UNMOUNT, IN_Q_OVERFLOW, IN_IGNORED = 0x400, 0x800, 0x2000, 0x4000, 0x8000
IN_ONLYDIR, IN_ISDIR = 0x01000000, 0x40000000
_MASK = IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR
GONE = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED
_EVENT = struct.Struct("iIII")


def fs_type(path: Path, mountinfo: str | None = None) -> str:
    """The file-system type of the mount holding ``path`` (from /proc/self/mountinfo)."""
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text()
        except OSError:
            return ""
    real, best, kind = os.path.realpath(path), "", ""
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) < 5 or not right:
            continue
        point = fields[4].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
        inside = point == "/" or real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, right.split()[0]
    return kind


def needs_polling(path: Path, mountinfo: str | None = None) -> bool:
    """True when inotify cannot be trusted for ``path`` (FUSE, gvfs, network file systems)."""
    return fs_type(path, mountinfo).startswith(POLLED_FS)


class Inotify:
    """The few inotify calls we need, through libc."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self._add_watch = libc.inotify_add_watch
        self._add_watch.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        self.fd = fd

    def add(self, path: Path) -> int:
        wd = self._add_watch(self.fd, os.fsencode(path), _MASK)
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(path))
        return wd

    def read(self) -> list[tuple[int, int, str]]:
        out = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            pos = 0
            while pos + _EVENT.size <= len(buf):
                wd, mask, _cookie, size = _EVENT.unpack_from(buf, pos)
                name = buf[pos + _EVENT.size:pos + _EVENT.size + size].rstrip(b"\0")
                out.append((wd, mask, os.fsdecode(name)))
                pos += _EVENT.size + size

    def close(self) -> None:
        os.close(self.fd)
