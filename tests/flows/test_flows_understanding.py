"""Validators, yes/no words, commands and router tests, as tables."""

from __future__ import annotations

from datetime import datetime

import pytest

from flows.matching import match_command, match_yes_no, normalize
from flows.model import Command
from flows.router_tests import TESTS
from flows.validators import parse_date, parse_number, parse_phone

NOW = datetime.fromisoformat("2025-12-12T09:00:00+09:00")


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("3", 3),
        (" 42 ", 42),
        ("12 tahun", 12),
        ("1.000", 1000),
        ("1,500,000", 1500000),
        ("-2", -2),
        ("tiga", None),
        ("1,5", None),
        ("12 tahun lalu", None),
        ("", None),
        ("3a", None),
    ],
)
def test_number_validator(text: str, number: int | None) -> None:
    assert parse_number(text, NOW) == number


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("12/12/2025", "2025-12-12"),
        ("1-2-2024", "2024-02-01"),
        ("05.06.25", "2025-06-05"),
        ("2025-12-01", "2025-12-01"),
        ("12 Desember 2025", "2025-12-12"),
        ("12 des 2025", "2025-12-12"),
        ("3 Agustus", "2025-08-03"),
        ("17 Agustus 1945", "1945-08-17"),
        ("December 24, 2025", "2025-12-24"),
        ("hari ini", "2025-12-12"),
        ("Besok", "2025-12-13"),
        ("kemarin", "2025-12-11"),
        ("31/02/2025", None),
        ("12 Desemb 2025", None),
        ("minggu depan", None),
        ("13/13/2025", None),
    ],
)
def test_date_validator(text: str, iso: str | None) -> None:
    assert parse_date(text, NOW) == iso


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("081234567890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("(0911) 312345", "+62911312345"),
        ("0812.3456.789", "+628123456789"),
        ("12345", None),
        ("0812", None),
        ("+1 202 555 0100", None),
        ("08123456789012345", None),
        ("nomor saya 0812345678", None),
        ("00812345678", None),
    ],
)
def test_phone_validator(text: str, phone: str | None) -> None:
    assert parse_phone(text, NOW) == phone


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("ya", True),
        ("Iya!", True),
        ("y", True),
        ("betul", True),
        ("boleh", True),
        ("setuju", True),
        ("ya, boleh", True),
        ("iyo", True),
        ("yes please", True),
        ("tidak", False),
        ("tdk", False),
        ("gak", False),
        ("nggak", False),
        ("enggak", False),
        ("bukan", False),
        ("belum", False),
        ("jangan", False),
        ("tidak mau", False),
        ("ga usah", False),
        ("tidak, terima kasih", False),
        ("seng", False),
        ("no", False),
        ("ya tidak", None),
        ("mungkin", None),
        ("", None),
        ("mau tidak", None),
    ],
)
def test_yes_no_words(text: str, meant: bool | None) -> None:
    assert match_yes_no(text) is meant


COMMANDS = (
    Command(
        "menu", (("id", ("menu", "menu utama")), ("en", ("menu", "main menu"))), "welcome.menu"
    ),
    Command("stop", (("id", ("berhenti",)), ("en", ("stop",))), "welcome.stop"),
)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("menu", "menu"),
        ("MENU UTAMA", "menu"),
        ("/menu", "menu"),
        ("/menu@lk3bot", "menu"),
        ("  berhenti!! ", "stop"),
        ("Stop.", "stop"),
        ("main   menu", "menu"),
        ("kembali ke menu", None),
        ("jangan berhenti", None),
        ("", None),
        ("/", None),
    ],
)
def test_commands_match_only_a_whole_message(text: str, command: str | None) -> None:
    found = match_command(text, COMMANDS)
    assert (found.id if found else None) == command


@pytest.mark.parametrize(
    ("test", "value", "arg", "matches"),
    [
        ("equals", "yes", "yes", True),
        ("equals", "YES ", "yes", True),
        ("equals", 2, 2, True),
        ("equals", "2", 2, True),
        ("equals", None, "yes", False),
        ("equals", True, True, True),
        ("one_of", "b", ("a", "b"), True),
        ("one_of", "c", ("a", "b"), False),
        ("at_least", 6, 6, True),
        ("at_least", 5, 6, False),
        ("at_least", "7", 6, True),
        ("at_least", "tujuh", 6, False),
        ("at_least", None, 0, False),
        ("at_least", True, 1, False),
        ("at_most", 17, 17, True),
        ("at_most", 18, 17, False),
        ("has_text", "x", None, True),
        ("has_text", "  ", None, False),
        ("has_text", 3, None, False),
        ("has_keyword", "Saya dipukul, tolong!", ("dipukul",), True),
        ("has_keyword", "memukul", ("pukul",), False),
        ("has_keyword", "dia main tangan lagi", ("main tangan",), True),
        ("has_keyword", None, ("x",), False),
    ],
)
def test_router_tests(
    test: str, value: str | int | bool | None, arg: object, matches: bool
) -> None:
    assert TESTS[test].evaluate(value, arg) is matches  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("test", "arg", "problem"),
    [
        ("equals", None, "needs one value (text, number or true/false) as arg"),
        ("one_of", (), "needs a non-empty array as arg"),
        ("at_least", "6", "needs a whole number as arg"),
        ("has_text", "x", "takes no arg"),
        ("has_keyword", (1,), "needs a non-empty array of words as arg"),
        ("at_most", 3, None),
    ],
)
def test_router_test_arguments_are_checked(test: str, arg: object, problem: str | None) -> None:
    assert TESTS[test].check_arg(arg) == problem  # type: ignore[arg-type]


def test_normalize_folds_case_punctuation_and_spaces() -> None:
    assert normalize("  Menu—UTAMA!!  ") == "menu utama"
