"""Questions whose options are days or times (flows/days.py), through the engine:
typed days taken, honest answers about days not offered, pages, narrowed times."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from flows.engine import step
from flows.exchange import (
    Calendar,
    ChannelCaps,
    ClosedDay,
    Context,
    Input,
    Message,
    Option,
    Turn,
    static_options,
)
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.state import SessionState

NOW = datetime.fromisoformat("2026-12-07T09:00:00+09:00")  # Monday 7 December, 09.00 WIT
OPEN_DAYS = (7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 21)
NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
CALENDAR = Calendar(
    today=date(2026, 12, 7),
    last=date(2026, 12, 21),
    open_weekdays=frozenset(range(5)),
    closed=(ClosedDay(date(2026, 12, 25), "holiday", "Hari Raya Natal"),),
)


def day_options(days: tuple[int, ...] = OPEN_DAYS) -> tuple[Option, ...]:
    found = [date(2026, 12, d) for d in days]
    return tuple(
        Option(d.isoformat(), f"{NAMES[d.weekday()]}, {d.day} Desember", d.isoformat())
        for d in found
    )


def time_options(hours: tuple[int, ...] = (8, 9, 10, 11, 13, 14, 15)) -> tuple[Option, ...]:
    return tuple(
        Option(
            (datetime(2026, 12, 8, h) - timedelta(hours=9)).strftime("%Y-%m-%dT%H:%MZ"),
            f"{h:02d}.00",
            f"2026-12-08T{h:02d}:00",
        )
        for h in hours
    )


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


def context(days: tuple[int, ...] = OPEN_DAYS, calendar: Calendar | None = CALENDAR) -> Context:
    options = static_options(
        {
            "booking_modes": (Option("kantor", "Datang ke kantor LK3"),),
            "booking_days": day_options(days),
            "booking_times": time_options(),
        }
    )
    return Context(NOW, ChannelCaps(), {"hold_minutes": "10"}, "id", options, calendar)


class Family:
    """A family at the booking questions, typing."""

    def __init__(self, library: FlowLibrary, ctx: Context) -> None:
        self.library, self.ctx = library, ctx
        self.state: SessionState | None = SessionState("id", (), (("consent", "yes"),))
        self.send(Input("interrupt", flow="booking"))
        self.send(Input("choice", choice="kantor"))

    def send(self, inp: Input) -> Turn:
        turn = step(self.library, self.state, inp, self.ctx)
        self.state = turn.state
        return turn

    def types(self, text: str) -> Message:
        return self.send(Input("text", text=text)).messages()[-1]

    def presses(self, value: str) -> Message:
        return self.send(Input("choice", choice=value)).messages()[-1]

    def var(self, name: str) -> object:
        assert self.state is not None
        return self.state.var(name)


def values(message: Message) -> list[str]:
    return [o.value for o in message.options]


def test_the_day_question_shows_six_days_and_later_dates(bundled: FlowLibrary) -> None:
    family = Family(bundled, context())
    asked = family.types("0")  # not understood: the question again
    assert values(asked) == [
        "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11", "2026-12-14",
        "_later", "other_mode",
    ]  # fmt: skip
    assert asked.options[-2].label == "Tanggal lain"


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("rabu", "2026-12-09"),
        ("besok", "2026-12-08"),
        ("bsk jua bole", "2026-12-08"),
        ("tgl 10", "2026-12-10"),
        ("hari ini", "2026-12-07"),
        ("kamis minggu depan", "2026-12-17"),  # offered, though not on the first page
        ("terserah", "2026-12-07"),  # the earliest
        ("Rabu, 9 Desember", "2026-12-09"),  # the label itself
        ("3", "2026-12-09"),  # the third line shown
    ],
)
def test_a_day_that_is_offered_is_taken(bundled: FlowLibrary, typed: str, day: str) -> None:
    family = Family(bundled, context())
    asked = family.types(typed)
    assert family.var("booking_day") == day
    assert asked.text == "Pilih waktunya:"


def test_monday_typed_on_a_monday_asks_which_monday(bundled: FlowLibrary) -> None:
    family = Family(bundled, context())
    asked = family.types("senin")
    assert asked.text == "Maksud Anda *Senin, 7 Desember* atau *Senin, 14 Desember*?"
    family.types("yang kedua")
    assert family.var("booking_day") == "2026-12-14"


@pytest.mark.parametrize(
    ("typed", "said", "first_shown"),
    [
        (
            "sabtu",
            "Maaf, kantor tutup pada hari Sabtu. Hari terdekat yang masih ada:",
            "2026-12-08",
        ),
        (
            "25 desember",
            "Maaf, kantor tutup pada Jumat, 25 Desember: Hari Raya Natal. Kami baru bisa "
            "membuat janji sampai Senin, 21 Desember. Hari terdekat yang masih ada:",
            "2026-12-14",
        ),
        (
            "tanggal 5",
            "Kami baru bisa membuat janji sampai Senin, 21 Desember. Hari terdekat yang masih ada:",
            "2026-12-14",
        ),
        (
            "tgl 3 desember",
            "Maaf, Kamis, 3 Desember sudah lewat. Hari terdekat yang masih ada:",
            "2026-12-07",
        ),
    ],
)
def test_a_day_not_offered_is_answered_honestly_with_the_nearest_free_days(
    bundled: FlowLibrary, typed: str, said: str, first_shown: str
) -> None:
    family = Family(bundled, context())
    asked = family.types(typed)
    assert asked.text == said
    assert values(asked)[0] == first_shown
    assert family.var("booking_day") is None
    family.types("1")
    assert family.var("booking_day") == first_shown  # a number means a line shown


def test_an_office_closure_and_a_full_day_are_told_apart(bundled: FlowLibrary) -> None:
    closed = Calendar(
        CALENDAR.today,
        CALENDAR.last,
        CALENDAR.open_weekdays,
        (ClosedDay(date(2026, 12, 9), "closure"),),
    )
    family = Family(bundled, context(days=(7, 8, 10, 11, 14), calendar=closed))
    assert family.types("rabu").text.startswith("Maaf, kantor tutup pada Rabu, 9 Desember.")
    family = Family(bundled, context(days=(7, 8, 10, 11, 14)))
    assert family.types("rabu").text.startswith(
        "Maaf, Rabu, 9 Desember sudah tidak ada waktu yang kosong."
    )


def test_without_the_hosts_calendar_a_missing_day_is_called_full(bundled: FlowLibrary) -> None:
    family = Family(bundled, context(calendar=None))
    assert family.types("sabtu").text.startswith("Maaf, Sabtu, 12 Desember sudah tidak ada")


def test_later_dates_page_on_and_back(bundled: FlowLibrary) -> None:
    family = Family(bundled, context())
    page = family.types("ada tanggal lain?")
    assert values(page) == [
        "2026-12-15", "2026-12-16", "2026-12-17", "2026-12-18", "2026-12-21",
        "_earlier", "other_mode",
    ]  # fmt: skip
    assert page.text == "Hari apa yang cocok untuk Anda?"
    family.types("2")
    assert family.var("booking_day") == "2026-12-16"


def test_the_earlier_dates_button_pages_back(bundled: FlowLibrary) -> None:
    family = Family(bundled, context())
    family.presses("_later")
    assert values(family.presses("_earlier"))[0] == "2026-12-07"


def test_next_week_alone_pages_to_next_weeks_days(bundled: FlowLibrary) -> None:
    family = Family(bundled, context())
    assert values(family.types("minggu depan aja"))[:2] == ["2026-12-14", "2026-12-15"]


def test_another_way_to_meet_still_wins_over_a_vague_other(bundled: FlowLibrary) -> None:
    family = Family(bundled, context())
    asked = family.types("saya mau cara konsultasi yang lain")
    assert asked.text == "Bagaimana Anda ingin bertemu konselor?"


def at_the_times(bundled: FlowLibrary) -> Family:
    family = Family(bundled, context())
    family.types("besok")
    return family


@pytest.mark.parametrize(
    ("typed", "slot"),
    [
        ("jam 11", "2026-12-08T02:00Z"),
        ("jam 1 siang", "2026-12-08T04:00Z"),
        ("jm 3 sore", "2026-12-08T06:00Z"),
        ("10.00", "2026-12-08T01:00Z"),
        ("yang paling pagi", "2026-12-07T23:00Z"),
    ],
)
def test_a_time_that_is_offered_is_taken(bundled: FlowLibrary, typed: str, slot: str) -> None:
    family = at_the_times(bundled)
    family.types(typed)
    assert family.var("booking_slot") == slot


def test_a_part_of_the_day_narrows_the_times(bundled: FlowLibrary) -> None:
    family = at_the_times(bundled)
    asked = family.types("pagi aja")
    assert asked.text == "Waktu pagi yang masih ada:"
    assert [o.label for o in asked.options] == [
        "08.00",
        "09.00",
        "10.00",
        "Semua waktu",
        "Hari lain",
    ]
    assert len(family.presses("_all_times").options) == 8
    family.types("sore aja")
    family.types("2")
    assert family.var("booking_slot") == "2026-12-08T06:00Z"


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("jam 12", "Maaf, pukul 12.00 tidak ada. Waktu yang masih ada:"),
        (
            "malam jua bole ka",
            "Maaf, pada malam hari itu tidak ada waktu yang kosong. Waktu yang masih ada:",
        ),
    ],
)
def test_a_time_not_offered_takes_nothing_and_shows_the_times(
    bundled: FlowLibrary, typed: str, said: str
) -> None:
    family = at_the_times(bundled)
    asked = family.types(typed)
    assert asked.text == said
    assert family.var("booking_slot") is None


def test_another_day_named_at_the_times_leads_back_to_the_days(bundled: FlowLibrary) -> None:
    family = at_the_times(bundled)
    assert family.types("kamis aja").text == "Hari apa yang cocok untuk Anda?"


def test_options_without_days_are_not_paged_or_read_as_days(bundled: FlowLibrary) -> None:
    state = SessionState("id", (), (("consent", "yes"),))
    turn = step(bundled, state, Input("interrupt", flow="booking"), context())
    turn = step(bundled, turn.state, Input("text", text="besok"), context())
    assert turn.state.var("booking_mode") is None  # "besok" names no way of meeting
