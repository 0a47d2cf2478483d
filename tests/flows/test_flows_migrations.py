"""Spec migrations: each registered step has a fixture; newer files are refused."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from flows.loader import load_library
from flows.migrations import CURRENT_SPEC, MIGRATIONS, MigrationError, migrate

HERE = Path(__file__).parent
FIXTURES = HERE / "migrations"
BASIC = HERE / "fixtures" / "basic"


@pytest.mark.parametrize("old", sorted(FIXTURES.glob("v*.toml")), ids=lambda p: p.stem)
def test_migration_fixture_upgrades_to_the_expected_structure(old: Path) -> None:
    data = tomllib.loads(old.read_text(encoding="utf-8"))
    expected = json.loads(old.with_suffix("").with_suffix(".expected.json").read_text("utf-8"))
    assert migrate(data) == expected


def test_every_registered_migration_has_a_fixture() -> None:
    assert sorted(MIGRATIONS) == list(range(CURRENT_SPEC))
    covered = {int(p.stem.split("_")[0][1:]) for p in FIXTURES.glob("v*.toml")}
    assert covered >= set(MIGRATIONS)


def test_migration_does_not_change_its_input() -> None:
    data = tomllib.loads((FIXTURES / "v0_feedback.toml").read_text(encoding="utf-8"))
    before = json.dumps(data, sort_keys=True)
    migrate(data)
    assert json.dumps(data, sort_keys=True) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"id": "x"}, "missing key 'spec_version'"),
        ({"spec_version": "1"}, "must be a whole number >= 0, not '1'"),
        ({"spec_version": True}, "must be a whole number >= 0, not True"),
        ({"spec_version": -1}, "must be a whole number >= 0, not -1"),
        (
            {"spec_version": CURRENT_SPEC + 1},
            f"version {CURRENT_SPEC + 1} is newer than this program understands "
            f"(it reads up to {CURRENT_SPEC}); upgrade the bot before using this file",
        ),
    ],
)
def test_unmigratable_spec_versions_are_refused_with_a_reason(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(MigrationError) as raised:
        migrate(data)
    assert str(raised.value) == message


def test_a_draft_file_loads_in_a_library(tmp_path: Path) -> None:
    for path in BASIC.glob("*.toml"):
        shutil.copy(path, tmp_path)
    shutil.copy(FIXTURES / "v0_feedback.toml", tmp_path / "feedback.toml")
    library = load_library(tmp_path)
    flow = library.flow("feedback")
    assert flow.spec_version == CURRENT_SPEC
    assert flow.node("bye") is not None and flow.node("bye").say[0].get("en") == "Goodbye."  # type: ignore[union-attr]
