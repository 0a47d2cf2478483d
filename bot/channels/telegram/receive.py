"""Receiving from Telegram: our own getUpdates loop, and the webhook endpoint.

Polling moves the offset past a batch only once all of it is stored (PTB's
Updater confirms updates earlier, so a crash could lose one); the webhook
answers 200 only once its update is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBUserWarning

from bot.channels.telegram.errors import retry_seconds
from bot.channels.telegram.protocol import (
    ALLOWED_UPDATES,
    MAX_WEBHOOK_BODY,
    SECRET_HEADER,
    UPDATES_PER_FETCH,
    Tuning,
)
from bot.channels.telegram.updates import well_formed
from bot.web import read_body

__all__ = ["Poller", "idle", "webhook_update"]

log = logging.getLogger(__name__)


async def idle(stopping: asyncio.Event, seconds: float) -> None:
    """Waits `seconds`, or less if the channel is stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


class Poller:
    """The getUpdates loop; `offset` is past the last batch stored."""

    def __init__(
        self,
        bot: Bot,
        tuning: Tuning,
        stopping: asyncio.Event,
        handle_batch: Callable[[Sequence[Update]], Awaitable[None]],
        backlog: Callable[[], None],
    ) -> None:
        self._bot = bot
        self._tuning = tuning
        self._stopping = stopping
        self._handle_batch = handle_batch
        self._backlog = backlog
        self.offset: int | None = None

    async def run(self) -> None:
        """Fetches updates; the offset moves past a batch only once all of it is stored."""
        pause = 1.0
        while not self._stopping.is_set():
            try:
                updates = await self._fetch()
            except RetryAfter as exc:
                await idle(self._stopping, retry_seconds(exc))
                continue
            except TimedOut:
                continue
            except (Conflict, InvalidToken, NetworkError) as exc:
                log.error(
                    "telegram: getUpdates failed (%s); retrying in %.0fs", type(exc).__name__, pause
                )
                await idle(self._stopping, pause)
                pause = min(pause * 2, 60.0)
                continue
            except Exception:
                # One update PTB cannot read fails its whole batch: read each one alone.
                log.warning("telegram: a batch of updates could not be read; reading each alone")
                try:
                    updates, last = await self._fetch_each()
                except Exception as exc:
                    log.error("telegram: getUpdates failed (%s); retrying", type(exc).__name__)
                    await idle(self._stopping, pause)
                    pause = min(pause * 2, 60.0)
                    continue
                if updates:
                    try:
                        await self._handle_batch(updates)
                    except Exception:
                        log.exception("telegram: could not store updates; fetching them again")
                        await idle(self._stopping, pause)
                        continue
                if last is not None:
                    self.offset = last + 1
                continue
            if updates is None:
                return
            pause = 1.0
            if not updates:
                continue
            if len(updates) >= UPDATES_PER_FETCH:
                self._backlog()  # a full batch: more are waiting at Telegram
            try:
                await self._handle_batch(updates)
            except Exception:
                # Nothing is confirmed: the same updates come again and repeats are no-ops.
                log.exception("telegram: could not store updates; fetching them again")
                await idle(self._stopping, pause)
                continue
            self.offset = updates[-1].update_id + 1

    async def confirm(self) -> None:
        """Tells Telegram what is stored, so a restart does not fetch it again."""
        if self.offset is not None:
            with contextlib.suppress(TelegramError):
                await self._bot.get_updates(offset=self.offset, timeout=0)

    async def _fetch(self) -> tuple[Update, ...] | None:
        """One long poll; None when stopping cut it short."""
        fetch = asyncio.ensure_future(
            self._bot.get_updates(
                offset=self.offset,
                timeout=self._tuning.poll_timeout,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        )
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await fetch
            return None
        return fetch.result()

    async def _fetch_each(self) -> tuple[tuple[Update, ...], int | None]:
        """The pending batch read update by update, dropping those that cannot be read;
        and the last update id in it, for the offset to move past."""
        with warnings.catch_warnings():
            # PTB suggests get_updates, which is the call that could not read the batch.
            warnings.simplefilter("ignore", PTBUserWarning)
            raw = await self._bot.do_api_request(
                "getUpdates",
                api_kwargs={
                    "offset": self.offset,
                    "timeout": 0,
                    "allowed_updates": list(ALLOWED_UPDATES),
                },
            )
        read: list[Update] = []
        last: int | None = None
        for item in raw if isinstance(raw, list) else []:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if isinstance(update_id, int) and not isinstance(update_id, bool):
                last = update_id if last is None else max(last, update_id)
            try:
                update = Update.de_json(item, self._bot)
            except Exception:
                log.warning("telegram: update %s that cannot be read dropped", update_id)
                continue
            if update is not None:
                read.append(update)
        return tuple(read), last


async def webhook_update(request: Request, secret: str, bot: Bot) -> Update | Response:
    """The update a `POST /telegram/webhook` carries, or the refusal to answer it with."""
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not secret or not hmac.compare_digest(given, secret.encode()):
        log.warning("telegram webhook: a request without the right secret token was refused")
        return PlainTextResponse("forbidden", status_code=403)
    body = await read_body(request, MAX_WEBHOOK_BODY)
    if body is None:
        return PlainTextResponse("too large", status_code=413)
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise ValueError("not an update")
        update = Update.de_json(data, bot)
        if not well_formed(update):
            raise ValueError("an update with missing or odd fields")
    except Exception:
        log.warning("telegram webhook: a body that is not an update was refused")
        return PlainTextResponse("not an update", status_code=400)
    return update
