"""The configuration's sections: one frozen model per TOML table, and the duration syntax they share."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator, model_validator

from cooldownd.configfile import IntervalsReadings

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m(?:in)?)?\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$")


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string like "6h", "15min", "1h30m", "90s"."""
    if isinstance(value, bool):
        raise ValueError("expected seconds or a duration like \"6h\" or \"15min\"")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m or not any(m.groups()):
            raise ValueError(f"{value!r} is not a duration (use seconds or e.g. \"6h\", \"15min\", \"90s\")")
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        seconds = h * 3600 + mi * 60 + s
    if seconds < 0:
        raise ValueError("must not be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]  # a key taking seconds or "6h", "15min", "90s"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AthleteSettings(_Section):
    max_hr: int | None = Field(None, ge=100, le=240)
    resting_hr: int | None = Field(None, ge=25, le=120)
    lthr: int | None = Field(None, ge=80, le=230)
    ftp: int | None = Field(None, ge=30, le=700)
    sex: Literal["male", "female"] | None = None
    birth_year: int | None = Field(None, ge=1900, le=2025)

    @model_validator(mode="after")
    def _consistent(self) -> AthleteSettings:
        if self.max_hr is not None and self.resting_hr is not None and self.resting_hr >= self.max_hr:
            raise ValueError(f"resting_hr {self.resting_hr} must be below max_hr {self.max_hr}")
        if self.max_hr is not None and self.lthr is not None and self.lthr >= self.max_hr:
            raise ValueError(f"lthr {self.lthr} must be below max_hr {self.max_hr}")
        return self


class BleSettings(_Section):
    enabled: bool = True
    devices: tuple[str, ...] = ()
    quiet_s: float = Field(10.0, gt=0, le=600)
    adapter: str | None = None
    scan_s: float = Field(10.0, gt=0, le=600)
    backoff_cap_s: float = Field(60.0, gt=0, le=3600)


class DetectSettings(_Section):
    start_hr: int | None = Field(None, ge=40, le=220, description="None: 50 % of heart-rate reserve")
    start_s: float = Field(60.0, ge=0)
    end_hr: int | None = Field(None, ge=40, le=220, description="None: start_hr minus 10 bpm")
    end_s: float = Field(300.0, gt=0)
    contact_lost_s: float = Field(120.0, gt=0)
    reconnect_grace_s: float = Field(180.0, ge=0)
    min_duration_s: float = Field(600.0, ge=0)


class WatchSettings(_Section):
    folders: tuple[str, ...] = (
        "~/Documents/Zwift/Activities",
        "/media/*/GARMIN/Garmin/Activities",
        "/run/media/*/*/GARMIN/Garmin/Activities",
    )
    poll_s: float = Field(30.0, gt=0)
    settle_s: float = Field(2.0, ge=0)
    unfinished_wait_s: float = Field(300.0, ge=0)
    force_poll: bool = False
    auto: bool = True  # find watches and bike computers (MTP/FUSE, USB drives) and app folders (sources/)


class IntervalsSettings(IntervalsReadings, _Section):  # [sources.intervals]: polled only when a key (or key file) is set
    api_key: SecretStr = SecretStr("")
    api_key_file: Path | None = None
    athlete_id: str = Field("0", pattern=r"^i?[0-9]+$")
    base_url: str = Field("https://intervals.icu", pattern=r"^https?://[^\s/@]+(:[0-9]+)?(/[^\s@]*)?$")
    poll: Duration = Field(300.0, ge=1)
    timeout: Duration = Field(30.0, gt=0, le=600)

    @model_validator(mode="after")
    def _one_key(self) -> IntervalsSettings:
        if self.api_key.get_secret_value() and self.api_key_file is not None:
            raise ValueError("set api_key or api_key_file, not both")
        return self


class SourcesSettings(_Section):
    intervals: IntervalsSettings = IntervalsSettings()


class NotifySettings(_Section):
    backend: Literal["auto", "desktop", "console"] = "auto"
    max_age: Duration = 6 * 3600.0
    offer_timeout: Duration = 15 * 60.0
    snooze: Duration = 10 * 60.0
    max_snoozes: int = Field(3, ge=0, le=20)
    transition: Duration = 5.0
    quiet_hours: str | None = None
    sound: bool = False
    sound_via: Literal["auto", "server", "player"] = "auto"
    voice: bool = False

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str | None) -> str | None:
        from cooldownd.core.quiet import parse_quiet_hours  # the one syntax, shared with core/coach.py

        return v if v is not None and parse_quiet_hours(v) is not None else None


class RoutinesSettings(_Section):
    file: Path | None = None


class StoreSettings(_Section):
    path: Path | None = None


class IntensitySettings(_Section):
    trimp_factor: float = Field(0.64, gt=0, le=2)
    light_below: float = Field(40.0, gt=0)
    moderate_below: float = Field(80.0, gt=0)
    hard_below: float = Field(150.0, gt=0)
    very_hard_minutes_above_90: float = Field(10.0, gt=0)
    resting_hr_default: int = Field(60, ge=25, le=120)
    lthr_fraction: float = Field(0.89, gt=0.5, lt=1)
    max_hr_fallback: int = Field(185, ge=100, le=240)
    max_gap_s: float = Field(20.0, gt=0, le=600)
    power_hold_s: float = Field(5.0, ge=0, le=60)

    @model_validator(mode="after")
    def _ordered(self) -> IntensitySettings:
        if not self.light_below < self.moderate_below < self.hard_below:
            raise ValueError("light_below < moderate_below < hard_below must hold")
        return self
