"""The public web chat page (`/chat`): anyone may talk to the bot as a family, from a browser.

No login and no identity: a random anonymous id in an HttpOnly, SameSite=Strict
session cookie is the conversation's address. A message posted here is stored
by the same receiver as a Telegram or WhatsApp message (receive -> inbox ->
pipeline -> outbox -> the web chat channel), so the crisis check, the flows and
the hand-off apply unchanged. The page works without script (a form and a
redirect); `chat.js` adds live replies by long polling `/chat/replies`.

The conversation shown is read from the database (`channel.WebChatChannel`): a
reload, a closed tab or a restart of the bot shows every reply already sent,
and after a quick exit or an erasure the address shows nothing of before. Until
a reply follows the person's last message the page says it is waiting for one.

After a quick exit (`keluar`) the phone may be in the hands of the person the
family fears: until they write again, the address shows a blank note
(`note.html`: a neutral title, no heading, no intro, no links, no lines), on a
reload, in a new tab, and live (a poll answers `left` and the script loads it).
Whether they left is derived from the data (`ChatView.left`), never stored. A
form posted without the script waits briefly for the bot's reply, so the page it
is sent back to already shows it (or the blank note).

Each post carries a CSRF token bound to the cookie's id and a random message id
(the dedupe key: a form posted twice is one message). Responses carry their own
strict Content-Security-Policy (no inline script, no framing).

Limits slow a flood; they never lose a person's words. A conversation may post
`Limits.per_address` messages a minute (far above anyone answering a
questionnaire), and one network (`bot.clientaddr`: an IPv6 client by its /64) may start
`per_network` conversations a minute (families behind one operator's shared address
are not counted together once they talk). A post over a conversation's limit is still stored when
the crisis check finds any concern in it (not one starting a conversation past the
network's limit: new cookies are free); otherwise it is refused with 429 and the
time to wait, the words stay in the text box, and the script sends them again.
A long message is taken whole (up to `MAX_CHARS`, the text box's own limit): the
crisis check reads all of it and the bot reads the first part with a note, as on
Telegram; the page counts the characters left while the person types.

    (no exceptions of its own: bad input gets a kind note and a 400/429 status)
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from bot.channels.base import Inbound, Receiver
from bot.channels.textparts import emphasis_parts
from bot.clientaddr import client_network
from bot.core.pipeline import INLINE_CLASSIFY_CHARS
from bot.core.texts import BotTexts
from bot.core.writehealth import storage_unavailable
from bot.logthrottle import LogThrottle
from bot.web import BODY_TOO_LARGE, CsrfKey, WebServer
from flows.anywhere import START_LANGUAGE
from storage.channels.webchat import CHANNEL as NAME
from storage.channels.webchat import ChatLine, Cursor

if TYPE_CHECKING:
    from bot.channels.webchat.channel import WebChatChannel

__all__ = ["CHAT_PATH", "CSP", "MAX_CHARS", "Limits", "WebChatPage", "mount_webchat"]

log = logging.getLogger(__name__)

CHAT_PATH = "/chat"
COOKIE = "lk3_chat"
MAX_CHARS = 20_000
"""The most one post may carry: the text box's own limit, far beyond a chat message."""
MAX_POST_BYTES = 12 * MAX_CHARS + 16 * 1024
"""The largest post body: the longest message always fits (4 UTF-8 bytes a character, each
sent as %XX), with the other fields; past it, the "too long" note (`bot.web.BodyLimit`)."""
_HERE = Path(__file__).parent
_ID = re.compile(r"[A-Za-z0-9_-]{32}")
_MID = re.compile(r"[0-9a-f]{32}")
_STATIC = {"chat.js": "text/javascript", "chat.css": "text/css", "note.css": "text/css"}

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class Limits:
    # Messages one conversation may post per window: a person answering the
    # questionnaire a question a second stays under it; a script does not.
    per_address: int = 60
    # Conversations one network address may start (or take up again) per window.
    per_network: int = 60
    # Past that, conversations that start with a crisis concern are still taken, up to this
    # many more per window: families behind one carrier's shared address are not held back
    # by a flood from it, and a flood of made-up crises still cannot alert without limit.
    crisis_starts_per_network: int = 20
    window_seconds: float = 60.0
    poll_seconds: float = 20.0  # how long a poll waits for a reply before answering empty
    # How long a form posted without the script waits for the bot's reply before the page
    # it is sent back to is shown (a quick exit then shows the blank note at once).
    reply_seconds: float = 5.0
    # Polls read the database (and decrypt up to a conversation's lines): a page polls
    # a few times a minute; a script hammering it would take CPU from crisis turns.
    polls_per_address: int = 120
    polls_per_network: int = 600


POLLS_PER_POST = 3
"""Polls each message posted within the window adds to the conversation's poll limit."""


@dataclass(frozen=True, slots=True)
class Shown:
    """One line as the page prints it."""

    seq: int
    who: str  # "bot" or "you"
    text: str = field(repr=False)
    options: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def parts(self) -> tuple[tuple[str, bool], ...]:
        """The bot's `*emphasis*` as bold runs; a person's own words exactly as typed."""
        return emphasis_parts(self.text) if self.who == "bot" else ((self.text, False),)


@dataclass(slots=True)
class _Window:
    """A sliding window counter per key, on an injected clock."""

    limit: int
    seconds: float
    stamps: dict[str, deque[float]] = field(default_factory=dict)

    def _current(self, key: str, now: float) -> deque[float]:
        stamps = self.stamps.setdefault(key, deque())
        while stamps and now - stamps[0] >= self.seconds:
            stamps.popleft()
        return stamps

    def active(self, key: str, now: float) -> bool:
        """Whether `key` was counted within the window."""
        return bool(self._current(key, now))

    def wait(self, key: str, now: float) -> float:
        """Seconds until `key` may be counted again (0 when it may now)."""
        stamps = self._current(key, now)
        if len(stamps) < self.limit:
            return 0.0
        return max(0.0, stamps[0] + self.seconds - now)

    def count(self, key: str, now: float) -> int:
        """How many times `key` was counted within the window."""
        return len(self._current(key, now))

    def allow(self, key: str, now: float, extra: int = 0) -> bool:
        """Counts `key` once if it is under the limit (raised by `extra`); else False."""
        stamps = self._current(key, now)
        if len(stamps) >= self.limit + extra:
            return False
        stamps.append(now)
        if len(self.stamps) > 10_000:  # forget quiet keys so the table stays small
            for quiet in [k for k, v in self.stamps.items() if not v]:
                del self.stamps[quiet]
        return True


class WebChatPage:
    """The page's endpoints, bound to the channel and the bot's receiver."""

    def __init__(
        self,
        channel: WebChatChannel,
        receive: Receiver,
        texts: BotTexts,
        *,
        secure_cookies: bool,
        limits: Limits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        concern: Callable[[str], bool] | None = None,
        read_chars: int = MAX_CHARS,
    ) -> None:
        """`concern` tells whether a text raises any crisis concern (then no limit holds it
        back; without it every post over a limit is taken); `read_chars` is how much of a
        message the bot reads at once (the page counts down to it)."""
        self.channel = channel
        self._concern = concern
        self.read_chars = read_chars
        self.receive = receive
        self.texts = texts
        self.secure_cookies = secure_cookies
        self.limits = limits or Limits()
        self._monotonic = monotonic
        # Refused and held-back posts: the first logged, then a count a minute (bot.logthrottle).
        self._noise = LogThrottle(log, clock=lambda: self._monotonic())
        # Derived from the master key: a page rendered before a restart still posts after it.
        self._csrf = CsrfKey(channel.csrf_key())
        self._per_address = _Window(self.limits.per_address, self.limits.window_seconds)
        self._per_network = _Window(self.limits.per_network, self.limits.window_seconds)
        self._crisis_starts = _Window(
            self.limits.crisis_starts_per_network, self.limits.window_seconds
        )
        self._polls_per_address = _Window(self.limits.polls_per_address, self.limits.window_seconds)
        self._polls_per_network = _Window(self.limits.polls_per_network, self.limits.window_seconds)
        self._templates = Environment(
            loader=FileSystemLoader(_HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    # --- helpers -------------------------------------------------------------

    def _lang(self, raw: object) -> str:
        languages = self.texts.languages
        return raw if isinstance(raw, str) and raw in languages else languages[0]

    def _t(self, lang: str, key: str, **values: str) -> str:
        return self.texts.get("webchat." + key, lang, **values)

    @staticmethod
    def _address(request: Request) -> str | None:
        raw = request.cookies.get(COOKIE, "")
        return raw if _ID.fullmatch(raw) else None

    def _finish(self, response: Response, new_address: str | None = None) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if new_address is not None:
            # A session cookie: closing the browser ends the conversation's address,
            # which is what a person on a shared device needs.
            response.set_cookie(
                COOKIE,
                new_address,
                path=CHAT_PATH,
                secure=self.secure_cookies,
                httponly=True,
                samesite="strict",
            )
        return response

    def _shown(self, lines: tuple[ChatLine, ...], lang: str) -> list[Shown]:
        """The lines in the page's words; a message whose words were not kept is left out."""
        shown = []
        for line in lines:
            text = self._t(lang, "start") if line.kind == "start" else line.text
            if text:
                shown.append(Shown(line.seq, line.who, text, line.options))
        return shown

    async def _render(
        self, address: str, lang: str, *, notice: str = "", status: int = 200, draft: str = ""
    ) -> HTMLResponse:
        view = await self.channel.view(address)
        if view.left:
            return self._note(address, lang, status=status, draft=draft)
        lines = self._shown(view.lines, lang)
        last_bot = next((line for line in reversed(lines) if line.who == "bot"), None)
        html = self._templates.get_template("chat.html").render(
            t=lambda key, **values: self._t(lang, key, **values),
            lang=lang,
            lines=lines,
            choices=last_bot.options if last_bot is not None else (),
            last_seq=view.newest,
            cursor=str(view.cursor),
            waiting=bool(lines) and lines[-1].who == "you",
            statement=_statement(view.statement),
            csrf=self._csrf.token("w:" + address),
            mid=secrets.token_hex(16),
            notice=notice,
            draft=draft,
            limit=MAX_CHARS,
            read=self.read_chars,
            path=CHAT_PATH,
        )
        return HTMLResponse(html, status_code=status)

    def _note(self, address: str, lang: str, *, status: int, draft: str) -> HTMLResponse:
        """The blank note shown after a quick exit: nothing on it says who it belongs to.

        Writing in it is writing to the conversation again, so it posts like the chat's
        own form; a note about a post not taken would name the service, so none is shown.
        """
        html = self._templates.get_template("note.html").render(
            t=lambda key, **values: self._t(lang, key, **values),
            lang=lang,
            csrf=self._csrf.token("w:" + address),
            mid=secrets.token_hex(16),
            draft=draft,
            limit=MAX_CHARS,
            path=CHAT_PATH,
        )
        return HTMLResponse(html, status_code=status)

    async def _current_options(self, address: str) -> tuple[tuple[str, str], ...]:
        for line in reversed((await self.channel.view(address)).lines):
            if line.who == "bot":
                return line.options
        return ()

    # --- endpoints -----------------------------------------------------------

    async def page(self, request: Request) -> Response:
        address = self._address(request)
        new = None
        if address is None:
            address = new = secrets.token_urlsafe(24)
        lang = self._lang(request.query_params.get("lang"))
        return self._finish(await self._render(address, lang), new)

    async def post(self, request: Request) -> Response:
        over = bool(request.scope.get(BODY_TOO_LARGE))  # only a script sends so much: unread
        form = await request.form()
        lang = self._lang(form.get("lang") or request.query_params.get("lang"))
        wants_json = "application/json" in request.headers.get("accept", "")
        address = self._address(request)
        if over:
            return await self._answer(request, address, lang, "too_long", 413, wants_json)
        token = form.get("csrf")
        text_raw, choice_raw = form.get("text"), form.get("choice")
        text = text_raw.strip() if isinstance(text_raw, str) else ""
        if (
            address is None
            or not isinstance(token, str)
            or not self._csrf.check("w:" + address, token)
        ):
            # A lost cookie or a forged post: a fresh page, said kindly, the words still in
            # the box (a page from before a restart posts as usual: the key is derived).
            return await self._answer(
                request, address, lang, "expired", 403, wants_json, draft=text[:MAX_CHARS]
            )
        choice = choice_raw if isinstance(choice_raw, str) else ""
        start = form.get("start") is not None
        if len(choice) > MAX_CHARS:
            return await self._answer(request, address, lang, "too_long", 400, wants_json)
        if len(text) > MAX_CHARS and not await self._worrying(text):
            # Only a script gets past the text box's limit: refused kindly, unless the crisis
            # check finds a cry for help in it, which is taken whole (the pipeline checks
            # every part of it and reads the first part, as on Telegram).
            return await self._answer(
                request, address, lang, "too_long", 400, wants_json, draft=text[:MAX_CHARS]
            )
        if not text and not choice and not start:
            return await self._answer(request, address, lang, "empty", 400, wants_json)
        network = client_network(request)
        starting = not self._per_address.active(address, self._monotonic())
        wait = self._over_limit(address, network)
        if wait is not None:
            if await self._worrying(text or choice) and (
                not starting or self._crisis_starts.allow(network, self._monotonic())
            ):
                # A limit may slow a person down, never hold back a cry for help in a
                # conversation under way. Conversations starting with one have a budget of
                # their own per network, past the ordinary one: new cookies are free, so a
                # flood of made-up crises must still meet a limit.
                self._noise.warning("web chat post over the rate limit taken: crisis concern")
                if starting:  # under way now: what they write next is not a new start
                    self._per_address.allow(address, self._monotonic())
            else:
                self._noise.info("web chat post held back: rate limit")
                return await self._answer(
                    request, address, lang, "too_fast", 429, wants_json, draft=text, retry=wait
                )
        mid_raw = form.get("mid")
        mid = mid_raw if isinstance(mid_raw, str) and _MID.fullmatch(mid_raw) else None
        mid = mid or secrets.token_hex(16)
        inbound = await self._inbound(address, mid, text, choice, start, lang)
        try:
            if inbound.kind == "text" and lang != self.texts.languages[0]:
                view = await self.channel.view(address)
                if view.first is None:
                    # Words typed first on the English page: the conversation starts in English.
                    opening = Inbound(NAME, f"{mid}-start", address, "start", self._opening(lang))
                    await self.receive(opening)
            stored = await self.receive(inbound)
        except Exception as exc:
            if not storage_unavailable(exc):
                raise
            # Said once by bot.core.writehealth; the person's words stay in the box.
            return await self._answer(
                request, address, lang, "unavailable", 503, wants_json, draft=text, retry=30.0
            )
        if stored:
            # Stored with the message: the person's line is in the conversation already.
            self.channel.wake(address)
            if not wants_json:
                await self._reply_or_timeout(address)
        return await self._answer(request, address, lang, "", 200, wants_json)

    async def done(self, request: Request) -> Response:
        """The person read what their erasure deleted and closed it: then the blank note.

        Someone who deleted everything may not want the next person at the screen to see
        that they were here, so the page they are sent to names nothing (as after a quick
        exit), until they write again.
        """
        form = await request.form()
        lang = self._lang(form.get("lang"))
        address = self._address(request)
        token = form.get("csrf")
        if (
            address is None
            or not isinstance(token, str)
            or not self._csrf.check("w:" + address, token)
        ):
            return await self._answer(request, address, lang, "expired", 403, False)
        await self.channel.statement_read(address)
        return self._finish(RedirectResponse(f"{CHAT_PATH}?lang={lang}", status_code=303))

    async def _reply_or_timeout(self, address: str) -> None:
        """Waits briefly for the reply to the person's newest line (a form posted without the
        script has nothing else to show it when it comes; after a quick exit, the note)."""
        if self.limits.reply_seconds <= 0:
            return
        view = await self.channel.view(address)
        if view.left or not view.lines or view.lines[-1].who == "bot":
            return
        await self.channel.wait(address, view.cursor, self.limits.reply_seconds)

    async def _worrying(self, text: str) -> bool:
        """Whether the crisis check finds any concern in `text` (true without a check). A
        long text is checked in a thread, so a flood of them cannot stall the event loop
        that carries crisis turns."""
        if self._concern is None:
            return True
        if not text:
            return False
        if len(text) <= INLINE_CLASSIFY_CHARS:
            return self._concern(text)
        return await asyncio.to_thread(self._concern, text)

    def _over_limit(self, address: str, network: str) -> float | None:
        """None when the post is within the limits, else the seconds to wait.

        The network's limit counts conversations starting (or taken up again after a
        quiet window), not messages, so families sharing an operator's address do not
        use up each other's allowance.
        """
        now = self._monotonic()
        # The network first: a start it refuses must leave no mark, or the same cookie's
        # next post would count as a conversation under way and pass unchecked.
        if not self._per_address.active(address, now) and not self._per_network.allow(network, now):
            return max(1.0, self._per_network.wait(network, now))
        if not self._per_address.allow(address, now):
            return max(1.0, self._per_address.wait(address, now))
        return None

    def _opening(self, lang: str) -> str:
        """The start parameter of the page in `lang`: the flows then speak it (`lang-en`)."""
        return "" if lang == self.texts.languages[0] else START_LANGUAGE + lang

    async def _inbound(
        self, address: str, mid: str, text: str, choice: str, start: bool, lang: str
    ) -> Inbound:
        """The message for the pipeline (a pressed button of the last reply, or words)."""
        if choice:
            if choice in dict(await self._current_options(address)):
                return Inbound(NAME, mid, address, "choice", choice)
            text = choice  # a button from an old page: the words still reach the bot
        if text:
            return Inbound(NAME, mid, address, "text", text)
        return Inbound(NAME, mid, address, "start", self._opening(lang))

    async def _answer(
        self,
        request: Request,
        address: str | None,
        lang: str,
        note: str,
        status: int,
        wants_json: bool,
        *,
        draft: str = "",
        retry: float | None = None,
    ) -> Response:
        """The answer to a post: JSON for the script, else the page (keeping the words
        of a post not taken in the text box)."""
        new = None
        if address is None:
            address = new = secrets.token_urlsafe(24)
        if wants_json:
            notice = self._t(lang, note, limit=str(MAX_CHARS)) if note else ""
            body: dict[str, Any] = {"notice": notice}
            if note == "expired":
                body["reload"] = True
            headers = {}
            if retry is not None:
                body["retry"] = round(retry, 1)
                headers["Retry-After"] = str(math.ceil(retry))
            response = JSONResponse(body, status_code=status, headers=headers)
            return self._finish(response, new)
        if not note:
            return self._finish(RedirectResponse(f"{CHAT_PATH}?lang={lang}", status_code=303))
        key = "too_fast_form" if note == "too_fast" else note
        notice = self._t(lang, key, limit=str(MAX_CHARS))
        page = await self._render(address, lang, notice=notice, status=status, draft=draft)
        return self._finish(page, new)

    async def replies(self, request: Request) -> Response:
        address = self._address(request)
        if address is None:
            return self._finish(JSONResponse({"lines": []}, status_code=403))
        now = self._monotonic()
        network = client_network(request)
        # The network's window first: a script polling with made-up cookies must not grow
        # the per-address table before its network is stopped. Each message the
        # conversation posted lately buys a few more polls: its own line and the replies
        # come back through them, so a burst of messages never leaves the page unable to
        # show the answer to a cry for help (posts have their own limit).
        posted = POLLS_PER_POST * self._per_address.count(address, now)
        if not self._polls_per_network.allow(network, now) or not self._polls_per_address.allow(
            address, now, extra=posted
        ):
            self._noise.info("web chat poll refused: rate limit")
            return self._finish(JSONResponse({"lines": [], "later": True}, status_code=429))
        # Garbled, forged or another address's: read as "start over", never as an error.
        after = Cursor.parse(request.query_params.get("after", "0"))
        lang = self._lang(request.query_params.get("lang"))
        wait = request.query_params.get("wait", "1") != "0"
        timeout = self.limits.poll_seconds if wait else 0.0
        view = await self.channel.wait(address, after, timeout)
        lines = [_json(line) for line in self._shown(view.lines, lang)]
        # `reset`: the page's cursor is from an earlier epoch (a quick exit, an erasure,
        # everything expired, or it slept past what is kept): it clears what it shows,
        # and `lines` are all there is now. `first`: lines older than it are no longer
        # kept, so the page removes them too; None when nothing is. `last`: the newest
        # line's number; `cursor`: what the page sends as `after` next time. `left`: the
        # person left with a quick exit and has not written since; the page loads the
        # blank note (no lines are sent).
        body = {
            "lines": lines,
            "first": view.first,
            "last": view.newest,
            "cursor": str(view.cursor),
            "reset": view.reset,
            "left": view.left,
            # What an erasure deleted, shown where the conversation was ("" once read).
            "statement": _statement_json(view.statement),
        }
        return self._finish(JSONResponse(body))

    async def static(self, request: Request) -> Response:
        name = str(request.path_params.get("name", ""))
        if name not in _STATIC:
            return self._finish(Response("not found", status_code=404))
        response = FileResponse(_HERE / "static" / name, media_type=_STATIC[name])
        return self._finish(response)


def _statement(text: str) -> Shown:
    """An erasure's statement, printed as the bot's words are ("": nothing to print)."""
    return Shown(0, "bot", text)


def _statement_json(text: str) -> list[list[Any]]:
    return [[piece, bold] for piece, bold in _statement(text).parts] if text else []


def _json(line: Shown) -> dict[str, Any]:
    return {
        "seq": line.seq,
        "who": line.who,
        "text": line.text,
        "parts": [[piece, bold] for piece, bold in line.parts],
        "options": [[value, label] for value, label in line.options],
    }


def mount_webchat(web: WebServer, page: WebChatPage) -> None:
    """Adds the web chat's routes; the channel's waiting polls end when the server stops."""
    web.limit_body(CHAT_PATH, MAX_POST_BYTES, kindly=True)
    web.add_route(CHAT_PATH, page.page, methods=["GET"])
    web.add_route(CHAT_PATH + "/send", page.post, methods=["POST"])
    web.add_route(CHAT_PATH + "/done", page.done, methods=["POST"])
    web.add_route(CHAT_PATH + "/replies", page.replies, methods=["GET"])
    web.add_route(CHAT_PATH + "/static/{name}", page.static, methods=["GET"])
    web.on_stop(page.channel.wake_all)
