"""The webhook signature: HMAC-SHA256 with the endpoint's secret over `timestamp.body`.

Headers on every delivery:

    LK3-Event-Id:  evt_...                 the idempotency id (the same on every retry)
    LK3-Timestamp: 1793526000              seconds since the epoch, when this try was sent
    LK3-Signature: v1=<64 hex digits>      HMAC-SHA256(secret, f"{timestamp}.{body}")

A receiver recomputes the HMAC over the raw body, compares in constant time, refuses a
timestamp more than `TOLERANCE` seconds from its clock (an old request replayed), and
refuses an event id it has seen (a replay inside the window, or our own retry of a
delivery it took but whose answer we never got). `verify` is the reference; the Python
example in docs/figures-api.md is the same check.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["TOLERANCE", "headers", "sign", "verify"]

TOLERANCE = 300
VERSION = "v1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{VERSION}={mac.hexdigest()}"


def headers(secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "LK3-Event-Id": event_id,
        "LK3-Timestamp": str(timestamp),
        "LK3-Signature": sign(secret, timestamp, body),
    }


def verify(secret: str, timestamp: str, signature: str, body: bytes, now: float) -> bool:
    """Whether a delivery is ours and fresh (the event id's dedupe is the receiver's part)."""
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs(now - int(timestamp)) > TOLERANCE:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)
