"""Builds the console and hands its routes to the web server (`lk3 run` calls `mount_console`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.console.auth import pages as pages_auth
from bot.console.auth.login import AuthSettings
from bot.console.case_desk import CaseDesk
from bot.console.core import Console
from bot.console.office import Office
from bot.console.pages import alarm as pages_alarm
from bot.console.pages import audit as pages_audit
from bot.console.pages import bookings as pages_bookings
from bot.console.pages import case as pages_case
from bot.console.pages import case_live as pages_case_live
from bot.console.pages import caserows as pages_caserows
from bot.console.pages import figures as pages_figures
from bot.console.pages import flows as pages_flows
from bot.console.pages import home as pages_home
from bot.console.pages import labels as pages_labels
from bot.console.pages import library_files as pages_library_files
from bot.console.pages import media as pages_media
from bot.console.pages import province as pages_province
from bot.console.pages import queue as pages_queue
from bot.console.pages import referrals as pages_referrals
from bot.console.pages import users as pages_users
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
        store,
        clock=clock,
        secure_cookies=public_url.startswith("https://"),
        settings=settings,
        # From the master key, like the TOTP key: a form rendered before a restart posts after it.
        csrf_key=store.console.csrf_key(),
        # Every process on one database and keys seals test chats alike (docs/postgresql.md).
        seal_key=store.console.draft_chat_key(),
    )
    console.include(pages_auth.routes)
    console.include(pages_home.routes)
    console.include(pages_users.routes)
    console.include(pages_audit.routes)
    console.include(pages_referrals.routes)
    if office is not None:  # the pages that need the running bot: flows, bookings, figures
        # The queue and case pages (counsellors and supervisors) work through the desk.
        desk = CaseDesk(
            store,
            office.handoff,
            library=lambda: office.flows.library,
            tz=office.config.office.tz,
            wake_sender=office.wake_sender,
            feed=queue_feed,
        )
        console.serve(office, desk)
        console.include(pages_flows.routes)
        console.include(pages_library_files.routes)
        console.include(pages_bookings.routes)
        console.include(pages_figures.routes)
        console.include(pages_province.routes)
        console.include(pages_caserows.routes)
        console.include(pages_queue.routes)
        console.include(pages_case.routes)
        console.include(pages_case_live.routes)
        console.include(pages_alarm.routes)
        console.include(pages_labels.routes)
        console.include(pages_media.routes)
        console.stop_hooks.append(desk.feed.close)
        console.stop_hooks.append(desk.live.stop)
    return console


def mount_console(web: WebServer, console: Console) -> None:
    for route in console.routes:
        web.add_route(route.path, route.endpoint, methods=route.methods)
    for hook in console.stop_hooks:
        web.on_stop(hook)
