"""Flow problems in an admin's words: the line of the file, places counted from 1, and the
message in Indonesian (then English), never the checker's zero-based `choice[4]`."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from flows.errors import FlowSetError, Problem
from flows.loader import bundled_library_dir, load_library
from flows.positions import key_lines
from flows.problem_words import ProblemWords, describe

ROOT = Path(__file__).resolve().parents[2]
WORDS = ProblemWords.load()


def _sample(node: ast.expr) -> str | None:
    """A message literal with each `{…}` filled by "1", as the checker could write it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "1" for v in node.values)
    return None


def _messages() -> list[tuple[str, str]]:
    """(where, message) of every problem message the flows package can write."""
    found = []
    for path in sorted((ROOT / "flows").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("problem", "add", "Problem", "TemplateSyntaxError", "MigrationError"):
                sample = _sample(node.args[-1] if name != "MigrationError" else node.args[0])
                if sample is not None:
                    found.append((f"{path.name}:{node.lineno}", sample))
    return found


def test_every_message_the_checker_writes_has_indonesian_words() -> None:
    messages = _messages()
    assert len(messages) > 70, "the scan reads the real checker"
    assert [f"{where}: {said}" for where, said in messages if not WORDS.covers(said)] == []


def test_the_reasons_a_router_test_gives_have_indonesian_words() -> None:
    source = (ROOT / "flows" / "router_tests.py").read_text(encoding="utf-8")
    reasons = [
        node.value.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Return)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]
    assert reasons and [r for r in reasons if r not in WORDS.values] == []


@pytest.mark.parametrize(
    ("source", "path", "line"),
    [
        ('a = 1\n# c = "#"\nb = "x # not a comment"\nc = 3\n', ("c",), 4),
        ('s = """\nline\n"""\n[t]\nk = 1\n', ("t", "k"), 5),
        (
            "[[nodes]]\nid = 'a'\n[[nodes]]\nid = 'b'\n  [nodes.ask]\n  type = 'x'\n",
            ("nodes", 1, "ask", "type"),
            6,
        ),
        ("[[n]]\n[[n.c]]\nv = 1\n[[n]]\n[[n.c]]\n[[n.c]]\nv = 2\n", ("n", 1, "c", 1, "v"), 7),
        (
            "x.y = [\n  { a = 1 },\n  { a = 2, b = [\n 'q',\n 'r' ] },\n]\n",
            ("x", "y", 1, "b", 1),
            5,
        ),
        ("t.id = 'a'\nt.en = 'b'\n", ("t", "en"), 2),
    ],
)
def test_the_scanner_finds_the_line_of_each_key(
    source: str, path: tuple[str | int, ...], line: int
) -> None:
    assert key_lines(source)[path] == line


def _broken_triage(tmp_path: Path) -> tuple[Path, str]:
    """The bundled library with triage.toml's fifth category choice missing its English label
    and carrying a misspelt key: the file an admin might really upload."""
    for path in bundled_library_dir().glob("*.toml"):
        shutil.copy(path, tmp_path)
    triage = tmp_path / "triage.toml"
    source = triage.read_text(encoding="utf-8")
    broken = source.replace('    label.en = "Money troubles"\n', '    lable = "Uang"\n', 1)
    assert broken != source
    triage.write_text(broken, encoding="utf-8")
    return triage, broken


def test_a_real_malformed_flow_names_the_line_and_counts_from_one(tmp_path: Path) -> None:
    triage, source = _broken_triage(tmp_path)
    lines = source.splitlines()
    label_line = lines.index('    label.id = "Kesulitan ekonomi"') + 1
    typo_line = lines.index('    lable = "Uang"') + 1
    with pytest.raises(FlowSetError) as raised:
        load_library(tmp_path)
    said = sorted(describe(p, "id") for p in raised.value.problems)
    assert said == [
        f"Baris {label_line}: pilihan ke-5 pada pertanyaan triage.category, kunci label:"
        " terjemahan 'en' belum ada",
        f"Baris {typo_line}: pilihan ke-5 pada pertanyaan triage.category:"
        " kunci 'lable' tidak dikenal",
    ]
    english = sorted(describe(p, "en") for p in raised.value.problems)
    assert english[0] == (
        f"Line {label_line}: choice 5 of question triage.category, key label:"
        " missing translation 'en'"
    )
    assert all("choice[" not in line for line in said + english)


def test_a_problem_without_a_place_names_its_file() -> None:
    problem = Problem("welcome.toml", (), "missing key 'start'")
    assert describe(problem, "id") == "Berkas welcome.toml: kunci 'start' belum ada"
    assert describe(problem, "en") == "File welcome.toml: missing key 'start'"


def test_a_message_naming_another_choice_counts_it_from_one_too() -> None:
    problem = Problem("x.toml", ("node 'pick'", "choice[2]"), "'kantor' also means choice[0]", 9)
    assert describe(problem, "id") == (
        "Baris 9: pilihan ke-3 pada pertanyaan x.pick: 'kantor' juga berarti pilihan ke-1"
    )


def test_a_message_with_no_words_here_is_shown_as_the_checker_wrote_it() -> None:
    problem = Problem("x.toml", ("id",), "something new", 2)
    assert describe(problem, "id") == "Baris 2 di x.toml: kunci id: something new"
