"""Is a workout file complete, or still being written (a copy in chunks, a sync, a full disk)?

The watched folders ask before importing: a partial copy imported as "Light workout: 9 min" would
be offered with the wrong routine. A FIT activity is complete when it is as long as its header
says and holds its closing ``session`` and ``activity`` messages; a zip when its central directory
(at its end) is readable; a gzip when its stream ends. Anything else undecodable is "complete":
waiting will not fix it, and the importer says what is wrong with it.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

from cooldownd.errors import FitImportError
from cooldownd.imports.inputs import MAX_FILE, read_regular

_CLOSING = frozenset({"file_id", "session", "activity"})
_HEADER_MIN = 12


def incomplete(path: Path) -> str | None:
    """Why ``path`` looks unfinished (one phrase), or None when it looks complete. Blocking."""
    try:
        data = read_regular(path)
    except (FitImportError, OSError):
        return None  # gone or refused: the importer reports it
    if data[:4] == b"PK\x03\x04":
        try:
            zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            return "zip without its directory yet"
        return None
    if data[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = d.decompress(data, MAX_FILE + 1)
        except zlib.error:
            return None
        if not d.eof and len(data) <= MAX_FILE:
            return "gzip stream not finished"
    return fit_incomplete(data)


def fit_incomplete(data: bytes) -> str | None:
    """Why FIT ``data`` looks unfinished, or None."""
    from fitparse.utils import FitEOFError

    from cooldownd.fit import fastfit

    if len(data) < _HEADER_MIN:
        return f"only {len(data)} bytes"
    if data[8:12] != b".FIT":
        return None
    size = data[0] + int.from_bytes(data[4:8], "little") + 2
    if len(data) < size:
        return f"{len(data)} of the {size} bytes its header announces"
    try:
        decoded = fastfit.decode(data, _CLOSING)
    except Exception:  # an unreadable header or input fastfit does not take: not a matter of waiting
        return None
    if isinstance(decoded.exception, FitEOFError):
        return f"ends early ({decoded.error})"
    names = {name for name, _ in decoded.messages}
    file_id = next((values for name, values in decoded.messages if name == "file_id"), {})
    if file_id.get("type") == "activity" and not {"session", "activity"} <= names:
        missing = " and ".join(n for n in ("session", "activity") if n not in names)
        return f"an activity without its closing {missing} message{'s' if ' and ' in missing else ''}"
    return None
