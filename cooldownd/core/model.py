"""Frozen value types shared by the core and the edges.

Times are POSIX seconds (UTC) as floats: the core never reads a clock, callers pass ``now``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple


class Contact(enum.Enum):
    """Sensor contact status of a Heart Rate Measurement (flags bits 1-2)."""

    UNSUPPORTED = "unsupported"
    NOT_DETECTED = "not_detected"
    DETECTED = "detected"


@dataclass(frozen=True, slots=True)
class HrSample:
    """One decoded Heart Rate Measurement (0x2A37) packet."""

    bpm: int
    contact: Contact = Contact.UNSUPPORTED
    energy_kj: int | None = None
    rr_ms: tuple[float, ...] = ()


class Record(NamedTuple):
    """One point of a workout's time line (a FIT ``record`` or a live sample)."""

    t: float
    hr: int | None = None
    power: int | None = None
    cadence: int | None = None
    speed: float | None = None  # m/s
    distance: float | None = None  # m


@dataclass(frozen=True, slots=True)
class DeviceSummary:
    """Numbers the recording device computed itself (FIT ``session``); None = not given."""

    timer_s: float | None = None
    elapsed_s: float | None = None
    avg_hr: int | None = None
    max_hr: int | None = None
    np: float | None = None
    tss: float | None = None
    if_: float | None = None
    threshold_power: int | None = None
    training_effect: float | None = None
    anaerobic_training_effect: float | None = None
    calories: int | None = None
    avg_power: float | None = None
    distance_m: float | None = None


@dataclass(frozen=True, slots=True)
class FileProfile:
    """Athlete values stored in a FIT file (``user_profile``, ``zones_target``); None = unset."""

    max_hr: int | None = None
    resting_hr: int | None = None
    lthr: int | None = None
    ftp: int | None = None


@dataclass(frozen=True, slots=True)
class Workout:
    """One training session, from a file or from the strap.

    ``records`` are sorted by time. ``pauses`` are (stop, start) intervals during which the
    timer was stopped; they are not exercise. ``rr_ms`` are beat-to-beat intervals in ms.
    """

    sport: str
    sub_sport: str
    start: float
    end: float
    duration_s: float
    elapsed_s: float
    records: tuple[Record, ...] = ()
    pauses: tuple[tuple[float, float], ...] = ()
    rr_ms: tuple[float, ...] = ()
    device: DeviceSummary = field(default_factory=DeviceSummary)
    profile: FileProfile = field(default_factory=FileProfile)
    source: str = "fit"  # fit | ble | demo
    hrr60: int | None = None
    note: str | None = None  # e.g. "truncated file: imported the readable part"
    # Every beat a strap stored (FIT ``hr`` messages: HRM-Swim/Tri), (time, bpm); devices average these per beat.
    beats: tuple[tuple[float, int], ...] = ()
    # Timer-running intervals the device counts as rest (pool-swim laps without distance).
    rests: tuple[tuple[float, float], ...] = ()


class Level(enum.Enum):
    """How hard a session was, in the words the user sees."""

    LIGHT = "light"
    MODERATE = "moderate"
    HARD = "hard"
    VERY_HARD = "very_hard"


@dataclass(frozen=True, slots=True)
class Athlete:
    """Athlete values from the configuration (None = not configured)."""

    max_hr: int | None = None
    resting_hr: int | None = None
    lthr: int | None = None
    ftp: int | None = None
    sex: str | None = None  # "male" | "female"
    birth_year: int | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """The athlete values an assessment used, each with where it came from."""

    max_hr: int
    resting_hr: int
    lthr: int
    ftp: int | None
    sources: tuple[tuple[str, str], ...]  # (name, "config" | "file" | "estimate")
    # The HRmax estimate is only this session's own peak (nothing before it was higher): the
    # "minutes above 90 % HRR" rule does not count then.
    own_peak: bool = False


@dataclass(frozen=True, slots=True)
class Facts:
    """What a workout measured, before any athlete value is applied (``intensity.measure``).

    Enough to judge it again (``intensity.judge``) with another profile, without its records:
    ``hr_seconds`` is the exercise time spent at each heart rate, (bpm, seconds), sorted.
    """

    sport: str
    duration_s: float
    elapsed_s: float
    hr_seconds: tuple[tuple[int, float], ...] = ()
    avg_hr: float | None = None
    max_hr: int | None = None
    session_peak: int | None = None  # records' and device's highest HR (raises a stale file HRmax)
    np: float | None = None
    power_s: float = 0.0
    file_profile: FileProfile = field(default_factory=FileProfile)
    file_ftp: int | None = None  # threshold_power, else zones FTP, else NP / IF
    device_tss: float | None = None
    training_effect: float | None = None
    rmssd_ms: float | None = None
    hrr60: int | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a workout got its level, as data; core/wording.py says it in words.

    ``kind``: "load" (the level is the load's bucket) or "near_max" (``minutes_above_90`` minutes at
    or above 90 % of heart-rate reserve made it very hard, whatever the load). ``basis``: the numbers
    behind the load and the rule, each ``(name, value, source)``: ("ftp", 250, "config"),
    ("lthr", 165, "estimate"), ("max_hr", 185, "file"), ("device_tss", 95, "file"),
    ("training_effect", 3.4, "file"), ("minutes", 40, "timer"), ("per_hour", 60, "sport").
    """

    kind: str
    load: float
    load_source: str  # tss | hrss | device | duration
    basis: tuple[tuple[str, float, str], ...] = ()
    minutes_above_90: float = 0.0


@dataclass(frozen=True, slots=True)
class Assessment:
    """Metrics and level of one workout."""

    duration_s: float
    elapsed_s: float
    avg_hr: float | None
    max_hr: int | None
    zones_s: tuple[float, ...]
    trimp: float | None
    hrss: float | None
    edwards: float | None
    np: float | None
    if_: float | None
    tss: float | None
    rmssd_ms: float | None
    hrr60: int | None
    minutes_above_90_hrr: float
    load: float
    load_source: str  # tss | hrss | device | duration
    level: Level
    profile: Profile
    profile_source: str  # config | file | estimate
    reason: Reason | None = None
    facts: Facts | None = None  # what it was judged from (to judge it again with another profile)


@dataclass(frozen=True, slots=True)
class Step:
    """One card of a routine: an exercise on one side, held for ``hold_s`` seconds.

    A movement (``moves``: the cat, arm turns) is done slowly for ``hold_s`` seconds rather than
    held, ``reps`` times when the routine says how many.
    """

    exercise: str
    title: str
    text: str
    hold_s: int
    side: str | None = None  # left | right | both | None
    moves: bool = False
    reps: int | None = None


@dataclass(frozen=True, slots=True)
class Routine:
    """An ordered list of steps chosen for a level and sport."""

    name: str
    level: Level
    group: str
    steps: tuple[Step, ...]

    @property
    def total_s(self) -> int:
        return sum(s.hold_s for s in self.steps)
