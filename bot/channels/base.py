"""The one small seam between the bot and a transport.

A channel adapter turns a transport's update into an `Inbound` and hands it to
the pipeline; the outbox sender hands it an `Outbound` to deliver. Nothing
outside `bot/channels/` imports a transport SDK.

    DeliveryError (a bot.errors.BotError)
     ├── RetryLater        the transport asked us to wait (rate limit) or failed transiently
     ├── Unreachable       the person cannot be reached (blocked the bot, number gone)
     ├── Undeliverable     this reply can never go, though the person still can be reached
     └── Held              the channel put the reply aside itself, to go later
    ChannelSetupError (a bot.errors.BotError)   a channel cannot open or start (what to check)

A channel's whole life (open, bind, routes, start, stop, close) and the registry
that builds the configured ones by name are in `bot.channels.registry`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.errors import BotError
from bot.storable import storable, unstorable
from storage.media.records import MediaRef
from storage.records import INBOUND_KINDS

__all__ = [
    "ACTION_PREFIX",
    "CONTENT_KINDS",
    "ButtonEditor",
    "Channel",
    "ChannelSetupError",
    "DeliveryError",
    "Held",
    "Inbound",
    "MessageCopier",
    "MessageDeleter",
    "MessageEditor",
    "Outbound",
    "Receiver",
    "RetryLater",
    "Template",
    "Undeliverable",
    "Unreachable",
    "numbered_list",
]

# What a person can send (the storage layer's list: one definition). Only text, a
# pressed button and a start command carry words the flows can read; the rest gets
# a kind reply saying what the bot can do.
CONTENT_KINDS = INBOUND_KINDS


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a person, as the pipeline sees it whatever the transport."""

    channel: str
    # The transport's own id for this message: the dedupe key (may embed a chat id).
    transport_id: str = field(repr=False)
    address: str = field(repr=False)  # chat id or phone; encrypted at rest, never logged
    kind: str
    # The words; for "choice" the pressed option's value; for "start" a deep-link parameter.
    text: str = field(default="", repr=False)
    received_at: datetime | None = None
    # The transport's id of the bot message this one replies to, if any (a
    # counsellor replying to a relayed message: routes it to that case).
    reply_to: str | None = None
    # Where the transport keeps a photo or voice note, fetched only during a hand-off
    # (bot.channels.media); sealed at rest.
    media: MediaRef | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in CONTENT_KINDS:
            raise ValueError(f"unknown content kind {self.kind!r}")
        if not self.transport_id or not self.address:
            raise ValueError("an inbound message needs a transport id and an address")
        # Every channel's message passes here: a NUL the database cannot keep becomes
        # U+FFFD (bot.storable), so the message is kept and answered, never refused.
        for name in ("text", "transport_id", "address", "reply_to"):
            value = getattr(self, name)
            if value is not None and unstorable(value):
                object.__setattr__(self, name, storable(value))


ACTION_PREFIX = "!"
"""An option value beginning with this is an action (a counsellor's "take case"), not an
answer: a channel keeps its button live on its own message and passes the press on as
it is, whatever question the chat shows later."""

Variables = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Template:
    """What a reply is for, where a transport takes only approved templates (WhatsApp outside
    its 24-hour window): the purpose names the template, the variables fill it in.

    `variables` holds one set per language, as (language, ((name, value), ...)) pairs;
    none at all means what the reply was about is gone (a booking cancelled since).
    """

    purpose: str  # "reminder" | "follow_up"
    variables: tuple[tuple[str, Variables], ...] = ()

    def variables_for(self, language: str) -> Variables | None:
        for code, values in self.variables:
            if code == language:
                return values
        return None


@dataclass(frozen=True, slots=True)
class Outbound:
    """One reply to deliver."""

    outbox_id: int
    address: str = field(repr=False)
    text: str = field(repr=False)
    # (value, label): buttons or a numbered list
    options: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    # Set by the code that owns the row's kind (a booking reminder), for channels
    # that need it; channels never read the row's ref themselves.
    template: Template | None = None


class ChannelSetupError(BotError):
    """A channel cannot open or start; the message says which setting to check."""


class DeliveryError(BotError):
    """A reply could not be delivered now. Carries a code, never the reply's text."""

    def __init__(self, code: str, *, retry_after: float | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


class RetryLater(DeliveryError):
    """Try again after `retry_after` seconds (or with backoff when None)."""


class Unreachable(DeliveryError):
    """Retrying will not help: the person blocked the bot or the address is gone."""


class Undeliverable(DeliveryError):
    """This reply can never go (WhatsApp outside its 24-hour window, no approved template),
    but the person can still be reached: the row fails with the code, the contact stays."""


class Held(DeliveryError):
    """Not sent, not failed: the channel has already put the row aside to go later (WhatsApp
    holds a reply until the person writes again). The sender leaves the row as it is."""


class Channel(Protocol):
    """A transport the outbox sender can deliver through."""

    @property
    def name(self) -> str: ...

    @property
    def buttons(self) -> bool:
        """Whether choices are shown as buttons (else the adapter numbers them)."""
        ...

    @property
    def max_per_second(self) -> float:
        """Messages per second the transport accepts overall."""
        ...

    @property
    def per_chat_interval(self) -> float:
        """Seconds to leave between two messages to the same person."""
        ...

    async def send(self, message: Outbound) -> str | None:
        """Delivers one reply; returns the transport's message id, or raises DeliveryError."""
        ...

    # Optional: `merge_chars`, how long a message a turn's replies may be joined into
    # (bot.core.turns.merge_replies); channels without it get MERGED_REPLY_CHARS.


@runtime_checkable
class Probing(Protocol):
    """A channel that can ask its upstream whether it answers, sending nobody anything.

    Optional: while sends fail because the upstream does, the outbox sender probes
    (bot.core.upstream) and sends the waiting replies as soon as it answers.
    """

    async def probe(self) -> None:
        """Returns when the upstream answered; raises when it did not."""
        ...


@runtime_checkable
class MessageDeleter(Protocol):
    """A channel that can also delete messages of a chat (Telegram can, for 48 hours).

    Optional: the privacy worker checks `isinstance(channel, MessageDeleter)` and
    asks for a quick exit's cleanup only on channels that have it.
    """

    async def delete_messages(
        self, address: str, sent_ids: Sequence[str], received_ids: Sequence[str]
    ) -> int:
        """Deletes what it can of a chat; returns how many messages went.

        `sent_ids` are the ids `send` returned for the bot's replies;
        `received_ids` are the `transport_id`s of the person's own messages, as
        the adapter made them. Ids it cannot delete (too old, already gone) are
        skipped, not errors. Raises DeliveryError to be tried again later.
        """
        ...


@runtime_checkable
class MessageEditor(Protocol):
    """A channel that can change the text of a message it sent (Telegram: editMessageText).

    Optional: counsellor alerts are edited to say who took the case; on a channel
    without it the new text goes as a new message.
    """

    async def edit_message(self, address: str, message_id: str, text: str) -> None:
        """Replaces the text of a sent message and removes its buttons; DeliveryError to retry."""
        ...


@runtime_checkable
class ButtonEditor(Protocol):
    """A channel that can replace a sent message's text and its buttons together.

    Optional: when a counsellor takes one case from an alert digest, every digest
    showing it is edited to say so and keeps the buttons of the cases still
    waiting. On a channel with only `MessageEditor` the edited digest has no
    buttons left, and its text says to take the rest with `/ambil CODE`.
    """

    async def edit_message_buttons(
        self, address: str, message_id: str, text: str, options: tuple[tuple[str, str], ...]
    ) -> None:
        """Replaces the text and the buttons (none when `options` is empty); DeliveryError
        to retry."""
        ...


@runtime_checkable
class MessageCopier(Protocol):
    """A channel that can copy a message from one chat to another without downloading it.

    Optional: during a hand-off a counsellor's photo reaches the family this way,
    and so does a family's video or file, or a photo or voice note that could not
    be fetched and kept (bot.handoff.media); nothing of a copy is stored by the bot.
    """

    async def copy_message(self, transport_id: str, to_address: str, caption: str | None) -> str:
        """Copies the message the adapter received as `transport_id` (an `Inbound`'s, as it
        made it) to `to_address`, with `caption` in place of its own when given; returns
        the new message's id. Raises DeliveryError."""
        ...


Receiver = Callable[[Inbound], Awaitable[bool]]
"""What an adapter calls for each update: persists it and returns False for a repeat."""


def numbered_list(text: str, options: tuple[tuple[str, str], ...]) -> str:
    """Renders choices as a numbered list under the text, for channels without buttons."""
    if not options:
        return text
    lines = [f"{i}. {label}" for i, (_, label) in enumerate(options, start=1)]
    return text + "\n\n" + "\n".join(lines)
