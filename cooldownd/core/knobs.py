"""The intensity model's tunable constants and rule choices (config section ``[intensity]``).

Sources for each rule: shared/docs/INTENSITY.md and the docstrings in intensity.py / metrics.py.
The ``hr_*``, ``np_*`` and ``tss_*`` rule choices are the candidates the leave-one-source-out
evaluation picks from (tests/core/test_intensity_corpus.py); the defaults are its pick on all sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def _default_sport_rates() -> dict[str, float]:
    return {"running": 60.0, "cycling": 50.0, "swimming": 50.0, "walking": 25.0, "hiking": 40.0,
            "training": 40.0, "fitness_equipment": 45.0, "rowing": 55.0, "yoga": 20.0}


@dataclass(frozen=True)
class Knobs:
    """Tunable constants of the intensity model (config section ``[intensity]``)."""

    trimp_factor: float = 0.64
    light_below: float = 40.0
    moderate_below: float = 80.0
    hard_below: float = 150.0
    very_hard_minutes_above_90: float = 10.0
    resting_hr_default: int = 60
    lthr_fraction: float = 0.89
    # A sample holds until the next one for at most this long. 20 s is above the longest steps of
    # smart recording on steady efforts and below the 30-150 s a strap's BLE link drops for, and
    # HR barely moves in 20 s; a longer hole is unknown time, not exercise.
    max_gap_s: float = 20.0
    power_hold_s: float = 5.0  # head units hold the last power value this long (shared/fit README)
    np_window_s: int = 30
    k_male: float = 1.92
    k_female: float = 1.67  # unknown sex uses k_male, as GoldenCheetah does
    max_hr_fallback: int = 185  # no config, file, birth year or history: a population guess
    zone_bounds_hrr: tuple[float, ...] = (0.6, 0.7, 0.8, 0.9)
    rr_min_ms: float = 300.0
    rr_max_ms: float = 2000.0
    rr_max_change: float = 0.2
    rr_min_pairs: int = 30
    # Training effect (0-5) -> load: minor < 2 light, maintaining moderate, improving hard, >= 4 very hard.
    te_to_load: tuple[tuple[float, float], ...] = ((0, 0), (1, 15), (2, 40), (3, 80), (4, 150), (5, 250))
    duration_load_per_hour: float = 45.0
    sport_load_per_hour: dict[str, float] = field(default_factory=_default_sport_rates)
    # -- rule choices (candidates of the leave-one-source-out evaluation) --
    # A strap's stored beats (FIT ``hr`` messages): averaged per beat (True) or per second from the
    # records they were merged into by the FIT SDK's merge_heart_rates rule (False).
    hr_per_beat: bool = True
    # Pool-swim rests (timer running, no distance) toward avg / max HR: "always" (the FIT profile's
    # session avg_heart_rate "excludes pause time", nothing else), "never" (Garmin: "swim data is not
    # recorded during a rest"), or "live": they count where the HR was live (records), not where it
    # is a strap's stored beats (which Garmin fills into the swum lengths only).
    hr_rests: str = "live"
    # NP's 30 s rolling mean restarts after each timer stop (True) or rolls through pauses (False).
    np_split_at_pauses: bool = True
    # TSS = 100 x hours x IF^2 with hours from: "np" the power seconds less one 30 s window,
    # "power" every timer-running second with power, "timer" the exercise time.
    tss_time: str = "np"
