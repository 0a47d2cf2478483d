"""Lexicon and rules are admin-editable data: validated with errors that point at the spot."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from bot.safety import Classifier, Level, SafetyDataError

MINIMAL_LEXICON = """
spec_version = 1
[replace]
gw = "saya"
[lists]
self = ["saya", "aku"]
die = ["mati", "bunuh diri"]
want = ["mau", "ingin"]
both = ["@self", "@die"]
clock = ["#num", "berapa"]
[[neutralise]]
id = "mati.lampu"
words = ["mati"]
followed_by = ["lampu"]
"""

MINIMAL_RULES = """
spec_version = 1
[[rule]]
id = "suicide.intent"
level = "urgent"
patterns = ["@want _2 @die", "=akhiri+hidup|bundir"]
[[rule.unless]]
patterns = ["tidak @want _1 @die"]
demote_to = "suicide.mention"
[[rule]]
id = "suicide.mention"
level = "check"
patterns = ["@die"]
"""


def _write(directory: Path, lexicon: str, rules: str) -> Path:
    (directory / "lexicon.toml").write_text(lexicon, encoding="utf-8")
    (directory / "rules.toml").write_text(rules, encoding="utf-8")
    return directory


def test_the_bundled_data_is_valid() -> None:
    classifier = Classifier.bundled()
    assert "suicide.intent" in classifier.rule_ids
    assert Classifier.bundled() is classifier


@pytest.mark.parametrize(
    ("text", "level", "reasons"),
    [
        ("gw mau mati", Level.URGENT, ("suicide.intent", "suicide.mention")),
        ("aku ingin bunuh diri", Level.URGENT, ("suicide.intent", "suicide.mention")),
        ("tidak mau mati", Level.CHECK, ("suicide.mention",)),
        ("mau mati lampu", Level.NONE, ()),
        ("akhiri hidup", Level.URGENT, ("suicide.intent",)),
    ],
)
def test_a_small_data_set_behaves_as_written(
    tmp_path: Path, text: str, level: Level, reasons: tuple[str, ...]
) -> None:
    classifier = Classifier.from_dir(_write(tmp_path, MINIMAL_LEXICON, MINIMAL_RULES))
    result = classifier.classify(text)
    assert result.level is level
    assert set(result.reasons) == set(reasons)


def test_an_admin_can_add_a_word_without_code(tmp_path: Path) -> None:
    bundled = files("bot.safety")
    lexicon = bundled.joinpath("lexicon.toml").read_text(encoding="utf-8")
    rules = bundled.joinpath("rules.toml").read_text(encoding="utf-8")
    message = "beta mau kaputu"
    assert Classifier.from_dir(_write(tmp_path, lexicon, rules)).classify(message).level is (
        Level.NONE
    )
    extended = lexicon.replace('die = ["mati",', 'die = ["kaputu", "mati",')
    assert extended != lexicon
    result = Classifier.from_dir(_write(tmp_path, extended, rules)).classify(message)
    assert result.level is Level.URGENT


RULE_ERRORS = [
    ('[[rule]]\nid = "violence.ongoing"\nlevel = "urgent"\npatterns = ["x", "y", "@pelaku _2 x"]',
     "rules.toml: rule 'violence.ongoing' -> patterns[2]: unknown word list 'pelaku'"),
    ('[[rule]]\nid = "a"\nlevel = "high"\npatterns = ["x"]',
     "rules.toml: rule 'a' -> level: must be 'urgent' or 'check', found 'high'"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npatterns = ["_2 mati"]',
     "rules.toml: rule 'a' -> patterns[0]: gap '_2' must stand between two words"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npatterns = ["mau _2"]',
     "rules.toml: rule 'a' -> patterns[0]: a pattern cannot end with a gap"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npatterns = ["mau _40 mati"]',
     "rules.toml: rule 'a' -> patterns[0]: gap '_40' must be from _1 to _12"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npatterns = ["mau||mati"]',
     "rules.toml: rule 'a' -> patterns[0]: '' is not a valid entry (words of lowercase "
     "letters, '=' before a word for its exact spelling, spaces between the words of a "
     "phrase, '@name' for another list)"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npatterns = []',
     "rules.toml: rule 'a' -> patterns: needs at least one pattern"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npaterns = ["x"]',
     "rules.toml: rule 'a': unknown key 'paterns' (expected one of: framed, id, level, note, "
     "patterns, unless)"),
    ('[[rule]]\nid = "A b"\nlevel = "check"\npatterns = ["x"]',
     "rules.toml: rule[0]: needs an 'id' of lowercase words joined by dots, like "
     "'suicide.intent'"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npatterns = ["x"]\n'
     '[[rule]]\nid = "a"\nlevel = "check"\npatterns = ["y"]',
     "rules.toml: rule 'a': the id is used twice"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npatterns = ["x"]\n'
     '[[rule.unless]]\npatterns = ["y"]\ndemote_to = "b"',
     "rules.toml: rule 'a' -> unless[0] -> demote_to: unknown rule 'b'"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npatterns = ["x"]\n'
     '[[rule.unless]]\npatterns = ["y"]\ndemote_to = "b"\n'
     '[[rule]]\nid = "b"\nlevel = "urgent"\npatterns = ["z"]',
     "rules.toml: rule 'a' -> unless[0] -> demote_to: rule 'b' is more serious than 'a'"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npatterns = ["x"]\n'
     '[[rule.unless]]\nbut_not_if = ["y"]',
     "rules.toml: rule 'a' -> unless[0] -> patterns: must be a list of strings"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npatterns = ["x", 3]',
     "rules.toml: rule 'a' -> patterns[1]: must be a non-empty string"),
    ("rule = 3", "rules.toml: rule: needs at least one [[rule]] table"),
    ('[[rule]]\nid = "a"\nlevel = "urgent"\nframed = "sometimes"\npatterns = ["x"]',
     "rules.toml: rule 'a' -> framed: must be 'none', 'check', 'reported' or 'never', "
     "found 'sometimes'"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npatterns = ["x"]\n'
     '[[frame]]\nid = "story"\npatterns = ["y"]\nlowers_to = "check"\nmodel_at_most = "none"',
     "rules.toml: frame 'story' -> model_at_most: must be 'check' or 'urgent', found 'none'"),
    ('[[rule]]\nid = "a"\nlevel = "check"\npatterns = ["x"]\n'
     '[[frame]]\nid = "story"\npatterns = ["y"]\nlowers_to = "check"\nreported = "yes"',
     "rules.toml: frame 'story' -> reported: must be true or false"),
    ("[[rule]]\nid = 'a'\nlevel = [", None),
]


@pytest.mark.parametrize(("body", "error"), RULE_ERRORS)
def test_broken_rules_are_refused_with_their_path(
    tmp_path: Path, body: str, error: str | None
) -> None:
    _write(tmp_path, MINIMAL_LEXICON, "spec_version = 1\n" + body)
    with pytest.raises(SafetyDataError) as caught:
        Classifier.from_dir(tmp_path)
    expected = error or f"{tmp_path / 'rules.toml'}: invalid TOML: "
    message = str(caught.value).replace(f"{tmp_path}/", "")
    if error is None:
        assert str(caught.value).startswith(expected)
    else:
        assert message == expected


LEXICON_ERRORS = [
    ('[lists]\nself = ["saya"]\nboth = ["@self", "@pelaku"]',
     "lexicon.toml: lists -> 'both'[1]: unknown word list 'pelaku'"),
    ('[lists]\na = ["@b"]\nb = ["@a"]',
     "lexicon.toml: lists -> 'b'[0]: list 'a' includes itself"),
    ('[lists]\na = ["Mati!"]',
     "lexicon.toml: lists -> 'a'[0]: 'Mati!' is not a valid entry (words of lowercase "
     "letters, '=' before a word for its exact spelling, spaces between the words of a "
     "phrase, '@name' for another list)"),
    ('[lists]\na = ["x", ""]', "lexicon.toml: lists -> 'a'[1]: must be a non-empty string"),
    ('[replace]\n"g w" = "saya"\n[lists]\na = ["x"]',
     "lexicon.toml: replace -> 'g w': the key must be one plain lowercase word"),
    ('[replace]\ngw = "Saya!"\n[lists]\na = ["x"]',
     "lexicon.toml: replace -> 'gw': the replacement must be lowercase words separated by "
     "single spaces"),
    ('[lists]\na = ["x"]\n[[neutralise]]\nid = "n"\nwords = ["x"]',
     "lexicon.toml: neutralise 'n': needs 'preceded_by' or 'followed_by'"),
    ('[lists]\na = ["x"]\n[[neutralise]]\nid = "n"\nwords = ["x"]\nfollowed_by = ["@zz"]',
     "lexicon.toml: neutralise 'n' -> followed_by[0]: unknown word list 'zz'"),
    ('[lists]\na = ["x"]\n[[neutralise]]\nid = "n"\nwords = ["x"]\nfollowed_by = ["y"]\n'
     "after = 0",
     "lexicon.toml: neutralise 'n' -> after: must be a whole number from 1 to 12"),
    ('passive_markers = ["da pa"]\n[lists]\na = ["x"]',
     "lexicon.toml: passive_markers[0]: 'da pa' must be one plain word"),
    ("[lists]", "lexicon.toml: lists: must be a non-empty table of name = [entries]"),
    ('[list]\na = ["x"]',
     "lexicon.toml: unknown key 'list' (expected one of: lists, neutralise, passive_markers, "
     "replace, spec_version)"),
]


@pytest.mark.parametrize(("body", "error"), LEXICON_ERRORS)
def test_a_broken_lexicon_is_refused_with_its_path(tmp_path: Path, body: str, error: str) -> None:
    _write(tmp_path, "spec_version = 1\n" + body, MINIMAL_RULES)
    with pytest.raises(SafetyDataError) as caught:
        Classifier.from_dir(tmp_path)
    assert str(caught.value).replace(f"{tmp_path}/", "") == error


def test_an_unknown_spec_version_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, MINIMAL_LEXICON.replace("spec_version = 1", "spec_version = 2"),
           MINIMAL_RULES)
    with pytest.raises(SafetyDataError, match=r"lexicon.toml: spec_version: must be 1, found 2"):
        Classifier.from_dir(tmp_path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "lexicon.toml").write_text(MINIMAL_LEXICON, encoding="utf-8")
    with pytest.raises(SafetyDataError) as caught:
        Classifier.from_dir(tmp_path)
    assert str(caught.value) == f"{tmp_path / 'rules.toml'}: cannot be read (FileNotFoundError)"
