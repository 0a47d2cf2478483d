"""The Telegram channel, on python-telegram-bot: families and counsellors in private chats.

The only module that imports `telegram`. Inbound, each update becomes one or more
`Inbound`s that the pipeline stores before anything is acknowledged: in polling
mode our own `getUpdates` loop advances the offset only after the updates it
fetched are stored (PTB's Updater confirms them earlier, so a crash could lose
one); in webhook mode the request is answered 200 only once its update is stored.
Outbound, `send` delivers one reply: choices as inline buttons, emphasis
(`*menu*`) as bold, long texts in parts of at most 4096 characters, and the Bot
API's refusals mapped to `RetryLater` or `Unreachable` for the outbox sender.

A chat has at most one live keyboard (`storage.channels.keyboards`): the buttons of the
latest question. A press is taken only from that message, once; then its buttons
are replaced by the chosen label. A newer question or a typed answer retires the
keyboard, so a stale button pressed later is answered with a short note and
never taken as an answer to a different question.

Group chats: families write in private chats, and nothing said in a group is
stored; group updates are dropped (the README suggests disabling groups).
Edited messages are not asked for: an edit cannot re-answer a question the
conversation has moved past, and a person in danger writes again.

    TelegramSetupError   the bot cannot start: the token is refused, the Bot API unreachable
    (every other Telegram error stays inside: sends raise `DeliveryError`s)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import logging
import os
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

from bot.channels.base import (
    DeliveryError,
    Inbound,
    Outbound,
    Receiver,
    RetryLater,
    Unreachable,
    numbered_list,
)
from bot.channels.chatlocks import ChatLocks
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.textparts import bold_spans, split_text, utf16_len
from bot.config import Telegram
from bot.ratelimit import RateLimiter
from bot.texts import BotTexts
from storage.channels.keyboards import KeyboardRepo

__all__ = [
    "ALLOWED_UPDATES",
    "CHANNEL",
    "COMMANDS",
    "MAX_TEXT",
    "WEBHOOK_PATH",
    "TelegramChannel",
    "TelegramSetupError",
    "Tuning",
    "delivery_error",
    "message_inbounds",
]

log = logging.getLogger(__name__)

CHANNEL = "telegram"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query")
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_WEBHOOK_BODY = 1 << 20
# Button data beginning with this is ours: a token for a long value, or the chosen mark.
TOKEN_PREFIX = "~"
# Button data beginning with this is an action (a counsellor's "take case"): it stays
# live on its own message, whatever else the chat shows, and is passed on as pressed.
ACTION_PREFIX = "!"
CHOSEN = "~chosen"
# The command menu; each name needs `telegram.commands.<name>` in texts.toml.
COMMANDS = ("start", "help", "menu", "bahasa", "berhenti", "hapus")
# Typed content after which the buttons shown before no longer answer anything.
_TYPED = frozenset({"text", "start"})
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_NO_PREVIEW_JSON = json.dumps(_NO_PREVIEW.to_dict())
# Replies and keyboard edits go through Bot.do_api_request (TelegramChannel._send_message),
# which python-telegram-bot answers with a suggestion to use its own method instead.
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.(sendMessage|editMessageReplyMarkup)' instead",
    category=PTBUserWarning,
)
# Chats whose keyboard state is remembered before it is forgotten (re-read when needed).
_KEYBOARDS_KNOWN = 50_000
# getUpdates answers at most this many updates (python-telegram-bot's default limit).
UPDATES_PER_FETCH = 100

# The Bot API address carries the token: no HTTP client may log request lines.
logging.getLogger("httpx").setLevel(logging.WARNING)
# PTB 22 deprecates integer time periods (`RetryAfter.retry_after`) and warns on
# every access unless this opts in to the coming `timedelta`s; we read both.
os.environ.setdefault("PTB_TIMEDELTA", "true")


class _WithholdPayloads(logging.Filter):
    """PTB logs raw update data when it cannot parse it: keep the words out of our logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = f"{str(record.msg).split('%', 1)[0].rstrip()} (payload withheld)"
            record.args = None
        return True


for _name in ("telegram.Bot", "telegram.request.BaseRequest"):
    logging.getLogger(_name).addFilter(_WithholdPayloads())


class TelegramSetupError(Exception):
    """The Telegram channel cannot start; the message says what to check."""


@dataclass(frozen=True, slots=True)
class Tuning:
    """Pacing and timeouts; the defaults follow Telegram's limits, tests shorten them."""

    per_chat_interval: float = 1.0  # at most one message a second to one chat
    group_interval: float = 3.0  # at most 20 a minute to one group
    typing_delay: float = 1.0  # show "typing…" when no reply has gone out by then
    # "typing…" hints a second at most: in a flood (hundreds of families waiting at
    # once) each would be one more Bot API call when calls are scarcest; past this
    # budget the hint is skipped, never the reply.
    typing_per_second: float = 5.0
    poll_timeout: int = 25  # long-poll seconds per getUpdates
    request_timeout: float = 10.0  # per Bot API call (a long poll adds its own seconds)


class TelegramChannel:
    """Sends replies and turns updates into stored `Inbound`s."""

    name = CHANNEL
    buttons = True
    max_per_second = 30.0
    # A turn's replies are joined up to this length: one message of at most 4,096
    # UTF-16 units, with room for the numbered choices of a plain-text fallback.
    merge_chars = 3500

    def __init__(
        self, bot: Bot, texts: BotTexts, *, tuning: Tuning = Tuning(), webhook_secret: str = ""
    ) -> None:
        self._bot = bot
        self._texts = texts
        self._tuning = tuning
        self._secret = webhook_secret
        self._receive: Receiver | None = None
        self._keyboards: KeyboardRepo | None = None
        self._locks = ChatLocks()
        self._background: set[asyncio.Task[None]] = set()
        self._parts_sent: dict[int, list[int]] = {}  # outbox id -> message ids of parts sent
        self._last_sent: dict[str, float] = {}
        self._group_sent: dict[int, float] = {}
        self._typing_budget = RateLimiter(tuning.typing_per_second, per_chat_interval=0.0)
        # What this process knows of each chat's live keyboard (it alone shows and
        # retires them): True shown, False none; a chat it has not seen is read from
        # the store. The counter tells a retire that a newer keyboard came meanwhile.
        self._keyboard_live: dict[str, bool] = {}
        self._keyboard_shown: dict[str, int] = {}
        self._poller: asyncio.Task[None] | None = None
        self._backlog: Callable[[], None] = lambda: None
        self._stopping = asyncio.Event()
        self._offset: int | None = None

    @property
    def per_chat_interval(self) -> float:
        return self._tuning.per_chat_interval

    @classmethod
    def from_config(
        cls, settings: Telegram, texts: BotTexts, *, tuning: Tuning = Tuning()
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
        return cls(bot, texts, tuning=tuning, webhook_secret=settings.webhook_secret)

    def bind(
        self,
        receive: Receiver,
        keyboards: KeyboardRepo,
        backlog: Callable[[], None] = lambda: None,
    ) -> None:
        """Where updates go (the pipeline), where live keyboards are kept, and whom to
        tell when a fetch came back full (more are waiting: read them first)."""
        self._receive = receive
        self._keyboards = keyboards
        self._backlog = backlog

    # --- lifecycle ----------------------------------------------------------

    async def open(self) -> str:
        """Checks the token with getMe; returns the bot's username."""
        try:
            await self._bot.initialize()
        except InvalidToken:
            raise TelegramSetupError(
                "Telegram refused the token; check [telegram] token or LK3_TELEGRAM_TOKEN"
            ) from None
        except TelegramError as exc:
            raise TelegramSetupError(
                f"the Telegram Bot API could not be reached ({type(exc).__name__}); "
                "check [telegram] api_base_url and the network"
            ) from None
        return str(self._bot.username)

    async def start(self, *, mode: str, webhook_url: str = "") -> None:
        """Registers the command menu, then receives by polling or by webhook."""
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
                f"({type(exc).__name__}); check [telegram] webhook_url"
            ) from None
        if mode != "webhook":
            self._poller = asyncio.create_task(self._poll(), name="telegram-polling")
        log.info("telegram: receiving by %s", mode)

    async def stop_receiving(self) -> None:
        """Stops polling after the batch under way, confirms it, and lets API calls finish."""
        self._stopping.set()
        if self._poller is not None:
            await self._poller
            self._poller = None
            if self._offset is not None:
                # Tells Telegram what is stored, so a restart does not fetch it again.
                with contextlib.suppress(TelegramError):
                    await self._bot.get_updates(offset=self._offset, timeout=0)
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        """Closes the HTTP connections."""
        with contextlib.suppress(TelegramError):
            await self._bot.shutdown()

    # --- sending ------------------------------------------------------------

    async def send(self, message: Outbound) -> str | None:
        """Delivers one reply; returns the message ids of its parts, comma-separated."""
        try:
            chat_id = int(message.address)
        except ValueError:
            raise Unreachable("bad_address") from None
        if chat_id < 0:
            await self._pace_group(chat_id)
        reserve = utf16_len(numbered_list("", message.options)) if message.options else 0
        parts = split_text(message.text, MAX_TEXT - reserve, utf16_len) or ["…"]
        markup, long_values = _keyboard_json(message.options)
        sent = self._parts_sent.pop(message.outbox_id, [])
        shown = False
        for index in range(len(sent), len(parts)):
            last = index == len(parts) - 1
            try:
                message_id, shown = await self._send_part(
                    chat_id, parts[index], message.options if last else (), markup if last else None
                )
            except TelegramError as exc:
                error = delivery_error(exc)
                if sent and not isinstance(error, Unreachable):
                    self._parts_sent[message.outbox_id] = sent  # a retry sends only the rest
                raise error from None
            sent.append(message_id)
        self._last_sent[message.address] = time.monotonic()
        if len(self._last_sent) > 10_000:
            # Only the last few seconds matter (for "typing…"): forget older chats.
            horizon = time.monotonic() - 60.0
            self._last_sent = {a: t for a, t in self._last_sent.items() if t > horizon}
        actions = all(value.startswith(ACTION_PREFIX) for value, _ in message.options)
        if shown and self._keyboards is not None and not actions:
            await self._show_keyboard(message.address, chat_id, sent[-1], dict(long_values))
        return ",".join(str(i) for i in sent)

    async def _send_part(
        self,
        chat_id: int,
        text: str,
        options: tuple[tuple[str, str], ...],
        markup: str | None,
    ) -> tuple[int, bool]:
        """Sends one part (`markup`: the keyboard as JSON); (message id, whether its
        buttons are shown)."""
        plain, spans = bold_spans(text)
        entities = (
            json.dumps(
                [{"type": MessageEntity.BOLD, "offset": o, "length": n} for o, n in spans]
            )
            if spans
            else None
        )
        try:
            sent = await self._send_message(chat_id, plain, entities, markup)
            return sent, markup is not None
        except BadRequest as exc:
            if isinstance(delivery_error(exc), Unreachable) or (not entities and markup is None):
                raise
            # Never leave a family without the words: send them plain, choices numbered.
            log.warning(
                "telegram: a formatted reply was refused (%s); sending it plain", type(exc).__name__
            )
            return await self._send_message(chat_id, numbered_list(text, options)), False

    async def _send_message(
        self,
        chat_id: int,
        text: str,
        entities: str | None = None,
        markup: str | None = None,
    ) -> int:
        """sendMessage through python-telegram-bot's request path (parameters, errors,
        retries are its own); returns the new message's id.

        `Bot.send_message` would also build a `Message` from the answer, about a tenth of
        the bot's CPU, and only the id is ever read (docs/performance.md). Entities and
        the keyboard come as JSON, which the library passes on as they are: a
        question's keyboard is the same every time it is asked, and is serialised once.
        """
        answer = await self._bot.do_api_request(
            "sendMessage",
            api_kwargs={
                "chat_id": chat_id,
                "text": text,
                "entities": entities,
                "reply_markup": markup,
                "link_preview_options": _NO_PREVIEW_JSON,
            },
        )
        message_id = answer.get("message_id") if isinstance(answer, dict) else None
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            # Not known to be delivered: retried like any failed send (at least once).
            raise TelegramError("sendMessage answered without a message id")
        return message_id

    async def _show_keyboard(
        self, address: str, chat_id: int, message_id: int, long_values: dict[str, str]
    ) -> None:
        assert self._keyboards is not None
        try:
            older = await self._keyboards.show(
                CHANNEL, address, str(message_id), long_values, datetime.now(UTC)
            )
        except Exception:
            # The reply is delivered; its buttons will only answer with the stale note.
            log.exception("telegram: could not record a live keyboard")
            return
        self._remember_keyboard(address, True)
        if older is not None:
            self._later(self._edit_markup(chat_id, int(older.message_id), None))

    async def _pace_group(self, chat_id: int) -> None:
        """Keeps to Telegram's 20 messages a minute in one group."""
        wait = self._group_sent.get(chat_id, -1e9) + self._tuning.group_interval
        wait -= time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._group_sent[chat_id] = time.monotonic()

    # --- receiving ----------------------------------------------------------

    async def handle_update(self, update: Update) -> None:
        """Stores what one update carries; raises if it could not be stored."""
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
        address = str(message.chat.id)
        inbounds = message_inbounds(message)
        fresh = False
        async with self._locks.hold(address):
            for inbound in inbounds:
                fresh = await self._store(inbound) or fresh
            if fresh and any(i.kind in _TYPED for i in inbounds):
                await self._retire_keyboard(address, message.chat.id)
        if fresh:
            self._typing_soon(address, message.chat.id)

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
            live = None if self._keyboards is None else await self._keyboards.live(CHANNEL, address)
            fresh = False
            value: str | None = None
            shown = _button_data(message)
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
                generation = self._keyboard_shown.get(address, 0)
                await self._keyboards.retire(CHANNEL, address, str(message.message_id))
                if self._keyboard_shown.get(address, 0) == generation:
                    self._remember_keyboard(address, False)
        if value is None:
            language = "en" if (query.from_user.language_code or "").startswith("en") else ""
            note = self._texts.get("telegram.stale_button", language or self._texts.languages[0])
            self._later(self._answer(query.id, note))
            is_live = live is not None and live.message_id == str(message.message_id)
            if not is_live and (shown is None or set(shown) - {CHOSEN}):
                self._later(self._edit_markup(message.chat.id, message.message_id, None))
            return
        self._later(self._answer(query.id))
        self._later(self._edit_markup(message.chat.id, message.message_id, _chosen(message, data)))
        if fresh:
            self._typing_soon(address, message.chat.id)

    async def _store(self, inbound: Inbound) -> bool:
        if self._receive is None:
            raise RuntimeError("TelegramChannel.bind was not called before receiving")
        return await self._receive(inbound)

    async def _retire_keyboard(self, address: str, chat_id: int) -> None:
        if self._keyboards is None:
            return
        known = self._keyboard_live.get(address)
        if known is False:
            return  # no keyboard since the last one went: nothing to read or retire
        generation = self._keyboard_shown.get(address, 0)
        try:
            if known is None:
                # Not seen since start-up: a read first, as most chats have none live.
                live = await self._keyboards.live(CHANNEL, address)
                retired = None if live is None else await self._keyboards.retire(CHANNEL, address)
            else:
                retired = await self._keyboards.retire(CHANNEL, address)
        except Exception:
            log.exception("telegram: could not retire a keyboard")
            return
        if self._keyboard_shown.get(address, 0) == generation:
            self._remember_keyboard(address, False)
        if retired is not None:
            self._later(self._edit_markup(chat_id, int(retired.message_id), None))

    async def _learn_keyboards(self, chats: Iterable[int]) -> None:
        """Reads at once whether chats not seen since start-up have a live keyboard, so
        that a batch of typed messages costs one read, not one each (a flood of new
        families is all such chats)."""
        if self._keyboards is None:
            return
        unknown = [str(chat) for chat in chats if str(chat) not in self._keyboard_live]
        if not unknown:
            return
        # What was shown while the read ran is newer than what the read found.
        shown = {address: self._keyboard_shown.get(address, 0) for address in unknown}
        try:
            live = await self._keyboards.with_live(CHANNEL, unknown)
        except Exception:
            log.exception("telegram: could not read which chats have live keyboards")
            return  # each is read on its own when needed
        if len(self._keyboard_live) + len(unknown) > _KEYBOARDS_KNOWN and self._forget_keyboards():
            return  # the counters went too: nothing here can be told to be current
        for address in unknown:
            if (
                address not in self._keyboard_live
                and self._keyboard_shown.get(address, 0) == shown[address]
            ):
                self._keyboard_live[address] = address in live

    def _remember_keyboard(self, address: str, live: bool) -> None:
        if len(self._keyboard_live) > _KEYBOARDS_KNOWN:
            self._forget_keyboards()
        self._keyboard_live[address] = live
        if live:
            self._keyboard_shown[address] = self._keyboard_shown.get(address, 0) + 1

    def _forget_keyboards(self) -> bool:
        """Forgets what is known of live keyboards, so memory stays bounded. It only costs
        a read per chat (every chat is "not seen" again). The counters of shown keyboards
        are kept, so a read under way cannot mistake a keyboard shown meanwhile for none,
        unless they too grew too many: then True, and such a read must be dropped."""
        self._keyboard_live.clear()
        if len(self._keyboard_shown) > 4 * _KEYBOARDS_KNOWN:
            self._keyboard_shown.clear()
            return True
        return False


    # --- polling ------------------------------------------------------------

    async def _poll(self) -> None:
        """Fetches updates; the offset moves past a batch only once all of it is stored."""
        pause = 1.0
        while not self._stopping.is_set():
            try:
                updates = await self._fetch()
            except RetryAfter as exc:
                await self._idle(retry_seconds(exc))
                continue
            except TimedOut:
                continue
            except (Conflict, InvalidToken, NetworkError) as exc:
                log.error(
                    "telegram: getUpdates failed (%s); retrying in %.0fs", type(exc).__name__, pause
                )
                await self._idle(pause)
                pause = min(pause * 2, 60.0)
                continue
            except Exception:
                # One update PTB cannot read fails its whole batch: read each one alone.
                log.warning("telegram: a batch of updates could not be read; reading each alone")
                try:
                    updates, last = await self._fetch_each()
                except Exception as exc:
                    log.error("telegram: getUpdates failed (%s); retrying", type(exc).__name__)
                    await self._idle(pause)
                    pause = min(pause * 2, 60.0)
                    continue
                if updates:
                    try:
                        await self._handle_batch(updates)
                    except Exception:
                        log.exception("telegram: could not store updates; fetching them again")
                        await self._idle(pause)
                        continue
                if last is not None:
                    self._offset = last + 1
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
                await self._idle(pause)
                continue
            self._offset = updates[-1].update_id + 1

    async def _fetch(self) -> tuple[Update, ...] | None:
        """One long poll; None when stopping cut it short."""
        fetch = asyncio.ensure_future(
            self._bot.get_updates(
                offset=self._offset,
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
                    "offset": self._offset,
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

    async def _handle_batch(self, updates: Sequence[Update]) -> None:
        """Chats in parallel, each chat's updates in order."""
        by_chat: dict[int | None, list[Update]] = {}
        for update in updates:
            by_chat.setdefault(_chat_of(update), []).append(update)
        await self._learn_keyboards(chat for chat in by_chat if chat is not None)

        async def in_order(batch: list[Update]) -> None:
            for update in batch:
                await self.handle_update(update)

        results = await asyncio.gather(
            *(in_order(b) for b in by_chat.values()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # --- webhook ------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        """`POST /telegram/webhook`: 200 only once the update is stored."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not self._secret or not hmac.compare_digest(given, self._secret.encode()):
            log.warning("telegram webhook: a request without the right secret token was refused")
            return PlainTextResponse("forbidden", status_code=403)
        declared = request.headers.get("content-length", "")
        if declared and (not declared.isdigit() or int(declared) > MAX_WEBHOOK_BODY):
            return PlainTextResponse("too large", status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_WEBHOOK_BODY:
                return PlainTextResponse("too large", status_code=413)
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self._bot)
            if not well_formed(update):
                raise ValueError("an update with missing or odd fields")
        except Exception:
            log.warning("telegram webhook: a body that is not an update was refused")
            return PlainTextResponse("not an update", status_code=400)
        try:
            await self.handle_update(update)
        except Exception:
            log.exception("telegram webhook: update %s could not be stored", update.update_id)
            return PlainTextResponse("try again", status_code=503)
        return Response(status_code=200)

    # --- small Bot API calls that must never fail a message -----------------

    def _later(self, call: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(call)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _answer(self, query_id: str, text: str | None = None) -> None:
        await _quietly("answerCallbackQuery", self._bot.answer_callback_query(query_id, text=text))

    async def _edit_markup(
        self, chat_id: int, message_id: int, markup: InlineKeyboardMarkup | None
    ) -> None:
        # As replies are sent (_send_message): the answer, an edited Message, is not read.
        keyboard = None if markup is None else json.dumps(markup.to_dict())
        await _quietly(
            "editMessageReplyMarkup",
            self._bot.do_api_request(
                "editMessageReplyMarkup",
                api_kwargs={"chat_id": chat_id, "message_id": message_id, "reply_markup": keyboard},
            ),
        )

    def _typing_soon(self, address: str, chat_id: int) -> None:
        """Shows "typing…" if no reply has gone out `typing_delay` seconds from now."""
        received = time.monotonic()

        async def typing() -> None:
            await self._idle(self._tuning.typing_delay)
            if self._last_sent.get(address, -1.0) >= received or self._stopping.is_set():
                return
            now = time.monotonic()
            if self._typing_budget.wait_time("", now) > 0:
                return  # many are waiting at once: spare the Bot API
            self._typing_budget.take("", now)
            await _quietly("sendChatAction", self._bot.send_chat_action(chat_id, "typing"))

        self._later(typing())

    async def _register_commands(self) -> None:
        for language in self._texts.languages:
            commands = [
                BotCommand(name, self._texts.get(f"telegram.commands.{name}", language))
                for name in COMMANDS
            ]
            code = None if language == self._texts.languages[0] else language
            await _quietly("setMyCommands", self._bot.set_my_commands(commands, language_code=code))

    # --- hand-off: alerts edited, media copied between chats --------------------

    async def edit_message(self, address: str, message_id: str, text: str) -> None:
        """Replaces an alert's text (who took the case) and removes its button."""
        try:
            await self._bot.edit_message_text(
                text, chat_id=int(address), message_id=int(message_id)
            )
        except BadRequest as exc:
            if "not modified" in str(exc).lower() or "not found" in str(exc).lower():
                return  # already so, or deleted by the counsellor: nothing left to do
            raise delivery_error(exc) from None
        except TelegramError as exc:
            raise delivery_error(exc) from None
        except ValueError:
            raise Unreachable("bad_address") from None

    async def edit_message_buttons(
        self, address: str, message_id: str, text: str, options: tuple[tuple[str, str], ...]
    ) -> None:
        """Replaces an alert digest's text and its buttons (the cases still waiting)."""
        markup, _ = _keyboard(options)  # "take" buttons are short action values: no tokens
        try:
            await self._bot.edit_message_text(
                text, chat_id=int(address), message_id=int(message_id), reply_markup=markup
            )
        except BadRequest as exc:
            if "not modified" in str(exc).lower() or "not found" in str(exc).lower():
                return
            raise delivery_error(exc) from None
        except TelegramError as exc:
            raise delivery_error(exc) from None
        except ValueError:
            raise Unreachable("bad_address") from None

    async def copy_message(
        self, from_address: str, message_id: str, to_address: str, caption: str | None
    ) -> str:
        """Copies a message between chats (copyMessage): nothing is downloaded or kept."""
        try:
            copied = await self._bot.copy_message(
                chat_id=int(to_address),
                from_chat_id=int(from_address),
                message_id=int(message_id),
                caption=caption,
            )
        except TelegramError as exc:
            raise delivery_error(exc) from None
        except ValueError:
            raise Unreachable("bad_address") from None
        return str(copied.message_id)

    # --- deleting a conversation from the phone (quick exit) ----------------

    async def delete_messages(
        self, address: str, sent_ids: Sequence[str], received_ids: Sequence[str]
    ) -> int:
        """Deletes both sides of the chat (quick exit); returns how many ids were sent to go.

        `sent_ids` are what `send` returned ("12,13" for a reply in two parts);
        `received_ids` are our transport ids ("<chat>:<message>", a caption's
        "<chat>:<message>:caption"; a button press has no message of its own).
        Telegram lets a bot delete both sides of a private chat for 48 hours and
        skips what it cannot delete.
        """
        try:
            chat_id = int(address)
        except ValueError:
            raise Unreachable("bad_address") from None
        ids = sorted(_message_ids(chat_id, [*sent_ids, *received_ids]))
        for start in range(0, len(ids), 100):
            try:
                await self._bot.delete_messages(chat_id, ids[start : start + 100])
            except TelegramError as exc:
                raise delivery_error(exc) from None
        if ids:
            log.info("telegram: asked to delete %s message(s) of a chat", len(ids))
        return len(ids)


# --- conversions ----------------------------------------------------------------


def well_formed(update: Update) -> bool:
    """Whether the fields we read have the types the Bot API promises.

    python-telegram-bot builds objects from whatever JSON it is given, so a
    message without a chat or with a text that is a number gets this far.
    """
    if not isinstance(update.update_id, int):
        return False
    query = update.callback_query
    if query is not None:
        user = query.from_user
        message = query.message
        return (
            isinstance(query.id, str)
            and (query.data is None or isinstance(query.data, str))
            and user is not None
            and (user.language_code is None or isinstance(user.language_code, str))
            and (message is None or _well_formed_message(message, needs_sender=False))
        )
    return update.message is None or _well_formed_message(update.message, needs_sender=True)


def _well_formed_message(message: Any, *, needs_sender: bool) -> bool:
    chat = getattr(message, "chat", None)
    user = getattr(message, "from_user", None)
    replied = getattr(message, "reply_to_message", None)
    return (
        isinstance(getattr(chat, "id", None), int)
        and isinstance(getattr(chat, "type", None), str)
        and isinstance(getattr(message, "message_id", None), int)
        and isinstance(getattr(message, "date", None), datetime)
        and (not needs_sender or user is None or isinstance(user.is_bot, bool))
        and all(
            getattr(message, field, None) is None or isinstance(getattr(message, field), str)
            for field in ("text", "caption")
        )
        and (replied is None or isinstance(getattr(replied, "message_id", None), int))
    )


def message_inbounds(message: Message) -> list[Inbound]:
    """What a private message carries, in the order to process it (a caption first)."""
    address = str(message.chat.id)
    transport_id = f"{message.chat.id}:{message.message_id}"
    at = message.date if message.date.tzinfo is not None else message.date.replace(tzinfo=UTC)
    replied = message.reply_to_message
    reply_to = None if replied is None else str(replied.message_id)
    text = message.text
    if text is not None:
        command = text.split(maxsplit=1)
        if command and command[0].split("@", 1)[0].lower() == "/start":
            payload = command[1].strip()[:64] if len(command) > 1 else ""
            return [Inbound(CHANNEL, transport_id, address, "start", payload, at)]
        return [Inbound(CHANNEL, transport_id, address, "text", text, at, reply_to)]
    inbounds = []
    if message.caption:
        # Words sent with a photo are read (and crisis-checked) like any text.
        inbounds.append(
            Inbound(
                CHANNEL, f"{transport_id}:caption", address, "text", message.caption, at, reply_to
            )
        )
    inbounds.append(
        Inbound(CHANNEL, transport_id, address, _content_kind(message), "", at, reply_to)
    )
    return inbounds


def _content_kind(message: Message) -> str:
    if message.photo:
        return "photo"
    if message.voice is not None or message.audio is not None:
        return "voice"
    if message.video is not None or message.video_note is not None or message.animation is not None:
        return "video"
    if message.sticker is not None:
        return "sticker"
    if message.location is not None or message.venue is not None:
        return "location"
    if message.document is not None:
        return "file"
    if message.contact is not None:
        return "contact"
    return "unsupported"


def delivery_error(exc: TelegramError) -> DeliveryError:
    """What a Bot API refusal means for the outbox: wait and retry, or give up on the chat."""
    text = str(exc).lower()
    if isinstance(exc, RetryAfter):
        return RetryLater("rate_limited", retry_after=retry_seconds(exc))
    if isinstance(exc, Forbidden):
        if "blocked" in text:
            return Unreachable("blocked")
        if "deactivated" in text:
            return Unreachable("deactivated")
        return Unreachable("forbidden")
    if isinstance(exc, ChatMigrated):
        return Unreachable("chat_migrated")
    if isinstance(exc, BadRequest):
        if "chat not found" in text or "user not found" in text or "peer_id_invalid" in text:
            return Unreachable("chat_not_found")
        return RetryLater("bad_request")
    if isinstance(exc, TimedOut):
        return RetryLater("timed_out")
    if isinstance(exc, InvalidToken | EndPointNotFound):
        # do_api_request (replies) reports a refused token as an unknown endpoint.
        return RetryLater("token_refused")
    if isinstance(exc, NetworkError):
        return RetryLater("network")
    return RetryLater("telegram_error")


def retry_seconds(exc: RetryAfter) -> float:
    """`retry_after` in seconds, whichever type this PTB version gives it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _keyboard(
    options: tuple[tuple[str, str], ...],
) -> tuple[InlineKeyboardMarkup | None, dict[str, str]]:
    """Buttons for the choices, and the tokens standing in for values too long for a button."""
    if not options:
        return None, {}
    long_values: dict[str, str] = {}
    buttons = []
    for value, label in options:
        data = value
        if not value or value.startswith(TOKEN_PREFIX) or len(value.encode()) > MAX_CALLBACK_DATA:
            data = TOKEN_PREFIX + hashlib.sha256(value.encode()).hexdigest()[:20]
            long_values[data] = value
        buttons.append(InlineKeyboardButton(label, callback_data=data))
    short = len(buttons) <= 3 and all(len(label) <= 12 for _, label in options)
    rows = [buttons] if short else [[button] for button in buttons]
    return InlineKeyboardMarkup(rows), long_values


@functools.lru_cache(maxsize=2048)
def _keyboard_json(
    options: tuple[tuple[str, str], ...],
) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """`_keyboard` as sent: the markup's JSON, and the long values' tokens as pairs.
    A pure function of the choices, which flows repeat, so kept for the next time."""
    markup, long_values = _keyboard(options)
    text = None if markup is None else json.dumps(markup.to_dict(), separators=(",", ":"))
    return text, tuple(long_values.items())


def _button_data(message: Message | Any) -> list[str] | None:
    """The data of the buttons the message shows (None: Telegram did not send the message)."""
    markup = getattr(message, "reply_markup", None)
    if not isinstance(message, Message):
        return None
    if not isinstance(markup, InlineKeyboardMarkup):
        return []
    return [str(b.callback_data) for row in markup.inline_keyboard for b in row]


def _chosen(message: Message | Any, data: str) -> InlineKeyboardMarkup | None:
    """The pressed button alone, marked, in place of the keyboard (None if not found)."""
    markup = getattr(message, "reply_markup", None)
    if not isinstance(markup, InlineKeyboardMarkup):
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return InlineKeyboardMarkup(
                    [[InlineKeyboardButton(f"✓ {button.text}", callback_data=CHOSEN)]]
                )
    return None


def _message_ids(chat_id: int, ids: Iterable[str]) -> set[int]:
    """Message ids in this chat, from send results ("12,13") and transport ids ("<chat>:12")."""
    found: set[int] = set()
    for item in ids:
        for piece in item.split(","):
            fields = piece.strip().split(":")
            if len(fields) == 1 and fields[0].isdigit():
                found.add(int(fields[0]))
            elif len(fields) >= 2 and fields[0] == str(chat_id) and fields[1].isdigit():
                found.add(int(fields[1]))
    return found


def _chat_of(update: Update) -> int | None:
    if not well_formed(update):
        return None  # handle_update drops it
    if update.message is not None:
        return update.message.chat.id
    if update.callback_query is not None and update.callback_query.message is not None:
        return update.callback_query.message.chat.id
    return None


async def _quietly(what: str, call: Awaitable[object]) -> None:
    """Runs a Bot API call whose failure must not fail anything else; logs the error code."""
    try:
        await call
    except TelegramError as exc:
        log.info("telegram: %s failed (%s)", what, type(exc).__name__)
