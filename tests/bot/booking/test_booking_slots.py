"""Free consultation times, as tables: time zone, holidays, closures, lead time, horizon,
held-back slots for urgent cases, who gets the booking, and how times are written."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.booking.calendar import closed_days, national_holidays
from bot.booking.reminders import reminder_reply, reminders_for
from bot.booking.slots import Slot, SlotRules, candidates, day_grid, free_slots, start_times
from bot.booking.timefmt import format_day, format_when, weekday_number
from bot.booking.view import SOONEST, BookingView, all_modes, parse_slot, slot_value
from bot.config import BookingSettings
from bot.core.texts import BotTexts
from storage.booking.records import Booking, BookingSnapshot, Closure, WeeklyHours

WIT = ZoneInfo("Asia/Jayapura")
MON, TUE, WED, THU, FRI = range(5)


def wit(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """A moment in December 2026, office time (WIT, UTC+9)."""
    return datetime(2026, month, day, hour, minute, tzinfo=WIT)


def week(staff_id: int = 1, start: int = 9 * 60, end: int = 12 * 60) -> list[WeeklyHours]:
    return [
        WeeklyHours(i, staff_id, day, start, end, frozenset({"kantor", "telepon"}))
        for i, day in enumerate((MON, TUE, WED, THU, FRI))
    ]


NO_HOLD = SlotRules(urgent_share=0.0)


def starts(slots: list[Slot]) -> list[datetime]:
    return [s.starts_at for s in slots]


# --- the grid ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (60, ["09.00", "10.00", "11.00"]),
        (45, ["09.00", "09.45", "10.30", "11.15"]),
        (90, ["09.00", "10.30"]),
        (240, []),
    ],
)
def test_weekly_hours_are_cut_into_slots_from_the_start_of_each_block(
    minutes: int, expected: list[str]
) -> None:
    grid = day_grid(week(), date(2026, 12, 7), WIT, SlotRules(slot_minutes=minutes))
    assert [s.starts_at.astimezone(WIT).strftime("%H.%M") for s in grid] == expected
    assert all(s.ends_at - s.starts_at == timedelta(minutes=minutes) for s in grid)


@pytest.mark.parametrize(
    ("zone", "utc_hour"),
    [("Asia/Jayapura", 0), ("Asia/Makassar", 1), ("Asia/Jakarta", 2)],
)
def test_hours_are_office_time_whatever_the_office_zone(zone: str, utc_hour: int) -> None:
    grid = day_grid(week(), date(2026, 12, 7), ZoneInfo(zone), NO_HOLD)
    assert grid[0].starts_at == datetime(2026, 12, 7, utc_hour, tzinfo=UTC)


def test_a_day_without_hours_has_no_slots() -> None:
    assert day_grid(week(), date(2026, 12, 12), WIT, NO_HOLD) == []  # a Saturday


# --- closed days ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 1, 1), "Tahun Baru Masehi"),
        (date(2026, 3, 19), "Hari Suci Nyepi"),
        (date(2026, 4, 3), "Wafat Yesus Kristus"),
        (date(2026, 5, 14), "Kenaikan Yesus Kristus"),
        (date(2026, 6, 1), "Hari Lahir Pancasila"),
        (date(2026, 8, 17), "Hari Kemerdekaan Republik Indonesia"),
        (date(2026, 12, 25), "Hari Raya Natal"),
    ],
)
def test_national_holidays_come_from_the_holidays_library(day: date, name: str) -> None:
    assert national_holidays(day, day) == {day: name}
    monday_before = day - timedelta(days=day.weekday())
    now = datetime.combine(monday_before - timedelta(days=3), datetime.min.time(), tzinfo=WIT)
    closed = closed_days(now.date(), now.date() + timedelta(days=14), ())
    free = free_slots(week(), tz=WIT, closed=closed, rules=NO_HOLD, busy=(), now=now)
    days = {s.starts_at.astimezone(WIT).date() for s in free}
    assert day not in days
    if day.weekday() < 5:
        assert day + timedelta(days=-1 if day.weekday() else 1) in days, "only that day closes"


def test_idul_fitri_2026_is_a_holiday_in_indonesian() -> None:
    found = national_holidays(date(2026, 3, 20), date(2026, 3, 22))
    assert found[date(2026, 3, 21)] == "Hari Raya Idul Fitri"


def test_an_office_closure_closes_that_day_only() -> None:
    now = wit(4, 8)
    closed = closed_days(date(2026, 12, 4), date(2026, 12, 18), [date(2026, 12, 8)])
    free = free_slots(week(), tz=WIT, closed=closed, rules=NO_HOLD, busy=(), now=now)
    days = sorted({s.starts_at.astimezone(WIT).date().day for s in free})
    assert 8 not in days and {7, 9} <= set(days)


# --- lead time and horizon --------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "lead_hours", "first"),
    [
        (wit(7, 7), 2, wit(7, 9)),
        (wit(7, 8, 30), 2, wit(7, 11)),
        (wit(7, 8, 30), 0, wit(7, 9)),
        (wit(7, 10), 2, wit(8, 9)),  # nothing left today: tomorrow morning
        (wit(4, 11), 24, wit(7, 9)),  # Friday late: over the weekend
    ],
)
def test_a_slot_starts_no_sooner_than_the_lead_time(
    now: datetime, lead_hours: int, first: datetime
) -> None:
    rules = SlotRules(lead=timedelta(hours=lead_hours), urgent_share=0.0)
    free = free_slots(week(), tz=WIT, closed=(), rules=rules, busy=(), now=now)
    assert free[0].starts_at == first


@pytest.mark.parametrize(("horizon", "last_day"), [(0, 7), (1, 8), (3, 10), (7, 14)])
def test_families_book_no_further_ahead_than_the_horizon(horizon: int, last_day: int) -> None:
    rules = SlotRules(horizon_days=horizon, urgent_share=0.0, lead=timedelta(0))
    free = free_slots(week(), tz=WIT, closed=(), rules=rules, busy=(), now=wit(7, 6))
    assert max(s.starts_at for s in free).astimezone(WIT).day == last_day


# --- busy counsellors ----------------------------------------------------------------


def test_a_booking_takes_that_counsellor_and_no_one_else() -> None:
    hours = week(1) + week(2)
    busy = [(1, wit(7, 10).astimezone(UTC), wit(7, 11).astimezone(UTC))]
    free = free_slots(hours, tz=WIT, closed=(), rules=NO_HOLD, busy=busy, now=wit(7, 6))
    at_ten = [s.staff_id for s in free if s.starts_at == wit(7, 10)]
    assert at_ten == [2]


def test_a_booking_overlapping_a_slot_in_part_takes_it() -> None:
    busy = [(1, wit(7, 9, 30).astimezone(UTC), wit(7, 10, 30).astimezone(UTC))]
    free = free_slots(week(), tz=WIT, closed=(), rules=NO_HOLD, busy=busy, now=wit(7, 6))
    assert [t.astimezone(WIT).hour for t in starts(free) if t.day == 7] == [11]


# --- held back for urgent cases --------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "staff", "held"),
    [
        (0.0, 1, []),
        (0.25, 1, ["09.00/1"]),  # a quarter of 3 slots, rounded up: 1
        (0.5, 1, ["09.00/1", "10.00/1"]),
        (0.25, 2, ["09.00/1", "09.00/2"]),  # 6 slots: 2, the earliest, lower staff first
        (0.9, 1, ["09.00/1", "10.00/1", "11.00/1"]),
    ],
)
def test_the_earliest_share_of_each_days_slots_is_held_back(
    share: float, staff: int, held: list[str]
) -> None:
    hours = [h for s in range(1, staff + 1) for h in week(s)]
    grid = day_grid(hours, date(2026, 12, 7), WIT, SlotRules(urgent_share=share))
    got = [
        f"{s.starts_at.astimezone(WIT).strftime('%H.%M')}/{s.staff_id}" for s in grid if s.held_back
    ]
    assert got == held


@pytest.mark.parametrize(
    ("urgent", "now", "first"),
    [
        (False, wit(4, 6), wit(4, 10)),  # Friday's 09.00 is kept for urgent cases
        (True, wit(4, 6), wit(4, 9)),
        (False, wit(7, 7), wit(7, 9)),  # released: it would otherwise go unused
    ],
)
def test_urgent_cases_may_take_held_back_slots_and_others_only_once_released(
    urgent: bool, now: datetime, first: datetime
) -> None:
    rules = SlotRules(urgent_share=0.25, lead=timedelta(hours=1), urgent_release=timedelta(hours=3))
    free = free_slots(week(), tz=WIT, closed=(), rules=rules, busy=(), now=now, urgent=urgent)
    assert free[0].starts_at == first


# --- who gets the booking ------------------------------------------------------------


@pytest.mark.parametrize(
    ("known", "load", "order"),
    [
        ((), (), (1, 2, 3)),
        ((), ((1, 4), (2, 1), (3, 2)), (2, 3, 1)),
        ((3,), ((3, 9),), (3, 1, 2)),  # the one who knows the family, however busy
        ((2, 3), (), (2, 3, 1)),  # the latest first
    ],
)
def test_the_counsellor_who_knows_the_family_comes_first_then_the_least_busy(
    known: tuple[int, ...], load: tuple[tuple[int, int], ...], order: tuple[int, ...]
) -> None:
    hours = week(1) + week(2) + week(3)
    free = free_slots(hours, tz=WIT, closed=(), rules=NO_HOLD, busy=(), now=wit(7, 6))
    assert candidates(free, wit(7, 10), known_staff=known, load=load) == order


def test_a_family_picks_a_time_and_each_time_is_offered_once() -> None:
    hours = week(1) + week(2)
    free = free_slots(hours, tz=WIT, closed=(), rules=NO_HOLD, busy=(), now=wit(7, 6))
    monday = [t for t in start_times(free) if t.astimezone(WIT).day == 7]
    assert [t.astimezone(WIT).hour for t in monday] == [9, 10, 11]


# --- what families are offered ---------------------------------------------------------


def snapshot(**changes: object) -> BookingSnapshot:
    base = BookingSnapshot(
        hours=tuple(week(1)),
        staff_names=((1, "Ibu Sari"),),
        closures=(),
        busy=(),
        load=(),
        known_staff=(),
        hold=None,
        upcoming=None,
        urgency=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def view(pending: str | None = None, now: datetime | None = None, **changes: object) -> BookingView:
    settings = BookingSettings(urgent_share=0.25, lead_hours=1, urgent_release_hours=3)
    return BookingView(
        snapshot(**changes), settings, WIT, now or wit(4, 6), BotTexts.bundled(), pending
    )


def test_urgent_families_may_ask_for_the_soonest_times_first() -> None:
    urgent = view("segera")
    days = urgent.options("booking_days", {"booking_mode": "kantor"}, "id")
    assert (days[0].value, days[0].label) == (SOONEST, "Secepatnya (waktu paling awal)")
    times = urgent.options(
        "booking_times", {"booking_mode": "kantor", "booking_day": SOONEST}, "id"
    )
    assert times[0].label == "Jumat, 4 Desember, pukul 09.00 WIT"
    assert len(times) == 5


def test_routine_families_see_no_soonest_and_not_the_slots_held_back() -> None:
    routine = view()
    days = routine.options("booking_days", {"booking_mode": "kantor"}, "id")
    assert (days[0].value, days[0].label) == ("2026-12-04", "Jumat, 4 Desember")
    times = routine.options(
        "booking_times", {"booking_mode": "kantor", "booking_day": "2026-12-04"}, "id"
    )
    assert [t.label for t in times] == [
        "Jumat, 4 Desember, pukul 10.00 WIT",
        "Jumat, 4 Desember, pukul 11.00 WIT",
    ]


@pytest.mark.parametrize(
    ("stored", "pending", "urgent"),
    [
        (None, None, False),
        ("biasa", "segera", True),
        ("segera", None, True),
        ("darurat", "biasa", True),
    ],
)
def test_a_case_opened_or_raised_this_turn_counts_as_urgent(
    stored: str | None, pending: str | None, urgent: bool
) -> None:
    assert view(pending, urgency=stored).urgent is urgent


def test_only_modes_with_a_free_time_are_offered() -> None:
    modes = view().options("booking_modes", {}, "en")
    assert [(m.value, m.label) for m in modes] == [
        ("kantor", "At the LK3 office"),
        ("telepon", "By phone"),
    ]


@pytest.mark.parametrize(
    ("name", "language", "offered"),
    [
        (
            "booking_modes",
            "id",
            [("kantor", "Datang ke kantor LK3"), ("chat", "Lewat chat di sini")],
        ),
        ("booking_modes", "en", [("kantor", "At the LK3 office"), ("chat", "By chat, here")]),
        ("booking_days", "id", []),
    ],
)
def test_all_modes_offers_the_configured_modes_as_the_bot_labels_them(
    name: str, language: str, offered: list[tuple[str, str]]
) -> None:
    source = all_modes(("kantor", "chat", "teleport"), BotTexts.bundled())
    assert [(o.value, o.label) for o in source(name, {}, language)] == offered


def test_no_counsellor_hours_means_no_modes_at_all() -> None:
    assert view(hours=()).options("booking_modes", {}, "id") == []


def test_a_family_is_shown_its_booking_and_its_hold() -> None:
    booking = Booking(
        7, "K7F3Q2", 3, 1, "telepon", "biasa", wit(7, 10), wit(7, 11), "confirmed", None, wit(1, 9)
    )
    values = view(upcoming=booking).values("id")
    assert values == {
        "booking_code": "K7F3Q2",
        "booking_when": "Senin, 7 Desember, pukul 10.00 WIT",
        "booking_mode": "Lewat telepon",
        "booking_counsellor": "Ibu Sari",
    }


# --- how times are written ------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "language", "text"),
    [
        (wit(7, 10), "id", "Senin, 7 Desember, pukul 10.00 WIT"),
        (wit(7, 10), "en", "Monday 7 December, 10:00 WIT"),
        (wit(31, 13, 30), "id", "Kamis, 31 Desember, pukul 13.30 WIT"),
        (datetime(2026, 8, 17, 0, 0, tzinfo=UTC), "id", "Senin, 17 Agustus, pukul 09.00 WIT"),
        (wit(1, 9, month=1), "en", "Thursday 1 January, 09:00 WIT"),
    ],
)
def test_times_are_written_in_office_time_in_indonesian_style(
    moment: datetime, language: str, text: str
) -> None:
    assert format_when(moment, WIT, language) == text


@pytest.mark.parametrize(
    ("zone", "text"), [("Asia/Makassar", "pukul 09.00 WITA"), ("Asia/Jakarta", "pukul 08.00 WIB")]
)
def test_the_zone_abbreviation_follows_the_office(zone: str, text: str) -> None:
    assert format_when(wit(7, 10), ZoneInfo(zone), "id").endswith(text)


def test_day_names_are_read_in_both_languages() -> None:
    assert [weekday_number(w) for w in ("senin", "Jumat", "minggu", "friday", "x")] == [
        0,
        4,
        6,
        4,
        None,
    ]
    assert format_day(date(2026, 12, 7), "id") == "Senin, 7 Desember"


def test_a_time_survives_the_round_trip_through_a_choice_value() -> None:
    moment = wit(7, 10)
    assert slot_value(moment) == "2026-12-07T01:00Z"
    assert parse_slot(slot_value(moment)) == moment
    assert parse_slot("besok pagi") is None


# --- reminders -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("booked_at", "kinds"),
    [
        (wit(4, 9), ["day_before", "two_hours"]),
        (wit(6, 20), ["two_hours"]),  # tomorrow morning: the day-before one is past
        (wit(7, 7, 30), []),  # in two and a half hours: too soon for either
    ],
)
def test_reminders_go_the_day_before_and_two_hours_before_unless_too_soon(
    booked_at: datetime, kinds: list[str]
) -> None:
    booking = Booking(
        1, "K7F3Q2", 3, 1, "kantor", "biasa", wit(7, 10), wit(7, 11), "held", None, booked_at
    )
    found = reminders_for(
        booking,
        now=booked_at,
        tz=WIT,
        language="id",
        texts=BotTexts.bundled(),
        wording="discreet",
        contact_id=3,
        channel="telegram",
        context={"office_name": "LK3 Kota Ambon"},
    )
    assert [r.kind for r in found] == kinds
    due = {"day_before": wit(6, 10), "two_hours": wit(7, 8)}
    assert [r.message.due_at for r in found] == [due[k] for k in kinds]


@pytest.mark.parametrize("language", ["id", "en"])
def test_discreet_reminders_say_nothing_about_counselling_or_the_problem(language: str) -> None:
    booking = Booking(
        1, "K7F3Q2", 3, 1, "kantor", "segera", wit(7, 10), wit(7, 11), "held", None, wit(1, 9)
    )
    found = reminders_for(
        booking,
        now=wit(1, 9),
        tz=WIT,
        language=language,
        texts=BotTexts.bundled(),
        wording="discreet",
        contact_id=3,
        channel="telegram",
        context={"office_name": "LK3 Kota Ambon", "office_address": "Jl. Contoh"},
    )
    for reminder in found:
        text = reminder.message.text.lower()
        assert "10.00 wit" in text or "10:00 wit" in text
        for word in ("konsel", "counsel", "lk3", "kekerasan", "violence", "k7f3q2", "contoh"):
            assert word not in text
        assert reminder.message.options[0][0] == "1"


@pytest.mark.parametrize(
    ("text", "meaning"),
    [("1", "confirm"), ("Ya", "confirm"), ("2", "change"), ("ganti waktu", "change"), ("3", None)],
)
def test_a_reply_to_a_reminder_is_read_as_confirm_or_change(text: str, meaning: str | None) -> None:
    assert reminder_reply(text) == meaning


def test_closures_from_storage_and_holidays_combine() -> None:
    closed = closed_days(
        date(2026, 12, 20), date(2026, 12, 31), [Closure(date(2026, 12, 24), "x").day]
    )
    assert {date(2026, 12, 24), date(2026, 12, 25)} <= closed
