"""The channels by name: each channel's own module registers a factory for its adapter.

A `ChannelAdapter` is a `Channel` (what the outbox sender sends through) with a life
around it, driven in this order by `Channels`, for every channel configured alike:

    open      check credentials, open connections (before the app exists)
    bind      take what it needs of the running app (`Host`)
    routes    add its webhooks or pages to the web server (when one runs)
    start     start receiving
    stop      stop receiving; the turns and sends under way finish after it
    close     close connections (after the app stopped sending)

Capabilities beyond sending (copy, delete, edit a message) are the optional
protocols of `bot.channels.base`, read with `isinstance` where they are needed.

A channel registers itself as goflow registers actions: `register(NAME, factory)` at
the bottom of its own module. The channel named `x` lives in `bot.channels.x`, which
`build` imports on first use; so adding a channel is adding its package (and its
setting in `bot.config`), and nothing here or in the wiring grows.

Several instances of one adapter: a channel registered with `instances=True` may be
named `<name>:<office code>` (`telegram:tual`, office `tual`'s own bot; see
bot.officechannels). Its factory gets that office in `Setup.office` and builds an
adapter named so; the outbox sends through the instance named on the row, each
instance keeps its own rate limit, `/readyz` and `/metrics` name it. Instances of
one build share `Setup.shared` (the WhatsApp senders behind one webhook).

    ChannelSetupError (bot.channels.base)
     └── UnknownChannel    a configured channel name no module registers
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging
import pkgutil
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

import bot.channels
from bot.channels.base import Channel, ChannelSetupError, Receiver
from bot.config import Config
from bot.core.texts import BotTexts
from bot.web import WebServer
from storage.channels.instances import kind_of, office_of
from storage.store import Store

__all__ = [
    "ChannelAdapter",
    "Channels",
    "Factory",
    "Finite",
    "Host",
    "Setup",
    "UnknownChannel",
    "build",
    "known",
    "register",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Setup:
    """What a factory may read to build its adapter."""

    config: Config
    texts: BotTexts
    clock: Callable[[], datetime]
    # Per channel name, what a caller passes beyond the configuration: a `Tuning`
    # (tests, benchmarks), the terminal's streams (`lk3 chat`).
    options: Mapping[str, object] = field(default_factory=dict)
    # The office whose own channel instance this is ("" for the default office's).
    office: str = ""
    # What the instances of one build share, by adapter name (the factories' own business).
    shared: dict[str, object] = field(default_factory=dict)

    def option(self, name: str, kind: type[T], default: T) -> T:
        """The option given for channel `name`, if it is a `kind`; else `default`."""
        given = self.options.get(name)
        if given is None:
            return default
        if not isinstance(given, kind):
            raise TypeError(f"channel {name!r}: option {given!r} is not a {kind.__name__}")
        return given


@dataclass(frozen=True, slots=True)
class Host:
    """What the running app offers a channel when it binds."""

    receive: Receiver  # stores one inbound message; False for a repeat
    store: Store
    wake_sender: Callable[[], None]  # a reply is due again (WhatsApp: the person wrote)
    defer_routine: Callable[[], None]  # more updates are waiting: read them before routine turns
    wait_idle: Callable[[], Awaitable[None]]  # every stored message processed, replies sent
    # Whether a text raises any crisis concern: a channel that limits what it takes
    # asks before holding a message back, so no limit ever holds back a cry for help.
    concern: Callable[[str], bool] = lambda text: True
    # Returns once the database takes writes (at once, unless the disk is failing):
    # a channel that fetches its messages waits on it instead of fetching.
    until_writable: Callable[[], Awaitable[None]] | None = None
    # Returns once this process leads (at once when it runs alone): what only one process
    # may do for a bot token, such as Telegram's getUpdates, waits on it (bot.core.leadership).
    until_leading: Callable[[], Awaitable[None]] | None = None


class ChannelAdapter(Channel, Protocol):
    """A channel with its whole life: see the module docstring for the order."""

    async def open(self) -> None: ...

    def bind(self, host: Host) -> None: ...

    @property
    def needs_web(self) -> bool:
        """Whether it receives through the web server (a webhook, a page)."""
        ...

    def add_routes(self, web: WebServer) -> None:
        """Adds its routes (only called when the web server runs)."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def close(self) -> None: ...

    def describe(self) -> str:
        """Where it runs, for the operator: "as @lk3_bot on Telegram (polling)"; "" for nothing."""
        ...


@runtime_checkable
class Finite(Protocol):
    """A channel that ends on its own: the terminal, at the end of its input."""

    async def finished(self) -> int:
        """Waits until the channel has ended; returns the exit status."""
        ...


Factory = Callable[[Setup], ChannelAdapter]

_FACTORIES: dict[str, Factory] = {}
_INSTANCES: set[str] = set()  # the adapters that build one instance per office


class UnknownChannel(ChannelSetupError):
    """A channel name that no module registers."""


def register(name: str, factory: Factory, *, instances: bool = False) -> None:
    """Makes channel `name` buildable; each channel's module calls it once, on import.

    `instances`: the factory also builds `name:<office>` (`Setup.office` set)."""
    if _FACTORIES.get(name, factory) is not factory:
        raise ValueError(f"channel {name!r} is registered twice")
    _FACTORIES[name] = factory
    if instances:
        _INSTANCES.add(name)


def known() -> tuple[str, ...]:
    """Every channel name registered, the modules in `bot/channels/` imported first."""
    for module in pkgutil.iter_modules(bot.channels.__path__):
        importlib.import_module(f"bot.channels.{module.name}")
    return tuple(sorted(_FACTORIES))


def _factory(name: str) -> Factory:
    if name not in _FACTORIES and name.isidentifier():
        try:
            importlib.import_module(f"bot.channels.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bot.channels.{name}":
                raise
    factory = _FACTORIES.get(name)
    if factory is None:
        raise UnknownChannel(
            f"no channel is named {name!r}; the channels are: {', '.join(known())}"
        )
    return factory


def build(names: Sequence[str], setup: Setup) -> Channels:
    """The adapters of the channels named, in that order (none is opened yet)."""
    if len(set(names)) != len(names):
        raise ValueError(f"a channel is named twice in {list(names)}")
    return Channels([_build_one(name, setup) for name in names])


def _build_one(name: str, setup: Setup) -> ChannelAdapter:
    kind, office = kind_of(name), office_of(name)
    factory = _factory(kind)
    if not office:
        return factory(setup)
    if kind not in _INSTANCES:
        raise UnknownChannel(f"channel {kind!r} has no instance per office (asked for {name!r})")
    adapter = factory(dataclasses.replace(setup, office=office))
    if adapter.name != name:
        raise ValueError(f"channel {kind!r} built {adapter.name!r} when asked for {name!r}")
    return adapter


class Channels:
    """The configured channels, taken through their life together, in order."""

    def __init__(self, adapters: Sequence[ChannelAdapter]) -> None:
        self._adapters = list(adapters)
        self._opened: list[ChannelAdapter] = []
        self._started: list[ChannelAdapter] = []

    def __len__(self) -> int:
        return len(self._adapters)

    def __iter__(self) -> Iterator[ChannelAdapter]:
        return iter(self._adapters)

    def named(self, name: str) -> ChannelAdapter | None:
        return next((a for a in self._adapters if a.name == name), None)

    @property
    def needs_web(self) -> bool:
        return any(adapter.needs_web for adapter in self._adapters)

    async def open(self) -> None:
        """Opens each in order; each one tried is closed by `close`, even if it failed."""
        for adapter in self._adapters:
            self._opened.append(adapter)
            await adapter.open()

    def bind(self, host: Host) -> None:
        for adapter in self._adapters:
            adapter.bind(host)

    def add_routes(self, web: WebServer) -> None:
        for adapter in self._adapters:
            adapter.add_routes(web)

    async def start(self) -> None:
        for adapter in self._adapters:
            self._started.append(adapter)
            await adapter.start()

    async def stop(self) -> None:
        """Stops receiving on each channel started, in order."""
        started, self._started = self._started, []
        for adapter in started:
            await adapter.stop()

    async def close(self) -> None:
        opened, self._opened = self._opened, []
        for adapter in opened:
            await adapter.close()

    async def finished(self) -> int:
        """Waits until a channel that ends on its own has ended (forever when none can)."""
        finite = [adapter.finished() for adapter in self._adapters if isinstance(adapter, Finite)]
        if not finite:
            await asyncio.Event().wait()
        done, pending = await asyncio.wait(
            [asyncio.ensure_future(f) for f in finite], return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        return next(iter(done)).result()
