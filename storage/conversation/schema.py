"""The tables of the conversation besides the base schema of 0001: delivery receipts."""

from __future__ import annotations

__all__ = ["DELIVERY_SCHEMA"]


DELIVERY_SCHEMA = (
    # No foreign key to contacts: the outbox row leads there, and goes with it.
    """CREATE TABLE deliveries (
        provider_id TEXT PRIMARY KEY,
        outbox_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        error_code TEXT,
        updated_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX deliveries_by_outbox ON deliveries (outbox_id)",
)
