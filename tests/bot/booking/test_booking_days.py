"""The booking host's days and times for typed answers: every free day marked with its
date, times with their office time, and the office calendar (weekends, holidays from
`holidays`, office closures) that a typed day not offered is answered from."""

from __future__ import annotations

import dataclasses
from datetime import date

from bot.booking.scenario import NOW, VARIABLES, scenario_view
from bot.booking.view import SOONEST, BookingView
from storage.booking.records import Closure


def test_the_measuring_scenario_is_what_the_corpus_writers_were_shown() -> None:
    view = scenario_view()
    days = view.options("booking_days", VARIABLES, "id")
    assert [o.label for o in days[:6]] == [
        "Senin, 7 Desember", "Selasa, 8 Desember", "Rabu, 9 Desember",
        "Kamis, 10 Desember", "Jumat, 11 Desember", "Senin, 14 Desember",
    ]  # fmt: skip
    assert days[-1].when == "2026-12-21"  # 14 days ahead
    times = view.options("booking_times", VARIABLES, "id")
    assert [o.when[11:] for o in times] == [
        "08:00",
        "09:00",
        "10:00",
        "11:00",
        "13:00",
        "14:00",
        "15:00",
    ]
    today = view.options("booking_times", {**VARIABLES, "booking_day": "2026-12-07"}, "id")
    assert [o.when[11:] for o in today] == ["11:00", "13:00", "14:00", "15:00"]  # 2 h ahead


def test_every_free_day_is_offered_with_its_date_and_the_engine_pages_them() -> None:
    days = scenario_view().options("booking_days", VARIABLES, "en")
    assert len(days) == 11
    assert all(o.value == o.when for o in days)
    assert days[0].label == "Monday 7 December"


def test_the_calendar_knows_weekends_holidays_and_the_last_day() -> None:
    calendar = scenario_view().calendar("id")
    assert (calendar.today, calendar.last) == (date(2026, 12, 7), date(2026, 12, 21))
    assert calendar.open_weekdays == frozenset({0, 1, 2, 3, 4})
    christmas = calendar.closure(date(2026, 12, 25))
    assert christmas is not None and (christmas.why, christmas.name) == (
        "holiday",
        "Hari Raya Natal",
    )
    english = scenario_view().calendar("en").closure(date(2026, 12, 25))
    assert english is not None and english.name == "Christmas Day"
    new_year = calendar.closure(date(2027, 1, 1))
    assert new_year is not None and new_year.why == "holiday"  # beyond the horizon too


def closed_on(day: date) -> BookingView:
    view = scenario_view()
    snapshot = dataclasses.replace(view.snapshot, closures=(Closure(day, "rapat dinas"),))
    return BookingView(snapshot, view.settings, view.tz, NOW, view.texts)


def test_an_office_closure_is_not_offered_and_is_named_without_its_reason() -> None:
    view = closed_on(date(2026, 12, 9))
    assert "2026-12-09" not in [o.value for o in view.options("booking_days", VARIABLES, "id")]
    closure = view.calendar("id").closure(date(2026, 12, 9))
    assert closure is not None and (closure.why, closure.name) == ("closure", "")


def test_an_urgent_family_still_sees_the_soonest_first_without_a_date() -> None:
    view = dataclasses.replace(scenario_view(), pending_urgency="segera")
    days = view.options("booking_days", VARIABLES, "id")
    assert (days[0].value, days[0].when) == (SOONEST, "")
