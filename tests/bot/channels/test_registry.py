"""The channel registry: channels built by name, taken through their life in order.

A channel registers a factory under its name; `lk3 run` builds the configured ones
and opens, binds, routes, starts, stops and closes them without naming any.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from bot_support import make_config
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from support import Clock, RecordingChannel, free_port

from bot.app import App
from bot.channels import registry
from bot.channels.base import Inbound
from bot.channels.registry import Host, Setup, UnknownChannel, build, known, register
from bot.channels.terminal import NAME as TERMINAL
from bot.channels.terminal import TerminalChannel, TerminalOptions
from bot.cli import _chat_async
from bot.config import Config, Web
from bot.core.texts import BotTexts
from bot.run import Service
from bot.web import WebServer

T0 = datetime.fromisoformat("2026-12-07T09:00:00+00:00")


class LifeChannel(RecordingChannel):
    """A channel that writes down each step of its life, in `steps`."""

    name = "life"

    def __init__(self, steps: list[str]) -> None:
        super().__init__()
        self.steps = steps
        self.host: Host | None = None

    needs_web = True

    async def open(self) -> None:
        self.steps.append("open")

    def bind(self, host: Host) -> None:
        self.host = host
        self.steps.append("bind")

    def add_routes(self, web: WebServer) -> None:
        self.steps.append("routes")
        web.add_route("/life", self.ping, methods=["GET"])

    async def ping(self, request: Request) -> Response:
        return PlainTextResponse("alive")

    async def start(self) -> None:
        self.steps.append("start")

    async def stop(self) -> None:
        self.steps.append("stop")

    async def close(self) -> None:
        self.steps.append("close")

    def describe(self) -> str:
        return "on a test line"


@pytest.fixture
def steps() -> Iterator[list[str]]:
    seen: list[str] = []
    register("life", lambda setup: LifeChannel(seen))
    yield seen
    del registry._FACTORIES["life"]


def _setup(config: Config) -> Setup:
    return Setup(config, BotTexts.load(languages=config.languages), Clock(T0))


def test_an_unknown_channel_is_refused_naming_it_and_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownChannel) as refused:
        build(["telegrm"], _setup(make_config(tmp_path)))
    message = str(refused.value)
    assert "'telegrm'" in message
    for name in ("telegram", "terminal", "webchat", "whatsapp"):
        assert name in message


def test_every_channel_module_registers_itself() -> None:
    assert {"telegram", "terminal", "webchat", "whatsapp"} <= set(known())


def test_a_name_is_registered_once(steps: list[str]) -> None:
    with pytest.raises(ValueError, match="'life' is registered twice"):
        register("life", lambda setup: LifeChannel([]))


def test_an_option_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    setup = Setup(make_config(tmp_path), BotTexts.load(), Clock(T0), {TERMINAL: "demo"})
    with pytest.raises(TypeError, match="channel 'terminal'"):
        build([TERMINAL], setup)


async def test_a_registered_channel_is_opened_bound_routed_started_stopped_closed_in_order(
    tmp_path: Path, steps: list[str]
) -> None:
    web = Web(host="127.0.0.1", port=free_port())
    config = dataclasses.replace(make_config(tmp_path / "data"), web=web)
    service = Service(config, channels=["life"], env={}, clock=Clock(T0))
    await service.start()
    try:
        assert steps == ["open", "bind", "routes", "start"]
        assert service.web is not None and "/life" in service.web.paths
        channel = service.channels.named("life")
        assert isinstance(channel, LifeChannel) and channel.host is not None
        assert service.app is not None and channel.host.store is service.app.store
        # Bound to the running app: what it receives goes through the pipeline.
        assert await channel.host.receive(Inbound("life", "m1", "someone", "text", "halo", T0))
        await channel.host.wait_idle()
        assert channel.texts_to("someone")
    finally:
        await service.stop()
    assert steps == ["open", "bind", "routes", "start", "stop", "close"]


async def test_the_terminal_channel_is_built_through_the_registry(tmp_path: Path) -> None:
    out = io.StringIO()
    options = {TERMINAL: TerminalOptions("budi", io.StringIO(""), out, False)}
    config = make_config(tmp_path / "data")
    setup = Setup(config, BotTexts.load(languages=config.languages), Clock(T0), options)
    channels = build([TERMINAL], setup)
    (terminal,) = list(channels)
    assert isinstance(terminal, TerminalChannel) and not channels.needs_web
    await channels.open()
    app = await App.open(config, list(channels), env={}, clock=Clock(T0))
    try:
        channels.bind(app.host())
        await app.start()
        await channels.start()
        assert await channels.finished() == 0
    finally:
        await channels.stop()
        await app.stop()
        await channels.close()
    assert out.getvalue().strip(), "the greeting is printed"


async def test_lk3_chat_talks_through_the_registry_built_terminal(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data")
    out = io.StringIO()
    status = await _chat_async(config, "sari", io.StringIO("halo\n"), out, False)
    assert status == 0
    replies = [block for block in out.getvalue().split("\n\n") if block.strip()]
    assert len(replies) >= 2, "the greeting, then the answer to 'halo'"
