"""`lk3 run`: the bot on every enabled channel, until SIGINT or SIGTERM.

Start: check the Telegram token (getMe) and the Twilio credentials, open the
app (keys, store, flows, pipeline, outbox sender) and process what a crash left
behind, start the web server when a webhook needs it (always for WhatsApp,
whose messages only come by webhook), then register the command menu and start
receiving. Stop, in reverse: close the web server, stop polling (the batch
under way is stored and confirmed), let the pipeline finish the turns under way
and the sender the sends under way, close the store, close the HTTP client.
What is still queued stays in the inbox and the outbox for the next start.

    ServiceError   the bot cannot start: no channel, a refused token, a port in use, ...
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TextIO

from bot.app import App, StartupError, utc_now
from bot.booking.ical import ICAL_ROUTE, ical_endpoint
from bot.channels.base import Channel
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.errors import TelegramSetupError
from bot.channels.telegram.protocol import WEBHOOK_PATH, Tuning
from bot.channels.webchat import WebChatChannel
from bot.channels.whatsapp import protocol as whatsapp
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.channels.whatsapp.errors import WhatsAppSetupError
from bot.config import Config
from bot.console.app import build_console, mount_console
from bot.console.office import Office
from bot.core.texts import BotTexts, TextsError
from bot.errors import BotError
from bot.web import WebError, WebServer
from bot.webchat.page import WebChatPage, mount_webchat

__all__ = ["NO_CHANNEL", "Service", "ServiceError", "run_until_signalled", "serve"]

log = logging.getLogger(__name__)

NO_CHANNEL = (
    "no channel is enabled; set [telegram] token in the configuration "
    "(or the environment variable LK3_TELEGRAM_TOKEN), or [whatsapp] account_sid, "
    "auth_token and from_number (or LK3_TWILIO_ACCOUNT_SID / LK3_TWILIO_AUTH_TOKEN), "
    "or [web] webchat = true"
)


class ServiceError(BotError):
    """The service cannot start; the message says what to fix."""


class Service:
    """The running bot with its channels and web server: `start`, then `stop`."""

    def __init__(
        self,
        config: Config,
        *,
        tuning: Tuning | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        whatsapp_tuning: whatsapp.Tuning | None = None,
    ) -> None:
        self.config = config
        self._tuning = tuning or Tuning()
        self._env = env
        self._clock = clock
        self._whatsapp_tuning = whatsapp_tuning or whatsapp.Tuning()
        self.app: App | None = None
        self.channel: TelegramChannel | None = None
        self.whatsapp: WhatsAppChannel | None = None
        self.webchat: WebChatChannel | None = None
        self.web: WebServer | None = None
        self.username = ""

    async def start(self) -> None:
        """Starts everything, or raises ServiceError having closed what it opened."""
        config = self.config
        if not config.telegram.enabled and not config.whatsapp.enabled and not config.web.webchat:
            raise ServiceError(NO_CHANNEL)
        try:
            texts = BotTexts.load(languages=config.languages)
        except TextsError as exc:
            raise ServiceError(str(exc)) from None
        channels: list[Channel] = []
        if config.telegram.enabled:
            self.channel = TelegramChannel.from_config(config.telegram, texts, tuning=self._tuning)
            channels.append(self.channel)
        if config.whatsapp.enabled:
            self.whatsapp = WhatsAppChannel(
                config.whatsapp,
                config.web.public_url,
                texts,
                default_language=config.languages[0],
                clock=self._clock,
                tuning=self._whatsapp_tuning,
            )
            channels.append(self.whatsapp)
        if config.web.webchat:
            self.webchat = WebChatChannel()
            channels.append(self.webchat)
        try:
            if self.channel is not None:
                self.username = await self.channel.open()
            if self.whatsapp is not None:
                await self.whatsapp.open()
            self.app = await App.open(config, channels, env=self._env, clock=self._clock)
            if self.channel is not None:
                self.channel.bind(
                    self.app.receive, self.app.store.keyboards, self.app.pipeline.defer_routine
                )
            if self.whatsapp is not None:
                self.whatsapp.bind(self.app.receive, self.app.store, self.app.sender.wake)
            if self.webchat is not None:
                self.webchat.bind(self.app.store)
            await self.app.start()
            mode = config.telegram.mode if self.channel is not None else ""
            if (
                mode == "webhook"
                or config.web.console
                or self.whatsapp is not None
                or self.webchat is not None
            ):
                self.web = WebServer(config.web.host, config.web.port)
                if mode == "webhook" and self.channel is not None:
                    self.web.add_route(WEBHOOK_PATH, self.channel.webhook, methods=["POST"])
                if self.whatsapp is not None:
                    self.web.add_route(
                        whatsapp.INCOMING_PATH, self.whatsapp.incoming, methods=["POST"]
                    )
                    self.web.add_route(whatsapp.STATUS_PATH, self.whatsapp.status, methods=["POST"])
                feed = ical_endpoint(self.app.store, tz=config.office.tz, clock=utc_now)
                self.web.add_route(ICAL_ROUTE, feed, methods=["GET"])
                if config.web.console:
                    office = None
                    if self.app.handoff is not None and self.app.flows is not None:
                        office = Office(
                            config,
                            BotTexts.load(languages=config.languages),
                            self.app.handoff,
                            self.app.flows,
                            wake_sender=self.app.sender.wake,
                        )
                    console = build_console(
                        self.app.store,
                        clock=utc_now,
                        public_url=config.web.public_url,
                        office=office,
                    )
                    mount_console(self.web, console)
                if self.webchat is not None:
                    page = WebChatPage(
                        self.webchat,
                        self.app.receive,
                        texts,
                        secure_cookies=config.web.public_url.startswith("https://"),
                    )
                    mount_webchat(self.web, page)
                await self.web.start()
            if self.channel is not None:
                await self.channel.start(mode=mode, webhook_url=config.telegram.webhook_url)
        except (TelegramSetupError, WhatsAppSetupError, StartupError, WebError) as exc:
            await self.stop()
            raise ServiceError(str(exc)) from None
        except BaseException:
            await self.stop()
            raise
        if self.channel is not None:
            log.info("running as @%s (telegram, %s)", self.username, config.telegram.mode)
        if self.whatsapp is not None:
            log.info("running on whatsapp (webhooks at %s)", whatsapp.INCOMING_PATH)

    async def stop(self) -> None:
        """Stops receiving, then lets the work under way finish, then closes."""
        if self.web is not None:
            await self.web.stop()
            self.web = None
        if self.channel is not None:
            await self.channel.stop_receiving()
        if self.app is not None:
            await self.app.stop()
            self.app = None
        if self.channel is not None:
            await self.channel.close()
            self.channel = None
        if self.whatsapp is not None:
            await self.whatsapp.close()
            self.whatsapp = None


async def serve(
    config: Config,
    stop: asyncio.Event,
    *,
    tuning: Tuning | None = None,
    env: Mapping[str, str] | None = None,
    err: TextIO = sys.stderr,
) -> int:
    """Runs until `stop` is set; 0 after a clean stop, 2 when it cannot start."""
    service = Service(config, tuning=tuning, env=env)
    try:
        await service.start()
    except ServiceError as exc:
        print(f"lk3: cannot start: {exc}", file=err)
        return 2
    mode = config.telegram.mode
    if service.channel is not None:
        name = service.username
        print(f"lk3: running as @{name} on Telegram ({mode}); stop with Ctrl-C", file=err)
    if service.whatsapp is not None:
        where = config.web.public_url.rstrip("/") + whatsapp.INCOMING_PATH
        print(f"lk3: running on WhatsApp (webhook {where}); stop with Ctrl-C", file=err)
    try:
        await stop.wait()
    finally:
        await service.stop()
    log.info("stopped")
    return 0


async def run_until_signalled(config: Config) -> int:
    """`serve` with SIGINT and SIGTERM as the stop signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await serve(config, stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
