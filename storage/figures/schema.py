"""The tables for records going out (migration 0023, with `storage.handoff.referrals`).

- `webhook_endpoints`: the receivers the configuration names (`[webhooks.<name>]`),
  synced at start; the secret that signs for each stays in the configuration, never here.
  `failures` and `paused_until` are the endpoint's back-off; `leased_until` lets one
  process at a time deliver to it, in order, and passes on when that process dies.
- `webhook_deliveries`: one row per case event per endpoint, written in the same
  transaction as the change of the case (so a change is never told twice or lost),
  kept until the receiver answered 2xx. `event_id` is the idempotency id the receiver
  sees; `body` is the JSON sent: codes and times only.
- `api_tokens`: the figures API's bearer tokens, one office (migration 0021) each,
  stored as a SHA-256 of the token (random, 256 bits: no slow hash is needed), revocable.
"""

from __future__ import annotations

__all__ = ["FIGURES_MIGRATION"]

FIGURES_MIGRATION: tuple[str, ...] = (
    """CREATE TABLE webhook_endpoints (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        failures INTEGER NOT NULL DEFAULT 0,
        paused_until INTEGER,
        leased_until INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )""",
    """CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        event_id TEXT NOT NULL,
        event TEXT NOT NULL,
        case_code TEXT NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_status INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER,
        UNIQUE (endpoint_id, event_id)
    )""",
    "CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, id)"
    " WHERE status = 'pending'",
    "CREATE INDEX webhook_deliveries_done ON webhook_deliveries (delivered_at)"
    " WHERE status <> 'pending'",
    """CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        office_id INTEGER NOT NULL REFERENCES offices (id),
        label TEXT NOT NULL,
        token_hash BLOB NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        last_used_at INTEGER
    )""",
)
