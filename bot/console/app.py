"""Builds the console and hands its routes to the web server (`lk3 run` calls `mount_console`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.console import (
    pages_audit,
    pages_auth,
    pages_bookings,
    pages_case,
    pages_figures,
    pages_flows,
    pages_labels,
    pages_queue,
    pages_users,
)
from bot.console.auth import AuthSettings
from bot.console.case_desk import CaseDesk
from bot.console.core import Console
from bot.console.office import Office
from bot.console.queue_feed import FeedSettings
from bot.web import WebServer
from storage.store import Store

__all__ = ["build_console", "mount_console"]


def build_console(
    store: Store,
    *,
    clock: Callable[[], datetime],
    public_url: str = "",
    settings: AuthSettings | None = None,
    office: Office | None = None,
    queue_feed: FeedSettings | None = None,
) -> Console:
    """The console with every page registered; cookies are Secure when served over https."""
    console = Console(
        store, clock=clock, secure_cookies=public_url.startswith("https://"), settings=settings
    )
    pages_auth.register(console)
    pages_users.register(console)
    pages_audit.register(console)
    if office is not None:  # the pages that need the running bot: flows, bookings, figures
        pages_flows.register(console, office)
        pages_bookings.register(console, office)
        pages_figures.register(console, office)
        # The queue and case pages (counsellors and supervisors).
        desk = CaseDesk(
            store,
            office.handoff,
            library=lambda: office.flows.library,
            tz=office.config.office.tz,
            wake_sender=office.wake_sender,
            feed=queue_feed,
        )
        pages_queue.register(console, desk)
        pages_case.register(console, desk)
        pages_labels.register(console, desk)
    return console


def mount_console(web: WebServer, console: Console) -> None:
    for route in console.routes:
        web.add_route(route.path, route.endpoint, methods=route.methods)
    for hook in console.stop_hooks:
        web.on_stop(hook)
