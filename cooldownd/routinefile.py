"""Read a routines file (the packaged default or the user's own) into a validated Library."""

from __future__ import annotations

import dataclasses
import os
import stat
import tomllib
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from cooldownd.core.routines import Exercise, Library, RoutineError, parse_library
from cooldownd.errors import ConfigError

PACKAGED = "routines.toml"
IMAGE_MAX_BYTES = 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load_library(path: Path | None = None) -> Library:
    """Parse and validate ``path`` (None = the packaged routines.toml); raises ConfigError naming the file."""
    if path is None:
        resource = resources.files("cooldownd._config") / PACKAGED
        name = f"(packaged) {resource}"
        reader = resource.read_bytes
    else:
        name = str(path)
        reader = Path(path).read_bytes
    try:
        data = tomllib.loads(reader().decode("utf-8"))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"{name}: cannot read: {reason}; check routines.file") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: invalid TOML: {exc}") from exc
    try:
        library = parse_library(data)
    except RoutineError as exc:
        raise ConfigError(f"{name}: {exc}") from exc
    base = Path(path).expanduser().parent if path is not None else Path.cwd()
    exercises = {}
    for key, exercise in library.exercises.items():
        if exercise.image is not None:
            try:
                exercise = dataclasses.replace(exercise, image=str(check_image(exercise, base)))
            except RoutineError as exc:
                raise ConfigError(f"{name}: {exc}") from exc
        exercises[key] = exercise
    return dataclasses.replace(library, exercises=MappingProxyType(exercises))


def check_image(exercise: Exercise, base: Path) -> Path:
    """The absolute path of an exercise's ``image``: an existing, readable SVG or PNG of at most 1 MB.

    Only read, never written: the picture a card shows is this file, or a PNG rendered from it
    into our own cache folder.
    """
    key = f"exercises.{exercise.name}.image"
    assert exercise.image is not None
    raw = exercise.image
    shown = raw if raw.isprintable() else repr(raw)
    path = Path(raw).expanduser()
    path = path if path.is_absolute() else base / path
    if path.suffix.lower() not in (".svg", ".png"):
        raise RoutineError(key, f'"{shown}": not an .svg or .png file')
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # O_NONBLOCK: a FIFO must not hang us
    except FileNotFoundError:
        raise RoutineError(key, f'"{shown}": no such file ({path})') from None
    except OSError as exc:
        raise RoutineError(key, f'"{shown}": cannot read: {exc.strerror or exc}') from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RoutineError(key, f'"{shown}": not a regular file')
        if info.st_size > IMAGE_MAX_BYTES:
            raise RoutineError(key, f'"{shown}": {info.st_size} bytes, at most {IMAGE_MAX_BYTES} (1 MB)')
        head = os.read(fd, 4096)
    except OSError as exc:
        raise RoutineError(key, f'"{shown}": cannot read: {exc.strerror or exc}') from exc
    finally:
        os.close(fd)
    if not _is_picture(head, path.suffix.lower()):
        raise RoutineError(key, f'"{shown}": not a {path.suffix.lower()[1:].upper()} picture')
    return path.resolve()


def _is_picture(head: bytes, suffix: str) -> bool:
    if suffix == ".png":
        return head.startswith(PNG_MAGIC)
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    return text.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in head.lower()
