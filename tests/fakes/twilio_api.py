"""A fake Twilio REST API on 127.0.0.1, for driving the real twilio library, and Twilio's webhooks.

It serves what the bot calls (`GET /2010-04-01/Accounts/<sid>.json` and
`POST /2010-04-01/Accounts/<sid>/Messages.json`, Basic auth, form-encoded), answers
with Message resources (`sid`, `status`...), records every call, and enforces
WhatsApp's 24-hour window: free text (a `Body`) to a number that has not written
since its window was closed is refused with error 63016, as Twilio would. It
plays the families too: their messages, media, locations and button presses are
POSTed to the bot's webhook signed with the auth token, exactly as Twilio signs
them, and so are status callbacks. It misbehaves on request: 429 with
Retry-After, 5xx, 63016, 21610 (opted out), 21211 (invalid number), or hangs.
See `tests/fakes/README.md`.

    async with FakeTwilio() as twilio:
        twilio.connect("http://127.0.0.1:8080")     # the bot's [web] public_url
        await twilio.send_text("+6281234567001", "halo")
        await twilio.wait_for(lambda: twilio.texts_to("+6281234567001"))
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from types import TracebackType
from urllib.parse import urlencode

import httpx
import uvicorn
from quiet_server import QuietServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "SENDER", "Call", "FakeTwilio", "SentMessage"]

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fedcba9876543210fedcba9876543210"
SENDER = "whatsapp:+14155238886"  # the Twilio sandbox's number
API = "/2010-04-01/Accounts"
KEEPALIVE_SECONDS = 2.0
# How often `wait_for` looks again without a call to wake it (see there).
RECHECK_SECONDS = 0.1
ERRORS = {
    "rate_limited": (429, 20429, "Too Many Requests"),
    "server_error": (500, 20500, "Internal Server Error"),
    "unavailable": (503, 20503, "Service Unavailable"),
    "window": (400, 63016, "Failed to send freeform message: outside the allowed window"),
    "opted_out": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "invalid_number": (400, 21211, "Invalid 'To' Phone Number"),
}


@dataclass(frozen=True, slots=True)
class Call:
    """One request the bot made: method, path, form parameters."""

    method: str
    path: str
    params: dict[str, str]
    at: float


@dataclass(slots=True)
class SentMessage:
    """A message the bot created, with what Twilio reported of it since."""

    sid: str
    to: str
    sender: str
    body: str
    content_sid: str
    variables: dict[str, str]
    status_callback: str
    status: str = "queued"
    statuses: list[str] = field(default_factory=list)

    @property
    def number(self) -> str:
        return self.to.removeprefix("whatsapp:")


@dataclass(slots=True)
class _Failure:
    error: str
    times: int
    to: str | None
    retry_after: int | None
    after: int = 0


class FakeTwilio:
    """Twilio's Messages API and webhooks as far as the bot uses them, plus levers for tests."""

    def __init__(
        self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN, sender: str = SENDER
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        # Every WhatsApp sender of the account (`add_sender`): offices' own numbers.
        self.senders: list[str] = [sender]
        self.calls: list[Call] = []
        self.sent: list[SentMessage] = []
        self.refused: list[Call] = []  # creates answered with an error
        self.public_url = ""  # what Twilio signs: the bot's [web] public_url
        self.deliver_to = ""  # where it posts (the same, unless a proxy stands between)
        # (sender, number) whose 24-hour window is open: WhatsApp keeps one per pair.
        self._open: set[tuple[str, str]] = set()
        self._ids = itertools.count(1)
        self._failures: list[_Failure] = []
        self._changed = asyncio.Event()
        self._release = asyncio.Event()
        self._server: QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None  # posts the webhooks
        self.port = 0
        self.media: dict[str, tuple[str, bytes]] = {}  # media sid -> (content type, bytes)
        self.media_fetches: list[str] = []  # media sids the bot fetched (with credentials)
        # Where a media URL redirects to (None: this server's own /cdn/, as Twilio's store).
        self.cdn_base: str | None = None
        self.cdn_fetches: list[str] = []  # media sids fetched from the file store
        self._media_failures = 0

    # --- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        app = Starlette(
            routes=[
                Route(f"{API}/{{account}}.json", self._account, methods=["GET"]),
                Route(f"{API}/{{account}}/Messages.json", self._messages, methods=["POST"]),
                Route(
                    f"{API}/{{account}}/Messages/{{message}}/Media/{{media}}",
                    self._media,
                    methods=["GET"],
                ),
                Route("/cdn/{media}", self._cdn, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="off"
        )
        self._server = QuietServer(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                await self._task
            await asyncio.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        # Connections are let go well before the bot's server closes idle ones (uvicorn:
        # 5 s), as Twilio's are: reusing one the server is closing at that very moment
        # fails the post with a reset that no real webhook would see.
        self._client = httpx.AsyncClient(
            timeout=30.0, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS)
        )

    async def stop(self) -> None:
        self._release.set()
        self._notify()
        if self._client is not None:
            await self._client.aclose()
        if self._server is not None and self._task is not None:
            self._server.exit_now.set()
            await self._task

    async def __aenter__(self) -> FakeTwilio:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """What `[whatsapp] api_base_url` should be to talk to this server."""
        return f"http://127.0.0.1:{self.port}"

    def connect(self, public_url: str, deliver_to: str = "") -> None:
        """Webhooks are signed for `public_url` and posted to `deliver_to` (default: the same)."""
        self.public_url = public_url.rstrip("/")
        self.deliver_to = (deliver_to or public_url).rstrip("/")

    # --- playing the families ---------------------------------------------------

    def incoming(self, number: str, **fields: str) -> dict[str, str]:
        """The form Twilio posts for a message from `number` ("+62…"), with a new MessageSid."""
        sid = f"SM{next(self._ids):032x}"
        params = {
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ProfileName": "Ibu",
            "MessageType": "text",
            "SmsSid": sid,
            "WaId": number.removeprefix("+"),
            "SmsStatus": "received",
            "Body": "",
            "To": self.sender,
            "NumSegments": "1",
            "ReferralNumMedia": "0",
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": f"whatsapp:{number}",
            "ApiVersion": "2010-04-01",
        }
        params.update(fields)
        return params

    async def send_text(self, number: str, text: str) -> httpx.Response:
        """A family writes `text`; their 24-hour window opens."""
        return await self.post_incoming(self.incoming(number, Body=text))

    async def send_media(
        self, number: str, content_type: str, *, caption: str = "", data: bytes | None = None
    ) -> httpx.Response:
        """A family sends a photo, voice note, video, document, sticker or contact card;
        with `data`, its media URL serves those bytes (else it answers 404)."""
        kind = content_type.split("/", 1)[0]
        media_sid = f"ME{next(self._ids):032x}"
        if data is not None:
            self.media[media_sid] = (content_type, data)
        url = f"https://api.twilio.com{API}/{self.account_sid}/Messages/MM1/Media/{media_sid}"
        fields = {
            "Body": caption,
            "NumMedia": "1",
            "MessageType": kind if kind in ("audio", "image", "video") else "document",
            "MediaContentType0": content_type,
            "MediaUrl0": url,
        }
        return await self.post_incoming(self.incoming(number, **fields))

    async def send_location(self, number: str) -> httpx.Response:
        """A family shares where they are."""
        fields = {"Latitude": "-3.6954", "Longitude": "128.1814", "MessageType": "location"}
        return await self.post_incoming(self.incoming(number, **fields))

    async def press(self, number: str, payload: str, title: str = "") -> httpx.Response:
        """A family taps a quick-reply button whose id is `payload` (Body is its title)."""
        fields = {
            "Body": title or payload,
            "ButtonText": title or payload,
            "ButtonPayload": payload,
            "MessageType": "button",
        }
        return await self.post_incoming(self.incoming(number, **fields))

    async def choose(self, number: str, list_id: str, title: str = "") -> httpx.Response:
        """A family picks a row of a list picker."""
        fields = {
            "Body": title or list_id,
            "ListId": list_id,
            "ListTitle": title or list_id,
            "MessageType": "interactive",
        }
        return await self.post_incoming(self.incoming(number, **fields))

    async def post_incoming(
        self,
        params: dict[str, str] | bytes,
        *,
        signature: str | None = "sign",
        sign_for: str = "",
    ) -> httpx.Response:
        """POSTs an incoming message to the bot's `/twilio/whatsapp`.

        `signature="sign"` signs it as Twilio does (for `sign_for`, by default the
        public URL); None leaves the header out; any other string is sent as is.
        Raw bytes are posted unsigned unless a signature is given.
        """
        if isinstance(params, dict) and params.get("From", "").startswith("whatsapp:"):
            sender = params.get("To", self.sender)
            self._open.add((sender, params["From"].removeprefix("whatsapp:")))
        return await self._post("/twilio/whatsapp", params, signature, sign_for)

    async def post_status(
        self, message: SentMessage, status: str, *, error_code: str = ""
    ) -> httpx.Response:
        """Twilio reports `status` (queued, sent, delivered, read, failed, undelivered)."""
        assert message.status_callback, f"message {message.sid} asked for no status callback"
        params = {
            "SmsSid": message.sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "ChannelToAddress": message.number,
            "To": message.to,
            "ChannelPrefix": "whatsapp",
            "MessageSid": message.sid,
            "AccountSid": self.account_sid,
            "From": message.sender,
            "ApiVersion": "2010-04-01",
            "ChannelInstallSid": "XE" + "0" * 32,
        }
        if error_code:
            params["ErrorCode"] = error_code
        message.status = status
        message.statuses.append(status)
        url = message.status_callback
        path = url.removeprefix(self.public_url)
        return await self._post(path, params, "sign", url)

    def close_window(self, number: str) -> None:
        """24 hours pass since the family last wrote: free text to them is refused (63016)."""
        self._open = {(sender, n) for sender, n in self._open if n != number}

    def open_window(self, number: str, sender: str = "") -> None:
        self._open.add((sender or self.sender, number))

    def add_sender(self, number: str) -> None:
        """Another WhatsApp sender on this account (an office's own number); a family
        writes to it with `incoming(..., To=number)`."""
        self.senders.append(number)

    async def _post(
        self, path: str, params: dict[str, str] | bytes, signature: str | None, sign_for: str
    ) -> httpx.Response:
        assert self.deliver_to, "call connect(public_url) first"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if isinstance(params, bytes):
            body = params
            form: dict[str, str] = {}
        else:
            body = urlencode(params).encode()
            form = params
        if signature == "sign":
            url = sign_for or f"{self.public_url}{path}"
            headers["X-Twilio-Signature"] = RequestValidator(self.auth_token).compute_signature(
                url, form
            )
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        assert self._client is not None, "the fake is not started"
        url = f"{self.deliver_to}{path}"
        try:
            return await self._client.post(url, content=body, headers=headers)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            # A kept-alive connection the server closed as the request went out: Twilio
            # retries such a webhook (the MessageSid makes a repeat harmless), so do we, once.
            return await self._client.post(url, content=body, headers=headers)

    # --- what the bot did ------------------------------------------------------

    def messages_to(self, number: str) -> list[SentMessage]:
        return [m for m in self.sent if m.number == number]

    def texts_to(self, number: str) -> list[str]:
        """What the family reads: each Body, or a template's {{1}} (its words)."""
        return [m.body or m.variables.get("1", "") for m in self.messages_to(number)]

    def last_to(self, number: str) -> SentMessage:
        found = self.messages_to(number)
        assert found, f"nothing was sent to {number}"
        return found[-1]

    async def wait_for(self, predicate: Callable[[], object], timeout: float = 10.0) -> None:
        """Waits until `predicate()` is true, re-checking after every call the bot makes
        and every RECHECK_SECONDS besides: a predicate may read what the bot commits just
        after its last call (its database) or what another fake saw, which no later call
        may announce. Only when it is seen true does this return; the timeout fails the
        test as before."""
        try:
            await asyncio.wait_for(self._until(predicate, RECHECK_SECONDS), timeout)
        except TimeoutError:
            raise AssertionError(f"condition not reached within {timeout}s") from None

    # --- misbehaving on purpose ------------------------------------------------

    def fail(
        self,
        error: str,
        *,
        times: int = 1,
        to: str | None = None,
        retry_after: int | None = None,
        after: int = 0,
    ) -> None:
        """The next `times` message creates (to `to`, if given) fail with `error`.

        Errors: "rate_limited" (429, Retry-After when `retry_after` is given),
        "server_error" (500), "unavailable" (503), "window" (63016), "opted_out"
        (21610), "invalid_number" (21211), "hang" (no answer until the client gives up).
        `after`: let that many matching creates through first.
        """
        assert error in ERRORS or error == "hang", error
        self._failures.append(_Failure(error, times, to, retry_after, after))

    def fail_media(self, times: int = 1) -> None:
        """The next `times` fetches of a media URL answer 500."""
        self._media_failures += times

    # --- the API ---------------------------------------------------------------

    async def _media(self, request: Request) -> Response:
        """A media URL: with the account's credentials, a redirect to where the file is kept
        (as Twilio answers); without them, 401."""
        media_sid = request.path_params["media"]
        self.calls.append(Call("GET", request.url.path, {}, time.monotonic()))
        self._notify()
        if not self._authorised(request) or request.path_params["account"] != self.account_sid:
            return _error(401, 20003, "Authenticate")
        if self._media_failures > 0:
            self._media_failures -= 1
            return _error(500, 20500, "Internal Server Error")
        if media_sid not in self.media:
            return _error(404, 20404, "The requested resource was not found")
        self.media_fetches.append(media_sid)
        base = self.cdn_base if self.cdn_base is not None else self.url
        return Response(status_code=307, headers={"Location": f"{base}/cdn/{media_sid}"})

    async def _cdn(self, request: Request) -> Response:
        """Where the file is kept: no credentials asked, and none must arrive."""
        if "authorization" in request.headers:
            return Response("credentials sent to the file store", status_code=400)
        found = self.media.get(request.path_params["media"])
        if found is None:
            return Response(status_code=404)
        self.cdn_fetches.append(request.path_params["media"])
        return Response(found[1], media_type=found[0])

    async def _account(self, request: Request) -> JSONResponse:
        self.calls.append(Call("GET", request.url.path, {}, time.monotonic()))
        self._notify()
        if not self._authorised(request) or request.path_params["account"] != self.account_sid:
            return _error(401, 20003, "Authenticate")
        return JSONResponse(
            {
                "sid": self.account_sid,
                "friendly_name": "LK3 Kota Ambon",
                "status": "active",
                "type": "Full",
                "date_created": formatdate(usegmt=True),
                "date_updated": formatdate(usegmt=True),
                "uri": f"{API}/{self.account_sid}.json",
            }
        )

    async def _messages(self, request: Request) -> JSONResponse:
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        call = Call("POST", request.url.path, params, time.monotonic())
        self.calls.append(call)
        self._notify()
        if not self._authorised(request) or request.path_params["account"] != self.account_sid:
            return self._refuse(call, _error(401, 20003, "Authenticate"))
        to = params.get("To", "")
        number = to.removeprefix("whatsapp:")
        failure = self._take_failure(number)
        if failure is not None:
            if failure.error == "hang":
                await self._release.wait()
                return self._refuse(call, _error(500, 20500, "released"))
            status, code, message = ERRORS[failure.error]
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else None
            return self._refuse(call, _error(status, code, message, headers))
        sender = params.get("From", "")
        if sender not in self.senders:
            return self._refuse(call, _error(400, 63007, "Twilio could not find a Channel"))
        body = params.get("Body", "")
        content_sid = params.get("ContentSid", "")
        if not to.startswith("whatsapp:+") or not number[1:].isdigit():
            return self._refuse(call, _error(400, 21211, "Invalid 'To' Phone Number"))
        if bool(body) == bool(content_sid):
            return self._refuse(call, _error(400, 21619, "A message body or media is required"))
        if len(body) > 1600:
            return self._refuse(call, _error(400, 21617, "The message body exceeds 1600"))
        if body and (sender, number) not in self._open:
            return self._refuse(call, _error(400, *ERRORS["window"][1:]))
        variables = json.loads(params.get("ContentVariables") or "{}")
        message = SentMessage(
            sid=f"SM{next(self._ids):032x}",
            to=to,
            sender=sender,
            body=body,
            content_sid=content_sid,
            variables={str(k): str(v) for k, v in variables.items()},
            status_callback=params.get("StatusCallback", ""),
        )
        self.sent.append(message)
        self._notify()
        now = formatdate(usegmt=True)
        return JSONResponse(
            {
                "sid": message.sid,
                "account_sid": self.account_sid,
                "to": to,
                "from": sender,
                "body": body,
                "status": "queued",
                "num_segments": "1",
                "num_media": "0",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "date_created": now,
                "date_updated": now,
                "date_sent": None,
                "error_code": None,
                "error_message": None,
                "uri": f"{API}/{self.account_sid}/Messages/{message.sid}.json",
            },
            status_code=201,
        )

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization", "") == f"Basic {expected}"

    def _refuse(self, call: Call, response: JSONResponse) -> JSONResponse:
        self.refused.append(call)
        self._notify()
        return response

    def _take_failure(self, number: str) -> _Failure | None:
        for failure in self._failures:
            if failure.times <= 0 or (failure.to is not None and failure.to != number):
                continue
            if failure.after > 0:
                failure.after -= 1
                return None
            failure.times -= 1
            return failure
        return None

    def _notify(self) -> None:
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


def _error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)
