"""A fake intervals.icu on 127.0.0.1 (stdlib http.server in a thread), following the documented API.

Basic auth with user ``API_KEY`` (401 otherwise, 403 when ``forbidden``);
``GET /api/v1/athlete/{id}/activities?oldest=DATE&newest=DATE`` answers a JSON list, newest first, of the
activities whose ``start_date_local`` falls in [oldest, newest] (``0`` is the key's own athlete);
``GET /api/v1/activity/{id}/file`` answers the original: gzip bytes as the body (``application/gzip``),
or with ``Content-Encoding: gzip`` (``gzip_mode="encoding"``), 404 when there is none. Activities
"synced from Strava" are listed as stubs (``source: STRAVA`` and a ``_note``). ``script`` queues faults
for the next requests (a status with headers, or a delay); ``requests`` records what was asked.

    with FakeIntervals(key="k") as fake:
        fake.add(fitgen.ride(...), start=datetime, type="Ride")
        base_url = fake.url
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Fault:
    """One scripted answer: ``status`` (with ``headers``) or a ``delay`` before the normal answer."""

    match: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeIntervals:
    """The server, its activities and files, and the log of requests."""

    def __init__(self, key: str = "test-key", athlete: str = "i12345", gzip_mode: str = "body") -> None:
        self.key, self.athlete, self.gzip_mode = key, athlete, gzip_mode
        self.activities: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.forbidden = False
        self.lock = threading.Lock()
        self.next_id = 1000
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeIntervals:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, fit: bytes | None, *, start: dt.datetime, type: str = "Ride", minutes: float = 60,
            strava: bool = False) -> str:
        """A new activity (with its original file unless ``fit`` is None); returns its id."""
        with self.lock:
            self.next_id += 1
            aid = f"i{self.next_id}"
            item: dict[str, Any] = {"id": aid, "start_date_local": start.astimezone().replace(tzinfo=None).isoformat(
                timespec="seconds"), "start_date": start.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")}
            if strava:
                item.update(source="STRAVA", _note="STRAVA activities are not available via the API")
            else:
                item.update(type=type, moving_time=int(minutes * 60), elapsed_time=int(minutes * 60),
                            icu_athlete_id=self.athlete, source="UPLOAD", name=f"{type} {aid}")
            self.activities.append(item)
            if fit is not None and not strava:
                self.files[aid] = fit
        return aid

    def script(self, match: str, *, status: int | None = None, headers: dict[str, str] | None = None,
               delay: float = 0.0, times: int = 1) -> None:
        """The next ``times`` requests whose path contains ``match`` get this fault."""
        with self.lock:
            self.faults += [Fault(match, status, dict(headers or {}), delay) for _ in range(times)]

    def paths(self, contains: str = "") -> list[str]:
        return [r["path"] for r in self.requests if contains in r["path"]]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                fake._serve(self)

        return Handler

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        url = urlparse(h.path)
        auth = h.headers.get("Authorization", "")
        ok = auth == "Basic " + base64.b64encode(f"API_KEY:{self.key}".encode()).decode()
        with self.lock:
            self.requests.append({"t": time.monotonic(), "path": url.path, "query": url.query, "auth_ok": ok})
            fault = next((f for f in self.faults if f.match in url.path), None)
            if fault is not None:
                self.faults.remove(fault)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            return self._send(h, fault.status, b'{"status": %d, "error": "scripted"}' % fault.status,
                              "application/json", fault.headers)
        if not ok:
            return self._send(h, 401, b'{"status": 401, "error": "Unauthorized"}', "application/json")
        if self.forbidden:
            return self._send(h, 403, b'{"status": 403, "error": "Access denied"}', "application/json")
        parts = url.path.strip("/").split("/")
        if parts[:3] == ["api", "v1", "athlete"] and len(parts) == 5 and parts[4] == "activities":
            return self._list(h, parts[3], parse_qs(url.query))
        if parts[:3] == ["api", "v1", "activity"] and len(parts) == 5 and parts[4] == "file":
            return self._file(h, parts[3])
        self._send(h, 404, b'{"status": 404, "error": "Not found"}', "application/json")

    def _list(self, h: BaseHTTPRequestHandler, athlete: str, query: dict[str, list[str]]) -> None:
        if athlete not in ("0", self.athlete):
            return self._send(h, 403, b'{"status": 403, "error": "Access denied"}', "application/json")
        oldest = query.get("oldest", ["0000-01-01"])[0][:10]
        newest = query.get("newest", ["9999-12-31"])[0][:10]
        with self.lock:
            items = [a for a in self.activities if oldest <= a["start_date_local"][:10] <= newest]
        items.sort(key=lambda a: a["start_date_local"], reverse=True)
        self._send(h, 200, json.dumps(items).encode(), "application/json")

    def _file(self, h: BaseHTTPRequestHandler, aid: str) -> None:
        data = self.files.get(aid)
        if data is None:
            return self._send(h, 404, b'{"status": 404, "error": "Activity has no file"}', "application/json")
        body = gzip.compress(data)
        if self.gzip_mode == "encoding":
            return self._send(h, 200, body, "application/octet-stream", {"Content-Encoding": "gzip"})
        self._send(h, 200, body, "application/gzip")

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str,
              headers: dict[str, str] | None = None) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)
