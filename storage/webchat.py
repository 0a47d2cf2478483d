"""The web chat's conversation view: which stored messages a browser address may read again.

Why a table: the web chat page is the transport, so a reply the outbox marked
sent must still be there when the page reloads or the bot restarts. The words
are not copied: `webchat_lines` only says, in the order the page showed them,
which inbox row (the person's message) and which outbox row (a reply) belong to
the conversation at a browser address. The page reads them back decrypted under
the contact's own key, so nothing new is stored in clear.

- The address (the random id in the browser's cookie) is kept only as its keyed
  blind index, the same as `contacts.address_bidx`; a line is found only by
  someone holding that cookie.
- A page sees each line's number within its own conversation (`n`: 1, 2, 3...),
  never the table's global order, which would tell a visitor how busy everyone
  else's chats were. When nothing of an address is left (a quick exit, an
  erasure, old lines expired) numbering starts again at 1; `ChatView.newest`
  lets the page notice that its cursor points past the conversation.
- A person's message becomes a line in the transaction that stores it (a
  trigger on `inbox`), so it always comes before the replies to it.
- A reply becomes a line when the outbox sender hands it to the web chat
  channel (`delivered`), before the row is marked sent; a second hand-over of
  the same row (after a crash) finds the line already there. A reply cancelled
  meanwhile (a quick exit) never becomes one.
- What is kept is bounded: the newest `keep_lines` lines of an address, none
  older than `keep_seconds`. Older lines are deleted as new ones come; the
  messages themselves stay wherever the rest of the bot keeps them.
- A quick exit (a `message_cleanups` row, written in the turn's transaction)
  deletes every line of the contact's address at once, and an erasure deletes
  them with the rows they point at (ON DELETE CASCADE): afterwards the address
  reads nothing of what came before.

    (errors: storage.errors ones; a line whose key is destroyed is skipped, not raised)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from storage.clock import to_micros
from storage.db import Readers, Row, Tx, Writer
from storage.errors import DecryptError
from storage.inbox import text_place
from storage.outbox import body_place
from storage.rows import as_bytes
from storage.vault import Vault

__all__ = ["CHANNEL", "WEBCHAT_MIGRATION", "ChatLine", "ChatView", "WebChatRepo"]

CHANNEL = "webchat"
KEEP_LINES = 100
KEEP_SECONDS = 24 * 3600

WEBCHAT_MIGRATION = (
    """CREATE TABLE webchat_lines (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        address_bidx BLOB NOT NULL,
        n INTEGER NOT NULL,
        contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        inbox_id INTEGER UNIQUE REFERENCES inbox (id) ON DELETE CASCADE,
        outbox_id INTEGER UNIQUE REFERENCES outbox (id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        CHECK ((inbox_id IS NULL) != (outbox_id IS NULL))
    )""",
    "CREATE UNIQUE INDEX webchat_lines_by_address ON webchat_lines (address_bidx, n)",
    "CREATE INDEX webchat_lines_by_contact ON webchat_lines (contact_id)",
    "CREATE INDEX webchat_lines_by_age ON webchat_lines (at)",
    # The person's own message is a line from the moment it is stored.
    """CREATE TRIGGER webchat_line_received AFTER INSERT ON inbox
    WHEN NEW.channel = 'webchat' BEGIN
        INSERT INTO webchat_lines (address_bidx, n, contact_id, inbox_id, at)
        SELECT c.address_bidx, 1 + coalesce(
            (SELECT max(n) FROM webchat_lines l WHERE l.address_bidx = c.address_bidx), 0
        ), c.id, NEW.id, NEW.received_at FROM contacts c WHERE c.id = NEW.contact_id;
    END""",
    # A quick exit: the conversation is no longer readable at the address.
    """CREATE TRIGGER webchat_quick_exit AFTER INSERT ON message_cleanups BEGIN
        DELETE FROM webchat_lines WHERE contact_id = NEW.contact_id
            OR address_bidx IN (
                SELECT address_bidx FROM webchat_lines WHERE contact_id = NEW.contact_id
            );
    END""",
)

_LINES = (
    "SELECT l.n, l.contact_id, k.master_key_id, k.wrapped, i.rid, i.kind, i.text_enc,"
    " o.rid, o.body_enc"
    " FROM webchat_lines l JOIN contact_keys k ON k.contact_id = l.contact_id"
    " LEFT JOIN inbox i ON i.id = l.inbox_id LEFT JOIN outbox o ON o.id = l.outbox_id"
)


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One line as the page shows it: a reply (`bot`) or the person's own message (`you`).

    A pressed button's line carries the button's label as the page showed it;
    a message whose words were not kept (someone who declined consent) has "".
    """

    seq: int  # its number in this conversation: 1, 2, 3...
    who: str  # "bot" or "you"
    kind: str  # the person's: text, choice or start; a reply's: text
    text: str = field(repr=False)
    options: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class ChatView:
    """The lines after a cursor, and the oldest and newest lines still kept at the address."""

    lines: tuple[ChatLine, ...]
    first: int | None  # None: nothing is kept (never written, a quick exit, an erasure)
    newest: int = 0  # a cursor past this points at a conversation that is gone

    @property
    def last_seq(self) -> int:
        return self.lines[-1].seq if self.lines else 0


class WebChatRepo:
    def __init__(
        self, readers: Readers, writer: Writer, vault: Vault, clock: Callable[[], datetime]
    ) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault
        self._clock = clock

    def _bidx(self, address: str) -> bytes:
        return self._vault.blind(CHANNEL, address)

    async def delivered(
        self,
        outbox_id: int,
        address: str,
        *,
        keep_lines: int = KEEP_LINES,
        keep_seconds: int = KEEP_SECONDS,
    ) -> int | None:
        """Makes a reply a line of the conversation at `address`; its number there.

        None when the row is no longer waiting to be sent (a quick exit cancelled
        it): it is not shown. Handing the same row over again returns its line.
        """
        bidx = self._bidx(address)
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> int | None:
            row = await tx.fetchone(
                "INSERT INTO webchat_lines (address_bidx, n, contact_id, outbox_id, at)"
                " SELECT ?, 1 + coalesce((SELECT max(n) FROM webchat_lines"
                "  WHERE address_bidx = ?), 0), contact_id, id, ?"
                " FROM outbox WHERE id = ? AND status = 'pending'"
                " ON CONFLICT (outbox_id) DO NOTHING RETURNING n",
                (bidx, bidx, now, outbox_id),
            )
            if row is None:
                row = await tx.fetchone(
                    "SELECT n FROM webchat_lines WHERE outbox_id = ?", (outbox_id,)
                )
                return None if row is None else int(row[0])
            await _prune(tx, bidx, now, keep_lines, keep_seconds)
            return int(row[0])

        return await self._writer.run("webchat.delivered", job)

    async def view(
        self,
        address: str,
        after: int = 0,
        *,
        keep_lines: int = KEEP_LINES,
        keep_seconds: int = KEEP_SECONDS,
    ) -> ChatView:
        """The kept lines at `address` numbered after `after`, oldest first."""
        bidx = self._bidx(address)
        since = to_micros(self._clock(), "clock") - keep_seconds * 1_000_000
        head = await self._readers.fetchone(
            "SELECT min(n), max(n) FROM (SELECT n FROM webchat_lines"
            " WHERE address_bidx = ? AND at >= ? ORDER BY n DESC LIMIT ?)",
            (bidx, since, keep_lines),
            what="webchat.view",
        )
        if head is None or head[0] is None:
            return ChatView((), None)
        first, newest = int(head[0]), int(head[1])
        rows = await self._readers.fetchall(
            f"{_LINES} WHERE l.address_bidx = ? AND l.n >= ? AND l.n > ? ORDER BY l.n",
            (bidx, first, after),
            what="webchat.view",
        )
        lines = [line for line in map(self._decode, rows) if line is not None]
        if any(line.who == "you" and line.kind == "choice" for line in lines):
            lines = await self._with_labels(bidx, first, lines)
        return ChatView(tuple(lines), first, newest)

    async def _with_labels(self, bidx: bytes, first: int, lines: list[ChatLine]) -> list[ChatLine]:
        """A pressed button's line shows the label of the reply it answered, as the page did."""
        options: tuple[tuple[str, str], ...] = ()
        if lines and lines[0].who == "you":
            row = await self._readers.fetchone(
                f"{_LINES} WHERE l.address_bidx = ? AND l.n >= ? AND l.n < ?"
                " AND l.outbox_id IS NOT NULL ORDER BY l.n DESC LIMIT 1",
                (bidx, first, lines[0].seq),
                what="webchat.view",
            )
            before = None if row is None else self._decode(row)
            options = () if before is None else before.options
        labelled: list[ChatLine] = []
        for line in lines:
            if line.who == "bot":
                options = line.options
            elif line.kind == "choice":
                label = dict(options).get(line.text, line.text)
                line = ChatLine(line.seq, line.who, line.kind, label)
            labelled.append(line)
        return labelled

    def _decode(self, row: Row) -> ChatLine | None:
        seq, contact_id = int(row[0]), int(row[1])
        try:
            dek = self._vault.unwrap_dek(contact_id, str(row[2]), as_bytes(row[3]))
            if row[4] is not None:
                rid = as_bytes(row[4])
                text = Vault.open_text(dek, text_place(rid), as_bytes(row[6]))
                return ChatLine(seq, "you", str(row[5]), text)
            if row[7] is None:
                return None
            place = body_place(as_bytes(row[7]))
            body = json.loads(Vault.open_text(dek, place, as_bytes(row[8])))
            options = tuple((str(v), str(label)) for v, label in body.get("options", ()))
            return ChatLine(seq, "bot", "text", str(body.get("text", "")), options)
        except (DecryptError, ValueError, TypeError, AttributeError):
            return None  # a key destroyed by an erasure in progress, or a body of another shape


async def _prune(tx: Tx, bidx: bytes, now: int, keep_lines: int, keep_seconds: int) -> None:
    """Keeps the newest `keep_lines` lines of the address, and none older than `keep_seconds`."""
    await tx.execute(
        "DELETE FROM webchat_lines WHERE address_bidx = ? AND n < (SELECT min(n) FROM"
        " (SELECT n FROM webchat_lines WHERE address_bidx = ? ORDER BY n DESC LIMIT ?))",
        (bidx, bidx, keep_lines),
    )
    await tx.execute("DELETE FROM webchat_lines WHERE at < ?", (now - keep_seconds * 1_000_000,))
