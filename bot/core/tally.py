"""Counts kept in memory for `/metrics`: messages in and out per channel, send failures
by reason, crisis levels assessed, supervisor notices sent. Labels are channel names,
levels, kinds and error codes: never a person, a chat id or a word they wrote.
"""

from __future__ import annotations

from collections import Counter

__all__ = ["MAX_REASONS", "Tally"]

# A code is short and from a small set; should an SDK ever put something longer or
# unbounded in one, it is counted as "other" rather than grow the metrics.
MAX_REASONS = 40
_REASON_CHARS = 40


class Tally:
    """Counters since the process started (Prometheus takes rates of them)."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()  # channel
        self.sent: Counter[str] = Counter()  # channel
        self.send_failures: Counter[tuple[str, str]] = Counter()  # (channel, reason)
        self.assessed: Counter[str] = Counter()  # crisis level
        self.notices: Counter[str] = Counter()  # supervisor notices sent, by fault kind

    def send_failed(self, channel: str, reason: str) -> None:
        """Counts one failed send attempt under a bounded reason code."""
        code = reason if _is_code(reason) else "other"
        reasons = {r for _, r in self.send_failures}
        if code not in reasons and len(reasons) >= MAX_REASONS:
            code = "other"
        self.send_failures[(channel, code)] += 1


def _is_code(reason: str) -> bool:
    return 0 < len(reason) <= _REASON_CHARS and all(c.isalnum() or c in "_-." for c in reason)
