"""Days and times in words, read on Monday 7 December 2026 (flows/understanding/dates.py)."""

from __future__ import annotations

from datetime import date, time

import pytest

from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.understanding.dates import When, read_when

TODAY = date(2026, 12, 7)  # a Monday


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    """The bundled flows: their word table reads Ambonese and Jakarta forms."""
    return load_library(bundled_library_dir())


def day(text: str, bundled: FlowLibrary) -> str:
    found = read_when(text, TODAY, bundled.globals.words).day
    return found.isoformat() if found else "-"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        # relative days, in Indonesian, Ambonese, Jakarta forms and English
        ("besok", "2026-12-08"),
        ("bsk jua bole", "2026-12-08"),
        ("besok aja deh", "2026-12-08"),
        ("tomorrow", "2026-12-08"),
        ("lusa", "2026-12-09"),
        ("hari ini", "2026-12-07"),
        ("skarang sa", "2026-12-07"),
        ("could I come in this afternoon?", "2026-12-07"),
        ("3 hari lagi", "2026-12-10"),
        # day names: the next such day; `depan`, `muka`, `next` the one of next week
        ("sabtu", "2026-12-12"),
        ("rabu", "2026-12-09"),
        ("hari Rabu jua", "2026-12-09"),
        ("kalo hari kamis gimana", "2026-12-10"),
        ("kmis", "2026-12-10"),
        ("sbtu aja", "2026-12-12"),
        ("rabuu", "2026-12-09"),
        ("rabu depan", "2026-12-16"),
        ("Senen muka jua", "2026-12-14"),
        ("senin minggu depan", "2026-12-14"),
        ("minggu depan hari rabu", "2026-12-16"),
        ("next wednesday", "2026-12-16"),
        ("Monday next week please", "2026-12-14"),
        ("hari minggu", "2026-12-13"),
        ("Hari Minggu ini.", "2026-12-13"),
        ("jumat ini", "2026-12-11"),
        # dates: with a month, numeric, a day of the month alone (the next one)
        ("25 desember", "2026-12-25"),
        ("25 des", "2026-12-25"),
        ("25/12", "2026-12-25"),
        ("8des", "2026-12-08"),
        ("10 Desember 2026", "2026-12-10"),
        ("Tue 15 Dec", "2026-12-15"),
        ("december 25th", "2026-12-25"),
        ("tanggal 1 januari", "2027-01-01"),
        ("tgl 10", "2026-12-10"),
        ("tgl 3", "2027-01-03"),
        ("tanggal tiga", "2027-01-03"),
        ("tanggal sabalas jua", "2026-12-11"),
        ("tanggal dua puluh satu", "2026-12-21"),
        ("the 10th", "2026-12-10"),
        ("tanggal 5", "2027-01-05"),
        ("5 desember", "2026-12-05"),  # just passed: meant this year, answered honestly
        # a date says more than a day name; the first day named counts
        ("Senin, 14 Desember.", "2026-12-14"),
        ("jmat 18", "2026-12-18"),
        ("sls 15 jm 1", "2026-12-15"),
        ("lusa sa, besok beta ada pesta", "2026-12-09"),
        ("jangan senin, selasa aja", "2026-12-08"),
        ("kamis jam 10", "2026-12-10"),
        ("hari natal jua", "2026-12-25"),
        ("on Christmas Eve", "2026-12-24"),
        ("Senin terakhir sebelum Natal, tanggal 21.", "2026-12-21"),
        # no day at all
        ("januari", "-"),
        ("2", "-"),
        ("yang ketiga", "-"),
        ("jam 10", "-"),
        ("selamat pagi", "-"),
        ("kapan kantor buka?", "-"),
    ],
)
def test_a_day_in_words_is_the_day_a_helpful_operator_would_understand(
    text: str, iso: str, bundled: FlowLibrary
) -> None:
    assert day(text, bundled) == iso


@pytest.mark.parametrize(
    ("text", "clock", "part"),
    [
        ("jam 11", time(11), ""),
        ("jam 1 siang", time(13), ""),
        ("jm 3 sore", time(15), ""),
        ("jam 2", time(14), ""),  # office time
        ("jam dua siang", time(14), ""),
        ("jam sepuluh", time(10), ""),
        ("10.30", time(10, 30), ""),
        ("14.00 aj ya", time(14), ""),
        ("jam 9 lewat 30", time(9, 30), ""),
        ("setengah 9", time(8, 30), ""),
        ("jam 11an boleh", time(11), ""),
        ("2pm", time(14), ""),
        ("at 10", time(10), ""),
        ("ten am", time(10), ""),
        ("jam 7 pagi", time(7), ""),
        ("jam 12", time(12), ""),
        ("pagi", None, "pagi"),
        ("sore aja", None, "sore"),
        ("sore sa, pagi beta pi kantor", None, "sore"),
        ("morning please", None, "pagi"),
        ("after lunch", None, "siang"),
        ("early afternoon if you can", None, "siang"),
        ("afternoon", None, "sore"),
        ("malam", None, "malam"),
        ("Sore hari, setelah pukul dua.", None, "sore"),
        ("selamat siang kak", None, ""),  # a greeting names no part of the day
    ],
)
def test_a_time_in_words_is_a_clock_time_or_a_part_of_the_day(
    text: str, clock: time | None, part: str, bundled: FlowLibrary
) -> None:
    when = read_when(text, TODAY, bundled.globals.words)
    assert (when.clock, when.part) == (clock, part)


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("secepatnya", "soonest"),
        ("paling cepat", "soonest"),
        ("terserah", "soonest"),
        ("trserah", "soonest"),
        ("kapan saja", "soonest"),
        ("kapan sa bole", "soonest"),
        ("ASAP", "soonest"),
        ("anytime aja, terserah kalian", "soonest"),
        ("ada tanggal lain?", "later"),
        ("tgl lainnya", "later"),
        ("yang lebih lama lagi", "later"),
        ("later dates", "later"),
        ("minggu depan", "later"),
        ("minggu depan aja", "later"),
        ("next week", "later"),
    ],
)
def test_the_earliest_and_later_dates_are_asked_for_without_naming_a_day(
    text: str, meaning: str, bundled: FlowLibrary
) -> None:
    when = read_when(text, TODAY, bundled.globals.words)
    assert when.day is None
    assert {"soonest": when.soonest, "later": when.later}[meaning]


def test_monday_said_on_a_monday_may_be_today_or_next_week(bundled: FlowLibrary) -> None:
    when = read_when("senin", TODAY, bundled.globals.words)
    assert (when.day, when.also) == (date(2026, 12, 14), TODAY)


def test_next_week_without_a_day_is_that_weeks_monday(bundled: FlowLibrary) -> None:
    assert read_when("minggu depan", TODAY, bundled.globals.words).week == date(2026, 12, 14)


def test_a_day_turned_down_is_noted_and_not_taken(bundled: FlowLibrary) -> None:
    when = read_when("jangan senin", TODAY, bundled.globals.words)
    assert (when.day, when.denied) == (None, date(2026, 12, 14))


def test_text_without_days_or_times_says_nothing() -> None:
    assert not read_when("saya mau cerita soal anak saya", TODAY)
    assert read_when("", TODAY) == When()
    assert not read_when("x" * 5000, TODAY)
