"""The README's examples work as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from flows.loader import bundled_library_dir, load_library

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_flow_example_passes_the_checker_beside_the_bundled_flows(
    tmp_path: Path,
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has no flow example"
    for path in bundled_library_dir().glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "callback.toml").write_text(blocks[0], encoding="utf-8")
    library = load_library(tmp_path)
    assert "callback" in library.flow_ids


def test_the_readme_names_both_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
