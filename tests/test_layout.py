"""The dependency rules of DESIGN.md, read from the imports of every module.

`bot` uses `flows` and `storage`; `flows` uses neither (it is pure); `storage`
knows nothing of flows or the bot; inside `bot`, feature packages register with
`core` and `channels`, never the other way; only `channels` imports a transport
SDK; nothing outside `storage` opens a database. Constants that must agree
across layers are held equal here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ("handoff", "booking", "privacy", "flowhost", "console", "safety")
SDKS = ("telegram", "twilio")


def modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(p for p in parts if p != "__init__"), path


def imports(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{name} imports {target}"
        for name, path in modules(package)
        for target in imports(path)
        if any(target == f or target.startswith(f + ".") for f in forbidden)
    )


def test_flows_is_pure_it_imports_neither_bot_nor_storage() -> None:
    assert offending("flows", ("bot", "storage")) == []


def test_storage_knows_nothing_of_flows_or_the_bot() -> None:
    assert offending("storage", ("bot", "flows")) == []


@pytest.mark.parametrize("package", ["bot/core", "bot/channels"])
def test_core_and_channels_import_no_feature_package(package: str) -> None:
    assert offending(package, tuple(f"bot.{f}" for f in FEATURES if f != "safety")) == []


def test_the_pipeline_names_no_feature_it_only_runs_the_registered_handlers() -> None:
    features = tuple(f"bot.{f}" for f in FEATURES if f != "safety")
    named = [t for t in imports(ROOT / "bot" / "core" / "pipeline.py") if t.startswith(features)]
    assert named == []


def test_the_rules_are_read_from_real_imports() -> None:
    # The crisis check is the pipeline's first step: core does import bot.safety.
    assert "bot.core.pipeline imports bot.safety" in offending("bot/core", ("bot.safety",))


def test_only_the_channels_import_a_transport_sdk() -> None:
    outside = [
        line
        for package in ("bot", "flows", "storage")
        for line in offending(package, SDKS)
        if not line.startswith("bot.channels.")
    ]
    assert outside == []


def _channel_internal(target: str) -> bool:
    """Whether `target` is a module inside a channel package (bot.channels.telegram.send)."""
    parts = target.split(".")
    if parts[:2] != ["bot", "channels"] or len(parts) < 4:
        return False
    package = ROOT / "bot" / "channels" / parts[2]
    return package.is_dir() and (
        (package / f"{parts[3]}.py").exists() or (package / parts[3]).is_dir()
    )


def test_nothing_outside_the_channels_imports_a_channel_package_s_internals() -> None:
    outside = sorted(
        f"{name} imports {target}"
        for name, path in modules("bot")
        if not name.startswith("bot.channels.")
        for target in imports(path)
        if _channel_internal(target)
    )
    assert outside == []


def test_the_internals_rule_reads_real_imports() -> None:
    assert _channel_internal("bot.channels.telegram.send")
    assert _channel_internal("bot.channels.whatsapp.window")
    assert not _channel_internal("bot.channels.whatsapp.window_remaining")
    assert not _channel_internal("bot.channels.registry.build")


def _named_in_code(path: Path) -> set[str]:
    """The strings a module's code holds (docstrings left out) and the modules it imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    strings = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    }
    return strings | imports(path)


@pytest.mark.parametrize("module", ["bot/app.py", "bot/run.py"])
def test_the_wiring_names_no_transport_it_builds_the_configured_channels(module: str) -> None:
    from bot.channels.registry import known

    transports = known()
    assert {"telegram", "whatsapp", "webchat", "terminal"} <= set(transports)
    named = sorted(
        found
        for found in _named_in_code(ROOT / module)
        for name in transports
        if found == name or found.startswith(f"bot.channels.{name}")
    )
    assert named == []


def test_nothing_outside_storage_opens_a_database() -> None:
    outside = [
        line
        for package in ("bot", "flows")
        for line in offending(package, ("sqlite3", "aiosqlite"))
    ]
    assert outside == []


def test_the_urgency_codes_agree_across_the_layers() -> None:
    from flows.effects import URGENCIES as FLOW_URGENCIES
    from storage.records import URGENCIES

    assert set(FLOW_URGENCIES) == set(URGENCIES)


def test_the_booking_modes_agree_across_the_layers() -> None:
    from flows.effects import BOOKING_MODES
    from storage.booking.records import MODES

    assert BOOKING_MODES == MODES


def test_every_error_the_bot_raises_on_purpose_is_a_bot_error() -> None:
    import importlib

    from bot.errors import BotError

    strays = []
    for name, path in modules("bot"):
        if name.startswith("bot.safety"):
            continue  # being rewritten: it keeps its own SafetyError for now
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and node.name.endswith(("Error", "Closed")):
                found = getattr(importlib.import_module(name), node.name)
                if isinstance(found, type) and issubclass(found, Exception):
                    if not issubclass(found, BotError):
                        strays.append(f"{name}.{node.name}")
    assert strays == []
