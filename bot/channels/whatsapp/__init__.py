"""The WhatsApp channel, through Twilio's Programmable Messaging: families write, the bot answers.

The only package that imports `twilio`. Inbound, Twilio POSTs each message to
`/twilio/whatsapp`; the request is checked against the configured public URL
with the library's `RequestValidator` (403 otherwise, nothing stored), stored in
the inbox under Twilio's `MessageSid` (a retried webhook is a no-op) and
answered at once with empty TwiML: processing continues from the inbox, so a
slow turn never makes Twilio time out and post again.

Outbound, `send` delivers one reply with the library's async client: choices as a
numbered list, or through the office's quick-reply and list-picker content
templates; long texts in parts of at most 1600 characters. WhatsApp takes free
text only within 24 hours of the person's last message (`window`). After
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

    channel    WhatsAppChannel: open, send (in the window or outside it), the two webhooks
    webhooks   signed forms read and checked; what an incoming message carries
    templates  a reply as Twilio messages: Body parts, or the office's content templates
    receipts   what a failed delivery leads to: sent again, or the person unreachable
    window     the 24-hour customer service window, as arithmetic
    errors     Twilio's refusals as `DeliveryError`s; `WhatsAppSetupError`
    protocol   Twilio's limits and error codes; `Tuning`, `Part`
    http       the library's async client pointed at the configured API, credentials in a header

Importing the package registers the adapter as "whatsapp". `window_remaining` is
for the console: how long a counsellor's reply may still go as free text.
"""

from __future__ import annotations

from bot.channels.registry import ChannelAdapter, Setup, register
from bot.channels.whatsapp.window import remaining as window_remaining

__all__ = ["window_remaining"]


def _adapter(setup: Setup) -> ChannelAdapter:
    """The channel of `[whatsapp]`, or of an office's own sender (`whatsapp:tual`, the same
    account), tuned by the option given for "whatsapp" (tests). The instances of one build
    share their webhooks (`Senders`)."""
    from bot.channels.whatsapp.channel import Senders, WhatsAppChannel
    from bot.channels.whatsapp.protocol import CHANNEL, Tuning
    from bot.officechannels import whatsapp_settings

    config = setup.config
    senders = setup.shared.setdefault(CHANNEL, Senders())
    assert isinstance(senders, Senders)
    return WhatsAppChannel(
        whatsapp_settings(config, setup.office),
        config.web.public_url,
        setup.texts,
        default_language=config.languages[0],
        clock=setup.clock,
        tuning=setup.option(CHANNEL, Tuning, Tuning()),
        office=setup.office,
        senders=senders,
    )


register("whatsapp", _adapter, instances=True)
