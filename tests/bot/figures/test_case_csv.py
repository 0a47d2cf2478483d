"""The month's cases as CSV without identities: the pure writer, the formula guard, and
`lk3 figures cases --month` on a real data folder."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import open_keyring
from bot.cli import main
from bot.config import load_config
from bot.figures.casecsv import COLUMNS, case_csv, guarded
from bot.figures.months import month_of, month_window
from storage.figures.caserows import CaseRow
from storage.records import CaseOpen, NewInbound, TurnWrite
from storage.store import Store

WIT = ZoneInfo("Asia/Jayapura")


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+62812", "'+62812"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("kdrt", "kdrt"),
        ("", ""),
    ],
)
def test_a_cell_a_sheet_would_run_is_prefixed(cell: str, shown: str) -> None:
    assert guarded(cell) == shown


def test_one_row_a_case_with_times_in_office_time_and_referrals_joined() -> None:
    row = CaseRow(
        code="K7F3Q2",
        office="utama",
        category="=cmd",
        urgency="darurat",
        opened_at=datetime(2026, 11, 3, 1, 0, tzinfo=UTC),
        first_reply_at=datetime(2026, 11, 3, 1, 4, tzinfo=UTC),
        closed_at=None,
        outcome=None,
        referrals=("uptd_ppa", "polisi"),
    )
    rows = list(csv.reader(io.StringIO(case_csv([row], WIT))))
    assert rows[0] == list(COLUMNS)
    assert rows[1] == [
        "K7F3Q2",
        "utama",
        "'=cmd",
        "darurat",
        "2026-11-03T10:00:00+09:00",
        "2026-11-03T10:04:00+09:00",
        "",
        "",
        "uptd_ppa;polisi",
    ]


@pytest.mark.parametrize("raw", ["2026-13", "26-11", "2026-1-1", "2026-١١", "", "２０２６-11"])
def test_a_month_is_yyyy_mm_only(raw: str) -> None:
    assert month_of(raw) is None


def test_a_month_runs_from_midnight_office_time() -> None:
    since, until = month_window(2026, 12, WIT)
    assert since == datetime(2026, 12, 1, tzinfo=WIT) and until == datetime(2027, 1, 1, tzinfo=WIT)


async def _families(config_path: Path) -> str:
    config = load_config(config_path)
    store = await Store.open(
        config.database_path, open_keyring(config), keytree=config.keytree_path
    )
    try:
        when = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
        contact, inbox_id = await store.turns.receive(
            "telegram", "6281299", NewInbound("telegram", "m1", "text", "suami memukul", when)
        )
        assert inbox_id is not None
        await store.turns.commit_turn(
            TurnWrite(inbox_id, contact.id, "{}", (), when, cases=(CaseOpen("kdrt", "segera"),))
        )
        case = await store.cases.open_for(contact.id)
        assert case is not None
        return case.code
    finally:
        await store.close()


def test_lk3_figures_cases_prints_the_months_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('data_dir = "data"\n', encoding="utf-8")
    (tmp_path / "data").mkdir(mode=0o700)
    code = asyncio.run(_families(config))
    assert main(["figures", "cases", "--month", "2026-11", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1][:5] == [code, "utama", "kdrt", "segera", "2026-11-03T10:00:00+09:00"]
    assert "6281299" not in out and "memukul" not in out
    assert main(["figures", "cases", "--month", "2026-10", "--config", str(config)]) == 0
    assert capsys.readouterr().out.strip() == ",".join(COLUMNS)
    assert main(["figures", "cases", "--month", "11-2026", "--config", str(config)]) == 2
