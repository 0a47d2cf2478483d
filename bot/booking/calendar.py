"""Which days the office is closed: national holidays from the `holidays` library,
and the closures staff add (`lk3 booking closures add`).

Why a maintained library: Indonesia's Islamic, Hindu, Buddhist and Chinese
holidays move every year (Idul Fitri, Nyepi, Waisak, Imlek) and a hand-typed
list is wrong by the second year.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import holidays

__all__ = ["closed_days", "national_holidays"]


_LANGUAGES = {"id": "id", "en": "en_US"}
"""The `holidays` package's name for each of our languages (its names are translated)."""


@lru_cache(maxsize=8)
def _holidays(years: tuple[int, ...], language: str = "id") -> tuple[tuple[date, str], ...]:
    found = holidays.country_holidays("ID", years=years, language=_LANGUAGES.get(language, "id"))
    return tuple(sorted((day, str(name)) for day, name in found.items()))


def national_holidays(first: date, last: date, language: str = "id") -> dict[date, str]:
    """Indonesia's national holidays from `first` to `last` inclusive, with their names
    in `language` (Indonesian unless English is asked for)."""
    years = tuple(range(first.year, last.year + 1))
    return {day: name for day, name in _holidays(years, language) if first <= day <= last}


def closed_days(first: date, last: date, closures: Iterable[date]) -> frozenset[date]:
    """Holidays and office closures from `first` to `last` inclusive."""
    own = {day for day in closures if first <= day <= last}
    return frozenset(national_holidays(first, last)) | own
