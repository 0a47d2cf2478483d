"""`WhatsAppChannel`: the adapter the bot binds, opens, sends through and closes.

Sending picks the way a reply may go: inside the 24-hour window as Body parts or
choice templates (`templates`), outside it as an approved template or held until
the person writes again. The two webhooks store incoming messages and record
delivery receipts (`webhooks`, `receipts`). See the package docstring.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from twilio.base.exceptions import TwilioException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import Held, Outbound, Receiver, RetryLater, Undeliverable, Unreachable
from bot.channels.media import Fetched, FetchLater
from bot.channels.registry import Host
from bot.channels.whatsapp import media
from bot.channels.whatsapp.errors import (
    WhatsAppSetupError,
    WindowClosed,
    code_of,
    delivery_error,
    network_code,
)
from bot.channels.whatsapp.http import TwilioHttp
from bot.channels.whatsapp.protocol import (
    CHANNEL,
    HOLD,
    HOLD_EXPIRED,
    INCOMING_PATH,
    NO_TEMPLATE,
    STATUS_PATH,
    WINDOW_CLOSED,
    Part,
    Tuning,
)
from bot.channels.whatsapp.receipts import on_failure
from bot.channels.whatsapp.templates import session_parts
from bot.channels.whatsapp.webhooks import empty_twiml, message_inbounds, verified_form
from bot.channels.whatsapp.window import WINDOW, is_open
from bot.config import WhatsApp, WhatsAppTemplates
from bot.core.pulse import Pulse
from bot.core.texts import BotTexts
from bot.core.writehealth import storage_unavailable
from bot.digits import digits
from bot.logthrottle import LogThrottle
from bot.web import RETRY_LATER, WebServer
from storage.channels.instances import instance_name
from storage.channels.whatsapp import AWAITING_WINDOW, Window
from storage.conversation.delivery import DELIVERY_STATUSES, FAILED_STATUSES
from storage.media.records import MediaRef
from storage.store import Store

__all__ = ["Senders", "WhatsAppChannel"]

log = logging.getLogger(__name__)

_DEFAULT_TUNING = Tuning()


class Senders:
    """The WhatsApp senders of one Twilio account, by number: offices' own senders
    (`whatsapp:tual`) and `[whatsapp]`'s share one webhook, and each message goes to
    the instance whose number it was sent `To`; a `To` that is none of them is refused.
    """

    def __init__(self) -> None:
        self._by_number: dict[str, WhatsAppChannel] = {}
        self._routed = False

    def add(self, number: str, channel: WhatsAppChannel) -> None:
        if self._by_number.setdefault(number, channel) is not channel:
            raise ValueError("two WhatsApp channels send from one number")

    def to(self, number: str) -> WhatsAppChannel | None:
        """The instance sending from `number`, if any."""
        return self._by_number.get(number)

    def first_to_route(self) -> bool:
        """True once: the instance asking first adds the webhooks for all."""
        first, self._routed = not self._routed, True
        return first


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
        default_language: str,
        clock: Callable[[], datetime],
        tuning: Tuning = _DEFAULT_TUNING,
        office: str = "",
        senders: Senders | None = None,
    ) -> None:
        # `whatsapp`, or `whatsapp:tual` for an office's own sender (bot.officechannels).
        self.office = office
        self.name = instance_name(CHANNEL, office)
        self._senders = Senders() if senders is None else senders
        self._senders.add(settings.from_number, self)
        self._settings = settings
        self._public_url = public_url.rstrip("/")
        self._texts = texts
        self._default_language = default_language
        self._clock = clock
        self._tuning = tuning
        self._validator = RequestValidator(settings.auth_token)
        # Refused and ignored posts: the first logged, then a count a minute (bot.logthrottle).
        self._noise = LogThrottle(log, clock=lambda: clock().timestamp())
        self._http: TwilioHttp | None = None
        self._client: Any = None
        self._receive: Receiver | None = None
        self._store: Store | None = None
        self._wake: Callable[[], None] = lambda: None
        self._parts_sent: dict[int, list[str]] = {}  # outbox id -> sids of the parts sent
        # When Twilio last posted a signed webhook (/readyz, /metrics): it does not poll.
        self.pulse = Pulse(polls=False)

    @property
    def max_per_second(self) -> float:
        return self._tuning.max_per_second

    @property
    def per_chat_interval(self) -> float:
        return self._tuning.per_chat_interval

    def bind(self, host: Host) -> None:
        """Where messages go (the pipeline), what holds windows and receipts, and how to
        tell the outbox sender that a reply is due again."""
        self._receive = host.receive
        self._store = host.store
        self._wake = host.wake_sender

    # --- lifecycle ----------------------------------------------------------

    needs_web = True  # messages come only by webhook

    def add_routes(self, web: WebServer) -> None:
        if self._senders.first_to_route():  # one webhook for every sender of the account
            web.add_route(INCOMING_PATH, self.incoming, methods=["POST"])
            web.add_route(STATUS_PATH, self.status, methods=["POST"])

    def describe(self) -> str:
        if not self.office:
            return f"on WhatsApp (webhook {self._public_url}{INCOMING_PATH})"
        return f"on WhatsApp as {self._settings.from_number} for office {self.office}"

    async def start(self) -> None:
        """Nothing to start: Twilio calls the webhooks once the web server runs."""

    async def stop(self) -> None:
        """Nothing to stop: the webhooks end with the web server."""

    async def open(self) -> None:
        """Creates the async client in the running loop and checks the credentials."""
        self._http = TwilioHttp(self._settings.api_base_url, self._tuning.request_timeout)
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

    async def probe(self) -> None:
        """Asks Twilio for the account: it answers, or this raises."""
        if self._client is None:
            raise RuntimeError("whatsapp: the channel is not open")
        sid = self._settings.account_sid
        await self._client.api.v2010.accounts(sid).fetch_async()

    async def send(self, message: Outbound) -> str | None:
        """Delivers one reply; returns the SIDs of its messages, comma-separated."""
        store = self._bound_store()
        to = _to_address(message.address)
        window = await store.whatsapp.for_row(message.outbox_id)
        now = self._clock()
        if window is None or is_open(window.last_inbound_at, now):
            try:
                return await self._send_in_session(message, to, window)
            except WindowClosed:
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
                if code_of(exc) == WINDOW_CLOSED:
                    raise WindowClosed from None
                raise error from None
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                if sent:
                    self._parts_sent[message.outbox_id] = sent
                raise RetryLater(network_code(exc)) from None
        return ",".join(sent)

    async def _send_outside(self, message: Outbound, to: str, window: Window, now: datetime) -> str:
        """Outside the window: an approved template, or the reply is held for the person."""
        store = self._bound_store()
        language = window.language or self._default_language
        templates = self._templates(language)
        template = message.template
        if template is not None:
            purpose = template.purpose
            sid = templates.reminder if purpose == "reminder" else templates.follow_up
            if not sid:
                log.warning(
                    "whatsapp: outbox row %s is outside the 24-hour window and no %s "
                    "template is configured (%s)",
                    message.outbox_id,
                    purpose,
                    NO_TEMPLATE,
                )
                raise Undeliverable(NO_TEMPLATE)
            variables = template.variables_for(language) or template.variables_for(
                self._default_language
            )
            if not variables:
                raise Undeliverable("booking_closed")
            part = Part(content_sid=sid, variables=variables)
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
            raise RetryLater(network_code(exc)) from None

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

    async def fetch_media(self, ref: MediaRef, limit: int) -> Fetched:
        """A family's photo or voice note from its Twilio media URL, at most `limit` bytes."""
        if self._http is None:
            raise FetchLater("not_open")
        auth = (self._settings.account_sid, self._settings.auth_token)
        return await media.fetch(self._http, auth, ref, limit)

    def _templates(self, language: str) -> WhatsAppTemplates:
        return self._settings.templates_for(language or self._default_language)

    def _bound_store(self) -> Store:
        if self._store is None:
            raise RuntimeError("WhatsAppChannel.bind was not called before sending")
        return self._store

    # --- webhooks -----------------------------------------------------------

    async def incoming(self, request: Request) -> Response:
        """`POST /twilio/whatsapp`: stores the message through the sender it was sent `To`,
        then answers with empty TwiML."""
        form = await self._verified_form(request, INCOMING_PATH)
        if isinstance(form, Response):
            return form
        target = self._senders.to(form.get("To", ""))
        assert target is not None  # _verified_form refused any other number
        return await target.take(form)

    async def take(self, form: dict[str, str]) -> Response:
        """Stores a verified incoming message sent to this instance's number."""
        self.pulse.ok()
        try:
            inbounds = message_inbounds(form)
        except ValueError:
            self._noise.warning(
                "whatsapp webhook: a signed request that is not a message was ignored"
            )
            return empty_twiml()
        if self._receive is None:
            raise RuntimeError("WhatsAppChannel.bind was not called before receiving")
        try:
            for inbound in inbounds:
                if self.office:  # the family's chat is with this office's number
                    inbound = dataclasses.replace(inbound, channel=self.name)
                await self._receive(inbound)
        except Exception as exc:
            if storage_unavailable(exc):
                # Said once by bot.core.writehealth; Twilio posts the message again.
                return PlainTextResponse("try again", status_code=503, headers=RETRY_LATER)
            log.exception("whatsapp webhook: a message could not be stored")
            return PlainTextResponse("try again", status_code=503)
        return empty_twiml()

    async def status(self, request: Request) -> Response:
        """`POST /twilio/status`: records a message's progress; acts on a failure."""
        form = await self._verified_form(request, STATUS_PATH)
        if isinstance(form, Response):
            return form
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        state = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
        if not sid or state not in DELIVERY_STATUSES:
            self._noise.info("whatsapp status: a callback without a known status was ignored")
            return Response(status_code=200)
        raw_code = form.get("ErrorCode", "")
        error_code = raw_code if digits(raw_code) and len(raw_code) <= 10 else None
        row = request.query_params.get("o", "")
        store = self._bound_store()
        try:
            update = await store.outbox.record_status(
                sid,
                state,
                self._clock(),
                outbox_id=int(row) if digits(row) else None,
                error_code=error_code,
            )
            if update is not None and update.changed and update.status in FAILED_STATUSES:
                if await on_failure(store, update, self._clock, self._tuning):
                    self._wake()
        except Exception as exc:
            if storage_unavailable(exc):
                return PlainTextResponse("try again", status_code=503, headers=RETRY_LATER)
            log.exception("whatsapp status: a callback could not be recorded")
            return PlainTextResponse("try again", status_code=503)
        return Response(status_code=200)

    async def _verified_form(self, request: Request, path: str) -> dict[str, str] | Response:
        """The posted form, if Twilio signed it for our public URL (never the Host header)
        and it is for this deployment: its account, and for a message, one of its offices'
        WhatsApp numbers (`Senders`).

        A signature proves only that Twilio sent it; an account with several numbers (or a
        webhook URL set on another account sharing the token) must not put another
        service's conversations into this office's chats.
        """
        query = request.url.query
        url = f"{self._public_url}{path}" + (f"?{query}" if query else "")
        form = await verified_form(request, url, self._validator, self._noise)
        if isinstance(form, Response):
            return form
        ours = form.get("AccountSid", "") == self._settings.account_sid
        if ours and path == INCOMING_PATH:
            ours = self._senders.to(form.get("To", "")) is not None
        if not ours:
            self._noise.warning(
                "whatsapp webhook: a signed request for another account or number refused"
            )
            return PlainTextResponse("forbidden", status_code=403)
        return form


def _to_address(address: str) -> str:
    """Twilio's WhatsApp address for a stored one ("whatsapp:+62…")."""
    if address.startswith("whatsapp:+") and digits(address[10:]):
        return address
    if address.startswith("+") and digits(address[1:]):
        return f"whatsapp:{address}"
    raise Unreachable("bad_address")
