"""`[offices.<code>]`: what one office of a province says to its families that differs
from `[office]` (read by `bot.config`, used by `bot.offices.profiles`).

    [offices.tual]
    name = "LK3 Kota Tual"
    phone = "0916 21000"
    hours = "Senin–Jumat, 08.00–15.00 WIT"
    hotlines = [{ name = "Polres Maluku Tenggara", number = "110" }]

Each key of `[office]` (name, address, hours, hours_en, phone, timezone) and the
`hotlines` list may be given; what is left out is the default office's. A code
is the office's slug (`lk3 office add tual ...`); `lk3 run` adds an office named
here that the database does not have yet. The default office (`utama`) is `[office]`
itself. No section: one office, exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.configvalues import ConfigError, read_str
from bot.officechannels import OfficeChannels, office_channels_section

if TYPE_CHECKING:
    from bot.officesection import Hotline, Office

__all__ = ["OFFICE_PROFILE_KEYS", "OfficeProfile", "offices_section"]

DEFAULT_CODE = "utama"  # storage.offices.schema.DEFAULT_OFFICE_CODE
OFFICE_PROFILE_KEYS = frozenset(
    {"name", "address", "hours", "hours_en", "phone", "timezone", "hotlines"}
    | {"telegram", "whatsapp"}  # its own bot and sender: bot.officechannels
)
_CODE = re.compile(r"[a-z][a-z0-9-]{1,31}")
_TEXT_KEYS = ("name", "address", "hours", "hours_en", "phone", "timezone")


@dataclass(frozen=True, slots=True)
class OfficeProfile:
    """One office's own words for families: its `[office]` values and its hotlines."""

    code: str
    office: Office
    hotlines: tuple[Hotline, ...]
    channels: OfficeChannels = field(default_factory=OfficeChannels)


def offices_section(
    value: Any,
    base: Office,
    base_hotlines: tuple[Hotline, ...],
    read_hotlines: Callable[[Any], tuple[Hotline, ...]],
    env: Mapping[str, str] | None = None,
) -> tuple[OfficeProfile, ...]:
    """The `[offices.*]` tables, each over the default office's values."""
    env = {} if env is None else env
    if not isinstance(value, dict):
        raise ConfigError(
            "Config 'offices' must hold one table per office, for example [offices.tual]."
        )
    out: list[OfficeProfile] = []
    for code, table in value.items():
        where = f"offices.{code}"
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise ConfigError(
                f"Config '{where}': an office code is 2-32 characters, lowercase letters,"
                " digits or '-', starting with a letter (as in lk3 office add)."
            )
        if code == DEFAULT_CODE:
            raise ConfigError(f"Config '{where}': the default office is [office] itself.")
        if not isinstance(table, dict):
            raise ConfigError(f"Config '{where}' must be a table, not {type(table).__name__}")
        for key in table:
            if key not in OFFICE_PROFILE_KEYS:
                raise ConfigError(
                    f"Config '{where}.{key}' is not a known setting; an office may set "
                    + ", ".join(sorted(OFFICE_PROFILE_KEYS))
                )
        out.append(
            OfficeProfile(
                code=code,
                office=_office(table, base, where),
                hotlines=read_hotlines(table["hotlines"]) if "hotlines" in table else base_hotlines,
                channels=office_channels_section(code, table, env),
            )
        )
    return tuple(out)


def _office(table: Mapping[str, Any], base: Office, where: str) -> Office:
    values = {key: read_str(table, key, getattr(base, key), where) for key in _TEXT_KEYS}
    try:
        ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"Config '{where}.timezone' has value {values['timezone']!r}. Not a known time zone"
            " (Maluku is 'Asia/Jayapura')."
        ) from None
    if not values["name"].strip():
        raise ConfigError(f"Config '{where}.name' is empty. Families see it in every greeting.")
    values["name"] = values["name"].strip()
    return type(base)(**values)
