"""Every refusal a counsellor or an admin meets is in their language: the console page's
(Indonesian or English), and Indonesian then English on the `lk3` command line.

The errors carry a text key of bot/console/texts.toml (`bot.errors.OfficeError`, or a
storage refusal's `code`); their English developer message never reaches a person.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
import pytest
from console_support import add_staff, client, csrf_of, login, post
from support import Clock

from bot.booking import BookingError
from bot.cli import main
from bot.console.core import Console
from bot.console.i18n import ConsoleTexts
from bot.console.say import said, terminal_lines
from bot.errors import words_of
from storage.errors import InvalidRecordError, NotFoundError, StorageError

ROOT = Path(__file__).resolve().parents[2]
OFFICE_ERRORS = ("OfficeError", "BookingError", "RosterInputError", "PasswordError")


def _raised_keys() -> list[tuple[str, str]]:
    """(module, key) of every office refusal raised in bot/ and every storage `code=`."""
    found: list[tuple[str, str]] = []
    for package in ("bot", "storage"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                where = str(path.relative_to(ROOT))
                key = node.args[1] if name in OFFICE_ERRORS and len(node.args) >= 2 else None
                if isinstance(key, ast.Constant):  # else passed on from words_of
                    found.append((where, str(key.value)))
                for keyword in node.keywords:
                    if package == "storage" and keyword.arg == "code" and name.endswith("Error"):
                        assert isinstance(keyword.value, ast.Constant), where
                        found.append((where, f"problem_{keyword.value.value}"))
    return found


def test_every_refusal_raised_has_words_in_both_languages() -> None:
    texts = ConsoleTexts.load()
    raised = _raised_keys()
    assert len(raised) >= 30, "the scan reads the real raise sites"
    missing = [f"{where}: {key}" for where, key in raised if key not in texts.table]
    assert missing == []


def test_the_office_errors_all_carry_a_key() -> None:
    """An office refusal built without a key would reach a page in English: none is."""
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in OFFICE_ERRORS:
                    assert len(node.args) >= 2, f"{path.relative_to(ROOT)}:{node.lineno}"


@pytest.mark.parametrize(
    ("refusal", "indonesian", "english"),
    [
        (
            BookingError("--from '25:00' is not a time of day", "problem_start_time", text="25:00"),
            "jam mulai '25:00' tidak bisa dibaca",
            "the start time '25:00' is not a time of day",
        ),
        (
            InvalidRecordError(
                "x", code="hours_overlap", values={"start": "09:00", "end": "12:00"}
            ),
            "bertumpuk dengan jam yang sudah ada pada hari itu (09:00–12:00)",
            "overlap hours already set that day (09:00–12:00)",
        ),
        (NotFoundError("no staff member with id 9"), "Tidak ditemukan.", "Not found."),
        (StorageError("disk I/O error in staff.add"), "ada gangguan di server", "went wrong"),
    ],
)
def test_a_refusal_is_worded_for_people_never_with_its_developer_message(
    refusal: Exception, indonesian: str, english: str
) -> None:
    assert indonesian in said(refusal, "id")
    assert english in said(refusal, "en")
    assert "staff.add" not in said(refusal, "id") + said(refusal, "en")
    lines = terminal_lines(refusal).splitlines()
    assert lines[0].startswith("lk3: ") and indonesian in lines[0]
    assert english in lines[1]


def test_words_of_a_booking_error_are_its_key_and_values() -> None:
    refusal = BookingError("dev", "problem_date", text="24-12-2099")
    assert words_of(refusal) == ("problem_date", {"text": "24-12-2099"})
    assert str(refusal) == "dev"


async def test_hours_refused_on_the_page_say_why_in_the_admins_language(
    console: Console, clock: Clock
) -> None:
    sari, _ = await add_staff(console, "sari", ("counsellor",))
    _, secret = await add_staff(console, "susi", ("supervisor",))
    page = "/console/availability"
    async with client(console) as http:
        await login(http, "susi", secret, clock)

        async def add(fields: dict[str, str]) -> httpx.Response:
            token = csrf_of((await http.get(page)).text)
            form = {"staff_id": str(sari), "weekday": "1", "mode": "kantor", **fields}
            return await http.post("/console/availability/hours", data={"csrf": token, **form})

        late = await add({"start": "25:00", "end": "26:00"})
        assert late.status_code == 400
        assert "jam mulai &#39;25:00&#39; tidak bisa dibaca" in late.text
        assert "is not a time of day" not in late.text
        backwards = await add({"start": "12:00", "end": "09:00"})
        assert "jam selesai (09:00) harus lebih lambat daripada jam mulai (12:00)" in backwards.text
        await post(http, "/console/lang", {"lang": "en", "back": page}, page)
        english = await add({"start": "25:00", "end": "26:00"})
        assert "the start time &#39;25:00&#39; is not a time of day" in english.text
        roster = await http.post(
            "/console/availability/roster",
            data={
                "csrf": csrf_of((await http.get(page)).text),
                "staff_id": str(sari),
                "weekday": "0",
                "start": "08:00",
                "end": "08:00",
            },
        )
        assert "an on-call shift cannot start and end at the same time" in roster.text


async def test_a_taken_username_is_refused_in_indonesian(console: Console, clock: Clock) -> None:
    _, secret = await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await login(http, "ana", secret, clock)
        form = {"display_name": "Ana", "role": "counsellor", "password": "x" * 12}
        taken = await post(http, "/console/users", {"username": "ana", **form}, "/console/users")
    assert taken.status_code == 400
    assert "nama pengguna &#39;ana&#39; sudah dipakai. Pilih nama lain." in taken.text
    assert "already exists" not in taken.text


def test_the_hours_command_answers_in_indonesian_then_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('data_dir = "data"\n', "utf-8")
    args = ("--config", str(config))
    assert main(["staff", "add", "sari", "--name", "Sari", "--role", "counsellor", *args]) == 0
    capsys.readouterr()
    hours = ["booking", "hours", "sari", "--day", "senin", "--from", "25:00", "--to", "12:00"]
    assert main([*hours, *args]) == 1
    first, second = capsys.readouterr().err.splitlines()[-2:]
    assert first == (
        "lk3: jam mulai '25:00' tidak bisa dibaca. Tulis jam antara 00:00 dan 24:00,"
        " misalnya 09:00."
    )
    assert second.strip().startswith("the start time '25:00' is not a time of day")
    assert main(["roster", "add", "sari", "--day", "senin", "--from", "8", "--to", "9", *args]) == 1
    assert "jam mulai '8' tidak bisa dibaca" in capsys.readouterr().err


def test_every_flow_error_code_the_test_chat_can_show_has_words() -> None:
    texts = ConsoleTexts.load()
    found = re.compile(r'(?:error\(|FlowError\()\s*"([a-z_]+)"', re.S)
    codes = {
        code
        for package in ("flows", "bot")
        for path in (ROOT / package).rglob("*.py")
        for code in found.findall(path.read_text(encoding="utf-8"))
    }
    assert {"dead_end", "step_limit", "version_missing", "bad_category"} <= codes
    assert sorted(c for c in codes if f"flow_error_{c}" not in texts.table) == []


def test_every_finding_of_the_audit_check_has_words() -> None:
    texts = ConsoleTexts.load()
    source = (ROOT / "storage" / "privacy" / "audit.py").read_text(encoding="utf-8")
    codes: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "AuditProblem":
            code = node.args[2] if len(node.args) >= 3 else None
            choices = [code.body, code.orelse] if isinstance(code, ast.IfExp) else [code]
            codes.update(str(c.value) for c in choices if isinstance(c, ast.Constant))
    assert len(codes) == 7
    assert sorted(c for c in codes if f"audit_problem_{c}" not in texts.table) == []
