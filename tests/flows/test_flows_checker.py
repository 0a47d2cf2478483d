"""The checker: each broken flow is paired with its exact errors (the `# expect:` lines)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from flows import cli
from flows.errors import FlowSetError
from flows.loader import bundled_library_dir, load_library

HERE = Path(__file__).parent
BASIC = HERE / "fixtures" / "basic"
BROKEN = sorted((HERE / "broken").glob("*.toml"))


def _expected(path: Path) -> list[str]:
    prefix = "# expect: "
    return [
        line[len(prefix) :]
        for line in path.read_text("utf-8").splitlines()
        if line.startswith(prefix)
    ]


def _library_with(tmp_path: Path, *extra: Path) -> Path:
    for path in BASIC.glob("*.toml"):
        shutil.copy(path, tmp_path)
    for path in extra:
        shutil.copy(path, tmp_path)
    return tmp_path


def _problems(directory: Path) -> list[str]:
    with pytest.raises(FlowSetError) as raised:
        load_library(directory)
    return [str(p) for p in raised.value.problems]


@pytest.mark.parametrize("broken", BROKEN, ids=lambda p: p.stem)
def test_broken_flow_is_refused_with_its_exact_errors(tmp_path: Path, broken: Path) -> None:
    expected = _expected(broken)
    assert expected, f"{broken.name} has no '# expect:' line"
    assert sorted(_problems(_library_with(tmp_path, broken))) == sorted(expected)


def test_every_problem_of_every_file_is_listed_at_once(tmp_path: Path) -> None:
    chosen = [p for p in BROKEN if p.stem in ("unknown_target", "dead_end", "wrong_types")]
    expected = [line for path in chosen for line in _expected(path)]
    assert sorted(_problems(_library_with(tmp_path, *chosen))) == sorted(expected)


@pytest.mark.parametrize(
    ("old", "new", "problems"),
    [
        ('entry = "welcome"', 'entry = "welcom"', ("globals.toml: entry: unknown flow 'welcom'",)),
        (
            'stuck = "welcome.stuck"',
            'stuck = "welcome.stuk"',
            (
                "globals.toml: stuck: unknown target 'welcome.stuk'",
                "welcome.toml: node 'stuck': unreachable: no path leads here",
                "welcome.toml: node 'handoff': unreachable: no path leads here",
            ),
        ),
        (
            'goto = "welcome.help"',
            'goto = "welcome.hlp"',
            (
                "globals.toml: command 'help' -> goto: unknown target 'welcome.hlp'",
                "welcome.toml: node 'help': unreachable: no path leads here",
            ),
        ),
        (
            'words = { id = ["bantuan"], en = ["help"] }',
            'words = { id = ["bantuan"] }',
            ("globals.toml: command 'help' -> words: missing translation 'en'",),
        ),
        (
            'words = { id = ["bahasa"], en = ["language"] }',
            'words = { id = ["bahasa"], en = ["help"] }',
            ("globals.toml: command 'language': word 'help' is also a word of command 'help'",),
        ),
        ('yes = { id = "Ya", en = "Yes" }\n', "", ("globals.toml: texts: missing text 'yes'",)),
    ],
)
def test_broken_globals_are_refused_with_their_path(
    tmp_path: Path, old: str, new: str, problems: tuple[str, ...]
) -> None:
    _library_with(tmp_path)
    path = tmp_path / "globals.toml"
    source = path.read_text("utf-8")
    assert old in source
    path.write_text(source.replace(old, new), "utf-8")
    assert _problems(tmp_path) == list(problems)


def test_a_directory_without_globals_is_refused(tmp_path: Path) -> None:
    _library_with(tmp_path)
    (tmp_path / "globals.toml").unlink()
    assert "globals.toml: missing: every flow directory needs one" in _problems(tmp_path)


def test_configured_languages_decide_which_translations_are_required(tmp_path: Path) -> None:
    with pytest.raises(FlowSetError) as raised:
        load_library(_library_with(tmp_path), languages=("id", "en", "amb"))
    messages = {str(p) for p in raised.value.problems}
    assert "feedback.toml: name: missing translation 'amb'" in messages
    assert load_library(tmp_path, languages=("id", "en")).languages == ("id", "en")


def test_max_choices_comes_from_configuration(tmp_path: Path) -> None:
    with pytest.raises(FlowSetError) as raised:
        load_library(_library_with(tmp_path), max_choices=2)
    too_many = "3 choices; a channel can show at most 2"
    assert [str(p) for p in raised.value.problems] == [
        f"feedback.toml: node 'ask_rating' -> ask -> choices: {too_many}",
        f"welcome.toml: node 'menu' -> ask -> choices: {too_many}",
    ]


def test_check_command_prints_one_line_when_valid() -> None:
    out = io.StringIO()
    assert cli.check_command(BASIC, ("id", "en"), out) == 0
    assert out.getvalue() == "ok: 6 flows, 34 nodes, 4 commands, languages id, en\n"


def test_check_command_prints_every_problem_when_invalid(tmp_path: Path) -> None:
    chosen = [p for p in BROKEN if p.stem in ("unknown_target", "dead_end")]
    out = io.StringIO()
    assert cli.check_command(_library_with(tmp_path, *chosen), ("id", "en"), out) == 1
    lines = out.getvalue().splitlines()
    assert set(lines[0:4:2]) == {
        "Baris 7: langkah dead_end.hello: jalan buntu: tidak ada ask, call, router,"
        " next, end = true atau tindakan end",
        "Baris 14: pilihan ke-2 pada pertanyaan unknown_target.ask_who: tujuan 'kids' tidak ada",
    }
    assert lines[4] == f"2 masalah di {tmp_path}"
    assert "  Line 14: choice 2 of question unknown_target.ask_who: unknown target 'kids'" in lines
    assert lines[-1] == f"  2 problem(s) in {tmp_path}"


def test_the_bundled_library_loads() -> None:
    library = load_library(bundled_library_dir())
    assert library.globals.entry in library.flow_ids
