"""The service runs on uvloop where installed, and on the standard loop when asked."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.eventloop import loop_name, run_service


async def _which() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


def test_the_service_runs_on_uvloop_when_it_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("uvloop")
    monkeypatch.delenv("LK3_EVENT_LOOP", raising=False)
    assert loop_name() == "uvloop"
    assert run_service(_which()) == "uvloop"


@pytest.mark.parametrize("value", ["asyncio", " AsyncIO "])
def test_the_standard_loop_can_be_chosen(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LK3_EVENT_LOOP", value)
    assert loop_name() == "asyncio"
    assert run_service(_which()) == "asyncio"


def test_an_unknown_choice_keeps_the_default() -> None:
    assert loop_name({"LK3_EVENT_LOOP": "tokio"}) == loop_name({})
