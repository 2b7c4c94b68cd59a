"""Time other FIT parsers in this process: run by ``bench/import`` with the bench's own Python.

    bench/.venv/bin/python bench/rivals.py FILE... -> one JSON line per parser:
    {"parser": name, "seconds": [per file], "records": n, "failed": [files it raised on]}

Rust-backed parsers from PyPI live only in ``bench/.venv`` (see bench/README.md), never in
cooldownd's dependencies. Each parser decodes every file once untimed (imports, first-call
set-up), then once timed; a parser that is not installed prints nothing.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _fitfast_parse(data: bytes) -> int:
    import fitfast

    return len(fitfast.parse(data).get("record", []))


def _fitfast_records(data: bytes) -> int:
    import fitfast

    cols = fitfast.records(data)
    return len(next(iter(cols.values()))) if cols else 0


def _pyfitparsernative(data: bytes) -> int:
    import pyfitparsernative

    return sum(1 for m in pyfitparsernative.parse_fit_bytes(data) if m.get("message_type") == "record")


PARSERS = {
    "fitfast.parse (Rust, rustyfit: every message as dicts)": ("fitfast", _fitfast_parse),
    "fitfast.records (Rust, rustyfit: record columns as NumPy)": ("fitfast", _fitfast_records),
    "pyfitparsernative (Rust, rustyfit via PyO3: every message as dicts)": ("pyfitparsernative", _pyfitparsernative),
}


def main() -> None:
    import importlib.util

    datas = [Path(p).read_bytes() for p in sys.argv[1:]]
    for label, (module, parse) in PARSERS.items():
        if importlib.util.find_spec(module) is None:
            continue
        seconds, records, failed = [], 0, []
        for name, data in zip(sys.argv[1:], datas):
            try:
                parse(data)
                t0 = time.perf_counter()
                records += parse(data)
                seconds.append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 - a parser that raises on a real file is a figure too
                failed.append(f"{Path(name).name}: {type(exc).__name__}: {exc}"[:200])
                seconds.append(None)
        print(json.dumps({"parser": label, "seconds": seconds, "records": records, "failed": failed}), flush=True)


if __name__ == "__main__":
    main()
