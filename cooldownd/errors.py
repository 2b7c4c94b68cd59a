"""One error hierarchy. Messages are one line: what, which input, why, and a fix."""

from __future__ import annotations

import enum
import errno


class CooldownError(Exception):
    """Base of every error cooldownd reports to a user."""


class ConfigError(CooldownError):
    """The configuration (or a routines file) is invalid. The CLI exits 78.

    The message is one line (the first problem, and how many more); ``problems`` has every one, a line
    each, for ``config check``."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (message,)


class FitImportError(CooldownError):
    """A workout file could not be imported."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StoreErrorKind(enum.Enum):
    """What went wrong with the database, from SQLite's error code (never from its message text)."""

    CORRUPT = "corrupt"
    LOCKED = "locked"
    FULL = "full"
    READ_ONLY = "read-only"
    CANNOT_OPEN = "cannot open"
    IO = "I/O error"
    NEWER = "newer schema"
    OTHER = "other"


# SQLite's primary result codes (an extended name such as SQLITE_BUSY_SNAPSHOT starts with one).
_SQLITE_KINDS = (
    ("SQLITE_CORRUPT", StoreErrorKind.CORRUPT), ("SQLITE_NOTADB", StoreErrorKind.CORRUPT),
    ("SQLITE_BUSY", StoreErrorKind.LOCKED), ("SQLITE_LOCKED", StoreErrorKind.LOCKED),
    ("SQLITE_FULL", StoreErrorKind.FULL), ("SQLITE_READONLY", StoreErrorKind.READ_ONLY),
    ("SQLITE_CANTOPEN", StoreErrorKind.CANNOT_OPEN), ("SQLITE_PERM", StoreErrorKind.CANNOT_OPEN),
    ("SQLITE_AUTH", StoreErrorKind.CANNOT_OPEN), ("SQLITE_IOERR", StoreErrorKind.IO),
)
_OS_KINDS = {errno.ENOSPC: StoreErrorKind.FULL, errno.EDQUOT: StoreErrorKind.FULL, errno.EROFS: StoreErrorKind.READ_ONLY,
             errno.EACCES: StoreErrorKind.CANNOT_OPEN, errno.EPERM: StoreErrorKind.CANNOT_OPEN,
             errno.EIO: StoreErrorKind.IO}
ADVICE = {
    StoreErrorKind.CORRUPT: "restart cooldownd to move it aside and start afresh",
    StoreErrorKind.LOCKED: "another program holds it (a second cooldownd, or an sqlite3 shell); close it and try again",
    StoreErrorKind.FULL: "the disk is full; free some disk space and try again",
    StoreErrorKind.READ_ONLY: "it is read-only; check the permissions and owner of the file and its folder",
    StoreErrorKind.CANNOT_OPEN: "check the state folder's permissions, or set [store] path",
    StoreErrorKind.IO: "the disk reported an error; check it (dmesg) and its free space",
    StoreErrorKind.NEWER: "upgrade cooldownd",
    StoreErrorKind.OTHER: "run with -v for details",
}


def sqlite_kind(exc: Exception) -> StoreErrorKind:
    """The kind of an ``sqlite3.Error`` from its result code name (an unknown or missing one: OTHER)."""
    name = getattr(exc, "sqlite_errorname", None) or ""
    return next((k for prefix, k in _SQLITE_KINDS if name.startswith(prefix)), StoreErrorKind.OTHER)


class StoreError(CooldownError):
    """The state database cannot be used; ``kind`` says why (branch on it, not on the text)."""

    def __init__(self, message: str, kind: StoreErrorKind = StoreErrorKind.OTHER) -> None:
        super().__init__(message)
        self.kind = kind

    @classmethod
    def from_sqlite(cls, path: object, exc: Exception, doing: str = "",
                    kind: StoreErrorKind | None = None) -> StoreError:
        """The error for an ``sqlite3.Error``, its kind from ``sqlite_errorname``; the advice fits the kind."""
        if kind is None:
            kind = sqlite_kind(exc)
        what = f"{doing}: " if doing else ""
        return cls(f"{path}: {what}{exc} ({kind.value}); {ADVICE[kind]}", kind)

    @classmethod
    def from_os(cls, path: object, exc: OSError, doing: str) -> StoreError:
        """The error for an ``OSError`` (the state folder, the lock file), its kind from ``errno``."""
        kind = _OS_KINDS.get(exc.errno or 0, StoreErrorKind.OTHER)
        advice = "check permissions or set [store] path" if kind is StoreErrorKind.CANNOT_OPEN else ADVICE[kind]
        return cls(f"{path}: {doing}: {exc.strerror or exc}; {advice}", kind)


class BluetoothUnavailableReason(enum.Enum):
    NO_BLUEZ = "no BlueZ on the system bus"
    NO_ADAPTER = "no Bluetooth adapter"
    POWERED_OFF = "Bluetooth adapter is powered off"
    NO_BUS = "no system D-Bus"


class BluetoothUnavailable(CooldownError):
    """Bluetooth cannot be used right now; ``reason`` says why."""

    def __init__(self, reason: BluetoothUnavailableReason, detail: str = "") -> None:
        fix = {
            BluetoothUnavailableReason.NO_BLUEZ: "start bluetooth.service",
            BluetoothUnavailableReason.NO_ADAPTER: "plug in a Bluetooth adapter",
            BluetoothUnavailableReason.POWERED_OFF: "turn Bluetooth on",
            BluetoothUnavailableReason.NO_BUS: "is D-Bus running?",
        }[reason]
        msg = f"Bluetooth: {reason.value}"
        if detail:
            msg += f" ({detail})"
        super().__init__(f"{msg}; {fix}")
        self.reason = reason


class StrapNotFound(CooldownError):
    """No configured heart-rate device was found."""


class BleError(CooldownError):
    """A Bluetooth LE operation failed for another reason; the message names the device or step."""


class IntervalsFault(enum.Enum):
    """What went wrong, and so what the poller does next."""

    AUTH = "the API key was refused"
    BUSY = "busy"
    NETWORK = "cannot be reached"
    PROTOCOL = "answered something unexpected"


class IntervalsError(CooldownError):
    """One intervals.icu failure: ``fault`` and, for 429/5xx, the server's ``retry_after`` in seconds."""

    def __init__(self, fault: IntervalsFault, detail: str, retry_after: float | None = None) -> None:
        fix = {IntervalsFault.AUTH: "check [sources.intervals] api_key (intervals.icu settings, Developer Settings)",
               IntervalsFault.BUSY: "backing off", IntervalsFault.NETWORK: "will try again",
               IntervalsFault.PROTOCOL: "check base_url"}[fault]
        super().__init__(f"intervals.icu: {fault.value} ({detail}); {fix}")
        self.fault = fault
        self.detail = detail
        self.retry_after = retry_after
