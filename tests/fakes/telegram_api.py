"""A fake Telegram Bot API server on 127.0.0.1, for driving the real python-telegram-bot.

It serves `POST /bot<token>/<method>` (form-encoded, nested values as JSON
strings, as the library sends them), answers like the Bot API, records every
call, and lets a test play the users: type a text, send `/start` with a deep-link
payload, press a button on a message the bot sent, send a photo, a voice note, a
sticker, a location, a file... It can also misbehave on purpose: answer 429 with
`retry_after`, 5xx, hang until the client times out, refuse with 403 ("bot was
blocked by the user"), or enforce a sending rate. See `tests/fakes/README.md`.

Runs inside the test's event loop (uvicorn, started and stopped by the test):

    async with FakeTelegram() as tg:
        config telegram.api_base_url = tg.api_base_url
        tg.send_start(1001, "poster-a")
        await tg.wait_for(lambda: tg.texts(1001))
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from quiet_server import QuietServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from telegram_files import FilePart, FileServing, Upload
from telegram_wire import (
    _BOT_USER,
    CONTENT,
    Call,
    SentMessage,
    _chat_type,
    _error,
    _Failure,
    _int,
    _ok,
)

__all__ = ["Call", "FakeTelegram", "FilePart", "SentMessage", "Upload"]

TOKEN = "123456:TEST-fake-token"


# How often `wait_for` looks again without a call to wake it (see there).
RECHECK_SECONDS = 0.1


class FakeTelegram(FileServing):
    """The Bot API as far as the bot uses it, plus levers for tests."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.bot_user: dict[str, Any] = dict(_BOT_USER)  # what getMe answers
        # Other bots this server answers for, by token (`another_bot`): one Bot API, many bots.
        self._bots: dict[str, FakeTelegram] = {token: self}
        self._host: FakeTelegram | None = None
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.deleted: dict[int, set[int]] = {}  # chat -> message ids deleted (both sides)
        self.copies: list[tuple[int, int, int]] = []  # (from chat, message id, to chat)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, Iterator[int]] = {}
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._queries: dict[str, bool] = {}  # callback query id -> answered
        self._query_ids = itertools.count(1)
        self._failures: list[_Failure] = []
        self._outage: str | None = None  # while set, every call fails with it (`down`)
        self._blocked: set[int] = set()
        self.confirmed_offset = 0
        self._rate: int | None = None
        self._recent_sends: list[float] = []
        self._changed = asyncio.Event()
        self._release = asyncio.Event()
        self._polls_ended = 0  # `end_polls` calls: a long poll waiting before one answers
        # While cleared, sendMessage waits before delivering (`hold_sends`).
        self._sends_open = asyncio.Event()
        self._sends_open.set()
        self.sends_held = 0  # sendMessage calls waiting now
        self._server: QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0
        self._init_files()

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off"
        )
        self._server = QuietServer(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                await self._task  # raises what stopped it
            await asyncio.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for bot in self._bots.values():
            if bot is not self:
                bot._release.set()
                bot._notify()
        self._release.set()
        self._notify()
        if self._server is not None and self._task is not None:
            self._server.exit_now.set()
            await self._task

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def another_bot(self, token: str, username: str) -> FakeTelegram:
        """A second bot (its own token, chats, updates and calls) served by this same
        server, as the Bot API serves every bot: an office's own bot beside the first."""
        assert token not in self._bots, "a token serves one bot"
        bot = FakeTelegram(token)
        bot.bot_user = {**self.bot_user, "id": self.bot_user["id"] + len(self._bots)}
        bot.bot_user["username"] = username
        bot._host = self
        self._bots[token] = bot
        return bot

    @property
    def url(self) -> str:
        port = self._host.port if self._host is not None else self.port
        return f"http://127.0.0.1:{port}"

    @property
    def api_base_url(self) -> str:
        """What `[telegram] api_base_url` should be to talk to this server."""
        return f"{self.url}/bot"

    # --- playing the users -----------------------------------------------------

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        language_code: str = "id",
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """A person types `text` (replying to the bot's message `reply_to`, when given)."""
        body: dict[str, Any] = {"text": text}
        if reply_to is not None:
            body["reply_to_message"] = self._messages[(chat_id, reply_to)].as_api()
        return self._queue_message(chat_id, body, language_code)

    def send_start(self, chat_id: int, payload: str = "") -> dict[str, Any]:
        """A person opens the bot (from a deep link `t.me/bot?start=payload` when given)."""
        text = f"/start {payload}" if payload else "/start"
        return self._queue_message(
            chat_id, {"text": text, "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}
        )

    def send_content(self, chat_id: int, kind: str, *, caption: str = "") -> dict[str, Any]:
        """A person sends something other than text: a key of `CONTENT` (photo, voice...)."""
        body = dict(CONTENT[kind])
        if caption:
            body["caption"] = caption
        return self._queue_message(chat_id, body)

    def press(
        self, chat_id: int, data: str, *, message_id: int | None = None, force: bool = False
    ) -> dict[str, Any]:
        """A person presses the button carrying `data` (on the latest keyboard by default).

        The button must be on the message now, as on a real phone; `force` presses it
        anyway (an old client that did not redraw the message).
        """
        message = (
            self._messages[(chat_id, message_id)]
            if message_id is not None
            else self.latest_keyboard(chat_id)
        )
        if not force and data not in [d for _, d in message.buttons()]:
            raise AssertionError(f"no button {data!r} on message {message.message_id}")
        query_id = f"q{next(self._query_ids)}"
        self._queries[query_id] = False
        update = {
            "callback_query": {
                "id": query_id,
                "from": self._user(chat_id),
                "chat_instance": f"ci{chat_id}",
                "message": message.as_api(),
                "data": data,
            }
        }
        return self.queue_update(update)

    def press_label(self, chat_id: int, label: str) -> dict[str, Any]:
        """Presses the button with this label on the latest keyboard."""
        message = self.latest_keyboard(chat_id)
        for text, data in message.buttons():
            if text == label:
                return self.press(chat_id, data, message_id=message.message_id)
        raise AssertionError(f"no button labelled {label!r} on message {message.message_id}")

    def queue_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queues any update (an `update_id` is added); returns it."""
        update = {"update_id": next(self._update_ids), **body}
        self._updates.append(update)
        self._notify()
        return update

    def redeliver(self, update: dict[str, Any]) -> dict[str, Any]:
        """Delivers the same update again under a new update id (as after a lost offset)."""
        body = {k: v for k, v in update.items() if k != "update_id"}
        return self.queue_update(json.loads(json.dumps(body)))

    def _queue_message(
        self, chat_id: int, body: dict[str, Any], language_code: str = "id"
    ) -> dict[str, Any]:
        message = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": _chat_type(chat_id), "first_name": "Ibu"},
            "from": self._user(chat_id, language_code),
            **body,
        }
        if chat_id < 0:
            message["chat"] = {"id": chat_id, "type": "group", "title": "Keluarga"}
            message["from"] = self._user(9999, language_code)
        return self.queue_update({"message": message})

    def _user(self, chat_id: int, language_code: str = "id") -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "Ibu", "language_code": language_code}

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    # --- what the bot did ------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, chat_id: int) -> list[SentMessage]:
        """What the bot sent to this chat, oldest first (deleted ones included, marked)."""
        return sorted(
            (m for (c, _), m in self._messages.items() if c == chat_id),
            key=lambda m: m.message_id,
        )

    def texts(self, chat_id: int) -> list[str]:
        return [m.text for m in self.messages(chat_id) if not m.deleted]

    def latest_keyboard(self, chat_id: int) -> SentMessage:
        for message in reversed(self.messages(chat_id)):
            if message.keyboard:
                return message
        raise AssertionError(f"chat {chat_id} shows no buttons")

    def answered(self, query_id: str) -> bool:
        return self._queries.get(query_id, False)

    def confirmed(self, update: dict[str, Any]) -> bool:
        """Whether the bot has asked for updates past this one (so it has stored it)."""
        return self.confirmed_offset > int(update["update_id"])

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    async def wait_for(self, predicate: Callable[[], object], timeout: float = 10.0) -> None:
        """Waits until `predicate()` is true, re-checking after every call the bot makes
        and every RECHECK_SECONDS besides: a predicate may read what the bot commits just
        after its last call (its database) or what another fake saw, which no later call
        announces (the next may be a long poll's end, 25 s on). Only when it is seen true
        does this return; the timeout fails the test as before."""
        try:
            await asyncio.wait_for(self._until(predicate, RECHECK_SECONDS), timeout)
        except TimeoutError:
            raise AssertionError(f"condition not reached within {timeout}s") from None

    # --- misbehaving on purpose ------------------------------------------------

    def fail(
        self,
        method: str,
        error: str,
        *,
        times: int = 1,
        chat_id: int | None = None,
        retry_after: int = 1,
        after: int = 0,
    ) -> None:
        """The next `times` calls of `method` (to `chat_id`, if given) fail with `error`.

        With `after`, that many matching calls succeed first.

        Errors: "retry_after" (429), "server_error" (500), "bad_gateway" (502),
        "hang" (no answer until the client gives up), "blocked" (403 bot was blocked
        by the user), "chat_not_found" (400), "bad_request" (400 can't parse entities),
        "no_message_id" (200, but the answer's message has no id; nothing is delivered),
        "malformed" (200 with a body that is not JSON).
        """
        self._failures.append(_Failure(f"{method}:{error}", times, chat_id, retry_after, after))

    def down(self, error: str = "server_error") -> None:
        """An outage: every call to every method fails with `error` until `up`."""
        self._outage = error

    def end_polls(self) -> None:
        """The getUpdates long polls waiting now answer at once, with no update, as when
        their timeout runs out: a failure set since (`fail`, `down`) meets the bot's next
        call now, not when a 25 s poll it began before would have ended."""
        self._polls_ended += 1
        self._notify()

    def up(self) -> None:
        """The outage ends: calls are answered again."""
        self._outage = None

    def recover(self, method: str) -> None:
        """Ends every failure still pending for `method`: its next call is answered."""
        for failure in self._failures:
            if failure.error.split(":", 1)[0] == method:
                failure.times = 0

    def hold_sends(self) -> None:
        """sendMessage calls wait (the message not yet delivered) until `release_sends`."""
        self._sends_open.clear()

    def release_sends(self) -> None:
        """The held sendMessage calls deliver their messages and answer."""
        self._sends_open.set()

    def block(self, chat_id: int, blocked: bool = True) -> None:
        """The person blocks the bot (every send to them: 403) or unblocks it."""
        if blocked:
            self._blocked.add(chat_id)
        else:
            self._blocked.discard(chat_id)

    def limit_rate(self, per_second: int | None) -> None:
        """Answers 429 (retry_after 1) to sendMessage beyond `per_second` in any second."""
        self._rate = per_second

    # --- webhook delivery ------------------------------------------------------

    async def post_webhook(
        self, update: dict[str, Any] | bytes, *, secret: str | None = "from-set-webhook"
    ) -> httpx.Response:
        """POSTs an update to the URL given in setWebhook, with its secret (or `secret`)."""
        assert self.webhook is not None, "the bot has not called setWebhook"
        headers = {"Content-Type": "application/json"}
        token = self.webhook.get("secret_token") if secret == "from-set-webhook" else secret
        if token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(token)
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        async with httpx.AsyncClient() as client:
            return await client.post(str(self.webhook["url"]), content=body, headers=headers)

    def next_update(self) -> dict[str, Any]:
        """Takes the oldest queued update (for delivering it by webhook)."""
        return self._updates.pop(0)

    # --- the API ---------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        bot = self._bots.get(request.path_params["token"])
        if bot is None:
            return _error(401, "Unauthorized")
        if bot is not self:
            return await bot._endpoint(request)
        method = request.path_params["method"]
        params = await _params(request)
        self.calls.append(Call(method, params, time.monotonic()))
        self._notify()
        failure = self._take_failure(method, params)
        if failure is not None:
            return await self._fail_with(failure)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result: JSONResponse = await handler(params)
        self._notify()
        return result

    def _take_failure(self, method: str, params: dict[str, Any]) -> _Failure | None:
        if self._outage is not None:
            return _Failure(f"{method}:{self._outage}", 1, None, 1)
        chat_id = _int(params.get("chat_id"))
        if method.startswith(("send", "edit")) and chat_id in self._blocked:
            return _Failure(f"{method}:blocked", 1, chat_id, 0)
        for failure in self._failures:
            name = failure.error.split(":", 1)[0]
            if name != method or failure.times <= 0:
                continue
            if failure.chat_id is not None and chat_id != failure.chat_id:
                continue
            if failure.after > 0:
                failure.after -= 1
                break
            failure.times -= 1
            return failure
        if method == "sendMessage" and self._rate is not None:
            now = time.monotonic()
            self._recent_sends = [t for t in self._recent_sends if now - t < 1.0]
            if len(self._recent_sends) >= self._rate:
                return _Failure("sendMessage:retry_after", 1, None, 1)
            self._recent_sends.append(now)
        return None

    async def _fail_with(self, failure: _Failure) -> JSONResponse:
        error = failure.error.split(":", 1)[1]
        if error == "hang":
            await self._release.wait()
            return _error(500, "Internal Server Error: released")
        if error == "malformed":
            return _Garbled(None)
        if error == "no_message_id":
            return _ok({"date": int(time.time()), "chat": {"id": 0, "type": "private"}})
        if error == "retry_after":
            return _error(
                429,
                f"Too Many Requests: retry after {failure.retry_after}",
                {"retry_after": failure.retry_after},
            )
        answers = {
            "server_error": (500, "Internal Server Error"),
            "bad_gateway": (502, "Bad Gateway"),
            "blocked": (403, "Forbidden: bot was blocked by the user"),
            "chat_not_found": (400, "Bad Request: chat not found"),
            "bad_request": (400, "Bad Request: can't parse entities"),
        }
        code, description = answers[error]
        return _error(code, description)

    async def _api_getMe(self, params: dict[str, Any]) -> JSONResponse:
        return _ok(self.bot_user)

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> JSONResponse:
        self.webhook = None
        return _ok(True)

    async def _api_setWebhook(self, params: dict[str, Any]) -> JSONResponse:
        self.webhook = params
        return _ok(True)

    async def _api_setMyCommands(self, params: dict[str, Any]) -> JSONResponse:
        self.commands[str(params.get("language_code", ""))] = list(params["commands"])
        return _ok(True)

    async def _api_getUpdates(self, params: dict[str, Any]) -> JSONResponse:
        offset = _int(params.get("offset")) or 0
        if offset:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0 and not self._release.is_set():
            ended = self._polls_ended
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._until(
                        lambda: (
                            self._updates or self._release.is_set() or self._polls_ended != ended
                        )
                    ),
                    timeout,
                )
        limit = _int(params.get("limit")) or 100
        return _ok(self._updates[:limit])

    async def _api_sendMessage(self, params: dict[str, Any]) -> JSONResponse:
        chat_id = _int(params.get("chat_id"))
        text = str(params.get("text", ""))
        if chat_id is None or not text:
            return _error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return _error(400, "Bad Request: message is too long")
        if not self._sends_open.is_set():
            self.sends_held += 1
            self._notify()
            try:
                await self._sends_open.wait()
            finally:
                self.sends_held -= 1
        markup = params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if len(str(button.get("callback_data", "")).encode()) > 64:
                    return _error(400, "Bad Request: BUTTON_DATA_INVALID")
        message = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            text=text,
            entities=list(params.get("entities") or []),
            keyboard=list(markup.get("inline_keyboard", [])),
        )
        self._messages[(chat_id, message.message_id)] = message
        return _ok(message.as_api())

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> JSONResponse:
        message = self._message_at(params)
        if message is None or message.deleted:
            return _error(400, "Bad Request: message to edit not found")
        keyboard = list((params.get("reply_markup") or {}).get("inline_keyboard", []))
        if keyboard == message.keyboard:
            return _error(400, "Bad Request: message is not modified")
        message.keyboard = keyboard
        return _ok(message.as_api())

    async def _api_editMessageText(self, params: dict[str, Any]) -> JSONResponse:
        message = self._message_at(params)
        if message is None or message.deleted:
            return _error(400, "Bad Request: message to edit not found")
        message.text = str(params.get("text", ""))
        message.entities = list(params.get("entities") or [])
        message.keyboard = list((params.get("reply_markup") or {}).get("inline_keyboard", []))
        return _ok(message.as_api())

    async def _api_copyMessage(self, params: dict[str, Any]) -> JSONResponse:
        chat_id = _int(params.get("chat_id"))
        source = _int(params.get("from_chat_id"))
        if chat_id is None or source is None:
            return _error(400, "Bad Request: chat not found")
        caption = params.get("caption")
        message = SentMessage(
            chat_id=chat_id,
            message_id=self._next_message_id(chat_id),
            text="" if caption is None else str(caption),
            entities=[],
            keyboard=[],
        )
        self._messages[(chat_id, message.message_id)] = message
        self.copies.append((source, _int(params.get("message_id")) or 0, chat_id))
        return _ok({"message_id": message.message_id})

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> JSONResponse:
        query_id = str(params.get("callback_query_id", ""))
        if self._queries.get(query_id, True):
            return _error(
                400,
                "Bad Request: query is too old and response timeout expired or query id is invalid",
            )
        self._queries[query_id] = True
        return _ok(True)

    async def _api_sendChatAction(self, params: dict[str, Any]) -> JSONResponse:
        return _ok(True)

    async def _api_deleteMessage(self, params: dict[str, Any]) -> JSONResponse:
        key = (_int(params.get("chat_id")) or 0, _int(params.get("message_id")) or 0)
        message = self._messages.get(key)
        if message is None or message.deleted:
            return _error(400, "Bad Request: message to delete not found")
        message.deleted = True
        self.deleted.setdefault(key[0], set()).add(key[1])
        return _ok(True)

    async def _api_deleteMessages(self, params: dict[str, Any]) -> JSONResponse:
        chat_id = _int(params.get("chat_id")) or 0
        ids = [int(i) for i in params.get("message_ids") or []]
        if not 1 <= len(ids) <= 100:
            return _error(400, "Bad Request: message_ids must have 1-100 items")
        for message_id in ids:
            self.deleted.setdefault(chat_id, set()).add(message_id)
            message = self._messages.get((chat_id, message_id))
            if message is not None:
                message.deleted = True
        return _ok(True)

    def _message_at(self, params: dict[str, Any]) -> SentMessage | None:
        key = (_int(params.get("chat_id")) or 0, _int(params.get("message_id")) or 0)
        return self._messages.get(key)

    def _notify(self) -> None:
        """Wakes everything waiting in `_until` to look again."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _until(self, predicate: Callable[[], object], every: float | None = None) -> None:
        """Returns once `predicate()` is true, looking after each call (and every `every` s)."""
        while not predicate():
            changed = asyncio.ensure_future(self._changed.wait())
            try:
                await asyncio.wait({changed}, timeout=every)
            finally:
                changed.cancel()


class _Garbled(JSONResponse):
    """A 200 whose body is not JSON (a proxy's error page, a cut-off answer)."""

    def render(self, content: Any) -> bytes:
        return b'{"ok": true, "result": [{"update_id": <html>'


async def _params(request: Request) -> dict[str, Any]:
    """The call's parameters, with the JSON-string values the library sends decoded."""
    raw: dict[str, Any] = dict(request.query_params)
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        body = await request.body()
        if body:
            raw.update(json.loads(body))
    elif kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        for key, value in form.items():
            if isinstance(value, str):
                raw[key] = value
            else:  # an uploaded file (sendPhoto, sendVoice...)
                data = await value.read()
                await value.close()
                name, kind = value.filename or "", value.content_type or ""
                raw[key] = FilePart(name, kind, data)
    for key in ("reply_markup", "entities", "commands", "allowed_updates", "message_ids", "scope"):
        value = raw.get(key)
        if isinstance(value, str):
            raw[key] = json.loads(value)
    return raw
