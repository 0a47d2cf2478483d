"""The WhatsApp channel, through Twilio's Programmable Messaging: families write, the bot answers.

The only module that imports `twilio`. Inbound, Twilio POSTs each message to
`/twilio/whatsapp`; the request is checked against the configured public URL
with the library's `RequestValidator` (403 otherwise, nothing stored), stored in
the inbox under Twilio's `MessageSid` (a retried webhook is a no-op) and
answered at once with empty TwiML: processing continues from the inbox, so a
slow turn never makes Twilio time out and post again.

Outbound, `send` delivers one reply with the library's async client: choices as a
numbered list, or through the office's quick-reply and list-picker content
templates; long texts in parts of at most 1600 characters. WhatsApp takes free
text only within 24 hours of the person's last message (`whatsapp_window`). After
that, a booking reminder goes as the approved reminder template, a no-show
follow-up as the follow-up template, and anything else (a counsellor's reply) is
held: the family gets the neutral "new message" template once, and the reply
goes as soon as they answer. With no template configured, the reply fails with
the code `outside_window_no_template` instead of being refused by Twilio.

Status callbacks (`/twilio/status`, checked the same way) record each message's
progress; a message the handset could not take is sent again a few times, one
that can never arrive (invalid number, opted out) marks the person unreachable.

Behind a reverse proxy the URL Twilio signed is the public one: it is always
rebuilt from `[web] public_url`, never from the request's Host or X-Forwarded-*
headers, which anyone can set.

    WhatsAppSetupError   the channel cannot start: Twilio refused the credentials or is unreachable
    (every other Twilio error stays inside: sends raise `DeliveryError`s)
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import aiohttp
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.booking.timefmt import format_time, format_when
from bot.channels.base import (
    DeliveryError,
    Held,
    Inbound,
    Outbound,
    Receiver,
    RetryLater,
    Undeliverable,
    Unreachable,
    numbered_list,
)
from bot.channels.textparts import split_text
from bot.channels.whatsapp_window import WINDOW, is_open
from bot.config import WhatsApp, WhatsAppTemplates
from bot.texts import BotTexts
from storage.channels.whatsapp import AWAITING_WINDOW, Window
from storage.conversation.delivery import DELIVERY_STATUSES, FAILED_STATUSES, DeliveryUpdate
from storage.store import Store

__all__ = [
    "CHANNEL",
    "HOLD",
    "HOLD_EXPIRED",
    "INCOMING_PATH",
    "MAX_TEXT",
    "MAX_WEBHOOK_BODY",
    "NO_TEMPLATE",
    "STATUS_PATH",
    "Part",
    "Tuning",
    "WhatsAppChannel",
    "WhatsAppSetupError",
    "delivery_error",
    "message_inbounds",
    "session_parts",
]

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
INCOMING_PATH = "/twilio/whatsapp"
STATUS_PATH = "/twilio/status"
SIGNATURE_HEADER = "X-Twilio-Signature"
MAX_TEXT = 1600  # Twilio refuses a longer Body
MAX_TEMPLATE_BODY = 1024  # a quick-reply or list-picker body
MAX_BUTTON_TITLE = 20  # quick-reply button
MAX_LIST_ITEM = 24  # list-picker row
MAX_CHOICE_ID = 200
MAX_QUICK_REPLIES = 3  # in a session, without approval
MAX_WEBHOOK_BODY = 64 * 1024  # Twilio's own posts are a few kilobytes
HOLD = timedelta(days=7)
"""How long a reply waits for the person to open the window again before it fails."""
REDELIVERIES = 3
"""How often a message the handset could not take is sent again before it is reported."""
NO_TEMPLATE = "outside_window_no_template"
HOLD_EXPIRED = "outside_window_expired"
WINDOW_CLOSED = 63016
# Twilio error codes that mean this person cannot be reached on WhatsApp at this number.
UNREACHABLE_CODES = {
    21211: "invalid_number",
    21614: "not_a_mobile_number",
    21610: "opted_out",
    63003: "not_on_whatsapp",
    63024: "invalid_recipient",
    30004: "blocked",
    30005: "unknown_handset",
    30006: "landline",
}
# ... and those worth another try later (a phone switched off, a queue full).
TRANSIENT_CODES = frozenset({30001, 30003, 30008, 63018})
RATE_LIMIT_CODES = frozenset({20429, 63018})
_EMPTY_TWIML = str(MessagingResponse())
_RETRY_AFTER: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "twilio_retry_after", default=None
)

# The library logs request lines and headers at INFO: the account SID is in every URL.
_HTTP_LOG = logging.getLogger("twilio.async_http_client")
_HTTP_LOG.setLevel(logging.WARNING)


class WhatsAppSetupError(Exception):
    """The WhatsApp channel cannot start; the message says what to check."""


class _WindowClosed(Exception):
    """Twilio refused free text: the window is closed although our clock said open."""


@dataclass(frozen=True, slots=True)
class Tuning:
    """Pacing and timeouts; the defaults suit Twilio, tests shorten them."""

    per_chat_interval: float = 1.0  # keeps one person's messages in order on their phone
    max_per_second: float = 20.0
    request_timeout: float = 15.0
    redelivery_delay: float = 300.0  # first wait before sending again what a handset missed


@dataclass(frozen=True, slots=True)
class Part:
    """One Twilio message: a Body, or a content template with its variables."""

    body: str = ""
    content_sid: str = ""
    variables: tuple[tuple[str, str], ...] = ()


class _TwilioHttp(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The library's async HTTP client, pointed at `api_base_url`, credentials in a header.

    aiohttp 3.14 deprecates the `BasicAuth` the library builds from `auth` (one
    DeprecationWarning per request), so the Authorization header is built here and
    nothing deprecated runs. Each answer's `Retry-After` is kept for the caller.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(logger=_HTTP_LOG)  # opens an aiohttp session: needs a running loop
        parsed = urlsplit(base_url.rstrip("/"))
        self._rewrite = parsed.netloc != "api.twilio.com" or parsed.scheme != "https"
        self._scheme = parsed.scheme
        self._netloc = parsed.netloc
        self._prefix = parsed.path
        self._default_timeout = timeout

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        if self._rewrite:
            parts = urlsplit(url)
            url = urlunsplit(
                (self._scheme, self._netloc, self._prefix + parts.path, parts.query, "")
            )
        headers = dict(headers or {})
        if auth is not None:
            pair = f"{auth[0]}:{auth[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        _RETRY_AFTER.set(None)
        async with asyncio.timeout(timeout or self._default_timeout):
            response: TwilioResponse = await super().request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                auth=None,
                timeout=None,
                allow_redirects=allow_redirects,
            )
        _RETRY_AFTER.set(_seconds(response.headers.get("Retry-After")))
        return response


class WhatsAppChannel:
    """Sends replies through Twilio and turns Twilio's webhooks into stored `Inbound`s."""

    name = CHANNEL
    buttons = False

    def __init__(
        self,
        settings: WhatsApp,
        public_url: str,
        texts: BotTexts,
        *,
        tz: tzinfo,
        default_language: str,
        clock: Callable[[], datetime],
        tuning: Tuning = Tuning(),
    ) -> None:
        self._settings = settings
        self._public_url = public_url.rstrip("/")
        self._texts = texts
        self._tz = tz
        self._default_language = default_language
        self._clock = clock
        self._tuning = tuning
        self._validator = RequestValidator(settings.auth_token)
        self._http: _TwilioHttp | None = None
        self._client: Any = None
        self._receive: Receiver | None = None
        self._store: Store | None = None
        self._wake: Callable[[], None] = lambda: None
        self._parts_sent: dict[int, list[str]] = {}  # outbox id -> sids of the parts sent

    @property
    def max_per_second(self) -> float:
        return self._tuning.max_per_second

    @property
    def per_chat_interval(self) -> float:
        return self._tuning.per_chat_interval

    def bind(self, receive: Receiver, store: Store, wake: Callable[[], None]) -> None:
        """Where messages go (the pipeline), what holds windows and receipts, and how to
        tell the outbox sender that a reply is due again."""
        self._receive = receive
        self._store = store
        self._wake = wake

    # --- lifecycle ----------------------------------------------------------

    async def open(self) -> None:
        """Creates the async client in the running loop and checks the credentials."""
        self._http = _TwilioHttp(self._settings.api_base_url, self._tuning.request_timeout)
        sid = self._settings.account_sid
        self._client = Client(
            sid, self._settings.auth_token, account_sid=sid, http_client=self._http, environment={}
        )
        try:
            account = await self._client.api.v2010.accounts(sid).fetch_async()
        except TwilioException as exc:
            await self.close()
            status = getattr(exc, "status", 0)
            if status in (401, 403, 404):
                raise WhatsAppSetupError(
                    "Twilio refused the account SID or auth token; check [whatsapp] "
                    "account_sid and auth_token (or LK3_TWILIO_ACCOUNT_SID / LK3_TWILIO_AUTH_TOKEN)"
                ) from None
            raise WhatsAppSetupError(
                f"Twilio answered {status} when asked for the account; check [whatsapp] "
                "api_base_url and Twilio's status page"
            ) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            await self.close()
            raise WhatsAppSetupError(
                f"the Twilio API could not be reached ({type(exc).__name__}); "
                "check [whatsapp] api_base_url and the network"
            ) from None
        if getattr(account, "status", "active") not in (None, "active"):
            await self.close()
            raise WhatsAppSetupError(f"the Twilio account is {account.status}, not active")

    async def close(self) -> None:
        """Closes the HTTP session (inside the loop that opened it)."""
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._client = None

    # --- sending ------------------------------------------------------------

    async def send(self, message: Outbound) -> str | None:
        """Delivers one reply; returns the SIDs of its messages, comma-separated."""
        store = self._bound_store()
        to = _to_address(message.address)
        window = await store.whatsapp.for_row(message.outbox_id)
        now = self._clock()
        if window is None or is_open(window.last_inbound_at, now):
            try:
                return await self._send_in_session(message, to, window)
            except _WindowClosed:
                if window is None:
                    raise RetryLater("window_closed") from None
                log.info(
                    "whatsapp: outbox row %s refused for the window (63016); contact %s",
                    message.outbox_id,
                    window.contact_id,
                )
                await store.whatsapp.close(window.contact_id, now - WINDOW)
        assert window is not None
        return await self._send_outside(message, to, window, now)

    async def _send_in_session(self, message: Outbound, to: str, window: Window | None) -> str:
        language = window.language if window is not None and window.language else ""
        templates = self._templates(language)
        chooser = self._texts.get("whatsapp.choose", language or self._default_language)
        parts = session_parts(message.text, message.options, templates, chooser)
        sent = self._parts_sent.pop(message.outbox_id, [])
        for index in range(len(sent), len(parts)):
            try:
                sent.append(await self._create(to, parts[index], message.outbox_id))
            except TwilioException as exc:
                error = delivery_error(exc)
                if sent and not isinstance(error, Unreachable):
                    self._parts_sent[message.outbox_id] = sent  # a retry sends only the rest
                if _code_of(exc) == WINDOW_CLOSED:
                    raise _WindowClosed from None
                raise error from None
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                if sent:
                    self._parts_sent[message.outbox_id] = sent
                raise RetryLater(_network_code(exc)) from None
        return ",".join(sent)

    async def _send_outside(self, message: Outbound, to: str, window: Window, now: datetime) -> str:
        """Outside the window: an approved template, or the reply is held for the person."""
        store = self._bound_store()
        language = window.language or self._default_language
        templates = self._templates(language)
        purpose, booking_id, kind = _ref_purpose(window.ref)
        if purpose:
            sid = templates.reminder if purpose == "reminder" else templates.follow_up
            if not sid:
                log.warning(
                    "whatsapp: outbox row %s (%s) is outside the 24-hour window and no %s "
                    "template is configured (%s)",
                    message.outbox_id,
                    window.ref,
                    purpose,
                    NO_TEMPLATE,
                )
                raise Undeliverable(NO_TEMPLATE)
            booking = await store.bookings.get(booking_id)
            if booking is None:
                raise Undeliverable("booking_closed")
            if purpose == "reminder":
                when = self._texts.get(
                    f"whatsapp.reminder_when.{kind}",
                    language,
                    time=format_time(booking.starts_at, self._tz, language),
                )
            else:
                when = format_when(booking.starts_at, self._tz, language)
            part = Part(content_sid=sid, variables=(("1", when),))
            return await self._create_once(to, part, message.outbox_id)
        if not templates.new_message:
            log.warning(
                "whatsapp: outbox row %s is outside the 24-hour window and no new_message "
                "template is configured (%s)",
                message.outbox_id,
                NO_TEMPLATE,
            )
            raise Undeliverable(NO_TEMPLATE)
        if window.held_at is not None and now >= window.held_at + HOLD:
            log.info("whatsapp: outbox row %s held too long; failed", message.outbox_id)
            raise Undeliverable(HOLD_EXPIRED)
        if window.notified_at is None:
            # Says only that there is a message: the words wait until the person opens the chat.
            await self._create_once(to, Part(content_sid=templates.new_message), None)
            await store.whatsapp.notified(window.contact_id, now)
        if await store.whatsapp.hold(message.outbox_id, (window.held_at or now) + HOLD, now):
            log.info(
                "whatsapp: outbox row %s held until contact %s writes again",
                message.outbox_id,
                window.contact_id,
            )
        raise Held(AWAITING_WINDOW)

    async def _create_once(self, to: str, part: Part, outbox_id: int | None) -> str:
        try:
            return await self._create(to, part, outbox_id)
        except TwilioException as exc:
            raise delivery_error(exc) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RetryLater(_network_code(exc)) from None

    async def _create(self, to: str, part: Part, outbox_id: int | None) -> str:
        """One message to Twilio; `outbox_id` goes into the status callback's address."""
        if self._client is None:
            raise RetryLater("not_open")
        params: dict[str, Any] = {"to": to, "from_": self._settings.from_number}
        if part.content_sid:
            params["content_sid"] = part.content_sid
            if part.variables:
                params["content_variables"] = json.dumps(dict(part.variables), ensure_ascii=False)
        else:
            params["body"] = part.body
        if outbox_id is not None and self._public_url:
            params["status_callback"] = f"{self._public_url}{STATUS_PATH}?o={outbox_id}"
        created = await self._client.messages.create_async(**params)
        return str(created.sid)

    def _templates(self, language: str) -> WhatsAppTemplates:
        return self._settings.templates_for(language or self._default_language)

    def _bound_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("WhatsAppChannel.bind was not called before sending")
        return self._store

    # --- webhooks -----------------------------------------------------------

    async def incoming(self, request: Request) -> Response:
        """`POST /twilio/whatsapp`: stores the message, then answers with empty TwiML."""
        form = await self._verified_form(request, INCOMING_PATH)
        if isinstance(form, Response):
            return form
        try:
            inbounds = message_inbounds(form)
        except ValueError:
            log.warning("whatsapp webhook: a signed request that is not a message was ignored")
            return _twiml()
        if self._receive is None:
            raise RuntimeError("WhatsAppChannel.bind was not called before receiving")
        try:
            for inbound in inbounds:
                await self._receive(inbound)
        except Exception:
            log.exception("whatsapp webhook: a message could not be stored")
            return PlainTextResponse("try again", status_code=503)
        return _twiml()

    async def status(self, request: Request) -> Response:
        """`POST /twilio/status`: records a message's progress; acts on a failure."""
        form = await self._verified_form(request, STATUS_PATH)
        if isinstance(form, Response):
            return form
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        state = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
        if not sid or state not in DELIVERY_STATUSES:
            log.info("whatsapp status: a callback without a known status was ignored")
            return Response(status_code=200)
        raw_code = form.get("ErrorCode", "")
        error_code = raw_code if raw_code.isdigit() and len(raw_code) <= 10 else None
        row = request.query_params.get("o", "")
        store = self._bound_store()
        try:
            update = await store.outbox.record_status(
                sid,
                state,
                self._clock(),
                outbox_id=int(row) if row.isdigit() else None,
                error_code=error_code,
            )
            if update is not None and update.changed and update.status in FAILED_STATUSES:
                await self._on_failure(update)
        except Exception:
            log.exception("whatsapp status: a callback could not be recorded")
            return PlainTextResponse("try again", status_code=503)
        return Response(status_code=200)

    async def _on_failure(self, update: DeliveryUpdate) -> None:
        """Sends again what may still arrive; reports what never will."""
        if update.row_status != "sent":
            return  # already being sent again, failed, or held
        store = self._bound_store()
        code = int(update.error_code) if update.error_code else 0
        now = self._clock()
        if code == WINDOW_CLOSED:
            await store.whatsapp.close(update.contact_id, now - WINDOW)
            await store.deliveries.retry_sent(update.outbox_id, "window_closed", now)
            log.info("whatsapp: outbox row %s came after the window closed", update.outbox_id)
        elif code in UNREACHABLE_CODES:
            await store.deliveries.fail_sent(update.outbox_id, UNREACHABLE_CODES[code], now)
            await store.contacts.mark_unreachable(update.contact_id, True)
            log.info(
                "whatsapp: contact %s unreachable (%s)", update.contact_id, UNREACHABLE_CODES[code]
            )
        elif code in TRANSIENT_CODES and update.failures <= REDELIVERIES:
            delay = self._tuning.redelivery_delay * 2 ** (update.failures - 1)
            await store.deliveries.retry_sent(
                update.outbox_id, f"twilio_{code}", now + timedelta(seconds=delay)
            )
            log.info(
                "whatsapp: outbox row %s not delivered (twilio %s); again in %.0fs",
                update.outbox_id,
                code,
                delay,
            )
        else:
            await store.deliveries.fail_sent(update.outbox_id, f"twilio_{code or 'failed'}", now)
            log.warning(
                "whatsapp: outbox row %s was not delivered (twilio %s); reported as failed",
                update.outbox_id,
                code or "failed",
            )
        self._wake()

    async def _verified_form(self, request: Request, path: str) -> dict[str, str] | Response:
        """The posted form, if its size is bounded and Twilio signed it for our public URL."""
        declared = request.headers.get("content-length", "")
        if declared and (not declared.isdigit() or int(declared) > MAX_WEBHOOK_BODY):
            return PlainTextResponse("too large", status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_WEBHOOK_BODY:
                return PlainTextResponse("too large", status_code=413)
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            log.warning("whatsapp webhook: a request without a Twilio signature was refused")
            return PlainTextResponse("forbidden", status_code=403)
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=500))
        except (UnicodeDecodeError, ValueError):
            form = None
        query = request.url.query
        url = f"{self._public_url}{path}" + (f"?{query}" if query else "")
        if form is None or not self._validator.validate(url, form, signature):
            log.warning("whatsapp webhook: a request with a wrong Twilio signature was refused")
            return PlainTextResponse("forbidden", status_code=403)
        return form


# --- conversions ----------------------------------------------------------------


def message_inbounds(form: Mapping[str, str]) -> list[Inbound]:
    """What one incoming WhatsApp message carries, in the order to process it (words first).

    Raises ValueError for a post that is not a person's message.
    """
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
    sender = form.get("From", "")
    if not sid or not sender.startswith("whatsapp:") or len(sender) <= len("whatsapp:"):
        raise ValueError("not an incoming WhatsApp message")
    body = form.get("Body", "")
    # A pressed quick-reply button or a list-picker row: the value we gave it, never its label.
    payload = form.get("ButtonPayload") or form.get("ListId") or ""
    if payload:
        return [Inbound(CHANNEL, sid, sender, "choice", payload)]
    media = form.get("NumMedia", "0")
    if media.isdigit() and int(media) > 0:
        found = []
        if body.strip():
            # Words sent with a photo are read (and crisis-checked) like any text.
            found.append(Inbound(CHANNEL, f"{sid}:caption", sender, "text", body))
        kind = media_kind(form.get("MediaContentType0", ""))
        found.append(Inbound(CHANNEL, sid, sender, kind, ""))
        return found
    if form.get("Latitude") and form.get("Longitude"):
        return [Inbound(CHANNEL, sid, sender, "location", "")]
    if body:
        return [Inbound(CHANNEL, sid, sender, "text", body)]
    return [Inbound(CHANNEL, sid, sender, "unsupported", "")]


def media_kind(content_type: str) -> str:
    """Our content kind for a WhatsApp media type (a sticker is a WebP image)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "image/webp":
        return "sticker"
    if kind.startswith("image/"):
        return "photo"
    if kind.startswith("audio/"):
        return "voice"
    if kind.startswith("video/"):
        return "video"
    if kind in ("text/vcard", "text/x-vcard"):
        return "contact"
    if kind.startswith(("application/", "text/")):
        return "file"
    return "unsupported"


def session_parts(
    text: str,
    options: tuple[tuple[str, str], ...],
    templates: WhatsAppTemplates,
    chooser: str = "",
) -> list[Part]:
    """A reply inside the window as Twilio messages: Body parts of at most 1600 characters,
    the choices numbered under the last, or in the office's template for that many choices.

    A template's variables: {{1}} the words, then each choice's label and value
    ({{2}} and {{3}}, {{4}} and {{5}}, ...), and {{22}} the list-picker button.
    """
    template = templates.choice_template(len(options)) if options else ""
    if template and _fits_template(options):
        parts = split_text(text, MAX_TEXT) or ["…"]
        if len(parts[-1]) <= MAX_TEMPLATE_BODY:
            variables = [("1", parts[-1])]
            for index, (value, label) in enumerate(options, start=1):
                variables += [(str(2 * index), label), (str(2 * index + 1), value)]
            if chooser:
                variables.append(("22", chooser))
            head = [Part(body=p) for p in parts[:-1]]
            return [*head, Part(content_sid=template, variables=tuple(variables))]
    reserve = len(numbered_list("", options)) if options else 0
    parts = split_text(text, MAX_TEXT - reserve) or ["…"]
    parts[-1] = numbered_list(parts[-1], options)
    return [Part(body=p) for p in parts]


def _fits_template(options: tuple[tuple[str, str], ...]) -> bool:
    limit = MAX_BUTTON_TITLE if len(options) <= MAX_QUICK_REPLIES else MAX_LIST_ITEM
    return len(options) <= 10 and all(
        0 < len(value) <= MAX_CHOICE_ID and 0 < len(label) <= limit for value, label in options
    )


def delivery_error(exc: TwilioException) -> DeliveryError:
    """What Twilio's refusal means for the outbox: wait and retry, or give up on the person."""
    status = int(getattr(exc, "status", 0) or 0)
    code = _code_of(exc)
    if code in UNREACHABLE_CODES:
        return Unreachable(UNREACHABLE_CODES[code])
    if status == 429 or code in RATE_LIMIT_CODES:
        return RetryLater("rate_limited", retry_after=_RETRY_AFTER.get())
    if status >= 500:
        return RetryLater(f"twilio_{status}")
    if status in (401, 403) or code == 20003:
        log.error("whatsapp: Twilio refused the credentials (%s)", code or status)
        return RetryLater("twilio_auth")
    if code == WINDOW_CLOSED:
        return RetryLater("window_closed")
    return RetryLater(f"twilio_{code or status}")


def _code_of(exc: TwilioException) -> int:
    code = getattr(exc, "code", None)
    try:
        return int(code) if code is not None else 0
    except (TypeError, ValueError):
        return 0


def _network_code(exc: BaseException) -> str:
    return "timed_out" if isinstance(exc, TimeoutError) else "network"


def _ref_purpose(ref: str | None) -> tuple[str, int, str]:
    """("reminder" | "follow_up" | "", booking id, reminder kind) for an outbox row's ref."""
    if not ref or not ref.startswith("booking:"):
        return "", 0, ""
    fields = ref.split(":", 2)
    if len(fields) != 3 or not fields[1].isdigit():
        return "", 0, ""
    kind = fields[2]
    if kind in ("day_before", "two_hours"):
        return "reminder", int(fields[1]), kind
    if kind == "no_show":
        return "follow_up", int(fields[1]), kind
    return "", 0, ""


def _to_address(address: str) -> str:
    """Twilio's WhatsApp address for a stored one ("whatsapp:+62…")."""
    if address.startswith("whatsapp:+") and address[10:].isdigit():
        return address
    if address.startswith("+") and address[1:].isdigit():
        return f"whatsapp:{address}"
    raise Unreachable("bad_address")


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _twiml() -> Response:
    return Response(_EMPTY_TWIML, media_type="text/xml")
