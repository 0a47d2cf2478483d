"""The `[office]` section and the `hotlines` list: who the office is and whom a family
may call, as every greeting and crisis reply says it (`bot.config` reads them; a
province's other offices override them in `[offices.<code>]`, `bot.officeconfig`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.configvalues import ConfigError, read_str

__all__ = ["Hotline", "Office", "hotlines_setting", "office_section"]


@dataclass(frozen=True, slots=True)
class Hotline:
    """A number families may call, and what it is for in each language (shown after it)."""

    name: str
    number: str
    purpose: str = ""
    purpose_en: str = ""

    def line(self, language: str) -> str:
        purpose = self.purpose_en if language == "en" and self.purpose_en else self.purpose
        return f"• {self.name}: {self.number}" + (f" ({purpose})" if purpose else "")


@dataclass(frozen=True, slots=True)
class Office:
    name: str = "LK3 Kota Ambon"
    address: str = "Dinas Sosial Kota Ambon, Jl. Sultan Hasanudin, Kota Ambon, Maluku"
    hours: str = "Senin–Jumat, 08.00–16.00 WIT"
    hours_en: str = "Monday–Friday, 08:00–16:00 WIT"
    phone: str = ""
    timezone: str = "Asia/Jayapura"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def office_section(table: Mapping[str, Any]) -> Office:
    d = Office()
    tz = read_str(table, "timezone", d.timezone, "office")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"Config 'office.timezone' has value {tz!r}. Not a known time zone "
            "(Maluku is 'Asia/Jayapura')."
        ) from None
    name = read_str(table, "name", d.name, "office").strip()
    if not name:
        raise ConfigError("Config 'office.name' is empty. Families see it in every greeting.")
    return Office(
        name=name,
        address=read_str(table, "address", d.address, "office"),
        hours=read_str(table, "hours", d.hours, "office"),
        hours_en=read_str(table, "hours_en", d.hours_en, "office"),
        phone=read_str(table, "phone", d.phone, "office"),
        timezone=tz,
    )


_HOTLINE_KEYS = frozenset({"name", "number", "purpose", "purpose_en"})


def hotlines_setting(value: Any) -> tuple[Hotline, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError("Config 'hotlines' must be a non-empty list of {name, number} tables.")
    out: list[Hotline] = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not {"name", "number"} <= set(item) <= _HOTLINE_KEYS:
            raise ConfigError(
                f"Config 'hotlines[{i}]' must be a table with 'name' and 'number'"
                " (and optionally 'purpose', 'purpose_en')."
            )
        if not all(isinstance(v, str) for v in item.values()):
            raise ConfigError(f"Config 'hotlines[{i}]' needs its values as text.")
        if not item["name"] or not item["number"]:
            raise ConfigError(f"Config 'hotlines[{i}]' needs a non-empty name and number as text.")
        out.append(
            Hotline(
                item["name"], item["number"], item.get("purpose", ""), item.get("purpose_en", "")
            )
        )
    return tuple(out)
