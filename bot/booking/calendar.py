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


@lru_cache(maxsize=8)
def _holidays(years: tuple[int, ...]) -> tuple[tuple[date, str], ...]:
    found = holidays.country_holidays("ID", years=years, language="id")
    return tuple(sorted((day, str(name)) for day, name in found.items()))


def national_holidays(first: date, last: date) -> dict[date, str]:
    """Indonesia's national holidays from `first` to `last` inclusive, with their names."""
    years = tuple(range(first.year, last.year + 1))
    return {day: name for day, name in _holidays(years) if first <= day <= last}


def closed_days(first: date, last: date, closures: Iterable[date]) -> frozenset[date]:
    """Holidays and office closures from `first` to `last` inclusive."""
    own = {day for day in closures if first <= day <= last}
    return frozenset(national_holidays(first, last)) | own
