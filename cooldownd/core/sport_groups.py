"""Which routine group a FIT sport belongs to: what the cool-down should loosen after it."""

from __future__ import annotations

# FIT sport / sub_sport names (fitparse's, else the FIT SDK profile's: cooldownd/fit/sdk_sports.py) ->
# routine group. Every SDK sport is listed (tests/core/test_routines.py checks): what the cool-down
# should loosen after it. Sub-sports refine a sport whose group is strength or any.
_GROUP_SPORTS = {
    "cycling": ("cycling", "e_biking"),
    "running": ("running", "walking", "hiking", "mountaineering", "snowshoeing", "cross_country_skiing",
                "inline_skating", "ice_skating", "floor_climbing", "soccer", "basketball", "tennis",
                "american_football", "baseball", "racket", "cricket", "rugby", "hockey", "lacrosse", "volleyball",
                "team_sport", "jump_rope", "disc_golf", "geocaching", "wheelchair_push_run", "tactical"),
    "strength": ("training", "fitness_equipment", "boxing", "hiit", "mixed_martial_arts", "rock_climbing",
                 "grinding", "mobility"),
    "any": ("generic", "transition", "swimming", "alpine_skiing", "snowboarding", "rowing", "multisport",
            "paddling", "flying", "motorcycling", "boating", "driving", "golf", "hang_gliding", "horseback_riding",
            "hunting", "fishing", "sailing", "sky_diving", "snowmobiling", "stand_up_paddleboarding", "surfing",
            "wakeboarding", "water_skiing", "kayaking", "rafting", "windsurfing", "kitesurfing", "jumpmaster",
            "diving", "shooting", "winter_sport", "video_gaming", "wheelchair_push_walk", "meditation",
            "para_sport", "water_tubing", "wakesurfing", "water_sport", "archery", "motor_sports", "snorkeling",
            "dance", "pool_apnea", "canoeing", "all"),
}
_SPORT_GROUPS = {sport: group for group, sports in _GROUP_SPORTS.items() for sport in sports}
_SUB_SPORT_GROUPS = {
    **dict.fromkeys(("indoor_cycling", "spin", "virtual_activity", "e_bike_fitness", "indoor_hand_cycling",
                     "hand_cycling", "road", "mountain", "gravel_cycling", "track_cycling", "cyclocross",
                     "recumbent", "bmx", "commuting"), "cycling"),
    **dict.fromkeys(("treadmill", "indoor_running", "indoor_walking", "elliptical", "stair_climbing", "street",
                     "trail", "track", "ultra", "obstacle", "casual_walking", "speed_walking", "rucking"), "running"),
    **dict.fromkeys(("strength_training", "cardio_training", "flexibility_training", "hiit", "amrap", "emom",
                     "tabata", "pilates", "yoga", "indoor_climbing", "bouldering"), "strength"),
}


def sport_group(sport: str, sub_sport: str = "generic") -> str:
    """The routine group for a FIT sport and sub-sport: cycling, running, strength or any."""
    sport = str(sport).strip().lower()
    sub_sport = str(sub_sport).strip().lower()
    group = _SPORT_GROUPS.get(sport, "any")
    if group in ("strength", "any"):
        return _SUB_SPORT_GROUPS.get(sub_sport, group)
    return group
