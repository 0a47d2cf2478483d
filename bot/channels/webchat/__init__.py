"""The web chat: a family talks to the bot from a browser page, no account, no number.

    channel    WebChatChannel: replies recorded as lines the page reads back; polls woken
    page       the page (`/chat`): the form, long polling for replies, CSRF, limits
    templates, static   the page's HTML, script and style

Importing the package registers the adapter as "webchat".
"""

from __future__ import annotations

from bot.channels.registry import ChannelAdapter, Setup, register
from bot.channels.webchat.page import CHAT_PATH

__all__ = ["CHAT_PATH"]


def _adapter(setup: Setup) -> ChannelAdapter:
    """The page and its channel; cookies are Secure when the public address is https."""
    from bot.channels.webchat.channel import NAME, Tuning, WebChatChannel

    return WebChatChannel(
        setup.option(NAME, Tuning, Tuning()),
        texts=setup.texts,
        secure_cookies=setup.config.web.public_url.startswith("https://"),
        read_chars=setup.config.max_message_chars,
    )


register("webchat", _adapter)
