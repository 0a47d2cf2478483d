"""Twilio's posts: the form read with a bounded size and checked against its signature,
and what an incoming WhatsApp message carries, as `Inbound`s."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.base import Inbound
from bot.channels.whatsapp.protocol import CHANNEL, MAX_WEBHOOK_BODY, SIGNATURE_HEADER
from bot.digits import digits
from bot.logthrottle import LogThrottle
from bot.web import read_body
from storage.media.records import FETCHED_KINDS, MediaRef

__all__ = ["empty_twiml", "media_kind", "message_inbounds", "verified_form"]

log = logging.getLogger(__name__)

_EMPTY_TWIML = str(MessagingResponse())


def empty_twiml() -> Response:
    """The answer to an incoming message: nothing to say now (replies go through the outbox)."""
    return Response(_EMPTY_TWIML, media_type="text/xml")


async def verified_form(
    request: Request, url: str, validator: RequestValidator, noise: LogThrottle | None = None
) -> dict[str, str] | Response:
    """The posted form, if its size is bounded and Twilio signed it for `url` (the public
    URL of the path, with the request's query); otherwise the refusal to answer with.

    Refusals are logged through `noise`: a flood of forged posts is a count a minute."""
    noise = noise or LogThrottle(log)
    body = await read_body(request, MAX_WEBHOOK_BODY)
    if body is None:
        return PlainTextResponse("too large", status_code=413)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        noise.warning("whatsapp webhook: a request without a Twilio signature was refused")
        return PlainTextResponse("forbidden", status_code=403)
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=500))
    except (UnicodeDecodeError, ValueError):
        form = None
    if form is None or not validator.validate(url, form, signature):
        noise.warning("whatsapp webhook: a request with a wrong Twilio signature was refused")
        return PlainTextResponse("forbidden", status_code=403)
    return form


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
    if digits(media) and int(media) > 0:
        found = []
        if body.strip():
            # Words sent with a photo are read (and crisis-checked) like any text.
            found.append(Inbound(CHANNEL, f"{sid}:caption", sender, "text", body))
        declared = form.get("MediaContentType0", "")
        kind = media_kind(declared)
        url = form.get("MediaUrl0", "")
        ref = MediaRef(url, declared) if url and kind in FETCHED_KINDS else None
        found.append(Inbound(CHANNEL, sid, sender, kind, "", media=ref))
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
