"""intervals.icu through its documented API, with a personal API key.

Basic authentication with the user name ``API_KEY`` and the key as password. Two calls:
``GET {base_url}/api/v1/athlete/{athlete_id}/activities?oldest=DATE&newest=DATE`` (a JSON list; each item
has ``id``, ``start_date_local``, ``type``, ``moving_time``...; activities synced from Strava come as stubs
with ``source: "STRAVA"`` and a ``_note`` and have no file) and ``GET {base_url}/api/v1/activity/{id}/file``
(the original file as uploaded, often gzip; 404 when there is none). Every call has a timeout; every
failure becomes one :class:`IntervalsError` whose ``fault`` says what to do next (:func:`backoff`). The key
is only ever in the Authorization header: no message, log line or status carries it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cooldownd import __version__
from cooldownd.core import retry
from cooldownd.errors import ConfigError, IntervalsError, IntervalsFault as Fault

if TYPE_CHECKING:  # httpx (~3 MB resident) is imported when a client is made: only with a key
    import httpx

MAX_FILE = 256 * 1024 * 1024  # the importer's limit for one file
MAX_LIST = 32 * 1024 * 1024
AUTH_RETRY_S = 3600.0  # a refused key is tried again (unchanged) after an hour, never sooner
BACKOFF_CAP_S = 3600.0


@dataclass(frozen=True, slots=True)
class Activity:
    """One item of the activity list, as far as we use it."""

    id: str
    start_local: str
    start_utc: dt.datetime | None
    duration_s: float
    type: str | None
    source: str | None
    note: str | None

    @classmethod
    def from_json(cls, item: Any) -> Activity:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str | int):
            raise IntervalsError(Fault.PROTOCOL, "an activity without an id")
        start = item.get("start_date")
        try:
            start_utc = dt.datetime.fromisoformat(start.replace("Z", "+00:00")) if isinstance(start, str) else None
        except ValueError:
            start_utc = None
        if start_utc is not None and start_utc.tzinfo is None:
            start_utc = start_utc.replace(tzinfo=dt.UTC)
        secs = item.get("elapsed_time") or item.get("moving_time") or 0
        return cls(str(item["id"]), str(item.get("start_date_local") or ""), start_utc,
                   float(secs) if isinstance(secs, int | float) else 0.0, _text(item.get("type")),
                   _text(item.get("source")), _text(item.get("_note")))

    def start_ts(self) -> float | None:
        """Start as a Unix time (from ``start_date``, else ``start_date_local`` read as local time)."""
        if self.start_utc is not None:
            return self.start_utc.timestamp()
        try:
            return dt.datetime.fromisoformat(self.start_local).timestamp()
        except ValueError:
            return None

    def label(self) -> str:
        """``i123 (Ride, 2024-05-01 07:30)``: how log lines name the activity."""
        what = ", ".join(x for x in (self.type, self.start_local[:16].replace("T", " ")) if x)
        return f"{self.id} ({what})" if what else self.id

    def why_no_file(self) -> str | None:
        """Why the activity has no original file to download, or None."""
        if self.note or (self.source or "").upper() == "STRAVA":
            return self.note or f"synced from {self.source}; intervals.icu does not hand those out"
        return None


def _text(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) and value else None


# -- the key --------------------------------------------------------------------------------------
def key_path(settings: Any, config_path: Path | None) -> Path | None:
    """Where ``api_key_file`` points: relative to $CREDENTIALS_DIRECTORY (systemd), else to the config file."""
    if settings.api_key_file is None:
        return None
    path = Path(settings.api_key_file).expanduser()
    if path.is_absolute():
        return path
    base = os.environ.get("CREDENTIALS_DIRECTORY") or (str(config_path.parent) if config_path else os.getcwd())
    return Path(base) / path


def read_key(settings: Any, config_path: Path | None) -> str:
    """The API key from ``api_key`` or ``api_key_file``; ConfigError (one line, no key) when unusable."""
    key = settings.api_key.get_secret_value().strip()
    path = key_path(settings, config_path)
    if path is not None:
        try:
            key = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not text"
            raise ConfigError(f"{path}: cannot read the intervals.icu API key file: {reason}") from None
        if not key:
            raise ConfigError(f"{path}: the intervals.icu API key file is empty")
    if any(c.isspace() or not c.isprintable() for c in key):
        raise ConfigError("sources.intervals: the API key has spaces or control characters; paste it again")
    return key


def key_warnings(settings: Any, config_path: Path | None) -> list[str]:
    """``exposure_warnings`` for the running configuration (the key is in the file unless the env gave it)."""
    in_file = bool(settings.api_key.get_secret_value()) and "COOLDOWND_SOURCES__INTERVALS__API_KEY" not in os.environ
    return exposure_warnings(settings, config_path, key_in_file=in_file)


def exposure_warnings(settings: Any, config_path: Path | None, *, key_in_file: bool) -> list[str]:
    """One line per file holding the key that others can read (the config file, the key file)."""
    files = []
    if key_in_file and config_path is not None:
        files.append((config_path, "holds the intervals.icu API key"))
    path = key_path(settings, config_path)
    if path is not None and not os.environ.get("CREDENTIALS_DIRECTORY"):
        files.append((path, "is the intervals.icu API key file"))
    out = []
    for path, what in files:
        try:
            mode = path.stat().st_mode
        except OSError:
            continue
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            out.append(f"{path} {what} and others can read it (mode {stat.S_IMODE(mode):04o}); "
                       f"run: chmod 600 {path}")
    return out


def redact(text: str, key: str) -> str:
    """``text`` with the key blanked out (belt and braces: we never put it there)."""
    return text.replace(key, "***") if key else text


# -- the client -----------------------------------------------------------------------------------
class IntervalsClient:
    """The two calls, over one kept-alive httpx client; use as ``async with IntervalsClient(...) as c``."""

    def __init__(self, settings: Any, key: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        import httpx

        self.athlete = settings.athlete_id
        self._key = key
        self._http = httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"), auth=httpx.BasicAuth("API_KEY", key),
            timeout=httpx.Timeout(settings.timeout), follow_redirects=False, transport=transport,
            headers={"User-Agent": f"cooldownd/{__version__}", "Accept": "application/json, */*"})

    async def __aenter__(self) -> IntervalsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def activities(self, oldest: dt.date, newest: dt.date) -> list[Activity]:
        """The athlete's activities that started between the two dates (inclusive)."""
        body = await self._get(f"/api/v1/athlete/{self.athlete}/activities", MAX_LIST,
                               {"oldest": oldest.isoformat(), "newest": newest.isoformat()})
        try:
            items = json.loads(body)
        except ValueError:
            raise IntervalsError(Fault.PROTOCOL, "the activity list is not JSON") from None
        if not isinstance(items, list):
            raise IntervalsError(Fault.PROTOCOL, "the activity list is not a JSON list")
        return [Activity.from_json(item) for item in items]

    async def original(self, activity_id: str) -> bytes | None:
        """The activity's original file (maybe gzip), or None when intervals.icu has none."""
        return await self._get(f"/api/v1/activity/{activity_id}/file", MAX_FILE, None, missing_ok=True)

    async def _get(self, path: str, limit: int, params: dict[str, str] | None, *,
                   missing_ok: bool = False) -> Any:
        import httpx

        try:
            async with self._http.stream("GET", path, params=params) as resp:
                if resp.status_code == 404 and missing_ok:
                    return None
                _check(resp)
                chunks, size = [], 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise IntervalsError(Fault.PROTOCOL, f"{path}: answer over {limit // 2**20} MB")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException:
            raise IntervalsError(Fault.NETWORK, "timed out") from None
        except httpx.TransportError as exc:
            raise IntervalsError(Fault.NETWORK, redact(_transport_reason(exc), self._key)) from None


def _check(resp: httpx.Response) -> None:
    code = resp.status_code
    if code in (401, 403):
        raise IntervalsError(Fault.AUTH, f"HTTP {code}")
    if code == 429 or code >= 500:
        raise IntervalsError(Fault.BUSY, f"HTTP {code}", retry_after_s(resp.headers.get("Retry-After")))
    if code != 200:
        raise IntervalsError(Fault.PROTOCOL, f"HTTP {code} for {resp.request.url.path}")


def _transport_reason(exc: httpx.TransportError) -> str:
    cause = exc.__cause__ or exc.__context__
    text = str(cause or exc) or type(exc).__name__
    return text.splitlines()[0][:200]


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff(fault: Fault, failures: int, poll: float, retry_after: float | None, rand: float = 0.0) -> float:
    """Seconds until the next request after ``failures`` failures in a row (pure policy).

    A refused key waits an hour, no network the next regular poll; 429/5xx follow the house backoff
    (``core.retry.backoff`` from ``poll``, ``rand`` its jitter), never sooner than the server's Retry-After.
    """
    if fault is Fault.AUTH:
        return max(poll, AUTH_RETRY_S)
    if fault is Fault.NETWORK:
        return poll  # quiet: the next regular poll
    return max(retry.backoff(failures - 1, rand, base=poll, cap=BACKOFF_CAP_S), retry_after or 0.0)
