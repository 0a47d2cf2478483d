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
  erasure, old lines expired) numbering starts again at 1: a new epoch.
- So a number alone cannot say which epoch a page's lines came from. The page's
  `Cursor` is the number of the last line it has plus a mark: a keyed hash of
  the address and that line's stored id (`seq`, never reused). A line is only
  ever deleted, never renumbered, so the cursor is of the current epoch exactly
  while that line is still kept; otherwise (a reset, or the page slept through
  more lines than are kept, or a cursor we never gave) the answer says `reset`
  and holds every line kept now, and the page starts over. Stored state alone
  decides, so this holds across a restart; no epoch is kept in memory.
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
- Whether the person at an address left in a hurry (`ChatView.left`: a quick exit
  and no message since) is derived as it is everywhere (`storage.privacy.quiet`),
  from the contact the address's blind index names: nothing new is stored. The
  page then shows nothing of the service until they write again.
- An erasure the person asked for takes every line with it, but the page must still
  show what was deleted: the farewell replies of a contact being erased become the
  address's `statement` instead of lines (`webchat_statements`), sealed under a key
  derived from the address itself, which the database never holds (only the browser's
  cookie does). It is shown where nothing else is, and goes when the person writes
  at the address again, or after `STATEMENT_SECONDS`.

    (errors: storage.errors ones; a line whose key is destroyed is skipped, not raised)
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from storage.conversation.inbox import text_place
from storage.conversation.outbox import body_place
from storage.crypto.aead import Place
from storage.crypto.vault import Vault
from storage.engine.clock import to_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.engine.rows import as_bytes
from storage.errors import DecryptError
from storage.privacy import quiet

__all__ = [
    "CHANNEL",
    "FOREIGN",
    "STATEMENT_SECONDS",
    "START",
    "ChatLine",
    "ChatView",
    "Cursor",
    "WebChatRepo",
]

CHANNEL = "webchat"
KEEP_LINES = 100
KEEP_SECONDS = 24 * 3600
STATEMENT_SECONDS = 3600
"""How long an erasure's statement stays readable at the address that asked for it."""


_COLUMNS = (
    "l.n, l.contact_id, k.master_key_id, k.wrapped, i.rid, i.kind, i.text_enc, o.rid, o.body_enc"
)
_JOINS = (
    " JOIN contact_keys k ON k.contact_id = l.contact_id"
    " LEFT JOIN inbox i ON i.id = l.inbox_id LEFT JOIN outbox o ON o.id = l.outbox_id"
)
_LINES = f"SELECT {_COLUMNS} FROM webchat_lines l{_JOINS}"
# One statement, so one snapshot: the lines after the cursor's number, and whether the
# cursor's line is still kept, come from the same moment (a reset in between cannot
# pass off the new epoch's lines as the old one's). Always one row at least (`head`);
# the line columns come first, then first, newest, the newest line's seq, the cursor's.
_VIEW = (
    "WITH kept AS (SELECT seq, n FROM webchat_lines WHERE address_bidx = ? AND at >= ?"
    "  ORDER BY n DESC LIMIT ?),"
    " head AS (SELECT min(n) AS first, max(n) AS newest,"
    "  (SELECT seq FROM kept ORDER BY n DESC LIMIT 1) AS newest_seq,"
    "  (SELECT seq FROM kept WHERE n = ?) AS seen_seq FROM kept),"
    f" later AS (SELECT {_COLUMNS} FROM kept JOIN webchat_lines l ON l.seq = kept.seq{_JOINS}"
    "  WHERE kept.n > ?)"
    " SELECT later.*, head.first, head.newest, head.newest_seq, head.seen_seq"
    " FROM head LEFT JOIN later ORDER BY later.n"
)
_CURSOR = re.compile(r"(0|[1-9][0-9]{0,17})-([0-9a-f]{16})")


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page is in its conversation: its last line's number and that line's mark.

    The page holds it as `str(cursor)` and sends it back as is; `parse` reads it.
    """

    n: int = 0  # 0: the page has no line yet; -1: not a cursor we gave (FOREIGN)
    # The line's mark; with n = 0, the mark of the erasure statement the page shows.
    mark: str = field(default="", repr=False)

    def __str__(self) -> str:
        return f"{self.n}-{self.mark}" if self.n >= 0 and self.mark else "0"

    @classmethod
    def parse(cls, raw: str) -> Cursor:
        """The cursor a page sent; one we never gave (garbled, an old bare number) is FOREIGN."""
        if raw in ("", "0"):
            return START
        found = _CURSOR.fullmatch(raw)
        return FOREIGN if found is None else cls(int(found[1]), found[2])


START = Cursor()
"""A page with no line yet: it is sent every line kept, and nothing of it needs clearing."""
FOREIGN = Cursor(-1)
"""A cursor we did not give: it names no line, so the page is told to start over."""


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
    newest: int = 0
    cursor: Cursor = START  # the newest line's: what the page sends back next time
    # The cursor asked with is not of this epoch: the page clears what it shows, and
    # `lines` are every line kept now (none, if nothing is).
    reset: bool = False
    # The person left in a hurry (a quick exit), or closed what their erasure deleted,
    # and has not written since: the page shows nothing of the service, `lines` is empty.
    left: bool = False
    # What an erasure deleted, for the page that asked for it ("" when there is none).
    statement: str = field(default="", repr=False)

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

    def live_topic(self, address: str) -> str:
        """The topic PostgreSQL tells when a line or statement comes for `address`
        (`storage.engine.pglive`): the start of its keyed hash, never the address."""
        return "webchat:" + self._bidx(address)[:8].hex()

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
        0 for the farewell of an erasure: it is kept as the address's statement.
        """
        bidx = self._bidx(address)
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> int | None:
            if await self._farewell(tx, outbox_id, address, bidx, now):
                return 0
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

    async def _farewell(self, tx: Tx, outbox_id: int, address: str, bidx: bytes, now: int) -> bool:
        """Keeps a farewell of a contact being erased as the address's statement.

        True when the row is such a farewell (kept, or kept already): it is then no line.
        """
        row = await tx.fetchone(
            "SELECT o.contact_id, o.rid, o.body_enc FROM outbox o JOIN erasures e"
            " ON e.contact_id = o.contact_id AND e.stage = 'farewell'"
            " WHERE o.id = ? AND o.status = 'pending'",
            (outbox_id,),
        )
        if row is None:
            return False
        dek = await tx.dek(int(row[0]))
        body = json.loads(Vault.open_text(dek, body_place(as_bytes(row[1])), as_bytes(row[2])))
        text = str(body.get("text", "")) if isinstance(body, dict) else ""
        key = self._statement_key(address)
        kept = await tx.fetchone(
            "SELECT body_enc, outbox_ids FROM webchat_statements WHERE address_bidx = ?"
            " AND at >= ?",
            (bidx, now - STATEMENT_SECONDS * 1_000_000),
        )
        ids = [] if kept is None else str(kept[1]).split(",")
        if str(outbox_id) in ids:
            return True
        if kept is not None:
            before = Vault.open_text(key, _statement_place(bidx), as_bytes(kept[0]))
            text = f"{before}\n\n{text}" if before else text
        await tx.execute(
            "INSERT INTO webchat_statements (address_bidx, body_enc, outbox_ids, at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (address_bidx) DO UPDATE SET"
            " body_enc = excluded.body_enc, outbox_ids = excluded.outbox_ids, at = excluded.at",
            (
                bidx,
                Vault.seal_text(key, _statement_place(bidx), text),
                ",".join([*ids, str(outbox_id)]),
                now,
            ),
        )
        await tx.execute(
            "DELETE FROM webchat_statements WHERE at < ?",
            (now - STATEMENT_SECONDS * 1_000_000,),
        )
        return True

    def csrf_key(self) -> bytes:
        """The page's CSRF key: derived from the master key, so the same after a restart (a
        message typed into a page rendered before it still posts) and unknown without it."""
        return self._vault.blind("webchat-csrf-key", "v1")

    def _statement_key(self, address: str) -> bytes:
        """The statement's key: derived from the address, which only the cookie holds."""
        return self._vault.blind("webchat-statement-key", address)

    async def _statement(self, address: str, bidx: bytes) -> str | None:
        """The address's statement; "" once read (the page is then the blank note), None if none."""
        since = to_micros(self._clock(), "clock") - STATEMENT_SECONDS * 1_000_000
        row = await self._readers.fetchone(
            "SELECT body_enc FROM webchat_statements WHERE address_bidx = ? AND at >= ?",
            (bidx, since),
            what="webchat.statement",
        )
        if row is None:
            return None
        try:
            key = self._statement_key(address)
            return Vault.open_text(key, _statement_place(bidx), as_bytes(row[0]))
        except DecryptError:
            return None

    async def statement_read(self, address: str) -> bool:
        """The person read what was deleted and closed it: their page becomes the blank note.

        The statement's words are replaced by nothing (the row stays, so the farewell it was
        made of is not kept again), until they write there again or its time runs out, as a
        quick exit's note stays. False when the address has no statement to close.
        """
        bidx = self._bidx(address)
        key = self._statement_key(address)
        since = to_micros(self._clock(), "clock") - STATEMENT_SECONDS * 1_000_000

        async def job(tx: Tx) -> bool:
            changed = await tx.execute(
                "UPDATE webchat_statements SET body_enc = ? WHERE address_bidx = ? AND at >= ?",
                (Vault.seal_text(key, _statement_place(bidx), ""), bidx, since),
            )
            return changed > 0

        return await self._writer.run("webchat.statement_read", job)

    async def view(
        self,
        address: str,
        after: Cursor = START,
        *,
        keep_lines: int = KEEP_LINES,
        keep_seconds: int = KEEP_SECONDS,
    ) -> ChatView:
        """The kept lines at `address` after the page's cursor, oldest first.

        A cursor not of the current epoch (its line is no longer kept here) gets
        every kept line and `reset`: the page's lines are no longer all there.
        """
        bidx = self._bidx(address)
        since = to_micros(self._clock(), "clock") - keep_seconds * 1_000_000
        window = (bidx, since, keep_lines)
        rows = await self._readers.fetchall(_VIEW, (*window, after.n, after.n), what="webchat.view")
        # A page with no line (START, or showing a statement) has nothing to clear.
        reset = after.n != 0 and not self._marks(bidx, rows[0][12], after.mark)
        if reset and after.n > 0:
            rows = await self._readers.fetchall(_VIEW, (*window, 0, 0), what="webchat.view")
        first, newest, newest_seq = rows[0][9], rows[0][10], rows[0][11]
        # Read after the lines: a quick exit committed in between hides them, never the
        # other way round.
        if await self.left(address):
            if newest is None:
                return ChatView((), None, reset=reset, left=True)
            cursor = Cursor(int(newest), self._mark(bidx, int(newest_seq)))
            return ChatView((), int(first), int(newest), cursor, reset, left=True)
        if first is None:
            statement = await self._statement(address, bidx)
            if statement == "":
                return ChatView((), None, reset=reset, left=True)  # read and closed
            if statement is None:
                return ChatView((), None, reset=reset)
            # The statement's own cursor: a page that shows it waits for what comes next;
            # one that does not (its poll began before the farewell came) is answered now.
            mark = self._vault.blind("webchat-statement", f"{bidx.hex()}:{statement}")
            return ChatView((), None, 0, Cursor(0, mark[:8].hex()), reset, statement=statement)
        found = (self._decode(row) for row in rows if row[0] is not None)
        lines = [line for line in found if line is not None]
        if any(line.who == "you" and line.kind == "choice" for line in lines):
            lines = await self._with_labels(bidx, int(first), lines)
        cursor = Cursor(int(newest), self._mark(bidx, int(newest_seq)))
        return ChatView(tuple(lines), int(first), int(newest), cursor, reset)

    async def sweep_statements(self) -> int:
        """Deletes the erasure statements past `STATEMENT_SECONDS` (the retention pass runs
        it: a statement nobody came back to read must not stay until that address writes)."""
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> int:
            return await tx.execute(
                "DELETE FROM webchat_statements WHERE at < ?",
                (now - STATEMENT_SECONDS * 1_000_000,),
            )

        return await self._writer.run("webchat.sweep_statements", job)

    async def left(self, address: str) -> bool:
        """Whether the person at `address` left with a quick exit and has not written since."""
        row = await self._readers.fetchone(
            "SELECT id FROM contacts WHERE channel = ? AND address_bidx = ?",
            (CHANNEL, self._bidx(address)),
            what="webchat.left",
        )
        return row is not None and await quiet.left_at_now(self._readers, int(row[0])) is not None

    def _mark(self, bidx: bytes, seq: int) -> str:
        """A line's mark: keyed, so it tells nothing of the table's order; bound to the address."""
        return self._vault.blind("webchat-line", f"{bidx.hex()}:{seq}")[:8].hex()

    def _marks(self, bidx: bytes, seq: int | None, mark: str) -> bool:
        """Whether `mark` is that of the kept line whose stored id is `seq` (None: no such line)."""
        return seq is not None and hmac.compare_digest(self._mark(bidx, int(seq)), mark)

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


def _statement_place(bidx: bytes) -> Place:
    return Place("webchat_statements", "body", bidx.hex())


async def _prune(tx: Tx, bidx: bytes, now: int, keep_lines: int, keep_seconds: int) -> None:
    """Keeps the newest `keep_lines` lines of the address, and none older than `keep_seconds`."""
    await tx.execute(
        "DELETE FROM webchat_lines WHERE address_bidx = ? AND n < (SELECT min(n) FROM"
        " (SELECT n FROM webchat_lines WHERE address_bidx = ? ORDER BY n DESC LIMIT ?))",
        (bidx, bidx, keep_lines),
    )
    await tx.execute("DELETE FROM webchat_lines WHERE at < ?", (now - keep_seconds * 1_000_000,))
