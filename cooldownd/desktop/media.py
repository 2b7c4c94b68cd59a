"""Pictures for the cards: our exercise illustrations and icon as PNG files, rendered once, cached.

Notification servers take a picture as a file path (the spec's ``image-path``), and several
read only raster files, so each SVG is rendered once to a PNG of ``SIZE`` px under
``$XDG_CACHE_HOME/cooldownd/images/`` (named by a hash of its content and size, so new art
renders anew) and the path is reused for every card. Rendering runs ``rsvg-convert``
(Debian ``librsvg2-bin``) in a child process: the daemon loads no image library, so its idle
memory does not grow. Without rsvg-convert the SVG itself is sent (servers that load images
through gdk-pixbuf draw SVG); that is said once in the log. Nothing is rendered before a
card needs it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from cooldownd.configfile import cache_dir

log = logging.getLogger(__name__)

SIZE = 256  # px: KDE, swaync and xfce4-notifyd draw up to this; dunst (128) and mako (64) scale down
RENDER_TIMEOUT_S = 10.0
ICON = "icon.svg"
NEUTRAL = "exercise.svg"
# Exercises drawn in two positions: the card's picture shows both; these are each one alone.
POSITIONS = {"cat": ("cat_sunk.svg", "cat_round.svg")}


def asset(name: str) -> Path:
    """The path of a packaged asset (an SVG file in ``cooldownd/assets``)."""
    return Path(str(resources.files("cooldownd") / "assets" / name))


def asset_name(exercise: str, side: str | None = None) -> str:
    """Which packaged picture shows ``exercise`` on ``side``: its own, per side where drawn, else the neutral figure."""
    for name in ((f"{exercise}_{side}.svg",) if side else ()) + (f"{exercise}.svg",):
        if name not in (ICON, NEUTRAL) and asset(name).is_file():
            return name
    return NEUTRAL


class Pictures:
    """Exercise pictures, the icon and charts as files a notification server can open.

    ``custom`` maps exercise names to the image a user's routines file names (already
    validated by ``routinefile``): a PNG is sent as it is, an SVG is rendered to the cache.
    """

    def __init__(self, folder: Path | None = None, *, size: int = SIZE,
                 custom: Mapping[str, Path] | None = None, renderer: str | None = "rsvg-convert") -> None:
        self.folder = (folder if folder is not None else cache_dir()) / "images"
        self.size = size
        self.custom = dict(custom or {})
        self._renderer = shutil.which(renderer) if renderer else None
        self._memo: dict[tuple[str, str | None], Path] = {}
        self._said_no_renderer = False
        self.rendered = 0  # renders done by this instance (the rest came from the cache)

    def image_for(self, exercise: str, side: str | None = None) -> Path:
        """The picture of ``exercise`` (on ``side``) as a file path; never raises."""
        key = (exercise, side)
        if key not in self._memo:
            own = self.custom.get(exercise)
            if own is not None and own.suffix.lower() == ".png":
                self._memo[key] = own
            else:
                source = own if own is not None else asset(asset_name(exercise, side))
                self._memo[key] = self.raster(source)
        return self._memo[key]

    def positions(self, exercise: str) -> tuple[Path, ...]:
        """The pictures of an exercise drawn in several positions (the cat), in order; () if none."""
        if exercise in self.custom:
            return ()
        return tuple(self._asset_png(name) for name in POSITIONS.get(exercise, ()))

    def icon(self) -> Path:
        """The app icon as a PNG (or the SVG when nothing can render)."""
        return self._asset_png(ICON)

    def _asset_png(self, name: str) -> Path:
        key = (f"asset:{name}", None)
        if key not in self._memo:
            self._memo[key] = self.raster(asset(name))
        return self._memo[key]

    def raster(self, svg: Path) -> Path:
        """A cached PNG of ``svg`` at ``size`` px: rendered on first use; the SVG itself if that fails."""
        try:
            data = svg.read_bytes()
        except OSError as exc:
            log.warning("%s: cannot read the picture (%s); cards go without it", svg, exc.strerror or exc)
            return asset(NEUTRAL)
        return self.raster_bytes(data, fallback=svg)

    def raster_bytes(self, data: bytes, *, fallback: Path | None = None) -> Path:
        """Like :meth:`raster` for SVG text in memory (a chart); without a renderer it is saved as .svg."""
        digest = hashlib.sha256(data + f"@{self.size}".encode()).hexdigest()[:20]
        png = self.folder / f"{digest}.png"
        if png.is_file():
            return png
        if self._renderer is None:
            if not self._said_no_renderer:
                self._said_no_renderer = True
                log.info("pictures: rsvg-convert not found (Debian: librsvg2-bin); cards carry SVG files, "
                         "which some notification servers do not draw")
            return fallback if fallback is not None else self._save(f"{digest}.svg", data)
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = png.with_name(f".{png.name}.{os.getpid()}.tmp")
            subprocess.run([self._renderer, "--width", str(self.size), "--height", str(self.size),
                            "--keep-aspect-ratio", "--format", "png", "--output", str(tmp)],
                           input=data, check=True, capture_output=True, timeout=RENDER_TIMEOUT_S)
            tmp.replace(png)  # atomic: another process never sees half a file
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            log.warning("pictures: rendering to %s failed (%s %s); sending the SVG", self.folder,
                        type(exc).__name__, detail.decode(errors="replace").strip()[:200])
            return fallback if fallback is not None else self._save(f"{digest}.svg", data)
        self.rendered += 1
        return png

    def _save(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_bytes(data)
        except OSError as exc:
            log.warning("pictures: cannot write %s (%s)", path, exc.strerror or exc)
            return asset(NEUTRAL)
        return path
