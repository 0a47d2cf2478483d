"""The tables of the channels: live keyboards (Telegram), WhatsApp windows and held replies,
web chat sessions. Each constant is one migration in `storage.engine.migrations`."""

from __future__ import annotations

from storage.conversation.schema import DELIVERY_SCHEMA

__all__ = [
    "KEYBOARDS_MIGRATION",
    "WEBCHAT_MIGRATION",
    "WEBCHAT_STATEMENTS_MIGRATION",
    "WHATSAPP_MIGRATION",
]


KEYBOARDS_MIGRATION = (
    """CREATE TABLE live_keyboards (
        contact_id INTEGER PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
        message_id TEXT NOT NULL,
        long_values TEXT NOT NULL,
        shown_at INTEGER NOT NULL
    )""",
)


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


# What an erasure deleted, for the page at the address that asked (the conversation's
# lines go with the contact): sealed under a key only the browser's cookie gives, and
# gone once the person writes there again (or `webchat.STATEMENT_SECONDS` pass).
WEBCHAT_STATEMENTS_MIGRATION = (
    """CREATE TABLE webchat_statements (
        address_bidx BLOB PRIMARY KEY,
        body_enc BLOB NOT NULL,
        outbox_ids TEXT NOT NULL,
        at INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX webchat_statements_by_age ON webchat_statements (at)",
    """CREATE TRIGGER webchat_statement_read AFTER INSERT ON inbox
    WHEN NEW.channel = 'webchat' BEGIN
        DELETE FROM webchat_statements WHERE address_bidx IN (
            SELECT address_bidx FROM contacts WHERE id = NEW.contact_id
        );
    END""",
)


WHATSAPP_MIGRATION = DELIVERY_SCHEMA + (
    """CREATE TABLE whatsapp_windows (
        contact_id INTEGER PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
        last_inbound_at INTEGER NOT NULL,
        notified_at INTEGER
    )""",
    """CREATE TABLE whatsapp_held (
        outbox_id INTEGER PRIMARY KEY REFERENCES outbox (id) ON DELETE CASCADE,
        contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        held_at INTEGER NOT NULL
    )""",
    "CREATE INDEX whatsapp_held_by_contact ON whatsapp_held (contact_id)",
    # A message from the person opens the window again and releases what was held.
    """CREATE TRIGGER whatsapp_window_opens AFTER INSERT ON inbox
    WHEN NEW.channel = 'whatsapp' BEGIN
        INSERT INTO whatsapp_windows (contact_id, last_inbound_at)
        VALUES (NEW.contact_id, NEW.received_at)
        ON CONFLICT (contact_id) DO UPDATE SET
            last_inbound_at = max(last_inbound_at, excluded.last_inbound_at),
            notified_at = NULL;
        UPDATE outbox SET due_at = NEW.received_at, next_attempt_at = NULL
        WHERE status = 'pending'
            AND id IN (SELECT outbox_id FROM whatsapp_held WHERE contact_id = NEW.contact_id);
        DELETE FROM whatsapp_held WHERE contact_id = NEW.contact_id;
    END""",
    # Messages stored before this migration still count.
    """INSERT INTO whatsapp_windows (contact_id, last_inbound_at)
    SELECT contact_id, max(received_at) FROM inbox WHERE channel = 'whatsapp'
    GROUP BY contact_id""",
)


# An office's own WhatsApp sender (`whatsapp:tual`, storage.channels.instances): its
# families' messages open their window too, as `whatsapp`'s do (a trigger of its own,
# so the first one stays as it was).
OFFICE_WHATSAPP_MIGRATION = (
    """CREATE TRIGGER whatsapp_office_window_opens AFTER INSERT ON inbox
    WHEN NEW.channel LIKE 'whatsapp:%' BEGIN
        INSERT INTO whatsapp_windows (contact_id, last_inbound_at)
        VALUES (NEW.contact_id, NEW.received_at)
        ON CONFLICT (contact_id) DO UPDATE SET
            last_inbound_at = max(last_inbound_at, excluded.last_inbound_at),
            notified_at = NULL;
        UPDATE outbox SET due_at = NEW.received_at, next_attempt_at = NULL
        WHERE status = 'pending'
            AND id IN (SELECT outbox_id FROM whatsapp_held WHERE contact_id = NEW.contact_id);
        DELETE FROM whatsapp_held WHERE contact_id = NEW.contact_id;
    END""",
)
