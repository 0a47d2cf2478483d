"""The fixed booking situation typed days and times are measured in (`lk3 flows understand`).

Why built from the real booking code rather than typed-out lists: the figures then
measure what a family would meet. It is the situation the corpus writers were given:
Monday 7 December 2026, 09:00 in Ambon; the office open Monday to Friday, 08:00-12:00
and 13:00-16:00 WIT (no 12.00: the lunch break); consultations up to 14 days ahead;
national holidays from `holidays` (Christmas on Friday 25 December); no time held back
for urgent cases (the writers saw every time of the day); the family at the office.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.booking.view import BookingView
from bot.config import BookingSettings, Config
from bot.core.texts import BotTexts
from flows.exchange import Calendar, OptionSource
from flows.model import Value
from storage.booking.records import MODES, BookingSnapshot, WeeklyHours

__all__ = ["NOW", "VARIABLES", "scenario_view"]

TZ = ZoneInfo("Asia/Jayapura")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
"""Monday 7 December 2026, 09:00 WIT."""
BLOCKS = ((8 * 60, 12 * 60), (13 * 60, 16 * 60))
"""The office's hours each weekday, in minutes from midnight."""
VARIABLES: dict[str, Value] = {"booking_mode": "kantor", "booking_day": "2026-12-08"}
"""The family's answers before the questions measured: at the office; the times are
those of Tuesday 8 December."""


def scenario_view(config: Config | None = None, texts: BotTexts | None = None) -> BookingView:
    """The booking view of the fixed situation (the configuration's modes and horizon)."""
    config = config or Config()
    settings = BookingSettings(
        modes=config.booking.modes,
        lead_hours=config.booking.lead_hours,
        horizon_days=config.booking.horizon_days,
        urgent_share=0.0,
    )
    hours = tuple(
        WeeklyHours(n, 1, weekday, start, end, frozenset(MODES))
        for n, (weekday, (start, end)) in enumerate(
            ((d, block) for d in range(5) for block in BLOCKS), start=1
        )
    )
    snapshot = BookingSnapshot(
        hours=hours,
        staff_names=((1, "Konselor"),),
        closures=(),
        busy=(),
        load=(),
        known_staff=(),
        hold=None,
        upcoming=None,
        urgency=None,
    )
    return BookingView(snapshot, settings, TZ, NOW, texts or BotTexts.bundled())


def scenario_host(
    config: Config | None = None, texts: BotTexts | None = None
) -> tuple[OptionSource, dict[str, Value], dict[str, Calendar]]:
    """The options, the family's answers so far and the calendar (per language) of the
    fixed situation, as `flows.understanding.evaluation` takes them."""
    view = scenario_view(config, texts)
    return view.options, dict(VARIABLES), {lang: view.calendar(lang) for lang in ("id", "en")}
