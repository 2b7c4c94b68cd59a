"""A workout history generated from the corpus: N FIT files, each on a day of its own, with its own file id.

Each file is a corpus activity (one that imports cleanly, with workouts shorter than a day) whose
date_time fields (``timestamp``, ``start_time``, ``time_created``...) are moved by a whole number
of days, CRC recomputed: every copy has new bytes, a new FIT file_id (serial, time_created) and a
workout on a day no other copy touches. A whole number of days is a multiple of 32 s, so
compressed-timestamp headers (5-bit offsets) stay right. Used by ``bench/import``.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

DAY = 86400
START_DAY = 13880  # 2008-01-01: every generated workout is years old, so nothing is ever offered


def shift_dates(data: bytes, days: int) -> bytes:
    """``data`` with every date_time / local_date_time value (>= 0x10000000) moved by ``days``."""
    from fitparse.profile import MESSAGE_TYPES

    from cooldownd.fit.crc import crc16

    buf = bytearray(data)
    delta = days * DAY
    pos = 0
    while pos + 12 <= len(buf) and buf[pos + 8:pos + 12] == b".FIT":
        p, end = pos + buf[pos], pos + buf[pos] + struct.unpack_from("<I", buf, pos + 4)[0]
        local: dict[int, tuple[str, list[int], int]] = {}
        while p < end:
            h = buf[p]
            if not h & 0x80 and h & 0x40:  # a definition: where its date fields are
                endian = ">" if buf[p + 2] else "<"
                mtype = MESSAGE_TYPES.get(struct.unpack_from(endian + "H", buf, p + 3)[0])
                q, offsets, size = p + 6, [], 0
                for _ in range(buf[p + 5]):
                    num, fsize = buf[q], buf[q + 1]
                    f = mtype.fields.get(num) if mtype else None
                    if f is not None and fsize == 4 and f.type.name in ("date_time", "local_date_time"):
                        offsets.append(size)
                    size, q = size + fsize, q + 3
                if h & 0x20:
                    for _ in range(buf[q]):
                        size += buf[q + 2]
                        q += 3
                    q += 1
                local[h & 0x0F] = (endian, offsets, size)
                p = q
                continue
            endian, offsets, size = local[(h >> 5) & 3 if h & 0x80 else h & 0x0F]
            for off in offsets:
                v = struct.unpack_from(endian + "I", buf, p + 1 + off)[0]
                if 0x10000000 <= v != 0xFFFFFFFF:
                    struct.pack_into(endian + "I", buf, p + 1 + off, v + delta)
            p += 1 + size
        struct.pack_into("<H", buf, end, crc16(memoryview(buf)[pos:end]))
        pos = end + 2
    return bytes(buf)


def pool(corpus: Path) -> list[tuple[Path, float]]:
    """(file, workout start) for the corpus files that import cleanly as workouts shorter than 20 h."""
    from cooldownd.fit.decode import decode_messages
    from cooldownd.fit.workouts import workouts_from_messages

    out = []
    for p in sorted(corpus.glob("*.fit")):
        try:
            decoded = decode_messages(p.read_bytes(), p.name)
            content = workouts_from_messages(decoded.messages, p.name)
        except Exception:  # noqa: BLE001 - a file that does not import is not in the pool
            continue
        ws = content.workouts
        if decoded.error or content.kind != "activity" or not ws:
            continue
        first, last = min(w.start for w in ws), max(w.end for w in ws)
        if first > 946684800 and last - first < 20 * 3600:  # after 2000-01-01 (not device "system time")
            out.append((p, first))
    return out


def generate(corpus: Path, folder: Path, n: int, seed: int = 19) -> int:
    """Write ``n`` files into ``folder``; return their total size in bytes."""
    files = pool(corpus)
    rng = random.Random(seed)
    order = [files[i % len(files)] for i in range(n)]
    rng.shuffle(order)
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for k, (path, start) in enumerate(order):
        days = START_DAY + 2 * k - int(start // DAY)  # its own day, with a free day after it
        data = shift_dates(path.read_bytes(), days)
        (folder / f"{k:04d}_{path.stem[:40]}.fit").write_bytes(data)
        total += len(data)
    return total
