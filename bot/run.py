"""`lk3 run`: the bot on every enabled channel, until SIGINT or SIGTERM.

The channels are the ones the configuration enables, built by name through
`bot.channels.registry`; none is named here. Before this module runs, `lk3 run`
has taken the data folder for itself (`bot.datadir`: a second bot on the same
folder is refused). Start: open each channel (Telegram checks its token,
WhatsApp its credentials), open the app (keys, store, flows, pipeline, outbox
sender; a store that lost committed work is refused, `storage.engine.commits`)
and process what a crash left behind, bind the
channels to it, start the web server when a channel or the console needs it,
then start receiving. Stop, in reverse: close the web server, stop receiving
(Telegram's batch under way is stored and confirmed), let the pipeline finish
the turns under way and the sender the sends under way, close the store, close
the channels' connections. What is still queued stays in the inbox and the
outbox for the next start.

    ServiceError   the bot cannot start: no channel, a refused token, a port in use, ...
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TextIO

from bot.app import App, StartupError, utc_now
from bot.booking.ical import ICAL_ROUTE, ical_endpoint
from bot.channels.base import ChannelSetupError
from bot.channels.registry import Channels, Setup, build
from bot.config import NO_CHANNEL, Config
from bot.console.app import build_console, mount_console
from bot.console.office import Office
from bot.core.texts import BotTexts, TextsError
from bot.errors import BotError
from bot.figures.api import mount_api
from bot.monitoring.watch import Watch
from bot.web import WebError, WebServer

__all__ = ["NO_CHANNEL", "Service", "ServiceError", "run_until_signalled", "serve"]

log = logging.getLogger(__name__)


class ServiceError(BotError):
    """The service cannot start; the message says what to fix."""


class Service:
    """The running bot with its channels and web server: `start`, then `stop`."""

    def __init__(
        self,
        config: Config,
        *,
        channels: Sequence[str] | None = None,
        options: Mapping[str, object] | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        # The channels to run, by name: by default those the configuration enables.
        self._names = tuple(config.channels if channels is None else channels)
        # Per channel name, what its factory takes beyond the configuration (a Tuning).
        self._options = dict(options or {})
        self._env = env
        self._clock = clock
        self.app: App | None = None
        self.channels: Channels = Channels([])
        self.web: WebServer | None = None
        self.watch: Watch | None = None  # /readyz, /metrics, the supervisors' notices

    async def start(self) -> None:
        """Starts everything, or raises ServiceError having closed what it opened."""
        config = self.config
        if not self._names:
            raise ServiceError(NO_CHANNEL)
        try:
            texts = BotTexts.load(languages=config.languages)
        except TextsError as exc:
            raise ServiceError(str(exc)) from None
        try:
            setup = Setup(config, texts, self._clock, self._options)
            self.channels = build(self._names, setup)
            await self.channels.open()
            self.app = await App.open(config, list(self.channels), env=self._env, clock=self._clock)
            self.channels.bind(self.app.host())
            await self.app.start()
            self.watch = Watch.of(config, self.app, self.channels, self._clock)
            if config.web.console or self.channels.needs_web:
                self.web = WebServer(
                    config.web.host,
                    config.web.port,
                    config.web.trusted_proxies,
                    max_body=config.web.max_body_kib * 1024,
                )
                self.web.report_health(self.app.health.describe)
                self.watch.mount(self.web)
                self.channels.add_routes(self.web)
                feed = ical_endpoint(self.app.store, config=config, clock=utc_now)
                self.web.add_route(ICAL_ROUTE, feed, methods=["GET"])
                if config.web.console:
                    self._mount_console(self.app, self.web)
                    mount_api(self.web, self.app.store, config, utc_now)  # bot/figures/api.py
                await self.web.start()
            await self.channels.start()
            self.watch.start()
        except (ChannelSetupError, StartupError, WebError) as exc:
            await self.stop()
            raise ServiceError(str(exc)) from None
        except BaseException:
            await self.stop()
            raise
        for adapter in self.channels:
            if line := adapter.describe():
                log.info("running %s", line)

    def _mount_console(self, app: App, web: WebServer) -> None:
        config = self.config
        office = None
        if app.handoff is not None and app.flows is not None:
            office = Office(
                config,
                BotTexts.load(languages=config.languages),
                app.handoff,
                app.flows,
                wake_sender=app.sender.wake,
                shelves=app.shelves,
            )
        console = build_console(
            app.store, clock=utc_now, public_url=config.web.public_url, office=office
        )
        mount_console(web, console)

    async def stop(self) -> None:
        """Stops receiving, then lets the work under way finish, then closes."""
        if self.web is not None:
            await self.web.stop()
            self.web = None
        await self.channels.stop()
        if self.watch is not None:
            await self.watch.stop()
            self.watch = None
        if self.app is not None:
            await self.app.stop()
            self.app = None
        await self.channels.close()


async def serve(
    config: Config,
    stop: asyncio.Event,
    *,
    options: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
    err: TextIO = sys.stderr,
) -> int:
    """Runs until `stop` is set; 0 after a clean stop, 2 when it cannot start."""
    service = Service(config, options=options, env=env)
    try:
        await service.start()
    except ServiceError as exc:
        log.error("cannot start: %s", exc)
        print(f"lk3: cannot start: {exc}", file=err)
        return 2
    for adapter in service.channels:
        if line := adapter.describe():
            print(f"lk3: running {line}; stop with Ctrl-C", file=err)
    try:
        await stop.wait()
    finally:
        await service.stop()
    log.info("stopped")
    return 0


async def run_until_signalled(config: Config, *, err: TextIO = sys.stderr) -> int:
    """`serve` with SIGINT and SIGTERM as the stop signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await serve(config, stop, err=err)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
