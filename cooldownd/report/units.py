"""The user's locale for the report: distance units, decimal mark, first day of the week.

Read from the environment the way glibc does (``LC_ALL`` > ``LC_<category>`` > ``LANG``): a locale
name like ``en_US.UTF-8`` gives language ``en`` and territory ``US``. The decimal mark comes from the
C library when that locale is installed, else from a short table of languages that write a comma.
Miles only where glibc's LC_MEASUREMENT says so (US, Liberia, Myanmar).
"""

from __future__ import annotations

import locale
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

_IMPERIAL = {"US", "LR", "MM"}
_SUNDAY_FIRST = {"US", "CA", "JP", "BR", "MX", "IL", "PH", "KR", "TW", "HK", "SA"}
_COMMA_LANGS = {"de", "fr", "es", "it", "nl", "pt", "ru", "pl", "sv", "da", "nb", "nn", "fi", "cs", "sk", "sl",
                "tr", "el", "hu", "ro", "uk", "id", "vi", "hr", "sr", "bg", "lt", "lv", "et", "ca", "eu", "gl"}
_NAME = re.compile(r"^([a-z]{2,3})(?:_([A-Z]{2}))?")
METRES_PER_MILE = 1609.344


@dataclass(frozen=True, slots=True)
class Units:
    """How numbers are written for this user."""

    imperial: bool = False
    decimal: str = "."
    sunday_first: bool = False

    def number(self, value: float | int | None, digits: int = 0) -> str:
        """``value`` with ``digits`` decimals and the locale's decimal mark; "–" for None."""
        if value is None:
            return "–"
        text = f"{value:.{digits}f}" if digits else str(round(value))
        return text.replace(".", self.decimal)

    def distance(self, metres: float | None) -> str:
        """ "12.3 km" or "7.6 mi"."""
        if metres is None:
            return "–"
        if self.imperial:
            return f"{self.number(metres / METRES_PER_MILE, 1)} mi"
        return f"{self.number(metres / 1000, 1)} km"


def _category(env: Mapping[str, str], name: str) -> str:
    for var in ("LC_ALL", name, "LANG"):
        if env.get(var):
            return env[var]
    return "C"


def _parts(value: str) -> tuple[str | None, str | None]:
    m = _NAME.match(value)
    return (m.group(1), m.group(2)) if m else (None, None)


def _decimal_mark(value: str) -> str:
    saved = locale.setlocale(locale.LC_NUMERIC)
    try:
        locale.setlocale(locale.LC_NUMERIC, value)
        return locale.localeconv()["decimal_point"] or "."
    except locale.Error:  # not installed here: fall back to the language
        return "," if _parts(value)[0] in _COMMA_LANGS else "."
    finally:
        locale.setlocale(locale.LC_NUMERIC, saved)


def from_env(env: Mapping[str, str] | None = None) -> Units:
    """The Units of the locale in ``env`` (default: this process's environment)."""
    env = os.environ if env is None else env
    measurement = _parts(_category(env, "LC_MEASUREMENT"))[1]
    first_day = _parts(_category(env, "LC_TIME"))[1]
    return Units(imperial=measurement in _IMPERIAL, decimal=_decimal_mark(_category(env, "LC_NUMERIC")),
                 sunday_first=first_day in _SUNDAY_FIRST)
