"""The monitoring of one running service: its routes on the web server and, when
`[alerts]` names a recipient, the supervisors' notices in the background."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from datetime import datetime

from bot.app import App
from bot.config import Config
from bot.monitoring.email import EmailRoute
from bot.monitoring.endpoints import Monitoring, mount_monitoring
from bot.monitoring.notices import SupervisorNotices
from bot.monitoring.sources import Sources, pulses_of
from bot.web import WebServer

__all__ = ["Watch"]


class Watch:
    def __init__(self, sources: Sources) -> None:
        self.sources = sources
        alerts = sources.config.alerts
        self.notices = SupervisorNotices(sources, EmailRoute(alerts)) if alerts.enabled else None
        self.endpoints: Monitoring | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def of(
        cls, config: Config, app: App, channels: Iterable[object], clock: Callable[[], datetime]
    ) -> Watch:
        channels = list(channels)
        names = tuple(str(getattr(ch, "name", "")) for ch in channels)
        return cls(
            Sources(
                config=config,
                store=app.store,
                writes=app.health,
                tally=app.pipeline.tally,
                pulses=pulses_of(channels),
                channels=names,
                clock=clock,
            )
        )

    def mount(self, web: WebServer) -> None:
        self.endpoints = mount_monitoring(web, self.sources)

    def start(self) -> None:
        if self.notices is not None:
            self._task = asyncio.create_task(self.notices.run(), name="supervisor-notices")

    async def stop(self) -> None:
        if self.notices is not None:
            await self.notices.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
