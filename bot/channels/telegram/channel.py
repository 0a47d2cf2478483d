"""`TelegramChannel`: the adapter the bot opens, binds, starts, sends through and stops.

It holds the pieces together: `receive` (polling or webhook) hands it updates
and reads them into `Inbound`s, which it stores under a per-chat lock; `send`
delivers replies, `keyboards` keeps each chat's live buttons, `staff` does the
hand-off's edits and copies. See the package docstring for the whole picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from telegram import Bot, BotCommand, CallbackQuery, InlineKeyboardMarkup
from telegram.error import InvalidToken, TelegramError

from bot.channels.base import ACTION_PREFIX, Inbound, Outbound, Receiver
from bot.channels.chatlocks import ChatLocks
from bot.channels.media import Fetched
from bot.channels.registry import Host
from bot.channels.telegram import media, staff
from bot.channels.telegram.errors import TelegramSetupError, quietly
from bot.channels.telegram.http import AiohttpRequest
from bot.channels.telegram.keyboards import LiveKeyboards, button_data, chosen_markup
from bot.channels.telegram.protocol import (
    ALLOWED_UPDATES,
    CHANNEL,
    CHOSEN,
    COMMANDS,
    TOKEN_PREFIX,
    TYPED,
    Tuning,
)
from bot.channels.telegram.receive import (
    PlainText,
    Poller,
    Received,
    chat_of,
    message_inbounds,
    plain_inbounds,
    webhook_update,
    well_formed,
)
from bot.channels.telegram.send import Replies
from bot.config import Telegram
from bot.core.pulse import Pulse
from bot.core.ratelimit import RateLimiter
from bot.core.texts import BotTexts
from bot.core.writehealth import storage_unavailable
from bot.logthrottle import LogThrottle
from bot.officechannels import telegram_webhook_path, token_variable
from bot.web import RETRY_LATER, WebServer
from storage.channels.instances import instance_name
from storage.media.records import MediaRef

__all__ = ["TelegramChannel"]

log = logging.getLogger(__name__)

_DEFAULT_TUNING = Tuning()


class TelegramChannel:
    """Sends replies and turns updates into stored `Inbound`s."""

    name = CHANNEL
    buttons = True
    max_per_second = 30.0
    # A turn's replies are joined up to this length: one message of at most 4,096
    # UTF-16 units, with room for the numbered choices of a plain-text fallback.
    merge_chars = 3500

    def __init__(
        self,
        bot: Bot,
        texts: BotTexts,
        *,
        tuning: Tuning = _DEFAULT_TUNING,
        webhook_secret: str = "",
        mode: str = "polling",
        webhook_url: str = "",
        office: str = "",
    ) -> None:
        self._bot = bot
        # `telegram`, or `telegram:tual` for an office's own bot (bot.officechannels): the
        # name on its contacts and outbox rows, its own webhook path and rate limit.
        self.office = office
        self.name = instance_name(CHANNEL, office)
        self._path = telegram_webhook_path(office)
        self.mode = mode
        self._webhook_url = webhook_url
        self.username = ""
        self._texts = texts
        self._tuning = tuning
        self._secret = webhook_secret
        # Refused webhook posts: the first logged, then a count a minute (bot.logthrottle).
        self._noise = LogThrottle(log)
        self._receive: Receiver | None = None
        self._keyboards: LiveKeyboards | None = None
        self._locks = ChatLocks()
        self._background: set[asyncio.Task[None]] = set()
        self._replies = Replies(bot, tuning)
        self._typing_budget = RateLimiter(tuning.typing_per_second, per_chat_interval=0.0)
        self._backlog: Callable[[], None] = lambda: None
        self._stopping = asyncio.Event()
        self._poller = Poller(bot, tuning, self._stopping, self._handle_batch, self._on_backlog)
        # When Telegram last answered a poll or posted an update (/readyz, /metrics).
        self.pulse = Pulse(polls=mode != "webhook")
        self._poller.pulse = self.pulse
        self._polling: asyncio.Task[None] | None = None

    @property
    def per_chat_interval(self) -> float:
        return self._tuning.per_chat_interval

    @classmethod
    def from_config(
        cls,
        settings: Telegram,
        texts: BotTexts,
        *,
        tuning: Tuning = _DEFAULT_TUNING,
        office: str = "",
    ) -> TelegramChannel:
        """A channel talking to the Bot API at `settings.api_base_url` with the token."""
        base = settings.api_base_url.rstrip("/")
        bot = Bot(
            settings.token,
            base_url=base,
            base_file_url=base.removesuffix("/bot") + "/file/bot",
            request=AiohttpRequest(32, tuning.request_timeout),
            get_updates_request=AiohttpRequest(2, tuning.request_timeout),
        )
        return cls(
            bot,
            texts,
            tuning=tuning,
            webhook_secret=settings.webhook_secret,
            mode=settings.mode,
            webhook_url=settings.webhook_url,
            office=office,
        )

    def bind(self, host: Host) -> None:
        """Where updates go (the pipeline), where live keyboards are kept, and whom to
        tell when a fetch came back full (more are waiting: read them first)."""
        self._receive = host.receive
        self._keyboards = LiveKeyboards(host.store.keyboards, channel=self.name)
        self._backlog = host.defer_routine
        self._poller.until_writable = _leading_and(host.until_leading, host.until_writable)

    # --- lifecycle ----------------------------------------------------------

    @property
    def needs_web(self) -> bool:
        return self.mode == "webhook"

    def add_routes(self, web: WebServer) -> None:
        if self.mode == "webhook":
            web.add_route(self._path, self.webhook, methods=["POST"])

    def describe(self) -> str:
        whose = f" for office {self.office}" if self.office else ""
        return f"as @{self.username} on Telegram ({self.mode}){whose}"

    def _setting(self, key: str) -> str:
        """Where an operator fixes this bot's `key`, for the errors of start-up."""
        if not self.office:
            return f"[telegram] {key}" + (" or LK3_TELEGRAM_TOKEN" if key == "token" else "")
        where = f"[offices.{self.office}.telegram] {key}"
        return where + (f" or {token_variable(self.office)}" if key == "token" else "")

    async def open(self) -> None:
        """Checks the token with getMe and learns the bot's username."""
        try:
            await self._bot.initialize()
        except InvalidToken:
            raise TelegramSetupError(
                f"Telegram refused the token; check {self._setting('token')}"
            ) from None
        except TelegramError as exc:
            raise TelegramSetupError(
                f"the Telegram Bot API could not be reached ({type(exc).__name__}); "
                "check [telegram] api_base_url and the network"
            ) from None
        self.username = str(self._bot.username)

    async def start(self) -> None:
        """Registers the command menu, then receives by polling or by webhook."""
        mode, webhook_url = self.mode, self._webhook_url
        await self._register_commands()
        try:
            if mode == "webhook":
                await self._bot.set_webhook(
                    webhook_url,
                    secret_token=self._secret,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            else:
                await self._bot.delete_webhook(drop_pending_updates=False)
        except TelegramError as exc:
            raise TelegramSetupError(
                f"Telegram refused to {'set' if mode == 'webhook' else 'delete'} the webhook "
                f"({type(exc).__name__}); check {self._setting('webhook_url')}"
            ) from None
        if mode != "webhook":
            self._polling = asyncio.create_task(self._poller.run(), name=f"{self.name}-polling")
        log.info("%s: receiving by %s", self.name, mode)

    async def stop(self) -> None:
        """Stops polling after the batch under way, confirms it, and lets API calls finish."""
        self._stopping.set()
        if self._polling is not None:
            await self._polling
            self._polling = None
            await self._poller.confirm()
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        """Closes the HTTP connections."""
        with contextlib.suppress(TelegramError):
            await self._bot.shutdown()

    # --- sending ------------------------------------------------------------

    async def probe(self) -> None:
        """Asks the Bot API who the bot is (getMe): it answers, or this raises."""
        await self._bot.get_me()

    async def send(self, message: Outbound) -> str | None:
        """Delivers one reply; returns the message ids of its parts, comma-separated."""
        sent, shown, long_values = await self._replies.send(message)
        actions = all(value.startswith(ACTION_PREFIX) for value, _ in message.options)
        if shown and self._keyboards is not None and not actions:
            await self._show_keyboard(int(message.address), message.address, sent[-1], long_values)
        return ",".join(str(i) for i in sent)

    async def _show_keyboard(
        self,
        chat_id: int,
        address: str,
        message_id: int,
        long_values: tuple[tuple[str, str], ...],
    ) -> None:
        assert self._keyboards is not None
        try:
            older = await self._keyboards.show(address, message_id, dict(long_values))
        except Exception as exc:
            # The reply is delivered; its buttons will only answer with the stale note.
            log.error(
                "telegram: could not record a live keyboard (%s)",
                type(exc).__name__,
                exc_info=not storage_unavailable(exc),
            )
            return
        if older is not None:
            self._later(self._edit_markup(chat_id, older, None))

    # --- receiving ----------------------------------------------------------

    async def handle_update(self, update: Received) -> None:
        """Stores what one update carries; raises if it could not be stored."""
        if isinstance(update, PlainText):
            await self._store_typed(str(update.chat_id), update.chat_id, plain_inbounds(update))
            return
        if not well_formed(update):
            # Dropped, not raised: raising would fetch (or have Telegram post) it forever.
            log.warning("telegram: update %s with missing or odd fields dropped", update.update_id)
            return
        if update.callback_query is not None:
            await self._on_press(update.callback_query)
            return
        message = update.message
        if message is None:
            log.debug("telegram: update %s of a kind not handled, dropped", update.update_id)
            return
        if message.chat.type != "private" or message.from_user is None:
            log.info(
                "telegram: update %s from a %s chat dropped", update.update_id, message.chat.type
            )
            return
        if message.from_user.is_bot:
            return
        await self._store_typed(str(message.chat.id), message.chat.id, message_inbounds(message))

    async def _store_typed(self, address: str, chat_id: int, inbounds: list[Inbound]) -> None:
        """Stores a message's `Inbound`s in order; a typed one retires the live keyboard."""
        fresh = False
        async with self._locks.hold(address):
            for inbound in inbounds:
                fresh = await self._store(inbound) or fresh
            if fresh and any(i.kind in TYPED for i in inbounds) and self._keyboards is not None:
                retired = await self._keyboards.retire(address)
                if retired is not None:
                    self._later(self._edit_markup(chat_id, retired, None))
        if fresh:
            self._typing_soon(address, chat_id)

    async def _on_press(self, query: CallbackQuery) -> None:
        message = query.message
        data = query.data or ""
        if message is None or message.chat.type != "private" or data == CHOSEN:
            self._later(self._answer(query.id))
            return
        address = str(message.chat.id)
        if data.startswith(ACTION_PREFIX):
            # Whether the press means anything is for the staff desk to say.
            await self._store(Inbound(CHANNEL, f"cb:{query.id}", address, "choice", data))
            self._later(self._answer(query.id))
            return
        async with self._locks.hold(address):
            live = None if self._keyboards is None else await self._keyboards.live(address)
            fresh = False
            value: str | None = None
            shown = button_data(message)
            if (
                live is not None
                and live.message_id == str(message.message_id)
                and (shown is None or data in shown)
            ):
                value = live.value_for(data) if data.startswith(TOKEN_PREFIX) else data
            if value is not None:
                fresh = await self._store(
                    Inbound(CHANNEL, f"cb:{query.id}", address, "choice", value)
                )
                assert self._keyboards is not None
                await self._keyboards.pressed(address, str(message.message_id))
        if value is None:
            language = "en" if (query.from_user.language_code or "").startswith("en") else ""
            note = self._texts.get("telegram.stale_button", language or self._texts.languages[0])
            self._later(self._answer(query.id, note))
            is_live = live is not None and live.message_id == str(message.message_id)
            if not is_live and (shown is None or set(shown) - {CHOSEN}):
                self._later(self._edit_markup(message.chat.id, message.message_id, None))
            return
        self._later(self._answer(query.id))
        chosen = chosen_markup(message, data)
        self._later(self._edit_markup(message.chat.id, message.message_id, chosen))
        if fresh:
            self._typing_soon(address, message.chat.id)

    async def _store(self, inbound: Inbound) -> bool:
        if self._receive is None:
            raise RuntimeError("TelegramChannel.bind was not called before receiving")
        if self.office:
            # Stored under this bot's name: the chat is this bot's, and so is the reply.
            inbound = dataclasses.replace(inbound, channel=self.name)
        return await self._receive(inbound)

    def _on_backlog(self) -> None:
        self._backlog()

    async def _handle_batch(self, updates: Sequence[Received]) -> None:
        """Chats in parallel, each chat's updates in order."""
        by_chat: dict[int | None, list[Received]] = {}
        for update in updates:
            by_chat.setdefault(chat_of(update), []).append(update)
        if self._keyboards is not None:
            await self._keyboards.learn(chat for chat in by_chat if chat is not None)

        async def in_order(batch: list[Received]) -> None:
            for update in batch:
                await self.handle_update(update)

        results = await asyncio.gather(
            *(in_order(b) for b in by_chat.values()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def webhook(self, request: Request) -> Response:
        """`POST /telegram/webhook` (`/telegram/<office>`): 200 only once the update is stored."""
        update = await webhook_update(request, self._secret, self._bot, self._noise)
        if isinstance(update, Response):
            return update
        self.pulse.ok()
        try:
            await self.handle_update(update)
        except Exception as exc:
            if storage_unavailable(exc):
                # Said once by bot.core.writehealth; Telegram posts the update again.
                return PlainTextResponse("try again", status_code=503, headers=RETRY_LATER)
            log.exception("telegram webhook: update %s could not be stored", update.update_id)
            return PlainTextResponse("try again", status_code=503)
        return Response(status_code=200)

    # --- small Bot API calls that must never fail a message -----------------

    def _later(self, call: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(call)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _answer(self, query_id: str, text: str | None = None) -> None:
        await quietly("answerCallbackQuery", self._bot.answer_callback_query(query_id, text=text))

    async def _edit_markup(
        self, chat_id: int, message_id: int, markup: InlineKeyboardMarkup | None
    ) -> None:
        # As replies are sent (send.py): the answer, an edited Message, is not read.
        keyboard = None if markup is None else json.dumps(markup.to_dict())
        await quietly(
            "editMessageReplyMarkup",
            self._bot.do_api_request(
                "editMessageReplyMarkup",
                api_kwargs={"chat_id": chat_id, "message_id": message_id, "reply_markup": keyboard},
            ),
        )

    def _typing_soon(self, address: str, chat_id: int) -> None:
        """Shows "typing…" if no reply has gone out `typing_delay` seconds from now.

        A timer, not a task per message: a sleeping task (with its wait and closures)
        cost about 3 KB and a few task switches for each message, kept for the whole
        delay; a timer handle is a tenth of that and one callback.
        """
        asyncio.get_running_loop().call_later(
            self._tuning.typing_delay, self._typing_due, address, chat_id, time.monotonic()
        )

    def _typing_due(self, address: str, chat_id: int, received: float) -> None:
        if self._stopping.is_set() or self._replies.last_sent(address) >= received:
            return
        now = time.monotonic()
        if self._typing_budget.wait_time("", now) > 0:
            return  # many are waiting at once: spare the Bot API
        self._typing_budget.take("", now)
        self._later(quietly("sendChatAction", self._bot.send_chat_action(chat_id, "typing")))

    async def _register_commands(self) -> None:
        for language in self._texts.languages:
            commands = [
                BotCommand(name, self._texts.get(f"telegram.commands.{name}", language))
                for name in COMMANDS
            ]
            code = None if language == self._texts.languages[0] else language
            await quietly("setMyCommands", self._bot.set_my_commands(commands, language_code=code))

    # --- hand-off: alerts edited, media copied between chats, quick exit ----------

    async def edit_message(self, address: str, message_id: str, text: str) -> None:
        """Replaces an alert's text (who took the case) and removes its button."""
        await staff.edit_message(self._bot, address, message_id, text)

    async def edit_message_buttons(
        self, address: str, message_id: str, text: str, options: tuple[tuple[str, str], ...]
    ) -> None:
        """Replaces an alert digest's text and its buttons (the cases still waiting)."""
        await staff.edit_message_buttons(self._bot, address, message_id, text, options)

    async def copy_message(self, transport_id: str, to_address: str, caption: str | None) -> str:
        """Copies a message between chats (copyMessage): nothing is downloaded or kept."""
        return await staff.copy_message(self._bot, transport_id, to_address, caption)

    async def fetch_media(self, ref: MediaRef, limit: int) -> Fetched:
        """A family's photo or voice note (getFile, then the file), at most `limit` bytes."""
        return await media.fetch(self._bot, ref, limit)

    async def send_media(
        self, address: str, kind: str, mime: str, data: bytes, caption: str
    ) -> str:
        """Uploads a family's photo or voice note to a counsellor (sendPhoto, sendVoice)."""
        return await media.send(self._bot, address, kind, mime, data, caption)

    async def delete_messages(
        self, address: str, sent_ids: Sequence[str], received_ids: Sequence[str]
    ) -> int:
        """Deletes both sides of the chat (quick exit); returns how many ids were sent to go."""
        return await staff.delete_messages(self._bot, address, sent_ids, received_ids)


def _leading_and(
    leading: Callable[[], Awaitable[None]] | None, writable: Callable[[], Awaitable[None]] | None
) -> Callable[[], Awaitable[None]] | None:
    """What the poller waits on before each fetch: this process leads (Telegram allows one
    getUpdates consumer per token: with several processes only the leader polls), and the
    database takes writes."""
    if leading is None:
        return writable

    async def both() -> None:
        await leading()
        if writable is not None:
            await writable()

    return both
