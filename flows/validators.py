"""Validators for free-text answers: `number`, `date`, `phone`.

Why here and pure: answers are parsed the same way in the bot, the tests and the
transcripts; "today" comes from the caller's clock, never from this module.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

from flows.model import Value

_NUMBER = re.compile(r"^([+-]?(?:\d{1,3}(?:[.,]\d{3})+|\d+))(?:\s+[^\W\d_]+)?$")

MONTHS = {
    # Indonesian, English and the usual short forms.
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "february": 2, "feb": 2, "pebruari": 2,
    "maret": 3, "march": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "agustus": 8, "august": 8, "agu": 8, "agt": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nopember": 11, "nov": 11,
    "desember": 12, "december": 12, "des": 12, "dec": 12,
}  # fmt: skip

RELATIVE_DAYS = {
    "hari ini": 0, "today": 0, "besok": 1, "tomorrow": 1, "lusa": 2,
    "kemarin": -1, "yesterday": -1,
}  # fmt: skip

_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{2}|\d{4}))?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORD_DATE = re.compile(r"^(\d{1,2})\s+([a-z]+)\.?(?:\s+(\d{4}))?$")
_WORD_DATE_EN = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:,?\s+(\d{4}))?$")


def parse_number(text: str, now: datetime) -> int | None:
    """A whole number, allowing `1.000` thousands and one unit word (`12 tahun`)."""
    found = _NUMBER.match(" ".join(text.split()))
    if not found:
        return None
    return int(re.sub(r"[.,]", "", found.group(1)))


def _make_date(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _year(raw: str | None, now: datetime) -> int:
    if raw is None:
        return now.year
    return 2000 + int(raw) if len(raw) == 2 else int(raw)


def parse_date(text: str, now: datetime) -> str | None:
    """A calendar date as `YYYY-MM-DD`: dd/mm/yyyy, `12 Desember 2025`, `besok`, ..."""
    said = " ".join(text.casefold().replace(",", " ").split())
    if said in RELATIVE_DAYS:
        return (now.date() + timedelta(days=RELATIVE_DAYS[said])).isoformat()
    if found := _ISO_DATE.match(said):
        return _make_date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    if found := _NUMERIC_DATE.match(said):
        day, month = int(found.group(1)), int(found.group(2))
        return _make_date(_year(found.group(3), now), month, day)
    if found := _WORD_DATE.match(said):
        named = MONTHS.get(found.group(2))
        if named is None:
            return None
        return _make_date(_year(found.group(3), now), named, int(found.group(1)))
    if found := _WORD_DATE_EN.match(said):
        named = MONTHS.get(found.group(1))
        if named is None:
            return None
        return _make_date(_year(found.group(3), now), named, int(found.group(2)))
    return None


def parse_phone(text: str, now: datetime) -> str | None:
    """An Indonesian number as `+62…`, from 08…, +62…, 62… or (0911) landline forms."""
    raw = text.strip()
    if not re.fullmatch(r"\+?[\d\s().\-]+", raw):
        return None
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        return None
    if national.startswith("0") or not 8 <= len(national) <= 12:
        return None
    return "+62" + national


VALIDATORS: dict[str, Callable[[str, datetime], Value | None]] = {
    "number": parse_number,
    "date": parse_date,
    "phone": parse_phone,
}
