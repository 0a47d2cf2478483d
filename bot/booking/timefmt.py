"""Times as families read them: "Senin, 7 Desember, pukul 10.00 WIT".

Indonesian style writes the day, the date, then `pukul` and the hour with a dot;
English gets "Monday 7 December, 10:00 WIT". Always in the office's time zone,
whose abbreviation (WIT, WITA, WIB) comes from the zone itself.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from flows.days import DAY_NAMES, MONTH_NAMES, format_day

__all__ = [
    "DAY_NAMES",
    "MONTH_NAMES",
    "format_day",
    "format_time",
    "format_when",
    "weekday_number",
]


_DAY_WORDS = {
    name.casefold(): number for names in DAY_NAMES.values() for number, name in enumerate(names)
} | {"jumaat": 4, "jum'at": 4, "ahad": 6, "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4}


def _lang(language: str) -> str:
    return language if language in DAY_NAMES else "id"


def weekday_number(word: str) -> int | None:
    """0 (Monday) to 6 for a day name in Indonesian or English, else None."""
    return _DAY_WORDS.get(word.strip().casefold())


def format_time(moment: datetime, tz: tzinfo, language: str) -> str:
    """ "10.00 WIT" / "10:00 WIT", in the office's time zone."""
    local = moment.astimezone(tz)
    sep = "." if _lang(language) == "id" else ":"
    return f"{local.hour:02d}{sep}{local.minute:02d} {local.tzname() or ''}".rstrip()


def format_when(moment: datetime, tz: tzinfo, language: str) -> str:
    """ "Senin, 7 Desember, pukul 10.00 WIT" / "Monday 7 December, 10:00 WIT"."""
    day = format_day(moment.astimezone(tz).date(), language)
    time = format_time(moment, tz, language)
    if _lang(language) == "id":
        return f"{day}, pukul {time}"
    return f"{day}, {time}"
