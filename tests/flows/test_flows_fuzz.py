"""Bad flow files: random TOML and mutated bundled flows give FlowSetError, nothing else.

An author's mistake must come back as a list of problems, each naming its file,
never as a traceback from deep inside the loader. (The engine's own properties,
any input on any reachable state, are in test_flows_properties.py.)
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from toml_text import toml_text

from flows.errors import FlowSetError
from flows.loader import bundled_library_dir, load_library

BUNDLED = {
    p.name: tomllib.loads(p.read_text("utf-8")) for p in bundled_library_dir().glob("*.toml")
}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["", "{{", "{{ nope }}", "start", "id", "en", "welcome", "crisis"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _load(files: dict[str, str]) -> None:
    """Loads a flow directory made of these files; only FlowSetError may come out."""
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            (Path(folder) / name).write_text(text, encoding="utf-8")
        try:
            load_library(Path(folder))
        except FlowSetError as exc:
            assert exc.problems, "a FlowSetError without problems"
            assert all(p.file for p in exc.problems), "a problem that names no file"


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated_library(draw: st.DrawFn) -> dict[str, str]:
    """The bundled flows with a few values removed or replaced by random ones."""
    files = {name: tomllib.loads(toml_text(data)) for name, data in BUNDLED.items()}
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(files)))
        paths = _paths(files[name])
        path = draw(st.sampled_from(paths))
        parent: Any = files[name]
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(VALUES)
    return {name: toml_text(data) for name, data in files.items()}


@SETTINGS
@given(files=mutated_library())
def test_a_mutated_bundled_library_loads_or_gives_flow_set_errors_with_files(
    files: dict[str, str],
) -> None:
    _load(files)


@SETTINGS
@example(text="spec_version = 1\nid = 'x'\nnodes = 3")
@example(text="\x00")
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.dictionaries(st.sampled_from(["spec_version", "id", "nodes", "start"]), VALUES).map(
            toml_text
        ),
    )
)
def test_a_random_flow_file_beside_the_bundled_ones_gives_only_flow_set_errors(text: str) -> None:
    files = {name: toml_text(data) for name, data in BUNDLED.items()}
    _load({**files, "random.toml": text})


def test_the_bundled_library_round_trips_through_the_toml_writer() -> None:
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(bundled_library_dir(), folder, dirs_exist_ok=True)
        for name, data in BUNDLED.items():
            (Path(folder) / name).write_text(toml_text(data), encoding="utf-8")
        assert load_library(Path(folder)).flow_ids == load_library(bundled_library_dir()).flow_ids
