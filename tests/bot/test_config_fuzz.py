"""Bad configuration files: random TOML into load_config gives ConfigError, nothing else."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from toml_text import toml_text

from bot.config import ConfigError, load_config

EXAMPLE = tomllib.loads((Path(__file__).parents[2] / "config.example.toml").read_text("utf-8"))
SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.text(max_size=16),
    st.sampled_from(["", "polling", "webhook", "09:00", "Asia/Jayapura", "../..", "\x00"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_config(path, env={})
        except ConfigError as exc:
            assert str(exc), "a ConfigError that says nothing"


@st.composite
def mutated_example(draw: st.DrawFn) -> str:
    """config.example.toml with a few settings removed or given random values."""
    data: dict[str, Any] = tomllib.loads(toml_text(EXAMPLE))
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from(sorted(data)))
        table = data[section]
        if isinstance(table, dict) and table and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(table)))
            table[key] = draw(VALUES)
        else:
            data[section] = draw(VALUES)
    return toml_text(data)


@SETTINGS
@given(text=mutated_example())
def test_a_mutated_example_configuration_loads_or_gives_a_config_error(text: str) -> None:
    _load(text)


@SETTINGS
@example(text="[web]\nport = 99999999999999999999")
@example(text="[office]\ntimezone = '\x00'")
@given(
    text=st.one_of(
        st.text(max_size=200), st.dictionaries(st.text(max_size=10), VALUES).map(toml_text)
    )
)
def test_a_random_configuration_file_gives_only_a_config_error(text: str) -> None:
    _load(text)
