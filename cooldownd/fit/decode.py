"""FIT bytes -> messages: the fast decoder (fastfit.py), or fitparse itself where it cannot.

``decode_messages`` gives ``(name, values)`` pairs exactly as fitparse gives them, except that
``record`` messages arrive as ``("records", [Record, ...])`` chunks of consecutive records
(columns.py holds the rule) and ``hrv`` messages as ``("rr", [(t, RR ms), ...])`` chunks
(values.rr_at holds the rule); ``workouts.workouts_from_messages`` turns them into Workouts.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cooldownd.errors import FitImportError
from cooldownd.fit.columns import record_from_values
from cooldownd.fit.values import rr_at

log = logging.getLogger(__name__)

WANTED = frozenset({
    "file_id", "session", "lap", "record", "hr", "hrv", "event",
    "user_profile", "zones_target", "sport", "device_info", "activity",
})


@dataclass(frozen=True, slots=True)
class Decoded:
    """What a decoder read from one file: wanted messages in file order, and why it stopped early."""

    messages: list[tuple[str, object]]  # value dicts; Record chunks under "records"
    error: str | None = None  # one line, None when the whole file was read
    error_kind: str | None = None  # "truncated" | "bad_crc" | "corrupt"
    read_any: bool = False  # at least one message (wanted or not) was decoded


def decode_messages(data: bytes, source: str) -> Decoded:
    """Decode ``data`` with the fast decoder, or fitparse where it cannot (same values by contract).

    ``record`` and ``hrv`` messages arrive as Record and RR chunks (see the module doc); the rest as
    fitparse's value dicts.
    """
    from fitparse.utils import FitCRCError, FitEOFError, FitHeaderError, FitParseError

    from cooldownd.fit import fastfit

    if not data:
        return decode_with_fitparse(data, source)
    try:
        with collector_paused():
            fast = fastfit.decode(data, WANTED, records=True)
    except fastfit.Unsupported as exc:
        log.debug("%s: fast decoder can't read it (%s); using fitparse", source, exc)
        return decode_with_fitparse(data, source)
    except FitHeaderError as exc:
        raise FitImportError(source, f"not a FIT file ({exc})") from exc
    except FitEOFError as exc:
        raise FitImportError(source, f"truncated FIT header ({exc})") from exc
    except FitParseError as exc:
        raise FitImportError(source, f"unreadable FIT header ({exc})") from exc
    exc = fast.exception
    error = kind = None
    if isinstance(exc, FitCRCError):
        error, kind = f"bad CRC ({exc})", "bad_crc"
    elif isinstance(exc, FitEOFError):
        error, kind = f"truncated file ({exc})", "truncated"
    elif exc is not None:
        error, kind = f"corrupt data ({exc})", "corrupt"
    return Decoded(fast.messages, error, kind, fast.read_any)


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while fastfit decodes one file, as it was afterwards.

    A large file makes ~100,000 Records (tuples the collector keeps tracking) and no cycles: with the
    collector on, its full passes over the growing heap cost ~40 % of the decode (bench/import, and
    the in-process figures in bench/README.md). fastfit runs no other code meanwhile, so nothing
    else depends on the collector running during it. ``importer.prepare`` keeps it off for the whole
    file (workouts and assessment too): its Records are freed by their reference counts when it
    returns, so the collector never scans them at all."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class _Compact(list):
    """fitparse's messages with each ``record`` turned into a Record and each ``hrv`` into its
    (t, RR ms) intervals (values.rr_at: timed at the last Record before it) as they are decoded, in
    ``records`` / ``rr`` chunks that grow until another kind of message comes (fastfit's grouping).

    A 100,000-record file otherwise holds 100,000 dicts (about 100 MB) until the workouts are built.
    """

    chunk: list | None = None
    rr: list | None = None
    last_t = 0.0

    def append(self, item: tuple[str, dict]) -> None:
        name, values = item
        if name == "hrv":
            pairs = rr_at(((self.last_t, values),))
            if pairs:
                self.rr = self._grow("rr", self.rr, pairs)
        elif name != "record":
            self.chunk = self.rr = None
            super().append(item)
        elif (rec := record_from_values(values)) is not None:
            self.chunk = self._grow("records", self.chunk, (rec,))
            self.last_t = rec.t

    def _grow(self, kind: str, chunk: list | None, items) -> list:
        """The open chunk of ``kind`` with ``items`` added (a new one appended when none is open)."""
        if chunk is None:
            chunk = []
            super().append((kind, chunk))
        chunk.extend(items)
        return chunk


def decode_with_fitparse(data: bytes, source: str) -> Decoded:
    """Decode ``data`` with fitparse; raise FitImportError only when nothing is readable.

    fitparse keeps developer fields in a process-global registry (``DEV_TYPES``); it is emptied for
    this file and put back as it was afterwards, so no file sees another's developer fields."""
    from fitparse.records import DEV_TYPES

    saved = dict(DEV_TYPES)
    DEV_TYPES.clear()
    try:
        return _fitparse_messages(data, source)
    finally:
        DEV_TYPES.clear()
        DEV_TYPES.update(saved)


def _fitparse_messages(data: bytes, source: str) -> Decoded:
    import fitparse
    from fitparse.utils import FitCRCError, FitEOFError, FitHeaderError

    if not data:
        raise FitImportError(source, "empty file")
    try:
        fit = fitparse.FitFile(data)
    except FitHeaderError as exc:
        raise FitImportError(source, f"not a FIT file ({exc})") from exc
    except FitEOFError as exc:
        raise FitImportError(source, f"truncated FIT header ({exc})") from exc
    except Exception as exc:  # fitparse raises bare struct/Value errors on garbage
        raise FitImportError(source, f"unreadable FIT header ({exc})") from exc
    messages = _Compact()
    read_any = False
    error = kind = None
    try:
        for msg in fit.get_messages():
            read_any = True
            if msg.name in WANTED:
                messages.append((msg.name, msg.get_values()))
    except FitCRCError as exc:
        error, kind = f"bad CRC ({exc})", "bad_crc"
    except FitEOFError as exc:
        error, kind = f"truncated file ({exc})", "truncated"
    except Exception as exc:  # FitParseError, struct.error, KeyError... on corrupt data
        error, kind = f"corrupt data ({exc})", "corrupt"
    finally:
        fit.close()
    return Decoded(list(messages), error, kind, read_any)
