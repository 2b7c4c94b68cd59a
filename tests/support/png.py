"""Read (and crop) 8-bit RGB/RGBA PNGs such as Chromium's screenshots: stdlib only, for tests.

    img = read(path)                  # Image(width, height, channels, rows)
    share = img.share_unlike(img.pixel(0, 0))   # fraction of pixels that differ from the background
    write(crop(img, 0, 0, 800, 600), out)       # a part of it, to look at
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]  # unfiltered, channels bytes per pixel

    def pixel(self, x: int, y: int) -> tuple[int, ...]:
        c = self.channels
        return tuple(self.rows[y][x * c:(x + 1) * c][:3])

    def share_unlike(self, background: tuple[int, ...], tolerance: int = 24) -> float:
        """Fraction of pixels farther than ``tolerance`` (any channel) from ``background``."""
        c, far = self.channels, 0
        for row in self.rows:
            for x in range(0, len(row), c):
                if max(abs(row[x + k] - background[k]) for k in range(3)) > tolerance:
                    far += 1
        return far / (self.width * self.height)

    def mean(self) -> tuple[float, ...]:
        """Mean of each colour channel (0-255)."""
        c, sums = self.channels, [0, 0, 0]
        for row in self.rows:
            for k in range(3):
                sums[k] += sum(row[k::c])
        return tuple(s / (self.width * self.height) for s in sums)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def read(path: Path) -> Image:
    """Decode a non-interlaced 8-bit RGB or RGBA PNG."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, head = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert head is not None
    width, height, depth, colour, _, _, interlace = head
    assert depth == 8 and colour in (2, 6) and not interlace, head
    c = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * c, [], bytes(width * c)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - c] if i >= c else 0
            b, cc = prev[i], prev[i - c] if i >= c else 0
            line[i] = (line[i] + (0, a, b, (a + b) // 2, _paeth(a, b, cc))[f]) & 0xFF
        rows.append(bytes(line))
        prev = rows[-1]
    return Image(width, height, c, rows)


def crop(img: Image, x: int, y: int, w: int, h: int) -> Image:
    """The rectangle (x, y, w, h), clipped to the image."""
    w, h = min(w, img.width - x), min(h, img.height - y)
    c = img.channels
    return Image(w, h, c, [row[x * c:(x + w) * c] for row in img.rows[y:y + h]])


def write(img: Image, path: Path) -> None:
    """Encode ``img`` as PNG (filter 0)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    colour = 2 if img.channels == 3 else 6
    raw = b"".join(b"\x00" + row for row in img.rows)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", img.width, img.height, 8,
                                                                            colour, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
